"""Bad inputs through the CLI and the dashboards: invalid hashtag names, SQL metacharacters, huge
numbers, non-UTF-8 and binary files, empty and huge uploads. Each is refused with one clear
message (CLI: one ``tiktok-intel: ...`` line on stderr and exit 1, or argparse's usage error and
exit 2 for a value that cannot be typed; dashboards: a visible message in the panel), or handled:
the table is intact and the result is what a literal search gives.

Not repeated here (covered elsewhere): latin1.json, not_tiktok.csv and a missing path through
``import`` (test_cli_store), the bad fixtures through ingest (test_ingest), hostile text in the
search library (test_search_text).
"""

from __future__ import annotations

import codecs
import datetime as dt
import gzip
import json
import os
import re
import subprocess
import sys
import warnings
from pathlib import Path

import ipywidgets as w
import pytest
from conftest import OWN_FIXTURES
from test_dashboard_panels import find, texts
from test_search_images import add_image
from test_search_text import add_posts

from tiktok_intel import dashboards as ti
from tiktok_intel import settings as settings_module
from tiktok_intel import tracking
from tiktok_intel.cli import main
from tiktok_intel.dashboards import launcher
from tiktok_intel.search import hash_media, refresh_index
from tiktok_intel.search.samples import make_cover, near_duplicate
from tiktok_intel.store import open_db

# Descriptions holding the metacharacters users type. Words a search for them must find, literally.
POSTS = [
    {"post_id": "4001", "author": "butiken", "description": "Rea: 50% på allt, bara i dag", "hashtags": ["rea"], "views": 900},
    {"post_id": "4002", "author": "nyheter", "description": "Intervju med O'Brien om valet", "views": 12_000},
    {"post_id": "4003", "author": "anna", "description": 'Hon sa "hej" och gick hem', "views": 40},
    {"post_id": "4004", "author": "support", "description": "Sökvägen C:\\temp\\bilder fungerar inte", "views": 7},
    {"post_id": "4005", "author": "kodare", "description": "Skriv snake_case, inte camelCase", "views": 300},
    {"post_id": "4006", "author": "skolan", "description": "Vote OR not: 1 röst räcker", "views": 55},
    {"post_id": "4007", "author": "elev", "description": "Matte: 1=1 är alltid sant", "views": 60},
    {"post_id": "4008", "author": "larare", "description": "Skämtet '; DROP TABLE posts; -- är gammalt", "views": 2},
    {"post_id": "4009", "author": "mia", "description": "Kanelbullar 100 % smör", "views": 5_000},
]
# What users type: SQL and query-language metacharacters, alone (no word to search for) or inside words.
METACHARACTER_QUERIES = [
    "' OR 1=1 --",
    "50%",
    "O'Brien",
    '"hej"',
    "C:\\temp\\bilder",
    "snake_case",
    "'; DROP TABLE posts; --",
    "100 %",
    "%",
    "_",
    '"',
    "\\",
    "%_%",
    "' --",
]


def literal_hits(query: str) -> set[str]:
    """The posts a literal search finds: those holding every word of the query (letters and digits;
    punctuation is not a word) in their text, hashtags or author names. Independent of the index."""
    words = re.findall(r"[^\W_]+", query.lower())
    if not words:
        return set()
    found = set()
    for p in POSTS:
        author = p["author"]
        tokens = set(re.findall(r"[^\W_]+", " ".join([p["description"], *p.get("hashtags", ()), author, author.title()]).lower()))
        if all(word in tokens for word in words):
            found.add(p["post_id"])
    return found


def run(capsys, *argv):
    """``tiktok-intel ARGV`` in this process: (exit code, stdout, stderr); argparse's exit is a code too."""
    try:
        code = main(list(argv))
    except SystemExit as exc:
        code = exc.code
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_line_error(code, out, err, *needles):
    """The CLI's clear message: exit 1, nothing on stdout, one ``tiktok-intel: ...`` line, no traceback."""
    assert code == 1, (code, out, err)
    assert out == "" and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1 and err.startswith("tiktok-intel: "), err
    for needle in needles:
        assert needle in err, (needle, err)


