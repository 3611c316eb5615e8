"""Web collection against the offline TikTok: raw first, then ingest; paging; client params;
retries and every fault; resume after interruption; monitor; secrets; the CLI."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import json
import time

import pytest
from conftest import write_lock_held_by_another_run

from tiktok_intel import clock, tracking
from tiktok_intel import collect as collect_module
from tiktok_intel import settings as settings_module
from tiktok_intel.cli import main
from tiktok_intel.cli.collect import recorded
from tiktok_intel.collect import collect, monitor
from tiktok_intel.collect import web as collect_web
from tiktok_intel.ingest.pages import pending_pages, process_pending
from tiktok_intel.offline import OfflineTikTok
from tiktok_intel.sources import RawSink
from tiktok_intel.sources import http as http_module
from tiktok_intel.sources.http import HttpClient
from tiktok_intel.sources.web import StaticSession, WebSource
from tiktok_intel.store import Workspace, open_db

T = dt.datetime(2026, 11, 10, 8, 0)
CANARY = "msTokenCANARY-5e3b9f"
FEED = "/api/challenge/item_list/"


@pytest.fixture
def tiktok(workspace, monkeypatch):
    monkeypatch.setattr(http_module, "BACKOFF_BASE_SECONDS", 0.01)
    with clock.frozen(T), OfflineTikTok(seed=7) as server:
        settings_module.configure(
            workspace, ms_token=CANARY, requests_per_second=0, retries=2, timeout_seconds=5, **server.settings_overrides()
        )
        yield server


def recorded_collect(con, *args, **kwargs):
    """A collection recorded as `tiktok-intel collect` records it: one row in ``runs``."""
    return recorded("collect", {}, lambda run_id: collect(con, *args, run_id=run_id, **kwargs), workspace=Workspace.current())


def recorded_monitor(con, *args, **kwargs):
    """A monitor run recorded as `tiktok-intel monitor` records it."""
    return recorded("monitor", {}, lambda run_id: monitor(con, *args, run_id=run_id, **kwargs), workspace=Workspace.current())


def raw_texts(workspace) -> str:
    return "\n".join(p.read_text(errors="replace") for p in workspace.raw_dir.rglob("*") if p.is_file())


def test_collect_writes_raw_pages_then_ingests_with_the_web_clients_params(tiktok, con, workspace):
    tracking.add(con, ["valet2026", "klimat"])
    result = recorded_collect(con, max_posts=70)
    assert not result.failed and result.posts == 140, result.summary()
    klimat = tiktok.world.hashtags["klimat"].challenge_id
    feed_requests = tiktok.requests_to(FEED)
    assert [r["query"]["cursor"] for r in feed_requests if r["query"]["challengeID"] == klimat] == ["0", "30", "60"]
    assert [r["query"]["count"] for r in feed_requests if r["query"]["challengeID"] == klimat] == ["30", "30", "10"]
    q = feed_requests[0]["query"]
    assert (q["aid"], q["app_name"], q["device_platform"], q["language"], q["region"], q["msToken"]) == (
        "1988",
        "tiktok_web",
        "web_pc",
        "sv",
        "SE",
        CANARY,
    )
    pages = list(workspace.raw_dir.rglob("*.meta.json"))
    comment_pages = len(tiktok.requests_to("/api/comment/"))  # the top comments of the 140 posts (and replies)
    assert comment_pages >= 140 and len(pages) == 2 + 6 + comment_pages  # two hashtag details, six feed pages
    assert con.execute("SELECT count(*) FROM raw_pages").fetchone()[0] == len(pages)
    ranks = [r[0] for r in con.execute("SELECT rank FROM feed_appearances WHERE hashtag = 'klimat' ORDER BY rank").fetchall()]
    assert ranks == list(range(70))
    assert con.execute("SELECT count(*) FROM hashtag_stats").fetchone()[0] == 2
    assert con.execute("SELECT count(*) FROM tracked_hashtags WHERE last_collected_at = ?", [T]).fetchone()[0] == 2
    run = con.execute("SELECT flow, status, error, counts FROM runs WHERE run_id = ?", [result.run_id]).fetchone()
    assert run[:3] == ("collect", "completed", None) and json.loads(run[3])["posts"] == 140
    texts = raw_texts(workspace)
    assert CANARY not in texts and "msToken=%2A%2A%2A" in texts


def test_language_and_region_are_settings(tiktok, con):
    settings_module.configure(settings_module.get_settings(), language="en", region="US")
    collect(con, ["klimat"], max_posts=5, covers=False)
    q = tiktok.requests_to(FEED)[0]["query"]
    assert (q["language"], q["region"], q["app_language"]) == ("en", "US", "en")


def test_a_collection_eight_hours_later_sees_grown_counts(tiktok, con):
    collect(con, ["valet2026"], max_posts=40, covers=False)
    with clock.frozen(T + dt.timedelta(hours=8)):
        collect(con, ["valet2026"], max_posts=40, covers=False)
    rows = con.execute(
        """SELECT a.views, b.views, a.likes, b.likes FROM post_stats a JOIN post_stats b USING (post_id)
                          WHERE a.collected_at = ? AND b.collected_at = ?""",
        [T, T + dt.timedelta(hours=8)],
    ).fetchall()
    assert len(rows) > 10
    assert all(b >= a and bl >= al for a, b, al, bl in rows) and sum(b > a for a, b, _, _ in rows) > len(rows) // 4
    assert con.execute("SELECT count(DISTINCT collected_at) FROM hashtag_stats WHERE hashtag = 'valet2026'").fetchone()[0] == 2


@pytest.mark.parametrize("kind, times", [("429", 2), ("500", 1), ("503", 2)])
def test_429_and_5xx_are_retried_with_backoff(tiktok, con, kind, times):
    tiktok.faults.add(kind, path=FEED, times=times)
    result = collect(con, ["klimat"], max_posts=30, covers=False)
    assert not result.failed and result.posts == 30
    assert len(tiktok.requests_to(FEED)) == 1 + times


def test_backoff_grows_exponentially_with_jitter_and_honours_retry_after():
    delays = [http_module.backoff_delay(n, base=1.0) for n in range(4)]
    assert all(0.5 * 2**n <= d < 1.5 * 2**n for n, d in enumerate(delays))
    assert http_module.backoff_delay(0, "7", base=0.01) == 7.0
    assert http_module.backoff_delay(10, base=1.0) <= http_module.BACKOFF_MAX_SECONDS


@pytest.mark.parametrize(
    "kind, words",
    [
        ("503", "answered 503"),
        ("429", "429 Too Many Requests"),
        ("captcha", "captcha page"),
        ("login", "login wall"),
        ("empty", "empty page"),
        ("truncated", "truncated or invalid JSON"),
    ],
)
def test_a_failing_hashtag_is_named_in_the_summary_and_the_others_continue(tiktok, con, kind, words, monkeypatch):
    tracking.add(con, ["valet2026", "klimat"])
    original = collect_web._web_hashtag

    async def klimat_fails(state, web, name, *rest):
        if name == "klimat":  # every request for klimat's feed gets the fault
            tiktok.faults.add(kind, path=FEED, times=None)
        try:
            return await original(state, web, name, *rest)
        finally:
            tiktok.faults.clear()

    settings_module.configure(settings_module.get_settings(), concurrency=1)
    monkeypatch.setattr(collect_web, "_web_hashtag", klimat_fails)
    result = recorded_collect(con, max_posts=30, covers=False)
    by_name = {o.hashtag: o for o in result.outcomes}
    assert by_name["valet2026"].ok and by_name["valet2026"].posts == 30
    assert not by_name["klimat"].ok and words in by_name["klimat"].error
    line = result.summary()
    assert "\n" not in line and "1 of 2 hashtag(s) done" in line and "#klimat" in line and words in line
    assert CANARY not in line
    if kind in ("captcha", "login", "empty", "truncated"):  # the page TikTok sent is kept in raw for inspection, and is a reject
        kept = by_name["klimat"].raw_path
        assert kept and kept in by_name["klimat"].error
        assert con.execute("SELECT count(*) FROM rejects WHERE raw_path = ?", [kept]).fetchone()[0] == 1
    assert con.execute("SELECT status FROM runs").fetchone()[0] == "completed"


def test_a_truncated_page_is_tried_once_more(tiktok, con):
    tiktok.faults.add("truncated", path=FEED, times=1)
    result = collect(con, ["klimat"], max_posts=30, covers=False)
    assert not result.failed and result.posts == 30 and len(tiktok.requests_to(FEED)) == 2


def test_slow_answers_time_out_and_are_retried(tiktok, con):
    settings_module.configure(settings_module.get_settings(), timeout_seconds=0.3)
    tiktok.faults.add("slow", path=FEED, delay=0.8)
    started = time.monotonic()
    result = collect(con, ["klimat"], max_posts=10, covers=False)
    assert not result.failed and result.posts == 10
    assert time.monotonic() - started >= 0.3 and len(tiktok.requests_to(FEED)) == 2
    tiktok.faults.add("slow", path=FEED, delay=0.5, times=3)
    result = collect(con, ["klimat"], max_posts=10, covers=False)
    assert result.failed and "did not answer within 0.3 s" in result.failed[0].error


def test_an_interrupted_run_loses_nothing_and_the_next_resumes_from_the_saved_cursor(tiktok, con, workspace, monkeypatch):
    real_keep = collect_module.RunState.keep
    calls = {"n": 0}

    def crash_on_third_feed_page(state, page):
        calls["n"] += 1
        if calls["n"] == 4:  # detail, feed 1, feed 2, then Ctrl-C right after feed page 3 was written to raw
            raise KeyboardInterrupt
        return real_keep(state, page)

    monkeypatch.setattr(collect_module.RunState, "keep", crash_on_third_feed_page)
    with pytest.raises(KeyboardInterrupt):
        recorded_collect(con, ["valet2026"], max_posts=120, covers=False)
    assert con.execute("SELECT status, error FROM runs").fetchone() == ("failed", "interrupted")
    assert con.execute("SELECT cursor, posts, done FROM collection_cursors WHERE hashtag = 'valet2026'").fetchone() == (60, 60, False)
    assert con.execute("SELECT count(*) FROM posts").fetchone()[0] == 0  # a run's pages are ingested together at its end ...
    assert len(list(workspace.raw_dir.rglob("*.meta.json"))) == 4  # ... and all four are in raw, nothing lost
    assert len(pending_pages(con)) == 4
    monkeypatch.setattr(collect_module.RunState, "keep", real_keep)
    before = len(tiktok.requests_to(FEED))
    result = collect(con, ["valet2026"], max_posts=120, covers=False)
    assert not result.failed and result.outcomes[0].resumed_from == 60 and "resumed valet2026 from 60" in result.summary()
    assert [r["query"]["cursor"] for r in tiktok.requests_to(FEED)[before:]] == ["60", "90"]
    assert pending_pages(con) == []  # the orphaned page was ingested too
    assert con.execute("SELECT count(DISTINCT post_id) FROM feed_appearances WHERE hashtag = 'valet2026'").fetchone()[0] == 120
    assert con.execute("SELECT done FROM collection_cursors WHERE hashtag = 'valet2026'").fetchone()[0] is True


def test_a_server_failure_mid_feed_resumes_next_run(tiktok, con):
    tiktok.faults.add("503", path=FEED, after=2, times=3)  # the third page fails on every attempt (1 + 2 retries)
    assert len(tiktok.world.feed("klimat", T)) > 80
    first = collect(con, ["klimat"], max_posts=80, covers=False)
    assert first.failed and first.outcomes[0].posts == 60 and "answered 503" in first.summary()
    second = collect(con, ["klimat"], max_posts=80, covers=False)
    assert not second.failed and second.outcomes[0].resumed_from == 60 and second.outcomes[0].posts == 20


def test_unknown_hashtag_fails_alone_with_a_fix(tiktok, con):
    result = collect(con, ["klimat", "finnsinte"], max_posts=5, covers=False)
    failed = {o.hashtag: o.error for o in result.failed}
    assert list(failed) == ["finnsinte"] and "track remove finnsinte" in failed["finnsinte"]


def test_nothing_tracked_and_bad_source_are_one_line_errors(tiktok, con):
    with pytest.raises(collect_module.NothingToCollectError, match="track add"):
        collect(con)
    with pytest.raises(collect_module.UnknownSourceError, match="--source web"):
        collect(con, ["klimat"], source="tiktok")


def test_user_detail_and_video_page_fallback(tiktok, con):
    post = tiktok.world.feed("klimat", T)[3]

    async def run():
        async with HttpClient(requests_per_second=0) as client:
            web = WebSource(client, StaticSession(CANARY))
            sink = RawSink("web", "20261110T080000Z-test01")
            _, info = await web.user_detail(post.author.unique_id, sink=sink)
            video = await web.video_page(post.author.unique_id, post.post_id, sink=sink)
            return info, video

    info, video = asyncio.run(run())
    assert info["user"]["uniqueId"] == post.author.unique_id and video.body_path.suffix == ".html"
    process_pending(con)
    assert con.execute("SELECT followers FROM authors WHERE unique_id = ?", [post.author.unique_id]).fetchone()[0] == post.author.followers(
        T
    )
    row = con.execute("SELECT views, description FROM posts WHERE post_id = ?", [post.post_id]).fetchone()
    assert row == (post.counts(T)["views"], post.description)


def test_monitor_snapshots_hashtag_stats_every_time(tiktok, con):
    tracking.add(con, ["valet2026", "klimat"])
    first = recorded_monitor(con)
    with clock.frozen(T + dt.timedelta(minutes=30)):
        second = recorded_monitor(con)
    assert not first.failed and not second.failed and "2 of 2 hashtag(s) snapshotted" in second.summary()
    rows = con.execute("SELECT hashtag, count(*) FROM hashtag_stats GROUP BY hashtag ORDER BY 1").fetchall()
    assert rows == [("klimat", 2), ("valet2026", 2)]
    exact = tiktok.world.hashtag_stats("klimat", T)
    assert con.execute(
        "SELECT video_count, view_count FROM hashtag_stats WHERE hashtag = 'klimat' AND collected_at = ?", [T]
    ).fetchone() == (exact["videoCount"], exact["viewCount"])
    assert con.execute("SELECT count(*) FROM runs WHERE flow = 'monitor' AND status = 'completed'").fetchone()[0] == 2


def test_rate_limit_and_concurrency(tiktok):
    async def run(rps, concurrency, n):
        async with HttpClient(requests_per_second=rps, concurrency=concurrency) as client:
            started = time.monotonic()
            await asyncio.gather(*(client.request("GET", tiktok.base_url + "/_offline/state") for _ in range(n)))
            return time.monotonic() - started

    assert asyncio.run(run(20, 5, 6)) >= 0.24  # 6 starts at 20/s: at least 5 intervals of 50 ms
    tiktok.faults.add("slow", path="/_offline/state", delay=0.2, times=None)
    assert asyncio.run(run(0, 1, 3)) >= 0.6  # one at a time
    assert asyncio.run(run(0, 3, 3)) < 0.55  # all at once


def test_proxy_comes_from_settings(tiktok):
    """With the offline server as the proxy, a request for a host that does not exist reaches it."""
    settings = settings_module.get_settings().replace(proxy=tiktok.base_url)

    async def run():
        async with HttpClient(settings, requests_per_second=0, retries=0) as client:
            return await client.request("GET", "http://tiktok.invalid/_offline/state")

    response = asyncio.run(run())
    assert response.ok and json.loads(response.body)["hashtags"]
    assert settings.public()["proxy"] == "***"  # a proxy URL may hold a password: it is a secret


def test_collect_cli_prints_one_summary_line_and_never_the_token(tiktok, workspace, capsys, monkeypatch):
    db = str(workspace.db_target)
    for name, value in {
        "MS_TOKEN": CANARY,
        "WEB_BASE_URL": tiktok.base_url,
        "MEDIA_HOSTS": "127.0.0.1",
        "REQUESTS_PER_SECOND": "0",
        "RETRIES": "1",
    }.items():
        monkeypatch.setenv("TIKTOK_INTEL_" + name, value)  # the CLI reads its settings afresh
    assert main(["--db", db, "collect", "--hashtag", "klimat", "--max-posts", "20", "--no-covers"]) == 0
    out = capsys.readouterr()
    assert out.out.count("\n") == 1 and "collect (web)" in out.out and "20 posts" in out.out
    assert CANARY not in out.out + out.err
    with open_db(db, read_only=True) as con:  # one run, one row in runs: the collection is its step
        [(flow, status, steps)] = con.execute("SELECT flow, status, steps FROM runs").fetchall()
    assert (flow, status) == ("collect", "completed") and [step["name"] for step in json.loads(steps)] == ["collect"]
    assert main(["--db", db, "collect", "--since", "2026-11-01"]) == 1
    assert "for --source research" in capsys.readouterr().err
    tiktok.faults.add("captcha", path=FEED, times=None)
    assert main(["--db", db, "collect", "--hashtag", "klimat", "--max-posts", "20"]) == 1
    out = capsys.readouterr()
    assert "captcha" in out.out and CANARY not in out.out + out.err
    tiktok.faults.clear()
    assert main(["--db", db, "monitor", "--hashtag", "klimat"]) == 0
    assert "videos" in capsys.readouterr().out


def test_a_raw_only_collection_needs_no_lock_and_writes_nothing_but_raw_pages(tiktok, workspace, capsys, monkeypatch):
    from tiktok_intel.settings import DECLARED
    from tiktok_intel.store import connection

    current = settings_module.get_settings()  # the command line reads its settings from the environment
    for setting in DECLARED:
        if setting.name in ("workspace", "web_base_url", "research_base_url", "ms_token", "requests_per_second", "retries", "media_hosts"):
            value = getattr(current, setting.name)
            monkeypatch.setenv(setting.env, ",".join(value) if isinstance(value, tuple) else str(value))
    monkeypatch.setenv("TIKTOK_INTEL_LOCK_TIMEOUT_SECONDS", "2")  # a command that took the lock would give up at once

    with connection() as con:
        tracking.add(con, ["klimat"])
    with write_lock_held_by_another_run():
        assert main(["collect", "--raw-only", "--max-posts", "60"]) == 0  # did not wait for the lock
    out = capsys.readouterr().out
    assert "raw pages only" in out and "1 of 1 hashtag(s) done, 60 posts in 3 pages" in out and "tiktok-intel process" in out
    with connection() as con:
        assert con.execute("SELECT count(*) FROM posts").fetchone()[0] == 0
        assert con.execute("SELECT count(*) FROM runs").fetchone()[0] == 0  # nothing written to the store
        assert con.execute("SELECT count(*) FROM collection_cursors").fetchone()[0] == 0
        comment_pages = len(tiktok.requests_to("/api/comment/"))  # the posts' top comments (and replies), raw too
        assert comment_pages >= 60 and f"comments in {comment_pages} pages" in out
        waiting = pending_pages(con)  # the hashtag's page and two feed pages, and the run's downloads, waiting in raw
        assert len(waiting) == 4 + comment_pages and [p.source for p in waiting].count("downloads") == 1
        downloaded = {
            p.relative_to(workspace.media_dir).as_posix()
            for p in workspace.media_dir.glob("*/*")
            if p.parent.name in ("videos", "slides", "captions") and not p.name.endswith((".refused", ".removed"))
        }
        assert {d.split("/")[0] for d in downloaded} == {"videos", "slides", "captions"}  # while collecting
        assert con.execute("SELECT count(*) FROM media").fetchone()[0] == 0
        stats = process_pending(con)
        assert stats.pages == 4 + comment_pages and con.execute("SELECT count(*) FROM posts").fetchone()[0] == 60
        assert con.execute("SELECT count(DISTINCT post_id) FROM comments").fetchone()[0] > 0
        recorded = dict(con.execute("SELECT path, sha256 FROM media WHERE kind <> 'cover'").fetchall())
        assert set(recorded) == downloaded and sum(stats.media_saved.values()) == len(downloaded)  # recorded by the writer
        assert all(hashlib.sha256((workspace.media_dir / p).read_bytes()).hexdigest() == sha for p, sha in recorded.items())
        assert "media downloaded by raw-only runs: " in stats.summary()
        unoffered = (
            "SELECT count(*) FROM media m WHERE NOT EXISTS "
            "(SELECT 1 FROM media_sources s WHERE s.post_id = m.post_id AND s.kind = m.kind AND s.seq = m.seq)"
        )
        assert con.execute(unoffered).fetchone()[0] == 0  # what was offered, recorded too
    again = collect(None, max_posts=60, covers=False)
    assert again.posts == 60 and again.counts()["new_posts"] == 0  # the same posts: ingested once


def test_the_collect_summary_counts_the_pages_that_failed_and_the_run_goes_on(tiktok, workspace, capsys, monkeypatch):
    """Pages that raise in both readers are marked failed; the collection's one line says how many
    and where to look, and its ``runs`` step counts them."""
    from tiktok_intel.ingest import pages as pages_module
    from tiktok_intel.ingest import sql_reader

    real_parse = pages_module.iter_parse

    def parse(data, *args, **kwargs):
        if b"itemList" in data:
            raise TypeError("a parser that trips over this page")
        return real_parse(data, *args, **kwargs)

    def load(*args, **kwargs):
        raise RuntimeError("the SQL reader trips")

    monkeypatch.setattr(pages_module, "iter_parse", parse)
    monkeypatch.setattr(sql_reader, "load", load)
    for name, value in {"WEB_BASE_URL": tiktok.base_url, "MEDIA_HOSTS": "127.0.0.1", "REQUESTS_PER_SECOND": "0", "RETRIES": "1"}.items():
        monkeypatch.setenv("TIKTOK_INTEL_" + name, value)
    db = str(workspace.db_target)
    assert main(["--db", db, "collect", "--hashtag", "klimat", "--max-posts", "60", "--no-covers"]) == 0
    out = capsys.readouterr().out
    with open_db(db, read_only=True) as con:
        failed = con.execute("SELECT count(*) FROM failed_pages").fetchone()[0]
        [(steps,)] = con.execute("SELECT steps FROM runs").fetchall()
    assert failed >= 2 and f"{failed} pages failed (`tiktok-intel status` lists them" in out and out.count("\n") == 1
    assert json.loads(steps)[0]["counts"]["failed_pages"] == failed
