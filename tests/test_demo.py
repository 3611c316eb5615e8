"""`make demo` / `tiktok-intel demo`: the schedules replayed in fast-forward against the offline
TikTok at the simulated times, the real flows and a weekly user job at the end, reuse of a finished
demo, and a workspace the demo did not build left alone."""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from pathlib import Path

import duckdb
import prefect_harness
import pytest

from tiktok_intel import demo, jobs
from tiktok_intel.cli import main
from tiktok_intel.store import open_db

pytestmark = pytest.mark.slow
END = dt.datetime(2026, 11, 17, 11, 47)  # UTC; no daylight-saving change in the days before


def test_the_timeline_holds_every_firing_of_the_six_schedules_in_order():
    firings = demo.timeline(END - dt.timedelta(days=14), END)
    assert Counter(f.job for f in firings) == {
        "hashtag-monitoring": 672,
        "content": 42,
        "post-trends": 42,
        "author-trends": 42,
        "association-rules": 14,
        "recheck": 56,
    }
    assert [f.at for f in firings] == sorted(f.at for f in firings)
    assert END - dt.timedelta(days=14) < firings[0].at and firings[-1].at <= END
    content = [f.at for f in firings if f.job == "content"]
    assert {(t.hour, t.minute) for t in content} == {(23, 1), (7, 1), (15, 1)}  # 00:01, 08:01, 16:01 in Stockholm (UTC+1)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """A one-day demo, real flows included (on Prefect's test harness), as `tiktok-intel demo` builds it."""
    prefect_harness.start()
    from flows.cli import run_flow_in_place
    from tiktok_intel import settings as settings_module

    workspace = tmp_path_factory.mktemp("demo") / "data"
    previous = settings_module.get_settings()
    settings_module.configure(settings_module.load_settings(environ={}, dotenv=None), workspace=workspace)
    lines: list[str] = []
    try:
        result = demo.build(workspace, days=1, end=END, say=lines.append, run_flow=run_flow_in_place)
    finally:
        settings_module.configure(previous)
    return {"demo": result, "workspace": workspace, "lines": lines}


def query(workspace: Path, sql: str, params=None):
    con = duckdb.connect(str(workspace / "tiktok.duckdb"), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def test_every_monitoring_firing_snapshots_at_its_simulated_time(built):
    workspace = built["workspace"]
    firings = demo.timeline(END - dt.timedelta(days=1), END)
    assert built["demo"].firings == len(firings) == 62
    snapshots = query(workspace, "SELECT collected_at, count(*) FROM hashtag_stats GROUP BY collected_at ORDER BY collected_at")
    # monitoring and each collection (it reads the hashtag's page too) snapshot, + the real flows at the end
    expected = sorted({f.at for f in firings if f.job in ("hashtag-monitoring", "content")} | {END})
    assert [t for t, _ in snapshots] == expected
    assert {n for _, n in snapshots} == {len(demo.HASHTAGS)}
    collections = query(workspace, "SELECT DISTINCT collected_at FROM post_stats ORDER BY 1")
    # each collection snapshots the posts' counts, and so does each recheck (the item detail of the posts still there)
    assert [t for (t,) in collections] == sorted({f.at for f in firings if f.job in ("content", "recheck")} | {END})
    # no reject but the rechecks' answers for posts TikTok no longer shows (they hold no post)
    assert query(workspace, "SELECT count(*) FROM rejects WHERE reason NOT LIKE 'TikTok answered statusCode 10%: no post'")[0][0] == 0


def test_the_flows_and_the_weekly_job_ran_for_real_with_reports(built):
    workspace = built["workspace"]
    runs = {
        flow: (status, path)
        for flow, status, path in query(workspace, "SELECT flow, status, notebook_path FROM runs WHERE notebook_path IS NOT NULL")
    }
    assert set(runs) == {"hashtag-monitoring", "content", "post-trends", "author-trends", "association-rules", "recheck", "weekly-brief"}
    for flow, (status, path) in runs.items():
        assert status == "completed", flow
        assert Path(path).with_suffix(".html").is_file(), flow
    assert Path(runs["weekly-brief"][1]).parent.parent == workspace.resolve() / "reports" / "weekly-brief"
    [job] = jobs.load(workspace / "jobs.toml")
    assert (job.name, job.cron, job.publish) == ("weekly-brief", "0 7 * * 1", True)
    assert jobs.problems(job, workspace / "jobs.toml") == []
    assert sorted(built["demo"].flows) == sorted(runs)
    assert query(workspace, "SELECT count(*) FROM image_hashes")[0][0] > 0  # covers hashed for image search
    # the demo's alert rules sent their digests to a local webhook during the replay: near-duplicate copies at the first collection
    inbox = [json.loads(line) for line in (workspace / "alerts-inbox.jsonl").read_text().splitlines()]
    assert {m["rule"] for m in inbox} <= {"gone", "spike", "copies"} and "copies" in built["demo"].alerts
    assert all(item["link"].startswith("https://www.tiktok.com/") for m in inbox for item in m["items"])
    assert (workspace / "alerts.demo.toml").is_file() and not (workspace / "alerts.toml").exists()
    assert query(workspace, "SELECT count(*) FROM post_checks")[0][0] > 0  # the rechecks ran
    summary = built["demo"].summary()
    assert "\n" not in summary and "62 scheduled firings fast-forwarded, 7 real flow runs with reports" in summary


def test_a_second_run_reuses_the_finished_demo(built, capsys):
    workspace = built["workspace"]
    before = query(workspace, "SELECT count(*) FROM posts")[0][0], query(workspace, "SELECT count(*) FROM runs")[0][0]
    assert main(["--db", str(workspace / "tiktok.duckdb"), "demo", "--no-serve"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"demo: reusing {workspace}") and "--rebuild" in out
    assert (query(workspace, "SELECT count(*) FROM posts")[0][0], query(workspace, "SELECT count(*) FROM runs")[0][0]) == before


def test_a_workspace_the_demo_did_not_build_is_left_alone(workspace, capsys):
    open_db().close()  # someone's own workspace
    database = Path(workspace.db_target)
    size = database.stat().st_size
    assert main(["--db", str(database), "demo", "--no-serve"]) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "holds a workspace the demo did not build" in err
    assert database.stat().st_size == size and not (database.parent / demo.MARKER).exists()


def test_an_interrupted_demo_is_built_again(workspace):
    folder = Path(workspace.db_target).parent
    open_db().close()  # what an interrupted build left: its database, and a marker that says unfinished
    (folder / demo.MARKER).write_text(json.dumps({"complete": False, "start": "2026-11-16T11:47:00", "end": END.isoformat()}))
    (folder / "raw").mkdir(exist_ok=True)
    (folder / "raw" / "stale.json").write_text("{}")
    result = demo.build(folder, days=0.1, end=END)  # no run_flow: the replay only
    assert not result.reused and result.firings == len(demo.timeline(END - dt.timedelta(days=0.1), END))
    assert not (folder / "raw" / "stale.json").exists()
    assert json.loads((folder / demo.MARKER).read_text())["complete"] is True
