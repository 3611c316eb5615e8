"""Fault tests: what a crash, a damaged raw page, a full disk, a second importer and a curious
reader of logs can do to a workspace.

* ``kill -9`` of a collection and of an import at random points (seeded: the seed and the delay
  are in every assertion message; ``FAULTS_SEED=<n>`` explores other points), then the same
  command again: the store equals an uninterrupted run's (same rows, no key twice), and every raw
  page of the uninterrupted run is in the raw zone and ingested.
* A raw page damaged on disk is a reject with its reason; every other page is ingested.
* A full disk (a file size limit, ``RLIMIT_FSIZE``, for any user; a full tmpfs where user
  namespaces allow one) or an unwritable workspace is one line naming the fix (on stderr; for a
  collection that could not write a hashtag's pages, its one summary line), and the same command
  completes once there is room.
* The same files imported twice at once: one import waits for the other; nothing doubles.
* Canary secrets as the msToken and the Research API credentials appear in no log, output, raw
  page, executed notebook, report, store row or dashboard panel, though TikTok received them.

The offline TikTok runs with a fixed clock, so every fetch of a page gives the same bytes and an
interrupted run and an uninterrupted one see the same TikTok.
"""

from __future__ import annotations

import base64
import collections
import datetime as dt
import gzip
import hashlib
import io
import json
import logging
import os
import random
import re
import resource
import shutil
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest
from conftest import OWN_FIXTURES

from tiktok_intel import settings as settings_module
from tiktok_intel.offline import OfflineTikTok, World, shapes
from tiktok_intel.schema import INGEST_TABLES
from tiktok_intel.store import open_db
from tiktok_intel.store.workspace import STALE_ERROR

pytestmark = pytest.mark.slow

#: The offline TikTok's clock (fixed: a page fetched twice is the same bytes).
T = dt.datetime(2026, 11, 20, 8, 0)
SEED = int(os.environ.get("FAULTS_SEED", "20261124"))
FEED = "/api/challenge/item_list/"
#: Times and run ids that legitimately differ between two runs of the same collection.
RUN_SPECIFIC = {"first_seen_at", "last_seen_at", "collected_at", "run_id"}


# -- running the command line -----------------------------------------------------------------------


