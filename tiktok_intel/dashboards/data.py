"""Short database connections for dashboards, and the few queries only dashboards need.

A Voilà kernel lives as long as its page, so a dashboard never keeps a connection: every read
opens the database read-only, runs one function and closes it (DESIGN.md: DuckDB locks the
whole file across processes, so a held connection would block every scheduled flow). While a
flow is writing, opening fails; :func:`read` retries briefly, then reads the read copy the last
writing run published (:mod:`tiktok_intel.readcopy`) and notes its time, which the panels show
above what they built ("showing the data as of 08:01"); with no copy it raises
:class:`BusyError`, which the panels show as "busy, try again" instead of a traceback.
"""
from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
import logging
import time
from pathlib import Path
from typing import Any, Callable, Iterator, TypeVar

import duckdb
import pandas as pd

from .. import readcopy
from ..analyses import hashtags_of
from ..errors import StoreError, TikTokIntelError
from ..settings import get_settings
from ..store import is_ducklake, open_db

T = TypeVar("T")
log = logging.getLogger("tiktok_intel.dashboards")

#: How long a dashboard waits for a writer to let go of the database file, in seconds.
BUSY_WAIT_SECONDS = 3.0

BUSY_TEXT = "The database is busy: a scheduled flow is writing to it. Try again in a minute (use the refresh button)."

EMPTY_HINT = ("Nothing has been collected in this workspace yet. Track a hashtag and collect: "
              "`tiktok-intel track add valet2026`, then `tiktok-intel collect` (or `tiktok-intel demo` for sample data).")


class DashboardError(TikTokIntelError):
    """Something a dashboard user can fix or wait out; the message says what."""


class EmptyWorkspaceError(DashboardError):
    """The workspace has no database yet."""


class BusyError(DashboardError):
    """A flow holds the database file for longer than a dashboard waits."""


def db_target(db: str | Path | None = None) -> str:
    """The database a dashboard reads: ``db`` when given, else the configured one."""
    return str(db) if db not in (None, "") else get_settings().db_target


def _open(db: str | Path | None, *, read_only: bool, wait: float) -> duckdb.DuckDBPyConnection:
    target = db_target(db)
    if target != ":memory:" and not target.startswith("ducklake:") and not Path(target).exists():
        raise EmptyWorkspaceError(EMPTY_HINT)
    deadline = time.monotonic() + wait
    delay = 0.05
    while True:
        try:  # one attempt each: this loop, not the read_wait_seconds setting, bounds the wait
            return open_db(target, read_only=read_only, wait_seconds=0)
        except StoreError as exc:
            if "in use by another process" not in str(exc):
                raise
            if time.monotonic() >= deadline:
                raise BusyError(BUSY_TEXT) from None
            time.sleep(delay)
            delay = min(delay * 2, 0.5)


#: The read copies' times (epoch seconds) that reads fell back to, inside :func:`noting_copies`.
_copies_read: contextvars.ContextVar[list[float] | None] = contextvars.ContextVar("tiktok_intel_copies_read", default=None)


@contextlib.contextmanager
def noting_copies() -> Iterator[list[float]]:
    """Inside the block, each :func:`read` that fell back to the read copy adds the copy's time to
    the list yielded, so whoever shows the result can say how old it is (``ui.panel`` and
    ``ui.guarded`` do, for every panel)."""
    seen: list[float] = []
    token = _copies_read.set(seen)
    try:
        yield seen
    finally:
        _copies_read.reset(token)


def _open_copy(db: str | Path | None) -> duckdb.DuckDBPyConnection | None:
    """The read copy of the database, opened read-only and its time noted; ``None`` when there is
    no usable copy (then the caller's :class:`BusyError` stands)."""
    copy = readcopy.copy_path(db_target(db))
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


def copy_notice(as_of: float) -> str:
    """The line shown over data read from the read copy published at ``as_of`` (epoch seconds):
    the time in the schedules' time zone, with the date unless it is today."""
    from ..schedules import timezone

    try:
        zone = timezone()
    except TikTokIntelError:
        zone = dt.timezone.utc
    moment = dt.datetime.fromtimestamp(as_of, zone)
    when = moment.strftime("%H:%M" if moment.date() == dt.datetime.now(zone).date() else "%Y-%m-%d %H:%M")
    return f"A scheduled flow is writing to the database: showing the data as of {when} (refresh for the latest)."


