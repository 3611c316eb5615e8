"""Parsers: golden files for every shape we accept, and the traps named in the fixtures README."""

from __future__ import annotations

import copy
import datetime as dt
import json
import os

import pytest
from conftest import OWN_FIXTURES, T0

from tiktok_intel.parsing import Context, detect, parse_bytes, sniff
from tiktok_intel.parsing.fields import BadValue, count, ident

GOLDEN = OWN_FIXTURES / "golden"
SHAPES = {
    "web_item_list.json": "web_item_list",
    "sigi_page.html": "sigi_state",
    "universal_page.html": "universal_data",
    "challenge_detail.json": "web_challenge",
    "user_detail.json": "web_user",
    "aweme_list.json": "aweme_list",
    "research_videos.json": "research_videos",
    "zeeschuimer.ndjson": "zeeschuimer",
}


def parse(name: str, **ctx):
    return parse_bytes((OWN_FIXTURES / name).read_bytes(), Context(collected_at=T0, **ctx))


def as_golden(batch) -> dict:
    def row(r):
        return {k: (v.isoformat() if isinstance(v, dt.datetime) else v) for k, v in sorted(r.items())}

    return {
        "shape": batch.shape,
        "items_read": batch.items_read,
        "items_ok": batch.items_ok,
        "rejects": [[r.item_index, r.reason] for r in batch.rejects],
        "rows": {t: sorted((row(r) for r in rows), key=lambda r: json.dumps(r, sort_keys=True)) for t, rows in batch.rows.items() if rows},
    }


