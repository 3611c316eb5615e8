"""Reports dashboard: date range + hashtag + metric -> bar chart and table of top posts / authors / posts in feed."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd

from ..analyses import charts, reports
from ..conventions import hashtag as hashtag_name
from . import data, ui

REPORTS = ("top posts", "top authors", "top posts in feed")


def report_frame(
    con,
    report: str = "top posts",
    metric: str = "views",
    *,
    start: Any = None,
    end: Any = None,
    hashtag: str | None = None,
    limit: int = 20,
) -> pd.DataFrame:
    """The frame of one report (``report``: top posts, top authors, top posts in feed)."""
    if report == "top posts":
        return reports.top_posts(con, metric, start=start, end=end, hashtag=hashtag, limit=limit)
    if report == "top authors":
        return reports.top_authors(con, metric, start=start, end=end, hashtag=hashtag, limit=limit)
    if report == "top posts in feed":
        return reports.top_feed_posts(con, hashtag, start=start, end=end, limit=limit)
    raise data.DashboardError(f"unknown report {report!r}: choose one of {', '.join(REPORTS)}")


def report_chart(frame: pd.DataFrame, report: str, metric: str):
    if report == "top posts":
        return charts.bar(frame, "description", metric, title=f"Top posts by {metric}", hover=("author", "url"))
    if report == "top authors":
        return charts.bar(frame, "unique_id", metric, title=f"Top authors by {metric}", hover=("posts",))
    return charts.bar(
        frame, "post_id", "collections", title="Top posts in feed (collections listing them)", hover=("hashtag", "best_rank", "author")
    )


def _metrics(report: str) -> list[str]:
    if report == "top authors":
        return list(reports.AUTHOR_METRICS + reports.POST_METRICS)
    if report == "top posts":
        return list(reports.POST_METRICS)
    return ["collections"]


def _date(value: Any) -> Any:
    return value.isoformat() if isinstance(value, dt.date) else None


@ui.panel
def reports_panel(
    db: str | None = None,
    report: str = "top posts",
    metric: str = "views",
    hashtag: str = "",
    start: str = "",
    end: str = "",
    limit: int = 20,
):
    """Choose a report, metric, hashtag and date range; see a bar chart and the table, and download them."""
    import ipywidgets as w

    tags = data.read(data.known_hashtags, db=db)
    kind = w.ToggleButtons(options=list(REPORTS), value=report if report in REPORTS else "top posts", description="Report")
    met = w.Dropdown(options=_metrics(kind.value), description="Metric")
    met.value = metric if metric in met.options else met.options[0]
    wanted = hashtag_name(hashtag) or ""
    tag = w.Dropdown(
        options=[("all hashtags", "")] + [("#" + t, t) for t in tags], value=wanted if wanted in tags else "", description="Hashtag"
    )
    since = w.DatePicker(description="From", value=dt.date.fromisoformat(start) if start else None)
    until = w.DatePicker(description="To", value=dt.date.fromisoformat(end) if end else None)
    count = w.BoundedIntText(value=int(limit), min=1, max=500, description="Rows")
    out = w.VBox()

    def show(*_: Any) -> None:
        def body() -> None:
            frame = data.read(
                report_frame,
                kind.value,
                met.value,
                start=_date(since.value),
                end=_date(until.value),
                hashtag=tag.value or None,
                limit=int(count.value),
                db=db,
            )
            with ui.filling(out) as display:
                display(ui.figure(report_chart(frame, kind.value, met.value)))
                display(
                    ui.interactive_table(
                        frame, css_class="ti-table ti-report", empty="Nothing in this range: widen the dates or choose all hashtags."
                    )
                )
                display(ui.downloads(frame, kind.value.replace(" ", "-") + (f"-{tag.value}" if tag.value else "")))

        ui.guarded(out, body)

    def on_kind(_: Any) -> None:
        options = _metrics(kind.value)
        met.unobserve(show, names="value")
        met.options = options
        met.value = options[0]
        met.observe(show, names="value")
        show()

    kind.observe(on_kind, names="value")
    for control in (met, tag, since, until, count):
        control.observe(show, names="value")
    show()
    return w.VBox([kind, w.HBox([met, tag]), w.HBox([since, until]), count, out])
