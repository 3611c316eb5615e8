"""Readers never fail because a writer is busy; writers wait their turn (issue 22, item 5).

Another process holds the database open for writing (as a flow or a notebook does) while `search`,
`report`, `trends`, `status`, `track list` and `duplicates` run through the command line: each
reads the database once it is let go within the read wait, else the read copy (saying so in one
line), and with no copy it says what to do in one line. A text search reads only the index the
writers keep, so it neither waits nor fails. A second writer waits for the write lock.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from conftest import OWN_FIXTURES

from tiktok_intel import cli, tracking
from tiktok_intel.search import text as text_module
from tiktok_intel.store import connection

#: Another process holding the database file for writing (the whole file is locked meanwhile), until
#: its stdin is closed or ``argv[2]`` seconds have passed.
HOLDER = textwrap.dedent("""
    import sys, threading, duckdb

    con = duckdb.connect(sys.argv[1])
    print("holding", flush=True)
    done = threading.Event()
    threading.Thread(target=lambda: (sys.stdin.read(), done.set()), daemon=True).start()
    done.wait(float(sys.argv[2]))
    con.close()
    print("released", flush=True)
""")

#: Another run holding the write lock and the database (``Workspace.writing``), as `import` does,
#: for ``argv[2]`` seconds.
WRITER = textwrap.dedent("""
    import sys, time
    from tiktok_intel.store import Workspace

    with Workspace.for_database(sys.argv[1]).writing("import") as con:
        print("writing", flush=True)
        time.sleep(float(sys.argv[2]))
    print("done", flush=True)
""")


def run(capsys, db: Path, *argv: str) -> tuple[int, str, str]:
    code = cli.main(["--db", str(db), *argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def db(workspace, capsys, monkeypatch) -> Path:
    """Two posts imported (index built, read copy published), trends listed once, #alpha tracked;
    then #late tracked outside any writing run, so only the database has it, not its read copy."""
    monkeypatch.setenv("TIKTOK_INTEL_READ_WAIT_SECONDS", "0.5")
    path = Path(workspace.db_target)
    assert run(capsys, path, "track", "add", "alpha")[0] == 0
    assert run(capsys, path, "import", str(OWN_FIXTURES / "web_item_list.json"))[0] == 0
    assert run(capsys, path, "trends", "--refresh")[0] == 0
    with connection(path) as con:
        tracking.add(con, ["late"])
    return path


