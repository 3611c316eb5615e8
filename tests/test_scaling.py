"""Outgrowing one machine, tested with the real parts (docs/scaling.md): DuckLake on a PostgreSQL
catalog with its data files in S3 (moto), raw pages in a shared S3 raw store; the whole pipeline
gives what it gives on the embedded DuckDB file, table by table; several collectors and writers at once.

The PostgreSQL cluster and the S3 server are started once for the session (tests/lake_services.py),
on loopback, and torn down at the end; the tests skip only where their binaries are missing."""

from __future__ import annotations

import datetime as dt
import json
import math
import re
import uuid

import lake_services
import pytest

from tiktok_intel import clock
from tiktok_intel import settings as settings_module
from tiktok_intel.cli import main
from tiktok_intel.offline import OfflineTikTok
from tiktok_intel.sources import http as http_module
from tiktok_intel.store import Workspace

pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.s3]

T0 = dt.datetime(2026, 11, 20, 8, 0)


@pytest.fixture(scope="session")
def postgres():
    reason = lake_services.missing_postgres()
    if reason:
        pytest.skip(reason)
    pg = lake_services.start_postgres()
    yield pg
    pg.stop()


@pytest.fixture(scope="session")
def s3():
    reason = lake_services.missing_moto()
    if reason:
        pytest.skip(reason)
    server = lake_services.start_moto()
    yield server
    server.stop()


@pytest.fixture
def lake(postgres, s3):
    """A new PostgreSQL database and S3 bucket: (DuckLake target, data path, raw URL, bucket)."""
    name = "t" + uuid.uuid4().hex[:10]
    info = postgres.create_database(name)
    s3.create_bucket(name)
    return f"ducklake:postgres:{info}", f"s3://{name}/lake/", f"s3://{name}/raw", name


def _env(tmp, server, **changes) -> dict[str, str]:
    """The environment of one machine's processes (the CLI reads its settings from it)."""
    values = {
        "workspace": tmp,
        "ms_token": "msTokenCANARY-scale",
        "requests_per_second": 0,
        "retries": 1,
        "timeout_seconds": 5,
        "progress": "false",
        **server.settings_overrides(),
        **changes,
    }
    return {f"TIKTOK_INTEL_{k.upper()}": ",".join(v) if isinstance(v, tuple) else str(v) for k, v in values.items()}


#: Columns that name where or in which run something happened (a temporary folder, a random run id, a
#: connection's own numbering, how long it took, the order among rules that tie, which follows the scan order): left out of the comparison.
RUN_SPECIFIC = {"path", "raw_path", "run_id", "id", "flow_run_id", "index_id", "seconds", "rule_no"}


#: Of the run records, what each run was and how it ended (their counts and steps hold timings and process ids).
RUN_RECORD = {"flow", "started_at", "finished_at", "status"}


def _tables(ws: Workspace) -> dict[str, list]:
    def read(con):
        names = [
            r[0]
            for r in con.execute(
                "SELECT table_name FROM duckdb_tables() WHERE database_name = current_database() AND schema_name = 'main' ORDER BY 1"
            ).fetchall()
        ]
        out = {}
        for name in names:
            columns = [
                r[0]
                for r in con.execute(
                    "SELECT column_name FROM duckdb_columns() WHERE database_name = current_database() AND schema_name = 'main' "
                    "AND table_name = ? ORDER BY column_index",
                    [name],
                ).fetchall()
                if r[0] not in RUN_SPECIFIC and (name != "runs" or r[0] in RUN_RECORD)
            ]
            cols = ", ".join(f'"{c}"' for c in columns)
            rows = con.execute(f'SELECT {cols} FROM main."{name}"').fetchall()
            if name == "search_index_state":  # the text indexes' own random ids (posts', comments')
                rows = [r for r in rows if not r[0].endswith("index_id")]
            out[name] = sorted((tuple(_plain(v) for v in row) for row in rows), key=repr)
        return out

    return ws.read(read)


def _plain(value):
    if isinstance(value, str) and '"seconds": ' in value:  # a run's counts say how long its steps took
        return re.sub(r'"seconds": [-0-9.e]+', '"seconds": 0', value)
    if isinstance(value, float):
        return None if math.isnan(value) else round(value, 9)
    return value


def _pipeline(env, fixture, capsys, monkeypatch) -> tuple[dict, str, dict]:
    """The whole pipeline as a newsroom runs it, by the CLI, at a frozen time: import, collect (raw
    pages only, then process), monitor, trends, rules, a search; then a dashboard panel's read."""
    from tiktok_intel.dashboards import data

    for name, value in env.items():
        monkeypatch.setenv(name, value)
    settings_module.configure(None)
    with clock.frozen(T0):
        for argv in (
            ["init"],
            ["import", str(fixture)],
            ["track", "add", "valet2026", "klimat"],
            ["collect", "--raw-only", "--max-posts", "30"],
            ["process"],
            ["monitor"],
            ["trends"],
            ["rules"],
        ):
            assert main(argv) == 0, argv
        capsys.readouterr()
        assert main(["search", "valet"]) == 0
        found = capsys.readouterr().out
        ws = Workspace.current()
        panel = data.read(data.counts)
        return _tables(ws), found, panel


