"""Research API collection against the offline TikTok: token caching, 30-day windows, cursor +
search_id paging, user/info, the daily quota (stop cleanly, resume next day), secrets."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest

from tiktok_intel import clock
from tiktok_intel import settings as settings_module
from tiktok_intel.collect import collect
from tiktok_intel.ingest.pages import process_pending
from tiktok_intel.offline import OfflineTikTok
from tiktok_intel.sources import RawSink
from tiktok_intel.sources import http as http_module
from tiktok_intel.sources.http import HttpClient
from tiktok_intel.sources.research import ResearchSource, build_query, split_windows

T = dt.datetime(2026, 11, 10, 8, 0)
KEY, SECRET = "client-key-CANARY", "client-secret-CANARY-77"
QUERY = "/v2/research/video/query/"


@pytest.fixture
def tiktok(workspace, monkeypatch):
    monkeypatch.setattr(http_module, "BACKOFF_BASE_SECONDS", 0.01)
    with clock.frozen(T), OfflineTikTok(seed=9, client_key=KEY, client_secret=SECRET, token_ttl_seconds=600) as server:
        settings_module.configure(
            workspace,
            research_client_key=KEY,
            research_client_secret=SECRET,
            requests_per_second=0,
            retries=2,
            **server.settings_overrides(),
        )
        yield server


def test_split_windows_covers_the_range_in_at_most_30_days():
    windows = split_windows(dt.date(2026, 9, 1), dt.date(2026, 11, 14))
    assert windows[0][0] == dt.date(2026, 9, 1) and windows[-1][1] == dt.date(2026, 11, 14) and len(windows) == 3
    assert all((end - start).days <= 29 for start, end in windows)
    assert all(b[0] - a[1] == dt.timedelta(days=1) for a, b in zip(windows, windows[1:]))
    assert split_windows(dt.date(2026, 1, 1), dt.date(2026, 1, 1)) == [(dt.date(2026, 1, 1), dt.date(2026, 1, 1))]
    with pytest.raises(ValueError, match="swap"):
        split_windows(dt.date(2026, 2, 1), dt.date(2026, 1, 1))


def test_build_query_conditions():
    q = build_query(hashtags=["klimat"], regions=["se", "no"], keywords=["val"])
    assert q == {
        "and": [
            {"field_name": "hashtag_name", "operation": "EQ", "field_values": ["klimat"]},
            {"field_name": "region_code", "operation": "IN", "field_values": ["SE", "NO"]},
            {"field_name": "keyword", "operation": "EQ", "field_values": ["val"]},
        ]
    }
    with pytest.raises(ValueError):
        build_query()


def test_collect_pages_with_cursor_and_search_id_across_30_day_windows(tiktok, con, workspace):
    result = collect(
        con, ["valet2026"], max_posts=1000, source="research", since=dt.date(2026, 9, 1), until=dt.date(2026, 11, 10), page_size=25
    )
    assert not result.failed, result.summary()
    requests = tiktok.requests_to(QUERY)
    bodies = [r["json"] for r in requests]
    windows = sorted({(b["start_date"], b["end_date"]) for b in bodies})
    assert len(windows) == 3
    for start, end in windows:
        span = dt.datetime.strptime(end, "%Y%m%d") - dt.datetime.strptime(start, "%Y%m%d")
        assert span.days <= 30
    assert all(b["max_count"] == 25 for b in bodies)
    assert any(b["cursor"] > 0 and b["search_id"] for b in bodies)  # paged within a window
    for previous, current in zip(bodies, bodies[1:]):
        if current["cursor"]:
            assert current["search_id"] and current["start_date"] == previous["start_date"]
    expected = {
        p.post_id for p in tiktok.world.search(T, hashtags=["valet2026"], start=dt.datetime(2026, 9, 1), end=dt.datetime(2026, 11, 11))
    }
    stored = {r[0] for r in con.execute("SELECT post_id FROM post_hashtags WHERE hashtag = 'valet2026'").fetchall()}
    assert stored == expected and result.posts == len(expected)  # the duplicate listed in first pages counted once
    assert tiktok.counters["tokens_issued"] == 1  # the token is cached
    assert "requests" in result.summary() and "quota" in result.summary()
    requests_used = con.execute("SELECT requests, records FROM research_quota WHERE day = ?", [T.date()]).fetchone()
    comment_requests = tiktok.requests_to("/v2/research/video/comment/list/")  # the posts' comments, on the same quota
    assert len(comment_requests) >= len(expected)
    assert requests_used[0] == len(requests) + len(comment_requests) and requests_used[1] >= len(expected)
    texts = "\n".join(p.read_text() for p in workspace.raw_dir.rglob("*") if p.is_file())
    assert SECRET not in texts and KEY not in texts and "clt." not in texts and "Bearer" not in texts
    assert con.execute("SELECT done FROM collection_cursors WHERE source = 'research'").fetchone()[0] is True


def test_the_token_is_renewed_when_it_expires(tiktok, con):
    collect(con, ["klimat"], max_posts=10, source="research")
    with clock.frozen(T + dt.timedelta(minutes=5)):
        collect(con, ["klimat"], max_posts=10, source="research")
    assert tiktok.counters["tokens_issued"] == 1  # still cached (expires_in 600 s, renewed a minute early)
    with clock.frozen(T + dt.timedelta(minutes=20)):  # past expires_in (600 s)
        result = collect(con, ["klimat"], max_posts=10, source="research")
    assert not result.failed and tiktok.counters["tokens_issued"] == 2


def test_running_out_of_quota_stops_cleanly_and_the_next_day_resumes(tiktok, con):
    first = collect(
        con,
        ["valet2026", "klimat"],
        max_posts=1000,
        source="research",
        since=dt.date(2026, 9, 1),
        until=dt.date(2026, 11, 10),
        quota_requests=2,
    )
    line = first.summary()
    assert [o.reason for o in first.failed] == ["Research API daily quota used up"] * 2 and "2/2 requests" in line
    assert "resumes from the saved cursor" in line and "\n" not in line
    assert len(tiktok.requests_to(QUERY)) == 2
    saved = con.execute("SELECT cursor, search_id, window_start, done FROM collection_cursors WHERE hashtag = 'valet2026'").fetchone()
    assert saved[3] is False
    with clock.frozen(T + dt.timedelta(days=1)):
        second = collect(con, ["valet2026"], max_posts=1000, source="research", quota_requests=3)
    resumed = tiktok.requests_to(QUERY)[2]["json"]
    assert (resumed["cursor"], resumed.get("search_id")) == (saved[0], saved[1] if saved[0] else None)
    assert resumed["start_date"] == saved[2].strftime("%Y%m%d")
    assert second.outcomes[0].resumed_from == saved[0]


def test_tiktoks_own_quota_answer_stops_cleanly(tiktok, con):
    tiktok.faults.add("quota", times=None)
    result = collect(con, ["klimat", "valet2026"], max_posts=50, source="research")
    assert len(result.failed) == 2 and "quota" in result.summary()
    assert len(tiktok.requests_to(QUERY)) == 1  # the quota is recorded: the second hashtag does not ask again today
    assert con.execute("SELECT requests FROM research_quota").fetchone()[0] >= 1000


def test_rate_limit_answers_are_retried(tiktok, con):
    tiktok.faults.add("429", path=QUERY, times=2)
    result = collect(con, ["klimat"], max_posts=20, source="research", since=dt.date(2026, 10, 15))
    assert not result.failed and result.posts == 20 and len(tiktok.requests_to(QUERY)) == 3
    comments = len(tiktok.requests_to("/v2/research/video/comment/list/"))  # then the 20 posts' comments
    assert comments >= 20 and con.execute("SELECT requests FROM research_quota").fetchone()[0] == 3 + comments  # retries count too


def test_bad_credentials_are_a_one_line_error_without_the_secret(tiktok, con):
    settings_module.configure(settings_module.get_settings(), research_client_secret="wrong-secret-CANARY")
    result = collect(con, ["klimat"], max_posts=20, source="research")
    error = result.failed[0].error
    assert "TIKTOK_INTEL_RESEARCH_CLIENT_SECRET" in error and "wrong-secret-CANARY" not in error and "\n" not in error
    settings_module.configure(settings_module.get_settings(), research_client_key="", research_client_secret="")
    assert "set TIKTOK_INTEL_RESEARCH_CLIENT_KEY" in collect(con, ["klimat"], max_posts=20, source="research").failed[0].error


def test_user_info_lands_as_an_author_matched_by_username(tiktok, con):
    author = tiktok.world.feed("klimat", T)[0].author

    async def run():
        async with HttpClient(requests_per_second=0) as client:
            return await ResearchSource(client).user_info(author.unique_id, sink=RawSink("research", "20261110T080000Z-user01"))

    page, data = asyncio.run(run())
    assert data["follower_count"] == author.followers(T)
    process_pending(con)
    assert con.execute("SELECT followers, nickname FROM authors WHERE author_id = ?", ["@" + author.unique_id]).fetchone() == (
        author.followers(T),
        author.nickname,
    )
