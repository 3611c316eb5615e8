"""`tiktok-intel serve`: a real Prefect server under the workspace, the five deployments with the
user's cron strings and time zone, scheduled runs at the expected times, the user's own jobs from
the jobs file beside them (an invalid one skipped with a message, changes picked up while
serving), Ctrl-C ends it."""

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

from tiktok_intel import jobs, schedules

pytestmark = pytest.mark.slow
PROJECT = Path(__file__).resolve().parents[1]
HELLO = PROJECT / "tests" / "fixtures" / "notebooks" / "hello_job.ipynb"
EXPECTED = {
    "hashtag-monitoring": "*/30 * * * *",
    "content": "1 0,8,16 * * *",
    "post-trends": "0 1,9,17 * * *",
    "author-trends": "5 1,9,17 * * *",
    "association-rules": "30 1 * * *",
    "recheck": "20 */6 * * *",
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def read_store(served, sql: str) -> list[tuple]:
    """Rows from the served workspace's store, waiting while a flow has it open (the schedules keep
    firing during the tests: at :00 and :30 monitoring, at 01:30 the rules)."""
    import duckdb

    def attempt():
        try:
            con = duckdb.connect(str(served["workspace"] / "tiktok.duckdb"), read_only=True)
        except duckdb.IOException as exc:
            if "lock" not in str(exc):
                raise
            return None
        try:
            return [con.execute(sql).fetchall()]
        finally:
            con.close()

    return wait_for(attempt, 120, "the store to be free to read")[0]


def start_run(api: str, deployment_id: str) -> dict:
    """A run of the deployment created through the API, as Prefect's own client does it: a 503 (the
    server's SQLite database locked while the machine is busy) is tried again, anything else is shown."""
    for _ in range(10):
        answer = httpx.post(f"{api}/deployments/{deployment_id}/create_flow_run", json={}, timeout=10)
        if answer.status_code != 503:
            break
        time.sleep(1)
    assert answer.status_code == 201, f"{answer.status_code}: {answer.text[:500]}"
    return answer.json()


def final_state(api: str, run: dict) -> str | None:
    """The run's state once it has ended (``None`` before, and while the server answers 503)."""
    answer = httpx.get(f"{api}/flow_runs/{run['id']}", timeout=10)
    if answer.status_code == 503:
        return None
    assert answer.status_code == 200, f"{answer.status_code}: {answer.text[:500]}"
    state = answer.json()["state"]["type"]
    return state if state in ("COMPLETED", "FAILED", "CRASHED", "CANCELLED") else None


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
    jobs.save(
        [
            jobs.UserJob("hello-weekly", str(HELLO), "0 7 * * 1", timezone="UTC", parameters={"greeting": "served"}, publish=True),
            jobs.UserJob("broken", str(HELLO), "0 7 * * 1", parameters={"colour": "red"}),
            jobs.UserJob("bad-cron", str(HELLO), "61 7 * * 1"),
        ],
        workspace / "jobs.toml",
    )
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "TIKTOK_INTEL_"))}
    env.update({"TIKTOK_INTEL_WORKSPACE": str(workspace), "PREFECT_UI_ENABLED": "false", "TIKTOK_INTEL_PROGRESS": "0"})
    log = open(workspace.parent / "serve.log", "w")
    started = dt.datetime.now(dt.UTC)
    process = subprocess.Popen(
        [sys.executable, "-m", "tiktok_intel", "serve", "--port", str(port)],
        cwd=str(workspace.parent),
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
    )
    api = f"http://127.0.0.1:{port}/api"
    try:

        def deployments():
            if process.poll() is not None:
                raise AssertionError(f"serve exited: {(workspace.parent / 'serve.log').read_text()[-2000:]}")
            try:
                found = httpx.post(f"{api}/deployments/filter", json={}, timeout=5).json()
            except (httpx.HTTPError, ValueError):
                return None
            return found if len(found) == len(EXPECTED) + 1 else None

        found = wait_for(deployments, 120, "the five deployments and the valid user job")
        yield {
            "process": process,
            "api": api,
            "deployments": found,
            "started": started,
            "workspace": workspace,
            "log": workspace.parent / "serve.log",
        }
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(10)
        log.close()