def test_the_whole_pipeline_on_ducklake_postgres_and_s3_equals_the_duckdb_file(lake, s3, shared_fixtures, tmp_path, monkeypatch, capsys):
    target, data_path, raw_url, bucket = lake
    monkeypatch.setattr(http_module, "BACKOFF_BASE_SECONDS", 0.01)
    fixture = shared_fixtures / "zeeschuimer" / "tiktok_search_2023.ndjson"
    port = lake_services.free_port()  # the same address both times: it is in the avatar and cover URLs
    try:
        with OfflineTikTok(seed=3, port=port) as server:
            embedded = _pipeline(_env(tmp_path / "file", server), fixture, capsys, monkeypatch)
        with OfflineTikTok(seed=3, port=port) as server:
            scaled = _pipeline(
                _env(tmp_path / "lake", server, db=target, ducklake_data_path=data_path, raw_url=raw_url, **s3.settings()),
                fixture,
                capsys,
                monkeypatch,
            )
            with Workspace.current().connection(read_only=True) as con:
                kind = con.execute("SELECT type FROM duckdb_databases() WHERE database_name = current_database()").fetchone()[0]
    finally:
        settings_module.configure(None)
    assert kind == "ducklake"
    tables, found, panel = scaled
    assert tables.keys() == embedded[0].keys()
    turns = tables.pop("lake_turn")[0][0]
    assert turns >= 3 and embedded[0].pop("lake_turn") == [(0,)]  # every write on the lake took its turn; the file needs none
    for name in tables:
        assert tables[name] == embedded[0][name], name
    assert sum(len(rows) for rows in tables.values()) > 500 and len(tables["posts"]) > 100
    assert found == embedded[1] and "valet" in found.lower()
    assert panel == embedded[2] and panel["posts"] == len(tables["posts"])
    keys = s3.keys(bucket)
    assert any(k.startswith("lake/") and k.endswith(".parquet") for k in keys)  # the lake's data files are in S3
    metas = [k for k in keys if k.startswith("raw/") and k.endswith(".meta.json")]  # and every raw page (the same bytes: one row)
    shas = {json.loads(s3.client().get_object(Bucket=bucket, Key=k)["Body"].read())["sha256"] for k in metas}
    assert shas == {row[0] for row in tables["raw_pages"]}
    assert not any("CANARY" in k for k in keys)


# ------------------------------------------------------------------ several machines at once


