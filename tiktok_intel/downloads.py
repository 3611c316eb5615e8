"""Media downloaded at collection time, right after each page is written to raw (TikTok's media
URLs carry ``x-expires``/``expire`` and stop working within hours).

For each item of a page: its video (the best play address that fits ``video_max_bytes``, with the
session's cookies, ``tt_chain_token`` among them, a tiktok.com ``Referer`` and a ``Range``
header), each slideshow image, each caption file (WebVTT, checked by parsing it). Covers are
fetched as before (:mod:`tiktok_intel.media`, after ingest). Downloads run concurrently, within
the media client's concurrency; what is already on disk is never fetched again. A refused or
expired URL is refreshed once from the post's item detail (its video page) before it counts.

Every file is checked before it is kept: a video must be an MP4 whose boxes are all there (a
truncated, zero-length or HTML "video" is refused), of a video content type, under the size cap.
Each failure is a :class:`Failure` with a short reason (``media --status`` counts them) and
whether the next run should retry it. Nothing here needs the store: the :class:`MediaOutcome` is
recorded by :func:`record_outcome` once the run's pages are ingested.
"""

from __future__ import annotations

import asyncio
import collections
import dataclasses
import datetime as dt
import hashlib
import io
import os
import re
import tempfile
from collections.abc import Awaitable, Callable, Iterable, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import duckdb

from . import clock
from .conventions import host_allowed
from .media import CONTENT_TYPES, MediaRecord
from .media import record as record_media
from .parsing.item_media import Offer, item_offers
from .parsing.webvtt import parse_webvtt
from .raw import redact
from .settings import Settings
from .sources.http import HttpClient, ResponseTooLargeError, SourceError, looks_like_html

VIDEO_TYPES = ("video/mp4", "video/quicktime", "application/octet-stream", "binary/octet-stream")
CAPTION_TYPES = ("text/vtt", "text/plain", "application/octet-stream", "binary/octet-stream", "application/x-subrip")
FOLDERS = {"video": "videos", "slide": "slides", "captions": "captions"}

#: A refresher: (post id, author unique id) -> the post's fresh ``itemStruct`` (or ``None``).
Refresher = Callable[[str, str], Awaitable[dict | None]]


@dataclasses.dataclass(frozen=True)
class Failure:
    post_id: str
    kind: str
    seq: int
    reason: str
    detail: str
    retryable: bool


class Refused(Exception):
    """One download refused: its reason, detail and whether to retry it later."""

    def __init__(self, reason: str, detail: str, *, retryable: bool, refreshable: bool = False):
        super().__init__(detail)
        self.reason, self.detail, self.retryable, self.refreshable = reason, detail, retryable, refreshable


@dataclasses.dataclass
class MediaOutcome:
    """What the downloads of one run did (recorded in the store by :func:`record_outcome`)."""

    records: list[MediaRecord] = dataclasses.field(default_factory=list)
    offers: list[Offer] = dataclasses.field(default_factory=list)
    failures: list[Failure] = dataclasses.field(default_factory=list)
    present: int = 0  # already on disk: not fetched again
    refreshed: int = 0  # URLs renewed from the item detail
    seconds: float = 0.0

    def counts(self) -> dict[str, Any]:
        saved = collections.Counter(r.kind for r in self.records)
        failed = collections.Counter(f.reason for f in self.failures)
        return {
            "media_saved": dict(saved),
            "media_failed": dict(failed),
            "media_present": self.present,
            "media_refreshed": self.refreshed,
            "media_bytes": sum(r.bytes or 0 for r in self.records),
        }

    def summary(self) -> str:
        saved = collections.Counter(r.kind for r in self.records)
        text = ", ".join(f"{n} {kind}{'s' if n != 1 and kind != 'captions' else ''}" for kind, n in sorted(saved.items())) or "no media"
        text = f"downloaded {text}"
        if self.failures:
            failed = collections.Counter(f.reason for f in self.failures)
            text += f" ({len(self.failures)} failed: " + ", ".join(f"{n} {r}" for r, n in failed.most_common()) + ")"
        if self.present:
            text += f"; {self.present} already kept"
        return text