def read(fn: Callable[..., T], *args: Any, db: str | Path | None = None, wait: float | None = None, **kwargs: Any) -> T:
    """``fn(con, *args, **kwargs)`` over a read-only connection that is closed right after: to the
    database, or, when a flow holds it for longer than ``wait``, to its read copy (noted, see
    :func:`noting_copies`), so a page stays usable while a flow writes. ``wait`` defaults to
    :data:`BUSY_WAIT_SECONDS`, read when called."""
    wait = BUSY_WAIT_SECONDS if wait is None else wait
    target = db_target(db)
    if time.monotonic() < _busy_until.get(target, 0.0):  # a read just waited for it: try once, not for the whole wait
        wait = 0.0
    try:
        con = _open(target, read_only=True, wait=wait)
    except BusyError:
        con = _open_copy(target)
        if con is None:
            raise
        _busy_until[target] = time.monotonic() + BUSY_REMEMBERED_SECONDS
    try:
        return fn(con, *args, **kwargs)
    finally:
        con.close()


#: After a read found the database busy and fell back to the copy, the reads of the next this
#: many seconds (the rest of the page: Overview reads three times) try it once instead of waiting.
BUSY_REMEMBERED_SECONDS = 10.0
#: Database -> until when it counts as busy (monotonic clock).
_busy_until: dict[str, float] = {}


def _lock_workspace(target: str) -> Path | None:
    """The workspace whose write lock guards ``target``: the configured one for the configured
    database (or a DuckLake store), else the database's folder, as ``--db PATH`` makes it."""
    if target == get_settings().db_target or is_ducklake(target) or target == ":memory:":
        return None
    return Path(target).parent


def write(fn: Callable[..., T], *args: Any, db: str | Path | None = None, wait: float | None = None, **kwargs: Any) -> T:
    """``fn(con, *args, **kwargs)`` over a writable connection, in one transaction, closed right
    after; under the workspace write lock (waiting up to ``wait`` for a flow), so an edit takes its
    turn with the flows and is published to the read copy like theirs."""
    from ..orchestration.lock import WriteLockTimeout, write_lock

    wait = BUSY_WAIT_SECONDS if wait is None else wait
    target = db_target(db)
    try:
        with write_lock("dashboard", timeout=wait, workspace=_lock_workspace(target), db=target, on_wait=log.info):
            return _write(target, fn, *args, wait=wait, **kwargs)
    except WriteLockTimeout:
        raise BusyError(BUSY_TEXT) from None


def _write(target: str, fn: Callable[..., T], *args: Any, wait: float, **kwargs: Any) -> T:
    """The body of :func:`write`, the lock held: a missing database is created, not waited for."""
    from ..store import transaction

    con = _open(target, read_only=False, wait=wait) if Path(target).exists() or is_ducklake(target) else open_db(target)
    try:
        with transaction(con):
            return fn(con, *args, **kwargs)
    finally:
        con.close()


# ------------------------------------------------------------------------------------------ queries


