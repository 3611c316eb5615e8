"""Posts TikTok no longer shows, with the last copy the store kept of each (``tiktok-intel report
removed``, the Availability panel): caption, cover, counts, transcript (where a ``transcripts``
table holds one), when the post was last seen available and first seen gone, and its link.

The statuses come from ``recheck`` (:mod:`tiktok_intel.collect.recheck`): ``post_status`` holds
each change once, when first seen; ``post_checks`` each post's latest check.
"""

from __future__ import annotations

from typing import Any

import duckdb
import pandas as pd

from ..collect.recheck import GONE, STATUSES
from ..conventions import author_sql, post_url_sql, published_sql
from . import AnalysisError, hashtags_of, time_clause, time_range, whole_numbers

COUNTS = ("views", "likes", "comments", "shares", "saves")
COLUMNS = (
    "post_id",
    "status",
    "first_seen_gone",
    "last_seen_available",
    "author",
    "caption",
    "published",
    *COUNTS,
    "hashtags",
    "cover",
    "transcript",
    "detail",
    "link",
)


def _transcript_sql(con: duckdb.DuckDBPyConnection) -> str:
    """The post's transcript from a ``transcripts`` table when the store has one (its text column
    named ``text``, ``transcript`` or ``content``), else NULL."""
    columns = {
        r[0]
        for r in con.execute(
            "SELECT column_name FROM duckdb_columns() WHERE database_name = current_database() "
            "AND schema_name = current_schema() AND table_name = 'transcripts'"
        ).fetchall()
    }
    text = next((c for c in ("text", "transcript", "content") if c in columns), None)
    if text is None or "post_id" not in columns:
        return "CAST(NULL AS VARCHAR)"
    return f"(SELECT string_agg(t.{text}, ' ') FROM transcripts t WHERE t.post_id = g.post_id)"


def removed_posts(
    con: duckdb.DuckDBPyConnection,
    *,
    since: Any = None,
    until: Any = None,
    statuses: tuple[str, ...] = GONE,
    limit: int | None = None,
) -> pd.DataFrame:
    """Posts whose latest status is one of ``statuses`` (removed, private, region-blocked), first
    seen gone from ``since`` to ``until``, most recently gone first, with their last stored copy."""
    bad = sorted(set(statuses) - set(STATUSES))
    if bad:
        raise AnalysisError(f"unknown status {', '.join(bad)}: use some of {', '.join(STATUSES)}")
    lo, hi = time_range(since, until)
    params: list[Any] = [list(statuses)]
    window = time_clause("g.first_gone", lo, hi, params)
    sql = f"""
    WITH latest AS (
        SELECT post_id, arg_max(status, checked_at) AS status, arg_max(detail, checked_at) AS detail,
               max(checked_at) FILTER (WHERE status = 'available') AS last_available_change
        FROM post_status GROUP BY post_id
    ), g AS (
        SELECT l.post_id, l.status, l.detail,
               (SELECT min(s.checked_at) FROM post_status s WHERE s.post_id = l.post_id AND s.status <> 'available'
                  AND (l.last_available_change IS NULL OR s.checked_at > l.last_available_change)) AS first_gone
        FROM latest l WHERE l.status IN (SELECT unnest(?))
    )
    SELECT g.post_id, g.status, g.first_gone AS first_seen_gone,
           CASE WHEN c.available_at IS NULL THEN p.last_seen_at ELSE greatest(c.available_at, p.last_seen_at) END AS last_seen_available,
           {author_sql("p", "a")} AS author, p.description AS caption, {published_sql("p")} AS published,
           {", ".join(f"p.{c}" for c in COUNTS)},
           {hashtags_of("g.post_id")} AS hashtags,
           (SELECT min(m.path) FROM media m WHERE m.post_id = g.post_id AND m.kind = 'cover') AS cover,
           {_transcript_sql(con)} AS transcript,
           g.detail, {post_url_sql("p", "g.post_id")} AS link
    FROM g LEFT JOIN posts p ON p.post_id = g.post_id LEFT JOIN authors a ON a.author_id = p.author_id
    LEFT JOIN post_checks c ON c.post_id = g.post_id
    WHERE TRUE {window}
    ORDER BY g.first_gone DESC, g.post_id
    {"LIMIT " + str(int(limit)) if limit else ""}
    """
    df = con.execute(sql, params).df()
    return whole_numbers(df, COUNTS)


def status_counts(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """How many posts are in each status at their latest check."""
    return dict(con.execute("SELECT status, count(*) FROM post_checks GROUP BY status ORDER BY status").fetchall())


def last_recheck(con: duckdb.DuckDBPyConnection):
    return con.execute("SELECT max(checked_at) FROM post_checks").fetchone()[0]
