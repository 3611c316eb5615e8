"""Hostile files, names and paths through ``tiktok-intel import`` (issue 22): identical bytes are kept
once in raw (content-addressed), a killed import leaves nothing a rerun duplicates, size limits
are checked before the work (a gzip bomb inflated as a stream and stopped at the limit), a file that
changes or disappears mid-import, names and arguments that are not UTF-8, and a workspace whose
path holds URL-special characters. Each case: exit status, one line on stderr, nothing outside
the workspace.
"""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import OWN_FIXTURES

from tiktok_intel import imports
from tiktok_intel import settings as settings_module
from tiktok_intel.cli import main
from tiktok_intel.store import open_db

FEED = OWN_FIXTURES / "web_item_list.json"


@pytest.fixture
def run(tmp_path, monkeypatch, capsys):
    """``run(*args)`` -> (exit code, stdout, stderr) of the CLI on the workspace ``tmp_path/ws``."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TIKTOK_INTEL_PROGRESS", "0")
    monkeypatch.delenv("TIKTOK_INTEL_WORKSPACE", raising=False)
    ws = tmp_path / "ws"

    def call(*args: str, db: Path | None = None) -> tuple[int, str, str]:
        capsys.readouterr()
        try:
            code = main(["--db", str(db or ws / "tiktok.duckdb"), *args])
        finally:
            settings_module.configure(None)
        out, err = capsys.readouterr()
        return code, out, err

    call.ws = ws
    yield call
    settings_module.configure(None)


def one_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("tiktok-intel: ") and "Traceback" not in err, err
    return lines[0]


def raw_files(ws: Path) -> list[Path]:
    raw = ws / "raw"
    return sorted(p for p in raw.rglob("*") if p.is_file()) if raw.is_dir() else []


def bodies(ws: Path) -> list[Path]:
    return [p for p in raw_files(ws) if not p.name.endswith(".meta.json")]


def posts(ws: Path) -> int:
    with open_db(ws / "tiktok.duckdb", read_only=True) as con:
        return con.execute("SELECT count(*) FROM posts").fetchone()[0]


# ---------------------------------------------------------------- content-addressed raw bodies
def test_the_same_bytes_imported_again_are_kept_once_and_each_import_has_its_meta(run, tmp_path):
    a, b = tmp_path / "a.json", tmp_path / "copy-of-a.json"
    a.write_bytes(FEED.read_bytes())
    b.write_bytes(FEED.read_bytes())
    for _ in range(3):
        code, _, err = run("import", str(a), str(b))
        assert code == 0, err
    kept = bodies(run.ws)
    assert len(kept) == 1 and kept[0].read_bytes() == FEED.read_bytes(), kept
    metas = list((run.ws / "raw").rglob("*.meta.json"))
    assert len(metas) == 6  # every import of every file is recorded ...
    names = {json.loads(m.read_text())["body"] for m in metas}  # ... and points at the one body
    assert names == {kept[0].relative_to(run.ws / "raw").as_posix()}
    assert {json.loads(m.read_text())["original_name"] for m in metas} == {"a.json", "copy-of-a.json"}
    code, out, _ = run("process")
    assert code == 0 and out.startswith("0 raw page(s) ingested")
    n = posts(run.ws)
    code, out, err = run("process", "--rebuild")
    assert code == 0 and posts(run.ws) == n, err


def test_an_import_killed_after_its_body_leaves_nothing_a_rerun_duplicates(run, tmp_path, monkeypatch):
    from tiktok_intel import raw

    src = tmp_path / "feed.json"
    src.write_bytes(FEED.read_bytes())
    real = raw._atomic_write

    def killed_before_meta(path, data):
        if path.name.endswith(raw.META_SUFFIX):
            raise KeyboardInterrupt  # what a kill between the body and the meta file leaves
        real(path, data)

    monkeypatch.setattr(raw, "_atomic_write", killed_before_meta)
    code, _, err = run("import", str(src))
    assert code == 130 and len(bodies(run.ws)) == 1 and not list((run.ws / "raw").rglob("*.meta.json"))
    monkeypatch.setattr(raw, "_atomic_write", real)
    code, out, err = run("import", str(src))
    assert code == 0, err
    assert len(bodies(run.ws)) == 1 and len(list((run.ws / "raw").rglob("*.meta.json"))) == 1
    assert not list((run.ws / "raw").rglob(".tmp-*"))
    code, out, _ = run("process")
    assert out.startswith("0 raw page(s) ingested")


def test_a_meta_file_naming_a_body_outside_the_raw_zone_is_a_damaged_page(run, tmp_path):
    src = tmp_path / "feed.json"
    src.write_bytes(FEED.read_bytes())
    assert run("import", str(src))[0] == 0
    (meta,) = (run.ws / "raw").rglob("*.meta.json")
    text = json.loads(meta.read_text())
    text["body"] = "../../../../etc/passwd"
    meta.write_text(json.dumps(text))  # edited by hand
    from tiktok_intel.raw import iter_pages

    (page,) = iter_pages(run.ws / "raw")
    assert page.problem and "meta file is unreadable" in page.problem and page.body_path == meta  # never followed
    code, out, err = run("process")
    assert code == 0 and "1 raw page(s) ingested" in out and "0 posts (0 new" in out, (out, err)  # nothing read from elsewhere


# ---------------------------------------------------------------- limits, checked before the work
def test_a_file_larger_than_max_file_bytes_is_one_line_and_nothing_is_copied(run, tmp_path, monkeypatch):
    good, big = tmp_path / "good.json", tmp_path / "big.json"
    good.write_bytes(FEED.read_bytes())
    big.write_bytes(FEED.read_bytes() + b" " * 10_000)
    monkeypatch.setenv("TIKTOK_INTEL_MAX_FILE_BYTES", str(len(FEED.read_bytes()) + 100))
    code, _, err = run("import", str(good), str(big))
    line = one_line(err)
    assert code == 1 and "big.json" in line and "max_file_bytes" in line and "TIKTOK_INTEL_MAX_FILE_BYTES" in line
    assert raw_files(run.ws) == []  # a bad file imports nothing


def _bomb(path: Path, inflated: int) -> None:
    """A gzip file of ``inflated`` bytes (mostly zeros) in about a thousandth of that: one member
    of 16 MiB of zeros compressed once, repeated (a multi-member gzip file, as ``cat a.gz b.gz``)."""
    member = gzip.compress(b"\0" * (16 << 20), compresslevel=9, mtime=0)
    with path.open("wb") as out:
        out.write(gzip.compress(b'{"itemList": [], "pad": "', mtime=0))
        for _ in range(max(1, inflated >> 24)):
            out.write(member)


@pytest.mark.slow
def test_a_gzip_bomb_is_stopped_at_max_inflated_bytes_in_little_memory(tmp_path):
    bomb = tmp_path / "bomb.json.gz"
    inflated = 1 << 30  # 1 GiB of zeros in about 1 MB of gzip
    _bomb(bomb, inflated)
    assert bomb.stat().st_size < 3_000_000
    ws = tmp_path / "ws"
    env = {k: v for k, v in os.environ.items() if not k.startswith("TIKTOK_INTEL_")}
    env.update(TIKTOK_INTEL_PROGRESS="0", TIKTOK_INTEL_MAX_INFLATED_BYTES=str(64 << 20))
    # a parent of its own, so the peak memory measured is the CLI's alone
    probe = (
        "import resource, subprocess, sys; "
        "done = subprocess.run(sys.argv[1:], capture_output=True, text=True); "
        "sys.stdout.write(str(done.returncode) + '\\n' + str(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss) + '\\n' + done.stderr)"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe, sys.executable, "-m", "tiktok_intel", "--db", str(ws / "tiktok.duckdb"), "import", str(bomb)],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=300,
    )
    code, peak_kb, err = done.stdout.split("\n", 2)
    line = one_line(err)
    assert int(code) == 1 and "bomb.json.gz" in line and "max_inflated_bytes" in line, err
    assert int(peak_kb) * 1024 < inflated // 4, f"peak memory {int(peak_kb) // 1024} MB for a 1 GiB bomb"
    assert raw_files(ws) == []


def test_a_gzip_past_the_inflated_limit_is_refused_before_anything_is_copied(run, tmp_path, monkeypatch):
    good, bomb = tmp_path / "good.json", tmp_path / "bomb.json.gz"
    good.write_bytes(FEED.read_bytes())
    _bomb(bomb, 8 << 20)
    monkeypatch.setenv("TIKTOK_INTEL_MAX_INFLATED_BYTES", str(4 << 20))
    code, _, err = run("import", str(good), str(bomb))
    line = one_line(err)
    assert code == 1 and "bomb.json.gz" in line and "max_inflated_bytes" in line
    assert raw_files(run.ws) == []


# ---------------------------------------------------------------- files that change mid-import
@pytest.mark.parametrize("how", ["disappears", "changes"])
def test_a_file_that_changes_or_disappears_after_its_check_is_left_out_and_the_others_go_in(run, tmp_path, monkeypatch, how):
    folder = tmp_path / "export"
    folder.mkdir()
    (folder / "a.json").write_bytes(FEED.read_bytes())
    victim = folder / "b.json"
    victim.write_bytes((OWN_FIXTURES / "aweme_list.json").read_bytes())
    real = imports._check

    def check_then_touch(path):
        info = real(path)
        if path == victim:  # right after its check, before its copy
            if how == "disappears":
                victim.unlink()
            else:
                victim.write_bytes(b'{"itemList": []}')
        return info

    monkeypatch.setattr(imports, "_check", check_then_touch)
    code, _, err = run("import", str(folder))
    line = one_line(err)
    word = "disappeared" if how == "disappears" else "changed"
    assert code == 1 and f"b.json {word}" in line and "the other 1 file(s) went in" in line, line
    metas = [json.loads(m.read_text()) for m in (run.ws / "raw").rglob("*.meta.json")]
    assert [m["original_name"] for m in metas] == ["a.json"] and len(bodies(run.ws)) == 1  # nothing of b.json
    assert posts(run.ws) > 0


# ---------------------------------------------------------------- names and arguments not UTF-8
NOT_UTF8 = os.fsdecode(b"bad-\xff\xfe")


def test_a_file_name_that_is_not_utf8_is_one_line_and_leaves_no_body(run, tmp_path):
    folder = tmp_path / "export"
    folder.mkdir()
    (folder / "good.json").write_bytes(FEED.read_bytes())
    (folder / (NOT_UTF8 + ".json")).write_bytes(FEED.read_bytes())
    for target in (folder, folder / (NOT_UTF8 + ".json")):  # inside a folder, and named on the command line
        code, _, err = run("import", str(target))
        line = one_line(err)
        assert code == 1 and "not UTF-8" in line and "\\xff" in line, line
        assert raw_files(run.ws) == []


@pytest.mark.parametrize(
    "args",
    [
        ["collect", "--hashtag", NOT_UTF8, "--raw-only"],
        ["search", "x", "--author", NOT_UTF8],
        ["rules", "--related", NOT_UTF8],
        ["track", "add", NOT_UTF8],
    ],
    ids=["hashtag", "author", "related", "track"],
)
def test_an_argument_that_is_not_utf8_is_one_line_and_writes_nothing(run, args):
    code, _, err = run(*args)
    line = one_line(err)
    assert code == 1 and "not UTF-8" in line and "\\xff" in line, line
    assert raw_files(run.ws) == []


# ---------------------------------------------------------------- URL-special characters in the path
def test_a_workspace_path_with_url_special_characters(run, tmp_path):
    """DuckDB takes what follows a '?' as URL parameters (its WAL goes to ``a.wal?b...``) and
    resolves links, so such a folder is refused with one line naming the fix; '#' and '%' work."""
    odd = tmp_path / "a?b#c"
    for args in (["init"], ["import", str(FEED)]):
        code, _, err = run(*args, db=odd / "tiktok.duckdb")
        line = one_line(err)
        assert code == 1 and "holds no '?'" in line, line
    code, out, err = run("status", db=odd / "tiktok.duckdb")  # no database there: nothing to open
    assert "Traceback" not in err and (code == 0 or "holds no '?'" in one_line(err)), err
    assert not [p for p in tmp_path.iterdir() if p.name not in ("a?b#c", "ws")]  # nothing beside it (no 'a.wal?b#c')
    assert raw_files(odd) == [] and not (odd / "tiktok.duckdb").exists()
    fine = tmp_path / "a#b%c d"
    for args in (["init"], ["import", str(FEED)], ["status"]):
        code, out, err = run(*args, db=fine / "tiktok.duckdb")
        assert code == 0, err
    assert posts(fine) > 0 and "posts" in out
