"""DuckDB's reading of web feed pages gives exactly the store the Python parser gives."""

from __future__ import annotations

import datetime as dt
import json
import sys

import pytest
from conftest import OWN_FIXTURES, PROJECT, T0
from test_ingest import snapshot

from tiktok_intel.ingest import sql_reader as reader
from tiktok_intel.ingest.pages import ingest_pages
from tiktok_intel.raw import write_page
from tiktok_intel.store import open_db

sys.path.insert(0, str(PROJECT / "bench"))
from synthetic import World  # noqa: E402


def feed_pages(shared) -> list[tuple[dict, str | None]]:
    """Web feed pages: our own, the real samples' items wrapped in feeds, and synthetic ones."""
    pages = [(json.loads((OWN_FIXTURES / n).read_text()), "valet2026") for n in ("web_item_list.json", "web_item_list_later.json")]
    if shared is not None:
        items = [
            json.loads((shared / "web/item_2024_fyp.json").read_text()),
            json.loads((shared / "web/item_2024_hashtag.json").read_text()),
        ]
        items += json.loads((shared / "web/item_list_minimal.json").read_text())
        pages.append(({"statusCode": 0, "hasMore": False, "itemList": items}, "restock"))
        lines = (shared / "zeeschuimer/tiktok_search_2023.ndjson").read_text().splitlines()
        zee = [json.loads(line)["data"] for line in lines]
        pages += [({"itemList": zee[i : i + 30], "hasMore": True, "cursor": str(i + 30)}, None) for i in range(0, len(zee), 30)]
    world = World(posts=300, authors=40, hashtags=200, seed=7)
    pages += [(world.feed_page(start, 30, T0, start), "valet2026") for start in range(0, 300, 30)]
    return pages


@pytest.fixture
def shared_or_none(request):
    from conftest import SHARED_FIXTURES

    return SHARED_FIXTURES if SHARED_FIXTURES.is_dir() else None


def write_all(pages, raw_dir):
    out = []
    for n, (body, tag) in enumerate(pages):
        when = T0 + dt.timedelta(hours=8 * (n % 3))
        out.append(
            write_page(
                json.dumps(body, ensure_ascii=False),
                source="web",
                run_id=f"r{n}",
                page=n,
                fetched_at=when,
                hashtag=tag,
                raw_dir=raw_dir,
                extra={"rank_offset": 30 * n},
            )
        )
    return out


def test_sql_reader_equals_python_parser(workspace, tmp_path, shared_or_none):
    pages = write_all(feed_pages(shared_or_none), tmp_path / "raw")
    fast, slow = open_db(tmp_path / "fast.duckdb"), open_db(tmp_path / "slow.duckdb")
    loaded, _, counts = reader.load(fast, pages)
    reader.cleanup(fast)
    # every page here is plainly well-formed, except those holding hashtags Python and DuckDB lower-case differently
    assert len(loaded) >= len(pages) - 2 and sum(counts.values()) >= 300
    a = ingest_pages(fast, pages, sql_reader=True)
    b = ingest_pages(slow, pages, sql_reader=False)
    assert snapshot(fast) == snapshot(slow)
    # "updated" counts depend on how pages were grouped into transactions; the rest may not differ
    assert (a.items_read, a.new, {k: len(v) for k, v in a.seen.items()}) == (b.items_read, b.new, {k: len(v) for k, v in b.seen.items()})


def test_pages_it_cannot_read_exactly_go_to_python(workspace, tmp_path):
    names = ["web_item_list.json", "bad/odd_values.json", "bad/truncated.json", "bad/captcha.html", "sigi_page.html"]
    pages = [
        write_page((OWN_FIXTURES / n).read_bytes(), source="web", run_id=f"r{i}", page=0, fetched_at=T0, suffix="." + n.rsplit(".", 1)[1])
        for i, n in enumerate(names)
    ]
    con = open_db(tmp_path / "x.duckdb")
    loaded, _, _ = reader.load(con, [p for p in pages if p.body_path.suffix == ".json"])
    assert [p.body_path.name for p in loaded] == [pages[0].body_path.name]  # odd values and truncated JSON: Python's
    stats = ingest_pages(con, pages)
    assert stats.items_rejected == 4 + 1 + 1  # the odd values' 4 rejects, the truncated page, the captcha page
    assert con.execute("SELECT count(*) FROM rejects").fetchone()[0] == 6


