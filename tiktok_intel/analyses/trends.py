"""Trends over true 1 / 7 / 30-day windows, refreshed incrementally.

For an entity (post, author, hashtag) at its latest snapshot t and a window w:

- ``<metric>_change_<w> = value(t) - value(s)``, where s is the latest snapshot at or before
  ``t - w`` (so a snapshot exactly 24 h old counts for ``1d``);
- ``<metric>_growth_<w> = change / value(s) * 100``;
- both are NULL (never 0) when the entity has no snapshot that old, and the growth is NULL when
  ``value(s)`` is 0.

The computation is one aggregate per table: each snapshot is joined to its entity's latest time,
and ``arg_max(values, collected_at) FILTER (WHERE collected_at <= t - w)`` picks the snapshot s
(see docs/architecture.md: 1.0 s over 9.96M snapshots, where ``ASOF JOIN`` took 3.2 s and 2.1 GB).

A refresh is incremental by default: an entity is recomputed only when its snapshot count or its
latest snapshot time differs from the stored row (that is, it has snapshots the last refresh did
not see, including back-filled older ones), and rows of entities whose snapshots are gone are
removed. The result equals a full recompute; ``full=True`` does one.

Hashtag trends combine the hashtag's own monitoring snapshots (``hashtag_stats``: video and view
counts) with the posts collected under it (``feed_appearances`` or ``post_hashtags``): the sum of
their current views and of their windowed changes (from ``post_trends``, which a hashtag refresh
brings up to date first), and the number of them published in each window.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import time
from typing import Any

import duckdb
import pandas as pd

from .. import clock
from ..conventions import author_link_sql, author_sql, hashtag_link_sql, post_url_sql, published_sql, tracked_posts_sql
from ..progress import progress
from ..store import transaction
from . import AnalysisError, choose, hashtags_of, time_clause, time_range, whole_numbers

#: Window name -> days.
WINDOWS: dict[str, int] = {"1d": 1, "7d": 7, "30d": 30}

KINDS = ("posts", "authors", "hashtags")


@dataclasses.dataclass(frozen=True)
class _Spec:
    kind: str
    table: str  # trends table
    key: str  # entity key column
    source: str  # snapshot table
    source_key: str
    metrics: tuple[str, ...]


POSTS = _Spec("posts", "post_trends", "post_id", "post_stats", "post_id", ("views", "likes", "comments", "shares"))
AUTHORS = _Spec("authors", "author_trends", "author_id", "author_stats", "author_id", ("followers", "hearts", "videos", "likes_given"))
HASHTAG_STATS = _Spec("hashtags", "hashtag_trends", "hashtag", "hashtag_stats", "hashtag", ("video_count", "view_count"))
HASHTAG_METRICS = ("video_count", "view_count", "post_views")

METRICS: dict[str, tuple[str, ...]] = {"posts": POSTS.metrics, "authors": AUTHORS.metrics, "hashtags": HASHTAG_METRICS}


def trend_columns(metric: str) -> list[str]:
    """``views`` -> ``views, views_change_1d, _7d, _30d, views_growth_1d, _7d, _30d``."""
    return [metric] + [f"{metric}_change_{w}" for w in WINDOWS] + [f"{metric}_growth_{w}" for w in WINDOWS]


@dataclasses.dataclass
class RefreshResult:
    kind: str
    mode: str  # full | incremental
    recomputed: int  # entities recomputed
    removed: int  # entities whose snapshots are gone
    total: int  # rows in the trends table afterwards
    seconds: float
    refreshed_at: dt.datetime

    def summary(self) -> str:
        return (
            f"{self.kind} trends: {self.mode} refresh recomputed {self.recomputed:,} of {self.total:,}"
            + (f", removed {self.removed:,}" if self.removed else "")
            + f" in {self.seconds:.2f} s"
        )


# --------------------------------------------------------------------------------------------
# computation


def _window_select(metrics: tuple[str, ...], cur: str = "cur") -> str:
    """Select list turning the structs ``cur``, ``w1d``, ``w7d``, ``w30d`` into the trend columns."""
    parts = []
    for m in metrics:
        parts.append(f"{cur}.{m} AS {m}")
        for w in WINDOWS:
            parts.append(f"{cur}.{m} - w{w}.{m} AS {m}_change_{w}")
        for w in WINDOWS:
            parts.append(f"CASE WHEN w{w}.{m} <> 0 THEN ({cur}.{m} - w{w}.{m}) * 100.0 / w{w}.{m} END AS {m}_growth_{w}")
    return ",\n  ".join(parts)


def _snapshot_trends_sql(spec: _Spec, only_changed: bool) -> str:
    """Trend rows (key, collected_at, first_collected_at, snapshots, metric columns) for ``spec``."""
    struct = "{" + ", ".join(f"'{m}': {m}" for m in spec.metrics) + "}"
    where = "WHERE k IN (SELECT k FROM _trend_changed)" if only_changed else ""
    windows = ",\n    ".join(
        f"arg_max(s.v, s.collected_at) FILTER (WHERE s.collected_at <= l.t - INTERVAL {days} DAY) AS w{w}" for w, days in WINDOWS.items()
    )
    return f"""
