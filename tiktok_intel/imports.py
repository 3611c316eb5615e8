"""``import``: files researchers already have (exports, saved pages) -> the raw zone, then ingested
(:mod:`tiktok_intel.ingest`).

Copying first means the store can always be rebuilt from raw, whatever happens to the original
file. The shape is detected from the content, not the file name.
"""

from __future__ import annotations

import codecs
import datetime as dt
import gzip
import os
import zlib
from collections.abc import Iterable
from pathlib import Path

import duckdb

from . import clock
from .errors import UnsupportedInputError
from .ingest.merge import IngestStats
from .ingest.pages import after_ingest, ingest_pages
from .parsing import SHAPES, sniff
from .raw import RawPage, new_run_id, write_page

_SUFFIX = {"json": ".json", "ndjson": ".ndjson", "html": ".html", "empty": ".json"}


DATA_SUFFIXES = (".json", ".ndjson", ".jsonl", ".html", ".htm", ".json.gz", ".ndjson.gz", ".jsonl.gz")


def expand(paths: Iterable[str | Path]) -> tuple[list[Path], list[Path]]:
    """(files to import, files skipped). Files named are always imported; inside folders named,
    only data files (``.json``, ``.ndjson``, ``.jsonl``, ``.html``, optionally ``.gz``) are, hidden ones never."""
    found: list[Path] = []
    skipped: list[Path] = []
    for item in paths:
        path = Path(item)
        if path.is_dir():
            for child in sorted(path.rglob("*")):
                if not child.is_file() or any(part.startswith(".") for part in child.relative_to(path).parts):
                    continue
                (found if child.name.lower().endswith(DATA_SUFFIXES) else skipped).append(child)
        elif path.is_file():
            found.append(path)
        elif path.exists():
            raise UnsupportedInputError(
                f"{path} is not a regular file or folder (a device or pipe?): save the data to a file and import that"
            )
        else:
            raise UnsupportedInputError(f"{path}: no such file or folder")
    return found, skipped


def _damaged_gzip(path: Path, exc: Exception) -> UnsupportedInputError:
    return UnsupportedInputError(f"{path}: a damaged gzip file ({exc}): copy or download it again, or import the uncompressed file")


def _read(path: Path) -> bytes:
    data = path.read_bytes()
    if data[:2] != b"\x1f\x8b":
        return data
    try:
        return gzip.decompress(data)
    except (OSError, EOFError, zlib.error) as exc:
        raise _damaged_gzip(path, exc) from None


def _head(path: Path, size: int = 65536) -> bytes:
    with path.open("rb") as handle:
        compressed = handle.read(2) == b"\x1f\x8b"
    opener = gzip.open if compressed else open
    try:
        with opener(path, "rb") as handle:
            return handle.read(size)
    except (OSError, EOFError, zlib.error) as exc:
        if not compressed:
            raise
        raise _damaged_gzip(path, exc) from None


_UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)


def _kind(path: Path, data: bytes) -> str:
    if data.startswith(_UTF16_BOMS):  # what Windows tools such as PowerShell's `>` write
        raise UnsupportedInputError(f"{path}: UTF-16 text, not UTF-8: TikTok exports are UTF-8; re-save the file as UTF-8")
    kind = sniff(data[:4096])
    if kind == "json" and path.suffix.lower() in (".ndjson", ".jsonl"):
        kind = "ndjson"
    if kind is None:
        accepted = "; ".join(SHAPES.values())
        raise UnsupportedInputError(f"{path}: not TikTok data (not JSON, NDJSON or a TikTok HTML page); accepted shapes: {accepted}")
    try:
        data[:65536].decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < 65536 - 4:  # not just a multi-byte character cut at the boundary
            raise UnsupportedInputError(
                f"{path}: not UTF-8 text (byte {exc.start}): TikTok exports are UTF-8; re-save the file as UTF-8"
            ) from None
    return kind


def copy_to_raw(path: Path, *, run_id: str, page: int, collected_at: dt.datetime | None = None, raw_dir: Path | None = None) -> RawPage:
    """Copy one external file into the raw zone; its fetched_at is ``collected_at``, else the file's mtime."""
    data = _read(path)
    kind = _kind(path, data)
    when = collected_at or clock.from_epoch(os.stat(path).st_mtime)
    origin = "given" if collected_at else "file-mtime"
    return write_page(
        data,
        source="import",
        run_id=run_id,
        page=page,
        request={"file": str(path)},
        fetched_at=when,
        suffix=_SUFFIX[kind],
        compress=len(data) > 1_000_000,
        raw_dir=raw_dir,
        extra={"original_name": path.name, "fetched_at_origin": origin},
    )


def import_paths(
    con: duckdb.DuckDBPyConnection, paths: Iterable[str | Path], *, collected_at: dt.datetime | None = None, raw_dir: Path | None = None
) -> IngestStats:
    """Import files and folders: every file is checked, copied to raw, then ingested.

    ``collected_at`` is used where the data carries no collection time of its own
    (Zeeschuimer lines carry theirs); without it, the file's modification time.
    """
    files, skipped = expand(paths)
    for path in files:  # refuse non-TikTok files before anything is copied
        _kind(path, _head(path))
    run_id = new_run_id()
    pages = [copy_to_raw(path, run_id=run_id, page=n, collected_at=collected_at, raw_dir=raw_dir) for n, path in enumerate(files)]
    stats = after_ingest(con, ingest_pages(con, pages, desc="import"))
    stats.skipped_files = [str(p) for p in skipped]
    return stats