def assert_usage_error(code, err, option, needle):
    """argparse's refusal of a value it cannot type: exit 2, the usage, then one line naming the option."""
    assert code == 2 and "Traceback" not in err, (code, err)
    last = err.strip().splitlines()[-1]
    assert re.match(r"tiktok-intel [\w -]+: error: argument " + re.escape(option), last), last
    assert needle in last, (needle, last)


@pytest.fixture(autouse=True)
def clean_env(tmp_path, monkeypatch):
    """No TIKTOK_INTEL_* from the caller's shell and no .env: the CLI reads its settings afresh."""
    for name in list(os.environ):
        if name.startswith(settings_module.PREFIX):
            monkeypatch.delenv(name)
    monkeypatch.setenv("TIKTOK_INTEL_PROGRESS", "0")
    monkeypatch.chdir(tmp_path)
    yield
    settings_module.configure(None)


@pytest.fixture
def db(tmp_path):
    """A database path in a fresh workspace (created by the first command)."""
    return str(tmp_path / "ws" / "t.duckdb")


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """A workspace with POSTS, three hashed covers (4001 and its re-upload 4002, and 4005) and the text index."""
    workspace = tmp_path_factory.mktemp("bad-inputs") / "data"
    base = settings_module.load_settings(environ={}, dotenv=None)
    settings = settings_module.configure(base, workspace=workspace)
    con = open_db(settings.db_target)
    try:
        add_posts(con, POSTS)
        original = make_cover(3, "Rea 50% #rea")
        add_image(con, settings, "4001", original)
        add_image(con, settings, "4002", near_duplicate(original, "jpeg"))
        add_image(con, settings, "4005", make_cover(77))
        assert hash_media(con, workers=1) == (3, 0)
        refresh_index(con)
    finally:
        con.close()
        settings_module.configure(None)
    return Path(settings.db_target)


@pytest.fixture
def corpus_ws(corpus):
    """Settings pointing at the corpus workspace, for the panels (in English, which the checks read)."""
    base = settings_module.load_settings(environ={}, dotenv=None)
    yield settings_module.configure(base, workspace=corpus.parent, ui_language="en")
    settings_module.configure(None)


def count(db_path, sql):
    with open_db(db_path, read_only=True) as con:
        return con.execute(sql).fetchone()[0]


# ------------------------------------------------------------------------------ CLI: hashtag names


@pytest.mark.parametrize(
    "name, needles",
    [
        ("", ["'' is not a hashtag", "give a name such as valet2026"]),
        ("#", ["'#' is not a hashtag"]),
        ("a b", ["contains ' '", "one hashtag per argument"]),
        ("x" * 200, ["200 characters long", "at most 100"]),
        ("tag;DROP TABLE posts", ["contains ';'", "use only letters, digits and underscore"]),
        ("val-2026", ["contains '-'"]),
        ("🔥fire", ["contains '🔥'"]),
        ("fyp\u200b", ["contains '\\u200b'"]),  # an invisible zero-width space, shown escaped
        ("1\ufe0f\u20e3", ["use only letters"]),  # a keycap emoji: a digit and two marks that are not letters' marks
        ("\u0301abc", ["use only letters"]),  # a combining accent with no letter before it
    ],
)
def test_track_add_refuses_what_cannot_be_a_hashtag(capsys, db, name, needles):
    code, out, err = run(capsys, "--db", db, "track", "add", "valet2026", name)
    assert_one_line_error(code, out, err, *needles)
    assert count(db, "SELECT count(*) FROM tracked_hashtags") == 0  # every name is checked before any is added
    assert count(db, "SELECT count(*) FROM posts") == 0  # the table is still there


