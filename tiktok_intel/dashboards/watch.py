"""The Overview page's watch panels: posts TikTok no longer shows, with the last copy the workbench
kept of each (``recheck``), and the alert deliveries that failed (tried again on the next run)."""

from __future__ import annotations

import pandas as pd

from .. import alerts
from ..analyses import availability
from . import data, ui

STATUS_LABELS = {"removed": "Removed", "private": "Made private", "region_blocked": "Blocked in the region"}


def _when(value) -> str:
    return "–" if value is None or pd.isna(value) else pd.Timestamp(value).strftime("%Y-%m-%d %H:%M")


@ui.panel
def removed_posts_panel(db: str | None = None, limit: int = 20):
    """Removed, private and region-blocked posts, most recently gone first, as cards of their last stored copy."""
    import ipywidgets as w

    def load(con):
        return availability.removed_posts(con, limit=int(limit)), availability.status_counts(con)

    gone, counts = data.read(load, db=db)
    if not counts:
        return ui.message("No post rechecked yet: the recheck flow asks TikTok every 6 hours (or run `tiktok-intel recheck`).")
    seen = ", ".join(f"{n:,} {s.replace('_', ' ')}" for s, n in counts.items())
    if gone.empty:
        return ui.message(f"Every rechecked post is still there ({seen}).")
    cards = []
    for row in gone.to_dict("records"):
        extra = (
            f"<div class='ti-gone' style='font-size:12px;color:#a33'><b>{ui.esc(STATUS_LABELS.get(row['status'], row['status']))}</b>"
            f" · first seen gone {_when(row['first_seen_gone'])} UTC · last seen available {_when(row['last_seen_available'])} UTC"
            f" · {ui.esc(row['detail'] or '')}</div>"
        )
        if row.get("transcript"):
            extra += f"<div style='font-size:12px;color:#444'>Transcript: {ui.esc(str(row['transcript'])[:400])}</div>"
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
    head = f"<p class='ti-gone-count'>{len(gone):,} post{'s' if len(gone) != 1 else ''} no longer shown (latest checks: {ui.esc(seen)})</p>"
    return w.VBox([w.HTML(head + "".join(cards)), ui.downloads(gone.drop(columns=["transcript"]), "removed-posts")])


@ui.panel
def alerts_panel(db: str | None = None):
    """The alert deliveries not sent (with why, tried again on the next run), and the latest sent."""
    import ipywidgets as w

    def load(con):
        return alerts.deliveries(con, failed_only=True, limit=20), alerts.deliveries(con, limit=5)

    failed, latest = data.read(load, db=db)
    if latest.empty:
        return ui.message("No alert sent yet: write rules in the alerts file (`tiktok-intel alerts list` shows them).")
    parts = []
    if failed.empty:
        parts.append(ui.message("Every alert was delivered."))
    else:
        parts.append(
            ui.message(f"{len(failed)} alert deliver{'ies' if len(failed) != 1 else 'y'} failed: tried again on the next run.", "warning")
        )
        parts.append(
            ui.table(
                failed,
                columns=["created_at", "rule", "channel", "subject", "attempts", "last_error"],
                css_class="ti-table ti-failed-alerts",
            )
        )
    parts.append(ui.heading("Latest alerts", 4))
    parts.append(ui.table(latest, columns=["created_at", "rule", "channel", "subject", "items", "status"], css_class="ti-table ti-alerts"))
    return w.VBox(parts)
