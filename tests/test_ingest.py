"""Ingest: idempotent, set-based, latest values win, nothing vanishes."""

from __future__ import annotations

import datetime as dt

import pytest
from conftest import OWN_FIXTURES, T0

from tiktok_intel.imports import import_paths
from tiktok_intel.ingest.merge import ingest_batch
from tiktok_intel.ingest.pages import context_for, ingest_page, rebuild
from tiktok_intel.parsing import parse_bytes
from tiktok_intel.raw import new_run_id, write_page
from tiktok_intel.schema import INGEST_TABLES

GOOD = [
    "web_item_list.json",
    "sigi_page.html",
    "universal_page.html",
    "challenge_detail.json",
    "user_detail.json",
    "aweme_list.json",
    "research_videos.json",
    "zeeschuimer.ndjson",
]
BAD = ["bad/truncated.json", "bad/captcha.html", "bad/empty.json", "bad/wrong_shape.json", "bad/odd_values.json", "bad/nul_bytes.json"]


def snapshot(con) -> dict:
    """Every row of every table that ingest writes, sorted: to compare whole stores."""
    out = {}
    for t in INGEST_TABLES:
        out[t.name] = sorted(con.execute(f"SELECT * FROM {t.name}").fetchall(), key=repr)
    out["rejects"] = sorted(con.execute("SELECT raw_sha256, item_index, reason FROM rejects").fetchall())
    out["raw_pages"] = sorted(con.execute("SELECT sha256, items_read, items_ingested, items_rejected FROM raw_pages").fetchall())
    return out


def page(name: str, when: dt.datetime = T0, hashtag: str | None = "valet2026"):
    return write_page(
        (OWN_FIXTURES / name).read_bytes(),
        source="web",
        run_id=new_run_id(when),
        page=0,
        fetched_at=when,
        hashtag=hashtag,
        suffix="." + name.rsplit(".", 1)[1],
    )


@pytest.mark.parametrize("name", GOOD + BAD)
def test_same_page_twice_changes_nothing(con, name):
    p = page(name)
    first = ingest_page(con, p)
    before = snapshot(con)
    again = ingest_page(con, p)
    assert again.pages_skipped == 1 and again.items_read == 0
    # even bypassing the raw_pages check, the rows do not change
    batch = parse_bytes(p.read_bytes(), context_for(p))
    forced = ingest_batch(con, batch)
    assert snapshot(con) == before
    assert sum(forced.new.values()) == 0 and sum(forced.updated.values()) == 0
    assert first.items_read == first.items_ingested + first.items_rejected


def test_items_reconcile_and_rejects_keep_raw_reference(con):
    p = page("bad/odd_values.json")
    stats = ingest_page(con, p)
    assert (stats.items_read, stats.items_rejected) == (7, 4)
    rows = con.execute("SELECT raw_path, item_index, reason FROM rejects ORDER BY item_index").fetchall()
    assert [r[1] for r in rows] == [1, 4, 5, 6] and all(r[0] == str(p.body_path) for r in rows)
    assert con.execute("SELECT items_read, items_ingested, items_rejected FROM raw_pages").fetchone() == (7, 3, 4)
    # the duplicate item in the page is one post and one snapshot
    assert con.execute("SELECT count(*) FROM post_stats WHERE post_id = '7400000000000000001'").fetchone()[0] == 1


def test_latest_values_win_and_renamed_author_keeps_one_row(con):
    later = T0 + dt.timedelta(hours=8)
    ingest_page(con, page("web_item_list_later.json", later))
    stats = ingest_page(con, page("web_item_list.json", T0))  # the older page arrives last (a backfill)
    assert stats.new.get("posts", 0) == 0 and stats.updated["posts"] == 2  # only first_seen_at moves back
    rows = con.execute(
        "SELECT author_id, unique_id, nickname, followers, first_seen_at, last_seen_at FROM authors WHERE author_id = '6800000000000000001'"
    ).fetchall()
    assert rows == [("6800000000000000001", "svt.nyheter", "SVT Nyheter", 251000, T0, later)]
    post = con.execute("SELECT views, url, first_seen_at, last_seen_at FROM posts WHERE post_id = '7400000000000000001'").fetchone()
    assert post == (1300000, "https://www.tiktok.com/@svt.nyheter/video/7400000000000000001", T0, later)
    views = con.execute("SELECT collected_at, views FROM post_stats WHERE post_id = '7400000000000000001' ORDER BY 1").fetchall()
    assert views == [(T0, 1234567), (later, 1300000)]


