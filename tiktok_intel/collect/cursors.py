"""Saved cursors (``collection_cursors``): after each page a hashtag's place in its feed (web) or in
its date windows (Research API) is saved, so a run that stops (failure, Ctrl-C, the Research API
quota) is resumed from there by the next one."""

from __future__ import annotations

import dataclasses
import datetime as dt

import duckdb

from .. import clock


@dataclasses.dataclass
class SavedCursor:
    cursor: int
    search_id: str | None
    window_start: dt.date | None
    window_end: dt.date | None
    range_end: dt.date | None
    pages: int
    posts: int
    done: bool
    run_id: str | None


def saved_cursor(con: duckdb.DuckDBPyConnection, source: str, hashtag: str) -> SavedCursor | None:
    row = con.execute(
        "SELECT cursor, search_id, window_start, window_end, range_end, pages, posts, done, run_id FROM collection_cursors "
        "WHERE source = ? AND hashtag = ?",
        [source, hashtag],
    ).fetchone()
    return SavedCursor(*row) if row else None


def save_cursor(
    con: duckdb.DuckDBPyConnection,
    source: str,
    hashtag: str,
    *,
    run_id: str,
    cursor: int,
    pages: int,
    posts: int,
    done: bool = False,
    search_id: str | None = None,
    window_start: dt.date | None = None,
    window_end: dt.date | None = None,
    range_end: dt.date | None = None,
    max_posts: int | None = None,
) -> None:
    # DELETE + INSERT rather than INSERT OR REPLACE: DuckLake tables have no key constraints
    con.execute("DELETE FROM collection_cursors WHERE source = ? AND hashtag = ?", [source, hashtag])
    con.execute(
        """INSERT INTO collection_cursors (source, hashtag, run_id, cursor, search_id, window_start, window_end, range_end,
                   pages, posts, max_posts, done, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
        [source, hashtag, run_id, cursor, search_id, window_start, window_end, range_end, pages, posts, max_posts, done, clock.now()],
    )