WITH src AS NOT MATERIALIZED (SELECT * FROM (SELECT {spec.source_key} AS k, collected_at, {struct} AS v FROM {spec.source}) {where}),
lat AS (SELECT k, max(collected_at) AS t, min(collected_at) AS t0, count(*) AS n FROM src GROUP BY k),
agg AS (
  SELECT s.k, any_value(l.t) AS t, any_value(l.t0) AS t0, any_value(l.n) AS n,
    arg_max(s.v, s.collected_at) AS cur,
    {windows}
  FROM src s JOIN lat l ON l.k = s.k
  GROUP BY s.k
)
SELECT k AS {spec.key}, t AS collected_at, t0 AS first_collected_at, n AS snapshots,
  {_window_select(spec.metrics)}
FROM agg"""


def _count(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> int:
    return int(con.execute(sql, params or []).fetchone()[0] or 0)


def _log(con: duckdb.DuckDBPyConnection, result: RefreshResult) -> None:
    con.execute(
        "INSERT INTO trend_refreshes VALUES (?, ?, ?, ?, ?, ?, ?)",
        [result.kind, result.refreshed_at, result.mode, result.recomputed, result.removed, result.total, result.seconds],
    )


def _refresh_snapshot_kind(con: duckdb.DuckDBPyConnection, spec: _Spec, full: bool) -> RefreshResult:
    started = time.perf_counter()
    now = clock.now()
    with transaction(con):
        if full:
            removed = 0
            con.execute(f"DELETE FROM {spec.table}")
        else:
            con.execute(f"""
CREATE OR REPLACE TEMP TABLE _trend_sig AS
SELECT {spec.source_key} AS k, count(*) AS n, max(collected_at) AS t FROM {spec.source} GROUP BY 1""")
            con.execute(f"""
CREATE OR REPLACE TEMP TABLE _trend_changed AS
SELECT s.k FROM _trend_sig s LEFT JOIN {spec.table} tr ON tr.{spec.key} = s.k
WHERE tr.{spec.key} IS NULL OR tr.snapshots <> s.n OR tr.collected_at <> s.t""")
            removed = _count(con, f"SELECT count(*) FROM {spec.table} WHERE {spec.key} NOT IN (SELECT k FROM _trend_sig)")
            con.execute(f"""DELETE FROM {spec.table} WHERE {spec.key} NOT IN (SELECT k FROM _trend_sig)
                            OR {spec.key} IN (SELECT k FROM _trend_changed)""")
        con.execute(
            f"INSERT INTO {spec.table} BY NAME SELECT *, ?::TIMESTAMP AS refreshed_at FROM ({_snapshot_trends_sql(spec, not full)})", [now]
        )
        total = _count(con, f"SELECT count(*) FROM {spec.table}")
        recomputed = total if full else _count(con, "SELECT count(*) FROM _trend_changed")
        result = RefreshResult(spec.kind, "full" if full else "incremental", recomputed, removed, total, 0.0, now)
        result.seconds = time.perf_counter() - started
        _log(con, result)
    if not full:
        con.execute("DROP TABLE IF EXISTS _trend_sig")
        con.execute("DROP TABLE IF EXISTS _trend_changed")
    return result


_LINKS = "(SELECT hashtag, post_id FROM post_hashtags UNION SELECT hashtag, post_id FROM feed_appearances)"


def _hashtag_signature_sql() -> str:
    """Per hashtag: its monitoring snapshots, its posts and their snapshots (what a refresh compares)."""
    return f"""
