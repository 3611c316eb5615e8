"""The workspace: one value that says where everything is, and the only way in and out of its store.

A :class:`Workspace` is made at the edges (the CLI from ``--db``, a notebook from its ``db``
parameter, a flow run, a dashboard panel) and passed down; library code takes it (or an open
connection) as an argument instead of reading process-wide settings for its database.

Reading and writing, whoever does it:

- :meth:`Workspace.read` runs ``fn(con)`` over a short read-only connection. DuckDB locks the whole
  file across processes while a writer has it open (docs/architecture.md), so when a writer holds
  it past ``wait`` seconds the read goes to the read copy the last writing run published
  (:mod:`.readcopy`) and notes its time (:func:`noting_copies`); with no copy it raises
  :class:`BusyError`.
- :meth:`Workspace.write` runs ``fn(con)`` in one transaction under the write lock (:mod:`.lock`).
- :meth:`Workspace.writing` is the block every writing command and flow runs in: the write lock,
  a connection, and the runs a killed process left ``running`` closed.

Opening retries in one loop only (:func:`.database.open_db`), for as long as the caller's wait.
"""

from __future__ import annotations

import contextlib
import contextvars
import dataclasses
import datetime as dt
import logging
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import duckdb

from ..errors import StoreError, TikTokIntelError
from ..settings import Settings, for_database, get_settings
from . import lock, readcopy
from .database import IN_USE, is_ducklake, open_db, transaction

T = TypeVar("T")
log = logging.getLogger(__name__)

#: How long a dashboard or notebook read waits for a writer to let go of the database file, in seconds,
#: before reading the read copy.
BUSY_WAIT_SECONDS = 3.0
#: After a read found the database busy and fell back to the copy, the reads of the next this
#: many seconds (the rest of the page: Overview reads three times) try it once instead of waiting.
BUSY_REMEMBERED_SECONDS = 10.0

BUSY_TEXT = "The database is busy: a scheduled flow is writing to it. Try again in a minute (use the refresh button)."
EMPTY_HINT = (
    "Nothing has been collected in this workspace yet. Track a hashtag and collect: "
    "`tiktok-intel track add valet2026`, then `tiktok-intel collect` (or `tiktok-intel demo` for sample data)."
)


class BusyError(StoreError):
    """A writer holds the database file for longer than the reader waits, and there is no read copy."""


class EmptyWorkspaceError(StoreError):
    """The workspace has no database yet."""


