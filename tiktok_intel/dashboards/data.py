"""Short database connections for dashboards, and the few queries only dashboards need.

A Voilà kernel lives as long as its page, so a dashboard never keeps a connection: every read
opens the database read-only, runs one function and closes it (DESIGN.md: DuckDB locks the
whole file across processes, so a held connection would block every scheduled flow). While a
flow is writing, opening fails; :func:`read` retries briefly, then raises :class:`BusyError`,
which the panels show as "busy, try again" instead of a traceback.
"""
from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Callable, TypeVar

import duckdb
import pandas as pd

from ..errors import StoreError, TikTokIntelError
from ..settings import get_settings
from ..store import open_db

T = TypeVar("T")

#: How long a dashboard waits for a writer to let go of the database file, in seconds.
BUSY_WAIT_SECONDS = 3.0

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
        try:
            return open_db(target, read_only=read_only)
        except StoreError as exc:
            if "in use by another process" not in str(exc):
                raise
            if time.monotonic() >= deadline:
                raise BusyError("The database is busy: a scheduled flow is writing to it. "
                                "Try again in a minute (use the refresh button).") from None
            time.sleep(delay)
            delay = min(delay * 2, 0.5)


def read(fn: Callable[..., T], *args: Any, db: str | Path | None = None, wait: float = BUSY_WAIT_SECONDS, **kwargs: Any) -> T:
    """``fn(con, *args, **kwargs)`` over a read-only connection that is closed right after."""
    con = _open(db, read_only=True, wait=wait)
    try:
        return fn(con, *args, **kwargs)
    finally:
        con.close()


def write(fn: Callable[..., T], *args: Any, db: str | Path | None = None, wait: float = BUSY_WAIT_SECONDS, **kwargs: Any) -> T:
    """``fn(con, *args, **kwargs)`` over a writable connection, in one transaction, closed right after."""
    from ..store import transaction

    target = db_target(db)
    con = _open(target, read_only=False, wait=wait) if Path(target).exists() or target.startswith("ducklake:") else open_db(target)
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
    return con.execute("""
SELECT p.post_id, coalesce(a.unique_id, p.author_unique_id) AS author, a.nickname, p.description,
       coalesce(p.created_at, p.first_seen_at) AS published_at, p.views, p.likes, p.comments, p.shares, p.saves,
       coalesce((SELECT list(h.hashtag ORDER BY h.hashtag) FROM post_hashtags h WHERE h.post_id = p.post_id), []) AS hashtags,
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