def test_newer_page_updates_and_counts_new_vs_updated(con):
    first = ingest_page(con, page("web_item_list.json", T0))
    assert first.new["posts"] == 2 and first.updated.get("posts", 0) == 0
    second = ingest_page(con, page("web_item_list_later.json", T0 + dt.timedelta(hours=8)))
    assert second.new.get("posts", 0) == 0 and second.updated["posts"] == 2  # both re-seen later (last_seen_at moves)
    assert second.new["post_stats"] == 2
    assert "2 posts (0 new, 2 updated), 2 post snapshots" in second.summary()


def test_research_username_author_merges_into_numeric_id_either_order(con, workspace):
    # Research API first (author known by username only), then the web feed with the numeric id
    ingest_page(con, page("research_videos.json", T0))
    assert con.execute("SELECT author_id FROM authors WHERE unique_id = 'svtnyheter'").fetchall() == [("@svtnyheter",)]
    ingest_page(con, page("user_detail.json", T0 + dt.timedelta(hours=1)))
    assert con.execute("SELECT author_id FROM authors WHERE lower(unique_id) = 'svtnyheter'").fetchall() == [("6800000000000000001",)]
    assert con.execute("SELECT author_id FROM posts WHERE post_id = '7400000000000000007'").fetchone()[0] == "6800000000000000001"
    # and the other way round: a username-only author that is already known by id
    ingest_page(con, page("research_videos.json", T0 + dt.timedelta(hours=2)))
    assert con.execute("SELECT count(*) FROM authors WHERE author_id LIKE '@svtnyheter'").fetchone()[0] == 0
    assert con.execute("SELECT count(*) FROM authors WHERE author_id = '@klimatkoll'").fetchone()[0] == 1


def test_rebuild_from_raw_gives_the_same_store(con, workspace):
    for name in GOOD + BAD:
        ingest_page(con, page(name))
    ingest_page(con, page("web_item_list_later.json", T0 + dt.timedelta(hours=8)))
    before = snapshot(con)
    rebuild(con)
    assert snapshot(con) == before


def test_import_copies_into_raw_first(con, workspace, tmp_path):
    src = tmp_path / "export.ndjson"
    src.write_bytes((OWN_FIXTURES / "zeeschuimer.ndjson").read_bytes())
    stats = import_paths(con, [src])
    src.unlink()  # the original can go: raw holds a copy
    assert stats.items_read == 3 and stats.items_rejected == 1
    before = snapshot(con)
    rebuild(con)
    assert snapshot(con) == before
    copies = list((workspace.raw_dir / "import").rglob("*.ndjson"))
    assert len(copies) == 1 and copies[0].read_bytes() == (OWN_FIXTURES / "zeeschuimer.ndjson").read_bytes()


def test_large_ndjson_is_ingested_in_several_transactions(con, workspace, tmp_path):
    line = (OWN_FIXTURES / "zeeschuimer.ndjson").read_text().splitlines()[0]
    import json

    rows = []
    for n in range(25):
        obj = json.loads(line)
        obj["data"]["id"] = str(7500000000000000000 + n)
        obj["timestamp_collected"] += n
        rows.append(json.dumps(obj))
    src = tmp_path / "many.ndjson"
    src.write_text("\n".join(rows))
    from tiktok_intel import settings

    settings.configure(workspace, ingest_batch_items=10)
    stats = import_paths(con, [src])
    assert stats.items_read == 25 and con.execute("SELECT count(*) FROM posts").fetchone()[0] == 25
    assert con.execute("SELECT items_read FROM raw_pages").fetchall() == [(25,)]


def test_both_forms_of_an_author_at_one_instant_make_one_snapshot(con, workspace):
    """A Research API profile (by username) and a web profile (by id) of one author, collected together."""
    import json

    research_user = {
        "data": {
            "display_name": "SVT Nyheter",
            "follower_count": 250200,
            "following_count": 12,
            "likes_count": 3100000200,
            "video_count": 411,
        },
        "error": {"code": "ok", "message": "", "log_id": "x"},
    }
    research = write_page(
        json.dumps(research_user), source="research", run_id="r-user", page=0, fetched_at=T0, request={"json": {"username": "svtnyheter"}}
    )
    web = page("user_detail.json", T0, hashtag=None)
    from tiktok_intel.ingest.pages import ingest_pages

    ingest_pages(con, [research, web])
    rows = con.execute("SELECT author_id, collected_at, followers FROM author_stats").fetchall()
    assert rows == [("6800000000000000001", T0, 250200)]  # one snapshot, the greater count
    assert con.execute("SELECT count(*) FROM authors").fetchone()[0] == 1