@dataclasses.dataclass(frozen=True)
class Workspace:
    """Where the database, raw pages, media, reports and jobs of one workspace are, with its settings."""

    settings: Settings

    @classmethod
    def current(cls) -> Workspace:
        """From the process settings (environment, ``.env``): for the edges only."""
        return cls(get_settings())

    @classmethod
    def from_settings(cls, settings: Settings) -> Workspace:
        return cls(settings)

    @classmethod
    def for_database(cls, db: str | Path, settings: Settings | None = None) -> Workspace:
        """As ``--db PATH`` makes it: that database, and (unless a workspace is set explicitly) its folder."""
        return cls((settings or get_settings()).replace(**for_database(db)))

    def replace(self, **changes: Any) -> Workspace:
        """The same workspace with some settings changed."""
        return Workspace(self.settings.replace(**changes))

    # ------------------------------------------------------------------ where things are
    @property
    def root(self) -> Path:
        return self.settings.workspace_path

    @property
    def db_target(self) -> str:
        return self.settings.db_target

    @property
    def is_ducklake(self) -> bool:
        return is_ducklake(self.db_target)

    @property
    def raw_dir(self) -> Path:
        return self.settings.raw_dir

    @property
    def media_dir(self) -> Path:
        return self.settings.media_dir

    @property
    def reports_dir(self) -> Path:
        return self.settings.reports_dir

    @property
    def jobs_path(self) -> Path:
        return self.settings.jobs_path

    @property
    def lock_path(self) -> Path:
        return lock.lock_path(self.root)

    @property
    def read_copy_path(self) -> Path | None:
        return readcopy.copy_path(self.db_target)

    def timezone(self) -> dt.tzinfo:
        """The schedules' time zone (UTC when the setting names none that exists: messages only)."""
        import zoneinfo

        try:
            return zoneinfo.ZoneInfo(self.settings.timezone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            return dt.UTC

    # ------------------------------------------------------------------ connections
    def connect(self, *, read_only: bool = False, wait: float | None = None, migrate: bool = True) -> duckdb.DuckDBPyConnection:
        """A connection to the store (schema migrated); while another process holds the DuckDB file
        the open is retried for ``wait`` seconds (default: the ``read_wait_seconds`` /
        ``write_wait_seconds`` settings)."""
        if wait is None:
            wait = self.settings.read_wait_seconds if read_only else self.settings.write_wait_seconds
        return open_db(self.db_target, read_only=read_only, wait_seconds=wait, migrate=migrate, settings=self.settings)

    @contextlib.contextmanager
    def connection(self, *, read_only: bool = False, wait: float | None = None) -> Iterator[duckdb.DuckDBPyConnection]:
        """``with ws.connection() as con:`` opened, migrated, and closed at the end of the block."""
        con = self.connect(read_only=read_only, wait=wait)
        try:
            yield con
        finally:
            con.close()

    @contextlib.contextmanager
    def write_lock(self, who: str, *, timeout: float | None = None, on_wait: Callable[[str], None] | None = None) -> Iterator[lock.Holder]:
        """The workspace write lock (waiting up to ``timeout``, default the ``lock_timeout_seconds``
        setting); the read copy is published when the block ends without an error."""
        timeout = self.settings.lock_timeout_seconds if timeout is None else timeout
        with lock.write_lock(who, self.root, timeout=timeout, on_wait=on_wait, db=self.db_target, zone=self.timezone()) as me:
            yield me

    @contextlib.contextmanager
    def writing(self, who: str, *, on_wait: Callable[[str], None] | None = None) -> Iterator[duckdb.DuckDBPyConnection]:
        """The block every writer runs in: the write lock, a connection, and the runs a killed
        process left ``running`` marked failed (:func:`close_stale_runs`)."""
        with self.write_lock(who, on_wait=on_wait), self.connection() as con:
            close_stale_runs(con, self)
            yield con

    # ------------------------------------------------------------------ read and write
    def read(self, fn: Callable[..., T], *args: Any, wait: float | None = None, **kwargs: Any) -> T:
        """``fn(con, *args, **kwargs)`` over a read-only connection closed right after: to the
        database, or, when a writer holds it for longer than ``wait`` (default
        :data:`BUSY_WAIT_SECONDS`), to its read copy (noted, see :func:`noting_copies`)."""
        wait = BUSY_WAIT_SECONDS if wait is None else wait
        target = self.db_target
        if time.monotonic() < _busy_until.get(target, 0.0):  # a read just waited for it: try once, not for the whole wait
            wait = 0.0
        try:
            con = self._open_existing(read_only=True, wait=wait)
        except BusyError:
            con = self._open_copy()
            if con is None:
                raise
            _busy_until[target] = time.monotonic() + BUSY_REMEMBERED_SECONDS
        try:
            return fn(con, *args, **kwargs)
        finally:
            con.close()

    def write(self, fn: Callable[..., T], *args: Any, who: str = "dashboard", wait: float | None = None, **kwargs: Any) -> T:
        """``fn(con, *args, **kwargs)`` in one transaction over a writable connection closed right
        after, under the write lock (waiting up to ``wait``, default :data:`BUSY_WAIT_SECONDS`, for a
        flow), so an edit takes its turn with the flows and reaches the read copy like theirs."""
        wait = BUSY_WAIT_SECONDS if wait is None else wait
        try:
            with self.write_lock(who, timeout=wait, on_wait=log.info):
                exists = self.is_ducklake or self.db_target == ":memory:" or Path(self.db_target).exists()
                con = self._open_existing(read_only=False, wait=wait) if exists else self.connect()
                try:
                    with transaction(con):
                        return fn(con, *args, **kwargs)
                finally:
                    con.close()
        except lock.WriteLockTimeout:
            raise BusyError(BUSY_TEXT, key="err_busy") from None

    @contextlib.contextmanager
    def reading(self, *, say: Callable[[str], None] | None = None, wait: float | None = None) -> Iterator[duckdb.DuckDBPyConnection]:
        """The block a reading command runs in, as :meth:`read` reads: a read-only connection to the
        database, waiting up to ``wait`` (default: the ``read_wait_seconds`` setting) while a writer
        holds the file, else to the read copy, said in one line through ``say`` ("reading the copy
        published at 08:01: import (process 4242, since 08:00:12) is writing"); with no copy a
        :class:`BusyError` naming the fix. A workspace without a database yet reads an empty store;
        one whose schema is older is upgraded first, under the write lock (a writer's turn)."""
        wait = self.settings.read_wait_seconds if wait is None else wait
        try:
            con = self._open_reading(wait)
        except EmptyWorkspaceError:
            con = open_db(":memory:")
        except BusyError:
            con = self._open_copy()
            if con is None:
                raise BusyError(
                    f"{self.db_target} is in use by another process (a flow or a notebook writing) for more than {wait:.0f} s and "
                    "no read copy has been published yet: run again when it has finished, or raise TIKTOK_INTEL_READ_WAIT_SECONDS",
                    key="err_busy_no_copy",
                    wait=f"{wait:.0f}",
                ) from None
            (say or log.warning)(self.copy_line())
        try:
            yield con
        finally:
            con.close()

    def copy_line(self) -> str:
        """What a reading command says when it reads the read copy: its time and who is writing."""
        copy = self.read_copy_path
        try:
            moment = dt.datetime.fromtimestamp(copy.stat().st_mtime, self.timezone()) if copy is not None else None
        except OSError:
            moment = None
        if moment is None:
            when = "the read copy"
        else:
            today = dt.datetime.now(self.timezone()).date()
            when = "the copy published at " + moment.strftime("%H:%M" if moment.date() == today else "%Y-%m-%d %H:%M")
        try:
            other = lock.holder(self.root)
        except OSError:
            other = None
        if other is not None and other.since is not None:
            since = other.since.replace(tzinfo=dt.UTC).astimezone(self.timezone()).strftime("%H:%M:%S")
            pid = f"process {other.pid}, " if other.pid else ""
            who = f"{other.flow or 'a flow'} ({pid}since {since}) is writing"
        else:
            who = "a flow is writing" if other is not None else "another process has the database open for writing"
        return f"reading {when}: {who}"

    def _open_reading(self, wait: float) -> duckdb.DuckDBPyConnection:
        """The database, read-only (``wait`` as :meth:`_open_existing`); an older schema is
        brought up to date first by a writable open under the write lock."""
        from ..schema import SCHEMA_VERSION
        from .database import ensure_schema, schema_version

        if self.is_ducklake or self.db_target == ":memory:":
            return self._open_existing(read_only=True, wait=wait)
        con = self._existing_unmigrated(wait)
        if schema_version(con) < SCHEMA_VERSION:
            con.close()
            with self.write_lock("upgrade", on_wait=log.info), self.connection():
                pass
            con = self._existing_unmigrated(wait)
        try:
            ensure_schema(con, read_only=True)  # a newer schema: one line saying to upgrade
        except BaseException:
            con.close()
            raise
        return con

    def _existing_unmigrated(self, wait: float) -> duckdb.DuckDBPyConnection:
        if not Path(self.db_target).exists():
            raise EmptyWorkspaceError(EMPTY_HINT, key="err_empty_workspace")
        try:
            return open_db(self.db_target, read_only=True, wait_seconds=wait, migrate=False)
        except StoreError as exc:
            if IN_USE not in str(exc):
                raise
            raise BusyError(BUSY_TEXT, key="err_busy") from None

    def _open_existing(self, *, read_only: bool, wait: float) -> duckdb.DuckDBPyConnection:
        target = self.db_target
        if target != ":memory:" and not self.is_ducklake and not Path(target).exists():
            raise EmptyWorkspaceError(EMPTY_HINT, key="err_empty_workspace")
        try:
            return open_db(target, read_only=read_only, wait_seconds=wait, settings=self.settings)
        except StoreError as exc:
            if IN_USE not in str(exc):
                raise
            raise BusyError(BUSY_TEXT, key="err_busy") from None

    def _open_copy(self) -> duckdb.DuckDBPyConnection | None:
        """The read copy, opened read-only and its time noted; ``None`` when there is no usable copy."""
        copy = self.read_copy_path
        try:
            as_of = copy.stat().st_mtime if copy is not None else None  # before opening: never newer than what is read
            con = open_db(copy, read_only=True, wait_seconds=0) if as_of is not None else None
        except (OSError, TikTokIntelError):
            return None
        if con is None:
            return None
        seen = _copies_read.get()
        if seen is not None:
            seen.append(as_of)
        log.info("the database is busy: reading its read copy %s", copy)
        return con


def read_only(fn: Callable[..., T], *args: Any, db: str | Path | None = None, wait: float = 30.0, **kwargs: Any) -> T:
    """For notebooks: ``fn(con, *args, **kwargs)`` read from the database ``db`` (default: the
    configured one; :meth:`Workspace.read`). While a flow is writing, it waits up to ``wait``
    seconds, then reads the read copy, or raises :class:`BusyError` saying to run the cell again.

    A workspace without a database yet gives ``fn`` an empty in-memory store instead, so it
    returns its empty result (and a notebook says "no data yet") rather than failing.
    """
    ws = Workspace.for_database(db) if db not in (None, "") else Workspace.current()
    try:
        return ws.read(fn, *args, wait=wait, **kwargs)
    except EmptyWorkspaceError:
        with Workspace.for_database(":memory:").connection() as con:
            return fn(con, *args, **kwargs)
    except BusyError:
        raise BusyError(
            f"the database is busy: a scheduled flow has been writing to it for more than {wait:.0f} s; run this cell again in a minute"
        ) from None


#: Database -> until when it counts as busy (monotonic clock).
_busy_until: dict[str, float] = {}
#: The read copies' times (epoch seconds) that reads fell back to, inside :func:`noting_copies`.
_copies_read: contextvars.ContextVar[list[float] | None] = contextvars.ContextVar("tiktok_intel_copies_read", default=None)


@contextlib.contextmanager
def noting_copies() -> Iterator[list[float]]:
    """Inside the block, each :meth:`Workspace.read` that fell back to the read copy adds the copy's
    time to the list yielded, so whoever shows the result can say how old it is."""
    seen: list[float] = []
    token = _copies_read.set(seen)
    try:
        yield seen
    finally:
        _copies_read.reset(token)


#: What a run left ``running`` by a process that died (kill -9, power loss) is marked with.
STALE_ERROR = "interrupted: its process ended before the run finished (found by the next run)"


def close_stale_runs(con: duckdb.DuckDBPyConnection, workspace: Workspace) -> int:
    """Mark the runs still ``running`` as failed: called holding the workspace write lock, before a
    run starts. With a DuckDB file that lock and the file's own make this process the only writer,
    so a ``running`` row is one whose process died. A DuckLake catalog can have writers on other
    machines: there nothing is touched. Returns how many were closed."""
    from .. import clock

    if workspace.is_ducklake:
        return 0
    stale = con.execute("SELECT count(*) FROM runs WHERE status = 'running'").fetchone()[0]
    if stale:
        con.execute(
            "UPDATE runs SET status = 'failed', error = ?, ended_at = coalesce(ended_at, ?) WHERE status = 'running'",
            [STALE_ERROR, clock.now()],
        )
    return stale