def counts(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Posts, authors, hashtags, and active tracked hashtags in the store."""
    row = con.execute("""SELECT (SELECT count(*) FROM posts), (SELECT count(*) FROM authors),
                                (SELECT count(*) FROM hashtags), (SELECT count(*) FROM tracked_hashtags WHERE active)""").fetchone()
    return dict(zip(("posts", "authors", "hashtags", "tracked hashtags"), (int(x) for x in row)))


def last_runs(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """The last run of each flow: ``flow, started_at, ended_at, status, notebook_path, error``."""
    return con.execute("""SELECT flow, arg_max(started_at, started_at) AS started_at, arg_max(ended_at, started_at) AS ended_at,
                                 arg_max(status, started_at) AS status, arg_max(notebook_path, started_at) AS notebook_path,
                                 arg_max(error, started_at) AS error, count(*) AS runs
                          FROM runs GROUP BY flow ORDER BY flow""").df()


def hashtag_popularity(con: duckdb.DuckDBPyConnection, hashtags: list[str] | None = None) -> pd.DataFrame:
    """Monitoring snapshots (``hashtag, collected_at, video_count, view_count``) of ``hashtags``
    (default: the active tracked ones), oldest first."""
    if hashtags:
        return con.execute("""SELECT hashtag, collected_at, video_count, view_count FROM hashtag_stats
                              WHERE list_contains(?, hashtag) ORDER BY hashtag, collected_at""", [list(hashtags)]).df()
    return con.execute("""SELECT hashtag, collected_at, video_count, view_count FROM hashtag_stats
                          WHERE hashtag IN (SELECT name FROM tracked_hashtags WHERE active)
                          ORDER BY hashtag, collected_at""").df()


def post_details(con: duckdb.DuckDBPyConnection, post_ids: list[str]) -> pd.DataFrame:
    """Everything a result card shows, for ``post_ids`` (in no particular order)."""
    if not post_ids:
        return pd.DataFrame(columns=["post_id", "author", "nickname", "description", "published_at", "views", "likes", "comments",
                                     "shares", "saves", "hashtags", "url", "cover_path"])
    return con.execute(f"""
SELECT p.post_id, coalesce(a.unique_id, p.author_unique_id) AS author, a.nickname, p.description,
       coalesce(p.created_at, p.first_seen_at) AS published_at, p.views, p.likes, p.comments, p.shares, p.saves,
       {hashtags_of('p.post_id')} AS hashtags,
       coalesce(p.url, 'https://www.tiktok.com/@' || coalesce(p.author_unique_id, '') || '/video/' || p.post_id) AS url,
       (SELECT m.path FROM media m WHERE m.post_id = p.post_id AND m.kind = 'cover' ORDER BY m.seq LIMIT 1) AS cover_path
FROM posts p LEFT JOIN authors a ON a.author_id = p.author_id
WHERE list_contains(?, p.post_id)""", [list(post_ids)]).df()


def known_hashtags(con: duckdb.DuckDBPyConnection, limit: int = 200) -> list[str]:
    """Tracked hashtags first, then the most used ones: choices for a hashtag filter."""
    tracked = [r[0] for r in con.execute("SELECT name FROM tracked_hashtags WHERE active ORDER BY name").fetchall()]
    rest = [r[0] for r in con.execute("SELECT hashtag FROM post_hashtags GROUP BY hashtag ORDER BY count(*) DESC, hashtag LIMIT ?",
                                      [int(limit)]).fetchall()]
    return list(dict.fromkeys(tracked + rest))


def report_html(notebook_path: str) -> Path | None:
    """The executed report's HTML next to its ``.ipynb`` (inside the workspace's reports folder only)."""
    if not isinstance(notebook_path, str) or not notebook_path:
        return None
    path = Path(notebook_path)
    workspace = get_settings().workspace_path
    # a relative path: to the workspace, or (what flows run from the project folder once recorded,
    # "data/reports/...") to the folder holding it
    candidates = [path] if path.is_absolute() else [workspace / path, workspace.resolve().parent / path]
    try:
        reports_dir = get_settings().reports_dir.resolve()
        for candidate in candidates:
            resolved = candidate.with_suffix(".html").resolve()
            if reports_dir in resolved.parents and resolved.is_file():
                return resolved
    except OSError:
        return None
    return None


def executed_reports(con: duckdb.DuckDBPyConnection, *, flows: list[str], job: str = "", limit: int = 50) -> pd.DataFrame:
    """Runs that left an executed notebook, newest first: the built-in ``flows``' always, a user
    job's when its run was published (``publish`` in its parameters). Columns ``run_id, flow,
    started_at, ended_at, status, notebook_path, error``."""
    return con.execute("""
        SELECT run_id, flow, started_at, ended_at, status, notebook_path, error FROM runs
        WHERE notebook_path IS NOT NULL
          AND (list_contains(?, flow)
               OR coalesce(TRY_CAST(json_extract_string(counts, '$.parameters.publish') AS BOOLEAN), false))
          AND (? = '' OR flow = ?)
        ORDER BY started_at DESC LIMIT ?""", [flows, job, job, limit]).df()
