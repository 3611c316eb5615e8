"""Is each recent post still there? ``recheck`` asks TikTok about the posts collected in the last
N days (setting ``recheck_days``; at most ``recheck_max_posts``, most recently active first, within
the rate limits) through the item detail (``/api/item/detail/``), falling back to the video page,
and records the answer: ``post_checks`` holds each post's latest check, ``post_status`` its
history, one row when a status is first seen (a post that stays removed adds no row).

Statuses: ``available``, ``removed``, ``private``, ``region_blocked`` and ``unknown`` (TikTok
answered a code we cannot read). A request that fails (TikTok unreachable, blocked) records
nothing: it is counted, and the post is asked again on the next run. Every answer is written to the
raw zone first, like every fetch; an available post's answer is ingested (fresh counts).
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import json
import re
from typing import Any

import duckdb

from .. import clock, raw
from ..errors import TikTokIntelError
from ..progress import progress
from ..settings import get_settings
from ..sources import RawSink
from ..sources.http import SourceError

STATUSES = ("available", "removed", "private", "region_blocked", "unknown")
GONE = ("removed", "private", "region_blocked")

#: TikTok's statusCode -> status (see tiktok_intel/offline/fates.py for where each is seen).
CODES = {
    10204: "removed",  # "item doesn't exist"
    10217: "removed",  # taken down
    10202: "private",
    10203: "private",  # friends only
    10216: "private",  # yt-dlp: "This video is private"
    10222: "private",  # the account is private: followers only
    10219: "region_blocked",
}
_REGION = re.compile(r"region|country|land", re.IGNORECASE)
_UNIVERSAL = re.compile(rb'<script[^>]*id="__UNIVERSAL_DATA_FOR_REHYDRATION__"[^>]*>(.*?)</script>', re.DOTALL)


def classify(data: Any) -> tuple[str, str]:
    """``(status, detail)`` from an item detail answer, or a video page's ``webapp.video-detail``."""
    if not isinstance(data, dict):
        return "unknown", f"an answer of type {type(data).__name__}"
    info = data.get("itemInfo")
    item = info.get("itemStruct") if isinstance(info, dict) else None
    code = data.get("statusCode", data.get("status_code"))
    message = str(data.get("statusMsg") or data.get("status_msg") or "")[:200]
    if isinstance(item, dict) and item.get("id") and code in (0, None):
        if item.get("privateItem") is True:
            return "private", "itemStruct.privateItem"
        return "available", ""
    try:
        code = int(code)
    except (TypeError, ValueError):
        return "unknown", f"no itemStruct and no statusCode ({', '.join(list(data)[:6])})"
    detail = f"statusCode {code}" + (f": {message}" if message else "")
    if code in CODES:
        return CODES[code], detail
    if message and _REGION.search(message):
        return "region_blocked", detail
    return "unknown", detail


def classify_page(body: bytes) -> tuple[str, str]:
    """``(status, detail)`` from a video page's embedded ``webapp.video-detail``."""
    found = _UNIVERSAL.search(body or b"")
    if not found:
        return "unknown", "the video page holds no TikTok data"
    try:
        scope = json.loads(found.group(1)).get("__DEFAULT_SCOPE__") or {}
    except (ValueError, AttributeError):
        return "unknown", "the video page's data is not JSON"
    detail = scope.get("webapp.video-detail") if isinstance(scope, dict) else None
    return classify(detail)


@dataclasses.dataclass
class RecheckResult:
    run_id: str
    asked: int = 0
    statuses: dict[str, int] = dataclasses.field(default_factory=dict)
    changed: int = 0  # post_status rows written (first status seen, or a change)
    gone: list[str] = dataclasses.field(default_factory=list)  # newly removed / private / blocked
    failed: int = 0
    errors: list[str] = dataclasses.field(default_factory=list)
    pages: list[raw.RawPage] = dataclasses.field(default_factory=list)

    def counts(self) -> dict[str, Any]:
        return {"asked": self.asked, "changed": self.changed, "gone": len(self.gone), "failed": self.failed, **self.statuses}

    def summary(self) -> str:
        if not self.asked:
            return "no posts collected in the recheck window: nothing to recheck"
        seen = ", ".join(f"{n:,} {s.replace('_', ' ')}" for s, n in sorted(self.statuses.items()))
        gone = f"; {len(self.gone):,} newly gone" if self.gone else ""
        failed = f"; {self.failed:,} could not be asked ({self.errors[0]})" if self.failed else ""
        return f"rechecked {self.asked:,} posts: {seen or 'no answers'}{gone}{failed}"


class RecheckFailedError(TikTokIntelError):
    """No post could be asked about (TikTok unreachable or blocking): worth a retry later."""


def candidates(con: duckdb.DuckDBPyConnection, *, days: int, limit: int, now: dt.datetime | None = None) -> list[tuple[str, str | None]]:
    """``(post_id, author unique id)`` of the posts collected in the last ``days``: first those
    seen since their last check (never checked included), most recently active first; then the
    others, least recently checked first, so that under ``limit`` every post gets its turn (a post
    that left the feeds, perhaps removed, is still asked about)."""
    now = now or clock.now()
    return [
        (r[0], r[1])
        for r in con.execute(
            """SELECT p.post_id, coalesce(a.unique_id, p.author_unique_id)
               FROM posts p LEFT JOIN authors a ON a.author_id = p.author_id
               LEFT JOIN post_checks c ON c.post_id = p.post_id
               WHERE p.last_seen_at >= ?
               ORDER BY (c.checked_at IS NULL OR c.checked_at < p.last_seen_at) DESC,
                        CASE WHEN c.checked_at IS NULL OR c.checked_at < p.last_seen_at THEN p.last_seen_at END DESC,
                        c.checked_at, p.post_id
               LIMIT ?""",
            [now - dt.timedelta(days=days), limit],
        ).fetchall()
    ]