# -- checks -------------------------------------------------------------------------------------
def mp4_problem(body: bytes, expected: int | None = None) -> str | None:
    """Why ``body`` is not a whole MP4 (``None`` when it is): its top-level boxes are walked, and
    ``ftyp``, ``moov`` and ``mdat`` must be there, each within the file."""
    if not body:
        return "empty file"
    if expected and len(body) < expected:
        return "truncated"
    if looks_like_html(body[:512]):
        return "HTML instead of video"
    pos, seen = 0, set()
    while pos + 8 <= len(body):
        size = int.from_bytes(body[pos : pos + 4], "big")
        name = body[pos + 4 : pos + 8]
        if size == 1:
            if pos + 16 > len(body):
                return "truncated"
            size = int.from_bytes(body[pos + 8 : pos + 16], "big")
        elif size == 0:
            size = len(body) - pos
        if size < 8:
            return "not a video (broken MP4 boxes)"
        if pos + size > len(body):
            return "truncated"
        seen.add(name)
        pos += size
    if b"ftyp" not in seen:
        return "not a video (no MP4 header)"
    if b"moov" not in seen or b"mdat" not in seen:
        return "truncated"
    return None


def _content_type(value: str) -> str:
    return value.split(";")[0].strip().lower()


def write_file(target: Path, body: bytes) -> None:
    """Write ``body`` to ``target`` under a temporary name, then rename it into place."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
    with os.fdopen(fd, "wb") as handle:
        handle.write(body)
    os.replace(tmp, target)


def target_name(offer: Offer, ext: str = "") -> str:
    """The file's path under the media folder: from the post id and position only, never the URL."""
    if offer.kind == "video":
        return f"videos/{offer.post_id}.mp4"
    if offer.kind == "slide":
        return f"slides/{offer.post_id}-{offer.seq}.{ext or 'jpg'}"
    return f"captions/{offer.post_id}-{offer.seq}.vtt"


