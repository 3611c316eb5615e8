"""The store: migrations on open, refusal of newer files, clear errors when locked or unwritable."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import duckdb
import pytest

from tiktok_intel.errors import SchemaVersionError, StoreError
from tiktok_intel.schema import MIGRATIONS, SCHEMA_VERSION
from tiktok_intel.store import open_db, schema_version


def test_new_database_has_every_table(workspace):
    with open_db() as con:
        tables = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
        assert {
            "posts",
            "authors",
            "music",
            "hashtags",
            "post_hashtags",
            "post_stats",
            "author_stats",
            "hashtag_stats",
            "feed_appearances",
            "tracked_hashtags",
            "raw_pages",
            "rejects",
            "runs",
            "media",
            "schema_version",
        } <= tables
        assert schema_version(con) == SCHEMA_VERSION
        types = dict(
            con.execute("SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 'author_stats'").fetchall()
        )
        assert types["hearts"] == "BIGINT"


def test_older_database_is_upgraded(tmp_path):
    path = tmp_path / "old.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE schema_version (version INTEGER PRIMARY KEY, applied_at TIMESTAMP NOT NULL)")
    con.execute(MIGRATIONS[0])
    con.execute("INSERT INTO schema_version VALUES (1, now())")
    con.execute("INSERT INTO posts (post_id, description) VALUES ('1', 'kept')")
    con.close()
    with open_db(path) as con:
        assert schema_version(con) == SCHEMA_VERSION
        assert con.execute("SELECT description FROM posts").fetchall() == [("kept",)]
        assert con.execute("SELECT count(*) FROM media").fetchone()[0] == 0


def test_newer_database_is_refused(tmp_path):
    path = tmp_path / "new.duckdb"
    open_db(path).close()
    con = duckdb.connect(str(path))
    con.execute("INSERT INTO schema_version VALUES (?, now())", [SCHEMA_VERSION + 5])
    con.close()
    with pytest.raises(SchemaVersionError, match=r"newer than this tiktok-intel understands.*upgrade tiktok-intel"):
        open_db(path)


def test_locked_database_names_the_holder(tmp_path):
    path = tmp_path / "busy.duckdb"
    open_db(path).close()
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(f"""
        import duckdb, sys, time
        con = duckdb.connect({str(path)!r})
        print("open", flush=True)
        time.sleep(30)
    """),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "open"
        with pytest.raises(StoreError) as err:
            open_db(path, wait_seconds=0)
        assert f"in use by another process (process {holder.pid})" in str(err.value) and "\n" not in str(err.value)
    finally:
        holder.kill()
        holder.wait()


def test_workspace_that_is_a_file_is_one_clear_error(tmp_path):
    blocker = tmp_path / "data"
    blocker.write_text("not a folder")
    with pytest.raises(StoreError, match=r"cannot create the workspace folder .*: choose a writable|cannot create the workspace folder"):
        open_db(blocker / "tiktok.duckdb")


def test_read_only_missing_database_says_run_init(tmp_path):
    with pytest.raises(StoreError, match="tiktok-intel init"):
        open_db(tmp_path / "missing.duckdb", read_only=True)