def test_many_groups_read_while_ingesting_equal_python_parser(workspace, tmp_path, shared_or_none):
    """Many groups: a second connection reads the next group while the first ingests (ingest.pages.
    _ingest_feed_pages_in_sql); the store is the Python parser's, a re-run changes nothing, and a
    later collection of the same posts (keys already stored) is merged as Python merges it."""
    pages = write_all(feed_pages(shared_or_none), tmp_path / "raw")
    recollected = []
    for body, tag in feed_pages(None)[-4:]:  # the same posts collected again, at other times, with other counts
        body = json.loads(json.dumps(body))
        for item in body["itemList"]:
            item["stats"]["playCount"] += 7
            item.get("statsV2", {}).pop("playCount", None)
        recollected.append((body, tag))
    later = write_all(recollected, tmp_path / "raw2")
    fast, slow = open_db(tmp_path / "fast.duckdb"), open_db(tmp_path / "slow.duckdb")
    a = ingest_pages(fast, pages, sql_reader=True, chunk_items=40)  # about one page a group: many groups
    b = ingest_pages(slow, pages, sql_reader=False)
    assert snapshot(fast) == snapshot(slow)
    assert (a.items_read, a.new) == (b.items_read, b.new)
    assert fast.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name LIKE '%fp_%'").fetchone()[0] == 0  # nothing left over
    before = snapshot(fast)
    again = ingest_pages(fast, pages, sql_reader=True, chunk_items=40)
    assert snapshot(fast) == before and again.pages_skipped == len(pages) and again.items_read == 0
    c = ingest_pages(fast, later, sql_reader=True, chunk_items=40)
    d = ingest_pages(slow, later, sql_reader=False)
    assert c.items_read == d.items_read == 120 and c.updated.get("posts") and c.new.get("post_stats")
    assert snapshot(fast) == snapshot(slow)


#: One field of one item changed to a value of another JSON type: what the SQL reader must either
#: read as Python does or leave to Python (then Python's store, rejects included, is the reference).
ODD_TYPES = {
    "verified as text": ("author", "verified", "true"),
    "verified as a number": ("author", "verified", 1),
    "isAd as text": (None, "isAd", "false"),
    "original as text": ("music", "original", "true"),
    "challenges a number": (None, "challenges", 5),
    "challenges true": (None, "challenges", True),
    "challenges false": (None, "challenges", False),
    "challenges a string": (None, "challenges", "#valet2026"),
    "challenges an object": (None, "challenges", {"title": "valet2026"}),
    "challenge a number": (None, "challenges", [5, {"title": "ok"}]),
    "textExtra a number": (None, "textExtra", 3),
    "textExtra a string": (None, "textExtra", "x"),
    "author a string": (None, "author", "someone"),
    "author a number": (None, "author", 42),
    "author empty": (None, "author", {}),
    "author a list": (None, "author", [1]),
    "stats a string": (None, "stats", "x"),
    "statsV2 a number": (None, "statsV2", 5),
    "music a string": (None, "music", "x"),
    "video a list": (None, "video", [1]),
    "id a number": (None, "id", 7300000000000000123),
    "id a float": (None, "id", 1.5),
    "id true": (None, "id", True),
    "createTime true": (None, "createTime", True),
    "createTime as text": (None, "createTime", "1700000000"),
    "author id a number": ("author", "id", 6800000000000000001),
    "nickname an object": ("author", "nickname", {"a": 1}),
    "desc true": (None, "desc", True),
}


def test_odd_json_types_give_the_python_parsers_store(workspace, tmp_path):
    world = World(posts=3 * len(ODD_TYPES), authors=20, hashtags=50, seed=11)
    pages = []
    for n, (where, key, value) in enumerate(ODD_TYPES.values()):
        body = world.feed_page(3 * n, 3, T0, 3 * n)
        target = body["itemList"][1]
        (target if where is None else target.setdefault(where, {}))[key] = value
        pages.append((body, "valet2026"))
    for odd in (5, "text", [1], None):  # an item that is not an object at all
        body = world.feed_page(0, 2, T0, 0)
        body["itemList"].insert(1, odd)
        pages.append((body, "valet2026"))
    written = write_all(pages, tmp_path / "raw")
    fast, slow = open_db(tmp_path / "fast.duckdb"), open_db(tmp_path / "slow.duckdb")
    a = ingest_pages(fast, written, sql_reader=True)
    b = ingest_pages(slow, written, sql_reader=False)
    assert snapshot(fast) == snapshot(slow)
    assert (a.items_read, a.items_rejected, a.new) == (b.items_read, b.items_rejected, b.new)
    assert b.items_rejected >= 3  # challenges 5 and true, id 1.5 / true, ...: Python rejects them; so must the SQL path


def test_an_author_known_first_by_name_then_by_id_is_merged_as_python_merges_it(workspace, tmp_path):
    """An item without the author's id keys the author ``@name``; a later page with the id replaces
    that placeholder everywhere (the reader's tables are copied before they are changed)."""
    world = World(posts=4, authors=2, hashtags=10, seed=3)
    first, later = world.feed_page(0, 2, T0, 0), world.feed_page(2, 2, T0 + dt.timedelta(hours=8), 2)
    for item in first["itemList"]:
        item["author"] = {"uniqueId": "NamedOnly", "nickname": "N"}
    for item in later["itemList"]:
        item["author"] = {"id": "6800000000000000042", "uniqueId": "namedonly", "nickname": "N2"}
    stores = []
    for sql_reader in (True, False):
        con = open_db(tmp_path / f"{sql_reader}.duckdb")
        for n, body in enumerate((first, later)):
            written = write_all([(body, "valet2026")], tmp_path / f"raw-{sql_reader}-{n}")
            ingest_pages(con, written, sql_reader=sql_reader)
        assert con.execute("SELECT author_id FROM authors").fetchall() == [("6800000000000000042",)]
        stores.append(snapshot(con))
    assert stores[0] == stores[1]
