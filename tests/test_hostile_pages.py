"""Pages that must not stop, corrupt or exhaust the workbench (issue 22): a page that fails is
marked failed and never blocks the pages after it; ``process --rebuild`` swaps only on success;
the page-level limits; HTML parsed in linear time; and a generated hostile corpus through the CLI."""

from __future__ import annotations

import copy
import json
import re
import time
from pathlib import Path

import pytest
from conftest import OWN_FIXTURES

from tiktok_intel.cli import main
from tiktok_intel.ingest import pages as pages_module
from tiktok_intel.ingest import sql_reader
from tiktok_intel.parsing import Context, embedded_scripts, nested_deeper, parse_bytes
from tiktok_intel.store import open_db

GOOD = OWN_FIXTURES / "web_item_list.json"
SUMMARY = re.compile(r"(\d+) items read: .*; (\d+) rejected")


@pytest.fixture
def db(tmp_path, monkeypatch):
    monkeypatch.delenv("TIKTOK_INTEL_WORKSPACE", raising=False)
    monkeypatch.setenv("TIKTOK_INTEL_PROGRESS", "0")
    monkeypatch.chdir(tmp_path)
    yield str(tmp_path / "ws" / "t.duckdb")
    from tiktok_intel import settings

    settings.configure(None)


def cli(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, out, err


def query(db, sql, params=()):
    con = open_db(db)
    try:
        return con.execute(sql, list(params)).fetchall()
    finally:
        con.close()


def good_variant(folder: Path, n: int) -> Path:
    """The good fixture page with its first post's description made unique (new bytes: a new page)."""
    doc = json.loads(GOOD.read_text())
    doc["itemList"][0]["desc"] = f"good page {n} #valet2026"
    path = folder / f"good_{n}.json"
    path.write_text(json.dumps(doc))
    return path


def feed(n_items: int = 2, tweak=None) -> dict:
    doc = json.loads(GOOD.read_text())
    items = [copy.deepcopy(doc["itemList"][i % 2]) for i in range(n_items)]
    for i, item in enumerate(items):
        item["id"] = item["video"]["id"] = str(7400000000000100000 + i)
    doc["itemList"] = items
    if tweak:
        tweak(doc)
    return doc


# ---------------------------------------------------------------------------------------------
# a page that fails is marked failed, never blocks the others, is retried only when asked


def _failing_parser(monkeypatch, marker: bytes):
    real = pages_module.iter_parse

    def parse(data, *args, **kwargs):
        if marker in data:
            raise TypeError("a parser that trips over this page")
        return real(data, *args, **kwargs)

    monkeypatch.setattr(pages_module, "iter_parse", parse)


def test_a_page_that_fails_is_marked_failed_and_the_others_go_in(capsys, db, tmp_path, monkeypatch):
    bad = tmp_path / "bad.ndjson"  # the Python path (NDJSON)
    bad.write_text("\n".join(json.dumps(item) for item in feed(2)["itemList"]).replace("Valet 2026", "TRIP"))
    _failing_parser(monkeypatch, b"TRIP")
    code, out, _ = cli(capsys, "--db", db, "import", str(bad), str(GOOD))
    assert code == 0 and "1 page(s) FAILED" in out and "2 posts" in out
    assert query(db, "SELECT count(*) FROM posts")[0][0] == 2
    code, out, _ = cli(capsys, "--db", db, "status")
    assert code == 0 and "failed pages: 1" in out and "TypeError: a parser that trips over this page" in out and "(1x)" in out
    # later runs leave it alone (not tried again, not counted again)
    code, out, _ = cli(capsys, "--db", db, "process")
    assert code == 0 and out.startswith("0 raw page(s) ingested") and "FAILED" not in out
    assert query(db, "SELECT attempts FROM failed_pages") == [(1,)]
    # --retry-failed tries it again (still failing: one more attempt)
    code, out, _ = cli(capsys, "--db", db, "process", "--retry-failed")
    assert code == 0 and "1 page(s) FAILED" in out
    assert query(db, "SELECT attempts FROM failed_pages") == [(2,)]
    # once it goes in, it leaves the failed list
    monkeypatch.undo()
    monkeypatch.setenv("TIKTOK_INTEL_PROGRESS", "0")
    code, out, _ = cli(capsys, "--db", db, "process", "--retry-failed")
    assert code == 0 and out.startswith("1 raw page(s) ingested") and "FAILED" not in out
    assert query(db, "SELECT count(*) FROM failed_pages") == [(0,)]
    assert query(db, "SELECT count(*) FROM posts")[0][0] == 4
    code, out, _ = cli(capsys, "--db", db, "status")
    assert "failed pages: none" in out


def test_a_page_the_merge_fails_on_does_not_take_its_group_down(capsys, db, tmp_path, monkeypatch):
    """Pages go in many to a transaction; when one makes the merge raise, the others go in alone."""
    real = pages_module.ingest_batch

    def merge(con, batch, pages_done=()):
        if any("TRIP" in (row.get("description") or "") for row in batch.rows["posts"]):
            raise ValueError("the merge trips over this page")
        return real(con, batch, pages_done)

    monkeypatch.setattr(pages_module, "ingest_batch", merge)
    files = []
    for n, text in enumerate(["ok one", "TRIP", "ok two"]):
        path = tmp_path / f"p{n}.ndjson"
        item = feed(1)["itemList"][0]
        item["id"] = item["video"]["id"] = str(7400000000000200000 + n)
        item["desc"] = text
        path.write_text(json.dumps(item) + "\n" + json.dumps(item) + "\n")
        files.append(str(path))
    code, out, _ = cli(capsys, "--db", db, "import", *files)
    assert code == 0 and "1 page(s) FAILED" in out
    assert sorted(r[0] for r in query(db, "SELECT description FROM posts")) == ["ok one", "ok two"]
    assert query(db, "SELECT reason FROM failed_pages") == [("ValueError: the merge trips over this page",)]


def test_a_feed_page_duckdb_cannot_read_goes_to_the_python_parser(capsys, db, tmp_path, monkeypatch):
    def load(*args, **kwargs):
        raise RuntimeError("the SQL reader trips")

    monkeypatch.setattr(sql_reader, "load", load)
    code, out, _ = cli(capsys, "--db", db, "import", str(GOOD))
    assert code == 0 and "2 posts" in out and "FAILED" not in out
    assert query(db, "SELECT count(*) FROM posts")[0][0] == 2


# ---------------------------------------------------------------------------------------------
# process --rebuild builds beside the store and swaps only on success


def test_rebuild_keeps_the_store_when_it_stops_midway(capsys, db, tmp_path, monkeypatch):
    assert cli(capsys, "--db", db, "import", str(GOOD))[0] == 0
    before = query(db, "SELECT post_id, views FROM posts ORDER BY 1")
    assert len(before) == 2

    def crash(*args, **kwargs):
        raise KeyboardInterrupt  # a kill, a full disk: anything that stops the rebuild itself

    monkeypatch.setattr(pages_module, "ingest_batch", crash)
    monkeypatch.setattr(pages_module, "ingest_relations", crash)
    code, _, err = cli(capsys, "--db", db, "process", "--rebuild")
    assert code != 0 and "interrupted" in err
    assert query(db, "SELECT post_id, views FROM posts ORDER BY 1") == before  # was 2 posts -> 0
    assert query(db, "SELECT count(*) FROM raw_pages") == [(1,)]
    assert query(db, "SELECT count(*) FROM duckdb_schemas() WHERE schema_name = '_rebuild'") == [(0,)]


def test_rebuild_goes_past_a_failing_page_and_swaps(capsys, db, tmp_path, monkeypatch):
    other = tmp_path / "other.ndjson"
    item = feed(1)["itemList"][0]
    item["id"] = item["video"]["id"] = "7400000000000300000"
    item["desc"] = "TRIP"
    other.write_text(json.dumps(item) + "\n" + json.dumps(item) + "\n")
    assert cli(capsys, "--db", db, "import", str(GOOD), str(other))[0] == 0
    assert query(db, "SELECT count(*) FROM posts") == [(3,)]
    _failing_parser(monkeypatch, b"TRIP")
    code, out, _ = cli(capsys, "--db", db, "process", "--rebuild")
    assert code == 0 and "1 page(s) FAILED" in out
    assert query(db, "SELECT count(*) FROM posts") == [(2,)]  # rebuilt from what goes in: the failing page is listed
    assert query(db, "SELECT path FROM failed_pages")[0][0].endswith(".ndjson")
    monkeypatch.undo()
    monkeypatch.setenv("TIKTOK_INTEL_PROGRESS", "0")
    code, out, _ = cli(capsys, "--db", db, "process", "--rebuild")
    assert code == 0 and "FAILED" not in out
    assert query(db, "SELECT count(*) FROM posts") == [(3,)] and query(db, "SELECT count(*) FROM failed_pages") == [(0,)]


# ---------------------------------------------------------------------------------------------
# HTML in linear time; the page-level limits


_OLD_SCRIPT = re.compile(rb'<script[^>]*id="(SIGI_STATE|__UNIVERSAL_DATA_FOR_REHYDRATION__)"[^>]*>(.*?)</script>', re.S)


def test_embedded_scripts_find_what_the_regular_expression_found():
    import random

    rng = random.Random(22)
    tokens = [b"<script", b' id="SIGI_STATE"', b' id="__UNIVERSAL_DATA_FOR_REHYDRATION__"', b">", b"</script>", b"x", b'{"a":1}', b'id="']
    for _ in range(5000):
        data = b"".join(rng.choice(tokens) for _ in range(rng.randint(0, 20)))
        assert list(embedded_scripts(data)) == [(m.group(1), m.group(2)) for m in _OLD_SCRIPT.finditer(data)], data
    for name in ("sigi_page.html", "universal_page.html"):
        data = (OWN_FIXTURES / name).read_bytes()
        assert list(embedded_scripts(data)) == [(m.group(1), m.group(2)) for m in _OLD_SCRIPT.finditer(data)]
        assert parse_bytes(data, Context(collected_at=_T)).rows["posts"]


def test_html_of_unclosed_script_openers_parses_in_linear_time():
    hostile = b"<!DOCTYPE html><html><body>" + b'<script id="SIGI_STATE">' * 42_000  # ~1 MB
    normal = (OWN_FIXTURES / "sigi_page.html").read_bytes()
    normal = normal * (len(hostile) // len(normal) + 1)
    t0 = time.perf_counter()
    parse_bytes(normal, Context(collected_at=_T))
    t_normal = time.perf_counter() - t0
    t0 = time.perf_counter()
    batch = parse_bytes(hostile, Context(collected_at=_T))
    t_hostile = time.perf_counter() - t0
    assert batch.items_read == 1 and "HTML page where JSON was expected" in batch.rejects[0].reason
    assert t_hostile < max(10 * t_normal, 0.5), (t_hostile, t_normal)  # was quadratic: 17 s for 192 kB


def test_nesting_deeper_than_the_limit_is_one_reject_naming_it(workspace):
    ctx = Context(collected_at=_T)
    deep = b"[" * 65 + b"]" * 65
    batch = parse_bytes(deep, ctx)
    assert [r.reason for r in batch.rejects] == ["JSON nested deeper than max_nesting_depth (64 levels)"]
    # a feed page with one deep field: no half of it is kept
    doc = feed(2)
    doc["itemList"][1]["extra"] = json.loads("[" * 70 + "]" * 70)
    batch = parse_bytes(json.dumps(doc).encode(), ctx)
    assert len(batch.rejects) == 1 and "max_nesting_depth" in batch.rejects[0].reason and not batch.rows["posts"]
    # brackets in strings are not nesting
    assert not nested_deeper(json.dumps({"desc": "[" * 500}).encode(), 64)
    assert nested_deeper(b'{"a": "\\\\", "b": ' + b"[" * 65 + b"]" * 65 + b"}", 64)


def test_items_beyond_the_limit_are_one_reject_and_none_is_stored(capsys, db, tmp_path, monkeypatch):
    monkeypatch.setenv("TIKTOK_INTEL_MAX_ITEMS_PER_PAGE", "3")
    big_feed = tmp_path / "big.json"  # DuckDB's path first
    big_feed.write_text(json.dumps(feed(4)))
    big_ndjson = tmp_path / "big.ndjson"
    big_ndjson.write_text("\n".join(json.dumps(i) for i in feed(5)["itemList"]) + "\n")
    small = tmp_path / "small.json"
    small.write_text(json.dumps(feed(3)))
    code, out, _ = cli(capsys, "--db", db, "import", str(big_feed), str(big_ndjson), str(small))
    assert code == 0 and "FAILED" not in out
    reasons = sorted(r[0] for r in query(db, "SELECT reason FROM rejects"))
    assert reasons == ["4 items in one page: more than max_items_per_page (3)", "5 items in one page: more than max_items_per_page (3)"]
    assert query(db, "SELECT count(*) FROM posts") == [(3,)]  # the small page only


_T = __import__("datetime").datetime(2026, 11, 1, 8)


# ---------------------------------------------------------------------------------------------
# the hostile corpus, through the CLI


def _with_item(**fields):
    def tweak(doc):
        doc["itemList"][0].update(fields)

    return tweak


def _set(path: str, value):
    def tweak(doc):
        target = doc["itemList"][0]
        *head, last = path.split(".")
        for key in head:
            target = target[key]
        target[last] = value

    return tweak


def hostile_corpus() -> dict[str, bytes]:
    """name -> file body (the suffix is the name's)."""
    j = lambda doc: json.dumps(doc).encode()  # noqa: E731
    good = GOOD.read_bytes()
    sigi = (OWN_FIXTURES / "sigi_page.html").read_text()
    cases = {
        "create_time_1e16.json": j(feed(2, _with_item(createTime="10000000000000000"))),
        "create_time_19_digits.json": j(feed(2, _with_item(createTime=9223372036854775807))),
        "create_time_float_1e16.json": j(feed(2, _with_item(createTime=1e16))),
        "create_time_negative.json": j(feed(2, _with_item(createTime=-5))),
        "count_hex_and_fraction.json": good.replace(b'"playCount": 1200000', b'"playCount": "0x10"').replace(
            b'"diggCount": 45000', b'"diggCount": 1.5'
        ),
        "count_nan.json": good.replace(b'"playCount": 1200000', b'"playCount": NaN'),
        "aweme_list_5.json": b'{"aweme_list": 5}',
        "data_videos_5.json": b'{"data": {"videos": 5}, "error": {"code": "ok"}}',
        "data_list_1.json": b'{"data": [1]}',
        "item_info_x.json": b'{"itemInfo": "x"}',
        "default_scope_list.json": b'{"__DEFAULT_SCOPE__": [1]}',
        "sigi_modules_as_lists.html": (b'<html><script id="SIGI_STATE">{"ItemModule": [1, 2], "UserModule": ["x"]}</script></html>'),
        "item_list_of_strings.json": b'{"itemList": ["a", 5, null, true, []]}',
        "stats_as_list.json": j(feed(2, _set("stats", [1, 2]))),
        "author_as_int.json": j(feed(2, _set("author", 7))),
        "challenges_as_number.json": j(feed(2, _set("challenges", 5))),
        "text_extra_as_string.json": j(feed(2, _set("textExtra", "x"))),
        "id_as_object.json": j(feed(2, _set("id", {"a": 1}))),
        "desc_1mb.json": j(feed(2, _set("desc", "x" * 1_000_000))),
        "deep_nesting.json": b"[" * 5000 + b"]" * 5000,
        "deep_field_in_feed.json": j(feed(2, _set("extra", json.loads("[" * 80 + "]" * 80)))),
        "unclosed_openers_deep.json": b'{"itemList": [' * 8000,
        "truncated.json": good[: len(good) // 2],
        "empty.json": b"",
        "nul_bytes.json": good.replace(b"svtnyheter", b"svt\\u0000nyheter"),
        "bom.json": b"\xef\xbb\xbf" + good.replace(b"7400000000000000001", b"7400000000000000901"),
        "unclosed_script_openers.html": b"<!DOCTYPE html><html>" + b'<script id="SIGI_STATE">' * 40_000,
        "script_not_json.html": b'<!DOCTYPE html><html><script id="SIGI_STATE">{"ItemModule": </script></html>',
        "script_deep.html": b'<!DOCTYPE html><html><script id="SIGI_STATE">' + b"[" * 100 + b"]" * 100 + b"</script></html>",
        "sigi_user_module_wrong.html": sigi.replace('"UserModule": {"users"', '"UserModule": {"users": 5, "x"').encode(),
        "huge_item_count.json": b'{"itemList": [' + b",".join([b'{"id": "1"}'] * 200_001) + b"]}",
        "huge_line_count.ndjson": b"{}\n" * 200_001,
        "ndjson_mixed.ndjson": b'{"a": 1}\n[1,2]\n"x"\n' + b"[" * 100 + b"]" * 100 + b"\n{broken\n",
    }
    return cases


@pytest.mark.slow
def test_the_hostile_corpus_through_the_cli(capsys, db, tmp_path):
    started = time.process_time()
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    cases = hostile_corpus()
    for name, body in cases.items():
        (inputs / name).write_bytes(body)
    goods = [good_variant(inputs, n) for n in range(len(cases))]
    assert cli(capsys, "--db", db, "init")[0] == 0
    workspace = Path(db).parent

    def outside() -> dict[str, float]:
        return {str(p): p.stat().st_mtime for p in tmp_path.rglob("*") if workspace not in p.parents and p != workspace}

    before = outside()
    problems = []
    for n, name in enumerate(cases):
        # the case, and a good page right after it in the same import (which must go in too)
        code, out, err = cli(capsys, "--db", db, "import", str(inputs / name), str(goods[n]))
        if code == 1:  # the whole input refused: one line naming it; then the good page alone
            if err.count("\n") != 1 or out:
                problems.append(f"{name}: exit 1 without one line: {err!r}")
            code, out, err = cli(capsys, "--db", db, "import", str(goods[n]))
        if code != 0:
            problems.append(f"{name}: exit {code}: {err!r}")
        elif not SUMMARY.search(out):
            problems.append(f"{name}: no summary in {out!r}")
        elif "FAILED" in out:
            problems.append(f"{name}: a page failed: {query(db, 'SELECT reason FROM failed_pages')}")
        desc = query(db, "SELECT description FROM posts WHERE post_id = '7400000000000000001'")
        if desc != [(f"good page {n} #valet2026",)]:
            problems.append(f"{name}: the good page after it did not go in: {desc}")
        # every page is reconciled: items read = ingested + rejected, one reject row per rejected item
        for path, read, ingested, rejected, rows in query(
            db,
            "SELECT p.path, p.items_read, p.items_ingested, p.items_rejected, "
            "(SELECT count(*) FROM rejects r WHERE r.raw_sha256 = p.sha256) FROM raw_pages p",
        ):
            if read != ingested + rejected or rejected != rows or ingested < 0:
                problems.append(f"{name}: {path}: read {read} != ingested {ingested} + rejected {rejected} ({rows} reject rows)")
        code, out, err = cli(capsys, "--db", db, "process")  # and process still works
        if code != 0 or "FAILED" in out:
            problems.append(f"{name}: process afterwards: {code} {out!r} {err!r}")
    after = outside()
    written = {p for p in after if p not in before or after[p] != before[p]}
    assert not written, f"written outside the workspace: {sorted(written)}"
    assert not problems, "\n".join(problems)
    code, out, _ = cli(capsys, "--db", db, "status")
    assert code == 0 and "failed pages: none" in out
    assert time.process_time() - started < 60  # CPU time: bounded whatever else the machine runs