def test_track_add_takes_letters_of_every_script_with_their_marks(capsys, db):
    names = ["café", "#Café", "日本", "हिंदी", "தமிழ்", "สวัสดี", "#Ελλάδα", "مُحَمَّد", "val_2026", "x" * 100, "cafe\u0301"]
    code, out, err = run(capsys, "--db", db, "track", "add", *names)
    assert code == 0 and err == "", err
    expected = ["café", "日本", "हिंदी", "தமிழ்", "สวัสดี", "ελλάδα", "مُحَمَّد", "val_2026", "x" * 100]  # café thrice: one hashtag
    assert out.strip() == f"tracking {', '.join(expected)}"
    with open_db(db, read_only=True) as con:
        assert sorted(r[0] for r in con.execute("SELECT name FROM tracked_hashtags").fetchall()) == sorted(expected)
    code, out, _ = run(capsys, "--db", db, "track", "list")
    assert code == 0 and all(name in out for name in expected)


# ------------------------------------------------------------------------------ CLI: SQL metacharacters


@pytest.mark.parametrize("query", METACHARACTER_QUERIES)
def test_search_with_metacharacters_is_a_literal_search(capsys, corpus, query):
    code, out, err = run(capsys, "--db", str(corpus), "search", query, "--format", "json", "--limit", "50")
    expected = literal_hits(query)
    if re.search(r"[^\W_]", query):
        assert code == 0 and "Traceback" not in err, err
        assert {h["post_id"] for h in json.loads(out)} == expected
        assert expected and len(expected) < len(POSTS)  # something, never "everything" like OR 1=1 or an unescaped %
    else:  # nothing but punctuation: no words to look for, said in one line
        assert_one_line_error(code, out, err, "has no words in it", "search for words")
    assert count(corpus, "SELECT count(*) FROM posts") == len(POSTS)


def test_filters_and_reports_take_metacharacters_as_names(capsys, corpus):
    for argv in (
        ["search", "--hashtag", "%", "--format", "json"],
        ["search", "--author", "' OR 1=1 --", "--format", "json"],
        ["search", "rea", "--hashtag", "re_", "--format", "json"],
    ):
        code, out, err = run(capsys, "--db", str(corpus), *argv)
        assert code == 0 and json.loads(out) == [], (argv, err)  # a wildcard would have matched #rea or every author
    code, out, err = run(capsys, "--db", str(corpus), "report", "top-posts", "--hashtag", "%", "--format", "json")
    assert code == 0 and json.loads(out or "[]") == [], err
    code, out, _ = run(capsys, "--db", str(corpus), "report", "top-posts", "--hashtag", "rea", "--format", "json")
    assert code == 0 and [r["post_id"] for r in json.loads(out)] == ["4001"]
    code, out, err = run(capsys, "--db", str(corpus), "rules", "--related", "x'; DROP TABLE posts; --")
    assert code == 0 and "no stored rule involves" in out + err
    assert count(corpus, "SELECT count(*) FROM posts") == len(POSTS)


# ------------------------------------------------------------------------------ CLI: huge numbers


@pytest.mark.parametrize(
    "argv, option, needle",
    [
        (["trends", "--limit", "99999999999999999999"], "--limit", "must be at most"),
        (["trends", "--limit", "-1"], "--limit", "must be at least 0"),
        (["trends", "--window", "99999d"], "--window", "invalid choice"),
        (["report", "top-posts", "--limit", "99999999999999999999"], "--limit", "must be at most"),
        (["report", "feed", "--limit", "1e400"], "--limit", "is not a whole number"),
        (["rules", "--limit", "99999999999999999999"], "--limit", "must be at most"),
        (["rules", "--window-days", "99999999"], "--window-days", "must be at most 36500"),
        (["rules", "--max-len", "99999999999999999999"], "--max-len", "must be at most 100"),
        (["rules", "--max-len", "2147483647"], "--max-len", "must be at most 100"),  # mlxtend looped that many times per path
        (["collect", "--max-posts", "-1"], "--max-posts", "must be at least 1"),
        (["collect", "--max-posts", "0"], "--max-posts", "must be at least 1"),
        (["collect", "--max-posts", "3000000000"], "--max-posts", "must be at most 2147483647"),
        (["collect", "--max-posts", "1e400"], "--max-posts", "is not a whole number"),
        (["offline-tiktok", "--port", "99999999"], "--port", "must be at most 65535"),
        (["schedules", "--count", "99999999999"], "--count", "must be at most 100"),  # it used to compute them all (750 MB, no end)
        (["schedules", "--count", "-1"], "--count", "must be at least 1"),
    ],
)
def test_numbers_that_cannot_be_used_are_refused_where_they_are_typed(capsys, db, argv, option, needle):
    code, _, err = run(capsys, "--db", db, *argv)
    assert_usage_error(code, err, option, needle)