class Downloader:
    """``async with``-free: make one per run with the media client, then :meth:`page` for each page
    written to raw and :meth:`finish` at the end; :attr:`outcome` holds what happened."""

    def __init__(
        self,
        client: HttpClient,
        settings: Settings,
        *,
        cookies: dict[str, str] | None = None,
        user_agent: str | None = None,
        referer: str | None = None,
        refresh: Refresher | None = None,
        secrets: Sequence[str] = (),
    ):
        self.client, self.settings = client, settings
        self.cookies = cookies if cookies is not None else {}
        self.user_agent = user_agent
        self.referer = referer or "https://www.tiktok.com/"
        self.refresh = refresh
        self.secrets = list(secrets)
        self.outcome = MediaOutcome()
        self.media_dir = settings.media_dir
        self._tasks: list[asyncio.Task] = []
        self._listing: dict[str, set[str]] = {}
        self._queued: set[tuple[str, str, int]] = set()
        self._authors: dict[str, str] = {}
        self._warmed: asyncio.Lock | None = None

    # -- what is on disk already --
    def _present(self, folder: str) -> set[str]:
        if folder not in self._listing:
            path = self.media_dir / folder
            self._listing[folder] = set(os.listdir(path)) if path.is_dir() else set()
        return self._listing[folder]

    def already_kept(self, offer: Offer) -> bool:
        names = self._present(FOLDERS[offer.kind])
        if offer.kind == "video":
            return bool({f"{offer.post_id}.mp4", f"{offer.post_id}.removed", f"{offer.post_id}.refused"} & names)
        if offer.kind == "slide":
            return any(n.startswith(f"{offer.post_id}-{offer.seq}.") for n in names)
        return bool({f"{offer.post_id}-{offer.seq}.vtt", f"{offer.post_id}-{offer.seq}.refused"} & names)

    # -- the work --
    def wanted(self, items: Iterable[Any]) -> list[Offer]:
        """The offers of ``items`` to download (covers left to :mod:`tiktok_intel.media`)."""
        todo = []
        for item in items:
            offers = item_offers(item)
            if not offers:
                continue
            author = item.get("author") if isinstance(item, dict) else None
            unique_id = author.get("uniqueId") if isinstance(author, dict) else author if isinstance(author, str) else None
            if isinstance(unique_id, str) and unique_id:
                self._authors[offers[0].post_id] = unique_id
            for offer in offers:
                key = (offer.post_id, offer.kind, offer.seq)
                if key in self._queued:
                    continue
                self._queued.add(key)
                self.outcome.offers.append(offer)
                if offer.kind == "cover" or (offer.kind == "video" and not self.settings.download_videos):
                    continue
                if self.already_kept(offer):
                    self.outcome.present += 1
                    continue
                todo.append(offer)
        return todo

    def page(self, items: Iterable[Any]) -> int:
        """Start the downloads of one page's items (in the background); how many were started."""
        todo = self.wanted(items)
        for offer in todo:
            self._tasks.append(asyncio.ensure_future(self._one(offer)))
        return len(todo)

    async def finish(self) -> MediaOutcome:
        """Wait for every download started."""
        while self._tasks:
            tasks, self._tasks = self._tasks, []
            await asyncio.gather(*tasks)
        return self.outcome

    async def run(self, items: Iterable[Any]) -> MediaOutcome:
        """Download the media of ``items`` and wait (for callers outside a collection)."""
        self.page(items)
        return await self.finish()

    async def _one(self, offer: Offer) -> None:
        try:
            try:
                record = await self._fetch(offer)
            except Refused as exc:
                if not (exc.refreshable and self.refresh is not None):
                    raise
                fresh = await self._refreshed(offer)
                if fresh is None:
                    raise
                self.outcome.refreshed += 1
                record = await self._fetch(fresh)
            self.outcome.records.append(record)
        except Refused as exc:
            self._fail(offer, exc.reason, exc.detail, exc.retryable)
        except (SourceError, OSError) as exc:
            self._fail(offer, "unreachable", f"{type(exc).__name__}: {exc}", True)

    def _fail(self, offer: Offer, reason: str, detail: str, retryable: bool) -> None:
        detail = redact(" ".join(str(detail).split())[:300], self.settings.secrets() + self.secrets)
        if not retryable:  # a marker, so no later run asks again (the store need not be open to know)
            marker = self.media_dir / target_name(offer).rsplit(".", 1)[0]
            marker = marker.with_name(marker.name + ".refused")
            marker.parent.mkdir(parents=True, exist_ok=True)
            marker.write_text(reason + "\n", encoding="utf-8")
        self.outcome.failures.append(Failure(offer.post_id, offer.kind, offer.seq, reason, detail, retryable))

    async def _refreshed(self, offer: Offer) -> Offer | None:
        unique_id = self._authors.get(offer.post_id)
        if not unique_id:
            return None
        try:
            item = await self.refresh(offer.post_id, unique_id)
        except (SourceError, OSError, ValueError):
            return None
        for fresh in item_offers(item) if item else []:
            if (fresh.kind, fresh.seq) == (offer.kind, offer.seq):
                return fresh
        return None

    def _headers(self, offer: Offer) -> dict[str, str]:
        headers = {"Referer": self.referer}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if self.user_agent:
            headers["User-Agent"] = self.user_agent
        if offer.kind == "video":
            headers["Range"] = "bytes=0-"
        return headers

    async def _chain_token(self) -> None:
        """TikTok's video CDN wants the ``tt_chain_token`` cookie that tiktok.com's pages set: a
        session without one (an ``ms_token`` setting) gets it from one visit to the home page."""
        if self._warmed is None:
            self._warmed = asyncio.Lock()
        async with self._warmed:
            if "tt_chain_token" in self.cookies or getattr(self, "_tried_chain", False):
                return
            self._tried_chain = True
            try:
                response = await self.client.request("GET", self.referer, headers={k: v for k, v in self._headers_plain().items()})
            except (SourceError, OSError):
                return
            m = re.search(r"tt_chain_token=([^;,\s]+)", response.headers.get("set-cookie", ""))
            if m:
                self.cookies["tt_chain_token"] = m.group(1)
                self.secrets.append(m.group(1))

    def _headers_plain(self) -> dict[str, str]:
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())} if self.cookies else {}
        if self.user_agent:
            headers["User-Agent"] = self.user_agent
        return headers

    async def _fetch(self, offer: Offer) -> MediaRecord:
        if offer.kind == "video":
            await self._chain_token()
        cap = self.settings.video_max_bytes if offer.kind == "video" else self.settings.media_max_bytes
        urls = [u for u in offer.urls if host_allowed(u, self.settings.media_hosts)]
        if not urls:
            host = urlsplit(offer.urls[0]).hostname if offer.urls else "?"
            raise Refused(
                "host not allowed",
                f"{offer.kind} of post {offer.post_id} is on {host}: add it to TIKTOK_INTEL_MEDIA_HOSTS if you trust it",
                retryable=False,
            )
        sizes = dict(zip(offer.urls, offer.sizes or (), strict=False))
        fitting = [u for u in urls if not sizes.get(u) or sizes[u] <= cap]
        if not fitting:
            raise Refused(
                "over the size cap",
                f"every video of post {offer.post_id} is over {cap:,} bytes (TIKTOK_INTEL_VIDEO_MAX_BYTES)",
                retryable=False,
            )
        last: Refused | None = None
        for url in fitting[:3]:  # a few alternatives (other CDN hosts); the first that gives a good file
            try:
                return await self._fetch_url(offer, url, cap, sizes.get(url))
            except Refused as exc:
                last = exc
                if not exc.retryable:
                    break
        assert last is not None
        raise last

    async def _fetch_url(self, offer: Offer, url: str, cap: int, expected: int | None) -> MediaRecord:
        what = f"{offer.kind} of post {offer.post_id}"
        try:
            response = await self.client.request("GET", url, headers=self._headers(offer), max_bytes=cap)
        except ResponseTooLargeError:
            raise Refused("over the size cap", f"{what} is over {cap:,} bytes", retryable=False) from None
        if response.status in (401, 403, 410):
            text = response.body[:200].decode("utf-8", "replace").lower()
            reason = "expired" if "expire" in text or response.status == 410 else "refused"
            raise Refused(reason, f"{what} answered {response.status} ({reason})", retryable=True, refreshable=reason == "expired")
        if response.status == 404:
            raise Refused("gone", f"{what} answered 404", retryable=False)
        if not response.ok:
            raise Refused("unreachable", f"{what} answered HTTP {response.status}", retryable=True)
        body = response.body
        kind = _content_type(response.content_type)
        total = None
        content_range = response.headers.get("content-range", "")
        if "/" in content_range and content_range.rsplit("/", 1)[1].isdigit():
            total = int(content_range.rsplit("/", 1)[1])
        if offer.kind == "video":
            return self._video(offer, body, kind, total or expected, response.url)
        if offer.kind == "slide":
            return self._slide(offer, body, kind, response.url)
        return self._captions(offer, body, kind, response.url)

    def _record(self, offer: Offer, relative: str, body: bytes, url: str, kind: str, width=None, height=None) -> MediaRecord:
        write_file(self.media_dir / relative, body)
        return MediaRecord(
            offer.post_id,
            offer.kind,
            offer.seq,
            relative,
            hashlib.sha256(body).hexdigest(),
            url,
            kind,
            len(body),
            width,
            height,
            clock.now(),
        )

    def _video(self, offer: Offer, body: bytes, kind: str, expected: int | None, url: str) -> MediaRecord:
        what = f"video of post {offer.post_id}"
        if not body:
            raise Refused("empty file", f"{what} came with no bytes", retryable=True)
        if looks_like_html(body[:512]) or kind == "text/html":
            raise Refused("HTML instead of video", f"{what} is an HTML page ({kind or 'no content type'})", retryable=True)
        if kind not in VIDEO_TYPES and not kind.startswith("video/"):
            raise Refused("wrong content type", f"{what} is {kind or 'of no content type'}, not a video", retryable=False)
        problem = mp4_problem(body, expected)
        if problem:
            raise Refused(problem, f"{what}: {problem} ({len(body):,} bytes)", retryable=problem in ("truncated", "empty file"))
        return self._record(offer, target_name(offer), body, url, "video/mp4")

    def _slide(self, offer: Offer, body: bytes, kind: str, url: str) -> MediaRecord:
        what = f"slide {offer.seq} of post {offer.post_id}"
        ext = CONTENT_TYPES.get(kind)
        if ext is None:
            raise Refused("not an image", f"{what} is {kind or 'of no content type'}, not an image", retryable=False)
        try:
            from PIL import Image

            with Image.open(io.BytesIO(body)) as image:
                width, height = image.size
                image.verify()
        except Exception:  # noqa: BLE001 - Pillow raises many kinds for an unreadable image
            raise Refused("not an image", f"{what} says {kind} but is not a readable image", retryable=True) from None
        return self._record(offer, target_name(offer, ext), body, url, kind, width, height)

    def _captions(self, offer: Offer, body: bytes, kind: str, url: str) -> MediaRecord:
        what = f"captions {offer.language or ''} of post {offer.post_id}".replace("  ", " ")
        if kind and kind not in CAPTION_TYPES and not kind.startswith("text/"):
            raise Refused("wrong content type", f"{what} are {kind}, not WebVTT", retryable=False)
        parsed = parse_webvtt(body)
        if not parsed.ok:
            raise Refused("broken captions", f"{what}: {parsed.error}", retryable=False)
        record = self._record(offer, target_name(offer), body, url, "text/vtt")
        return record


