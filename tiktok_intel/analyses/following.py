"""What the followed accounts and the audience do: watched accounts over time (``report accounts``),
a post's comments and replies (``comments POST_ID``, the post card), the most discussed posts
(``report discussed``), and comment search (``search --in comments``).

A tracked account is matched to its author by unique id (``author_names`` keeps every name an
author has had, lower case). Its trend is its ``author_stats`` snapshots: the latest value and the
change over 1, 7 and 30 days (the value then: the last snapshot at or before latest - N days).
"""

from __future__ import annotations

from typing import Any

import duckdb
import pandas as pd

from ..conventions import account as normalise_account
from ..conventions import author_sql, post_url_sql, published_sql
from . import AnalysisError, choose, time_clause, time_range, whole_numbers

ACCOUNT_METRICS = ("followers", "hearts", "videos", "following", "likes_given")
CHANGE_DAYS = (1, 7, 30)

#: The author ids of the tracked accounts (active ones unless every one is asked for), with the name tracked.
_TRACKED_AUTHORS = """
SELECT DISTINCT t.name AS account, coalesce(n.author_id, a.author_id) AS author_id
  FROM tracked_items t
  LEFT JOIN author_names n ON n.unique_id = t.name
  LEFT JOIN authors a ON lower(a.unique_id) = t.name OR a.author_id = '@' || t.name
 WHERE t.kind = 'account' {active}
"""


def account_report(con: duckdb.DuckDBPyConnection, metric: str = "followers", *, include_inactive: bool = False) -> pd.DataFrame:
    """One row per tracked account: ``account, nickname, <metric>, change_1d, change_7d, change_30d,
    measured_at, snapshots, posts``; accounts not measured yet have empty values."""
    metric = choose(metric, ACCOUNT_METRICS, "metric for accounts", "--metric")
    changes = ",\n".join(
        f"  l.value - arg_max(s.{metric}, s.collected_at) FILTER (WHERE s.collected_at <= l.at - INTERVAL {d} DAY) AS change_{d}d"
        for d in CHANGE_DAYS
    )
    sql = f"""
WITH tracked AS ({_TRACKED_AUTHORS.format(active="" if include_inactive else "AND t.active")}),
latest AS (
  SELECT t.account, arg_max(s.{metric}, s.collected_at) AS value, max(s.collected_at) AS at, count(*) AS snapshots
    FROM tracked t JOIN author_stats s ON s.author_id = t.author_id WHERE s.{metric} IS NOT NULL GROUP BY t.account),
deltas AS (
  SELECT l.account,
{changes}
    FROM latest l JOIN tracked t ON t.account = l.account JOIN author_stats s ON s.author_id = t.author_id
   GROUP BY l.account, l.value, l.at)
SELECT t.account, any_value(a.nickname) AS nickname, any_value(l.value) AS {metric},
       {", ".join(f"any_value(d.change_{d}d) AS change_{d}d" for d in CHANGE_DAYS)},
       any_value(l.at) AS measured_at, coalesce(any_value(l.snapshots), 0) AS snapshots,
       (SELECT count(*) FROM posts p WHERE p.author_id IN (SELECT author_id FROM tracked x WHERE x.account = t.account)) AS posts
  FROM tracked t LEFT JOIN latest l ON l.account = t.account LEFT JOIN deltas d ON d.account = t.account
  LEFT JOIN authors a ON a.author_id = t.author_id
 GROUP BY t.account ORDER BY any_value(l.value) DESC NULLS LAST, t.account"""
    df = con.execute(sql).df()
    return whole_numbers(df, (metric, *(f"change_{d}d" for d in CHANGE_DAYS), "snapshots", "posts"))


def _author_ids(con: duckdb.DuckDBPyConnection, account: str) -> list[str]:
    name = normalise_account(account)
    if not name:
        raise AnalysisError(f"{account!r} is not an account: give a username such as @svtnyheter")
    rows = con.execute(
        "SELECT author_id FROM author_names WHERE unique_id = ? UNION SELECT author_id FROM authors WHERE lower(unique_id) = ? "
        "OR author_id = '@' || ?",
        [name, name, name],
    ).fetchall()
    return [r[0] for r in rows]


