"""Cover images, downloaded while collecting (TikTok's media URLs expire within hours).

Only from allowed hosts (the ``media_hosts`` setting: TikTok's CDNs by default, and their
subdomains), at most ``media_max_bytes``, only image content types that Pillow can open. Files
go to ``<workspace>/media/covers/<post id>-<sha256 prefix>.<ext>``: the name never comes from the
URL. Each file is recorded in the ``media`` table.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import io
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import urlsplit

import duckdb

from . import clock
from .conventions import host_allowed
from .errors import TikTokIntelError
from .raw import redact
from .settings import Settings, get_settings
from .sources.http import HttpClient, SourceError

CONTENT_TYPES = {
    "image/jpeg": "jpg",
    "image/jpg": "jpg",
    "image/png": "png",
    "image/webp": "webp",
    "image/gif": "gif",
    "image/avif": "avif",
    "image/heic": "heic",
}


class MediaError(TikTokIntelError):
    """A cover could not be downloaded or is not acceptable."""

    reason = "media error"


class HostNotAllowedError(MediaError):
    reason = "host not allowed"


class NotAnImageError(MediaError):
    reason = "not an image"


class MediaExpiredError(MediaError):
    reason = "URL expired (403)"


@dataclasses.dataclass(frozen=True)
class MediaRecord:
    post_id: str
    kind: str
    seq: int
    path: str  # relative to the media folder
    sha256: str
    source_url: str
    content_type: str
    bytes: int
    width: int | None
    height: int | None
    fetched_at: object


def _safe_post_id(post_id: str) -> str:
    if not str(post_id).isdigit():
        raise MediaError(f"post id {str(post_id)[:30]!r} is not numeric: refusing to name a file after it")
    return str(post_id)


async def download_cover(client: HttpClient, post_id: str, url: str, *, settings: Settings | None = None) -> MediaRecord:
    """Fetch one cover and write it under the media folder; raises :class:`MediaError` subclasses."""
    settings = settings or get_settings()
    post_id = _safe_post_id(post_id)
    shown = redact(url)
    if not host_allowed(url, settings.media_hosts):
        raise HostNotAllowedError(
            f"cover of post {post_id} is on {urlsplit(url).hostname}, not an allowed host: "
            "add it to TIKTOK_INTEL_MEDIA_HOSTS if you trust it"
        )
    try:
        response = await client.request("GET", url, max_bytes=settings.media_max_bytes)
    except SourceError as exc:
        raise MediaError(f"cover of post {post_id}: {exc}") from None
    if response.status in (403, 410):
        raise MediaExpiredError(f"cover of post {post_id} answered {response.status} (its URL expired): collect again for a fresh URL")
    if not response.ok:
        raise MediaError(f"cover of post {post_id} answered HTTP {response.status}")
    content_type = response.content_type.split(";")[0].strip().lower()
    ext = CONTENT_TYPES.get(content_type)
    if ext is None:
        raise NotAnImageError(f"cover of post {post_id} is {content_type or 'of no content type'}, not an image")
    width = height = None
    try:
        from PIL import Image

        with Image.open(io.BytesIO(response.body)) as image:
            width, height = image.size
            image.verify()
    except Exception:  # noqa: BLE001 - Pillow raises many kinds for an unreadable image
        if ext in ("jpg", "png", "webp", "gif"):
            raise NotAnImageError(f"cover of post {post_id} says {content_type} but is not a readable image") from None
    digest = hashlib.sha256(response.body).hexdigest()
    relative = f"covers/{post_id}-{digest[:16]}.{ext}"
    target = settings.media_dir / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    if not target.exists():
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
        with os.fdopen(fd, "wb") as handle:
            handle.write(response.body)
        os.replace(tmp, target)
    return MediaRecord(post_id, "cover", 0, relative, digest, shown, content_type, len(response.body), width, height, clock.now())


def record(con: duckdb.DuckDBPyConnection, records: Sequence[MediaRecord]) -> int:
    """Insert media rows (an existing (post, kind, seq) is kept, and of several given, the first);
    the number inserted. One statement for all of them: on DuckLake each statement is a catalog
    commit and new data files, so a row at a time would take minutes for a run's videos."""
    if not records:
        return 0
    import pyarrow as pa

    columns = {
        "post_id": pa.string(),
        "kind": pa.string(),
        "seq": pa.int32(),
        "path": pa.string(),
        "sha256": pa.string(),
        "source_url": pa.string(),
        "content_type": pa.string(),
        "bytes": pa.int64(),
        "width": pa.int32(),
        "height": pa.int32(),
        "fetched_at": pa.timestamp("us"),
    }
    table = pa.table({name: pa.array([getattr(r, name) for r in records], kind) for name, kind in columns.items()})
    table = table.append_column("n", pa.array(range(len(records)), pa.int64()))
    names = ", ".join(columns)
    before = con.execute("SELECT count(*) FROM media").fetchone()[0]
    con.register("_media_in", table)
    try:
        # an anti-join rather than INSERT OR IGNORE: DuckLake tables have no key constraints
        con.execute(
            f"INSERT INTO media ({names}) SELECT {names} FROM (SELECT DISTINCT ON (post_id, kind, seq) * FROM _media_in "
            "ORDER BY post_id, kind, seq, n) i WHERE NOT EXISTS "
            "(SELECT 1 FROM media m WHERE m.post_id = i.post_id AND m.kind = i.kind AND m.seq = i.seq)"
        )
    finally:
        con.unregister("_media_in")
    return con.execute("SELECT count(*) FROM media").fetchone()[0] - before


