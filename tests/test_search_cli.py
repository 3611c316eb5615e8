"""`tiktok-intel search`, `search --image`, `duplicates` and `media` from the command line."""

from __future__ import annotations

import json
import re

import pytest
from test_search_images import add_image
from test_search_text import CORPUS, add_posts

from tiktok_intel.cli import main
from tiktok_intel.search.samples import make_cover, near_duplicate
from tiktok_intel.store import open_db


@pytest.fixture
def db(workspace, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no .env from the caller's folder
    con = open_db(workspace.db_target)
    try:
        add_posts(con, CORPUS)
        original = make_cover(1, "Valet 2026 #svtnyheter")
        add_image(con, workspace, "1001", original)
        add_image(con, workspace, "1002", near_duplicate(original, "jpeg"))
        add_image(con, workspace, "1005", make_cover(55))
    finally:
        con.close()
    return workspace.db_target


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_media_then_text_search_as_json(db, capsys):
    code, out, err = run(capsys, "--db", db, "media")
    assert code == 0 and out.startswith("media: 3 images hashed") and len(out.strip().splitlines()) == 1
    code, out, _ = run(capsys, "--db", db, "search", "valet", "--format", "json")
    hits = json.loads(out)
    # 1002's caption lacks the word, its cover shows it (OCR): found, ranked below the captions
    assert code == 0 and [h["post_id"] for h in hits] == ["1004", "1001", "1002"]
    assert {"post_id", "url", "score", "description"} <= set(hits[0])
    assert hits[0]["score"] >= hits[1]["score"] >= hits[2]["score"]
    assert hits[1]["url"] == "https://www.tiktok.com/@svtnyheter/video/1001"


def test_filters_on_the_command_line(db, capsys):
    code, out, _ = run(
        capsys,
        "--db",
        db,
        "search",
        "valet",
        "--min-views",
        "1000",
        "--since",
        "2026-09-01",
        "--until",
        "2026-09-30",
        "--author",
        "@svtnyheter",
        "--hashtag",
        "#val2026",
        "--format",
        "json",
        "--limit",
        "5",
    )
    assert code == 0 and [h["post_id"] for h in json.loads(out)] == ["1001"]


def test_table_output(db, capsys):
    code, out, _ = run(capsys, "--db", db, "search", "göteborg")
    lines = out.splitlines()
    assert code == 0 and lines[0].split()[:3] == ["score", "post", "author"]
    assert "1002" in lines[2] and "https://www.tiktok.com/@anna_s/video/1002" in lines[2]


def test_hostile_text_is_harmless(db, capsys):
    code, out, _ = run(capsys, "--db", db, "search", "'; DROP TABLE posts; --", "--format", "json")
    assert code == 0 and json.loads(out) == []
    code, out, err = run(capsys, "--db", db, "search", "%_%")
    assert code == 1 and err.startswith("tiktok-intel: the query") and len(err.splitlines()) == 1
    code, out, _ = run(capsys, "--db", db, "search", "valet", "--format", "json")
    assert len(json.loads(out)) == 2  # the posts are all still there


def test_image_search_and_duplicates(db, capsys, tmp_path):
    run(capsys, "--db", db, "media")
    query = tmp_path / "q.png"
    make_cover(1, "Valet 2026 #svtnyheter").resize((270, 480)).save(query)
    code, out, _ = run(capsys, "--db", db, "search", "--image", str(query), "--format", "json")
    hits = json.loads(out)
    assert code == 0 and {h["post_id"] for h in hits} == {"1001", "1002"}
    assert hits[0]["distance"] <= hits[-1]["distance"] and "url" in hits[0]
    code, out, _ = run(capsys, "--db", db, "search", "--image", "1001")
    assert code == 0 and "1002" in out and "1005" not in out
    code, out, _ = run(capsys, "--db", db, "duplicates")
    assert code == 0 and out.splitlines()[0] == "group 1: 2 posts from 2 accounts"
    assert "@svtnyheter" in out and "@anna_s" in out
    assert re.search(r"^  \d{4}-\d{2}-\d{2} \d{2}:\d{2}  @", out.splitlines()[1])  # each post with its publication time


@pytest.mark.parametrize(
    "make_query, needle",
    [
        (lambda p: str(p / "missing.jpg"), "no such file"),
        (lambda p: (p / "x.txt").write_text("hej") and str(p / "x.txt"), "not an image"),
        (lambda p: "https://example.com/cover.jpg", "not on an allowed media host"),
        (lambda p: "ftp://p16.tiktokcdn.com/a.jpg", "not an http(s) URL"),
    ],
)
def test_bad_image_queries_are_one_line_errors(db, capsys, tmp_path, make_query, needle):
    code, out, err = run(capsys, "--db", db, "search", "--image", make_query(tmp_path))
    assert code == 1 and needle in err and len(err.strip().splitlines()) == 1 and err.startswith("tiktok-intel: ")


def test_huge_image_is_refused(db, capsys, tmp_path):
    from PIL import Image

    huge = tmp_path / "huge.png"
    Image.new("1", (10_000, 8_000)).save(huge)
    code, _, err = run(capsys, "--db", db, "search", "--image", str(huge))
    assert code == 1 and "10000x8000 pixels" in err and "megapixel limit" in err


def test_usage_errors(db, capsys):
    code, _, err = run(capsys, "--db", db, "search")
    assert code == 1 and "nothing to search for" in err
    code, _, err = run(capsys, "--db", db, "search", "valet", "--since", "förra veckan")
    assert code == 1 and "YYYY-MM-DD" in err
    code, _, err = run(capsys, "--db", db, "search", "valet", "--image", "x.jpg")
    assert code == 1 and "either words or --image" in err
