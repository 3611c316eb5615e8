"""The read copy: every writing run publishes a consistent snapshot of the database beside it, and
dashboards read it (saying so, and as of when) while a flow holds the database file."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import duckdb
import ipywidgets as w
import pytest
from conftest import write_lock_held_by_another_run

from tiktok_intel import cli, tracking
from tiktok_intel import dashboards as ti
from tiktok_intel import settings as settings_module
from tiktok_intel.dashboards import data
from tiktok_intel.store import Workspace, connection, open_db, readcopy
from tiktok_intel.store import workspace as workspace_module


def write_lock(who, workspace=None):
    """The write lock as a run takes it: of the configured workspace, or of the folder ``workspace``."""
    ws = Workspace.current()
    return (ws.replace(workspace=workspace) if workspace is not None else ws).write_lock(who)


def tracked(db: str | Path) -> list[str]:
    """The active tracked hashtags in ``db``, opened read-only (so a read copy stays untouched)."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        return [r[0] for r in con.execute("SELECT name FROM tracked_hashtags WHERE active ORDER BY name").fetchall()]
    finally:
        con.close()


def track(*names: str) -> None:
    """Add tracked hashtags to the configured database, outside any write lock (nothing published)."""
    with connection() as con:
        tracking.add(con, list(names))


def texts(widget) -> str:
    """Every HTML text in a widget tree."""
    parts, stack = [], [widget]
    while stack:
        item = stack.pop()
        if isinstance(item, w.HTML):
            parts.append(item.value)
        stack.extend(reversed(getattr(item, "children", ())))
    return "\n".join(parts)


@pytest.fixture
def db(workspace) -> Path:
    """The workspace's database, tracking #alpha."""
    track("alpha")
    return Path(workspace.db_target)


# ------------------------------------------------------------------------------------------ publish


def test_publish_makes_a_copy_that_opens_read_only_with_the_same_rows(db):
    copy = readcopy.publish(db)
    assert copy == db.with_name("tiktok.read.duckdb") == readcopy.copy_path(Workspace.current().db_target)
    assert tracked(copy) == ["alpha"]
    assert copy.stat().st_mtime_ns == db.stat().st_mtime_ns  # its "as of" is the database's last write
    assert sorted(p.name for p in db.parent.iterdir() if p.is_file()) == ["tiktok.duckdb", "tiktok.read.duckdb"]


def test_publish_writes_a_temporary_file_in_the_same_folder_then_renames_it(db, monkeypatch):
    readcopy.publish(db)
    track("beta")
    replaced = []
    real = os.replace

    def replace(source, target):
        replaced.append((Path(source), Path(target)))
        assert tracked(target) == ["alpha"], "the previous copy was changed before the rename"
        real(source, target)

    monkeypatch.setattr(readcopy.os, "replace", replace)
    copy = readcopy.publish(db)
    [(source, target)] = replaced
    assert target == copy and source.parent == copy.parent and source.name.startswith(".tiktok.read.duckdb.")
    assert tracked(copy) == ["alpha", "beta"] and not source.exists()


def test_publish_skips_while_a_write_ahead_log_is_not_checkpointed(db):
    readcopy.publish(db)
    track("beta")
    wal = db.with_name("tiktok.duckdb.wal")
    wal.write_bytes(b"")  # as a writer that was killed before its checkpoint leaves it
    assert readcopy.publish(db) is None
    assert tracked(db.with_name("tiktok.read.duckdb")) == ["alpha"]  # the previous copy stays
    wal.unlink()
    assert readcopy.publish(db) is not None and tracked(db.with_name("tiktok.read.duckdb")) == ["alpha", "beta"]


def test_publish_skips_when_nothing_changed(db):
    copy = readcopy.publish(db)
    inode = copy.stat().st_ino
    assert readcopy.publish(db) is None and copy.stat().st_ino == inode


def test_publish_skips_while_this_process_holds_the_database_for_writing(db):
    con = open_db(db)
    try:
        con.execute("INSERT INTO tracked_hashtags (name, active, added_at) VALUES ('beta', true, now())")
        con.execute("CHECKPOINT")  # no write-ahead log left: only the open connection says "not now"
        assert not db.with_name("tiktok.duckdb.wal").exists() and readcopy.publish(db) is None
    finally:
        con.close()
    assert not db.with_name("tiktok.read.duckdb").exists()


def test_publish_never_raises_and_leaves_no_temporary_file(db, monkeypatch, caplog):
    blocker = db.with_name("tiktok.read.duckdb")
    blocker.mkdir()
    (blocker / "something").write_text("a folder where the copy should be")
    with caplog.at_level(logging.WARNING, logger="tiktok_intel.store.readcopy"):
        assert readcopy.publish(db) is None
    [record] = caplog.records
    assert "was not refreshed" in record.getMessage() and "\n" not in record.getMessage()
    blocker.joinpath("something").unlink()
    blocker.rmdir()

    def full(source, target, **kwargs):
        Path(target).write_bytes(b"half")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(readcopy.shutil, "copyfile", full)
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="tiktok_intel.store.readcopy"):
        assert readcopy.publish(db) is None
    assert "No space left on device" in caplog.text
    assert sorted(p.name for p in db.parent.iterdir()) == ["tiktok.duckdb"]


def test_stores_without_a_file_have_no_read_copy(workspace):
    assert readcopy.copy_path(":memory:") is None and readcopy.copy_path("ducklake:sqlite:/tmp/x.sqlite") is None
    assert readcopy.publish(":memory:") is None


# ------------------------------------------------------------------------------------- the write lock


