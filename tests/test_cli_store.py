"""The command line a new user runs first: init, import, status, process."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
from conftest import OWN_FIXTURES

from tiktok_intel.cli import main


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def db(tmp_path, monkeypatch):
    monkeypatch.delenv("TIKTOK_INTEL_WORKSPACE", raising=False)
    monkeypatch.setenv("TIKTOK_INTEL_PROGRESS", "0")
    monkeypatch.chdir(tmp_path)
    yield str(tmp_path / "ws" / "t.duckdb")
    from tiktok_intel import settings

    settings.configure(None)


def test_init_import_status_process(capsys, db, tmp_path):
    code, out, _ = run(capsys, "--db", db, "init")
    assert code == 0 and "schema version" in out
    code, out, _ = run(
        capsys,
        "--db",
        db,
        "import",
        str(OWN_FIXTURES / "web_item_list.json"),
        str(OWN_FIXTURES / "zeeschuimer.ndjson"),
        "--collected-at",
        "2026-11-01T08:01:00Z",
    )
    assert code == 0
    assert out.strip().splitlines()[-1] == (
        "5 items read: 2 posts (2 new, 2 updated), 4 post snapshots, 2 authors, 3 hashtags, 2 author snapshots; 1 rejected (see rejects)"
    )
    assert (tmp_path / "ws" / "raw" / "import").is_dir()  # --db's folder is the workspace
    code, out, _ = run(capsys, "--db", db, "status")
    assert code == 0 and re.search(r"posts\s+2\b", out) and "rejects by reason" in out and "truncated or invalid JSON" in out
    code, out, _ = run(capsys, "--db", db, "process", "--rebuild")
    assert code == 0 and out.startswith("2 raw page(s) ingested")


def test_not_tiktok_file_is_one_line_error(capsys, db):
    code, out, err = run(capsys, "--db", db, "import", str(OWN_FIXTURES / "bad" / "not_tiktok.csv"))
    assert code == 1 and out == ""
    assert err.count("\n") == 1 and "not_tiktok.csv: not TikTok data" in err and "Zeeschuimer NDJSON" in err


def test_non_utf8_file_is_refused(capsys, db):
    code, _, err = run(capsys, "--db", db, "import", str(OWN_FIXTURES / "bad" / "latin1.json"))
    assert code == 1 and "not UTF-8" in err


def test_missing_path_is_one_line_error(capsys, db):
    code, _, err = run(capsys, "--db", db, "import", "nope.json")
    assert code == 1 and err.strip() == "tiktok-intel: nope.json: no such file or folder"


def test_folder_import_skips_non_data_files(capsys, db, tmp_path):
    folder = tmp_path / "exports"
    folder.mkdir()
    (folder / "feed.json").write_bytes((OWN_FIXTURES / "web_item_list.json").read_bytes())
    (folder / "notes.txt").write_text("my notes")
    code, out, err = run(capsys, "--db", db, "import", str(folder))
    assert code == 0 and "2 items read" in out and "skipped 1 file" in err


def test_console_script_help():
    for argv in (["--help"], ["import", "--help"], ["status", "--help"]):
        done = subprocess.run([sys.executable, "-m", "tiktok_intel", *argv], capture_output=True, text=True, timeout=60)
        assert done.returncode == 0 and "usage: tiktok-intel" in done.stdout
