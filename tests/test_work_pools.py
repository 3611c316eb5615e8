"""`tiktok-intel deploy --pool collectors --pool writer` (docs/scaling.md, section 2), with the real
parts: a `prefect server start` of its own, the deploy command, two process workers
(`prefect worker start --pool collectors` and `--pool writer`, subprocesses as on two machines
sharing one workspace folder), a content run fetched on the collectors pool against the offline
TikTok and ingested on the writer pool; then the store holds every post that was fetched."""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import time

import httpx
import lake_services
import pytest

from flows.pools import plan
from flows.server import OrchestrationError, PrefectServer
from tiktok_intel import settings as settings_module
from tiktok_intel import tracking
from tiktok_intel.offline import OfflineTikTok
from tiktok_intel.schedules import JOBS, JOBS_BY_NAME
from tiktok_intel.store import Workspace, connection

CANARY = "msTokenCANARY-pools-19"
FINAL = {"COMPLETED", "FAILED", "CRASHED", "CANCELLED"}


def _wait(predicate, timeout: float, what: str, every: float = 1.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


@pytest.fixture
def prefect_api(tmp_path, monkeypatch):
    """A throwaway `prefect server start` on a free loopback port, stopped at the end."""
    monkeypatch.setenv("PREFECT_UI_ENABLED", "false")
    with PrefectServer(tmp_path / "prefect-server", port=lake_services.free_port()) as server:
        yield server.api_url


@pytest.fixture
def machine(workspace, tmp_path):
    """The environment every process of the two "machines" gets: the shared workspace, the offline
    TikTok, the Prefect server (set by the test); two hashtags tracked."""
    with OfflineTikTok(seed=5) as server:
        overrides = dict(ms_token=CANARY, requests_per_second=0, retries=1, timeout_seconds=5, **server.settings_overrides())
        env = {k: v for k, v in os.environ.items() if not k.startswith(("TIKTOK_INTEL_", "PREFECT_"))}
        env.update(
            {
                "TIKTOK_INTEL_WORKSPACE": str(workspace.workspace_path),
                "TIKTOK_INTEL_PROGRESS": "0",
                "TIKTOK_INTEL_MS_TOKEN": CANARY,
                "TIKTOK_INTEL_REQUESTS_PER_SECOND": "0",
                "TIKTOK_INTEL_WEB_BASE_URL": overrides["web_base_url"],
                "TIKTOK_INTEL_RESEARCH_BASE_URL": overrides["research_base_url"],
                "TIKTOK_INTEL_MEDIA_HOSTS": ",".join(overrides["media_hosts"]),
                "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
                "PREFECT_HOME": str(tmp_path / "prefect-client"),
                "PREFECT_WORKER_QUERY_SECONDS": "2",  # default 10: a worker asks for work every 2 s here
                "PREFECT_WORKER_PREFETCH_SECONDS": "2",
            }
        )
        with connection() as con:
            tracking.add(con, ["valet2026", "klimat"])
        yield env


def _worker(env: dict, pool: str, log):
    return subprocess.Popen(
        [sys.executable, "-m", "prefect", "worker", "start", "--pool", pool, "--name", f"{pool}-1", "--type", "process"],
        env=env,
        cwd=env["TIKTOK_INTEL_WORKSPACE"],
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,  # its flow runs are its children: stopped with it
    )


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(30)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(10)


def test_the_plan_splits_content_over_the_two_pools_and_keeps_every_cron(workspace):
    split = {p.full_name: p for p in plan(["collectors", "writer"])}
    assert split["content-fetch/content"].pool == "collectors" and split["content-fetch/content"].cron == JOBS_BY_NAME["content"].cron
    assert split["content/content"].pool == "writer" and split["content/content"].cron is None
    assert split["content/content"].parameters == {"max_posts": 0}
    others = [p for name, p in split.items() if not name.startswith("content")]
    assert {(p.flow, p.cron) for p in others} == {(j.name, j.cron) for j in JOBS if j.name != "content"}
    assert {p.pool for p in others} == {"writer"}
    alone = {p.full_name: p for p in plan(["writer"])}
    assert alone["content/content"].cron == JOBS_BY_NAME["content"].cron and "content-fetch/content" not in alone
    assert {p.pool for p in alone.values()} == {"writer"}
    with pytest.raises(OrchestrationError, match="use --pool writer, or --pool collectors --pool writer"):
        plan(["collectors"])


@pytest.mark.slow
def test_deploy_to_two_pools_then_a_content_run_fetched_by_a_collector_and_ingested_by_the_writer(
    prefect_api, machine, workspace, tmp_path
):
    api = httpx.Client(base_url=prefect_api, timeout=10)
    env = {**machine, "PREFECT_API_URL": prefect_api}

    done = subprocess.run(
        [sys.executable, "-m", "tiktok_intel", "deploy", "--pool", "collectors", "--pool", "writer"],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[:2] == [
        "created work pool collectors (process)",
        "created work pool writer (process, concurrency limit 1)",
    ]
    assert re.search(r"^deployed content-fetch/content +pool collectors 1 0,8,16 \* \* \* \(Europe/Stockholm\)$", done.stdout, re.M)
    assert done.stdout.splitlines()[-1].startswith("7 deployments on collectors and writer: ")
    pools = {p["name"]: p for p in api.post("/work_pools/filter", json={}).json()}
    assert pools["writer"]["type"] == pools["collectors"]["type"] == "process"
    assert pools["writer"]["concurrency_limit"] == 1 and pools["collectors"]["concurrency_limit"] is None

    flows = {f["id"]: f["name"] for f in api.post("/flows/filter", json={}).json()}
    deployments = {f"{flows[d['flow_id']]}/{d['name']}": d for d in api.post("/deployments/filter", json={}).json()}
    fetch, ingest = deployments["content-fetch/content"], deployments["content/content"]
    assert fetch["work_pool_name"] == "collectors" and ingest["work_pool_name"] == "writer"
    assert [s["schedule"]["cron"] for s in fetch["schedules"]] == [JOBS_BY_NAME["content"].cron]  # the user's cron, unchanged
    assert fetch["schedules"][0]["schedule"]["timezone"] == "Europe/Stockholm"
    assert ingest["schedules"] == [] and ingest["parameters"] == {"max_posts": 0}
    for name in ("hashtag-monitoring", "post-trends", "author-trends", "association-rules", "recheck"):
        d = deployments[f"{name}/{name}"]
        assert d["work_pool_name"] == "writer" and [s["schedule"]["cron"] for s in d["schedules"]] == [JOBS_BY_NAME[name].cron]
        assert d["entrypoint"] == f"flows.{name.replace('-', '_')}.{name.replace('-', '_')}"  # the installed package, no pull steps
    assert len(deployments) == 7

    # the schedules are checked: paused now (their scheduled runs deleted), so that a run due while the
    # test runs (monitoring every 30 minutes) does not join in; a paused deployment still runs by hand
    for d in deployments.values():
        assert api.post(f"/deployments/{d['id']}/pause_deployment").status_code < 300

    logs = {pool: open(tmp_path / f"worker-{pool}.log", "wb") for pool in ("collectors", "writer")}
    workers = {pool: _worker(env, pool, log) for pool, log in logs.items()}
    try:
        _wait(
            lambda: (
                len(api.post("/work_pools/collectors/workers/filter", json={}).json()) == 1
                and len(api.post("/work_pools/writer/workers/filter", json={}).json()) == 1
            ),
            90,
            "both workers to report to the server",
        )
        # as docs/scaling.md starts one by hand (Prefect's client retries a busy server's 5xx answers)
        started = subprocess.run(
            [sys.executable, "-m", "prefect", "deployment", "run", "content-fetch/content", "--param", "max_posts=60"],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert started.returncode == 0, started.stdout + started.stderr
        run = api.get(f"/flow_runs/{re.search(r'UUID: ([0-9a-f-]{36})', started.stdout).group(1)}").json()
        assert run["deployment_id"] == fetch["id"] and run["parameters"] == {"max_posts": 60}

        def final(flow_run_id):
            def check():
                for pool, process in workers.items():
                    if process.poll() is not None:
                        raise AssertionError(f"the {pool} worker stopped: {(tmp_path / f'worker-{pool}.log').read_text()[-2000:]}")
                state = api.get(f"/flow_runs/{flow_run_id}").json()
                return state if state["state_type"] in FINAL else None

            return check

        fetched = _wait(final(run["id"]), 150, "the content-fetch run on the collectors pool")
        assert fetched["state_type"] == "COMPLETED", (tmp_path / "worker-collectors.log").read_text()[-3000:]
        assert fetched["work_pool_name"] == "collectors"
        started = api.post("/flow_runs/filter", json={"deployments": {"id": {"any_": [ingest["id"]]}}}).json()
        assert len(started) == 1  # content-fetch started its ingest
        ingested = _wait(final(started[0]["id"]), 150, "the content ingest on the writer pool")
        assert ingested["state_type"] == "COMPLETED", (tmp_path / "worker-writer.log").read_text()[-3000:]
        assert ingested["work_pool_name"] == "writer" and ingested["parameters"] == {"max_posts": 0}
    finally:
        for process in workers.values():
            _stop(process)
        for log in logs.values():
            log.close()

    fetched_ids = set()
    for body in (workspace.workspace_path / "raw").rglob("*.json"):
        if not body.name.endswith(".meta.json"):
            fetched_ids.update(i["id"] for i in json.loads(body.read_bytes()).get("itemList") or [])
    assert len(fetched_ids) > 60  # two hashtags, up to 60 posts each

    settings_module.configure(workspace)
    with Workspace.current().connection(read_only=True) as con:
        posts = {r[0] for r in con.execute("SELECT post_id FROM posts").fetchall()}
        runs = con.execute("SELECT flow, status FROM runs ORDER BY started_at").fetchall()
        with_cover = {r[0] for r in con.execute("SELECT post_id FROM posts WHERE cover_url IS NOT NULL").fetchall()}
        covers = {r[0] for r in con.execute("SELECT post_id FROM media WHERE kind = 'cover'").fetchall()}
        videos = {r[0] for r in con.execute("SELECT post_id FROM media WHERE kind = 'video'").fetchall()}
    assert posts == fetched_ids  # every post the collector fetched, ingested by the writer
    assert with_cover and covers == with_cover  # and their covers, fetched by the writer after ingesting
    downloaded = {p.stem for p in (workspace.media_dir / "videos").glob("*.mp4")}
    assert downloaded and videos == downloaded  # the videos the collector downloaded, recorded by the writer (mediashare)
    assert runs == [("content", "completed")]  # the writer's run; the collector wrote nothing to the store
    # back to one machine: deploy again with the writer pool alone
    again = subprocess.run(
        [sys.executable, "-m", "tiktok_intel", "deploy", "--pool", "writer"], env=env, capture_output=True, text=True, timeout=180
    )
    assert again.returncode == 0, again.stderr
    assert "work pool writer is there (process, concurrency limit 1)" in again.stdout
    assert "removed content-fetch/content (not in this plan)" in again.stdout
    flows = {f["id"]: f["name"] for f in api.post("/flows/filter", json={}).json()}
    now = {f"{flows[d['flow_id']]}/{d['name']}": d for d in api.post("/deployments/filter", json={}).json()}
    assert "content-fetch/content" not in now and len(now) == 6
    assert [s["schedule"]["cron"] for s in now["content/content"]["schedules"]] == [JOBS_BY_NAME["content"].cron]
    assert now["content/content"]["parameters"] == {} and not now["content/content"]["paused"]

    worker_logs = "".join((tmp_path / f"worker-{pool}.log").read_text() for pool in ("collectors", "writer"))
    assert CANARY not in worker_logs