WITH hs AS (SELECT hashtag AS k, count(*) AS stat_snapshots, max(collected_at) AS stats_collected_at FROM hashtag_stats GROUP BY 1),
hp AS (SELECT l.hashtag AS k, count(*) AS posts, coalesce(sum(pt.snapshots), 0) AS post_snapshots,
              max(pt.collected_at) AS posts_collected_at
       FROM {_LINKS} l LEFT JOIN post_trends pt ON pt.post_id = l.post_id GROUP BY 1)
SELECT coalesce(hs.k, hp.k) AS k, coalesce(hs.stat_snapshots, 0) AS stat_snapshots, hs.stats_collected_at,
       coalesce(hp.posts, 0) AS posts, coalesce(hp.post_snapshots, 0) AS post_snapshots, hp.posts_collected_at,
       greatest(hs.stats_collected_at, hp.posts_collected_at) AS t
FROM hs FULL OUTER JOIN hp ON hs.k = hp.k
WHERE greatest(hs.stats_collected_at, hp.posts_collected_at) IS NOT NULL"""


def _hashtag_rows_sql() -> str:
    """Hashtag trend rows for the hashtags in ``_trend_changed`` (signatures in ``_trend_sig``)."""
    stats = _snapshot_trends_sql(HASHTAG_STATS, only_changed=True)
    post_parts = ["sum(pt.views) AS post_views"]
    for w in WINDOWS:
        post_parts.append(f"sum(pt.views_change_{w}) AS post_views_change_{w}")
    for w in WINDOWS:
        post_parts.append(
            f"CASE WHEN sum(pt.views - pt.views_change_{w}) <> 0 THEN sum(pt.views_change_{w}) * 100.0 / sum(pt.views - pt.views_change_{w}) END AS post_views_growth_{w}"
        )
    for w, days in WINDOWS.items():
        post_parts.append(
            f"count(*) FILTER (WHERE {published_sql()} > sig.t - INTERVAL {days} DAY AND {published_sql()} <= sig.t) AS new_posts_{w}"
        )
    stat_cols = ", ".join(f"st.{c}" for m in HASHTAG_STATS.metrics for c in trend_columns(m))
    return f"""
WITH st AS ({stats}),
sig AS (SELECT * FROM _trend_sig WHERE k IN (SELECT k FROM _trend_changed)),
pp AS (
  SELECT sig.k, {", ".join(post_parts)}
  FROM sig JOIN {_LINKS} l ON l.hashtag = sig.k
  LEFT JOIN post_trends pt ON pt.post_id = l.post_id
  LEFT JOIN posts p ON p.post_id = l.post_id
  GROUP BY sig.k
)
SELECT sig.k AS hashtag, sig.t AS collected_at, sig.stat_snapshots, sig.stats_collected_at, sig.posts, sig.post_snapshots,
       sig.posts_collected_at, {stat_cols}, pp.* EXCLUDE (k)
FROM sig LEFT JOIN st ON st.hashtag = sig.k LEFT JOIN pp ON pp.k = sig.k"""


def _refresh_hashtags(con: duckdb.DuckDBPyConnection, full: bool) -> RefreshResult:
    started = time.perf_counter()
    now = clock.now()
    with transaction(con):
        con.execute(f"CREATE OR REPLACE TEMP TABLE _trend_sig AS {_hashtag_signature_sql()}")
        if full:
            con.execute("CREATE OR REPLACE TEMP TABLE _trend_changed AS SELECT k FROM _trend_sig")
            removed = 0
            con.execute("DELETE FROM hashtag_trends")
        else:
            con.execute("""
