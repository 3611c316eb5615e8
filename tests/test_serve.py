"""`tiktok-intel serve`: a real Prefect server under the workspace, the five deployments with the
user's cron strings and time zone, scheduled runs at the expected times, Ctrl-C ends it."""
from __future__ import annotations

import datetime as dt
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tiktok_intel import schedules

pytestmark = pytest.mark.slow
PROJECT = Path(__file__).resolve().parents[1]
EXPECTED = {
    "hashtag-monitoring": "*/30 * * * *",
    "content": "1 0,8,16 * * *",
    "post-trends": "0 1,9,17 * * *",
    "author-trends": "5 1,9,17 * * *",
    "association-rules": "30 1 * * *",
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(1)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """`tiktok-intel serve` in its own process (as a user runs it), on a free port."""
    workspace = tmp_path_factory.mktemp("serve") / "data"
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "TIKTOK_INTEL_"))}
    env.update({"TIKTOK_INTEL_WORKSPACE": str(workspace), "PREFECT_UI_ENABLED": "false", "TIKTOK_INTEL_PROGRESS": "0"})
    log = open(workspace.parent / "serve.log", "w")
    started = dt.datetime.now(dt.timezone.utc)
    process = subprocess.Popen([sys.executable, "-m", "tiktok_intel", "serve", "--port", str(port)], cwd=str(workspace.parent),
                               env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    api = f"http://127.0.0.1:{port}/api"
    try:
        def deployments():
            if process.poll() is not None:
                raise AssertionError(f"serve exited: {(workspace.parent / 'serve.log').read_text()[-2000:]}")
            try:
                found = httpx.post(f"{api}/deployments/filter", json={}, timeout=5).json()
            except (httpx.HTTPError, ValueError):
                return None
            return found if len(found) == 5 else None
        found = wait_for(deployments, 120, "the five deployments")
        yield {"process": process, "api": api, "deployments": found, "started": started, "workspace": workspace,
               "log": workspace.parent / "serve.log"}
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(10)
        log.close()


def test_serve_registers_the_five_deployments_with_the_users_cron_and_time_zone(served):
    by_name = {d["name"]: d for d in served["deployments"]}
    assert set(by_name) == set(EXPECTED)
    for name, cron in EXPECTED.items():
        [schedule] = by_name[name]["schedules"]
        assert schedule["schedule"]["cron"] == cron, name
        assert schedule["schedule"]["timezone"] == "Europe/Stockholm", name
        assert schedule["active"] is True and by_name[name]["paused"] is False
    assert (served["workspace"] / "prefect").is_dir()  # the server's state lives in the workspace


def test_the_server_holds_scheduled_runs_at_the_expected_next_times(served):
    api = served["api"]
    by_name = {d["name"]: d for d in served["deployments"]}

    def scheduled(deployment_id):
        body = {"deployments": {"id": {"any_": [deployment_id]}}, "flow_runs": {"state": {"type": {"any_": ["SCHEDULED"]}}},
                "sort": "EXPECTED_START_TIME_ASC", "limit": 3}
        runs = httpx.post(f"{api}/flow_runs/filter", json=body, timeout=10).json()
        return runs if len(runs) == 3 else None

    for name in EXPECTED:
        runs = wait_for(lambda: scheduled(by_name[name]["id"]), 90, f"scheduled runs of {name}")
        times = [dt.datetime.fromisoformat(r["expected_start_time"].replace("Z", "+00:00")) for r in runs]
        assert times[0] > served["started"] - dt.timedelta(seconds=1)
        expected = schedules.next_runs(schedules.job(name), 3, after=times[0] - dt.timedelta(seconds=1), tz="Europe/Stockholm")
        assert times == [t.astimezone(dt.timezone.utc) for t in expected], name
        # and the first is the next time the cron fires after serve started (or a later one, if one passed meanwhile)
        first_expected = schedules.next_runs(schedules.job(name), 1, after=served["started"], tz="Europe/Stockholm")[0]
        assert times[0] >= first_expected.astimezone(dt.timezone.utc)


def test_a_run_of_a_served_deployment_executes_its_flow_and_records_it(served):
    api = served["api"]
    deployment = {d["name"]: d for d in served["deployments"]}["author-trends"]
    run = httpx.post(f"{api}/deployments/{deployment['id']}/create_flow_run", json={}, timeout=10).json()

    def final():
        state = httpx.get(f"{api}/flow_runs/{run['id']}", timeout=10).json()["state"]["type"]
        return state if state in ("COMPLETED", "FAILED", "CRASHED", "CANCELLED") else None
    assert wait_for(final, 120, "the flow run to finish") == "COMPLETED", served["log"].read_text()[-3000:]
    import duckdb
    con = duckdb.connect(str(served["workspace"] / "tiktok.duckdb"), read_only=True)
    try:
        assert con.execute("SELECT flow, status FROM runs").fetchall() == [("author-trends", "completed")]
    finally:
        con.close()


def test_ctrl_c_stops_serve_and_its_server_cleanly(served):
    process = served["process"]
    process.send_signal(signal.SIGINT)
    assert process.wait(45) == 0
    output = served["log"].read_text()
    assert "stopped" in output and "Traceback" not in output
    with pytest.raises(httpx.HTTPError):
        httpx.get(f"{served['api']}/health", timeout=3)
