"""Trends dashboard: trending posts and authors over 1 / 7 / 30 days, filters, detail view, downloads."""

from __future__ import annotations

import datetime as dt
from typing import Any

from ..analyses import trends
from ..conventions import hashtag as hashtag_name
from . import data, ui

POST_COLUMNS = ["author", "description", "published_at", "views", "change", "growth", "hashtags", "url"]


def _date(value: Any) -> Any:
    return value.isoformat() if isinstance(value, dt.date) else (value or None)


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

    tags = data.read(data.known_hashtags, db=db)
    win = w.ToggleButtons(options=list(trends.WINDOWS), value=window if window in trends.WINDOWS else "7d", description="Window")
    met = w.Dropdown(options=list(trends.POSTS.metrics), value=metric if metric in trends.POSTS.metrics else "views", description="Metric")
    rank = w.Dropdown(
        options=[("change", "change"), ("growth %", "growth")], value=by if by in ("change", "growth") else "change", description="Rank by"
    )
    wanted = hashtag_name(hashtag) or ""
    tag = w.Dropdown(
        options=[("all hashtags", "")] + [("#" + t, t) for t in tags], description="Hashtag", value=wanted if wanted in tags else ""
    )
    since = w.DatePicker(description="From", value=dt.date.fromisoformat(start) if start else None)
    until = w.DatePicker(description="To", value=dt.date.fromisoformat(end) if end else None)
    out = w.VBox()
    detail = w.VBox()
    pick = w.Dropdown(options=[], description="Details")
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
            extra = (
                f"<div class='ti-trend' style='font-size:12px'>{ui.esc(met.value)} {ui.esc(win.value)}: change "
                f"{ui._cell(trend['change'], 'change')}, growth {ui._cell(trend['growth'], 'growth')} %</div>"
            )
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
            options = [(f"{i + 1}. @{r.author or '?'}: {(r.description or '')[:50]}", r.post_id) for i, r in enumerate(frame.itertuples())]
            pick.unobserve(show_detail, names="value")
            pick.options = options
            pick.value = options[0][1] if options else None
            pick.observe(show_detail, names="value")
            with ui.filling(out) as display:
                display(
                    ui.table(
                        frame,
                        columns=[c if c != "views" else met.value for c in POST_COLUMNS],
                        css_class="ti-table ti-trending",
                        empty=f"No trending posts for these filters. Trends over {win.value} need two collections at least "
                        f"{win.value[:-1]} day(s) apart; try a shorter window or fewer filters.",
                    )
                )
                display(ui.downloads(frame, f"trending-posts-{win.value}-{met.value}"))
            show_detail()

        ui.guarded(out, body)

    for control in (win, met, rank, tag, since, until):
        control.observe(show, names="value")
    pick.observe(show_detail, names="value")
    show()
    return w.VBox([w.HBox([win, rank]), w.HBox([met, tag]), w.HBox([since, until]), out, pick, detail])


@ui.panel
def trending_authors_panel(db: str | None = None, window: str = "7d", metric: str = "followers", by: str = "change", limit: int = 20):
    """Authors whose followers (hearts, videos) grew most over a window, with downloads."""
    import ipywidgets as w

    win = w.ToggleButtons(options=list(trends.WINDOWS), value=window if window in trends.WINDOWS else "7d", description="Window")
    met = w.Dropdown(
        options=list(trends.AUTHORS.metrics), value=metric if metric in trends.AUTHORS.metrics else "followers", description="Metric"
    )
    rank = w.Dropdown(
        options=[("change", "change"), ("growth %", "growth")], value=by if by in ("change", "growth") else "change", description="Rank by"
    )
    out = w.VBox()

    def show(*_: Any) -> None:
        def body() -> None:
            frame = data.read(trends.top_trending_authors, win.value, met.value, by=rank.value, limit=int(limit), db=db)
            with ui.filling(out) as display:
                display(
                    ui.table(
                        frame,
                        columns=["unique_id", "nickname", met.value, "change", "growth", "url"],
                        empty=f"No trending authors over {win.value} yet.",
                    )
                )
                display(ui.downloads(frame, f"trending-authors-{win.value}-{met.value}"))

        ui.guarded(out, body)

    for control in (win, met, rank):
        control.observe(show, names="value")
    show()
    return w.VBox([w.HBox([win, met, rank]), out])