@pytest.mark.parametrize("name", sorted(SHAPES))
def test_golden(name):
    """Each own fixture parses to exactly the records in tests/fixtures/golden (UPDATE_GOLDEN=1 rewrites them)."""
    got = as_golden(parse(name, hashtag="valet2026", run_id="run-1"))
    path = GOLDEN / (name.rsplit(".", 1)[0] + ".golden.json")
    if os.environ.get("UPDATE_GOLDEN"):
        path.parent.mkdir(exist_ok=True)
        path.write_text(json.dumps(got, ensure_ascii=False, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    assert got == json.loads(path.read_text(encoding="utf-8"))
    assert got["shape"] == SHAPES[name]


def test_exact_counts_win_over_rounded():
    batch = parse("web_item_list.json")
    post = next(p for p in batch.rows["posts"] if p["post_id"] == "7400000000000000001")
    assert post["views"] == 1234567 and post["likes"] == 45021 and post["saves"] == 3002  # statsV2, not stats
    other = next(p for p in batch.rows["posts"] if p["post_id"] == "7400000000000000002")
    assert other["views"] == 5000  # no statsV2: the rounded stats are all there is
    author = next(a for a in batch.rows["authors"] if a["author_id"] == "6800000000000000001")
    assert author["hearts"] == 3_100_000_000  # past 2^31: BIGINT


def test_links_hashtags_and_feed_ranks():
    batch = parse("web_item_list.json", hashtag="valet2026", run_id="r1", rank_offset=30)
    urls = {p["post_id"]: p["url"] for p in batch.rows["posts"]}
    assert urls["7400000000000000001"] == "https://www.tiktok.com/@svtnyheter/video/7400000000000000001"
    tags = {(r["post_id"], r["hashtag"]) for r in batch.rows["post_hashtags"]}
    assert ("7400000000000000002", "klimat") in tags and ("7400000000000000002", "valet2026") in tags  # '#Klimat', '#VALET2026' normalised
    assert sorted((r["post_id"], r["rank"]) for r in batch.rows["feed_appearances"]) == [
        ("7400000000000000001", 30),
        ("7400000000000000002", 31),
    ]
    assert all(r["collected_at"] == T0 for r in batch.rows["post_stats"])


def test_parsers_do_not_mutate_input():
    raw = json.loads((OWN_FIXTURES / "web_item_list.json").read_text())
    before = copy.deepcopy(raw)
    from tiktok_intel.parsing import parse_json

    parse_json(raw, Context(collected_at=T0))
    assert raw == before


def test_sigi_string_author_resolved_from_user_module():
    batch = parse("sigi_page.html")
    post = batch.rows["posts"][0]
    assert post["author_id"] == "6800000000000000003" and post["author_unique_id"] == "kaffekompis"
    assert post["saves"] == 5  # "5" as a string
    assert batch.rows["author_stats"][0]["followers"] == 900
    assert post["created_at"] == dt.datetime(2025, 11, 1, 12, 28, 20)  # createTime as a string


def test_zeeschuimer_time_is_its_own_and_bad_line_is_rejected():
    batch = parse("zeeschuimer.ndjson")
    times = sorted(r["collected_at"] for r in batch.rows["post_stats"])
    assert times == [dt.datetime(2025, 11, 2, 16, 13, 20), dt.datetime(2025, 11, 2, 16, 13, 21)]  # timestamp_collected, not T0
    assert batch.items_read == 3 and batch.items_ok == 2
    assert [r.item_index for r in batch.rejects] == [1] and "line 2" in batch.rejects[0].reason


def test_research_ids_duplicates_and_nul_bytes():
    batch = parse("research_videos.json")
    ids = sorted(p["post_id"] for p in batch.rows["posts"])
    assert ids == [
        "7400000000000000006",
        "7400000000000000006",
        "7400000000000000007",
    ]  # `id` and `video_id`; the repeat is de-duplicated at ingest
    assert all("\x00" not in (p["description"] or "") and "\x00" not in (p["author_unique_id"] or "") for p in batch.rows["posts"])
    assert {a["author_id"] for a in batch.rows["authors"]} == {"@klimatkoll", "@svtnyheter"}  # username only: placeholder keys


def test_aweme_placeholder_author_counts_are_not_snapshots():
    batch = parse("aweme_list.json")
    assert batch.rows["author_stats"] == []  # every count 0 in feed results: placeholders, not measurements
    post = batch.rows["posts"][0]
    assert post["duration_s"] == 15 and post["cover_url"] == "https://p16.ibyteimg.com/cover5.jpeg"
    assert {r["hashtag"] for r in batch.rows["post_hashtags"]} == {"hund", "fyp"}


@pytest.mark.parametrize(
    "name, reason",
    [
        ("truncated.json", "truncated or invalid JSON"),
        ("captcha.html", "HTML page where JSON was expected (captcha)"),
        ("empty.json", "empty body"),
        ("wrong_shape.json", "JSON of an unknown shape (keys: hello, rows)"),
    ],
)
def test_bad_pages_become_one_reject_with_a_reason(name, reason):
    batch = parse(f"bad/{name}")
    assert len(batch) == 0
    assert batch.items_read == 1 and len(batch.rejects) == 1
    assert batch.rejects[0].item_index == -1 and reason in batch.rejects[0].reason


def test_odd_values_each_kept_or_rejected_with_reason():
    batch = parse("bad/odd_values.json")
    reasons = {r.item_index: r.reason for r in batch.rejects}
    assert reasons == {
        1: "stats.playCount is out of range (1e+20)",
        4: "missing id",
        5: "item is a str, not an object",
        6: "stats.playCount is not a number ('many')",
    }
    assert batch.items_read == 7 and batch.items_ok == 3 and batch.items_read == batch.items_ok + len(batch.rejects)
    posts = {p["post_id"]: p for p in batch.rows["posts"]}
    assert posts["7400000000000000001"]["views"] == 1_200_000  # "1.2e6" string accepted as a whole number
    assert (
        posts["7400000000000000008"]["author_id"] is None and posts["7400000000000000008"]["views"] is None
    )  # missing author and stats: kept


def test_counts_and_ids_are_strict():
    assert count("12", "x") == 12 and count(12.0, "x") == 12 and count(None, "x") is None
    for bad in (-1, 1.5, "abc", True, 2**63):
        with pytest.raises(BadValue):
            count(bad, "x")
    assert ident(7400000000000000006, "id") == "7400000000000000006"
    for bad in ("12a", 73207681965695992750, 7.3e19):
        with pytest.raises(BadValue):
            ident(bad, "id")


def test_detect_and_sniff():
    assert detect({"itemList": []}) == "web_item_list"
    assert detect({"foo": 1}) is None
    assert sniff(b'  {"a": 1}') == "json" and sniff(b"a,b,c\n") is None and sniff(b"") == "empty"
    assert sniff(b"<!DOCTYPE html><html>") == "html" and sniff(b"%PDF-1.4") is None