CREATE OR REPLACE TEMP TABLE _trend_changed AS
SELECT s.k FROM _trend_sig s LEFT JOIN hashtag_trends tr ON tr.hashtag = s.k
WHERE tr.hashtag IS NULL OR tr.stat_snapshots <> s.stat_snapshots OR tr.stats_collected_at IS DISTINCT FROM s.stats_collected_at
   OR tr.posts <> s.posts OR tr.post_snapshots <> s.post_snapshots OR tr.posts_collected_at IS DISTINCT FROM s.posts_collected_at""")
            removed = _count(con, "SELECT count(*) FROM hashtag_trends WHERE hashtag NOT IN (SELECT k FROM _trend_sig)")
            con.execute("""DELETE FROM hashtag_trends WHERE hashtag NOT IN (SELECT k FROM _trend_sig)
                           OR hashtag IN (SELECT k FROM _trend_changed)""")
        con.execute(f"INSERT INTO hashtag_trends BY NAME SELECT *, ?::TIMESTAMP AS refreshed_at FROM ({_hashtag_rows_sql()})", [now])
        recomputed = _count(con, "SELECT count(*) FROM _trend_changed")
        total = _count(con, "SELECT count(*) FROM hashtag_trends")
        result = RefreshResult("hashtags", "full" if full else "incremental", recomputed, removed, total, 0.0, now)
        result.seconds = time.perf_counter() - started
        _log(con, result)
    con.execute("DROP TABLE IF EXISTS _trend_sig")
    con.execute("DROP TABLE IF EXISTS _trend_changed")
    return result


def refresh_post_trends(con: duckdb.DuckDBPyConnection, *, full: bool = False) -> RefreshResult:
    """Bring ``post_trends`` up to date (only posts with new snapshots, unless ``full``)."""
    return _refresh_snapshot_kind(con, POSTS, full)


def refresh_author_trends(con: duckdb.DuckDBPyConnection, *, full: bool = False) -> RefreshResult:
    """Bring ``author_trends`` up to date (only authors with new snapshots, unless ``full``)."""
    return _refresh_snapshot_kind(con, AUTHORS, full)


def refresh_hashtag_trends(con: duckdb.DuckDBPyConnection, *, full: bool = False, refresh_posts: bool = True) -> RefreshResult:
    """Bring ``hashtag_trends`` up to date; post trends are refreshed first (incrementally) unless told not to."""
    if refresh_posts:
        refresh_post_trends(con)
    return _refresh_hashtags(con, full)


def refresh_trends(
    con: duckdb.DuckDBPyConnection, kinds: tuple[str, ...] | list[str] | str = KINDS, *, full: bool = False
) -> list[RefreshResult]:
    """Refresh the trends of ``kinds`` (posts, authors, hashtags), with a progress bar and a summary each."""
    if isinstance(kinds, str):
        kinds = (kinds,)
    for kind in kinds:
        choose(kind, KINDS, "kind", "--kind")
    results = []
    order = [k for k in KINDS if k in kinds]
    with progress(total=len(order), desc="trends", unit="table", disable=len(order) < 2) as bar:
        for kind in order:
            bar.set_postfix_str(kind, refresh=False)
            if kind == "posts":
                results.append(refresh_post_trends(con, full=full))
            elif kind == "authors":
                results.append(refresh_author_trends(con, full=full))
            else:
                results.append(refresh_hashtag_trends(con, full=full, refresh_posts="posts" not in order))
            bar.update(1)
    return results


def last_refresh(con: duckdb.DuckDBPyConnection, kind: str = "posts") -> dt.datetime | None:
    """When the ``kind`` trends were last refreshed (None: never)."""
    choose(kind, KINDS, "kind", "--kind")
    return con.execute("SELECT max(refreshed_at) FROM trend_refreshes WHERE kind = ?", [kind]).fetchone()[0]


# --------------------------------------------------------------------------------------------
# queries


_COUNTS = {
    "views",
    "likes",
    "comments",
    "shares",
    "saves",
    "followers",
    "hearts",
    "videos",
    "likes_given",
    "video_count",
    "view_count",
    "post_views",
    "snapshots",
    "posts",
    "change",
    "value",
}


def _ints(df: pd.DataFrame) -> pd.DataFrame:
    """Count columns as nullable integers (so a missing change stays empty, not ``120.0``)."""
    return whole_numbers(df, [c for c in map(str, df.columns) if c in _COUNTS or "_change_" in c or c.startswith("new_posts_")])


def _fetch(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any]) -> pd.DataFrame:
    return _ints(con.execute(sql, params).df())


def _hashtag_filter(alias: str, hashtag: Any, params: list[Any]) -> str:
    """The posts of a tracked item: a hashtag, an ``@account`` or a ``"keyword"`` (:func:`~tiktok_intel.conventions.tracked_posts_sql`)."""
    posts_of = tracked_posts_sql(hashtag)
    if posts_of is None:
        return ""
    params.extend(posts_of[1])
    return f" AND {alias}.post_id IN ({posts_of[0]})"


def _order(metric: str, window: str | None, by: str) -> str:
    if window is None:
        return f"{metric} DESC NULLS LAST"
    return f"{metric}_{by}_{window} DESC NULLS LAST, {metric} DESC NULLS LAST"


def trend_table(
    con: duckdb.DuckDBPyConnection,
    kind: str = "posts",
    *,
    metric: str | None = None,
    window: str | None = None,
    by: str = "change",
    hashtag: str | None = None,
    limit: int | None = None,
) -> pd.DataFrame:
    """Every stored trend row of ``kind``, with all trend columns and the entity's link.

    Posts: ``post_id, views, views_change_1d, views_change_7d, views_change_30d, views_growth_1d,
    views_growth_7d, views_growth_30d`` (likewise likes, comments, shares) ``, url``. Authors and
    hashtags the same way with their metrics. Sorted by ``metric`` (the first metric by default),
    or by its change (or growth, ``by``) over ``window`` when given; ``hashtag`` keeps the posts
    collected under it or tagged with it, or of an ``@account`` or a ``"keyword"`` (posts only;
    :func:`~tiktok_intel.conventions.tracked_item`).
    """
    choose(kind, KINDS, "kind", "--kind")
    metrics = METRICS[kind]
    metric = choose(metric or metrics[0], metrics, f"metric for {kind}", "--metric")
    if window is not None:
        choose(window, tuple(WINDOWS), "window", "--window")
    choose(by, ("change", "growth"), "ranking", "--by")
    columns = [c for m in metrics for c in trend_columns(m)]
    params: list[Any] = []
    if kind == "posts":
        sql = (
            f"SELECT t.post_id, {', '.join('t.' + c for c in columns)}, {post_url_sql(post_id='t.post_id')} AS url "
            f"FROM post_trends t LEFT JOIN posts p ON p.post_id = t.post_id WHERE TRUE{_hashtag_filter('t', hashtag, params)}"
        )
    elif hashtag:
        raise AnalysisError("--hashtag filters posts only: use --kind posts, or --kind hashtags to see every hashtag")
    elif kind == "authors":
        sql = (
            f"SELECT t.author_id, a.unique_id, {', '.join('t.' + c for c in columns)}, "
            f"{author_link_sql('a.unique_id')} AS url "
            f"FROM author_trends t LEFT JOIN authors a ON a.author_id = t.author_id"
        )
    else:
        sql = (
            f"SELECT t.hashtag, {', '.join('t.' + c for c in columns)}, t.new_posts_1d, t.new_posts_7d, t.new_posts_30d, "
            f"{hashtag_link_sql('t.hashtag')} AS url FROM hashtag_trends t"
        )
    sql += f" ORDER BY {_order(metric, window, by)}, 1"
    if limit:
        sql += " LIMIT ?"
        params.append(int(limit))
    return _fetch(con, sql, params)


def top_trending_posts(
    con: duckdb.DuckDBPyConnection,
    window: str = "1d",
    metric: str = "views",
    *,
    by: str = "change",
    hashtag: str | None = None,
    start: Any = None,
    end: Any = None,
    limit: int = 20,
) -> pd.DataFrame:
    """The posts whose ``metric`` grew most over ``window`` (``by`` change or growth %).

    ``hashtag``: only posts collected under it (feed_appearances) or tagged with it
    (post_hashtags); or a tracked ``@account``'s posts, or a ``"keyword"``'s (listings). ``start`` / ``end``: only posts published in that range (an end date is
    inclusive). Posts with no snapshot ``window`` old are left out. Columns: ``post_id, author,
    description, published_at, hashtags, <metric>, change, growth, collected_at, url``.
    """
    window = choose(window, tuple(WINDOWS), "window", "--window")
    metric = choose(metric, POSTS.metrics, "metric for posts", "--metric")
    by = choose(by, ("change", "growth"), "ranking", "--by")
    lo, hi = time_range(start, end)
    params: list[Any] = []
    where = f"t.{metric}_{by}_{window} IS NOT NULL" + _hashtag_filter("t", hashtag, params)
    dated = time_clause(published_sql(), lo, hi, params)
    params.append(int(limit))
    order = f"t.{metric}_{by}_{window} DESC, t.{metric} DESC NULLS LAST, t.post_id"
    # the top N from post_trends alone (posts joined only to filter by date), the rest of each row for those N
    posts_join = " LEFT JOIN posts p ON p.post_id = t.post_id" if dated else ""
    sql = f"""