def covers_wanted(con: duckdb.DuckDBPyConnection, post_ids: Sequence[str]) -> list[tuple[str, str]]:
    """(post id, cover URL) of those posts that have a cover URL and no cover file yet."""
    if not post_ids:
        return []
    marks = ", ".join("?" for _ in post_ids)
    return [
        tuple(r)
        for r in con.execute(
            f"""SELECT p.post_id, p.cover_url FROM posts p WHERE p.post_id IN ({marks}) AND p.cover_url IS NOT NULL
             AND NOT EXISTS (SELECT 1 FROM media m WHERE m.post_id = p.post_id AND m.kind = 'cover') ORDER BY p.post_id""",
            list(post_ids),
        ).fetchall()
    ]


@dataclasses.dataclass
class CoverResult:
    saved: int = 0
    failed: int = 0
    reasons: dict[str, int] = dataclasses.field(default_factory=dict)

    def add(self, other: CoverResult) -> None:
        self.saved += other.saved
        self.failed += other.failed
        for k, v in other.reasons.items():
            self.reasons[k] = self.reasons.get(k, 0) + v

    def summary(self) -> str:
        """ "12 covers", "12 covers (2 failed: 1 expired, 1 unreachable)"; "" when none was fetched or failed."""
        if not (self.saved or self.failed):
            return ""
        failed = f" ({self.failed} failed: " + ", ".join(f"{v} {k}" for k, v in self.reasons.items()) + ")" if self.failed else ""
        return f"{self.saved} covers{failed}"


async def fetch_covers(
    con: duckdb.DuckDBPyConnection, client: HttpClient, post_ids: Sequence[str], *, settings: Settings | None = None
) -> CoverResult:
    """Download the covers of those ``post_ids`` that have none yet, concurrently; record them."""
    wanted = covers_wanted(con, post_ids)
    result = CoverResult()
    if not wanted:
        return result
    outcomes = await asyncio.gather(*(download_cover(client, pid, url, settings=settings) for pid, url in wanted), return_exceptions=True)
    records = []
    for outcome in outcomes:
        if isinstance(outcome, MediaRecord):
            records.append(outcome)
        elif isinstance(outcome, (MediaError, SourceError)):
            result.failed += 1
            reason = getattr(outcome, "reason", "error")
            result.reasons[reason] = result.reasons.get(reason, 0) + 1
        else:
            raise outcome  # a bug, not a bad cover
    result.saved = record(con, records)
    return result


def media_path(relative: str, settings: Settings | None = None) -> Path:
    """The file behind a ``media.path`` value."""
    return (settings or get_settings()).media_dir / relative
