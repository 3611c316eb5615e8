"""Availability: the offline TikTok removes, privatises and region-blocks posts over time with
TikTok's status codes; `recheck` records each status once, when first seen; the removed-posts
report keeps each gone post's last stored copy; the sixth schedule."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from tiktok_intel import clock, schedules, tracking
from tiktok_intel import settings as settings_module
from tiktok_intel.analyses import availability
from tiktok_intel.cli import main
from tiktok_intel.collect import collect
from tiktok_intel.collect.recheck import candidates, classify, classify_page, recheck
from tiktok_intel.offline import OfflineTikTok
from tiktok_intel.offline.world import World
from tiktok_intel.orchestration import steps
from tiktok_intel.sources import http as http_module
from tiktok_intel.store import Workspace

T = dt.datetime(2026, 11, 10, 8, 0)
CANARY = "msTokenCANARY-77aa01"


@pytest.mark.parametrize(
    "answer,status",
    [
        ({"itemInfo": {"itemStruct": {"id": "1", "desc": "x"}}, "statusCode": 0}, "available"),
        ({"itemInfo": {"itemStruct": {"id": "1", "privateItem": True}}, "statusCode": 0}, "private"),
        ({"statusCode": 10204, "statusMsg": "item doesn't exist"}, "removed"),
        ({"status_code": 10217, "status_msg": ""}, "removed"),
        ({"statusCode": 10216, "statusMsg": ""}, "private"),
        ({"statusCode": 10222, "statusMsg": "this account is private"}, "private"),
        ({"statusCode": 10219, "statusMsg": "not available in your region"}, "region_blocked"),
        ({"statusCode": 10999, "statusMsg": "Video isn't available in your country"}, "region_blocked"),
        ({"statusCode": 10999, "statusMsg": "something else"}, "unknown"),
        ({"itemInfo": {}}, "unknown"),
        (["not", "a", "dict"], "unknown"),
    ],
)
def test_tiktoks_answers_map_to_statuses(answer, status):
    found, detail = classify(answer)
    assert found == status
    if isinstance(answer, dict) and answer.get("statusCode", 0) != 0:
        assert f"statusCode {answer['statusCode']}" in detail


def test_a_video_page_says_the_same():
    page = b'<html><script id="__UNIVERSAL_DATA_FOR_REHYDRATION__" type="application/json">{"__DEFAULT_SCOPE__": {"webapp.video-detail": {"statusCode": 10216, "statusMsg": "private"}}}</script></html>'
    assert classify_page(page) == ("private", "statusCode 10216: private")
    assert classify_page(b"<html>captcha</html>")[0] == "unknown"


def test_fates_drawn_from_the_seed_are_deterministic_and_leave_the_feed():
    a, b = World(3, fate_rate=0.2), World(3, fate_rate=0.2)
    assert a.fates.all() == b.fates.all() and len(a.fates.all()) > 50
    assert {f.status for f in a.fates.all().values()} == {"removed", "private", "private_account", "region_blocked"}
    post_id, fate = next(iter(sorted(a.fates.all().items(), key=lambda kv: kv[1].at)))
    tag = a.posts_by_id[post_id].hashtags[0]
    assert post_id in [p.post_id for p in a.feed(tag, fate.at - dt.timedelta(seconds=1))]
    assert post_id not in [p.post_id for p in a.feed(tag, fate.at)]
    assert World(3).fates.all() == {}  # off unless asked for: the other offline tests keep their numbers


@pytest.fixture
def tiktok(workspace, monkeypatch):
    monkeypatch.setattr(http_module, "BACKOFF_BASE_SECONDS", 0.01)
    with clock.frozen(T), OfflineTikTok(seed=7) as server:
        settings_module.configure(
            workspace, ms_token=CANARY, requests_per_second=0, retries=1, timeout_seconds=5, **server.settings_overrides()
        )
        ws = Workspace.current()
        with ws.connection() as con:
            tracking.add(con, ["valet2026"])
            collect(con, ["valet2026"], max_posts=30, covers=False)
        yield server, ws


def _ids(ws, n=3):
    with ws.connection() as con:
        return [r[0] for r in con.execute("SELECT post_id FROM posts ORDER BY post_id LIMIT ?", [n]).fetchall()]


def test_recheck_records_each_status_once_when_first_seen(tiktok):
    server, ws = tiktok
    removed, private, blocked = _ids(ws)
    server.world.fates.set(removed, "removed", T + dt.timedelta(hours=1))
    server.world.fates.set(private, "private", T + dt.timedelta(hours=1))
    server.world.fates.set(blocked, "region_blocked", T + dt.timedelta(hours=5))
    with clock.frozen(T + dt.timedelta(hours=2)):
        first = recheck(ws)
    assert first.asked == 30 and first.failed == 0
    assert first.statuses == {"available": 28, "removed": 1, "private": 1}
    assert sorted(first.gone) == sorted([removed, private]) and first.changed == 30  # the first status of each post
    assert len(server.requests_to("/api/item/detail/")) == 30
    with clock.frozen(T + dt.timedelta(hours=6)):
        second = recheck(ws)
    assert second.changed == 1 and second.gone == [blocked]  # only the region block is new
    server.world.fates.set(removed, None, T)  # restored
    with clock.frozen(T + dt.timedelta(hours=12)):
        third = recheck(ws)
    assert third.changed == 1 and third.gone == []
    with ws.connection() as con:
        history = con.execute("SELECT checked_at, status FROM post_status WHERE post_id = ? ORDER BY checked_at", [removed]).fetchall()
        assert history == [(T + dt.timedelta(hours=2), "removed"), (T + dt.timedelta(hours=12), "available")]
        assert con.execute("SELECT count(*) FROM post_status").fetchone()[0] == 32
        assert con.execute("SELECT status, checked_at FROM post_checks WHERE post_id = ?", [blocked]).fetchone() == (
            "region_blocked",
            T + dt.timedelta(hours=12),
        )
        # an available post's answer was ingested: a fresh snapshot of its counts at the recheck's time
        assert (
            con.execute("SELECT count(*) FROM post_stats WHERE collected_at = ?", [T + dt.timedelta(hours=12)]).fetchone()[0] == 28
        )  # all but the private and the blocked
        report = availability.removed_posts(con)
    assert list(report["post_id"]) == [blocked, private]  # most recently gone first; the restored post is not there
    row = report.set_index("post_id").loc[private]
    assert row["status"] == "private" and row["first_seen_gone"] == T + dt.timedelta(hours=2)
    assert row["last_seen_available"] == T  # collected at T, never seen available since
    assert row["caption"] and row["views"] > 0 and row["link"].endswith(f"/video/{private}") and "10216" in row["detail"]
    assert availability.removed_posts(
        pytest.importorskip("duckdb").connect(str(ws.db_target), read_only=True), since=T + dt.timedelta(hours=3)
    ).post_id.tolist() == [blocked]


def test_recheck_takes_the_most_recently_active_first_and_at_most_max_posts(tiktok):
    server, ws = tiktok
    with ws.connection() as con:
        con.execute("UPDATE posts SET last_seen_at = ? WHERE post_id = (SELECT min(post_id) FROM posts)", [T + dt.timedelta(minutes=5)])
        con.execute("UPDATE posts SET last_seen_at = ? WHERE post_id = (SELECT max(post_id) FROM posts)", [T - dt.timedelta(days=9)])
        oldest = con.execute("SELECT max(post_id) FROM posts").fetchone()[0]
        first = con.execute("SELECT min(post_id) FROM posts").fetchone()[0]
        picked = candidates(con, days=7, limit=100, now=T + dt.timedelta(hours=1))
    assert picked[0][0] == first and oldest not in [p for p, _ in picked] and len(picked) == 29
    with clock.frozen(T + dt.timedelta(hours=1)):
        result = recheck(ws, max_posts=5)
    asked = [r["query"]["itemId"] for r in server.requests_to("/api/item/detail/")]
    # the five most recently active are asked (at once: the order they reach TikTok is not theirs)
    assert result.asked == 5 and set(asked) == {p for p, _ in picked[:5]} and first in asked
    with clock.frozen(T + dt.timedelta(hours=2)):
        recheck(ws, max_posts=24)
    later = [r["query"]["itemId"] for r in server.requests_to("/api/item/detail/")][5:]
    assert len(later) == 24 and not set(later) & set(asked)  # the others get their turn
    with clock.frozen(T + dt.timedelta(hours=3)):
        recheck(ws, max_posts=5)
    assert {r["query"]["itemId"] for r in server.requests_to("/api/item/detail/")[29:]} == set(asked)  # least recently checked


def test_when_the_item_detail_fails_the_video_page_answers(tiktok):
    server, ws = tiktok
    [gone] = _ids(ws, 1)
    server.world.fates.set(gone, "removed", T)
    server.faults.add("500", path="/api/item/detail/", times=None)
    with clock.frozen(T + dt.timedelta(hours=1)):
        result = recheck(ws, max_posts=30)
    assert result.failed == 0 and result.statuses == {"available": 29, "removed": 1}
    assert len(server.requests_to("/@")) == 30


def test_tiktok_unreachable_records_nothing_and_is_worth_a_retry(tiktok):
    server, ws = tiktok
    server.faults.add("500", times=None)
    with clock.frozen(T + dt.timedelta(hours=1)), pytest.raises(steps.FetchFailedError, match="could not be asked"):
        steps.recheck(ws)
    with ws.connection() as con:
        assert con.execute("SELECT count(*) FROM post_status").fetchone()[0] == 0


def test_cli_recheck_and_report_removed(tiktok, capsys, monkeypatch):
    server, ws = tiktok
    for name, value in {"MS_TOKEN": CANARY, "WEB_BASE_URL": server.base_url, "REQUESTS_PER_SECOND": "0", "RETRIES": "1"}.items():
        monkeypatch.setenv("TIKTOK_INTEL_" + name, value)  # the CLI reads its settings afresh
    [gone] = _ids(ws, 1)
    server.world.fates.set(gone, "region_blocked", T)
    with clock.frozen(T + dt.timedelta(hours=1)):
        assert main(["--db", ws.db_target, "recheck", "--max-posts", "10"]) == 0
    err = capsys.readouterr().err
    assert "recheck" in err and "1 region blocked" in err and CANARY not in err
    assert main(["--db", ws.db_target, "report", "removed", "--since", "2026-11-10", "--format", "json"]) == 0
    [row] = json.loads(capsys.readouterr().out)
    assert row["post_id"] == gone and row["status"] == "region_blocked" and row["link"].startswith("https://www.tiktok.com/@")
    assert main(["--db", ws.db_target, "report", "removed", "--status", "removed"]) == 0
    assert "no removed" in capsys.readouterr().err
    with ws.connection() as con:
        [(flow, status, steps_json)] = con.execute("SELECT flow, status, steps FROM runs WHERE flow = 'recheck'").fetchall()
    assert status == "completed" and json.loads(steps_json)[0]["counts"]["asked"] == 10


def test_the_sixth_schedule_is_wired_like_the_other_five():
    job = schedules.job("recheck")
    assert job.cron == "20 */6 * * *" and steps.STEPS["recheck"] is steps.recheck
    hours = {t.hour for t in schedules.next_runs(job, 8, after=dt.datetime(2026, 11, 10), tz="UTC")}
    assert hours == {0, 6, 12, 18}
