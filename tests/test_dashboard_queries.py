"""Issue 20: the Hashtags and Reports dashboards' queries restricted before they group or sort
give the same answers as the whole-store queries they replaced (kept here as the reference), on
random data with tracked hashtags, accounts and keywords, ties, NULLs and untracked names."""

from __future__ import annotations

import pytest

from tiktok_intel import tracking
from tiktok_intel.analyses import reports, trends

T0 = "TIMESTAMP '2026-11-01 08:00:00'"

#: tracking.list_items before issue 20: every hashtag's and author's posts counted, then joined.
ITEMS_WHOLE_STORE = """
WITH items AS (
    SELECT 'hashtag' AS kind, name, active, added_at, removed_at, last_collected_at FROM tracked_hashtags
    UNION ALL SELECT kind, name, active, added_at, removed_at, last_collected_at FROM tracked_items),
hashtag_posts AS (
    SELECT hashtag AS name, count(DISTINCT post_id) AS posts
      FROM (SELECT hashtag, post_id FROM post_hashtags UNION SELECT hashtag, post_id FROM feed_appearances) GROUP BY hashtag),
account_posts AS (
    SELECT name, count(DISTINCT post_id) AS posts FROM (
        SELECT lower(p.author_unique_id) AS name, p.post_id FROM posts p
        UNION SELECT tracked, post_id FROM listings WHERE kind = 'account') GROUP BY name),
keyword_posts AS (SELECT tracked AS name, count(DISTINCT post_id) AS posts FROM listings WHERE kind = 'keyword' GROUP BY tracked)
SELECT i.kind, i.name, i.active, i.added_at, i.removed_at, i.last_collected_at,
       coalesce(CASE i.kind WHEN 'hashtag' THEN h.posts WHEN 'account' THEN a.posts ELSE k.posts END, 0)
  FROM items i
  LEFT JOIN hashtag_posts h ON i.kind = 'hashtag' AND h.name = i.name
  LEFT JOIN account_posts a ON i.kind = 'account' AND a.name = i.name
  LEFT JOIN keyword_posts k ON i.kind = 'keyword' AND k.name = i.name
 ORDER BY i.active DESC, array_position(['hashtag', 'account', 'keyword'], i.kind), i.name"""

#: tracking.list_tracked before issue 20.
TRACKED_WHOLE_STORE = """
WITH last_stats AS (
    SELECT hashtag, arg_max(video_count, collected_at) AS video_count, arg_max(view_count, collected_at) AS view_count,
           max(collected_at) AS stats_at
      FROM hashtag_stats GROUP BY hashtag),
posts AS (SELECT hashtag, count(DISTINCT post_id) AS posts FROM post_hashtags GROUP BY hashtag)
SELECT t.name, t.active, t.added_at, t.removed_at, t.last_collected_at, coalesce(p.posts, 0),
       s.video_count, s.view_count, s.stats_at
  FROM tracked_hashtags t LEFT JOIN posts p ON p.hashtag = t.name LEFT JOIN last_stats s ON s.hashtag = t.name
 ORDER BY t.active DESC, t.name"""


@pytest.fixture
def store(con):
    """2,000 posts by 150 authors (some named in upper case, some with no author row), 60 hashtags,
    views with ties and NULLs, feed listings, account/keyword listings and hashtag snapshots."""
    con.execute(f"""INSERT INTO authors (author_id, unique_id, nickname, followers, first_seen_at, last_seen_at)
        SELECT 'a' || i, CASE WHEN i % 7 = 0 THEN 'User' || i ELSE 'user' || i END, 'N' || i, i * 3, {T0}, {T0}
        FROM range(140) t(i)""")
    con.execute(f"""INSERT INTO posts (post_id, author_id, author_unique_id, description, created_at, views, likes, comments, shares,
                                       first_seen_at, last_seen_at)
        SELECT (7300000000000000000 + i)::VARCHAR, 'a' || (i % 150), CASE WHEN i % 7 = 0 THEN 'User' ELSE 'user' END || (i % 150),
               'post ' || i, CASE WHEN i % 11 = 0 THEN NULL ELSE {T0} + INTERVAL (i * 17 % 43200) MINUTE END,
               CASE WHEN i % 13 = 0 THEN NULL ELSE (i * 7919) % 500 END, (i * 31) % 97, i % 9, i % 5,
               {T0} + INTERVAL (i % 30) DAY, {T0} + INTERVAL 30 DAY
        FROM range(2000) t(i)""")
    con.execute("""INSERT INTO post_hashtags SELECT DISTINCT (7300000000000000000 + i)::VARCHAR, 'tag' || ((i * (k + 3) * 2654435761) % 60)
        FROM range(2000) t(i), range(3) s(k) WHERE (i + k) % 4 <> 0""")
    con.execute(f"""INSERT INTO feed_appearances SELECT 'tag' || (h * 3), (7300000000000000000 + (h * 700 + c * 37 + r) % 2100)::VARCHAR,
               {T0} + INTERVAL (c * 8) HOUR, r, 'run' || c FROM range(6) a(h), range(9) b(c), range(40) d(r)""")
    con.execute(f"""INSERT INTO hashtag_stats SELECT 'tag' || h, {T0} + INTERVAL (30 * k) MINUTE, 100 + k * h, 1000 + k * 50 * h
        FROM range(0, 60, 4) a(h), range(20) b(k)""")
    con.execute(f"""INSERT INTO tracked_hashtags (name, active, added_at)
        SELECT 'tag' || i, i % 9 <> 0, {T0} FROM range(0, 60, 3) t(i) UNION ALL SELECT 'nothing', TRUE, {T0}""")
    con.execute(f"""INSERT INTO tracked_items (kind, name, active, added_at)
        SELECT 'account', 'user' || i, i % 4 <> 0, {T0} FROM range(0, 160, 9) t(i)
        UNION ALL SELECT 'keyword', 'kw' || i, TRUE, {T0} FROM range(4) t(i)""")
    con.execute(f"""INSERT INTO listings SELECT CASE WHEN i % 3 = 0 THEN 'keyword' ELSE 'account' END,
               CASE WHEN i % 3 = 0 THEN 'kw' || (i % 5) ELSE 'user' || (i % 170) END,
               (7300000000000000000 + (i * 13) % 2050)::VARCHAR, {T0} + INTERVAL (i % 10) HOUR, i % 30, 'run' || (i % 4)
        FROM range(3000) t(i)""")
    con.execute(f"""INSERT INTO post_trends BY NAME SELECT post_id, {T0} + INTERVAL 30 DAY AS collected_at, {T0} AS first_collected_at,
               30 AS snapshots, views, likes, comments, shares,
               CASE WHEN hash(post_id) % 5 = 0 THEN NULL ELSE views % 50 END AS views_change_1d, views % 20 AS views_change_7d,
               views % 80 AS views_change_30d, (views % 50) * 1.0 AS views_growth_1d, 2.0 AS views_growth_7d, 3.0 AS views_growth_30d,
               {T0} + INTERVAL 30 DAY AS refreshed_at FROM posts""")
    return con