def record(con: duckdb.DuckDBPyConnection, answers: list[tuple[str, str, str]], *, at: dt.datetime) -> list[tuple[str, str, str | None]]:
    """Store ``(post_id, status, detail)`` answers checked at ``at``: the latest check of each post,
    and a ``post_status`` row where the status is new for the post. Returns ``(post_id, status,
    previous status)`` of those rows."""
    if not answers:
        return []
    con.execute("CREATE OR REPLACE TEMP TABLE _answers (post_id VARCHAR, status VARCHAR, detail VARCHAR)")
    con.executemany("INSERT INTO _answers VALUES (?, ?, ?)", answers)
    changes = con.execute(
        """WITH last AS (SELECT post_id, arg_max(status, checked_at) AS status FROM post_status
                         WHERE post_id IN (SELECT post_id FROM _answers) GROUP BY post_id)
           SELECT n.post_id, n.status, l.status, n.detail FROM _answers n LEFT JOIN last l USING (post_id)
           WHERE l.status IS DISTINCT FROM n.status ORDER BY n.post_id"""
    ).fetchall()
    if changes:
        con.executemany("INSERT INTO post_status VALUES (?, ?, ?, ?)", [(p, at, s, d) for p, s, _, d in changes])
    con.execute(
        """INSERT INTO post_checks SELECT n.post_id, ?, n.status, CASE WHEN n.status = 'available' THEN ? END
           FROM _answers n WHERE n.post_id NOT IN (SELECT post_id FROM post_checks)""",
        [at, at],
    )
    con.execute(
        """UPDATE post_checks SET checked_at = ?, status = n.status,
               available_at = CASE WHEN n.status = 'available' THEN ? ELSE post_checks.available_at END
           FROM _answers n WHERE post_checks.post_id = n.post_id""",
        [at, at],
    )
    con.execute("DROP TABLE _answers")
    return [(p, s, prev) for p, s, prev, _ in changes]


def _body(page: raw.RawPage) -> bytes:
    import gzip

    data = page.body_path.read_bytes()
    return gzip.decompress(data) if page.body_path.suffix == ".gz" else data


async def _ask(posts: list[tuple[str, str | None]], settings, session, sink: RawSink, result: RecheckResult) -> list[tuple[str, str, str]]:
    from ..sources.browser import open_session
    from ..sources.http import HttpClient
    from ..sources.web import WebSource

    answers: list[tuple[str, str, str]] = []
    own = session is None
    async with HttpClient(settings) as client:
        if session is None:
            session = await open_session(settings)
        sink.secrets.append(session.ms_token)
        try:
            web = WebSource(client, session, settings)
            bar = progress(total=len(posts), desc="recheck", unit="post")

            async def one(post_id: str, unique_id: str | None) -> None:
                answer, error = None, None
                try:
                    page, data = await web.item_detail(post_id, sink=sink)
                    result.pages.append(page)
                    answer = classify(data)
                except SourceError as exc:
                    error = exc
                if (answer is None or answer[0] == "unknown") and unique_id:  # the video page may say more
                    try:
                        page = await web.video_page(unique_id, post_id, sink=sink)
                        result.pages.append(page)
                        on_page = classify_page(_body(page))
                        answer = on_page if answer is None or on_page[0] != "unknown" else answer
                    except SourceError as exc:
                        error = error or exc
                if answer is not None:
                    answers.append((post_id, *answer))
                else:
                    result.failed += 1
                    if len(result.errors) < 3:
                        result.errors.append(raw.redact(str(error), sink.secrets)[:200])
                bar.update(1)

            await asyncio.gather(*(one(p, u) for p, u in posts))
            bar.close()
        finally:
            if own:
                await session.close()
    return answers


def recheck(workspace, *, days: int | None = None, max_posts: int | None = None, session=None, ingest: bool = True) -> RecheckResult:
    """Ask TikTok about the recent posts of ``workspace`` (the store closed meanwhile) and record
    the answers in one short write; ``ingest``: then ingest the pages of the posts still there."""
    settings = workspace.settings if hasattr(workspace, "settings") else get_settings()
    days = settings.recheck_days if days is None else days
    max_posts = settings.recheck_max_posts if max_posts is None else max_posts
    if days < 0 or max_posts < 0:
        raise TikTokIntelError("--days and --max-posts must be 0 or more")
    now = clock.now()
    with workspace.connection() as con:
        posts = candidates(con, days=days, limit=max_posts, now=now)
    result = RecheckResult(raw.new_run_id(now), asked=len(posts))
    if not posts:
        return result
    sink = RawSink("web", result.run_id, secrets=list(settings.secrets()))
    answers = asyncio.run(_ask(posts, settings, session, sink, result))
    for _, status, _ in answers:
        result.statuses[status] = result.statuses.get(status, 0) + 1
    if not answers and result.failed:
        raise RecheckFailedError(result.summary())
    with workspace.connection() as con:
        changes = record(con, answers, at=now)
        if ingest:
            from ..ingest import process_pending

            process_pending(con, workspace.raw_dir)
    result.changed = len(changes)
    result.gone = [p for p, s, prev in changes if s in GONE]
    return result
