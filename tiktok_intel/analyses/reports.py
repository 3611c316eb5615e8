"""Reports editors ask for: top posts and authors, top posts in feed, overview by period.

Date ranges are half-open ``[start, end)`` over the post's publication time (``created_at``;
the first collection time where TikTok gave none); a bare end date includes that day.
"""

from __future__ import annotations

from typing import Any

import duckdb
import pandas as pd

from ..conventions import author_link_sql, author_sql, post_url_sql, published_sql, tracked_item, tracked_label, tracked_posts_sql
from ..localtime import local_sql, to_local
from . import AnalysisError, choose, hashtags_of, time_clause, time_range, whole_numbers

POST_METRICS = ("views", "likes", "comments", "shares", "saves")
AUTHOR_METRICS = ("followers", "hearts", "videos", "likes_given")
PERIODS = ("day", "week", "month", "year")

_PUBLISHED = published_sql()


def _filters(hashtag: str | None, start: Any, end: Any, params: list[Any], *, time_expr: str = _PUBLISHED, post: str = "p.post_id") -> str:
    lo, hi = time_range(start, end)
    where = ""
    posts_of = tracked_posts_sql(hashtag)  # a hashtag, an @account or a "keyword"
    if posts_of is not None:
        where += f" AND {post} IN ({posts_of[0]})"
        params.extend(posts_of[1])
    return where + time_clause(time_expr, lo, hi, params)


def _limit(limit: int) -> int:
    if int(limit) < 1:
        raise AnalysisError(f"limit {limit} must be 1 or more: use e.g. --limit 20")
    return int(limit)


def top_posts(
    con: duckdb.DuckDBPyConnection,
    metric: str = "views",
    *,
    start: Any = None,
    end: Any = None,
    hashtag: str | None = None,
    limit: int = 20,
) -> pd.DataFrame:
    """Posts with the highest ``metric`` (latest counts) published in the range, optionally under ``hashtag``.

    Columns: ``rank, post_id, author, description, published_at, <metric>, views, likes, comments,
    shares, hashtags, url``.
    """
    metric = choose(metric, POST_METRICS, "metric for posts", "--metric")
    params: list[Any] = []
    where = _filters(hashtag, start, end, params)
    params.append(_limit(limit))
    sql = f"""
WITH ids AS (  -- the top N by a sort of two columns; the rest of each row read for those N only
  SELECT p.post_id FROM posts p WHERE p.{metric} IS NOT NULL{where}
  ORDER BY p.{metric} DESC NULLS LAST, p.post_id LIMIT ?
),
top AS (
  SELECT row_number() OVER (ORDER BY p.{metric} DESC NULLS LAST, p.post_id) AS rank, p.post_id,
         {author_sql()} AS author, p.description, {_PUBLISHED} AS published_at,
         p.{metric} AS value, p.views, p.likes, p.comments, p.shares, {post_url_sql()} AS url
  FROM ids JOIN posts p ON p.post_id = ids.post_id LEFT JOIN authors a ON a.author_id = p.author_id
)
SELECT rank, post_id, author, description, published_at, value, views, likes, comments, shares, {hashtags_of("top.post_id")} AS hashtags, url
FROM top ORDER BY rank"""
    df = con.execute(sql, params).df().rename(columns={"value": metric})
    if metric in ("views", "likes", "comments", "shares"):
        df = df.loc[:, ~df.columns.duplicated()]
    return whole_numbers(df, ("rank", metric, "views", "likes", "comments", "shares"))


def top_authors(
    con: duckdb.DuckDBPyConnection,
    metric: str = "followers",
    *,
    start: Any = None,
    end: Any = None,
    hashtag: str | None = None,
    limit: int = 20,
) -> pd.DataFrame:
    """Authors ranked by ``metric``, among those with posts published in the range (under ``hashtag``).

    ``metric`` is an author count (followers, hearts, videos, likes_given: the author's latest) or
    a post count (views, likes, comments, shares, saves: summed over those posts). Columns:
    ``rank, author_id, unique_id, nickname, posts, <metric>, followers, url``.
    """
    metric = choose(metric, AUTHOR_METRICS + POST_METRICS, "metric for authors", "--metric")
    params: list[Any] = []
    where = _filters(hashtag, start, end, params)
    value = f"any_value(a.{metric})" if metric in AUTHOR_METRICS else f"sum(p.{metric})"
    params.append(_limit(limit))
    sql = f"""
WITH ranked AS (
  SELECT p.author_id, count(*) AS posts, {value} AS value, any_value(a.unique_id) AS unique_id,
         any_value({author_sql()}) AS name, any_value(a.nickname) AS nickname,
         any_value(a.followers) AS followers
  FROM posts p LEFT JOIN authors a ON a.author_id = p.author_id
  WHERE p.author_id IS NOT NULL{where}
  GROUP BY p.author_id
)
SELECT row_number() OVER (ORDER BY value DESC NULLS LAST, author_id) AS rank, author_id, name AS unique_id, nickname, posts,
       value, followers, {author_link_sql("name")} AS url
FROM ranked WHERE value IS NOT NULL ORDER BY rank LIMIT ?"""
    df = con.execute(sql, params).df()
    if metric == "followers":
        df = df.drop(columns=["followers"])
    df = df.rename(columns={"value": metric})
    return whole_numbers(df, ("rank", "posts", metric, "followers"))