def test_tracked_lists_equal_the_whole_store_queries(store):
    items = [tuple(vars(r).values()) for r in tracking.list_items(store)]
    assert items == [tuple(r) for r in store.execute(ITEMS_WHOLE_STORE).fetchall()]
    assert {r[-1] > 0 for r in items} == {True, False}  # counted items and empty ones both checked
    assert {r[0] for r in items if r[-1] > 0} == {"hashtag", "account", "keyword"}
    tracked = [tuple(vars(r).values()) for r in tracking.list_tracked(store)]
    assert tracked == [tuple(r) for r in store.execute(TRACKED_WHOLE_STORE).fetchall()]
    assert any(r[6] is not None for r in tracked) and any(r[6] is None for r in tracked)


def _top_posts_whole_store(con, metric, where, params, limit):
    from tiktok_intel.analyses import hashtags_of
    from tiktok_intel.conventions import author_sql, post_url_sql, published_sql

    return con.execute(
        f"""
WITH top AS (
  SELECT row_number() OVER (ORDER BY p.{metric} DESC NULLS LAST, p.post_id) AS rank, p.post_id,
         {author_sql()} AS author, p.description, {published_sql()} AS published_at,
         p.{metric} AS value, p.views, p.likes, p.comments, p.shares, {post_url_sql()} AS url
  FROM posts p LEFT JOIN authors a ON a.author_id = p.author_id
  WHERE p.{metric} IS NOT NULL{where}
  ORDER BY rank LIMIT ?
)
SELECT rank, post_id, author, description, published_at, value, views, likes, comments, shares, {hashtags_of("top.post_id")} AS hashtags, url
FROM top ORDER BY rank""",
        [*params, limit],
    ).fetchall()


@pytest.mark.parametrize(
    "metric, hashtag, start, end, limit",
    [("views", None, None, None, 20), ("likes", "tag3", None, None, 50), ("comments", "tag6", "2026-11-05", "2026-11-20", 500)],
)
def test_top_posts_equal_the_whole_store_ranking(store, metric, hashtag, start, end, limit):
    params: list = []
    where = reports._filters(hashtag, start, end, params)
    expected = _top_posts_whole_store(store, metric, where, params, limit)
    got = reports.top_posts(store, metric, hashtag=hashtag, start=start, end=end, limit=limit)
    assert len(got) == len(expected) > 0
    assert got["post_id"].tolist() == [r[1] for r in expected]
    assert got["rank"].tolist() == [r[0] for r in expected]
    assert got[metric].tolist() == [r[5] for r in expected]
    assert got["author"].tolist() == [r[2] for r in expected]
    assert [list(h) for h in got["hashtags"]] == [list(r[10]) for r in expected]


@pytest.mark.parametrize("hashtag, start, end", [(None, None, None), ("tag3", None, None), ("tag0", "2026-11-03", "2026-11-25")])
def test_top_trending_posts_equal_the_whole_store_ranking(store, hashtag, start, end):
    from tiktok_intel.analyses import time_clause, time_range
    from tiktok_intel.conventions import published_sql

    params: list = []
    where = "t.views_change_1d IS NOT NULL" + trends._hashtag_filter("t", hashtag, params)
    where += time_clause(published_sql(), *time_range(start, end), params)
    expected = store.execute(
        f"""SELECT t.post_id FROM post_trends t LEFT JOIN posts p ON p.post_id = t.post_id WHERE {where}
            ORDER BY t.views_change_1d DESC, t.views DESC NULLS LAST, t.post_id LIMIT 25""",
        params,
    ).fetchall()
    got = trends.top_trending_posts(store, "1d", "views", hashtag=hashtag, start=start, end=end, limit=25)
    assert len(expected) > 0
    assert got["post_id"].tolist() == [r[0] for r in expected]
    assert got["description"].notna().all()