def account_series(con: duckdb.DuckDBPyConnection, account: str) -> pd.DataFrame:
    """The account's snapshots over time: ``collected_at, followers, hearts, videos, following``."""
    ids = _author_ids(con, account)
    df = con.execute(
        "SELECT collected_at, max(followers) AS followers, max(hearts) AS hearts, max(videos) AS videos, max(following) AS following "
        "FROM author_stats WHERE author_id IN (SELECT unnest(?::VARCHAR[])) GROUP BY collected_at ORDER BY collected_at",
        [ids],
    ).df()
    return whole_numbers(df, ("followers", "hearts", "videos", "following"))


def account_posts(con: duckdb.DuckDBPyConnection, account: str, *, limit: int = 10) -> pd.DataFrame:
    """The account's latest posts: ``post_id, published_at, description, views, likes, comments, url``."""
    ids = _author_ids(con, account)
    df = con.execute(
        f"SELECT p.post_id, {published_sql()} AS published_at, p.description, p.views, p.likes, p.comments, {post_url_sql()} AS url "
        "FROM posts p LEFT JOIN authors a ON a.author_id = p.author_id WHERE p.author_id IN (SELECT unnest(?::VARCHAR[])) "
        f"ORDER BY {published_sql()} DESC NULLS LAST, p.post_id DESC LIMIT ?",
        [ids, max(1, int(limit))],
    ).df()
    return whole_numbers(df, ("views", "likes", "comments"))


COMMENT_COLUMNS = (
    "comment_id, parent_id, author_unique_id AS author, author_nickname AS nickname, text, language, created_at, likes, replies"
)


def post_comments(con: duckdb.DuckDBPyConnection, post_id: str, *, limit: int | None = None) -> pd.DataFrame:
    """A post's comments, most liked first, each followed by its replies (oldest first):
    ``comment_id, parent_id, author, nickname, text, language, created_at, likes, replies``.
    ``limit``: top-level comments (with their replies)."""
    top_limit = "" if limit is None else f"LIMIT {max(1, int(limit))}"
    sql = f"""
WITH top AS (
  SELECT comment_id, row_number() OVER (ORDER BY likes DESC NULLS LAST, created_at DESC, comment_id) AS n
    FROM comments WHERE post_id = ? AND parent_id IS NULL ORDER BY n {top_limit}),
shown AS (
  SELECT c.*, t.n AS n, 0 AS depth FROM comments c JOIN top t USING (comment_id)
  UNION ALL
  SELECT c.*, t.n AS n, 1 AS depth FROM comments c JOIN top t ON c.parent_id = t.comment_id WHERE c.post_id = ?)
SELECT {COMMENT_COLUMNS} FROM shown ORDER BY n, depth, created_at, comment_id"""
    df = con.execute(sql, [str(post_id), str(post_id)]).df()
    return whole_numbers(df, ("likes", "replies"))


def most_discussed(
    con: duckdb.DuckDBPyConnection, *, since: Any = None, until: Any = None, limit: int = 20, tracked: str | None = None
) -> pd.DataFrame:
    """Posts published in the range with the most comments collected: ``rank, post_id, author,
    description, published_at, comments, replies, comment_likes, commenters, comments_on_tiktok, url``."""
    lo, hi = time_range(since, until)
    params: list[Any] = []
    where = time_clause(published_sql(), lo, hi, params)
    params.append(max(1, int(limit)))
    sql = f"""
WITH talk AS (
  SELECT post_id, count(*) FILTER (WHERE parent_id IS NULL) AS comments, count(*) FILTER (WHERE parent_id IS NOT NULL) AS replies,
         sum(likes) AS comment_likes, count(DISTINCT coalesce(author_id, author_unique_id)) AS commenters
    FROM comments GROUP BY post_id)
SELECT row_number() OVER (ORDER BY t.comments + t.replies DESC, t.comment_likes DESC NULLS LAST, p.post_id) AS rank,
       p.post_id, {author_sql()} AS author, p.description, {published_sql()} AS published_at,
       t.comments, t.replies, t.comment_likes, t.commenters, p.comments AS comments_on_tiktok, {post_url_sql()} AS url
  FROM talk t JOIN posts p ON p.post_id = t.post_id LEFT JOIN authors a ON a.author_id = p.author_id
 WHERE TRUE{where}
 ORDER BY rank LIMIT ?"""
    df = con.execute(sql, params).df()
    return whole_numbers(df, ("rank", "comments", "replies", "comment_likes", "commenters", "comments_on_tiktok"))