def test_releasing_the_outer_write_lock_publishes_an_inner_release_does_not(db):
    copy = db.with_name("tiktok.read.duckdb")
    with write_lock("content"):
        with write_lock("collect"):
            track("beta")
        assert not copy.exists()
    assert tracked(copy) == ["alpha", "beta"]


def test_a_run_that_failed_publishes_nothing(db):
    with pytest.raises(RuntimeError):
        with write_lock("content"):
            track("beta")
            raise RuntimeError("the run failed")
    assert not db.with_name("tiktok.read.duckdb").exists()


def test_a_database_elsewhere_than_the_workspace_publishes_its_own_copy(workspace, tmp_path):
    other = tmp_path / "elsewhere" / "x.duckdb"
    settings_module.configure(workspace, db=str(other))  # TIKTOK_INTEL_WORKSPACE and --db elsewhere
    track("alpha")
    with write_lock("import"):
        pass
    assert tracked(other.with_name("x.read.duckdb")) == ["alpha"]
    assert not (workspace.workspace_path / "tiktok.read.duckdb").exists()


def test_a_lock_taken_for_another_folder_publishes_nothing(db, tmp_path):
    with write_lock("content", workspace=tmp_path / "another"):
        track("beta")
    assert not db.with_name("tiktok.read.duckdb").exists()


def test_a_writing_command_publishes_and_status_still_reads_the_database(db, capsys):
    assert cli.main(["--db", str(db), "track", "add", "beta"]) == 0
    assert tracked(db.with_name("tiktok.read.duckdb")) == ["alpha", "beta"]
    capsys.readouterr()
    assert cli.main(["--db", str(db), "status"]) == 0
    out = capsys.readouterr().out
    assert f"database {db}\n" in out and "read" not in out.split("\n")[0]


# ------------------------------------------------------------------- dashboards, another process writing

HOLDER = textwrap.dedent("""
    import sys
    import duckdb

    con = duckdb.connect(sys.argv[1])  # writable: the whole file is locked for other processes
    print("holding", flush=True)
    sys.stdin.read()  # until the test closes our stdin
    con.close()
""")


@pytest.fixture
def held(db, monkeypatch):
    """The database with a read copy tracking #alpha, #beta tracked since (not published), held
    open for writing by another process, as a scheduled flow holds it; dashboards wait 0.3 s."""
    readcopy.publish(db)
    track("beta")
    monkeypatch.setattr(workspace_module, "BUSY_WAIT_SECONDS", 0.3)
    child = subprocess.Popen([sys.executable, "-c", HOLDER, str(db)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().strip() == "holding"
        yield db
    finally:
        child.stdin.close()
        child.wait(timeout=30)


def test_a_busy_database_is_read_from_its_copy_and_the_notice_says_so(held):
    with data.noting_copies() as seen:
        values = data.read(data.counts)
    assert values["tracked hashtags"] == 1  # the copy's: #beta came after it was published
    [as_of] = seen
    assert as_of == held.with_name("tiktok.read.duckdb").stat().st_mtime
    notice = data.copy_notice(as_of)
    assert "skriver till databasen" in notice and "visar data från" in notice and "ladda om" in notice  # Swedish, the default
    from tiktok_intel import texts

    texts.use("en")
    try:
        notice = data.copy_notice(as_of)
    finally:
        texts.use(None)
    assert "is writing" in notice and "showing the data as of" in notice and "refresh for the latest" in notice


def test_a_busy_database_without_a_copy_is_busy(held):
    held.with_name("tiktok.read.duckdb").unlink()
    with pytest.raises(data.BusyError, match="The database is busy"):
        data.read(data.counts)


def test_a_panel_shows_the_copy_under_a_notice(held):
    panel = ti.counts_panel(None)
    text = texts(panel)
    from tiktok_intel.texts import t

    as_of = t("copy_notice", when="").split(":")[0]  # in the dashboards' language (default Swedish)
    assert "data-what='tracked hashtags'" in text and as_of in text and "visar data från" in text, text[:2000]
    assert f">1</div><div style='color:#555'>{t('tracked hashtags')}" in text
    tracked_list = texts(ti.tracked_panel(None))
    assert tracked_list.count(as_of) == 1 and "alpha" in tracked_list and "beta" not in tracked_list


def test_a_dashboard_edit_takes_the_write_lock_and_publishes(db):
    readcopy.publish(db)
    data.write(tracking.add, ["beta"])
    assert tracked(db.with_name("tiktok.read.duckdb")) == ["alpha", "beta"]


def test_a_dashboard_edit_while_a_run_holds_the_write_lock_is_busy(db, monkeypatch):
    monkeypatch.setattr(workspace_module, "BUSY_WAIT_SECONDS", 0.3)
    with write_lock_held_by_another_run():
        with pytest.raises(data.BusyError, match="The database is busy"):
            data.write(tracking.add, ["beta"])
    assert tracked(db) == ["alpha"]


def test_after_one_read_fell_back_to_the_copy_the_next_ones_do_not_wait_again(held, monkeypatch):
    waits = []
    real_open = Workspace._open_existing

    def spying_open(self, *, read_only, wait):
        waits.append(wait)
        return real_open(self, read_only=read_only, wait=wait)

    monkeypatch.setattr(Workspace, "_open_existing", spying_open)
    for _ in range(3):  # a page's panels: each reads
        assert data.read(data.counts)["tracked hashtags"] == 1
    assert waits == [0.3, 0.0, 0.0]
    monkeypatch.setattr(workspace_module, "BUSY_REMEMBERED_SECONDS", 0.0)
    workspace_module._busy_until.clear()
    waits.clear()
    for _ in range(2):
        data.read(data.counts)
    assert waits == [0.3, 0.3]  # remembered for no time: each read waits its turn
