"""``import``: files researchers already have (exports, saved pages) -> the raw zone, then ingested
(:mod:`tiktok_intel.ingest`).

Copying first means the store can always be rebuilt from raw, whatever happens to the original
file. The shape is detected from the content, not the file name.
"""

from __future__ import annotations

import codecs
import concurrent.futures
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
from .raw import RawPage, TooLargeError, inflate, new_run_id, write_page
from .settings import Settings, get_settings

GZIP_MAGIC = b"\x1f\x8b"
_SUFFIX = {"json": ".json", "ndjson": ".ndjson", "html": ".html", "empty": ".json", "csv": ".csv"}


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
                f"{_name(path)} is not a regular file or folder (a device or pipe?): save the data to a file and import that"
            )
        else:
            raise UnsupportedInputError(f"{_name(path)}: no such file or folder")
    return found, skipped


def _damaged_gzip(path: Path, exc: Exception) -> UnsupportedInputError:
    return UnsupportedInputError(f"{_name(path)}: a damaged gzip file ({exc}): copy or download it again, or import the uncompressed file")


def _name(path: Path) -> str:
    """``path`` printable, bytes that are not UTF-8 as ``\\xNN``."""
    return os.fsencode(path).decode("utf-8", "backslashreplace")


class ChangedFileError(UnsupportedInputError):
    """A file that changed or disappeared between its check and its copy."""


def _too_large(path: Path, size: int, limit: int) -> UnsupportedInputError:
    return UnsupportedInputError(
        f"{_name(path)}: {size:,} bytes, larger than max_file_bytes ({limit:,}): split it, or raise TIKTOK_INTEL_MAX_FILE_BYTES"
    )


def _too_inflated(path: Path, limit: int) -> UnsupportedInputError:
    return UnsupportedInputError(
        f"{_name(path)}: a gzip file that inflates to more than max_inflated_bytes ({limit:,} bytes): "
        "split it, or raise TIKTOK_INTEL_MAX_INFLATED_BYTES"
    )


def _check(path: Path) -> os.stat_result:
    """Refuse ``path`` unless it can be imported: a UTF-8 name, within the size limits (a gzip file
    inflated as a stream, only counted), TikTok data. Returns what it was when checked."""
    try:
        str(path).encode("utf-8")
    except UnicodeEncodeError:
        raise UnsupportedInputError(f"{_name(path)}: the file name is not UTF-8 text: rename the file, then import it") from None
    settings = get_settings()
    try:
        return _checked(path, settings)
    except OSError as exc:
        raise UnsupportedInputError(f"{_name(path)}: cannot be read ({exc.strerror}): check the file and its permissions") from None


def _checked(path: Path, settings: Settings) -> os.stat_result:
    with path.open("rb") as handle:
        info = os.fstat(handle.fileno())
        if info.st_size > settings.max_file_bytes:
            raise _too_large(path, info.st_size, settings.max_file_bytes)
        if handle.read(2) == GZIP_MAGIC:
            handle.seek(0)
            try:
                inflate(handle, settings.max_inflated_bytes, keep=False)
            except TooLargeError:
                raise _too_inflated(path, settings.max_inflated_bytes) from None
            except (OSError, EOFError, zlib.error) as exc:
                raise _damaged_gzip(path, exc) from None
    _kind(path, _head(path))
    return info


def _read(path: Path, checked: os.stat_result | None = None) -> bytes:
    """The file's bytes (a gzip file inflated, up to the limits); ``checked``: what :func:`_check`
    found, which the file must still be (else :class:`ChangedFileError`)."""
    settings = get_settings()
    try:
        with path.open("rb") as handle:
            before = os.fstat(handle.fileno())
            if checked is not None and _version(before) != _version(checked):
                raise ChangedFileError(f"{_name(path)} changed after it was checked")
            if before.st_size > settings.max_file_bytes:
                raise _too_large(path, before.st_size, settings.max_file_bytes)
            compressed = handle.read(2) == GZIP_MAGIC
            handle.seek(0)
            try:
                data = inflate(handle, settings.max_inflated_bytes) if compressed else handle.read(settings.max_file_bytes + 1)
            except TooLargeError:
                raise _too_inflated(path, settings.max_inflated_bytes) from None
            except (OSError, EOFError, zlib.error) as exc:
                raise _damaged_gzip(path, exc) from None
            if _version(os.fstat(handle.fileno())) != _version(before) or (not compressed and len(data) != before.st_size):
                raise ChangedFileError(f"{_name(path)} changed while it was being read")
    except FileNotFoundError:
        raise ChangedFileError(f"{_name(path)} disappeared after it was checked") from None
    except OSError as exc:
        raise ChangedFileError(f"{_name(path)} could no longer be read after it was checked ({exc.strerror})") from None
    return data