WITH ids AS (SELECT t.post_id FROM post_trends t{posts_join} WHERE {where}{dated} ORDER BY {order} LIMIT ?),
top AS (
  SELECT t.post_id, {author_sql()} AS author, p.description,
         {published_sql()} AS published_at,
         t.{metric} AS {metric}, t.{metric}_change_{window} AS change, t.{metric}_growth_{window} AS growth,
         t.collected_at,
         {post_url_sql(post_id="t.post_id")} AS url
  FROM ids JOIN post_trends t ON t.post_id = ids.post_id
  LEFT JOIN posts p ON p.post_id = t.post_id LEFT JOIN authors a ON a.author_id = p.author_id
)
SELECT post_id, author, description, published_at, {hashtags_of("top.post_id")} AS hashtags, {metric}, change, growth, collected_at, url
FROM top ORDER BY {by} DESC, {metric} DESC NULLS LAST, post_id"""
    return _fetch(con, sql, params)


def top_trending_authors(
    con: duckdb.DuckDBPyConnection, window: str = "7d", metric: str = "followers", *, by: str = "change", limit: int = 20
) -> pd.DataFrame:
    """Authors whose ``metric`` grew most over ``window``: ``author_id, unique_id, nickname, <metric>, change, growth, url``."""
    window = choose(window, tuple(WINDOWS), "window", "--window")
    metric = choose(metric, AUTHORS.metrics, "metric for authors", "--metric")
    by = choose(by, ("change", "growth"), "ranking", "--by")
    sql = f"""
