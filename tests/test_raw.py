"""The raw zone: atomic, never overwritten, secrets never written."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from conftest import T0

from tiktok_intel.errors import RawZoneError
from tiktok_intel.raw import iter_pages, new_run_id, read_page, redact, write_page


def test_page_and_meta_are_written_together(workspace):
    page = write_page(
        b'{"itemList": []}',
        source="web",
        run_id="r1",
        page=3,
        fetched_at=T0,
        hashtag="klimat",
        request={"url": "https://www.tiktok.com/api/challenge/item_list/?challengeID=1&msToken=SECRET123&count=30"},
    )
    assert page.body_path == workspace.raw_dir / "web" / "2026-11-01" / "r1-3.json"
    assert page.read_bytes() == b'{"itemList": []}'
    meta = json.loads(page.meta_path.read_text())
    assert meta["hashtag"] == "klimat" and meta["fetched_at"] == "2026-11-01T08:01:00.000000Z" and meta["run_id"] == "r1"
    assert "SECRET123" not in page.meta_path.read_text() and "msToken=%2A%2A%2A" in meta["request"]["url"]
    assert [p.sha256 for p in iter_pages()] == [page.sha256]
    assert not [p for p in page.body_path.parent.iterdir() if p.name.startswith(".tmp-")]


def test_never_overwritten(workspace):
    write_page(b"one", source="web", run_id="r1", page=0, fetched_at=T0)
    same = write_page(b"one", source="web", run_id="r1", page=0, fetched_at=T0)  # an identical retry is fine
    assert same.read_bytes() == b"one"
    with pytest.raises(RawZoneError, match="never overwritten"):
        write_page(b"two", source="web", run_id="r1", page=0, fetched_at=T0)


def test_body_without_meta_is_not_a_page(workspace):
    page = write_page(b"{}", source="web", run_id="r1", page=0, fetched_at=T0)
    orphan = page.body_path.with_name("r1-1.json")
    orphan.write_bytes(b"{}")  # what a crash between the two renames would leave
    assert [p.body_path for p in iter_pages()] == [page.body_path]


def test_compressed_page_round_trips(workspace):
    page = write_page("ä" * 1000, source="import", run_id="r2", page=0, fetched_at=T0, compress=True)
    assert page.body_path.name.endswith(".json.gz") and page.read_bytes() == ("ä" * 1000).encode()
    assert read_page(page.meta_path).read_bytes() == page.read_bytes()


def test_pages_come_oldest_first(workspace):
    late = write_page(b"2", source="web", run_id="b", page=0, fetched_at=T0 + dt.timedelta(hours=1))
    early = write_page(b"1", source="research", run_id="a", page=0, fetched_at=T0)
    assert [p.body_path for p in iter_pages()] == [early.body_path, late.body_path]


def test_redact_removes_secret_keys_and_values():
    request = {
        "headers": {"Authorization": "Bearer abc", "User-Agent": "x"},
        "json": {"client_secret": "s3", "query": "keep"},
        "url": "https://open.tiktokapis.com/v2/?access_token=tok&x=1",
        "note": "token is canary-42",
    }
    out = redact(request, secrets=["canary-42"])
    text = json.dumps(out)
    assert "abc" not in text and "s3" not in text and "tok&" not in text and "canary-42" not in text
    assert out["json"]["query"] == "keep" and out["headers"]["User-Agent"] == "x"


def test_unwritable_raw_zone_is_one_clear_error(workspace, tmp_path):
    blocker = tmp_path / "blocked"
    blocker.write_text("a file where a folder should be")
    with pytest.raises(RawZoneError, match="cannot write to the raw zone"):
        write_page(b"{}", source="web", run_id=new_run_id(), page=0, raw_dir=blocker)


def test_redact_finds_secret_parameters_in_any_url_in_a_text_and_leaves_other_urls_alone():
    from tiktok_intel.raw import holds_secret

    text = "GET https://www.tiktok.com/api/item_list/?count=30&msToken=tok123 failed; see https://x.example/a?b=%2F&c=1"
    out = redact(text, secrets=[])
    assert "tok123" not in out and "msToken=%2A%2A%2A" in out and "https://x.example/a?b=%2F&c=1" in out
    assert redact("https://x.example/a?b=%2F c", secrets=[]) == "https://x.example/a?b=%2F c"
    assert holds_secret(text, []) and holds_secret("value canary-42", ["canary-42"]) and not holds_secret("https://x.example/?a=1", [])


def test_a_shared_body_is_written_once_and_each_meta_file_names_it(workspace):
    first = write_page(b'{"itemList": []}', source="import", run_id="r1", page=0, fetched_at=T0, shared_body=True)
    again = write_page(b'{"itemList": []}', source="import", run_id="r2", page=0, fetched_at=T0, shared_body=True)
    body = workspace.raw_dir / "import" / "bodies" / first.sha256[:2] / f"{first.sha256}.json"
    assert first.body_path == again.body_path == body and first.meta_path != again.meta_path
    assert json.loads(again.meta_path.read_text())["body"] == f"import/bodies/{first.sha256[:2]}/{first.sha256}.json"
    assert [p for p in body.parent.iterdir()] == [body]  # one copy
    listed = list(iter_pages())
    assert [(p.body_path, p.meta_path, p.problem) for p in listed] == [(body, first.meta_path, None), (body, again.meta_path, None)]
    assert read_page(again.meta_path).read_bytes() == b'{"itemList": []}' and read_page(again.meta_path).meta_path == again.meta_path
    body.unlink()  # damaged by hand: both pages are listed with the reason
    assert all("no body file where its meta file says" in p.problem for p in iter_pages())


def test_a_raw_page_inflating_past_the_limit_is_a_damaged_page(workspace):
    from tiktok_intel import settings as settings_module

    page = write_page(b"0" * 5000, source="import", run_id="r1", page=0, fetched_at=T0, compress=True, shared_body=True)
    settings_module.configure(settings_module.get_settings(), max_inflated_bytes=1000)
    assert "max_inflated_bytes" in page.verify().meta["detail"] and "cannot be read" in page.verify().problem
