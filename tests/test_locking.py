"""The workspace write lock: writers take turns (nothing lost or duplicated), a clear message while
waiting, a timeout naming the fix; readers keep working while a flow writes."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
import threading
import time

import pytest
from conftest import write_lock_held_by_another_run

from tiktok_intel import settings as settings_module
from tiktok_intel import tracking
from tiktok_intel.offline import OfflineTikTok
from tiktok_intel.store import Workspace, WriteLockTimeout, connection
from tiktok_intel.store.lock import holder as holder_of

CANARY = "msTokenCANARY-lock-77"


def write_lock(who, **options):
    """The configured workspace's write lock, as a flow takes it."""
    return Workspace.current().write_lock(who, **options)


def holder():
    return holder_of(Workspace.current().root)


def test_a_second_writer_waits_with_a_clear_message_then_gets_the_lock(workspace):
    messages, order = [], []
    inside = threading.Event()

    def first():
        with write_lock("content"):
            inside.set()
            time.sleep(0.8)
            order.append("first done")

    t = threading.Thread(target=first)
    t.start()
    inside.wait(5)
    seen = holder()
    assert seen is not None and seen.flow == "content" and seen.pid == os.getpid()
    with write_lock("post-trends", on_wait=messages.append):
        order.append("second in")
    t.join()
    assert order == ["first done", "second in"]
    [message] = messages
    assert re.fullmatch(r"another run is writing since \d\d:\d\d:\d\d \(content, process \d+\), waiting", message), message
    assert holder() is None


def test_a_holder_caught_before_it_wrote_its_details_is_still_named(workspace):
    """The holder takes the lock, then writes who it is: a waiter arriving in between waits for that."""
    import fcntl

    path = Workspace.current().lock_path
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    fcntl.flock(fd, fcntl.LOCK_EX)
    messages = []

    def describe_later():
        time.sleep(0.3)
        os.pwrite(fd, json.dumps({"pid": 4242, "flow": "content", "since": "2026-11-24T00:00:03"}).encode(), 0)
        time.sleep(0.3)
        fcntl.flock(fd, fcntl.LOCK_UN)

    t = threading.Thread(target=describe_later)
    t.start()
    with write_lock("post-trends", on_wait=messages.append):
        pass
    t.join()
    os.close(fd)
    assert re.fullmatch(r"another run is writing since \d\d:\d\d:03 \(content, process 4242\), waiting", messages[0]), messages


def test_a_writer_gives_up_after_the_timeout_naming_the_fix(workspace):
    with write_lock_held_by_another_run():
        with pytest.raises(WriteLockTimeout, match=r"gave up waiting after 1 s: .*TIKTOK_INTEL_LOCK_TIMEOUT_SECONDS") as err:
            with write_lock("post-trends", timeout=1, on_wait=lambda m: None):
                pass
        assert "\n" not in str(err.value)


WRITER = textwrap.dedent("""
    import sys
    from tiktok_intel.notebooks import run_notebook
    from tiktok_intel.orchestration import steps
    from tiktok_intel.orchestration.runs import flow_run
    hashtag = sys.argv[1]
    with flow_run("content", {"hashtags": [hashtag]}, on_wait=lambda m: print(m, flush=True)) as run:
        print("writing", flush=True)
        done = steps.content(run.workspace, max_posts=40, hashtags=[hashtag])
        run.step("collect", done.counts, done.note)
        run.notebook(run_notebook("content", workspace=run.workspace))
    print(run.summary(), flush=True)
""")


@pytest.fixture
def tiktok_env(workspace):
    with OfflineTikTok(seed=5) as server:
        overrides = dict(ms_token=CANARY, requests_per_second=0, retries=1, timeout_seconds=5, **server.settings_overrides())
        settings_module.configure(workspace, **overrides)
        env = {k: v for k, v in os.environ.items() if not k.startswith("TIKTOK_INTEL_")}
        env.update(
            {
                "TIKTOK_INTEL_WORKSPACE": str(workspace.workspace_path),
                "TIKTOK_INTEL_PROGRESS": "0",
                "TIKTOK_INTEL_MS_TOKEN": CANARY,
                "TIKTOK_INTEL_REQUESTS_PER_SECOND": "0",
                "TIKTOK_INTEL_WEB_BASE_URL": overrides["web_base_url"],
                "TIKTOK_INTEL_RESEARCH_BASE_URL": overrides["research_base_url"],
                "TIKTOK_INTEL_MEDIA_HOSTS": ",".join(overrides["media_hosts"]),
            }
        )
        with connection() as con:
            tracking.add(con, ["valet2026", "klimat"])
        yield env


def _start(env, hashtag, cwd):
    return subprocess.Popen(
        [sys.executable, "-c", WRITER, hashtag], env=env, cwd=str(cwd), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )


@pytest.mark.slow
def test_two_flows_started_at_once_both_finish_one_after_the_other(tiktok_env, workspace, tmp_path):
    a, b = _start(tiktok_env, "valet2026", tmp_path), _start(tiktok_env, "klimat", tmp_path)
    out_a, _ = a.communicate(timeout=240)
    out_b, _ = b.communicate(timeout=240)
    assert a.returncode == 0, out_a
    assert b.returncode == 0, out_b
    assert "another run is writing since" in out_a + out_b  # one of them waited, and said so
    with connection(read_only=True) as con:
        runs = con.execute("SELECT started_at, ended_at, status, counts FROM runs WHERE flow = 'content' ORDER BY started_at").fetchall()
        assert [r[2] for r in runs] == ["completed", "completed"]
        assert runs[0][1] <= runs[1][0]  # one after the other
        posts = [json.loads(r[3])["posts"] for r in runs]
        assert posts == [40, 40]
        collected = con.execute("SELECT count(DISTINCT post_id) FROM feed_appearances").fetchone()[0]
        assert (
            con.execute("SELECT count(*) FROM posts").fetchone()[0]
            == con.execute("SELECT count(DISTINCT post_id) FROM posts").fetchone()[0]
            == collected
        )  # nothing lost or duplicated
        assert con.execute("SELECT count(*) FROM feed_appearances").fetchone()[0] == 80
        assert con.execute("SELECT count(*) - count(DISTINCT (post_id, collected_at)) FROM post_stats").fetchone()[0] == 0
        # one row a run: each content run's collection is a step of it, not a run of its own
        assert con.execute("SELECT count(*) FROM runs").fetchone()[0] == 2
        steps = [json.loads(r[0]) for r in con.execute("SELECT steps FROM runs ORDER BY started_at").fetchall()]
        assert [[s["counts"].get("posts") for s in run if s["name"] == "collect"] for run in steps] == [[40], [40]]


@pytest.mark.slow
def test_a_reader_keeps_working_while_a_flow_writes(tiktok_env, workspace, tmp_path):
    writer = _start(tiktok_env, "klimat", tmp_path)
    reads, errors = 0, []
    while writer.poll() is None:
        try:
            with connection(read_only=True) as con:  # a dashboard's short read
                con.execute("SELECT count(*) FROM posts").fetchone()
                time.sleep(0.2)
            reads += 1
        except Exception as exc:  # noqa: BLE001 - the assertion shows it
            errors.append(str(exc))
        time.sleep(0.1)
    out, _ = writer.communicate()
    assert writer.returncode == 0, out
    assert errors == [] and reads >= 3
    with connection(read_only=True) as con:
        assert con.execute("SELECT status FROM runs WHERE flow = 'content'").fetchall() == [("completed",)]


def test_a_run_left_running_by_a_dead_process_is_closed_by_the_next_writer(workspace):
    from tiktok_intel.orchestration.runs import flow_run
    from tiktok_intel.store.workspace import STALE_ERROR

    with connection() as con:  # what a process killed mid-run leaves: a run row still "running"
        con.execute("INSERT INTO runs (run_id, flow, started_at, status) VALUES ('killed', 'content', now()::TIMESTAMP, 'running')")
    with flow_run("post-trends") as run:
        with connection() as con:
            assert con.execute("SELECT status, error FROM runs WHERE run_id = 'killed'").fetchone() == ("failed", STALE_ERROR)
            assert con.execute("SELECT status FROM runs WHERE run_id = ?", [run.run_id]).fetchone() == ("running",)
    with connection() as con:
        assert con.execute("SELECT status FROM runs WHERE run_id = ?", [run.run_id]).fetchone() == ("completed",)


@pytest.mark.slow
def test_the_store_is_free_to_read_while_the_content_flow_fetches(workspace, tmp_path):
    """The content flow fetches into raw with the store closed: a read that does not wait at all
    succeeds between two of its (slow) feed pages, where it once found the file held."""
    from tiktok_intel.store import open_db

    with OfflineTikTok(seed=5) as server:
        overrides = dict(ms_token=CANARY, requests_per_second=0, retries=1, timeout_seconds=10, **server.settings_overrides())
        settings_module.configure(workspace, **overrides)
        with connection() as con:
            tracking.add(con, ["klimat"])
        env = {k: v for k, v in os.environ.items() if not k.startswith("TIKTOK_INTEL_")}
        env.update(
            {
                "TIKTOK_INTEL_WORKSPACE": str(workspace.workspace_path),
                "TIKTOK_INTEL_PROGRESS": "0",
                "TIKTOK_INTEL_MS_TOKEN": CANARY,
                "TIKTOK_INTEL_REQUESTS_PER_SECOND": "0",
                "TIKTOK_INTEL_WEB_BASE_URL": overrides["web_base_url"],
                "TIKTOK_INTEL_MEDIA_HOSTS": ",".join(overrides["media_hosts"]),
            }
        )
        server.faults.add("slow", path="/api/challenge/item_list/", delay=2.0, times=None)  # two feed pages, 2 s each
        writer = _start(env, "klimat", tmp_path)
        mid_fetch, held = 0, []
        while writer.poll() is None:
            pages = len(list(workspace.raw_dir.rglob("*.meta.json")))
            try:
                con = open_db(read_only=True, wait_seconds=0)
                con.execute("SELECT count(*) FROM posts").fetchone()
                con.close()
                if pages == 2 and len(list(workspace.raw_dir.rglob("*.meta.json"))) == 2:  # hashtag page + first feed page only
                    mid_fetch += 1
            except Exception as exc:  # noqa: BLE001 - held by the writer: counted, and shown if it matters
                if pages == 2:
                    held.append(str(exc)[:120])
            time.sleep(0.05)
        out, _ = writer.communicate()
    assert writer.returncode == 0, out
    assert mid_fetch >= 3, f"no read succeeded while the flow was between its feed pages; held: {held[:3]}"
    with connection(read_only=True) as con:
        assert con.execute("SELECT count(*) FROM posts").fetchone()[0] == 40
        assert con.execute("SELECT status FROM runs WHERE flow = 'content'").fetchall() == [("completed",)]