SELECT t.author_id, a.unique_id, a.nickname, t.{metric} AS {metric}, t.{metric}_change_{window} AS change,
       t.{metric}_growth_{window} AS growth, t.collected_at,
       {author_link_sql("a.unique_id")} AS url
FROM author_trends t LEFT JOIN authors a ON a.author_id = t.author_id
WHERE t.{metric}_{by}_{window} IS NOT NULL
ORDER BY t.{metric}_{by}_{window} DESC, t.{metric} DESC NULLS LAST, t.author_id LIMIT ?"""
    return _fetch(con, sql, [int(limit)])


def top_trending_hashtags(
    con: duckdb.DuckDBPyConnection,
    window: str = "1d",
    metric: str = "post_views",
    *,
    by: str = "change",
    tracked_only: bool = False,
    limit: int = 20,
) -> pd.DataFrame:
    """Hashtags whose ``metric`` (video_count, view_count, post_views) grew most over ``window``."""
    window = choose(window, tuple(WINDOWS), "window", "--window")
    metric = choose(metric, HASHTAG_METRICS, "metric for hashtags", "--metric")
    by = choose(by, ("change", "growth"), "ranking", "--by")
    tracked = " AND t.hashtag IN (SELECT name FROM tracked_hashtags WHERE active)" if tracked_only else ""
    sql = f"""
SELECT t.hashtag, t.{metric} AS {metric}, t.{metric}_change_{window} AS change, t.{metric}_growth_{window} AS growth,
       t.posts, t.new_posts_{window} AS new_posts, t.collected_at, {hashtag_link_sql("t.hashtag")} AS url
FROM hashtag_trends t
WHERE t.{metric}_{by}_{window} IS NOT NULL{tracked}
ORDER BY t.{metric}_{by}_{window} DESC, t.{metric} DESC NULLS LAST, t.hashtag LIMIT ?"""
    return _fetch(con, sql, [int(limit)])


def new_posts_per_day(con: duckdb.DuckDBPyConnection, hashtag: str | None = None, *, start: Any = None, end: Any = None) -> pd.DataFrame:
    """Posts published per day (``day, posts``; local days, setting ``timezone``), optionally only those
    collected under / tagged with ``hashtag`` (or of an ``@account``, a ``"keyword"``)."""
    from ..localtime import local_sql

    lo, hi = time_range(start, end)
    params: list[Any] = []
    where = "TRUE" + _hashtag_filter("p", hashtag, params) + time_clause(published_sql(), lo, hi, params)
    sql = f"""SELECT CAST({local_sql(published_sql())} AS DATE) AS day, count(*) AS posts
              FROM posts p WHERE {where} AND {published_sql()} IS NOT NULL GROUP BY 1 ORDER BY 1"""
    return _fetch(con, sql, params)


def refresh_log(con: duckdb.DuckDBPyConnection, limit: int = 20) -> pd.DataFrame:
    """The latest trend refreshes: kind, refreshed_at, mode, recomputed, removed, total, seconds."""
    return con.execute("SELECT * FROM trend_refreshes ORDER BY refreshed_at DESC, kind LIMIT ?", [int(limit)]).df()