def built_in(deployments: list[dict]) -> list[dict]:
    return [d for d in deployments if "user-job" not in d["tags"]]


def test_serve_registers_the_five_deployments_with_the_users_cron_and_time_zone(served):
    by_name = {d["name"]: d for d in built_in(served["deployments"])}
    assert set(by_name) == set(EXPECTED)
    for name, cron in EXPECTED.items():
        [schedule] = by_name[name]["schedules"]
        assert schedule["schedule"]["cron"] == cron, name
        assert schedule["schedule"]["timezone"] == "Europe/Stockholm", name
        assert schedule["active"] is True and by_name[name]["paused"] is False
    assert (served["workspace"] / "prefect").is_dir()  # the server's state lives in the workspace


def test_the_server_holds_scheduled_runs_at_the_expected_next_times(served):
    api = served["api"]
    by_name = {d["name"]: d for d in built_in(served["deployments"])}

    def scheduled(deployment_id):
        body = {
            "deployments": {"id": {"any_": [deployment_id]}},
            "flow_runs": {"state": {"type": {"any_": ["SCHEDULED"]}}},
            "sort": "EXPECTED_START_TIME_ASC",
            "limit": 3,
        }
        runs = httpx.post(f"{api}/flow_runs/filter", json=body, timeout=10).json()
        return runs if len(runs) == 3 else None

    for name in EXPECTED:
        runs = wait_for(lambda: scheduled(by_name[name]["id"]), 90, f"scheduled runs of {name}")
        times = [dt.datetime.fromisoformat(r["expected_start_time"].replace("Z", "+00:00")) for r in runs]
        assert times[0] > served["started"] - dt.timedelta(seconds=1)
        expected = schedules.next_runs(schedules.job(name), 3, after=times[0] - dt.timedelta(seconds=1), tz="Europe/Stockholm")
        assert times == [t.astimezone(dt.UTC) for t in expected], name
        # and the first is the next time the cron fires after serve started (or a later one, if one passed meanwhile)
        first_expected = schedules.next_runs(schedules.job(name), 1, after=served["started"], tz="Europe/Stockholm")[0]
        assert times[0] >= first_expected.astimezone(dt.UTC)


def test_a_run_of_a_served_deployment_executes_its_flow_and_records_it(served):
    api = served["api"]
    deployment = {d["name"]: d for d in served["deployments"]}["author-trends"]
    run = start_run(api, deployment["id"])

    assert wait_for(lambda: final_state(api, run), 120, "the flow run to finish") == "COMPLETED", served["log"].read_text()[-3000:]
    rows = read_store(served, "SELECT flow, status FROM runs WHERE flow = 'author-trends'")
    assert rows == [("author-trends", "completed")]


def user_deployments(api: str) -> dict[str, dict]:
    """The user-job deployments by name (a removed job's stays, paused, until serve restarts)."""
    found = httpx.post(f"{api}/deployments/filter", json={"deployments": {"tags": {"all_": ["user-job"]}}}, timeout=10).json()
    return {d["name"]: d for d in found}


def test_serve_deploys_your_valid_job_with_its_cron_and_skips_an_invalid_one_saying_why(served):
    deployed = user_deployments(served["api"])
    assert set(deployed) == {"hello-weekly"}
    [schedule] = deployed["hello-weekly"]["schedules"]
    assert (schedule["schedule"]["cron"], schedule["schedule"]["timezone"]) == ("0 7 * * 1", "UTC")
    assert deployed["hello-weekly"]["parameters"] == {"job": "hello-weekly"}
    log = served["log"].read_text()
    assert "skipped job broken: notebook hello_job.ipynb has no parameter(s) colour" in log
    assert "skipped job bad-cron: cron expression '61 7 * * 1' is not valid" in log
    assert "deployed your job hello-weekly: 0 7 * * 1 (UTC)" in log


def test_a_run_of_your_job_goes_through_the_same_runner_papermill_and_runs_table(served):
    api = served["api"]
    deployment = user_deployments(api)["hello-weekly"]
    run = start_run(api, deployment["id"])

    assert wait_for(lambda: final_state(api, run), 120, "the job's run to finish") == "COMPLETED", served["log"].read_text()[-3000:]
    [(status, notebook_path)] = read_store(served, "SELECT status, notebook_path FROM runs WHERE flow = 'hello-weekly'")
    assert status == "completed"
    report = Path(notebook_path)
    assert report.parent.parent == served["workspace"].resolve() / "reports" / "hello-weekly"
    assert "job says: served" in report.with_suffix(".html").read_text()


