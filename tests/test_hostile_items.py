"""Hostile items (issue 22): no item makes a parser raise, the bad part is a reject naming the field,
and the SQL fast path stores exactly what the Python parser stores, on named cases and on a seeded,
bounded fuzzer over the real shapes (``tests/fixtures``, ``../shared/fixtures``)."""

from __future__ import annotations

import copy
import datetime as dt
import json
import random
import sys

import pytest
from conftest import OWN_FIXTURES, PROJECT, SHARED_FIXTURES, T0
from test_fastpath import write_all
from test_ingest import snapshot

from tiktok_intel import settings as settings_module
from tiktok_intel.conventions import hashtag_problem
from tiktok_intel.ingest.pages import ingest_pages
from tiktok_intel.parsing import Context, parse_bytes, parse_json
from tiktok_intel.parsing.fields import ident
from tiktok_intel.store import open_db

sys.path.insert(0, str(PROJECT / "bench"))
from synthetic import World  # noqa: E402

#: A small text limit, so over-long values are cheap to make.
TEXT_LIMIT = 300


@pytest.fixture
def limits(workspace):
    yield settings_module.configure(workspace, max_text_chars=TEXT_LIMIT)


def ctx() -> Context:
    return Context(collected_at=T0)


def reconciles(batch) -> bool:
    """Items read = ingested + rejected, one reject an index (the store keeps one per index)."""
    indexes = [r.item_index for r in batch.rejects]
    return batch.items_read == batch.items_ok + len(batch.rejects) and len(indexes) == len(set(indexes))


def both_readers(tmp_path, bodies: list[dict], name: str = "x"):
    """Ingest ``bodies`` (web feed pages) with the SQL fast path and with Python only: (fast, slow, stats a, stats b)."""
    written = write_all([(b, "valet2026") for b in bodies], tmp_path / f"raw-{name}")
    fast, slow = open_db(tmp_path / f"{name}-fast.duckdb"), open_db(tmp_path / f"{name}-slow.duckdb")
    a = ingest_pages(fast, written, sql_reader=True)
    b = ingest_pages(slow, written, sql_reader=False)
    return fast, slow, a, b


def feed(n: int = 3, seed: int = 5, start: int = 0) -> dict:
    return World(posts=start + n, authors=5, hashtags=20, seed=seed).feed_page(start, n, T0, start)


# ------------------------------------------------------------------------------------ named cases

PAGE_LEVEL = {
    "aweme_list a number": ({"aweme_list": 5}, "aweme_list"),
    "research videos a number": ({"data": {"videos": 5}, "error": {"code": "ok"}}, "videos"),
    "research data a list": ({"data": [1], "error": {"code": "ok"}}, "data"),
    "itemInfo a string": ({"itemInfo": "x"}, "itemInfo"),
    "default scope a list": ({"__DEFAULT_SCOPE__": [1]}, "__DEFAULT_SCOPE__"),
    "video detail a string": ({"__DEFAULT_SCOPE__": {"webapp.video-detail": "x"}}, "webapp.video-detail"),
    "itemInfo in scope a list": ({"__DEFAULT_SCOPE__": {"webapp.video-detail": {"itemInfo": [1]}}}, "itemInfo"),
    "UserModule a list": ({"UserModule": [1], "ItemModule": {}}, "UserModule"),
    "ItemModule a list": ({"ItemModule": [1]}, "ItemModule"),
    "users a list": ({"UserModule": {"users": [1]}}, "UserModule.users"),
    "ItemList a string": ({"ItemModule": {}, "ItemList": "x"}, "ItemList"),
}


@pytest.mark.parametrize("name", PAGE_LEVEL)
def test_a_container_of_the_wrong_type_is_a_reject_naming_it(workspace, name):
    doc, field = PAGE_LEVEL[name]
    batch = parse_json(doc, ctx())
    assert batch.rejects and field in batch.rejects[0].reason and reconciles(batch)


def test_sigi_state_with_user_module_a_list_still_takes_its_items(workspace):
    item = json.loads((OWN_FIXTURES / "web_item_list.json").read_text())["itemList"][0]
    batch = parse_json({"UserModule": [1], "ItemModule": {item["id"]: item}}, ctx())
    assert len(batch.rows["posts"]) == 1 and "UserModule is a list" in batch.rejects[0].reason and reconciles(batch)


