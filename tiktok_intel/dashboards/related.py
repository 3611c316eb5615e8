"""Related hashtags dashboard: the stored association rules (sortable, filtered) and their network graph."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from ..analyses import rules
from . import data, ui

SORT_COLUMNS = ("lift", "confidence", "support", "post_count")


def filter_rules(
    frame: pd.DataFrame,
    min_support: float = 0.0,
    min_confidence: float = 0.0,
    min_lift: float = 0.0,
    sort_by: str = "lift",
    ascending: bool = False,
) -> pd.DataFrame:
    """Rules at or above each minimum, sorted by ``sort_by``."""
    if frame is None or frame.empty:
        return frame
    if sort_by not in SORT_COLUMNS:
        raise data.DashboardError(f"cannot sort by {sort_by!r}: choose one of {', '.join(SORT_COLUMNS)}")
    tolerance = 1e-9
    keep = (
        (frame["support"] >= float(min_support) - tolerance)
        & (frame["confidence"] >= float(min_confidence) - tolerance)
        & (frame["lift"] >= float(min_lift) - tolerance)
    )
    return frame[keep].sort_values(sort_by, ascending=ascending, kind="stable").reset_index(drop=True)


def network_figure(frame: pd.DataFrame, *, title: str = "Hashtags linked by rules", max_edges: int = 200):
    """A plotly network: a node per hashtag, an edge per antecedent → consequent pair (width by lift)."""
    import plotly.graph_objects as go

    from ..analyses.charts import _empty

    if frame is None or frame.empty:
        return _empty(title, "no rules at these thresholds")
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
                text=f"#{a} → #{c}: lift {lift:.2f}",
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
    db: str | None = None, min_support: float = 0.0, min_confidence: float = 0.0, min_lift: float = 1.0, sort_by: str = "lift"
):
    """The latest rules run: filters (minimum support / confidence / lift), sort, the table, and the network graph."""
    import ipywidgets as w

    def load(con) -> tuple[dict | None, pd.DataFrame]:
        return rules.latest_run(con), rules.stored_rules(con)

    run, frame = data.read(load, db=db)
    if run is None:
        return ui.message("No association rules yet: the rules flow mines them from collected posts (or run `tiktok-intel rules`).")
    sup = w.BoundedFloatText(value=float(min_support), min=0, max=1, step=0.001, description="Min support")
    conf = w.BoundedFloatText(value=float(min_confidence), min=0, max=1, step=0.05, description="Min confidence")
    lift = w.BoundedFloatText(value=float(min_lift), min=0, max=1e9, step=0.5, description="Min lift")
    order = w.Dropdown(options=list(SORT_COLUMNS), value=sort_by if sort_by in SORT_COLUMNS else "lift", description="Sort by")
    out = w.VBox()
    info = ui.message(
        f"Run {run['run_id']}: {int(run['posts']):,} posts, {len(frame):,} rules "
        f"(support ≥ {int(run['min_support_count']):,} posts, confidence ≥ {float(run['min_confidence']):g})."
    )

    def show(*_: Any) -> None:
        def body() -> None:
            shown = filter_rules(frame, sup.value, conf.value, lift.value, order.value)
            table = shown.copy()
            if len(table):
                table["rule"] = [
                    ", ".join("#" + x for x in a) + " → " + ", ".join("#" + x for x in c)
                    for a, c in zip(table["antecedents"], table["consequents"])
                ]
            with ui.filling(out) as display:
                display(w.HTML(f"<p class='ti-rule-count'>{len(shown):,} of {len(frame):,} rules</p>"))
                display(
                    ui.interactive_table(
                        table,
                        columns=["rule", "support", "confidence", "lift", "post_count"],
                        css_class="ti-table ti-rules",
                        empty="No rules at these thresholds: lower a minimum.",
                    )
                )
                display(ui.downloads(shown, "related-hashtags"))
                display(ui.figure(network_figure(shown)))

        ui.guarded(out, body)

    for control in (sup, conf, lift, order):
        control.observe(show, names="value")
    show()
    from .networks import network_downloads

    return w.VBox([info, w.HBox([sup, conf]), w.HBox([lift, order]), out, network_downloads("cotag", db)])
