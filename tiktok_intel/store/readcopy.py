"""The read copy: a consistent snapshot of the DuckDB file for dashboards to read while a flow writes.

DuckDB locks the whole file across processes (docs/architecture.md): while a flow holds it writable, a
dashboard cannot even open it read-only. So at the end of every writing run, still holding the
workspace write lock and with the run's connections closed, :func:`publish` copies the file to
``<stem>.read<suffix>`` beside it (``tiktok.duckdb`` -> ``tiktok.read.duckdb``): to a temporary
name in the same folder, then ``os.replace``, so a reader opens the previous copy or the new one,
never half of one. The copy keeps the database's modification time: that is the "as of" a
dashboard shows. DuckLake stores get none (they let readers in while a writer works), nor does
``:memory:``. Publishing never fails a run: a copy that cannot be made is a logged warning.
"""

from __future__ import annotations

import logging
import os
import shutil
import stat
import tempfile
import time
from pathlib import Path

import duckdb

from .database import is_ducklake

logger = logging.getLogger(__name__)

#: Inserted before the database file's suffix to name its read copy.
MARK = ".read"


def copy_path(db: str | Path) -> Path | None:
    """Where the read copy of the database ``db`` lives; ``None`` for a store that has none
    (``:memory:``, DuckLake)."""
    target = str(db)
    if target == ":memory:" or is_ducklake(target):
        return None
    path = Path(target)
    return path.with_name(f"{path.stem}{MARK}{path.suffix}")


def publish(db: str | Path) -> Path | None:
    """Refresh the read copy of the database ``db`` when the database changed since and is
    consistent; the copy's path when written, ``None`` when skipped. Never raises: a run must not
    fail because its snapshot for the dashboards could not be taken."""
    target = str(db)
    try:
        return _publish(target)
    except Exception as exc:  # noqa: BLE001 - see the docstring: a warning, never a failed run
        logger.warning(
            "the read copy of %s was not refreshed (%s): dashboards show the previous copy while a flow writes; "
            "free space or make the folder writable",
            target,
            _reason(exc),
        )
        return None


def _reason(exc: BaseException) -> str:
    """One line saying why: the OS's words for a file error, else the exception's first line."""
    text = getattr(exc, "strerror", None) or str(exc)
    return text.splitlines()[0] if text else type(exc).__name__


def _publish(target: str) -> Path | None:
    copy = copy_path(target)
    source = Path(target)
    if copy is None or not source.is_file():
        return None
    if _same(source.stat(), copy):
        logger.debug("the read copy of %s is up to date", target)
        return None
    why = _inconsistent(source)
    if why:
        logger.info("the read copy of %s was not refreshed: %s", target, why)
        return None
    try:
        # Held while copying: no other process can open the file for writing meanwhile, and it
        # fails at once when one of ours (or another process) has it open for writing now.
        guard = duckdb.connect(target, read_only=True)
    except (duckdb.ConnectionException, duckdb.IOException) as exc:
        logger.info("the read copy of %s was not refreshed: the database is open for writing (%s)", target, str(exc).splitlines()[0])
        return None
    try:
        why = _inconsistent(source)
        if why:
            logger.info("the read copy of %s was not refreshed: %s", target, why)
            return None
        started = time.perf_counter()
        info = source.stat()
        _copy(source, copy, info)
    finally:
        guard.close()
    logger.info("published the read copy %s (%.1f MB) in %.2f s", copy, info.st_size / 1e6, time.perf_counter() - started)
    return copy


def _same(info: os.stat_result, copy: Path) -> bool:
    """The copy already holds this version of the database: a copy keeps its source's size and
    modification time, so comparing them costs two ``stat`` calls instead of a copy."""
    try:
        mine = copy.stat()
    except OSError:
        return False
    return mine.st_size == info.st_size and mine.st_mtime_ns == info.st_mtime_ns


def _inconsistent(source: Path) -> str:
    """Why the file alone is not the whole database now (empty: it is). A write-ahead log beside
    it holds commits not yet checkpointed into the file, which a copy of the file would miss."""
    wal = source.with_name(source.name + ".wal")
    return f"its write-ahead log {wal.name} is not checkpointed yet" if wal.exists() else ""


def _copy(source: Path, copy: Path, info: os.stat_result) -> None:
    """Copy to a temporary name in the copy's folder, then rename over the copy (atomic on one
    file system); the temporary file is removed when anything fails."""
    fd, temporary = tempfile.mkstemp(prefix=f".{copy.name}.", suffix=".tmp", dir=copy.parent)
    os.close(fd)
    try:
        shutil.copyfile(source, temporary)
        os.chmod(temporary, stat.S_IMODE(info.st_mode))
        os.utime(temporary, ns=(info.st_atime_ns, info.st_mtime_ns))
        os.replace(temporary, copy)
    except BaseException:
        try:
            os.unlink(temporary)
        except OSError:
            pass
        raise
