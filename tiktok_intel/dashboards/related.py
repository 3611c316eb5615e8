"""Related hashtags dashboard: the stored association rules (sortable, filtered) and their network graph."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from ..analyses import rules
from ..conventions import hashtag as hashtag_name
from ..texts import decimal, fixed, number, t
from . import data, ui, views

SORT_COLUMNS = ("lift", "confidence", "support", "post_count")


def filter_rules(
    frame: pd.DataFrame,
    min_support: float = 0.0,
    min_confidence: float = 0.0,
    min_lift: float = 0.0,
    sort_by: str = "lift",
    ascending: bool = False,
    hashtag: str = "",
) -> pd.DataFrame:
    """Rules at or above each minimum (and naming ``hashtag`` on either side, when given), sorted by ``sort_by``."""
    if frame is None or frame.empty:
        return frame
    if sort_by not in SORT_COLUMNS:
        raise data.DashboardError(t("cannot_sort", column=repr(sort_by), choices=", ".join(SORT_COLUMNS)))
    tolerance = 1e-9
    keep = (
        (frame["support"] >= float(min_support) - tolerance)
        & (frame["confidence"] >= float(min_confidence) - tolerance)
        & (frame["lift"] >= float(min_lift) - tolerance)
    )
    wanted = hashtag_name(hashtag) if hashtag else None
    if wanted:
        keep &= pd.Series(
            [wanted in list(a) or wanted in list(c) for a, c in zip(frame["antecedents"], frame["consequents"])], index=frame.index
        )
    return frame[keep].sort_values(sort_by, ascending=ascending, kind="stable").reset_index(drop=True)


def network_figure(frame: pd.DataFrame, *, title: str | None = None, max_edges: int = 200):
    """A plotly network: a node per hashtag, an edge per antecedent → consequent pair (width by lift)."""
    import plotly.graph_objects as go

    from ..analyses.charts import _empty

    title = title or t("network_title")
    if frame is None or frame.empty:
        return _empty(title, t("no_rules_network"))
    edges: dict[tuple[str, str], float] = {}
    for ants, cons, lift in zip(frame["antecedents"], frame["consequents"], frame["lift"]):
        for a in list(ants):
            for c in list(cons):
                key = (str(a), str(c))
                edges[key] = max(edges.get(key, 0.0), float(lift))
    strongest = sorted(edges.items(), key=lambda kv: -kv[1])[:max_edges]
    degree: dict[str, int] = {}
    for (a, c), _ in strongest:
        degree[a] = degree.get(a, 0) + 1
        degree[c] = degree.get(c, 0) + 1
    nodes = sorted(degree, key=lambda n: (-degree[n], n))
    # circular layout, most connected nodes spread first; deterministic
    pos = {n: (math.cos(2 * math.pi * i / len(nodes)), math.sin(2 * math.pi * i / len(nodes))) for i, n in enumerate(nodes)}
    fig = go.Figure()
    top = max(v for _, v in strongest)
    for (a, c), lift in strongest:
        (x0, y0), (x1, y1) = pos[a], pos[c]
        fig.add_trace(
            go.Scatter(
                x=[x0, x1],
                y=[y0, y1],
                mode="lines",
                hoverinfo="text",
                text=f"#{a} → #{c}: lift {fixed(lift, 2)}",
                line={"width": 1 + 4 * lift / top, "color": "rgba(80,110,160,0.5)"},
                showlegend=False,
            )
        )
    fig.add_trace(
        go.Scatter(
            x=[pos[n][0] for n in nodes],
            y=[pos[n][1] for n in nodes],
            mode="markers+text",
            text=["#" + n for n in nodes],
            textposition="top center",
            hoverinfo="text",
            marker={"size": [10 + 4 * degree[n] for n in nodes], "color": "#1c4f82"},
            showlegend=False,
        )
    )
    fig.update_layout(title=title, xaxis={"visible": False}, yaxis={"visible": False, "scaleanchor": "x"}, height=560)
    return fig


@ui.panel
def related_hashtags_panel(
    db: str | None = None,
    min_support: float = 0.0,
    min_confidence: float = 0.0,
    min_lift: float = 1.0,
    sort_by: str = "lift",
    hashtag: str = "",
    posts_of: str = "",
):
    """The latest rules run (over all posts, or ``posts_of`` a tracked item some run mined:
    :func:`~tiktok_intel.analyses.rules.run_rules`): filters (minimum support / confidence / lift,
    a hashtag), sort, the table, the network graph, and a link to the view."""
    import ipywidgets as w

    def load(con) -> tuple[list[str], dict | None, pd.DataFrame]:
        return rules.tracked_runs(con), rules.latest_run(con), rules.stored_rules(con)

    items, run, frame = data.read(load, db=db)
    wanted_of = data.tracked_choice(posts_of)
    wanted_of = next((x for x in items if data.tracked_choice(x) == wanted_of), "") if wanted_of else ""
    if wanted_of:
        run, frame = data.read(lambda con: (rules.latest_run(con, wanted_of), rules.stored_rules(con, hashtag=wanted_of)), db=db)
    if run is None:
        return ui.message(t("no_rules_yet"))
    of = w.Dropdown(options=[(t("all_posts"), "")] + [(x, x) for x in items], value=wanted_of, description=t("rules_posts_of"))
    sup = w.BoundedFloatText(value=float(min_support), min=0, max=1, step=0.001, description=t("min_support"))
    conf = w.BoundedFloatText(value=float(min_confidence), min=0, max=1, step=0.05, description=t("min_confidence"))
    lift = w.BoundedFloatText(value=float(min_lift), min=0, max=1e9, step=0.5, description=t("min_lift"))
    order = w.Dropdown(options=list(SORT_COLUMNS), value=sort_by if sort_by in SORT_COLUMNS else "lift", description=t("sort_by"))
    tag = w.Dropdown(description=t("hashtag"))
    share = views.share_link({})
    out = w.VBox()
    info = w.VBox()
    shown_run: dict[str, Any] = {}

    def use(run: dict, frame: pd.DataFrame, wanted: str) -> None:
        """Show ``run``'s rules: its line, and the hashtags its rules name as the hashtag choices."""
        shown_run.update(run=run, frame=frame)
        tags = (
            sorted({str(x) for side in ("antecedents", "consequents") for items in frame[side] for x in list(items)}) if len(frame) else []
        )
        tag.options = [(t("all_hashtags"), "")] + [("#" + x, x) for x in tags]
        tag.value = wanted if wanted in tags else ""
        info.children = [
            ui.message(
                t(
                    "rules_run",
                    run=run["run_id"],
                    posts=number(run["posts"]),
                    rules=number(len(frame)),
                    support=number(run["min_support_count"]),
                    confidence=decimal(run["min_confidence"], 3),
                )
            )
        ]

    def choose(*_: Any) -> None:
        def body() -> None:
            chosen = of.value or None
            run, frame = data.read(lambda con: (rules.latest_run(con, chosen), rules.stored_rules(con, hashtag=chosen)), db=db)
            if run is None:  # gone meanwhile: an empty frame of the same columns
                run, frame = shown_run["run"], shown_run["frame"].iloc[0:0]
            use(run, frame, tag.value)
            show()

        ui.guarded(out, body)

    use(run, frame, hashtag_name(hashtag) or "")

    def show(*_: Any) -> None:
        def body() -> None:
            shown = filter_rules(shown_run["frame"], sup.value, conf.value, lift.value, order.value, hashtag=tag.value)
            share.update(
                {
                    "posts_of": of.value,
                    "min_support": sup.value or None,
                    "min_confidence": conf.value or None,
                    "min_lift": lift.value,
                    "sort_by": order.value if order.value != "lift" else None,
                    "hashtag": tag.value,
                }
            )
            table = shown.copy()
            if len(table):
                table["rule"] = [
                    ", ".join("#" + x for x in a) + " → " + ", ".join("#" + x for x in c)
                    for a, c in zip(table["antecedents"], table["consequents"])
                ]
            with ui.filling(out) as display:
                said = t("rule_count", shown=number(len(shown)), total=number(len(shown_run["frame"])))
                display(w.HTML(f"<p class='ti-rule-count'>{ui.esc(said)}</p>"))
                display(
                    ui.interactive_table(
                        table,
                        columns=["rule", "support", "confidence", "lift", "post_count"],
                        css_class="ti-table ti-rules",
                        empty=t("no_rules_here"),
                    )
                )
                display(ui.downloads(shown, "related-hashtags"))
                display(ui.figure(network_figure(shown)))

        ui.guarded(out, body)

    for control in (sup, conf, lift, order, tag):
        control.observe(show, names="value")
    of.observe(choose, names="value")
    show()
    from .networks import network_downloads

    return w.VBox([info, of, w.HBox([sup, conf]), w.HBox([lift, order]), tag, share, out, network_downloads("cotag", db)])
