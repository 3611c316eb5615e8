"""Trends dashboard: trending posts and authors over 1 / 7 / 30 days, filters, detail view, downloads."""

from __future__ import annotations

import datetime as dt
from typing import Any

from ..analyses import trends
from ..texts import t
from . import data, ui, views

POST_COLUMNS = ["author", "description", "published_at", "views", "change", "growth", "hashtags", "url"]


def _date(value: Any) -> Any:
    return value.isoformat() if isinstance(value, dt.date) else (value or None)


def _day(text: str) -> dt.date | None:
    """A From/To default (``YYYY-MM-DD``, from the notebook or a shared link); unreadable: none."""
    try:
        return dt.date.fromisoformat(str(text).strip()) if text else None
    except ValueError:
        return None


@ui.panel
def trending_posts_panel(
    db: str | None = None,
    window: str = "7d",
    metric: str = "views",
    by: str = "change",
    hashtag: str = "",
    start: str = "",
    end: str = "",
    limit: int = 20,
):
    """Trending posts with filters (window, metric, ranking, hashtag, date range), a detail view and CSV / Excel downloads."""
    import ipywidgets as w

    choices = data.read(data.tracked_choices, db=db)  # hashtags, tracked accounts and keywords
    win = w.ToggleButtons(options=list(trends.WINDOWS), value=window if window in trends.WINDOWS else "7d", description=t("window"))
    met = w.Dropdown(
        options=list(trends.POSTS.metrics), value=metric if metric in trends.POSTS.metrics else "views", description=t("metric")
    )
    rank = w.Dropdown(
        options=[(t("change"), "change"), (t("growth_pct"), "growth")],
        value=by if by in ("change", "growth") else "change",
        description=t("rank_by"),
    )
    wanted = data.tracked_choice(hashtag)
    tag = w.Dropdown(
        options=[(t("all_hashtags"), ""), *choices],
        description=t("hashtag"),
        value=wanted if wanted in {v for _, v in choices} else "",
    )
    since = w.DatePicker(description=t("from"), value=_day(start))
    until = w.DatePicker(description=t("to"), value=_day(end))
    out = w.VBox()
    detail = w.VBox()
    pick = w.Dropdown(options=[], description=t("details"))
    share = views.share_link({})
    state: dict[str, Any] = {"frame": None}

    def show_detail(*_: Any) -> None:
        def body() -> None:
            detail.children = ()
            frame = state["frame"]
            if frame is None or frame.empty or not pick.value:
                return
            row = data.read(data.post_details, [pick.value], db=db)
            if row.empty:
                return
            record = row.iloc[0].to_dict()
            trend = frame[frame["post_id"] == pick.value].iloc[0]
            said = t(
                "trend_detail",
                metric=met.value,
                window=win.value,
                change=ui._cell(trend["change"], "change"),
                growth=ui._cell(trend["growth"], "growth"),
            )
            extra = f"<div class='ti-trend' style='font-size:12px'>{said}</div>"
            with ui.filling(detail) as display:
                display(w.HTML(ui.post_card(record, extra=extra)))

        ui.guarded(detail, body)

    def show(*_: Any) -> None:
        def body() -> None:
            frame = data.read(
                trends.top_trending_posts,
                win.value,
                met.value,
                by=rank.value,
                hashtag=tag.value or None,
                start=_date(since.value),
                end=_date(until.value),
                limit=int(limit),
                db=db,
            )
            state["frame"] = frame
            share.update(
                {"window": win.value, "metric": met.value, "hashtag": tag.value, "start": _date(since.value), "end": _date(until.value)}
            )
            options = [(f"{i + 1}. @{r.author or '?'}: {(r.description or '')[:50]}", r.post_id) for i, r in enumerate(frame.itertuples())]
            pick.unobserve(show_detail, names="value")
            pick.options = options
            pick.value = options[0][1] if options else None
            pick.observe(show_detail, names="value")
            with ui.filling(out) as display:
                display(
                    ui.interactive_table(
                        frame,
                        columns=[c if c != "views" else met.value for c in POST_COLUMNS],
                        css_class="ti-table ti-trending",
                        empty=t("no_trending_posts", window=win.value, days=win.value[:-1]),
                    )
                )
                display(ui.downloads(frame, f"trending-posts-{win.value}-{met.value}"))
            show_detail()

        ui.guarded(out, body)

    for control in (win, met, rank, tag, since, until):
        control.observe(show, names="value")
    pick.observe(show_detail, names="value")
    show()
    return w.VBox([w.HBox([win, rank]), w.HBox([met, tag]), w.HBox([since, until]), share, out, pick, detail])


@ui.panel
def trending_authors_panel(db: str | None = None, window: str = "7d", metric: str = "followers", by: str = "change", limit: int = 20):
    """Authors whose followers (hearts, videos) grew most over a window, with downloads."""
    import ipywidgets as w

    win = w.ToggleButtons(options=list(trends.WINDOWS), value=window if window in trends.WINDOWS else "7d", description=t("window"))
    met = w.Dropdown(
        options=list(trends.AUTHORS.metrics), value=metric if metric in trends.AUTHORS.metrics else "followers", description=t("metric")
    )
    rank = w.Dropdown(
        options=[(t("change"), "change"), (t("growth_pct"), "growth")],
        value=by if by in ("change", "growth") else "change",
        description=t("rank_by"),
    )
    out = w.VBox()

    def show(*_: Any) -> None:
        def body() -> None:
            frame = data.read(trends.top_trending_authors, win.value, met.value, by=rank.value, limit=int(limit), db=db)
            with ui.filling(out) as display:
                display(
                    ui.interactive_table(
                        frame,
                        columns=["unique_id", "nickname", met.value, "change", "growth", "url"],
                        css_class="ti-table ti-trending-authors",
                        empty=t("no_trending_authors", window=win.value),
                    )
                )
                display(ui.downloads(frame, f"trending-authors-{win.value}-{met.value}"))

        ui.guarded(out, body)

    for control in (win, met, rank):
        control.observe(show, names="value")
    show()
    return w.VBox([w.HBox([win, met, rank]), out])