def test_create_time_out_of_range_is_a_reject_and_both_readers_agree(workspace, tmp_path):
    """The issue's reproduction: createTime 1e16 (17 digits) made the fast path raise a ConversionException."""
    bodies = []
    for value in ("10000000000000000", "9999999999999999999", 10**18, "1e16", -5, "1300000000", "32503680000"):
        body = json.loads((OWN_FIXTURES / "web_item_list.json").read_text())
        body["itemList"][0]["createTime"] = value
        body["itemList"][1]["id"] = str(7400000000000000100 + len(bodies))
        bodies.append(body)
    fast, slow, a, b = both_readers(tmp_path, bodies)
    assert snapshot(fast) == snapshot(slow)
    reasons = [r for (r,) in slow.execute("SELECT reason FROM rejects ORDER BY reason").fetchall()]
    assert len(reasons) == len(bodies) and all(r.startswith("createTime out of range: ") for r in reasons)
    assert "createTime out of range: 10000000000000000 " in " ".join(reasons)
    assert a.items_read == b.items_read == 2 * len(bodies) and a.items_rejected == b.items_rejected == len(bodies)


@pytest.mark.parametrize("value", ["-5", "0x10", "1.5", "NaN", "1e3", " 7", "１２", "1_000", -5, 1.5, 1e25, "inf"])
def test_counts_the_python_parser_rejects_are_not_stored_by_the_fast_path(workspace, tmp_path, value):
    body = feed()
    body["itemList"][1].setdefault("statsV2", {})["playCount"] = value
    fast, slow, a, b = both_readers(tmp_path, [body])
    assert snapshot(fast) == snapshot(slow)
    assert (a.items_read, a.items_rejected) == (b.items_read, b.items_rejected)
    if value not in ("1e3", " 7"):  # a whole number in other words, which Python takes (and SQL leaves to it)
        assert b.items_rejected == 1


@pytest.mark.parametrize("value", [-1, 0, "x", 32503680000000, 10**20, None])
def test_zeeschuimer_collection_time_must_be_plausible(workspace, value):
    line = json.loads((OWN_FIXTURES / "zeeschuimer.ndjson").read_text().splitlines()[0])
    line["timestamp_collected"] = value
    batch = parse_bytes(json.dumps(line).encode(), ctx())
    assert not batch.rows["posts"] and "timestamp_collected" in batch.rejects[0].reason and reconciles(batch)


def test_a_year_3000_or_1969_creation_time_is_a_reject(workspace):
    for value in (32503680000, -1, 1):
        item = dict(json.loads((OWN_FIXTURES / "web_item_list.json").read_text())["itemList"][0], createTime=value)
        batch = parse_json({"itemList": [item]}, ctx())
        assert batch.rejects[0].reason.startswith(f"createTime out of range: {value}"), batch.rejects