# -- the store ---------------------------------------------------------------------------------
def record_outcome(con: duckdb.DuckDBPyConnection, outcome: MediaOutcome | None) -> int:
    """Record a run's downloads: the files (``media``), what was offered (``media_sources``), the
    failures (``media_failures``, attempts counted; a later success removes its failure). Returns
    the files recorded."""
    if outcome is None:
        return 0
    now = clock.now()
    offers = {(o.post_id, o.kind, o.seq): o for o in outcome.offers}
    if offers:
        rows = [(o.post_id, o.kind, o.seq, redact(o.urls[0]) if o.urls else None, o.language, o.source, now) for o in offers.values()]
        con.execute("CREATE TEMP TABLE IF NOT EXISTS _offers AS SELECT * FROM media_sources LIMIT 0")
        con.execute("DELETE FROM _offers")
        con.executemany("INSERT INTO _offers VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
        con.execute("DELETE FROM media_sources s USING _offers o WHERE s.post_id = o.post_id AND s.kind = o.kind AND s.seq = o.seq")
        con.execute("INSERT INTO media_sources SELECT * FROM _offers")
        con.execute("DROP TABLE _offers")
    saved = record_media(con, outcome.records)
    # set-based, as record_media (one statement a step: on DuckLake each is a commit's worth of files)
    keys = [(r.post_id, r.kind, r.seq) for r in outcome.records] + [(f.post_id, f.kind, f.seq) for f in outcome.failures]
    if keys:
        con.execute("CREATE OR REPLACE TEMP TABLE _media_keys (post_id VARCHAR, kind VARCHAR, seq INTEGER)")
        con.executemany("INSERT INTO _media_keys VALUES (?, ?, ?)", keys)
    if outcome.failures:
        latest = {(f.post_id, f.kind, f.seq): f for f in outcome.failures}  # of two for one file, the later
        con.execute(
            "CREATE OR REPLACE TEMP TABLE _media_failed (post_id VARCHAR, kind VARCHAR, seq INTEGER, reason VARCHAR, detail VARCHAR, retryable BOOLEAN)"
        )
        con.executemany(
            "INSERT INTO _media_failed VALUES (?, ?, ?, ?, ?, ?)",
            [(f.post_id, f.kind, f.seq, f.reason, f.detail, f.retryable) for f in latest.values()],
        )
        con.execute(
            "CREATE OR REPLACE TEMP TABLE _media_failed_next AS SELECT i.*, coalesce(f.attempts, 0) + 1 AS attempts, ?::TIMESTAMP AS failed_at "
            "FROM _media_failed i LEFT JOIN media_failures f ON f.post_id = i.post_id AND f.kind = i.kind AND f.seq = i.seq",
            [now],
        )
    if keys:  # a success removes its failure; a new failure replaces the old one (attempts counted on)
        con.execute(
            "DELETE FROM media_failures f WHERE EXISTS "
            "(SELECT 1 FROM _media_keys k WHERE k.post_id = f.post_id AND k.kind = f.kind AND k.seq = f.seq)"
        )
    if outcome.failures:
        con.execute(
            "INSERT INTO media_failures (post_id, kind, seq, reason, detail, retryable, attempts, failed_at) "
            "SELECT post_id, kind, seq, reason, detail, retryable, attempts, failed_at FROM _media_failed_next"
        )
        con.execute("DROP TABLE _media_failed")
        con.execute("DROP TABLE _media_failed_next")
    if keys:
        con.execute("DROP TABLE _media_keys")
    return saved


def status(con: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    """Per kind: files kept, removed (retention), failed by reason, pending (offered, neither kept nor failed)."""
    kinds = [
        r[0]
        for r in con.execute(
            "SELECT DISTINCT kind FROM (SELECT kind FROM media UNION SELECT kind FROM media_sources UNION SELECT kind FROM media_failures) ORDER BY kind"
        ).fetchall()
    ]
    out = []
    for kind in kinds:
        kept, removed, size = con.execute(
            "SELECT count(*) FILTER (WHERE removed_at IS NULL), count(*) FILTER (WHERE removed_at IS NOT NULL), "
            "coalesce(sum(bytes) FILTER (WHERE removed_at IS NULL), 0) FROM media WHERE kind = ?",
            [kind],
        ).fetchone()
        reasons = dict(
            con.execute(
                "SELECT reason, count(*) FROM media_failures WHERE kind = ? GROUP BY reason ORDER BY count(*) DESC", [kind]
            ).fetchall()
        )
        retryable = con.execute("SELECT count(*) FROM media_failures WHERE kind = ? AND retryable", [kind]).fetchone()[0]
        pending = con.execute(
            """SELECT count(*) FROM media_sources s WHERE s.kind = ?
               AND NOT EXISTS (SELECT 1 FROM media m WHERE m.post_id = s.post_id AND m.kind = s.kind AND m.seq = s.seq)
               AND NOT EXISTS (SELECT 1 FROM media_failures f WHERE f.post_id = s.post_id AND f.kind = s.kind AND f.seq = s.seq)""",
            [kind],
        ).fetchone()[0]
        out.append(
            {
                "kind": kind,
                "downloaded": kept,
                "bytes": int(size),
                "removed": removed,
                "expired": reasons.get("expired", 0),
                "refused": reasons.get("refused", 0),
                "failed": {k: v for k, v in reasons.items() if k not in ("expired", "refused")},
                "retryable": retryable,
                "pending": pending,
            }
        )
    return out


def apply_retention(con: duckdb.DuckDBPyConnection, settings: Settings, *, now: dt.datetime | None = None) -> int:
    """Remove the video files older than ``keep_videos_days`` (``None``: keep them) whose key frames
    are taken; their rows stay (``removed_at``), with a marker file so they are not fetched again."""
    days = settings.keep_videos_days
    if days is None:
        return 0
    cutoff = (now or clock.now()) - dt.timedelta(days=days)
    rows = con.execute(
        """SELECT m.post_id, m.path FROM media m WHERE m.kind = 'video' AND m.removed_at IS NULL AND m.fetched_at <= ?
           AND EXISTS (SELECT 1 FROM video_keyframes k WHERE k.post_id = m.post_id)""",
        [cutoff],
    ).fetchall()
    for post_id, path in rows:
        file = settings.media_dir / path
        if file.exists():
            file.unlink()
        (settings.media_dir / "videos").mkdir(parents=True, exist_ok=True)
        (settings.media_dir / "videos" / f"{post_id}.removed").touch()
        con.execute("UPDATE media SET removed_at = ? WHERE post_id = ? AND kind = 'video' AND seq = 0", [clock.now(), post_id])
    return len(rows)
