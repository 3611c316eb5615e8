"""Perceptual hashes (pHash and dHash, 64 bits each) of every cover and key frame in ``media``."""

from __future__ import annotations

import concurrent.futures
import logging
from pathlib import Path

import duckdb
import numpy as np

from .. import clock
from ..progress import progress
from ..settings import get_settings
from ..store.database import of_posts
from .errors import ImageInputError
from .fetch import open_image

log = logging.getLogger("tiktok_intel.search")


def _to_int64(image_hash) -> int:
    """An 8x8 ImageHash -> its 64 bits as a signed integer (row-major, first bit most significant)."""
    return int.from_bytes(np.packbits(np.asarray(image_hash.hash, dtype=bool).ravel()).tobytes(), "big", signed=True)


def image_hashes(image) -> tuple[int, int]:
    """``(phash, dhash)`` of a PIL image, as signed 64-bit integers (the way they are stored)."""
    import imagehash

    return _to_int64(imagehash.phash(image)), _to_int64(imagehash.dhash(image))


def hash_file(path: str | Path) -> tuple[int, int]:
    return image_hashes(open_image(path))


def hamming(a: int, b: int) -> int:
    return ((a ^ b) & 0xFFFFFFFFFFFFFFFF).bit_count()


_PENDING = """
SELECT m.post_id, m.kind, m.seq, m.path, m.sha256 FROM media m
LEFT JOIN image_hashes h ON h.post_id = m.post_id AND h.kind = m.kind AND h.seq = m.seq
WHERE h.media_sha256 IS DISTINCT FROM m.sha256 AND m.kind IN ('cover', 'frame', 'slide')
ORDER BY m.post_id, m.kind, m.seq
"""


def pending_hashes(con: duckdb.DuckDBPyConnection, posts: list[str] | None = None) -> list[tuple]:
    return of_posts(con, _PENDING, (), posts)


def _hash_one(media_dir: Path, row: tuple) -> tuple:
    post_id, kind, seq, rel, sha = row
    try:
        phash, dhash = hash_file(media_dir / rel)
        return (post_id, kind, seq, sha, phash, dhash, None)
    except ImageInputError as exc:
        return (post_id, kind, seq, sha, None, None, str(exc))


def save_rows(
    con: duckdb.DuckDBPyConnection,
    table: str,
    columns: tuple[str, ...],
    rows: list[tuple],
    key: tuple[str, ...] = ("post_id", "kind", "seq"),
) -> None:
    """Insert-or-replace ``rows`` by ``key`` with set-based statements (zipped ``unnest`` of list
    parameters): DELETE the keys, then INSERT (no INSERT OR REPLACE: DuckLake tables have no key constraints)."""
    if not rows:
        return
    cols = list(zip(*rows))
    select = ", ".join(f"unnest(?) AS {c}" for c in columns)
    params = [list(c) for c in cols]
    keys = " AND ".join(f"{table}.{k} = _new.{k}" for k in key)
    con.execute(f"DELETE FROM {table} USING (SELECT {select}) AS _new WHERE {keys}", params)
    con.execute(f"INSERT INTO {table} ({', '.join(columns)}) SELECT {', '.join(columns)} FROM (SELECT {select})", params)


def hash_media(con: duckdb.DuckDBPyConnection, *, workers: int = 2, chunk: int = 500, posts: list[str] | None = None) -> tuple[int, int]:
    """Hash every media row not hashed yet (or re-downloaded since), of ``posts`` when given. Returns ``(hashed, unreadable)``."""
    todo = pending_hashes(con, posts)
    media_dir = get_settings().media_dir
    done = failed = 0
    bar = progress(total=len(todo), desc="hash images", unit="img")
    try:
        with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
            for start in range(0, len(todo), chunk):
                results = list(pool.map(lambda r: _hash_one(media_dir, r), todo[start : start + chunk]))
                now = clock.now()
                save_rows(
                    con,
                    "image_hashes",
                    ("post_id", "kind", "seq", "media_sha256", "phash", "dhash", "error", "hashed_at"),
                    [r + (now,) for r in results],
                )
                failed += sum(1 for r in results if r[-1] is not None)
                done += len(results)
                bar.update(len(results))
    finally:
        bar.close()
    if failed:
        log.warning("%d image(s) could not be read for hashing (see image_hashes.error)", failed)
    return done - failed, failed