def test_text_over_the_limit_is_a_reject_naming_it_and_both_readers_agree(limits, tmp_path):
    bodies = []
    for n, (where, key) in enumerate(
        [(None, "desc"), ("author", "nickname"), ("author", "uniqueId"), ("music", "title"), ("video", "cover")]
    ):
        body = feed(3, seed=9, start=3 * n)
        target = body["itemList"][1]
        (target if where is None else target.setdefault(where, {}))[key] = "é" * (TEXT_LIMIT + 1)
        body["itemList"][2]["desc"] = "ok " * (TEXT_LIMIT // 3)  # at the limit: kept
        bodies.append(body)
    fast, slow, a, b = both_readers(tmp_path, bodies)
    assert snapshot(fast) == snapshot(slow)
    reasons = [r for (r,) in slow.execute("SELECT reason FROM rejects").fetchall()]
    assert len(reasons) == len(bodies) and all("max_text_chars (300)" in r for r in reasons)
    assert a.items_read - a.items_rejected == b.items_read - b.items_rejected == 2 * len(bodies)


def test_ids_are_normalised_once_in_both_readers(workspace, tmp_path):
    assert ident("0001", "id") == ident(1, "id") == "1"
    for bad in ("0", "000", "-1", "٣", "１２", "9223372036854775808", 0):
        with pytest.raises(ValueError, match="plausible TikTok id|out of range"):
            ident(bad, "id")
    body = feed(2)
    body["itemList"][0]["id"], body["itemList"][1]["id"] = "0001", "1"
    body["itemList"][0]["author"]["id"] = "000000000000000042"
    other = feed(2, seed=6)
    other["itemList"][0]["id"] = "0"  # not a plausible id: a reject
    fast, slow, a, b = both_readers(tmp_path, [body, other])
    assert snapshot(fast) == snapshot(slow)
    assert slow.execute("SELECT count(*) FROM posts WHERE post_id = '1'").fetchone()[0] == 1
    assert slow.execute("SELECT count(*) FROM posts WHERE post_id LIKE '0%'").fetchone()[0] == 0
    assert slow.execute("SELECT count(*) FROM authors WHERE author_id LIKE '0%'").fetchone()[0] == 0
    assert [r for (r,) in slow.execute("SELECT reason FROM rejects").fetchall()] == ["id is not a plausible TikTok id ('0')"]


HOSTILE_TAGS = ["evil\u202eliam", "zero\u200bwidth", "bom\ufeff", "ctl\x07", "two words", "x" * 101, "rtl\u2067iso"]


def test_hostile_hashtags_are_not_stored_by_either_reader(workspace, tmp_path):
    for name in HOSTILE_TAGS:
        assert hashtag_problem(name), name
    assert hashtag_problem("filistin🇰🇼") is None and hashtag_problem("añonuevo2024") is None  # TikTok's own, emoji included
    bodies = []
    for n, name in enumerate(HOSTILE_TAGS):
        body = feed(2, seed=12, start=2 * n)
        body["itemList"][0]["challenges"] = [{"id": "1", "title": name}, {"id": "2", "title": "fine_tag"}]
        body["itemList"][1]["textExtra"] = [{"hashtagName": name, "hashtagId": "3"}]
        bodies.append(body)
    fast, slow, a, b = both_readers(tmp_path, bodies)
    assert snapshot(fast) == snapshot(slow)
    stored = {name for (name,) in slow.execute("SELECT name FROM hashtags").fetchall()}
    assert "fine_tag" in stored and not any(hashtag_problem(n) for n in stored)
    assert b.items_rejected == 0  # the post goes in, without the hashtag


# ------------------------------------------------------------------------------------ the fuzzer

SEED = 22
POOL = [
    None, True, False, 0, 1, -1, -5, 1.5, 1e16, 1e25, 10**19, 2**63, 2**64 + 1, "", " ", "x", "-5", "0x10", "1.5", "NaN", "inf",
    "1e16", "10000000000000000", "0001", "0", "00", "٣", "１２", "\u202eevil", "a\u200bb", "nul\x00l", "true", "false",
    [], [1], [{}], ["a"], {}, {"a": 1}, "#", "#Tag ", "İstanbul", "1762000000", 1762000000, 1762000000123, "32503680000",
]  # fmt: skip


def _slots(obj, depth: int = 0, out: list | None = None) -> list:
    """Every (container, key) in ``obj``: the places a mutation can hit."""
    out = [] if out is None else out
    if depth > 7:
        return out
    items = obj.items() if isinstance(obj, dict) else enumerate(obj) if isinstance(obj, list) else ()
    for key, value in items:
        out.append((obj, key))
        _slots(value, depth + 1, out)
    return out


def mutate(doc, rng: random.Random, times: int, under=None):
    """``doc`` with ``times`` random deletions, type swaps or out-of-range values (in ``doc[under]`` only, when given)."""
    doc = copy.deepcopy(doc)
    for _ in range(times):
        slots = _slots(doc[under] if under is not None and isinstance(doc.get(under), (dict, list)) else doc)
        if not slots:
            return doc
        container, key = rng.choice(slots)
        roll = rng.random()
        if roll < 0.2:
            if isinstance(container, dict):
                del container[key]
            else:
                container.pop(key)
        elif roll < 0.27:
            container[key] = "ü" * (TEXT_LIMIT + rng.randint(-90, 3))
        else:
            container[key] = copy.deepcopy(rng.choice(POOL))
    return doc


def _json_docs() -> list[tuple[str, object]]:
    """Every JSON or NDJSON fixture (one document a line of NDJSON), by name."""
    files = sorted(OWN_FIXTURES.glob("*.json")) + sorted(OWN_FIXTURES.glob("*.ndjson"))
    if SHARED_FIXTURES.is_dir():
        files += sorted(f for f in SHARED_FIXTURES.rglob("*") if f.suffix in (".json", ".ndjson"))
    docs = []
    for f in files:
        text = f.read_text(encoding="utf-8", errors="replace")
        try:
            docs.append((f.name, json.loads(text)))
        except ValueError:
            for n, line in enumerate(text.splitlines()[:20]):
                try:
                    docs.append((f"{f.name}:{n}", json.loads(line)))
                except ValueError:  # a deliberately truncated line
                    continue
    return docs


def _feed_bases() -> list[dict]:
    bases = [json.loads((OWN_FIXTURES / n).read_text()) for n in ("web_item_list.json", "web_item_list_later.json")]
    if SHARED_FIXTURES.is_dir():
        items = [json.loads((SHARED_FIXTURES / f"web/{n}.json").read_text()) for n in ("item_2024_fyp", "item_2024_hashtag")]
        items += json.loads((SHARED_FIXTURES / "web/item_list_minimal.json").read_text())
        bases.append({"statusCode": 0, "hasMore": False, "itemList": items})
        zee = [
            json.loads(line)["data"] for line in (SHARED_FIXTURES / "zeeschuimer/tiktok_search_2023.ndjson").read_text().splitlines()[:6]
        ]
        bases.append({"itemList": zee, "hasMore": True})
    bases.append(feed(4, seed=31))
    return bases


@pytest.mark.slow
def test_fuzzed_documents_of_every_shape_never_raise_and_reconcile(limits):
    rng = random.Random(SEED)
    docs = _json_docs()
    assert len(docs) >= 20
    cases = 0
    for _ in range(6):
        for name, doc in docs:
            hostile = mutate(doc, rng, rng.randint(1, 4))
            body = json.dumps(hostile, ensure_ascii=rng.random() < 0.5).encode()
            batch = parse_bytes(body, ctx())  # must not raise
            assert reconciles(batch), (name, hostile)
            cases += 1
    assert cases >= 6 * 20


@pytest.mark.slow
def test_fuzzed_feed_pages_give_the_same_store_on_both_readers(limits, tmp_path):
    """Random type swaps, deletions and out-of-range values in the fields of real feed items: the
    SQL fast path either reads a page exactly as Python does or leaves it to Python."""
    rng = random.Random(SEED + 1)
    bases = _feed_bases()
    bodies = []
    for n in range(160):
        base = bases[n % len(bases)]
        bodies.append(mutate(base, rng, rng.randint(1, 3), under=None if rng.random() < 0.1 else "itemList"))
    for body in bodies:
        assert reconciles(parse_bytes(json.dumps(body).encode(), ctx()))
    fast, slow, a, b = both_readers(tmp_path, bodies, "fuzz")
    assert snapshot(fast) == snapshot(slow)
    assert (a.items_read, a.items_rejected, a.new) == (b.items_read, b.items_rejected, b.new)
    rejected = slow.execute("SELECT count(*) FROM rejects").fetchone()[0]
    assert rejected == b.items_rejected and b.items_rejected > 20  # the rejects are all recorded, and the fuzzer hits
    read = slow.execute("SELECT sum(items_read), sum(items_ingested + items_rejected) FROM raw_pages").fetchone()
    assert read[0] == read[1] == b.items_read
    # a good page afterwards goes in
    good = write_all([(feed(3, seed=77, start=900), "valet2026")], tmp_path / "raw-good")
    assert ingest_pages(fast, good, sql_reader=True).items_rejected == 0


def test_collected_in_a_plausible_range_only(workspace):
    """The bounds follow the settings: plausible_since and plausible_ahead_days."""
    from tiktok_intel.parsing.fields import plausible_times

    since, until = plausible_times()
    assert since == dt.datetime(2014, 1, 1) and until > dt.datetime.now(dt.UTC).replace(tzinfo=None)
