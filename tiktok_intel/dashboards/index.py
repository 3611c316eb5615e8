"""The landing page (what ``/`` opens): a link to every dashboard, what it shows, and how fresh the data is."""

from __future__ import annotations

import datetime as dt
from typing import Any

import duckdb

from .. import clock
from . import data, ui

#: (notebook, title, what it shows), in the order the landing page lists them.
DASHBOARDS: tuple[tuple[str, str, str], ...] = (
    ("overview", "Overview", "How much is collected, growth per day / week / month / year, the flows' last and next runs."),
    ("hashtags", "Hashtags", "The tracked list (add, deactivate), each hashtag's popularity over time and its trending posts."),
    ("trends", "Trends", "Trending posts and authors over 1 / 7 / 30 days, with filters, details and downloads."),
    ("related_hashtags", "Related hashtags", "Hashtags that go together: association rules and their network."),
    ("search", "Search", "Find posts by words, hashtags, authors or an image; near-duplicate images."),
    (
        "reports",
        "Reports",
        "The scheduled jobs' executed reports, newest first; top posts, top authors and top posts in feed, downloadable.",
    ),
)


def freshness(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """When the workspace last got data: ``collected`` (posts last seen by a collection), ``monitored``
    (the latest hashtag snapshot), and the last finished run (``run_flow``, ``run_status``, ``run_ended``)."""
    row = con.execute("""SELECT (SELECT max(last_seen_at) FROM posts), (SELECT max(collected_at) FROM hashtag_stats),
                                last.flow, last.status, last.ended_at
                         FROM (SELECT 1) LEFT JOIN (SELECT flow, status, ended_at FROM runs WHERE ended_at IS NOT NULL
                                                    ORDER BY ended_at DESC LIMIT 1) AS last ON true""").fetchone()
    return dict(zip(("collected", "monitored", "run_flow", "run_status", "run_ended"), row))


def age(moment: dt.datetime, now: dt.datetime) -> str:
    """``5 min ago``, ``3 h ago``, ``2 days ago`` (times in UTC, as stored)."""
    seconds = max(0, int((now - moment).total_seconds()))
    if seconds < 3600:
        return f"{seconds // 60} min ago"
    if seconds < 2 * 86400:
        return f"{seconds // 3600} h ago"
    return f"{seconds // 86400} days ago"


def freshness_html(fresh: dict[str, Any], now: dt.datetime) -> str:
    """One line saying how old the data is; says so when nothing has been collected yet."""

    def when(moment: dt.datetime) -> str:
        return f"{moment:%Y-%m-%d %H:%M} UTC ({age(moment, now)})"

    parts = []
    if fresh.get("collected"):
        parts.append(f"posts last collected {when(fresh['collected'])}")
    if fresh.get("monitored"):
        parts.append(f"hashtags last monitored {when(fresh['monitored'])}")
    if fresh.get("run_ended"):
        colour = ui.status_colour(fresh["run_status"])
        parts.append(
            f"last scheduled run: {ui.esc(fresh['run_flow'])} <span style='color:{colour}'>{ui.esc(fresh['run_status'])}</span>"
            f" {when(fresh['run_ended'])}"
        )
    text = (
        "; ".join(parts)
        if parts
        else ("No data collected yet: add hashtags on the Hashtags dashboard, or run <code>tiktok-intel collect</code>.")
    )
    return f"<p class='ti-freshness' style='color:#333'>Data: {text}</p>"


@ui.panel
def index_panel(db: str | None = None):
    """How fresh the data is, and links to every dashboard (relative, so they work under any Voilà
    base URL). The links are shown even when the workspace cannot be read."""
    import ipywidgets as w

    try:
        fresh = freshness_html(data.read(freshness, db=db), clock.now())
    except Exception as exc:  # noqa: BLE001 - an empty or busy workspace still gets the links
        fresh = f"<div class='ti-freshness'>{ui.error_message(exc).value}</div>"
    items = "".join(
        f"<li style='margin:8px 0'><a class='ti-dashboard-link' href='{name}.ipynb' style='font-size:17px'>"
        f"{ui.esc(title)}</a><br><span style='color:#555'>{ui.esc(text)}</span></li>"
        for name, title, text in DASHBOARDS
    )
    return w.HTML(f"{fresh}<ul class='ti-index' style='list-style:none;padding-left:0'>{items}</ul>")
