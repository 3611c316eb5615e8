"""Reports dashboard: date range + hashtag + metric -> bar chart and table of top posts / authors / posts in feed."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd

from ..analyses import charts, reports
from ..texts import t
from . import data, ui, views
from .trends import _day

REPORTS = ("top posts", "top authors", "top posts in feed")
#: A report -> the catalogue's key of its name.
REPORT_KEYS = {"top posts": "report_top_posts", "top authors": "report_top_authors", "top posts in feed": "report_top_feed"}


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
    raise data.DashboardError(t("unknown_report", report=repr(report), choices=", ".join(REPORTS)))


def report_chart(frame: pd.DataFrame, report: str, metric: str):
    if report == "top posts":
        return charts.bar(
            frame, "description", metric, title=t("top_posts_by", metric=metric), hover=("author", "url"), empty=t("no_data_yet")
        )
    if report == "top authors":
        return charts.bar(frame, "unique_id", metric, title=t("top_authors_by", metric=metric), hover=("posts",), empty=t("no_data_yet"))
    return charts.bar(
        frame, "post_id", "collections", title=t("top_feed_title"), hover=("hashtag", "best_rank", "author"), empty=t("no_data_yet")
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

    choices = data.read(data.tracked_choices, db=db)  # hashtags, tracked accounts and keywords
    kind = w.ToggleButtons(
        options=[(t(REPORT_KEYS[r]), r) for r in REPORTS], value=report if report in REPORTS else "top posts", description=t("report_word")
    )
    met = w.Dropdown(options=_metrics(kind.value), description=t("metric"))
    met.value = metric if metric in met.options else met.options[0]
    wanted = data.tracked_choice(hashtag)
    tag = w.Dropdown(
        options=[(t("all_hashtags"), ""), *choices], value=wanted if wanted in {v for _, v in choices} else "", description=t("hashtag")
    )
    since = w.DatePicker(description=t("from"), value=_day(start))
    until = w.DatePicker(description=t("to"), value=_day(end))
    count = w.BoundedIntText(value=min(500, max(1, int(limit))), min=1, max=500, description=t("rows"))
    share = views.share_link({})
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
            share.update(
                {
                    "report": kind.value,
                    "metric": met.value,
                    "hashtag": tag.value,
                    "start": _date(since.value),
                    "end": _date(until.value),
                    "limit": int(count.value) if int(count.value) != 20 else None,
                }
            )
            with ui.filling(out) as display:
                display(ui.figure(report_chart(frame, kind.value, met.value)))
                display(ui.interactive_table(frame, css_class="ti-table ti-report", empty=t("nothing_in_range")))
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
    return w.VBox([kind, w.HBox([met, tag]), w.HBox([since, until]), count, share, out])
