"""Reports: top posts / authors by metric, date range and hashtag; top posts in feed; overview by period."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from tiktok_intel.analyses import AnalysisError, reports

T = dt.datetime(2026, 11, 24, 8, 0)
DAY = dt.timedelta(days=1)


@pytest.fixture
def db(con):
    authors = [("a1", "alice", 5000, T - 40 * DAY), ("a2", "bob", 100, T - 3 * DAY), ("a3", "carl", 900, T)]
    for author_id, uid, followers, seen in authors:
        con.execute(
            "INSERT INTO authors (author_id, unique_id, nickname, followers, first_seen_at, last_seen_at) VALUES (?, ?, ?, ?, ?, ?)",
            [author_id, uid, uid.title(), followers, seen, T],
        )
    posts = [  # post_id, author, created, views, likes, hashtags
        ("p1", "a1", T - 40 * DAY, 900, 10, ["val2026", "politik"]),
        ("p2", "a2", T - 3 * DAY, 5000, 300, ["val2026"]),
        ("p3", "a2", T - 2 * DAY, 700, 900, ["mat"]),
        ("p4", "a3", T, 100, 1, ["mat"]),
    ]
    for post_id, author, created, views, likes, tags in posts:
        con.execute(
            "INSERT INTO posts (post_id, author_id, author_unique_id, created_at, views, likes, first_seen_at, last_seen_at) "
            "VALUES (?, ?, (SELECT unique_id FROM authors WHERE author_id = ?), ?, ?, ?, ?, ?)",
            [post_id, author, author, created, views, likes, created, T],
        )
        for tag in tags:
            con.execute("INSERT INTO post_hashtags VALUES (?, ?)", [post_id, tag])
    for name, seen in [("val2026", T - 40 * DAY), ("politik", T - 40 * DAY), ("mat", T - 2 * DAY)]:
        con.execute("INSERT INTO hashtags (name, first_seen_at, last_seen_at) VALUES (?, ?, ?)", [name, seen, T])
    # the 'val2026' feed was collected three times; p2 listed in all, p3 (not tagged) in two, p1 in one
    for run, at in [("r1", T - 2 * DAY), ("r2", T - DAY), ("r3", T)]:
        con.execute("INSERT INTO feed_appearances VALUES ('val2026', 'p2', ?, ?, ?)", [at, 1 if run != "r2" else 3, run])
        if run != "r1":
            con.execute("INSERT INTO feed_appearances VALUES ('val2026', 'p3', ?, 2, ?)", [at, run])
    con.execute("INSERT INTO feed_appearances VALUES ('val2026', 'p1', ?, 5, 'r1')", [T - 2 * DAY])
    return con


def test_top_posts_by_metric_range_and_hashtag(db):
    top = reports.top_posts(db, "views")
    assert list(top.post_id) == ["p2", "p1", "p3", "p4"] and list(top["rank"]) == [1, 2, 3, 4]
    assert top.iloc[0].url == "https://www.tiktok.com/@bob/video/p2" and top.iloc[0].author == "bob"
    assert list(top.iloc[1].hashtags) == ["politik", "val2026"]
    assert list(reports.top_posts(db, "likes", limit=1).post_id) == ["p3"]
    assert list(reports.top_posts(db, "views", start=(T - 7 * DAY).date(), end=(T - 2 * DAY).date()).post_id) == ["p2", "p3"]
    # hashtag: tagged with it, or collected in its feed (p3)
    assert list(reports.top_posts(db, "views", hashtag="#Val2026").post_id) == ["p2", "p1", "p3"]
    with pytest.raises(AnalysisError, match="--metric"):
        reports.top_posts(db, "followers")
    with pytest.raises(AnalysisError, match="swap --start and --end"):
        reports.top_posts(db, start="2026-11-20", end="2026-11-01")
    with pytest.raises(AnalysisError, match="YYYY-MM-DD"):
        reports.top_posts(db, start="yesterday")


def test_top_authors_by_author_or_post_metric(db):
    by_followers = reports.top_authors(db, "followers")
    assert list(by_followers.unique_id) == ["alice", "carl", "bob"]
    assert by_followers.iloc[0].url == "https://www.tiktok.com/@alice"
    by_views = reports.top_authors(db, "views")
    assert list(by_views.author_id) == ["a2", "a1", "a3"] and list(by_views.views) == [5700, 900, 100]
    assert list(by_views.posts) == [2, 1, 1]
    recent = reports.top_authors(db, "views", start=(T - 2 * DAY).date())
    assert list(recent.views) == [700, 100]
    assert list(reports.top_authors(db, "followers", hashtag="mat").unique_id) == ["carl", "bob"]


def test_top_posts_in_feed(db):
    feed = reports.top_feed_posts(db, "val2026")
    assert list(feed.post_id) == ["p2", "p3", "p1"]
    assert list(feed.collections) == [3, 2, 1] and list(feed.best_rank) == [1, 2, 5]
    assert feed.iloc[0].mean_rank == pytest.approx(5 / 3)
    assert feed.iloc[0].first_listed == T - 2 * DAY and feed.iloc[0].last_listed == T
    assert list(reports.top_feed_posts(db, "val2026", start=(T - DAY).date()).collections) == [2, 2]
    assert reports.top_feed_posts(db, "nothing").empty


def test_overview_by_day_week_month_year(db):
    days = reports.overview(db, "day")
    assert days.iloc[0].period == (T - 40 * DAY).date() and len(days) == 41  # empty days are listed too
    last = days.iloc[-1]
    assert (last.posts, last.authors, last.hashtags) == (1, 1, 0)
    assert (last.posts_total, last.authors_total, last.hashtags_total) == (4, 3, 3)
    assert last.posts_growth == pytest.approx(100 / 3)
    assert pd.isna(days.iloc[0].posts_growth)
    assert days.iloc[1].posts_growth == 0.0  # nothing new on a day: 0 % growth, not empty
    months = reports.overview(db, "month")
    assert list(months.period) == [dt.date(2026, 10, 1), dt.date(2026, 11, 1)]
    assert list(months.posts) == [1, 3] and months.iloc[1].posts_growth == pytest.approx(300.0)
    assert reports.overview(db, "year").iloc[0].posts_total == 4
    weeks = reports.overview(db, "week", start=(T - 7 * DAY).date())
    assert all(p.weekday() == 0 for p in weeks.period) and weeks.posts.sum() == 3
    with pytest.raises(AnalysisError, match="day, week, month, year"):
        reports.overview(db, "hour")


def test_overview_of_empty_store(con):
    assert reports.overview(con, "week").empty
    assert reports.top_posts(con).empty and reports.top_authors(con).empty
