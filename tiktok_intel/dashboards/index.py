"""The landing page (what ``/`` opens): a link to every dashboard, what it shows, and how fresh the data is."""

from __future__ import annotations

import datetime as dt
from typing import Any

import duckdb

from .. import clock
from ..texts import CATALOGUE, t
from . import data, ui

#: (notebook, title, what it shows), in the order the landing page lists them (in English; the page
#: shows them in its language, from the catalogue: ``texts.CATALOGUE["dash_<notebook>"]``).
DASHBOARDS: tuple[tuple[str, str, str], ...] = tuple(
    (name, CATALOGUE[f"dash_{name}"]["en"], CATALOGUE[f"dash_{name}_what"]["en"])
    for name in ("overview", "hashtags", "trends", "related_hashtags", "search", "accounts", "reports")
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
    """``5 min ago``, ``3 h ago``, ``2 days ago`` (both times naive UTC, as stored)."""
    seconds = max(0, int((now - moment).total_seconds()))
    if seconds < 3600:
        return t("min_ago", n=seconds // 60)
    if seconds < 2 * 86400:
        return t("h_ago", n=seconds // 3600)
    return t("days_ago", n=seconds // 86400)


def freshness_html(fresh: dict[str, Any], now: dt.datetime) -> str:
    """One line saying how old the data is; says so when nothing has been collected yet."""

    def when(moment: dt.datetime) -> str:
        return f"{ui.when(moment, zone_name=True)} ({age(moment, now)})"

    parts = []
    if fresh.get("collected"):
        parts.append(t("posts_collected", when=when(fresh["collected"])))
    if fresh.get("monitored"):
        parts.append(t("hashtags_monitored", when=when(fresh["monitored"])))
    if fresh.get("run_ended"):
        colour = ui.status_colour(fresh["run_status"])
        parts.append(
            f"{ui.esc(t('last_run'))}: {ui.esc(fresh['run_flow'])} <span style='color:{colour}'>{ui.esc(fresh['run_status'])}</span>"
            f" {when(fresh['run_ended'])}"
        )
    text = "; ".join(parts) if parts else t("no_data_index")
    return f"<p class='ti-freshness' style='color:#333'>{ui.esc(t('data'))}: {text}</p>"


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
        f"{ui.esc(t('dash_' + name))}</a><br><span style='color:#555'>{ui.esc(t('dash_' + name + '_what'))}</span></li>"
        for name, _, _ in DASHBOARDS
    )
    return w.HTML(f"{fresh}<ul class='ti-index' style='list-style:none;padding-left:0'>{items}</ul>")
