"""Trends over true windows: hand-made snapshot series with known answers, and incremental == full."""

from __future__ import annotations

import datetime as dt
import math
import random

import pandas as pd
import pytest

from tiktok_intel import clock
from tiktok_intel.analyses import AnalysisError, trends

T = dt.datetime(2026, 11, 24, 8, 0)
DAY = dt.timedelta(days=1)


def add_post(con, post_id, author="a1", unique_id="alice", created=None, hashtags=(), url=None):
    con.execute(
        "INSERT INTO posts (post_id, author_id, author_unique_id, description, created_at, url, first_seen_at, last_seen_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [post_id, author, unique_id, f"post {post_id}", created or T - 3 * DAY, url, created or T - 3 * DAY, T],
    )
    for tag in hashtags:
        con.execute(
            "INSERT INTO post_hashtags SELECT ?, ? WHERE NOT EXISTS (SELECT 1 FROM post_hashtags WHERE post_id = ? AND hashtag = ?)",
            [post_id, tag, post_id, tag],
        )


def snap(con, post_id, at, views, likes=None, comments=None, shares=None):
    con.execute("INSERT INTO post_stats VALUES (?, ?, ?, ?, ?, ?, NULL)", [post_id, at, views, likes, comments, shares])


def row(con, table, key, value):
    df = con.execute(f"SELECT * FROM {table} WHERE {key} = ?", [value]).df()
    assert len(df) == 1, f"{value} not in {table}"
    return df.iloc[0]


def isnull(value):
    return value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value))