def cli_env(workspace: Path, tiktok: OfflineTikTok | None = None, **settings: str) -> dict[str, str]:
    """The caller's environment without its TIKTOK_INTEL_* settings, pointed at ``workspace``
    (and the offline TikTok), plus ``settings`` (``ms_token="x"`` -> TIKTOK_INTEL_MS_TOKEN=x)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TIKTOK_INTEL_")}
    env.update(TIKTOK_INTEL_WORKSPACE=str(workspace), TIKTOK_INTEL_PROGRESS="0")
    if tiktok is not None:
        env.update(
            TIKTOK_INTEL_WEB_BASE_URL=tiktok.base_url,
            TIKTOK_INTEL_RESEARCH_BASE_URL=tiktok.base_url,
            TIKTOK_INTEL_MEDIA_HOSTS="127.0.0.1",
            TIKTOK_INTEL_REQUESTS_PER_SECOND="0",
            TIKTOK_INTEL_RETRIES="1",
            TIKTOK_INTEL_TIMEOUT_SECONDS="10",
        )
    env.update({"TIKTOK_INTEL_" + k.upper(): str(v) for k, v in settings.items()})
    return env


def cli(env: dict[str, str], *args: str, cwd: Path, timeout: float = 180, preexec_fn=None, prefix: tuple[str, ...] = ()):
    """``tiktok-intel ARGS`` in a child process; its CompletedProcess (text)."""
    return subprocess.run(
        [*prefix, sys.executable, "-m", "tiktok_intel", *args],
        env=env,
        cwd=str(cwd),
        capture_output=True,
        text=True,
        timeout=timeout,
        preexec_fn=preexec_fn,
    )


def ok(done: subprocess.CompletedProcess) -> subprocess.CompletedProcess:
    assert done.returncode == 0, f"{done.args[-6:]} exited {done.returncode}:\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}"
    return done


def pages_written(raw: Path, at_least: int = 1):
    """A condition: ``at_least`` complete pages are in the raw zone ``raw``."""

    def check() -> bool:
        if not raw.is_dir():
            return False
        found = 0
        for _ in raw.rglob("*.meta.json"):
            found += 1
            if found >= at_least:
                return True
        return False

    return check


def timed_run(env, args, cwd: Path, **marks) -> dict[str, float]:
    """Run ``tiktok-intel ARGS`` to the end; seconds from its start until each condition in
    ``marks`` first held, and until it ended (``end``)."""
    started = time.monotonic()
    seen: dict[str, float] = {}
    with open(cwd / "run.log", "ab") as log:
        proc = subprocess.Popen([sys.executable, "-m", "tiktok_intel", *args], env=env, cwd=str(cwd), stdout=log, stderr=log)
        while proc.poll() is None:
            for name, condition in marks.items():
                if name not in seen and condition():
                    seen[name] = time.monotonic() - started
            time.sleep(0.01)
    assert proc.returncode == 0, (cwd / "run.log").read_text(errors="replace")[-3000:]
    seen["end"] = time.monotonic() - started
    return {name: seen.get(name, seen["end"]) for name in [*marks, "end"]}


def _timeline(times: dict[str, float]) -> str:
    return ", ".join(f"{name} at {seconds:.2f} s" for name, seconds in times.items())


def kill_after(env, args, cwd: Path, delay: float, *, once=None) -> int:
    """Start ``tiktok-intel ARGS``, SIGKILL it ``delay`` seconds after it started (``once``: after
    that condition first held); its return code (``-9`` when the kill landed)."""
    with open(cwd / "killed.log", "ab") as log:
        proc = subprocess.Popen([sys.executable, "-m", "tiktok_intel", *args], env=env, cwd=str(cwd), stdout=log, stderr=log)
        try:
            limit = time.monotonic() + 120
            while once is not None and proc.poll() is None and not once() and time.monotonic() < limit:
                time.sleep(0.005)
            deadline = time.monotonic() + delay
            while proc.poll() is None and time.monotonic() < deadline:
                time.sleep(0.002)
            if proc.poll() is None:
                os.kill(proc.pid, signal.SIGKILL)
            return proc.wait(timeout=60)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()


def kill_and_rerun(env_for, args, tmp_path: Path, n: int, delay: float, *, once_for=None, label: str) -> tuple[Path, dict, str]:
    """Kill a run in a fresh workspace (again, sooner, while runs end before the kill), then run
    the same command to the end there: (the workspace, the rerun, what happened in words)."""
    for attempt in range(4):  # a run that ended before the kill proves nothing
        ws = tmp_path / f"killed-{n}-{attempt}"
        ws.mkdir()
        env = env_for(ws)
        code = kill_after(env, args, ws, delay, once=once_for(ws) if once_for else None)
        if code == -signal.SIGKILL:
            break
        delay /= 2
    what = f"seed {SEED}, kill {n}: {label.format(delay=delay)} (attempt {attempt})"
    assert code == -signal.SIGKILL, f"{what}: the run always ended before the kill (exit {code})"
    what += f"; then {state_after_kill(ws)}"
    again = cli(env, *args, cwd=ws)
    assert again.returncode == 0, f"{what}; the rerun failed:\n{again.stdout}\n{again.stderr}"
    return ws, again, what


# -- comparing workspaces -------------------------------------------------------------------------------


def rows(db: Path, *, stable_only: bool) -> dict[str, list[tuple]]:
    """Every ingested table's rows (``stable_only``: without collection times and run ids), sorted,
    duplicates kept; plus rejects and raw_pages by checksum."""
    out = {}
    with open_db(db, read_only=True) as con:
        for table in INGEST_TABLES:
            columns = [c for c in table.column_names if not (stable_only and c in RUN_SPECIFIC)]
            out[table.name] = sorted(con.execute(f"SELECT {', '.join(columns)} FROM {table.name}").fetchall(), key=repr)
        out["rejects"] = sorted(con.execute("SELECT raw_sha256, item_index, reason, excerpt FROM rejects").fetchall(), key=repr)
        pages = "sha256, source, shape, hashtag, items_read, items_ingested, items_rejected" + ("" if stable_only else ", fetched_at")
        out["raw_pages"] = sorted(con.execute(f"SELECT {pages} FROM raw_pages").fetchall(), key=repr)
    return out


def duplicate_keys(db: Path) -> dict[str, int]:
    """Tables holding a key more than once, with how many extra rows."""
    keys = {t.name: t.key for t in INGEST_TABLES}
    keys.update(raw_pages=("sha256",), rejects=("raw_sha256", "item_index"))
    found = {}
    with open_db(db, read_only=True) as con:
        for name, key in keys.items():
            extra = con.execute(f"SELECT count(*) - count(DISTINCT ({', '.join(key)})) FROM {name}").fetchone()[0]
            if extra:
                found[name] = extra
    return found


def differences(expected: dict, got: dict) -> list[str]:
    out = []
    for name in expected:
        if expected[name] != got[name]:
            want, have = collections.Counter(expected[name]), collections.Counter(got[name])
            out.append(
                f"{name}: {len(expected[name])} rows expected, {len(got[name])} found; missing {list((want - have).elements())[:2]}, "
                f"unexpected {list((have - want).elements())[:2]}"
            )
    return out


def raw_zone(workspace: Path) -> tuple[set[str], set[str], list[str]]:
    """(sha256 of every complete page's body, checksums its meta files name, meta files without a body)."""
    bodies, named, orphans = set(), set(), []
    for meta_path in (workspace / "raw").rglob("*.meta.json"):
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        named.add(meta["sha256"])
        stem = meta_path.name[: -len(".meta.json")]
        body = [p for p in meta_path.parent.iterdir() if p.name.split(".", 1)[0] == stem and not p.name.endswith(".meta.json")]
        if "body" in meta:  # an imported file's body: content-addressed, named by its meta file
            body = [p for p in [workspace / "raw" / meta["body"]] if p.is_file()]
        if not body:
            orphans.append(str(meta_path))
            continue
        data = body[0].read_bytes()
        bodies.add(hashlib.sha256(gzip.decompress(data) if body[0].suffix == ".gz" else data).hexdigest())
    return bodies, named, orphans


def ingested(db: Path) -> set[str]:
    with open_db(db, read_only=True) as con:
        return {r[0] for r in con.execute("SELECT sha256 FROM raw_pages").fetchall()}


def assert_same_as_uninterrupted(base: Path, killed: Path, *, stable_only: bool, what: str) -> None:
    """The killed-and-rerun workspace holds what the uninterrupted one holds; no raw page lost."""
    base_db, killed_db = base / "tiktok.duckdb", killed / "tiktok.duckdb"
    assert duplicate_keys(killed_db) == {}, f"{what}: keys stored twice"
    diff = differences(rows(base_db, stable_only=stable_only), rows(killed_db, stable_only=stable_only))
    assert diff == [], f"{what}: the store differs from the uninterrupted run's:\n" + "\n".join(diff)
    base_bodies, _, _ = raw_zone(base)
    bodies, named, orphans = raw_zone(killed)
    assert orphans == [], f"{what}: meta files without their body: {orphans}"
    assert base_bodies <= bodies, f"{what}: {len(base_bodies - bodies)} raw page(s) of the uninterrupted run missing from the raw zone"
    assert named <= ingested(killed_db), f"{what}: {len(named - ingested(killed_db))} raw page(s) in the raw zone never ingested"


def state_after_kill(workspace: Path) -> str:
    """A few words on where the kill landed, for assertion messages."""
    pages = len(list((workspace / "raw").rglob("*.meta.json"))) if (workspace / "raw").is_dir() else 0
    leftovers = len(list((workspace / "raw").rglob(".tmp-*"))) if (workspace / "raw").is_dir() else 0
    try:
        with open_db(workspace / "tiktok.duckdb", read_only=True, wait_seconds=5) as con:
            done = con.execute("SELECT count(*) FROM raw_pages").fetchone()[0]
            posts = con.execute("SELECT count(*) FROM posts").fetchone()[0]
        stored = f"{done} ingested, {posts} posts stored"
    except Exception as exc:  # noqa: BLE001 - only for the message
        stored = f"store not readable yet ({type(exc).__name__})"
    return f"{pages} raw page(s) written ({leftovers} temp file(s) left), {stored}"


# -- kill -9 a collection -------------------------------------------------------------------------------

COLLECT = ("collect", "--hashtag", "valet2026", "--hashtag", "klimat", "--max-posts", "100", "--no-covers")


@pytest.fixture(scope="module")
def tiktok():
    with OfflineTikTok(seed=7, now=lambda: T) as server:
        yield server


def test_a_collection_killed_at_random_points_and_rerun_equals_an_uninterrupted_one(tiktok, tmp_path):
    rng = random.Random(SEED)
    base = tmp_path / "uninterrupted"
    base.mkdir()
    env_for = lambda ws: cli_env(ws, tiktok, ms_token="msToken-faults")  # noqa: E731
    times = timed_run(env_for(base), COLLECT, base, first=pages_written(base / "raw"))
    fetching = max(times["end"] - times["first"], 0.3)
    # one point while it starts (store created and migrated, run recorded), two while it fetches and ingests page after page
    points = [
        (rng.uniform(0.5, 0.95) * times["first"], None, "{delay:.2f} s after it started"),
        (rng.uniform(0.0, 0.45) * fetching, pages_written, "{delay:.2f} s after its first raw page"),
        (rng.uniform(0.45, 0.9) * fetching, pages_written, "{delay:.2f} s after its first raw page"),
    ]
    for n, (delay, condition, label) in enumerate(points):
        ws, again, what = kill_and_rerun(
            env_for,
            COLLECT,
            tmp_path,
            n,
            delay,
            label=label + f" (uninterrupted run: {_timeline(times)})",
            once_for=(lambda ws: condition(ws / "raw")) if condition else None,
        )
        assert "2 of 2 hashtag(s) done" in again.stdout, f"{what}; rerun: {again.stdout}"
        print(what)
        assert_same_as_uninterrupted(base, ws, stable_only=True, what=what)
        with open_db(ws / "tiktok.duckdb", read_only=True) as con:  # the killed run is not left "running" for ever
            states = con.execute("SELECT status, error FROM runs ORDER BY started_at").fetchall()
        assert all(status != "running" for status, _ in states), f"{what}: {states}"
        # the killed run: closed by the rerun, or completed when the kill came as its process was ending
        assert states[-1][0] == "completed" and all(status == "completed" or error == STALE_ERROR for status, error in states[:-1]), (
            f"{what}: {states}"
        )


# -- kill -9 an import ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def import_set(tmp_path_factory) -> Path:
    """About 1,500 items in 84 files: web feed pages at two collection times (read by DuckDB's
    JSON reader), a Zeeschuimer NDJSON export (the Python parsers, two transactions) and two
    pages with bad items (rejects)."""
    folder = tmp_path_factory.mktemp("exports")
    world = World(3, n_posts=400)
    for k, at in enumerate((T, T + dt.timedelta(hours=8))):
        for name in sorted(world.hashtags):
            feed = world.feed(name, at)
            for cursor in range(0, len(feed), 30):
                page = shapes.item_list_page(
                    world, feed[cursor : cursor + 30], at, "https://www.tiktok.com", cursor=cursor + 30, has_more=cursor + 30 < len(feed)
                )
                path = folder / f"feed-{k}-{name}-{cursor:04d}.json"
                path.write_text(json.dumps(page, ensure_ascii=False), encoding="utf-8")
                os.utime(path, (at.replace(tzinfo=dt.UTC).timestamp(),) * 2)
    later = T + dt.timedelta(days=1)
    lines = []
    for n, post in enumerate(world.feed("svtnyheter", later)[:150] + world.feed("klimat", later)[:150]):
        item = shapes.item_struct(world, post, later, "https://www.tiktok.com")
        lines.append(
            json.dumps(
                {
                    "item_id": item["id"],
                    "timestamp_collected": int(later.replace(tzinfo=dt.UTC).timestamp() * 1000) + n,
                    "source_platform": "tiktok.com",
                    "source_platform_url": "https://www.tiktok.com/tag/klimat",
                    "data": item,
                },
                ensure_ascii=False,
            )
        )
    (folder / "zeeschuimer-export.ndjson").write_text("\n".join(lines) + "\n", encoding="utf-8")
    for name in ("truncated.json", "odd_values.json"):
        shutil.copyfile(OWN_FIXTURES / "bad" / name, folder / f"bad-{name}")
        os.utime(folder / f"bad-{name}", (T.replace(tzinfo=dt.UTC).timestamp(),) * 2)
    return folder


#: Many small transactions, so that kills land between commits as well as inside them.
IMPORT_SETTINGS = {"ingest_batch_items": "200"}


@pytest.fixture(scope="module")
def imported(import_set, tmp_path_factory) -> tuple[Path, dict[str, float]]:
    """An uninterrupted import of the set, and when it had copied everything to raw, and ended."""
    ws = tmp_path_factory.mktemp("imported")
    files = len(list(import_set.iterdir()))
    times = timed_run(
        cli_env(ws, **IMPORT_SETTINGS),
        ("import", str(import_set)),
        ws,
        first=pages_written(ws / "raw"),
        copied=pages_written(ws / "raw", files),
    )
    with open_db(ws / "tiktok.duckdb", read_only=True) as con:
        assert con.execute("SELECT count(*) FROM raw_pages").fetchone()[0] == files
        assert con.execute("SELECT count(*) FROM rejects").fetchone()[0] > 0  # the bad pages are in the set
    return ws, times


def test_an_import_killed_at_random_points_and_rerun_equals_an_uninterrupted_one(import_set, imported, tmp_path):
    rng = random.Random(SEED)
    base, times = imported
    files = len(list(import_set.iterdir()))
    args = ("import", str(import_set))
    env_for = lambda ws: cli_env(ws, **IMPORT_SETTINGS)  # noqa: E731
    copying, ingesting = max(times["copied"] - times["first"], 0.05), max(times["end"] - times["copied"], 0.3)
    # one point while it copies the files to raw, two while it ingests them batch after batch
    points = [
        (rng.uniform(0.1, 0.9) * copying, lambda ws: pages_written(ws / "raw"), "{delay:.2f} s after its first raw page"),
        (rng.uniform(0.0, 0.45) * ingesting, lambda ws: pages_written(ws / "raw", files), "{delay:.2f} s after it copied all"),
        (rng.uniform(0.45, 0.9) * ingesting, lambda ws: pages_written(ws / "raw", files), "{delay:.2f} s after it copied all"),
    ]
    for n, (delay, once_for, label) in enumerate(points):
        ws, _, what = kill_and_rerun(
            env_for, args, tmp_path, n, delay, once_for=once_for, label=label + f" (uninterrupted run: {_timeline(times)})"
        )
        print(what)
        assert_same_as_uninterrupted(base, ws, stable_only=False, what=what)


# -- a damaged raw page -----------------------------------------------------------------------------


def _page(name: str, run_id: str, n: int, *, compress: bool = False):
    from tiktok_intel.raw import write_page

    suffix = "." + name.rsplit(".", 1)[1]
    return write_page(
        (OWN_FIXTURES / name).read_bytes(),
        source="web",
        run_id=run_id,
        page=n,
        fetched_at=T,
        hashtag="valet2026",
        suffix=suffix,
        compress=compress,
    )


GOOD = ("web_item_list_later.json", "research_videos.json", "user_detail.json", "challenge_detail.json", "zeeschuimer.ndjson")


def _cut(page) -> None:
    page.body_path.write_bytes(page.body_path.read_bytes()[:700])


def _altered(page) -> None:  # one digit changed: still valid JSON, only the checksum tells
    data = page.body_path.read_bytes()
    at = re.search(rb"\d{6}", data).end() - 1
    page.body_path.write_bytes(data[:at] + str((int(data[at : at + 1]) + 1) % 10).encode() + data[at + 1 :])


DAMAGE = {  # how a page is damaged on disk -> words its reject's reason must hold
    "truncated body": ("web_item_list.json", False, _cut, "no longer matches the sha256"),
    "altered body": ("aweme_list.json", False, _altered, "no longer matches the sha256"),
    "body that is not gzip": (
        "sigi_page.html",
        True,
        lambda p: p.body_path.write_bytes(b"\x1f\x8b\x08\x00 not gzip at all"),
        "body cannot be read",
    ),
    "unreadable meta file": (
        "universal_page.html",
        False,
        lambda p: p.meta_path.write_text('{"source": "web", "run_id": "r'),
        "meta file is unreadable",
    ),
    "missing body": ("research_videos.json", False, lambda p: p.body_path.unlink(), "no body file beside its meta file"),
}


def test_a_damaged_raw_page_is_rejected_with_its_reason_and_the_rest_is_ingested(tmp_path, monkeypatch, capsys):
    from tiktok_intel.cli import main

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TIKTOK_INTEL_PROGRESS", "0")
    monkeypatch.delenv("TIKTOK_INTEL_WORKSPACE", raising=False)
    reference, damaged = tmp_path / "reference", tmp_path / "damaged"
    originals = {}
    try:
        for ws in (reference, damaged):
            settings_module.configure(settings_module.load_settings(environ={}, dotenv=None), workspace=ws)
            for n, name in enumerate(GOOD):
                _page(name, "20261120T080000Z-good00", n)
        settings_module.configure(settings_module.get_settings(), workspace=damaged)
        for n, (case, (name, compress, damage, _)) in enumerate(DAMAGE.items()):
            page = _page(name, "20261120T080000Z-hurt00", n, compress=compress)
            originals[case] = (page, page.body_path.read_bytes(), page.meta_path.read_bytes())
            damage(page)
        settings_module.configure(None)

        assert main(["--db", str(reference / "tiktok.duckdb"), "process"]) == 0
        capsys.readouterr()
        code = main(["--db", str(damaged / "tiktok.duckdb"), "process"])
        out, err = capsys.readouterr()
        assert code == 0 and "Traceback" not in err, err
        with open_db(reference / "tiktok.duckdb", read_only=True) as con:
            good_rejects = con.execute("SELECT count(*) FROM rejects").fetchone()[0]  # the good pages' own bad items
        assert f"{len(GOOD) + len(DAMAGE)} raw page(s) ingested" in out and f"{good_rejects + len(DAMAGE)} rejected" in out, out
        with open_db(damaged / "tiktok.duckdb", read_only=True) as con:
            rejects = con.execute("SELECT raw_path, item_index, reason FROM rejects WHERE raw_path LIKE '%hurt00%'").fetchall()
            posts_before = con.execute("SELECT count(*) FROM posts").fetchone()[0]
        for case, (page, _, _) in originals.items():
            words = DAMAGE[case][3]
            mine = [r for r in rejects if words in r[2] and Path(r[0]).name.split(".")[0] == page.body_path.name.split(".")[0]]
            assert len(mine) == 1 and mine[0][1] == -1 and "restore it" in mine[0][2], (case, rejects)
        assert len(rejects) == len(DAMAGE), rejects
        # the good pages are all in, and nothing of the damaged ones
        expected, got = rows(reference / "tiktok.duckdb", stable_only=False), rows(damaged / "tiktok.duckdb", stable_only=False)
        expected.pop("rejects"), got.pop("rejects"), expected.pop("raw_pages"), got.pop("raw_pages")
        assert differences(expected, got) == []

        # processing again changes nothing; a restored page is then ingested
        before = rows(damaged / "tiktok.duckdb", stable_only=False)
        assert main(["--db", str(damaged / "tiktok.duckdb"), "process"]) == 0
        assert rows(damaged / "tiktok.duckdb", stable_only=False) == before
        page, body, meta = originals["altered body"]
        page.body_path.write_bytes(body)
        capsys.readouterr()
        assert main(["--db", str(damaged / "tiktok.duckdb"), "process"]) == 0
        assert capsys.readouterr().out.startswith("1 raw page(s) ingested")
        with open_db(damaged / "tiktok.duckdb", read_only=True) as con:
            assert con.execute("SELECT count(*) FROM posts").fetchone()[0] > posts_before
            assert con.execute("SELECT count(*) FROM raw_pages WHERE sha256 = ?", [page.sha256]).fetchone()[0] == 1
    finally:
        settings_module.configure(None)


# -- a full disk, an unwritable workspace ----------------------------------------------------------------


def one_clear_line(done: subprocess.CompletedProcess, *words: str) -> str:
    """The command failed with exactly one line on stderr, no traceback, holding ``words``."""
    err = done.stderr
    assert done.returncode == 1, f"exit {done.returncode}:\n{done.stdout[-1000:]}\n{err[-3000:]}"
    assert "Traceback" not in err and err.count("\n") == 1 and err.startswith("tiktok-intel: "), err[-3000:]
    for word in words:
        assert word in err, (word, err)
    return err


def _file_size_limit(limit: int):
    def apply() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit then fails with EFBIG instead of killing
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return apply


def _user_namespaces() -> bool:
    try:
        return (
            shutil.which("unshare") is not None
            and subprocess.run(["unshare", "--user", "--map-root-user", "--mount", "true"], capture_output=True, timeout=20).returncode == 0
        )
    except (OSError, subprocess.SubprocessError):
        return False


FULL_DISKS = ["file size limit"] + (["full tmpfs"] if _user_namespaces() else [])


@pytest.fixture(scope="module")
def feed_pages(import_set, tmp_path_factory) -> Path:
    """The set's web feed pages alone: each well under 200 kB, together well over it."""
    folder = tmp_path_factory.mktemp("feed-pages")
    for path in import_set.glob("feed-*.json"):
        shutil.copy2(path, folder / path.name)
    return folder


@pytest.fixture(scope="module")
def feed_pages_imported(feed_pages, tmp_path_factory) -> Path:
    """A workspace where one small file, then the feed pages were imported, on a disk with room."""
    ws = tmp_path_factory.mktemp("feed-pages-imported")
    ok(cli(cli_env(ws, **IMPORT_SETTINGS), "import", str(OWN_FIXTURES / "web_item_list.json"), cwd=ws))
    ok(cli(cli_env(ws, **IMPORT_SETTINGS), "import", str(feed_pages), cwd=ws))
    return ws


@pytest.mark.parametrize("how", FULL_DISKS)
def test_a_full_disk_is_one_clear_error_and_a_rerun_after_freeing_space_completes(how, feed_pages, feed_pages_imported, tmp_path):
    ws = tmp_path / "ws"
    env = cli_env(ws, **IMPORT_SETTINGS)
    ok(cli(env, "import", str(OWN_FIXTURES / "web_item_list.json"), cwd=tmp_path))  # a store with something in it
    pages = sorted(feed_pages.iterdir())
    if how == "file size limit":  # for any user: no file may grow past 200 kB; every raw page fits, the store's log does not
        assert max(p.stat().st_size for p in pages) < 190_000
        full = cli(env, "import", str(feed_pages), cwd=tmp_path, preexec_fn=_file_size_limit(200_000))
        reason = "File too large"
    else:  # a real ENOSPC: the workspace on a tmpfs with room for the raw pages and a little more
        room = sum(-(-p.stat().st_size // 4096) * 4096 + 4096 for p in [*pages, *ws.rglob("*")] if p.is_file())
        source, after = tmp_path / "before", tmp_path / "after"
        shutil.copytree(ws, source)
        after.mkdir()
        script = (
            'mount -t tmpfs -o size="$SIZE" tmpfs "$WS" && cp -a "$SOURCE/." "$WS/" && "$@"; code=$?; cp -a "$WS/." "$AFTER/"; exit $code'
        )
        full = subprocess.run(
            [
                "unshare",
                "--user",
                "--map-root-user",
                "--mount",
                "sh",
                "-c",
                script,
                "sh",
                sys.executable,
                "-m",
                "tiktok_intel",
                "import",
                str(feed_pages),
            ],
            env={**env, "WS": str(ws), "SOURCE": str(source), "AFTER": str(after), "SIZE": f"{room // 1024 + 100}k"},
            cwd=str(tmp_path),
            capture_output=True,
            text=True,
            timeout=180,
        )
        ws = after  # what the full disk held when the import gave up
        reason = "No space left"
    one_clear_line(full, "full", "free space", reason)
    assert duplicate_keys(ws / "tiktok.duckdb") == {}
    # space freed: the same import completes, and the store is what imports that never failed make
    ok(cli(cli_env(ws, **IMPORT_SETTINGS), "import", str(feed_pages), cwd=tmp_path))
    assert differences(rows(feed_pages_imported / "tiktok.duckdb", stable_only=False), rows(ws / "tiktok.duckdb", stable_only=False)) == []


def test_no_room_for_a_raw_page_is_one_clear_error(tmp_path):
    ws = tmp_path / "ws"
    env = cli_env(ws)
    ok(cli(env, "init", cwd=tmp_path))
    big = tmp_path / "big.json"
    big.write_bytes((OWN_FIXTURES / "web_item_list.json").read_bytes().replace(b'"desc": "', b'"desc": "' + b"x" * 200_000, 1))
    done = cli(env, "import", str(big), cwd=tmp_path, preexec_fn=_file_size_limit(100_000))
    one_clear_line(done, "no room to write", "free space", str(ws / "raw"))
    assert not [p for p in (ws / "raw").rglob("*") if p.is_file()], "a half-written page was left in the raw zone"


@pytest.mark.parametrize("limit, full", [(64_000, "the raw zone"), (165_000, "the store")])
def test_a_collection_on_a_full_disk_is_one_clear_error(limit, full, tiktok, tmp_path):
    """With no room for a feed page (64 kB; pages are 100-150 kB) the run's summary line names it
    for each hashtag; with room for the pages but not for the store's log (165 kB; collecting
    needs more than 250 kB of it), the run ends with one error line."""
    ws = tmp_path / "ws"
    env = cli_env(ws, tiktok, ms_token="msToken-faults")
    ok(cli(env, "track", "add", "valet2026", "klimat", cwd=tmp_path))
    done = cli(env, "collect", "--max-posts", "100", "--no-covers", cwd=tmp_path, preexec_fn=_file_size_limit(limit))
    output = done.stdout + done.stderr
    assert done.returncode == 1 and output.count("\n") == 1 and "Traceback" not in output, output[-3000:]
    assert "full" in output and "free space" in output and "File too large" in output, output
    assert {"the raw zone": "no room to write in", "the store": "the disk holding the database is full"}[full] in output, output
    again = ok(cli(env, "collect", "--max-posts", "100", "--no-covers", cwd=tmp_path))  # space freed: it completes
    assert "2 of 2 hashtag(s) done" in again.stdout and duplicate_keys(ws / "tiktok.duckdb") == {}


def _unwritable(kind: str, tmp_path: Path) -> tuple[Path, tuple[str, ...], tuple[str, ...]]:
    """A workspace that cannot be written, the prefix to run commands with, and words the error must hold."""
    if kind == "workspace under a file":
        blocker = tmp_path / "not-a-folder"
        blocker.write_text("a file where the workspace's parent folder should be")
        return blocker / "ws", (), ("cannot create the workspace folder", "writable")
    ws = tmp_path / "ws"
    ok(cli(cli_env(ws), "init", cwd=tmp_path))
    if kind == "raw zone is a file":
        shutil.rmtree(ws / "raw")
        (ws / "raw").write_text("a file where the raw zone should be")
        return ws, (), ("cannot write to the raw zone", "writable workspace")
    # read-only: permissions for an ordinary user; root ignores them, so for root a read-only mount
    if os.geteuid() != 0:
        for path in [ws, *ws.rglob("*")]:
            path.chmod(0o555 if path.is_dir() else 0o444)
        return ws, (), ("permission", "check the path and its permissions")
    script = 'mount --bind "$1" "$1" && mount -o remount,ro,bind "$1" && shift && exec "$@"'
    return (
        ws,
        ("unshare", "--user", "--map-root-user", "--mount", "sh", "-c", script, "sh", str(ws)),
        ("Read-only file system", "check the path and its permissions"),
    )


UNWRITABLE = ["workspace under a file", "raw zone is a file"] + (["read-only workspace"] if os.geteuid() != 0 or _user_namespaces() else [])


@pytest.mark.parametrize("kind", UNWRITABLE)
def test_an_unwritable_workspace_is_one_clear_error(kind, tiktok, tmp_path):
    ws, prefix, words = _unwritable(kind, tmp_path)
    env = cli_env(ws, tiktok, ms_token="msToken-faults")
    try:
        done = cli(env, "import", str(OWN_FIXTURES / "web_item_list.json"), cwd=tmp_path, prefix=prefix)
        err = one_clear_line(done, *words[:1])
        assert any(w.lower() in err.lower() for w in words[1:]), err
        if kind != "raw zone is a file":  # collecting also needs the store
            one_clear_line(
                cli(env, "collect", "--hashtag", "klimat", "--max-posts", "5", "--no-covers", cwd=tmp_path, prefix=prefix), *words[:1]
            )
    finally:
        for path in [ws, *ws.rglob("*")] if ws.exists() else []:
            path.chmod(0o755 if path.is_dir() else 0o644)


# -- the same run imported twice at once ---------------------------------------------------------------


def test_the_same_files_imported_twice_at_once_are_imported_one_after_the_other(import_set, imported, tmp_path):
    base, _ = imported
    ws = tmp_path / "ws"
    env = cli_env(ws, **IMPORT_SETTINGS)
    ok(cli(env, "init", cwd=tmp_path))
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "tiktok_intel", "import", str(import_set)],
            env=env,
            cwd=str(tmp_path),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outs = [p.communicate(timeout=300) for p in procs]
    for proc, (out, err) in zip(procs, outs):
        assert proc.returncode == 0, f"an import failed while the other ran (exit {proc.returncode}):\n{out}\n{err}"
    # one did the work; the other found every page already ingested
    summaries = sorted(out.strip().splitlines()[-1] for out, _ in outs)
    assert sum("page(s) already ingested" in s for s in summaries) == 1, summaries
    assert duplicate_keys(ws / "tiktok.duckdb") == {}
    assert differences(rows(base / "tiktok.duckdb", stable_only=False), rows(ws / "tiktok.duckdb", stable_only=False)) == []


# -- canary secrets --------------------------------------------------------------------------------------

CANARY = "CANARY-5ec7e7"
MS_TOKEN, CLIENT_KEY, CLIENT_SECRET = CANARY + "-msToken-b1f4", CANARY + "-client-key-77a0", CANARY + "-client-secret-9d3e"
SECRETS = {"ms_token": MS_TOKEN, "research_client_key": CLIENT_KEY, "research_client_secret": CLIENT_SECRET}


def _leaks(text: str) -> list[str]:
    return [text[max(0, m.start() - 80) : m.end() + 40] for m in re.finditer(re.escape(CANARY), text)][:3]


def _decoded(text: str) -> str:
    """``text`` plus what its base64 data URIs carry (CSV, and the sheets of Excel downloads)."""
    parts = [text]
    for match in re.finditer(r"data:[\w/.+-]+;base64,([A-Za-z0-9+/=]+)", text):
        data = base64.b64decode(match.group(1))
        parts.append(data.decode("utf-8", "replace"))
        if data[:2] == b"PK":
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                parts += [archive.read(n).decode("utf-8", "replace") for n in archive.namelist()]
    return "\n".join(parts)


def _widget_texts(widget) -> str:
    """Every value, label, output and figure in a widget tree (what a dashboard page shows and carries)."""
    import ipywidgets as w

    parts, stack = [], [widget]
    while stack:
        item = stack.pop()
        if isinstance(item, w.Widget):
            parts.append(json.dumps(item.get_state(), default=str))  # what the page receives
        if hasattr(item, "figure"):
            parts.append(json.dumps(item.figure, default=str))
        stack.extend(getattr(item, "children", ()))
    return _decoded("\n".join(parts))


def _store_text(db: Path) -> str:
    with open_db(db, read_only=True) as con:
        tables = [r[0] for r in con.execute("SELECT table_name FROM duckdb_tables() WHERE NOT internal").fetchall()]
        return "\n".join(json.dumps(con.execute(f'SELECT * FROM "{t}"').fetchall(), default=str) for t in tables)


def test_canary_secrets_appear_in_no_log_output_page_report_row_or_dashboard(tmp_path, monkeypatch, caplog, capsys):
    from tiktok_intel import clock, dashboards
    from tiktok_intel import collect as collect_module
    from tiktok_intel.notebooks import run_notebook

    logs = []
    with OfflineTikTok(seed=11, now=lambda: T, client_key=CLIENT_KEY, client_secret=CLIENT_SECRET) as server:
        # 1. the command line, as an operator runs it: collections (web with covers, Research API), failures, status
        ws = tmp_path / "ws"
        env = cli_env(ws, server, **SECRETS)
        research = ("collect", "--source", "research", "--since", "2026-11-14", "--until", "2026-11-20", "--max-posts", "30")
        for args in (("track", "add", "valet2026", "klimat"), ("collect", "--max-posts", "30"), research, ("monitor",), ("settings",)):
            logs.append(ok(cli(env, *args, cwd=tmp_path)))
        server.faults.add("captcha", path=FEED, times=None)
        server.faults.add("503", path="/v2/research/video/query/", times=None)
        for args in (("collect", "--hashtag", "klimat", "--max-posts", "30"), research[:-2] + ("--max-posts", "31")):
            failed = cli(env, *args, cwd=tmp_path)
            assert failed.returncode == 1 and "FAILED" in failed.stdout, failed.stdout + failed.stderr
            logs.append(failed)
        server.faults.clear()

        # 2. the library in this process, every logger at every level (httpx logs each URL at INFO)
        for name, value in SECRETS.items():
            monkeypatch.setenv("TIKTOK_INTEL_" + name.upper(), value)  # the notebooks' kernels inherit them
        monkeypatch.setenv("TIKTOK_INTEL_WORKSPACE", str(ws))
        monkeypatch.setenv("TIKTOK_INTEL_PROGRESS", "0")
        for logger in ("", "httpx", "httpcore", "tiktok_intel"):
            caplog.set_level(logging.DEBUG, logger=logger)
        settings_module.configure(
            settings_module.load_settings(environ={}, dotenv=None),
            workspace=ws,
            requests_per_second=0,
            retries=1,
            **SECRETS,
            **server.settings_overrides(),
        )
        try:
            with clock.frozen(T + dt.timedelta(hours=8)):
                web = collect_module.collect(None, ["valet2026"], max_posts=40)
                res = collect_module.collect(
                    None, ["klimat"], max_posts=40, source="research", since=dt.date(2026, 11, 14), until=dt.date(2026, 11, 20)
                )
            assert not web.failed and not res.failed, (web.summary(), res.summary())
            runs = [run_notebook("content"), run_notebook("post_trends", {"window": "1d"})]
            # 3. every dashboard panel on this workspace
            panels = []
            for name in sorted(n for n in dir(dashboards) if n.endswith("_panel")):
                function = getattr(dashboards, name)
                panels.append(function() if name == "index_panel" else function(str(ws / "tiktok.duckdb")))
            panels.append(dashboards.search_panel(str(ws / "tiktok.duckdb"), query="valet"))
            dashboard_text = "\n".join(_widget_texts(p) for p in panels)
        finally:
            settings_module.configure(None)
        requests = json.dumps(server.requests, default=str)

    # the canaries reached TikTok (so this test could fail): the msToken with every web API call,
    # the client secret for the Research API's token (the server refuses any other)
    feed = [r for r in server.requests if r["path"] == FEED]
    assert feed and all(r["query"].get("msToken") == MS_TOKEN for r in feed)
    assert [r for r in server.requests if r["path"] == "/v2/research/video/query/"] and server.counters["tokens_issued"] >= 1
    assert CANARY in requests
    assert all(r.ipynb.is_file() and r.html and r.html.is_file() for r in runs)
    assert len(dashboard_text) > 10_000 and "valet2026" in dashboard_text

    everything = {
        "command output": "\n".join(f"{d.args}\n{d.stdout}\n{d.stderr}" for d in logs),
        "log records": "\n".join(f"{r.name} {r.levelname} {r.getMessage()} {r.exc_text or ''}" for r in caplog.records),
        "captured output": "".join(capsys.readouterr()),
        "store rows": _store_text(ws / "tiktok.duckdb"),
        "dashboard panels": dashboard_text,
        "summaries": "\n".join([web.summary(), res.summary(), *(r.summary() for r in runs)]),
    }
    for path in ws.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            everything[str(path.relative_to(ws))] = data.decode("utf-8", "replace")
            if path.suffix == ".gz":
                everything[str(path.relative_to(ws))] += gzip.decompress(data).decode("utf-8", "replace")
    assert any("httpx" in r.name for r in caplog.records), "httpx's request log was not captured: the log check proves nothing"
    assert any(p.suffix == ".html" for p in (ws / "reports").rglob("*")) and any((ws / "raw").rglob("*.meta.json"))
    leaked = {where: _leaks(text) for where, text in everything.items() if CANARY in text}
    assert leaked == {}, f"canary secrets found in: {leaked}"
