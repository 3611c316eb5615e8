"""The Overview page's watch panels: posts TikTok no longer shows, with the last copy the workbench
kept of each (``recheck``), and the alert deliveries that failed (tried again on the next run)."""

from __future__ import annotations

import pandas as pd

from .. import alerts, localtime
from ..analyses import availability
from ..texts import number, t
from . import data, ui

#: a post's status -> its catalogue key
STATUS_KEYS = {
    "available": "status_available",
    "removed": "status_removed",
    "private": "status_private",
    "region_blocked": "status_region_blocked",
}


def _status(status: str) -> str:
    return t(STATUS_KEYS[status]) if status in STATUS_KEYS else status.replace("_", " ")


def _when(value) -> str:
    return "–" if value is None or pd.isna(value) else localtime.format_time(value)


@ui.panel
def removed_posts_panel(db: str | None = None, limit: int = 20):
    """Removed, private and region-blocked posts, most recently gone first, as cards of their last stored copy."""
    import ipywidgets as w

    def load(con):
        return availability.removed_posts(con, limit=int(limit)), availability.status_counts(con)

    gone, counts = data.read(load, db=db)
    if not counts:
        return ui.message(t("no_recheck"))
    seen = ", ".join(f"{number(n)} {_status(s).lower()}" for s, n in counts.items())
    if gone.empty:
        return ui.message(t("all_still_there", seen=seen))
    cards = []
    for row in gone.to_dict("records"):
        extra = (
            f"<div class='ti-gone' style='font-size:12px;color:#a33'><b>{ui.esc(_status(row['status']))}</b>"
            f" · {ui.esc(t('first_seen_gone', when=_when(row['first_seen_gone'])))}"
            f" · {ui.esc(t('last_seen_available', when=_when(row['last_seen_available'])))}"
            f" · {ui.esc(row['detail'] or '')}</div>"
        )
        if row.get("transcript"):
            extra += f"<div style='font-size:12px;color:#444'>{ui.esc(t('transcript'))}: {ui.esc(str(row['transcript'])[:400])}</div>"
        card = {
            "post_id": row["post_id"],
            "cover_path": row["cover"],
            "description": row["caption"],
            "author": row["author"],
            "published_at": row["published"],
            "hashtags": row["hashtags"],
            "url": row["link"],
            **{k: row[k] for k in ("views", "likes", "comments", "shares")},
        }
        cards.append(ui.post_card(card, extra=extra))
    head = f"<p class='ti-gone-count'>{ui.esc(t('gone_count', n=number(len(gone)), seen=seen))} · {ui.esc(t('times_in', zone=localtime.label()))}</p>"
    return w.VBox([w.HTML(head + "".join(cards)), ui.downloads(gone.drop(columns=["transcript"]), "removed-posts")])


@ui.panel
def alerts_panel(db: str | None = None):
    """The alert deliveries not sent (with why, tried again on the next run), and the latest sent."""
    import ipywidgets as w

    def load(con):
        return alerts.deliveries(con, failed_only=True, limit=20), alerts.deliveries(con, limit=5)

    failed, latest = data.read(load, db=db)
    if latest.empty:
        return ui.message(t("no_alert_yet"))
    parts = []
    if failed.empty:
        parts.append(ui.message(t("alerts_all_delivered")))
    else:
        parts.append(ui.message(t("alerts_failed" if len(failed) != 1 else "alert_failed", n=number(len(failed))), "warning"))
        parts.append(
            ui.table(
                failed,
                columns=["created_at", "rule", "channel", "subject", "attempts", "last_error"],
                css_class="ti-table ti-failed-alerts",
            )
        )
    parts.append(ui.heading(t("latest_alerts"), 4))
    parts.append(ui.table(latest, columns=["created_at", "rule", "channel", "subject", "items", "status"], css_class="ti-table ti-alerts"))
    return w.VBox(parts)
