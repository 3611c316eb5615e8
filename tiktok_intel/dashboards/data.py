"""The dashboards' way into the workspace, and the few queries only dashboards need.

A Voilà kernel lives as long as its page, so a dashboard never keeps a connection: every read is
one :meth:`~tiktok_intel.store.Workspace.read` (a short read-only connection, or the read copy
while a flow writes, noted so the panels can say "showing the data as of 08:01"), every edit one
:meth:`~tiktok_intel.store.Workspace.write` under the write lock. A panel's ``db`` parameter names
the database (default: the configured one).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import duckdb
import pandas as pd

from ..analyses import hashtags_of
from ..conventions import author_sql, post_url_sql, published_sql, tracked_item, tracked_label
from ..errors import TikTokIntelError
from ..settings import get_settings
from ..store import BusyError, EmptyWorkspaceError, Workspace, noting_copies

T = TypeVar("T")
log = logging.getLogger("tiktok_intel.dashboards")

__all__ = ["BusyError", "DashboardError", "EmptyWorkspaceError", "noting_copies", "read", "write", "workspace"]


class DashboardError(TikTokIntelError):
    """Something a dashboard user can fix or wait out; the message says what."""


def workspace(db: str | Path | None = None) -> Workspace:
    """The workspace a panel reads: the database ``db`` when given (as ``--db`` makes it), else the configured one."""
    return Workspace.for_database(db) if db not in (None, "") else Workspace.current()


def read(fn: Callable[..., T], *args: Any, db: str | Path | None = None, wait: float | None = None, **kwargs: Any) -> T:
    """``fn(con, *args, **kwargs)`` read from the panel's workspace (:meth:`Workspace.read`)."""
    return workspace(db).read(fn, *args, wait=wait, **kwargs)


def write(fn: Callable[..., T], *args: Any, db: str | Path | None = None, wait: float | None = None, **kwargs: Any) -> T:
    """``fn(con, *args, **kwargs)`` written to the panel's workspace under the write lock (:meth:`Workspace.write`)."""
    return workspace(db).write(fn, *args, who="dashboard", wait=wait, **kwargs)


def copy_notice(as_of: float) -> str:
    """The line shown over data read from the read copy published at ``as_of`` (epoch seconds):
    the time in the schedules' time zone, with the date unless it is today."""
    zone = Workspace.current().timezone()
    moment = dt.datetime.fromtimestamp(as_of, zone)
    when = moment.strftime("%H:%M" if moment.date() == dt.datetime.now(zone).date() else "%Y-%m-%d %H:%M")
    from ..texts import t

    return t("copy_notice", when=when)


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


#: Comments a post's card lists (its most liked).
TOP_COMMENTS = 3


def post_details(con: duckdb.DuckDBPyConnection, post_ids: list[str]) -> pd.DataFrame:
    """Everything a result card shows, for ``post_ids`` (in no particular order)."""
    if not post_ids:
        return pd.DataFrame(
            columns=[
                "post_id",
                "author",
                "nickname",
                "description",
                "published_at",
                "views",
                "likes",
                "comments",
                "shares",
                "saves",
                "hashtags",
                "url",
                "cover_path",
                "top_comments",
                "transcript",
                "transcript_source",
            ]
        )
    return con.execute(
        f"""
SELECT p.post_id, {author_sql()} AS author, a.nickname, p.description,
       {published_sql()} AS published_at, p.views, p.likes, p.comments, p.shares, p.saves,
       {hashtags_of("p.post_id")} AS hashtags,
       {post_url_sql()} AS url,
       (SELECT m.path FROM media m WHERE m.post_id = p.post_id AND m.kind = 'cover' ORDER BY m.seq LIMIT 1) AS cover_path,
       (SELECT list({{'author': c.author_unique_id, 'text': c.text, 'likes': c.likes}} ORDER BY c.likes DESC NULLS LAST, c.comment_id)[1:{TOP_COMMENTS}]
          FROM comments c WHERE c.post_id = p.post_id AND c.parent_id IS NULL) AS top_comments,
       (SELECT t.text FROM transcripts t WHERE t.post_id = p.post_id AND t.text <> ''
        ORDER BY list_position(['tiktok-asr', 'research', 'whisper', 'tiktok-mt'], t.source) LIMIT 1) AS transcript,
       (SELECT t.source || coalesce(' ' || nullif(t.language, ''), '') FROM transcripts t WHERE t.post_id = p.post_id AND t.text <> ''
        ORDER BY list_position(['tiktok-asr', 'research', 'whisper', 'tiktok-mt'], t.source) LIMIT 1) AS transcript_source
FROM posts p LEFT JOIN authors a ON a.author_id = p.author_id
WHERE list_contains(?, p.post_id)""",
        [list(post_ids)],
    ).df()


def known_hashtags(con: duckdb.DuckDBPyConnection, limit: int = 200) -> list[str]:
    """Tracked hashtags first, then the most used ones: choices for a hashtag filter."""
    tracked = [r[0] for r in con.execute("SELECT name FROM tracked_hashtags WHERE active ORDER BY name").fetchall()]
    rest = [
        r[0]
        for r in con.execute(
            "SELECT hashtag FROM post_hashtags GROUP BY hashtag ORDER BY count(*) DESC, hashtag LIMIT ?", [int(limit)]
        ).fetchall()
    ]
    return list(dict.fromkeys(tracked + rest))


def tracked_choices(con: duckdb.DuckDBPyConnection, limit: int = 200) -> list[tuple[str, str]]:
    """Choices ``(label, value)`` for a filter by tracked item: the tracked hashtags, the tracked
    accounts and keywords, then the most used hashtags; each value as
    :func:`~tiktok_intel.conventions.tracked_item` reads it (``klimat``, ``@svtnyheter``, ``"vattenbrist"``)."""
    tags = known_hashtags(con, limit)
    tracked = {r[0] for r in con.execute("SELECT name FROM tracked_hashtags WHERE active").fetchall()}
    items = [
        tracked_label(k, n) for k, n in con.execute("SELECT kind, name FROM tracked_items WHERE active ORDER BY kind, name").fetchall()
    ]
    return [("#" + h, h) for h in tags if h in tracked] + [(i, i) for i in items] + [("#" + h, h) for h in tags if h not in tracked]


def tracked_choice(text: object) -> str:
    """A filter's value from what an address or a notebook says (``#Klimat``, ``@SVTnyheter``): as
    :func:`tracked_choices` gives it, or empty."""
    item = tracked_item(text)
    if item is None:
        return ""
    return item[1] if item[0] == "hashtag" else tracked_label(*item)


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
    return con.execute(
        """
        SELECT run_id, flow, started_at, ended_at, status, notebook_path, error FROM runs
        WHERE notebook_path IS NOT NULL
          AND (list_contains(?, flow)
               OR coalesce(TRY_CAST(json_extract_string(counts, '$.parameters.publish') AS BOOLEAN), false))
          AND (? = '' OR flow = ?)
        ORDER BY started_at DESC LIMIT ?""",
        [flows, job, job, limit],
    ).df()