@pytest.fixture
def series(con):
    # A: snapshots exactly 30 d, 7 d and 24 h before the latest
    for at, v in [(T - 30 * DAY, 100), (T - 7 * DAY, 500), (T - DAY, 900), (T, 1000)]:
        snap(con, "A", at, v, likes=v // 10)
    # B: first seen 2 days ago
    snap(con, "B", T - 2 * DAY, 50)
    snap(con, "B", T, 80)
    # C: a gap; the snapshot 23 h 59 min old is too young for the 1 d window
    snap(con, "C", T - 10 * DAY, 200)
    snap(con, "C", T - DAY + dt.timedelta(minutes=1), 250)
    snap(con, "C", T, 300)
    # D: decreasing counts (TikTok corrects views downwards)
    snap(con, "D", T - DAY, 1000, likes=10)
    snap(con, "D", T, 900, likes=4)
    # E: zero views a day ago -> a change but no growth rate
    snap(con, "E", T - DAY, 0)
    snap(con, "E", T, 100)
    # F: one snapshot only
    snap(con, "F", T, 7)
    # G: its latest snapshot is older than the others: windows count from its own latest
    snap(con, "G", T - 6 * DAY, 10)
    snap(con, "G", T - 5 * DAY, 40)
    for pid in "ABCDEFG":
        add_post(con, pid, hashtags=("val2026",) if pid in "AB" else ("sport",))
    return con


def test_windows_at_exactly_24h_7d_30d(series):
    trends.refresh_post_trends(series)
    a = row(series, "post_trends", "post_id", "A")
    assert a.views == 1000 and a.collected_at == T and a.snapshots == 4
    assert (a.views_change_1d, a.views_change_7d, a.views_change_30d) == (100, 500, 900)
    assert a.views_growth_1d == pytest.approx(100 / 900 * 100)
    assert a.views_growth_7d == pytest.approx(100.0)
    assert a.views_growth_30d == pytest.approx(900.0)
    assert (a.likes, a.likes_change_1d, a.likes_change_30d) == (100, 10, 90)


def test_post_first_seen_two_days_ago_has_no_7d_or_30d(series):
    trends.refresh_post_trends(series)
    b = row(series, "post_trends", "post_id", "B")
    assert b.views_change_1d == 30 and b.views_growth_1d == pytest.approx(60.0)
    assert isnull(b.views_change_7d) and isnull(b.views_change_30d)
    assert isnull(b.views_growth_7d) and isnull(b.views_growth_30d)


def test_gap_uses_latest_snapshot_old_enough(series):
    trends.refresh_post_trends(series)
    c = row(series, "post_trends", "post_id", "C")
    assert c.views_change_1d == 100  # against the 10-day-old snapshot, not the 23h59 one
    assert c.views_growth_1d == pytest.approx(50.0)
    assert c.views_change_7d == 100
    assert isnull(c.views_change_30d)


def test_decreasing_counts_give_negative_change(series):
    trends.refresh_post_trends(series)
    d = row(series, "post_trends", "post_id", "D")
    assert d.views_change_1d == -100 and d.views_growth_1d == pytest.approx(-10.0)
    assert d.likes_change_1d == -6 and d.likes_growth_1d == pytest.approx(-60.0)


def test_null_not_zero(series):
    trends.refresh_post_trends(series)
    e = row(series, "post_trends", "post_id", "E")
    assert e.views_change_1d == 100 and isnull(e.views_growth_1d)  # value(s) = 0: no growth rate
    f = row(series, "post_trends", "post_id", "F")
    for w in trends.WINDOWS:
        assert isnull(f[f"views_change_{w}"]) and isnull(f[f"views_growth_{w}"])
    # a metric that was never measured stays empty too
    assert isnull(row(series, "post_trends", "post_id", "B").likes_change_1d)
    n_zero = series.execute("SELECT count(*) FROM post_trends WHERE post_id IN ('F') AND views_change_1d = 0").fetchone()[0]
    assert n_zero == 0


def test_windows_count_from_each_posts_own_latest(series):
    trends.refresh_post_trends(series)
    g = row(series, "post_trends", "post_id", "G")
    assert g.collected_at == T - 5 * DAY and g.views_change_1d == 30 and isnull(g.views_change_7d)


def test_top_trending_posts_by_window_metric_hashtag_and_dates(series):
    trends.refresh_post_trends(series)
    top = trends.top_trending_posts(series, "1d", "views", limit=3)
    assert list(top.post_id) == ["A", "C", "E"]  # 100, 100 (A has more views), 100; D (-100) last
    assert list(top.columns) == [
        "post_id",
        "author",
        "description",
        "published_at",
        "hashtags",
        "views",
        "change",
        "growth",
        "collected_at",
        "url",
    ]
    assert top.iloc[0].url == "https://www.tiktok.com/@alice/video/A" and top.iloc[0].author == "alice"
    assert list(top.iloc[0].hashtags) == ["val2026"]
    assert list(trends.top_trending_posts(series, "7d", hashtag="#VAL2026").post_id) == ["A"]
    assert list(trends.top_trending_posts(series, "1d", by="growth", hashtag="val2026").post_id) == ["A", "B"][::-1]
    # feed appearances count as "collected under" the hashtag too
    series.execute("INSERT INTO feed_appearances VALUES ('val2026', 'D', ?, 1, 'r1')", [T])
    assert set(trends.top_trending_posts(series, "1d", hashtag="val2026").post_id) == {"A", "B", "D"}
    series.execute("UPDATE posts SET created_at = ? WHERE post_id = 'A'", [T - 40 * DAY])
    assert "A" not in set(trends.top_trending_posts(series, "1d", start=(T - 5 * DAY).date()).post_id)
    assert list(trends.top_trending_posts(series, "1d", end=(T - 40 * DAY).date()).post_id) == ["A"]
    with pytest.raises(AnalysisError, match="--window"):
        trends.top_trending_posts(series, "2d")
    with pytest.raises(AnalysisError, match="--metric"):
        trends.top_trending_posts(series, "1d", "followers")


def test_trend_table_columns_and_order(series):
    trends.refresh_post_trends(series)
    df = trends.trend_table(series, "posts")
    expected = ["post_id"] + [c for m in ("views", "likes", "comments", "shares") for c in trends.trend_columns(m)] + ["url"]
    assert list(df.columns) == expected
    assert list(df.post_id[:2]) == ["A", "D"]  # by views
    assert str(df.views_change_7d.dtype) == "Int64"
    by_change = trends.trend_table(series, "posts", window="1d")
    assert list(by_change.post_id) == ["A", "C", "E", "B", "G", "D", "F"]  # ties by views; NULL change last


def test_author_trends(con):
    for at, followers, hearts in [(T - 8 * DAY, 1000, 5), (T - DAY, 1500, 50), (T, 1200, 60)]:
        con.execute("INSERT INTO author_stats VALUES ('a1', ?, ?, 1, ?, 3, 0)", [at, followers, hearts])
    con.execute("INSERT INTO authors (author_id, unique_id, nickname) VALUES ('a1', 'alice', 'Alice')")
    result = trends.refresh_author_trends(con)
    assert result.recomputed == 1 and result.total == 1
    a = row(con, "author_trends", "author_id", "a1")
    assert (a.followers, a.followers_change_1d, a.followers_change_7d) == (1200, -300, 200)
    assert isnull(a.followers_change_30d) and a.hearts_growth_7d == pytest.approx(1100.0)
    assert a.likes_given_change_1d == 0 and a.likes_given_growth_1d is None or isnull(a.likes_given_growth_1d)
    top = trends.top_trending_authors(con, "7d", "followers")
    assert top.iloc[0].url == "https://www.tiktok.com/@alice" and top.iloc[0].change == 200


def test_hashtag_trends_from_monitoring_and_posts(series):
    for at, videos, views in [(T - 2 * DAY, 100, 10_000), (T - DAY, 110, 12_000), (T, 130, 15_000)]:
        series.execute("INSERT INTO hashtag_stats VALUES ('val2026', ?, ?, ?)", [at, videos, views])
    series.execute("UPDATE posts SET created_at = ? WHERE post_id = 'B'", [T - DAY / 2])
    trends.refresh_hashtag_trends(series)
    h = row(series, "hashtag_trends", "hashtag", "val2026")
    assert (h.video_count, h.video_count_change_1d, h.view_count_change_1d) == (130, 20, 3000)
    assert isnull(h.video_count_change_7d)
    # posts under it: A (1000, +100 on 900) and B (80, +30 on 50)
    assert h.posts == 2 and h.post_views == 1080 and h.post_views_change_1d == 130
    assert h.post_views_growth_1d == pytest.approx(130 / 950 * 100)
    assert h.post_views_change_7d == 500  # only A has a snapshot 7 days old
    assert h.new_posts_1d == 1 and h.new_posts_7d == 2
    sport = row(series, "hashtag_trends", "hashtag", "sport")
    assert isnull(sport.video_count) and sport.posts == 5 and sport.stat_snapshots == 0
    top = trends.top_trending_hashtags(series, "7d", "post_views")
    assert list(top.hashtag) == ["val2026", "sport"] and list(top.change) == [500, 100]


def test_incremental_refresh_recomputes_only_changed_posts(series):
    first = trends.refresh_post_trends(series)
    assert first.recomputed == 7 and first.mode == "incremental"
    again = trends.refresh_post_trends(series)
    assert again.recomputed == 0 and again.total == 7
    snap(series, "B", T + DAY, 200)
    third = trends.refresh_post_trends(series)
    assert third.recomputed == 1
    b = row(series, "post_trends", "post_id", "B")
    assert b.views == 200 and b.views_change_1d == 120 and b.views_change_7d is pd.NA or isnull(b.views_change_7d)
    # a back-filled older snapshot is seen too (count changes although the latest time does not)
    snap(series, "C", T - 40 * DAY, 10)
    assert trends.refresh_post_trends(series).recomputed == 1
    assert row(series, "post_trends", "post_id", "C").views_change_30d == 290
    # a post whose snapshots are gone loses its row
    series.execute("DELETE FROM post_stats WHERE post_id = 'F'")
    gone = trends.refresh_post_trends(series)
    assert gone.removed == 1 and gone.total == 6
    assert trends.last_refresh(series, "posts") is not None


def _random_snapshots(rng, posts, start, count):
    rows = []
    for pid in posts:
        times = sorted(rng.sample(range(0, 60 * 24 * 45, 37), count))
        value = rng.randint(0, 50)
        for minute in times:
            value = max(0, value + rng.randint(-20, 400))
            rows.append((pid, start + dt.timedelta(minutes=minute), value, value // 7, rng.choice([None, value // 50]), 0))
    return rows


def _insert_new(con, table, rows, width):
    """Insert rows whose (key, collected_at) is not there yet (the tables have no key constraint)."""
    have = {(k, t) for k, t in con.execute(f"SELECT #1, collected_at FROM {table}").fetchall()}
    fresh, keys = [], set()
    for r in rows:
        if (r[0], r[1]) not in have and (r[0], r[1]) not in keys:
            keys.add((r[0], r[1]))
            fresh.append(tuple(r[:width]))
    if fresh:
        con.executemany(f"INSERT INTO {table} VALUES ({', '.join(['?'] * width)}{', NULL' if table == 'post_stats' else ''})", fresh)


def _stable(con, table, key):
    return con.execute(f"SELECT * EXCLUDE (refreshed_at) FROM {table} ORDER BY {key}").df()


def test_incremental_equals_full_on_random_data(con):
    rng = random.Random(4)
    start = T - 45 * DAY
    posts = [f"p{i}" for i in range(300)]
    rows = _random_snapshots(rng, posts, start, 6)
    _insert_new(con, "post_stats", rows, 6)
    authors = [f"u{i}" for i in range(40)]
    arows = _random_snapshots(rng, authors, start, 5)
    _insert_new(con, "author_stats", [(a, t, v, 0, h, vid, lg) for a, t, v, h, vid, lg in arows], 7)
    tags = [f"t{i}" for i in range(12)]
    for pid in posts:
        for tag in rng.sample(tags, 2):
            con.execute("INSERT INTO post_hashtags VALUES (?, ?)", [pid, tag])
        con.execute("INSERT INTO posts (post_id, created_at) VALUES (?, ?)", [pid, start + dt.timedelta(hours=rng.randint(0, 1000))])
    hrows = [(tag, at, v, v * 10) for tag, at, v, *_ in _random_snapshots(rng, tags[:6], start, 8)]
    _insert_new(con, "hashtag_stats", hrows, 4)
    with clock.frozen(T):
        trends.refresh_trends(con)
    # new collections: more snapshots for some posts (some back-dated), new posts, new hashtag snapshots
    more = _random_snapshots(rng, rng.sample(posts, 120) + [f"new{i}" for i in range(30)], start + 5 * DAY, 3)
    _insert_new(con, "post_stats", more, 6)
    for i in range(30):
        con.execute("INSERT INTO post_hashtags VALUES (?, ?)", [f"new{i}", rng.choice(tags)])
    _insert_new(
        con,
        "author_stats",
        [(a, t, v, 0, h, vid, lg) for a, t, v, h, vid, lg in _random_snapshots(rng, authors[:10], start + 2 * DAY, 2)],
        7,
    )
    _insert_new(con, "hashtag_stats", [(tag, at, v, v) for tag, at, v, *_ in _random_snapshots(rng, tags[3:9], start + 40 * DAY, 2)], 4)
    con.execute("DELETE FROM post_stats WHERE post_id IN ('p1', 'p2')")
    with clock.frozen(T + DAY):
        results = {r.kind: r for r in trends.refresh_trends(con)}
    changed_posts = {r[0] for r in more} | {"p1", "p2"}
    assert results["posts"].recomputed + results["posts"].removed == len(changed_posts)
    assert results["posts"].recomputed < 300
    incremental = {
        t: _stable(con, t, k) for t, k in [("post_trends", "post_id"), ("author_trends", "author_id"), ("hashtag_trends", "hashtag")]
    }
    with clock.frozen(T + 2 * DAY):
        trends.refresh_trends(con, full=True)
    for (table, key), before in zip(
        [("post_trends", "post_id"), ("author_trends", "author_id"), ("hashtag_trends", "hashtag")], incremental.values()
    ):
        pd.testing.assert_frame_equal(before, _stable(con, table, key), check_exact=False, rtol=1e-12)
    assert len(incremental["post_trends"]) == 328
    assert con.execute("SELECT count(*) FROM post_trends WHERE views_change_30d IS NOT NULL").fetchone()[0] > 0


def test_bad_kind_names_the_fix(con):
    with pytest.raises(AnalysisError, match="posts, authors, hashtags"):
        trends.refresh_trends(con, "videos")
    with pytest.raises(AnalysisError, match="--kind posts"):
        trends.trend_table(con, "authors", hashtag="x")