@pytest.mark.parametrize("max_posts", [3_000_000_000, float("inf"), 0, 2.5, True])
def test_collect_refuses_a_number_of_posts_it_cannot_store(db, max_posts):
    from tiktok_intel.collect import CollectError, collect

    with pytest.raises(CollectError, match=r"--max-posts must be a whole number from 1 to 2,147,483,647"):
        collect(None, ["klimat"], max_posts=max_posts)


@pytest.mark.parametrize(
    "value, needle",
    [("1e400", "does not fit content's parameters"), ("3000000000", "--max-posts must be a whole number from 1 to 2,147,483,647")],
)
def test_run_with_a_parameter_the_flow_cannot_take_is_one_line_and_no_retries(db, value, needle):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "TIKTOK_INTEL_"))}
    env["TIKTOK_INTEL_PROGRESS"] = "0"
    done = subprocess.run(
        [sys.executable, "-m", "tiktok_intel", "--db", db, "run", "content", "--param", f"max_posts={value}"],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    ours = [line for line in done.stderr.splitlines() if line.startswith("tiktok-intel:")]
    assert done.returncode == 1 and len(ours) == 1 and needle in ours[0], done.stderr[-2000:]
    assert "Traceback" not in done.stderr
    assert "Retry" not in done.stderr  # a mistake is not retried (60 s, then 300 s later) like an unreachable TikTok


@pytest.mark.parametrize(
    "argv, needles",
    [
        (["rules", "--min-support", "1e400"], ["minimum support inf", "use a fraction such as 0.01"]),
        (["rules", "--min-support", "nan"], ["minimum support nan"]),
        (["rules", "--min-confidence", "-5"], ["minimum confidence -5.0", "use a fraction such as 0.5"]),
        (["search", "--image", "4001", "--max-distance", "99999999999999999999"], ["--max-distance must be between 0 and 32"]),
        (["duplicates", "--max-distance", "99999999999999999999"], ["--max-distance must be between 0 and 32"]),
        (["search", "rea", "--limit", "-1"], ["--limit must be at least 1"]),
        (["search", "rea", "--min-views", "-5"], ["--min-views must be 0 or more"]),
        (["dashboards", "--port", "99999999"], ["port 99999999 is out of range", "use 1-65535"]),
    ],
)
def test_numbers_out_of_range_are_one_line_errors(capsys, corpus, argv, needles):
    code, out, err = run(capsys, "--db", str(corpus), *argv)
    assert_one_line_error(code, out, err, *needles)


def test_huge_limits_and_minimums_give_the_plain_answer(capsys, corpus, tmp_path):
    huge = "99999999999999999999"  # beyond 64 bits
    code, out, err = run(capsys, "--db", str(corpus), "search", "rea", "--limit", huge, "--format", "json")
    assert code == 0 and [h["post_id"] for h in json.loads(out)] == ["4001"], err
    code, out, err = run(capsys, "--db", str(corpus), "search", "--hashtag", "rea", "--min-views", huge, "--format", "json")
    assert code == 0 and json.loads(out) == [], err  # no post has that many views
    code, out, err = run(capsys, "--db", str(corpus), "search", "rea", "--min-views", "900", "--format", "json")
    assert code == 0 and [h["post_id"] for h in json.loads(out)] == ["4001"], err  # the minimum is inclusive
    query = tmp_path / "q.png"
    make_cover(3, "Rea 50% #rea").save(query)
    code, out, err = run(capsys, "--db", str(corpus), "search", "--image", str(query), "--limit", huge, "--format", "json")
    assert code == 0 and {h["post_id"] for h in json.loads(out)} == {"4001", "4002"}, err
    limit = str(2**63 - 1)  # the largest limit a command takes: answered, not refused
    for argv in (["trends", "--limit", limit, "--format", "json"], ["report", "top-posts", "--limit", limit, "--format", "json"]):
        code, out, err = run(capsys, "--db", str(corpus), *argv)
        assert code == 0 and "Traceback" not in err, (argv, err)
    code, out, err = run(capsys, "--db", str(corpus), "report", "top-posts", "--limit", limit, "--format", "json")
    assert sorted(r["post_id"] for r in json.loads(out)) == sorted(p["post_id"] for p in POSTS)
    code, _, err = run(capsys, "--db", str(corpus), "rules", "--window-days", "36500", "--max-len", "100")
    assert code == 0 and "rules from 9 posts" in err, err


def test_a_limit_too_big_to_allocate_does_not_kill_the_process(corpus):
    """tantivy reserves room for ``limit`` hits: 2**32 aborted the interpreter (out of memory), so in a subprocess."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(settings_module.PREFIX)} | {"TIKTOK_INTEL_PROGRESS": "0"}
    done = subprocess.run(
        [sys.executable, "-m", "tiktok_intel", "--db", str(corpus), "search", "rea", "--limit", str(2**32), "--format", "json"],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        cwd=corpus.parent,
    )
    assert done.returncode == 0, done.stderr[-500:]
    assert [h["post_id"] for h in json.loads(done.stdout)] == ["4001"]


# ------------------------------------------------------------------------------ CLI: files that are not UTF-8 TikTok data


def _write(path: Path, data: bytes) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return str(path)


GOOD = (OWN_FIXTURES / "web_item_list.json").read_bytes()


@pytest.mark.parametrize(
    "make, needles",
    [
        (
            lambda d: _write(d / "utf16.json", GOOD.decode("utf-8").encode("utf-16")),
            ["utf16.json: UTF-16 text, not UTF-8", "re-save the file as UTF-8"],
        ),
        (
            lambda d: _write(d / "latin1.json.gz", gzip.compress((OWN_FIXTURES / "bad" / "latin1.json").read_bytes())),
            ["latin1.json.gz: not UTF-8 text", "re-save the file as UTF-8"],
        ),
        (lambda d: _write(d / "random.json", bytes(range(256)) * 40), ["random.json: not TikTok data", "accepted shapes"]),
        (lambda d: _write(d / "cover.json", b"\x89PNG\r\n\x1a\n" + bytes(4000)), ["cover.json: not TikTok data"]),
        (
            lambda d: _write(d / "broken.json.gz", gzip.compress(GOOD)[:40]),
            ["broken.json.gz: a damaged gzip file", "copy or download it again"],
        ),
        (lambda d: _write(d / "fake.json.gz", b"\x1f\x8b" + bytes(range(200))), ["fake.json.gz: a damaged gzip file"]),
        (
            lambda d: (d / "empty").mkdir(parents=True) or str(d / "empty"),
            ["nothing to import", "no .json, .ndjson, .jsonl or .html file in", "empty"],
        ),
        (
            lambda d: _write(d / "notes" / "notes.txt", b"my notes") and str(d / "notes"),
            ["nothing to import", "skipped 1 other file(s), e.g. notes.txt"],
        ),
        (lambda d: "/dev/null", ["/dev/null is not a regular file or folder", "save the data to a file"]),
    ],
)
def test_import_refuses_files_that_are_not_utf8_tiktok_data_in_one_line(capsys, db, tmp_path, make, needles):
    path = make(tmp_path / "in")
    code, out, err = run(capsys, "--db", db, "import", path)
    assert_one_line_error(code, out, err, *needles)
    raw = Path(db).parent / "raw"
    assert not raw.exists() or not any(p.is_file() for p in raw.rglob("*"))  # refused before anything was copied


def test_one_bad_file_among_good_ones_imports_nothing(capsys, db, tmp_path):
    good = _write(tmp_path / "in" / "feed.json", GOOD)
    bad = _write(tmp_path / "in" / "windows.json", GOOD.decode("utf-8").encode("utf-16"))
    code, out, err = run(capsys, "--db", db, "import", good, bad)
    assert_one_line_error(code, out, err, "windows.json: UTF-16")
    assert count(db, "SELECT count(*) FROM posts") == 0


def test_utf8_with_a_byte_order_mark_is_imported(capsys, db, tmp_path):
    path = _write(tmp_path / "in" / "notepad.json", codecs.BOM_UTF8 + GOOD)  # what Windows Notepad saves
    code, out, err = run(capsys, "--db", db, "import", path, "--collected-at", "2026-11-01T08:00:00Z")
    assert code == 0, err
    assert out.strip().splitlines()[-1].startswith("2 items read: 2 posts (2 new") and count(db, "SELECT count(*) FROM posts") == 2


# ------------------------------------------------------------------------------ dashboards: the hashtags panel


@pytest.fixture
def hashtags_panel(tmp_path):
    base = settings_module.load_settings(environ={}, dotenv=None)
    settings = settings_module.configure(base, workspace=tmp_path / "dash", ui_language="en")  # the checks read English
    open_db(settings.db_target).close()
    panel = ti.tracked_panel(None)
    box = find(panel, w.Text, description="Hashtag")[0]  # (not the keyword box beside it)
    add = find(panel, w.Button, description="Add")[0]

    def submit(text: str) -> str:
        box.value = text
        add.click()
        return texts(panel)

    submit.db = settings.db_target
    return submit


@pytest.mark.parametrize(
    "text, needle",
    [
        ("", "Type a hashtag first"),
        ("   ,  ", "Type a hashtag first"),
        ("#", "&#x27;#&#x27; is not a hashtag"),
        ("x" * 200, "200 characters long: TikTok hashtags have at most 100"),
        ("tag;DROP TABLE posts", "contains &#x27;;&#x27;: use only letters, digits and underscore"),
        ("valet2026, x'); DROP TABLE tracked_hashtags; --", "use only letters, digits and underscore"),
        ("ok_tag 🔥", "contains &#x27;🔥&#x27;"),
        ("<b>bold</b>", "contains &#x27;&lt;&#x27;"),  # shown escaped, never as markup
    ],
)
def test_hashtags_panel_refuses_bad_names_with_a_message(hashtags_panel, text, needle):
    shown = hashtags_panel(text)
    assert "ti-warning" in shown and needle in shown, shown[-600:]
    assert "<b>bold</b>" not in shown and "Traceback" not in shown
    assert count(hashtags_panel.db, "SELECT count(*) FROM tracked_hashtags") == 0  # nothing half-added
    assert count(hashtags_panel.db, "SELECT count(*) FROM posts") == 0


def test_hashtags_panel_refuses_in_swedish_on_a_swedish_page(tmp_path):
    from tiktok_intel.texts import t

    base = settings_module.load_settings(environ={}, dotenv=None)
    settings = settings_module.configure(base, workspace=tmp_path / "dash", ui_language="sv")
    open_db(settings.db_target).close()
    panel = ti.tracked_panel(None)
    box = find(panel, w.Text, description="Hashtag")[0]
    add = find(panel, w.Button, description=t("add"))[0]
    for text, needle in (("inte ok!", "innehåller &#x27;!&#x27;: använd bara bokstäver"), ("#", "&#x27;#&#x27; är ingen hashtagg")):
        box.value = text
        add.click()
        assert needle in texts(panel), texts(panel)[-600:]
    with pytest.raises(tracking.InvalidHashtagError, match="use only letters, digits and underscore"):
        tracking.normalise("inte ok!")  # the CLI's line stays English


def test_hashtags_panel_takes_unicode_names(hashtags_panel):
    shown = hashtags_panel("#Café, 日本 हिंदी")
    assert "Now tracking #café, #日本, #हिंदी" in shown and ">हिंदी<" in shown
    shown = hashtags_panel("café")
    assert "Already tracked: #café" in shown


# ------------------------------------------------------------------------------ dashboards: the search panel


@pytest.fixture
def search(corpus_ws):
    panel = ti.search_panel(None)
    return panel


def _search(panel, query: str, min_views: int = 0) -> str:
    find(panel, w.Text, description="Search")[0].value = query
    find(panel, w.IntText, description="Min views")[0].value = min_views
    find(panel, w.Button, description="Search")[0].click()
    return texts(panel)


@pytest.mark.parametrize("query", METACHARACTER_QUERIES)
def test_search_panel_text_with_metacharacters(search, corpus, query):
    shown = _search(search, query)
    expected = literal_hits(query)
    assert "Traceback" not in shown and "could not be shown" not in shown
    if re.search(r"[^\W_]", query):
        assert set(re.findall(r'data-post-id="(\d+)"', shown)) == expected, shown[-400:]
        assert f"{len(expected)} result" in shown
    else:
        assert "has no words in it" in shown and "ti-warning" in shown
    assert count(corpus, "SELECT count(*) FROM posts") == len(POSTS)


def test_search_panel_filters_take_metacharacters_as_names(search):
    find(search, w.Text, description="Hashtag")[0].value = "%"
    shown = _search(search, "")
    assert "No posts match for these filters" in shown  # not every post, as an unescaped LIKE '%' would give
    find(search, w.Text, description="Hashtag")[0].value = "#REA"
    assert set(re.findall(r'data-post-id="(\d+)"', _search(search, ""))) == {"4001"}
    find(search, w.Text, description="Hashtag")[0].value = ""
    find(search, w.Text, description="Author")[0].value = "' OR 1=1 --"
    assert "No posts match for these filters" in _search(search, "")


def test_search_panel_with_a_huge_minimum_of_views(search):
    shown = _search(search, "rea", min_views=10**20)
    assert "No posts match" in shown and "could not be shown" not in shown
    assert 'data-post-id="4001"' in _search(search, "rea", min_views=900)


def _upload(panel, name: str, content: bytes) -> str:
    upload = find(panel, w.FileUpload)[0]
    upload.value = (
        {
            "name": name,
            "type": "image/png",
            "size": len(content),
            "last_modified": dt.datetime(2026, 11, 1),
            "content": memoryview(content),
        },
    )
    return texts(panel)


def test_image_upload_states_its_limit_before_anything_is_uploaded(search, corpus_ws):
    assert corpus_ws.dashboard_upload_max_bytes == 10_000_000
    shown = texts(search)
    assert "ti-upload-limit" in shown and "JPEG, PNG or WebP, at most 10 MB" in shown
    assert find(search, w.FileUpload)[0].tooltip == "JPEG, PNG or WebP, at most 10 MB"


@pytest.mark.parametrize(
    "name, content, needles",
    [
        ("notes.txt", b"hej hej, inte en bild", ["The file notes.txt is not an image Pillow can read", "give a JPEG, PNG or WebP file"]),
        ("empty.png", b"", ["The file empty.png is empty", "choose an image"]),
        ("cut.png", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", ["The file cut.png is a damaged image", "give another copy"]),
        ("just-over.jpg", b"\xff\xd8\xff" + bytes(9_999_998), ["The file just-over.jpg is 10,000,001 bytes", "at most 10 MB"]),
        ("huge.jpg", b"\xff\xd8\xff" + bytes(15_000_000), ["The file huge.jpg is 15 MB: upload an image of at most 10 MB"]),
    ],
)
def test_image_upload_that_cannot_be_used_is_a_message_in_the_panel(search, name, content, needles):
    shown = _upload(search, name, content)
    assert "ti-warning" in shown and "could not be shown" not in shown and "Traceback" not in shown, shown[-500:]
    for needle in needles:
        assert needle in shown, (needle, shown[-500:])
    assert "ti-card" not in shown


def test_image_upload_refused_in_the_pages_language(search):
    from tiktok_intel.texts import use

    use("sv")
    try:
        shown = _upload(search, "notes.txt", b"hej hej, inte en bild")
        assert "Filen notes.txt är ingen bild som går att läsa" in shown and "Pillow" not in shown, shown[-500:]
        shown = _upload(search, "cut.png", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
        assert "Filen cut.png är en skadad bild" in shown, shown[-500:]
    finally:
        use(None)


def test_image_upload_of_too_many_pixels_is_a_message(search):
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("1", (10_000, 8_000)).save(buffer, "PNG")  # a few kB that would decode to 80 megapixels
    shown = _upload(search, "bomb.png", buffer.getvalue())
    assert len(buffer.getvalue()) < 100_000 and "The file bomb.png is 10000x8000 pixels, over the 40-megapixel limit" in shown


def test_image_upload_limit_is_a_setting_and_a_real_image_is_searched(corpus_ws, corpus):
    settings_module.configure(corpus_ws, dashboard_upload_max_bytes=50_000)
    panel = ti.search_panel(None)
    assert "at most 50 kB" in texts(panel)
    cover = (corpus.parent / "media" / "covers" / "4001-cover-0.jpg").read_bytes()
    assert len(cover) < 50_000
    shown = _upload(panel, "cover.jpg", cover)
    assert "result" in shown and {"4001", "4002"} <= set(re.findall(r'data-post-id="(\d+)"', shown))
    shown = _upload(panel, "big.jpg", cover + bytes(50_001 - len(cover)))
    assert "The file big.jpg is 50,001 bytes: upload an image of at most 50 kB" in shown and "ti-card" not in shown


def test_the_dashboards_server_carries_uploads_up_to_twice_the_limit():
    """Voilà's websocket (Tornado: 10 MiB per message by default) closes the connection on a bigger
    message, and the upload then vanishes without a word (measured: "Connection lost, reconnecting"
    in the browser). The launcher raises that limit with the setting, and Voilà reads it as a number."""
    from voila.app import Voila

    def parsed(args):
        app = Voila()
        with warnings.catch_warnings():  # as the launcher's own start does (see the next test)
            warnings.filterwarnings("ignore", message="--tornado_settings", category=DeprecationWarning)
            app.parse_command_line(args[args.index(str(launcher.DASHBOARDS_DIR)) :])
        return app.tornado_settings.get("websocket_max_message_size")

    args, _ = launcher.voila_command()
    limit = parsed(args)
    assert isinstance(limit, int) and limit >= 2 * settings_module.get_settings().dashboard_upload_max_bytes + 2**20
    base = settings_module.load_settings(environ={}, dotenv=None)
    settings_module.configure(base, dashboard_upload_max_bytes=50_000_000)
    assert parsed(launcher.voila_command()[0]) == 2 * 50_000_000 + 2**20
    settings_module.configure(base, dashboard_upload_max_bytes=1000)
    assert parsed(launcher.voila_command()[0]) == 10 * 2**20  # never below Tornado's own default


def test_the_dashboards_server_starts_with_that_limit_and_without_a_warning(tmp_path):
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    base = settings_module.load_settings(environ={}, dotenv=None)
    settings_module.configure(base, workspace=tmp_path / "data")
    process, address = launcher.launch(port=port, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    lines = []
    try:
        for line in process.stdout:  # Voilà logs its address once it listens
            lines.append(line.decode(errors="replace"))
            if f":{port}/" in lines[-1] or len(lines) > 50:
                break
    finally:
        process.terminate()
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:  # a loaded machine: do not leave it behind
            process.kill()
            process.wait(timeout=10)
    log = "".join(lines)
    assert "running at" in log and f":{port}/" in log, log
    assert "Warning" not in log and "Traceback" not in log, log