def test_changes_to_the_jobs_file_are_deployed_while_serving(served):
    api, path = served["api"], served["workspace"] / "jobs.toml"
    current = jobs.load(path)
    jobs.save([*current, jobs.UserJob("hello-daily", str(HELLO), "30 6 * * *")], path)
    wait_for(lambda: "hello-daily" in user_deployments(api), 60, "the added job's deployment")
    [schedule] = user_deployments(api)["hello-daily"]["schedules"]
    assert (schedule["schedule"]["cron"], schedule["schedule"]["timezone"]) == ("30 6 * * *", "Europe/Stockholm")

    jobs.save([j for j in jobs.load(path) if j.name != "hello-weekly"], path)
    wait_for(lambda: user_deployments(api)["hello-weekly"]["paused"], 60, "the removed job's deployment to be paused")
    assert [name for name, d in user_deployments(api).items() if not d["paused"]] == ["hello-daily"]
    log = served["log"].read_text()
    assert "removed your job hello-weekly from the schedule" in log
    assert log.count("skipped job broken") == 1  # an unchanged problem is said once, not at every re-read


def test_ctrl_c_stops_serve_and_its_server_cleanly(served):
    process = served["process"]
    process.send_signal(signal.SIGINT)
    # a hang guard, not a speed figure: pausing every deployment and stopping the Prefect server took
    # over 45 s twice on a loaded 2-core machine (clean-clone runs beside other work)
    assert process.wait(150) == 0
    output = served["log"].read_text()
    assert "stopped" in output and "Traceback" not in output
    with pytest.raises(httpx.HTTPError):
        httpx.get(f"{served['api']}/health", timeout=3)


def test_after_a_restart_serve_keeps_its_schedules(served):
    """Stopped (Ctrl-C pauses the deployments, Prefect's runner does) and started again on the same
    workspace, as a service manager restarts it: the same deployments, active again, with runs scheduled."""
    process = served["process"]
    if process.poll() is None:  # run alone: stop the first serve here
        process.send_signal(signal.SIGINT)
        process.wait(150)
    workspace = served["workspace"]
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "TIKTOK_INTEL_"))}
    env.update({"TIKTOK_INTEL_WORKSPACE": str(workspace), "PREFECT_UI_ENABLED": "false", "TIKTOK_INTEL_PROGRESS": "0"})
    api = f"http://127.0.0.1:{port}/api"
    with open(workspace.parent / "serve-again.log", "w") as log:
        again = subprocess.Popen(
            [sys.executable, "-m", "tiktok_intel", "serve", "--port", str(port)],
            cwd=str(workspace.parent),
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        try:

            def active():
                if again.poll() is not None:
                    raise AssertionError((workspace.parent / "serve-again.log").read_text()[-2000:])
                try:
                    found = httpx.post(f"{api}/deployments/filter", json={}, timeout=5).json()
                except (httpx.HTTPError, ValueError):
                    return None
                mine = {d["name"]: d for d in built_in(found)}
                if set(mine) != set(EXPECTED) or any(d["paused"] for d in mine.values()):
                    return None
                return mine

            mine = wait_for(active, 150, "the five deployments, active again after the restart")
            for name, cron in EXPECTED.items():
                [schedule] = mine[name]["schedules"]
                assert schedule["schedule"]["cron"] == cron and schedule["active"] is True

            def scheduled():
                runs = httpx.post(
                    f"{api}/flow_runs/filter", json={"flow_runs": {"state": {"type": {"any_": ["SCHEDULED"]}}}}, timeout=5
                ).json()
                return {r["deployment_id"] for r in runs} >= {d["id"] for d in mine.values()}

            wait_for(scheduled, 90, "scheduled runs of every deployment after the restart")
        finally:
            again.send_signal(signal.SIGINT)
            try:
                again.wait(150)
            except subprocess.TimeoutExpired:
                again.kill()
                again.wait(10)