@pytest.fixture
def held(db):
    """The database held open for writing by another process (at most 60 s)."""
    child = subprocess.Popen([sys.executable, "-c", HOLDER, str(db), "60"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().strip() == "holding"
        yield db
    finally:
        child.stdin.close()
        child.wait(timeout=30)


def one_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


def test_reads_while_another_process_writes_use_the_read_copy_and_say_so(held, capsys):
    started = time.monotonic()
    code, out, err = run(capsys, held, "report", "top-posts", "--format", "json")
    assert code == 0 and [r["post_id"] for r in json.loads(out)] == ["7400000000000000001", "7400000000000000002"]
    assert one_line(err).startswith("tiktok-intel: reading the copy published at ") and "open for writing" in err
    code, out, err = run(capsys, held, "trends", "--format", "json")
    assert code == 0 and len(json.loads(out)) == 2 and "reading the copy published at" in one_line(err)
    code, out, err = run(capsys, held, "track", "list")
    assert code == 0 and "alpha" in out and "late" not in out  # the copy's: #late came after it
    assert "reading the copy" in one_line(err)
    code, out, err = run(capsys, held, "status")
    assert code == 0 and f"database {held}\n" in out and "reading the copy" in one_line(err)
    code, out, err = run(capsys, held, "duplicates")
    assert code == 0 and "reading the copy" in err
    code, out, err = run(capsys, held, "rules", "--runs")
    assert code == 0 and "reading the copy" in err
    assert time.monotonic() - started < 30  # each waited its 0.5 s, not a writer's whole run


def test_a_text_search_reads_only_the_index_and_neither_waits_nor_fails(held, capsys):
    started = time.monotonic()
    code, out, err = run(capsys, held, "search", "valet", "--format", "json")
    assert code == 0 and [h["post_id"] for h in json.loads(out)] == ["7400000000000000001"]
    assert err == ""
    assert time.monotonic() - started < 5


def test_a_busy_database_without_a_read_copy_is_one_line_naming_the_fix(held, capsys):
    held.with_name("tiktok.read.duckdb").unlink()
    for argv in (["report", "top-posts"], ["trends"], ["status"], ["track", "list"], ["search", "--image", "7400000000000000001"]):
        code, out, err = run(capsys, held, *argv)
        line = one_line(err)
        assert code == 1 and out == "", argv
        assert "in use by another process" in line and "no read copy" in line and "TIKTOK_INTEL_READ_WAIT_SECONDS" in line, line


def test_a_reader_waits_for_a_writer_that_lets_go_within_the_read_wait(db, capsys, monkeypatch):
    monkeypatch.setenv("TIKTOK_INTEL_READ_WAIT_SECONDS", "30")
    db.with_name("tiktok.read.duckdb").unlink()  # no copy: it can only succeed by waiting
    child = subprocess.Popen([sys.executable, "-c", HOLDER, str(db), "1.5"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().strip() == "holding"
        started = time.monotonic()
        code, out, err = run(capsys, db, "track", "list")
        assert code == 0 and "late" in out and err == ""  # the database itself, once let go
        assert 0.5 < time.monotonic() - started < 25
    finally:
        child.stdin.close()
        child.wait(timeout=30)


@pytest.mark.parametrize(
    "argv",
    [["rules", "--window-days", "0"], ["trends", "--refresh"], ["media"], ["track", "add", "beta"]],
    ids=["rules", "trends-refresh", "media", "track-add"],
)
def test_a_second_writer_waits_for_the_write_lock(db, capsys, argv):
    child = subprocess.Popen([sys.executable, "-c", WRITER, str(db), "1.5"], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().strip() == "writing"
        started = time.monotonic()
        code, _, err = run(capsys, db, *argv)
        waited = time.monotonic() - started
        assert code == 0, err
        assert "another run is writing since" in err and "(import, process" in err and "waiting" in err
        assert 0.3 < waited < 30
        assert child.wait(timeout=30) == 0 and child.stdout.read().strip() == "done"  # it was let finish
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()


def test_a_search_never_refreshes_an_index_older_than_the_store(db, capsys, monkeypatch):
    with connection(db) as con:  # a post stored behind the index's back (no writer refreshed it)
        con.execute(
            "INSERT INTO posts (post_id, author_id, author_unique_id, description, first_seen_at, last_seen_at) "
            "VALUES ('9', 'a9', 'nio', 'ännu inte indexerad', now()::TIMESTAMP, now()::TIMESTAMP)"
        )
    writes = []
    monkeypatch.setattr(text_module, "refresh_index", lambda *a, **k: writes.append(a))
    code, out, err = run(capsys, db, "search", "indexerad", "--format", "json")
    assert code == 0 and json.loads(out) == [] and writes == []  # answered from what is indexed, nothing written
    code, out, _ = run(capsys, db, "search", "valet", "--format", "json")
    assert code == 0 and len(json.loads(out)) == 1


def test_a_lost_index_is_built_by_a_writer_and_then_searched(db, capsys):
    shutil.rmtree(text_module.index_dir(db.parent))
    with connection(db) as con:  # the index folder is the writers': its state is gone with it
        con.execute("DELETE FROM search_index_state")
    code, out, err = run(capsys, db, "search", "valet", "--format", "json")
    assert code == 0 and len(json.loads(out)) == 1, err
    assert text_module.index_exists(text_module.index_dir(db.parent))


@pytest.mark.parametrize(
    "fault, needle",
    [
        (OSError(28, "No space left on device"), "No space left on device"),
        (ValueError("Internal error: 'No space left on device (os error 28)'"), "No space left on device (os error 28)"),
        (
            ValueError(
                'Failed to acquire Lockfile: IoError(Os { code: 30, kind: ReadOnlyFilesystem, message: "Read-only file system" }). None'
            ),
            "Read-only file system",
        ),
    ],
    ids=["oserror", "tantivy-full", "tantivy-read-only"],
)
def test_a_full_disk_or_unwritable_index_folder_is_one_line(db, capsys, monkeypatch, fault, needle):
    real = text_module._open_index

    def failing(path, *, create=False, schema=None):
        raise fault

    monkeypatch.setattr(text_module, "_open_index", failing)
    code, out, err = run(capsys, db, "search", "valet")
    line = one_line(err)
    assert code == 1 and out == "" and line.startswith("tiktok-intel: cannot read the search index in ")
    assert needle in line and "free space" in line and "writable" in line
    # a writer rebuilding the index on a full disk: one line too, and the posts it ingested stay in
    shutil.rmtree(text_module.index_dir(db.parent))
    monkeypatch.setattr(
        text_module, "_open_index", lambda path, *, create=False, schema=None: failing(path) if create else real(path, schema=schema)
    )
    code, out, err = run(capsys, db, "import", str(OWN_FIXTURES / "web_item_list_later.json"))
    line = one_line(err)
    assert code == 1 and line.startswith("tiktok-intel: cannot write the search index in ") and needle in line
    assert "`tiktok-intel media`" in line


def test_a_full_disk_while_writing_the_index_is_one_line(db, capsys, monkeypatch):
    """tantivy's commit on a full disk (the traceback the issue found) is one line naming the fix."""

    class FullWriter:
        def __init__(self, writer):
            self.writer = writer

        def __getattr__(self, name):
            return getattr(self.writer, name)

        def commit(self):
            raise ValueError("Internal error: 'No space left on device (os error 28)'")

    real = text_module._writer
    monkeypatch.setattr(text_module, "_writer", lambda index: FullWriter(real(index)))
    code, out, err = run(capsys, db, "import", str(OWN_FIXTURES / "web_item_list_later.json"))
    line = one_line(err)
    assert code == 1 and "cannot write the search index" in line and "No space left on device" in line
    monkeypatch.setattr(text_module, "_writer", real)
    code, out, err = run(capsys, db, "media")  # the fix the line names brings the index up to date
    assert code == 0 and "posts (re)indexed" in out


@pytest.mark.slow
def test_readers_during_an_import_loop_never_fail(db, capsys, tmp_path):
    """An import loop in another process (each import a writing run: lock, ingest, index refresh,
    read copy) while searches, reports and trend listings run here: none fails."""
    feeds = []
    for n in range(4):
        page = json.loads((OWN_FIXTURES / "web_item_list.json").read_text(encoding="utf-8"))
        for k, item in enumerate(page["itemList"]):
            item["id"] = str(7500000000000000000 + n * 100 + k)
            item["desc"] = f"{item.get('desc', '')} omgång{n}"
        feeds.append(tmp_path / f"feed{n}.json")
        feeds[-1].write_text(json.dumps(page), encoding="utf-8")
    loop = textwrap.dedent(f"""
        import sys
        from tiktok_intel import cli
        sys.exit(max(cli.main(["--db", {str(db)!r}, "import", path]) for path in sys.argv[1:]))
    """)
    child = subprocess.Popen([sys.executable, "-c", loop, *map(str, feeds)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    failures, runs = [], 0
    deadline = time.monotonic() + 120
    try:
        while child.poll() is None and time.monotonic() < deadline:
            for argv in (
                ["search", "valet", "--format", "json"],
                ["report", "top-posts", "--format", "json"],
                ["trends", "--format", "json"],
            ):
                code, out, err = run(capsys, db, *argv)
                runs += 1
                if code != 0 or not json.loads(out):
                    failures.append((argv, code, err))
        out, err = child.communicate(timeout=60)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert child.returncode == 0, err  # the writers were not stopped by the readers either
    assert runs >= 3 and failures == []
    code, out, _ = run(capsys, db, "search", "omgång3", "--format", "json")
    assert code == 0 and len(json.loads(out)) == 2  # the last import's posts are indexed by its writer