def top_feed_posts(
    con: duckdb.DuckDBPyConnection, hashtag: str | None = None, *, start: Any = None, end: Any = None, limit: int = 20
) -> pd.DataFrame:
    """ "Top posts in feed": how many collections listed each post, in the range of collection times.

    A collection is one run (``run_id``; the collection time where there is none). Columns:
    ``rank, post_id, hashtag, collections, best_rank, mean_rank, first_listed, last_listed,
    author, views, url``; one row per post and feed hashtag. ``hashtag`` an ``@account`` or a
    ``"keyword"``: the listings of that account's profile or that keyword's searches instead
    (``hashtag`` then says which, as ``@svtnyheter`` or ``"vattenbrist"``).
    """
    params: list[Any] = []
    item = tracked_item(hashtag)
    if item is not None and item[0] != "hashtag":
        params += [tracked_label(*item), *item]
        feed = "(SELECT post_id, ? AS hashtag, rank, collected_at, run_id FROM listings WHERE kind = ? AND tracked = ?)"
        where = _filters(None, start, end, params, time_expr="f.collected_at", post="f.post_id")
    else:
        feed = "feed_appearances"
        where = _filters(hashtag, start, end, params, time_expr="f.collected_at", post="f.post_id")
    params.append(_limit(limit))
    sql = f"""
WITH listed AS (
  SELECT f.post_id, f.hashtag, count(DISTINCT coalesce(f.run_id, CAST(f.collected_at AS VARCHAR))) AS collections,
         min(f.rank) AS best_rank, avg(f.rank) AS mean_rank, min(f.collected_at) AS first_listed,
         max(f.collected_at) AS last_listed
  FROM {feed} f WHERE TRUE{where}
  GROUP BY f.post_id, f.hashtag
)
SELECT row_number() OVER (ORDER BY l.collections DESC, l.best_rank NULLS LAST, l.post_id, l.hashtag) AS rank,
       l.post_id, l.hashtag, l.collections, l.best_rank, l.mean_rank, l.first_listed, l.last_listed,
       {author_sql()} AS author, p.views, {post_url_sql(post_id="l.post_id")} AS url
FROM listed l LEFT JOIN posts p ON p.post_id = l.post_id LEFT JOIN authors a ON a.author_id = p.author_id
ORDER BY rank LIMIT ?"""
    return whole_numbers(con.execute(sql, params).df(), ("rank", "collections", "best_rank", "views"))


def overview(con: duckdb.DuckDBPyConnection, period: str = "day", *, start: Any = None, end: Any = None) -> pd.DataFrame:
    """Posts, authors and hashtags first collected in each period, the running totals, and their growth.

    Columns: ``period, posts, authors, hashtags`` (new in the period), ``posts_total,
    authors_total, hashtags_total`` (everything collected up to the period's end), and
    ``posts_growth, authors_growth, hashtags_growth``: the new ones as a percentage of the total
    before the period (empty for the first period, or when that total is 0). Periods without
    anything new are listed too. ``start`` / ``end`` limit the periods shown, not the totals.
    Periods are local (setting ``timezone``: a post first collected at 23:30 UTC on 9 November
    counts on 10 November in Stockholm), whole days across a change of the clocks.
    """
    period = choose(period, PERIODS, "period", "--period")
    lo, hi = time_range(start, end)
    lo, hi = to_local(lo), to_local(hi)  # the periods are local wall times
    step = {"day": "1 DAY", "week": "7 DAY", "month": "1 MONTH", "year": "1 YEAR"}[period]
    local = local_sql("first_seen_at")
    sql = f"""
WITH firsts AS (
  SELECT 'posts' AS what, date_trunc('{period}', {local}) AS period FROM posts WHERE first_seen_at IS NOT NULL
  UNION ALL SELECT 'authors', date_trunc('{period}', {local}) FROM authors WHERE first_seen_at IS NOT NULL
  UNION ALL SELECT 'hashtags', date_trunc('{period}', {local}) FROM hashtags WHERE first_seen_at IS NOT NULL
),
bounds AS (SELECT min(period) AS lo, max(period) AS hi FROM firsts),
periods AS (SELECT unnest(generate_series(lo, hi, INTERVAL {step})) AS period FROM bounds WHERE lo IS NOT NULL),
counts AS (
  SELECT pr.period,
         count(f.what) FILTER (WHERE f.what = 'posts') AS posts,
         count(f.what) FILTER (WHERE f.what = 'authors') AS authors,
         count(f.what) FILTER (WHERE f.what = 'hashtags') AS hashtags
  FROM periods pr LEFT JOIN firsts f ON f.period = pr.period GROUP BY pr.period
),
totals AS (
  SELECT *, sum(posts) OVER w AS posts_total, sum(authors) OVER w AS authors_total, sum(hashtags) OVER w AS hashtags_total
  FROM counts WINDOW w AS (ORDER BY period ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
)
SELECT period, posts, authors, hashtags, posts_total, authors_total, hashtags_total,
       CASE WHEN posts_total - posts > 0 THEN posts * 100.0 / (posts_total - posts) END AS posts_growth,
       CASE WHEN authors_total - authors > 0 THEN authors * 100.0 / (authors_total - authors) END AS authors_growth,
       CASE WHEN hashtags_total - hashtags > 0 THEN hashtags * 100.0 / (hashtags_total - hashtags) END AS hashtags_growth
FROM totals WHERE (? IS NULL OR period >= date_trunc('{period}', ?::TIMESTAMP)) AND (? IS NULL OR period < ?)
ORDER BY period"""
    df = con.execute(sql, [lo, lo, hi, hi]).df()
    df["period"] = pd.to_datetime(df["period"]).dt.date if len(df) else df["period"]
    return whole_numbers(df, ("posts", "authors", "hashtags", "posts_total", "authors_total", "hashtags_total"))