def _version(info: os.stat_result) -> tuple[int, int, int, int]:
    return (info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns)


def _head(path: Path, size: int = 65536) -> bytes:
    with path.open("rb") as handle:
        compressed = handle.read(2) == GZIP_MAGIC
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
        raise UnsupportedInputError(f"{_name(path)}: UTF-16 text, not UTF-8: TikTok exports are UTF-8; re-save the file as UTF-8")
    kind = sniff(data[:4096])
    if kind == "json" and path.suffix.lower() in (".ndjson", ".jsonl"):
        kind = "ndjson"
    if kind is None:
        accepted = "; ".join(SHAPES.values())
        raise UnsupportedInputError(
            f"{_name(path)}: not TikTok data (not JSON, NDJSON, a TikTok HTML page or a tiktok-scraper CSV); accepted shapes: {accepted}"
        )
    try:
        data[:65536].decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < 65536 - 4:  # not just a multi-byte character cut at the boundary
            raise UnsupportedInputError(
                f"{_name(path)}: not UTF-8 text (byte {exc.start}): TikTok exports are UTF-8; re-save the file as UTF-8"
            ) from None
    return kind


def copy_to_raw(
    path: Path,
    *,
    run_id: str,
    page: int,
    collected_at: dt.datetime | None = None,
    raw_dir: Path | None = None,
    checked: os.stat_result | None = None,
) -> RawPage:
    """Copy one external file into the raw zone; its fetched_at is ``collected_at``, else the file's
    mtime. The body is content-addressed: the same bytes imported again are kept once
    (:func:`~tiktok_intel.raw.write_page` with ``shared_body``). ``checked``: see :func:`_read`."""
    data = _read(path, checked)
    kind = _kind(path, data)
    when = collected_at or clock.from_epoch((checked or os.stat(path)).st_mtime)
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
        shared_body=True,
    )


#: Threads copying files into the raw zone (the time is the disk's: fsync).
COPY_THREADS = 4


def import_paths(
    con: duckdb.DuckDBPyConnection, paths: Iterable[str | Path], *, collected_at: dt.datetime | None = None, raw_dir: Path | None = None
) -> IngestStats:
    """Import files and folders: every file is checked, copied to raw, then ingested.

    ``collected_at`` is used where the data carries no collection time of its own
    (Zeeschuimer lines carry theirs); without it, the file's modification time.

    A file that fails its check (not TikTok data, too large, a name that is not UTF-8) refuses the
    whole import before anything is copied. A file that changes or disappears after its check is
    left out (nothing of it in raw); the others are copied and ingested, and then
    :class:`ChangedFileError` names it.
    """
    files, skipped = expand(paths)
    checked = [_check(path) for path in files]  # refuse a bad file before anything is copied
    run_id = new_run_id()
    pages, changed = [], []

    def copy(job: tuple[int, tuple[Path, os.stat_result]]) -> RawPage | ChangedFileError:
        n, (path, info) = job
        try:
            return copy_to_raw(path, run_id=run_id, page=n, collected_at=collected_at, raw_dir=raw_dir, checked=info)
        except ChangedFileError as exc:
            return exc

    # copied by a few threads: each page is written and fsync'ed (twice, body and meta), and the
    # waits for the disk overlap; the pages keep their order
    with concurrent.futures.ThreadPoolExecutor(max_workers=COPY_THREADS) as pool:
        for result in pool.map(copy, enumerate(zip(files, checked, strict=True))):
            if isinstance(result, ChangedFileError):
                changed.append(str(result))
            else:
                pages.append(result)
    stats = after_ingest(con, ingest_pages(con, pages, desc="import"))
    stats.skipped_files = [str(p) for p in skipped]
    if changed:
        raise ChangedFileError(
            f"{'; '.join(changed)}: left out (nothing of it kept), import it again once it is complete; "
            f"the other {len(pages)} file(s) went in: {stats.summary()}"
        )
    return stats
