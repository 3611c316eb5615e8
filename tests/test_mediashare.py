"""A raw-only collector's downloads reach the writer on another machine (tiktok_intel/mediashare.py):
two workspaces, a shared raw store (a folder here, as a mounted share; S3 in test_scaling), the
offline TikTok. The collector writes nothing to the store; the writer ingests its pages and its
`downloads` page, takes each file from the shared `_media/`, checks it, and records it once."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib

import pytest

from tiktok_intel import clock
from tiktok_intel import settings as settings_module
from tiktok_intel.collect import collect
from tiktok_intel.ingest.pages import process_pending, rebuild
from tiktok_intel.mediashare import MISSING, SHAPE, SOURCE, as_json
from tiktok_intel.offline import OfflineTikTok
from tiktok_intel.raw import write_page
from tiktok_intel.sources import http as http_module
from tiktok_intel.store import connection

T = dt.datetime(2026, 11, 24, 8, 1)
CANARY = "msTokenCANARY-mediashare"
KINDS = ("videos", "slides", "captions")


@pytest.fixture
def machines(tmp_path, monkeypatch):
    """(the collector's settings, the writer's settings, the shared raw store's folder)."""
    monkeypatch.setenv("TIKTOK_INTEL_PROGRESS", "0")
    monkeypatch.setattr(http_module, "BACKOFF_BASE_SECONDS", 0.01)
    shared = tmp_path / "shared-raw"
    with clock.frozen(T), OfflineTikTok(seed=7) as server:
        base = settings_module.load_settings(environ={}, dotenv=None).replace(
            raw_url=str(shared),
            ms_token=CANARY,
            requests_per_second=0,
            retries=1,
            timeout_seconds=5,
            comments_per_post=0,
            **server.settings_overrides(),
        )
        yield base.replace(workspace=tmp_path / "collector"), base.replace(workspace=tmp_path / "writer"), shared
    settings_module.configure(None)


def _files(folder) -> dict[str, str]:
    """The media files under ``folder`` (videos, slides, captions) by relative path: their sha256."""
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for kind in KINDS
        for p in (folder / kind).glob("*")
        if p.is_file() and not p.name.endswith((".refused", ".removed"))
    }


def _collect(collector):
    settings_module.configure(collector)
    result = collect(None, ["klimat"], max_posts=60, raw_only=True, covers=False)
    assert not result.failed and "60 posts" in result.summary() and result.media is not None, result.summary()
    return result


def test_a_collectors_downloads_reach_a_writer_on_another_machine_once(machines):
    collector, writer, shared = machines
    result = _collect(collector)
    downloaded = _files(collector.media_dir)
    assert {name.split("/")[0] for name in downloaded} == set(KINDS)  # while collecting, on the collector
    assert _files(shared / "_media") == downloaded  # put in the shared store before the page listing them

    settings_module.configure(writer)
    with connection() as con:
        stats = process_pending(con)
        recorded = dict(con.execute("SELECT path, sha256 FROM media").fetchall())
        failures = {r for r in con.execute("SELECT post_id, kind, seq, reason FROM media_failures").fetchall()}
        offered = con.execute("SELECT count(*) FROM media_sources").fetchone()[0]
        page = con.execute("SELECT shape, source FROM raw_pages WHERE source = ?", [SOURCE]).fetchall()
        posts = con.execute("SELECT count(*) FROM posts").fetchone()[0]
    assert posts == 60 and page == [(SHAPE, SOURCE)]
    assert recorded == downloaded and _files(writer.media_dir) == downloaded  # the same bytes, on the writer
    assert failures == {(f.post_id, f.kind, f.seq, f.reason) for f in result.media.failures}
    assert offered == len({(o.post_id, o.kind, o.seq) for o in result.media.offers})
    assert sum(stats.media_saved.values()) == len(downloaded) and "media downloaded by raw-only runs" in stats.summary()
    assert not (writer.raw_dir / "_media").exists()  # the raw pages' sync leaves the media alone

    def media_tables(con):  # (the clock is frozen: their times too)
        return [sorted(con.execute(f"SELECT * FROM {t}").fetchall()) for t in ("media", "media_sources", "media_failures")]

    with connection() as con:  # a second writer's run, or a retry, or a rebuild from raw: nothing recorded twice
        before = media_tables(con)
        again = process_pending(con)
        assert again.pages == 0 and media_tables(con) == before
        rebuilt = rebuild(con)
        assert rebuilt.pages == stats.pages and media_tables(con) == before
        assert con.execute("SELECT count(*) FROM raw_pages WHERE source = ?", [SOURCE]).fetchone()[0] == 1


