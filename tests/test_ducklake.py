"""The full pipeline once on a DuckLake store (``--db ducklake:sqlite:PATH``): collection, the
five flows' notebooks, run records; and a second process reading while one writes."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
import textwrap

import prefect_harness
import pytest

from tiktok_intel import clock, tracking
from tiktok_intel import settings as settings_module
from tiktok_intel.cli import main
from tiktok_intel.offline import OfflineTikTok
from tiktok_intel.sources import http as http_module
from tiktok_intel.store import connection, ducklake_data_path, open_db

pytestmark = pytest.mark.slow


@pytest.fixture
def lake(workspace, tmp_path, monkeypatch):
    target = f"ducklake:sqlite:{tmp_path / 'lake' / 'meta.sqlite'}"
    monkeypatch.setenv("TIKTOK_INTEL_WORKSPACE", str(workspace.workspace_path))  # the notebooks' kernels
    monkeypatch.setattr(http_module, "BACKOFF_BASE_SECONDS", 0.01)
    with OfflineTikTok(seed=3) as server:
        settings_module.configure(
            workspace,
            db=target,
            ms_token="msTokenCANARY-lake",
            requests_per_second=0,
            retries=1,
            timeout_seconds=5,
            **server.settings_overrides(),
        )
        yield target


def test_the_full_pipeline_runs_on_a_ducklake_store(lake, tmp_path):
    prefect_harness.start()
    from flows.association_rules import association_rules
    from flows.author_trends import author_trends
    from flows.content import content
    from flows.hashtag_monitoring import hashtag_monitoring
    from flows.post_trends import post_trends

    with connection() as con:
        tracking.add(con, ["valet2026", "klimat"])
    # the offline feeds move with the clock: both runs see the same ones however long the first took
    at = clock.now()
    with clock.frozen(at):
        content(max_posts=30)
    with clock.frozen(at + dt.timedelta(minutes=1)):
        content(max_posts=30)  # again: the upserts keep one row per key without constraints
    hashtag_monitoring()
    for flow in (post_trends, author_trends, association_rules):
        flow()
    assert (tmp_path / "lake" / "meta.sqlite").is_file()
    assert any(ducklake_data_path(lake).rglob("*.parquet"))
    with connection(read_only=True) as con:
        assert con.execute("SELECT type FROM duckdb_databases() WHERE database_name = current_database()").fetchone()[0] == "ducklake"
        statuses = dict(con.execute("SELECT flow, min(status) FROM runs GROUP BY flow").fetchall())
        assert statuses == {
            "content": "completed",
            "hashtag-monitoring": "completed",  # one row a run: collecting is a step of it
            "post-trends": "completed",
            "author-trends": "completed",
            "association-rules": "completed",
        }
        posts = con.execute("SELECT count(*), count(DISTINCT post_id) FROM posts").fetchone()
        assert posts[0] == posts[1] > 50
        # the content flow fetches raw pages only, then ingests: no cursor, and each tracked hashtag's collection time set
        assert con.execute("SELECT count(*) FROM collection_cursors").fetchone()[0] == 0
        assert con.execute("SELECT count(*) FROM tracked_hashtags WHERE last_collected_at IS NOT NULL").fetchone()[0] == 2
        assert con.execute("SELECT count(*) - count(DISTINCT (post_id, kind, seq)) FROM media").fetchone()[0] == 0
        counts = json.loads(con.execute("SELECT counts FROM runs WHERE flow = 'content' ORDER BY started_at DESC LIMIT 1").fetchone()[0])
        assert counts["posts"] == 60 and counts["new_posts"] == 0


def test_cli_init_and_a_reader_in_another_process_while_this_one_writes(tmp_path, monkeypatch, capsys):
    target = f"ducklake:sqlite:{tmp_path / 'meta.sqlite'}"
    monkeypatch.setenv("TIKTOK_INTEL_WORKSPACE", str(tmp_path / "data"))
    try:
        assert main(["--db", target, "init"]) == 0
        writer = open_db(target)  # held open for writing, as a long flow would
        writer.execute("INSERT INTO tracked_hashtags (name, added_at) VALUES ('a', now())")
        reader = subprocess.run(
            [
                sys.executable,
                "-c",
                textwrap.dedent(f"""
            from tiktok_intel.store import connection
            with connection({target!r}, read_only=True) as con:
                print(con.execute("SELECT count(*) FROM tracked_hashtags").fetchone()[0])
        """),
            ],
            capture_output=True,
            text=True,
            timeout=60,
        )
        writer.close()
        assert reader.returncode == 0, reader.stderr
        assert reader.stdout.strip() == "1"
    finally:
        settings_module.configure(None)