def _cli(env: dict[str, str], *argv: str):
    import os
    import subprocess
    import sys

    full = {**{k: v for k, v in os.environ.items() if not k.startswith("TIKTOK_INTEL_")}, **env, **clock.environment()}
    return subprocess.Popen(
        [sys.executable, "-m", "tiktok_intel", *argv], env=full, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def _check(con) -> dict[str, int]:
    """The lake is consistent: no key twice, every page once."""
    row = con.execute(
        "SELECT (SELECT count(*) - count(DISTINCT sha256) FROM raw_pages), (SELECT count(*) - count(DISTINCT post_id) FROM posts), "
        "(SELECT count(*) - count(DISTINCT name) FROM hashtags), (SELECT count(*) FROM raw_pages), (SELECT count(*) FROM posts)"
    ).fetchone()
    assert row[:3] == (0, 0, 0), row
    return {"pages": row[3], "posts": row[4]}


def _bodies(s3, bucket: str, metas: list[str]) -> int:
    """The distinct page bodies the meta files name: a page identical to another (an empty comment
    list, say) is one ``raw_pages`` row, as its body is one file in the raw store."""
    client = s3.client()
    return len({json.loads(client.get_object(Bucket=bucket, Key=k)["Body"].read())["sha256"] for k in metas})


def test_two_collectors_and_two_writers_at_once_then_a_writer_killed_mid_commit(lake, s3, tmp_path):
    import os
    import signal
    import time

    target, data_path, raw_url, bucket = lake
    shared = {"db": target, "ducklake_data_path": data_path, "raw_url": raw_url, "ingest_batch_items": 30, **s3.settings()}
    with OfflineTikTok(seed=5) as server, clock.frozen(T0):
        machines = [_env(tmp_path / f"m{n}", server, **shared) for n in range(4)]
        assert _cli(machines[0], "init").wait(120) == 0
        # two collectors, separate processes and workspaces, into the shared raw store at once
        collectors = [
            _cli(machines[0], "collect", "--raw-only", "--hashtag", "valet2026", "--max-posts", "150"),
            _cli(machines[1], "collect", "--raw-only", "--hashtag", "klimat", "--max-posts", "150"),
        ]
        for p in collectors:
            out, err = p.communicate(timeout=300)
            assert p.returncode == 0, err
        served = server.requests_to("/api/challenge/item_list")
        served_ids = set()
        for folder in (tmp_path / "m0" / "raw", tmp_path / "m1" / "raw"):
            for body in folder.rglob("*.json"):
                if not body.name.endswith(".meta.json"):
                    served_ids.update(i["id"] for i in json.loads(body.read_bytes()).get("itemList") or [])
        metas = [k for k in s3.keys(bucket, "raw/") if k.endswith(".meta.json")]
        assert len(metas) >= len(served) > 6 and len(served_ids) > 200
        # two writers on two other machines ingest into the same lake at once
        writers = [_cli(machines[2], "process"), _cli(machines[3], "process")]
        results = [p.communicate(timeout=300) for p in writers]
        assert [p.returncode for p in writers] == [0, 0], [r[1] for r in results]
        ws = Workspace.from_settings(settings_module.load_settings(environ=machines[2], dotenv=None))
        with ws.connection(read_only=True) as con:
            counts = _check(con)
            ingested_ids = {r[0] for r in con.execute("SELECT post_id FROM posts").fetchall()}
            media = {r[0] for r in con.execute("SELECT path FROM media").fetchall()}
        assert counts["pages"] == _bodies(s3, bucket, metas) and ingested_ids == served_ids  # no page lost, none twice
        shared_media = {k.split("/_media/", 1)[1] for k in s3.keys(bucket, "raw/_media/")}
        assert shared_media and media == shared_media  # the collectors' videos, slides and captions, recorded by the writers
        stderr = results[0][1] + results[1][1]
        assert "CANARY" not in stderr and s3.secret not in stderr

        # more pages, then a writer killed with kill -9 while it commits page after page
        assert _cli(machines[0], "collect", "--raw-only", "--hashtag", "sverige", "--max-posts", "300").wait(300) == 0
        metas = [k for k in s3.keys(bucket, "raw/") if k.endswith(".meta.json")]
        victim = _cli(machines[2], "process")
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and victim.poll() is None:
            with ws.connection(read_only=True) as con:
                if con.execute("SELECT count(*) FROM raw_pages").fetchone()[0] > counts["pages"]:
                    break
            time.sleep(0.05)
        assert victim.poll() is None, "the writer finished before it could be killed: give it more pages"
        os.kill(victim.pid, signal.SIGKILL)
        victim.wait(30)
        with ws.connection(read_only=True) as con:
            between = _check(con)
        bodies = _bodies(s3, bucket, metas)
        assert counts["pages"] < between["pages"] < bodies
        again = _cli(machines[3], "process")
        out, err = again.communicate(timeout=300)
        assert again.returncode == 0, err
        with ws.connection(read_only=True) as con:
            after = _check(con)
        assert after["pages"] == bodies


def test_a_conflict_with_another_writer_is_retried_with_backoff_and_logged(lake, s3, tmp_path, caplog):
    import logging

    from tiktok_intel.store import LakeConflict, open_db, retrying_conflicts, transaction

    target, data_path, _, _ = lake
    settings = settings_module.load_settings(environ={}, dotenv=None).replace(workspace=tmp_path, db=target, ducklake_data_path=data_path)
    settings_module.configure(settings)
    try:
        mine, other = open_db(target), open_db(target)
        calls = []

        def add():
            calls.append(1)
            with transaction(mine):
                mine.execute("INSERT INTO tracked_hashtags (name, added_at) VALUES ('a', now())")
                if len(calls) == 1:  # another writer commits meanwhile
                    with transaction(other):
                        other.execute("INSERT INTO tracked_hashtags (name, added_at) VALUES ('b', now())")

        with caplog.at_level(logging.WARNING):
            retrying_conflicts(add, what="track add")
        assert len(calls) == 2
        assert "track add: DuckLake transaction conflict with another writer, retrying" in caplog.text
        assert sorted(r[0] for r in mine.execute("SELECT name FROM tracked_hashtags").fetchall()) == ["a", "b"]

        def always():
            with transaction(mine):
                mine.execute("INSERT INTO tracked_hashtags (name, added_at) VALUES ('c', now())")
                with transaction(other):
                    other.execute("INSERT INTO tracked_hashtags (name, added_at) VALUES ('d', now())")

        with pytest.raises(LakeConflict, match="after 2 retries"):
            retrying_conflicts(always, what="edit", attempts=2)
        mine.close()
        other.close()
    finally:
        settings_module.configure(None)