def test_a_file_the_shared_store_lost_or_changed_is_a_failure_and_a_hostile_downloads_page_fails_alone(machines):
    collector, writer, shared = machines
    _collect(collector)
    downloaded = _files(collector.media_dir)
    video = next(n for n in sorted(downloaded) if n.startswith("videos/"))
    slide = next(n for n in sorted(downloaded) if n.startswith("slides/"))
    (shared / "_media" / video).write_bytes(b"not the video the collector downloaded")
    (shared / "_media" / slide).unlink()
    hostile = {
        "kind": SHAPE,
        "version": 1,
        "records": [{"post_id": "1", "kind": "video", "seq": 0, "path": "../../../../etc/passwd", "sha256": "0" * 64}],
    }
    write_page(hostile, source=SOURCE, run_id="20261124T080200Z-abcdef", page=1, raw_dir=collector.raw_dir)

    settings_module.configure(writer)
    with connection() as con:
        stats = process_pending(con)
        recorded = {r[0] for r in con.execute("SELECT path FROM media").fetchall()}
        lost = con.execute(
            "SELECT kind, reason, retryable, detail FROM media_failures WHERE reason = ? ORDER BY kind", [MISSING]
        ).fetchall()
        failed = con.execute("SELECT reason FROM failed_pages").fetchall()
        posts = con.execute("SELECT count(*) FROM posts").fetchone()[0]
    assert recorded == set(downloaded) - {video, slide}  # the others are recorded
    assert [(k, r, retry) for k, r, retry, _ in lost] == [("slide", MISSING, True), ("video", MISSING, True)]
    assert "not there" in lost[0][3] and "other bytes" in lost[1][3]
    assert not (writer.media_dir / video).exists() and not (writer.media_dir / slide).exists()
    assert stats.pages_failed == 1 and len(failed) == 1 and "not one this program writes" in failed[0][0]
    assert posts == 60  # the hostile page stopped nothing


def test_a_later_runs_page_naming_files_the_store_has_neither_fetches_nor_rewrites_them(machines):
    collector, writer, shared = machines
    result = _collect(collector)
    settings_module.configure(writer)
    with connection() as con:
        process_pending(con)
        before = sorted(con.execute("SELECT * FROM media").fetchall())
    later = as_json(result.media)  # a later run downloaded the same files again (same bytes, a later time)
    for record in later["records"]:
        record["fetched_at"] = (T + dt.timedelta(hours=8)).isoformat()
    for path in (shared / "_media").rglob("*"):  # and the shared store no longer has them
        if path.is_file():
            path.unlink()
    write_page(later, source=SOURCE, run_id="20261124T160100Z-abcdef", page=1, raw_dir=collector.raw_dir)
    with connection() as con:
        stats = process_pending(con)
        after = sorted(con.execute("SELECT * FROM media").fetchall())
        lost = con.execute("SELECT count(*) FROM media_failures WHERE reason = ?", [MISSING]).fetchone()[0]
    assert stats.pages == 1 and stats.pages_failed == 0
    assert after == before and lost == 0  # taken from this machine, the rows kept as they were (the first time kept)


def test_a_runs_downloads_page_is_the_same_bytes_whatever_order_its_downloads_finished_in(machines):
    collector, _, _ = machines
    media = _collect(collector).media
    assert len(media.records) > 1 and len(media.offers) > 1
    shuffled = dataclasses.replace(media, records=media.records[::-1], offers=media.offers[::-1], failures=media.failures[::-1])
    first = write_page(as_json(media), source=SOURCE, run_id="20261124T080100Z-abcdef", page=1, raw_dir=collector.raw_dir)
    second = write_page(as_json(shuffled), source=SOURCE, run_id="20261124T080100Z-abcdef", page=1, raw_dir=collector.raw_dir)
    assert first.meta["sha256"] == second.meta["sha256"]  # the same run on another machine or a retry: one raw row, not two
