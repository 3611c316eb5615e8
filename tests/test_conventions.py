"""The facts defined once in tiktok_intel.conventions: the SQL forms agree with the Python ones."""

from __future__ import annotations

import duckdb
import pyarrow as pa
import pytest

from tiktok_intel import conventions
from tiktok_intel.conventions import hashtag, hashtag_sql

TRICKY = [
    ("#Å", "å"),
    ("#A\u030a", "å"),
    ("a\u030a", "å"),  # composed and decomposed å are one hashtag
    ("  #Valet2026 ", "valet2026"),
    ("\u3000#Klimat\u3000", "klimat"),
    ("\t#x\x1c", "x"),
    ("\xa0#ÅÄÖ\u2009", "åäö"),
    ("SVTNyheter", "svtnyheter"),
    ("ÖREBRO", "örebro"),
    ("##x", "x"),
    ("# x", "x"),
    ("İSTANBUL", "istanbul"),
    ("I\u0307STANBUL", "istanbul"),
    ("ıspanak", "ıspanak"),  # Turkish: one character for one
    ("ΟΔΟΣ", "οδοσ"),  # no final-sigma rule: DuckDB's lower
    ("Ｔｉｋ", "ｔｉｋ"),
    ("ẞ", "ß"),
    ("ǅ", "ǆ"),
    ("T\u0308", "ẗ"),  # full-width stays full-width (NFC, not NFKC)
    ("हिंदी", "हिंदी"),
    ("#", None),
    ("", None),
    ("  ", None),
    (None, None),
]


def _sql(values: list) -> list:
    con = duckdb.connect()
    names = pa.table({"s": pa.array(values, pa.string())})  # noqa: F841 - read by the query (replacement scan)
    return [r[0] for r in con.execute(f"SELECT {hashtag_sql('s')} FROM names").fetchall()]


@pytest.mark.parametrize("name, expected", TRICKY)
def test_hashtag_tricky_names(name, expected):
    assert hashtag(name) == expected


def test_hashtag_sql_agrees_on_tricky_names():
    names = [n for n, _ in TRICKY]
    assert _sql(names) == [hashtag(n) for n in names]


def test_hashtag_sql_agrees_on_every_code_point():
    """Every character alone, after '#' and spaces, and the cased ones with combining marks."""
    chars = [chr(c) for c in range(1, 0x110000) if not 0xD800 <= c < 0xE000]
    marks = [chr(c) for c in range(0x300, 0x370, 5)]
    samples = chars + [f" #{c} " for c in chars[:0x3000]] + [c + m for c in chars if c.lower() != c or c.upper() != c for m in marks]
    found = _sql(samples)
    differ = [(ascii(s), ascii(f), ascii(hashtag(s))) for s, f in zip(samples, found) if f != hashtag(s)]
    assert not differ, differ[:20]


def test_hashtag_is_idempotent():
    chars = [chr(c) for c in range(1, 0x110000) if not 0xD800 <= c < 0xE000]
    once = [hashtag(c + "\u0308") for c in chars]
    assert [hashtag(x) for x in once if x] == [x for x in once if x]


def test_whitespace_is_what_python_strips():
    assert set(conventions.WHITESPACE) == {chr(c) for c in range(0x110000) if chr(c).isspace()}


def test_link_sql_agrees():
    con = duckdb.connect()
    row = con.execute(
        f"SELECT {conventions.post_link_sql('?', '?')}, {conventions.post_link_sql('NULL', '?')}, "
        f"{conventions.author_link_sql('?')}, {conventions.author_link_sql('NULL')}, {conventions.hashtag_link_sql('?')}",
        ["anna", "123", "456", "bo", "bo", "klimat"],
    ).fetchone()
    assert row == (
        conventions.post_link("anna", "123"),
        conventions.post_link(None, "456"),
        "https://www.tiktok.com/@bo",
        None,
        conventions.hashtag_link("klimat"),
    )
    assert conventions.post_link("anna", "123") == "https://www.tiktok.com/@anna/video/123"


def test_post_columns_fall_back():
    con = duckdb.connect()
    con.execute(
        "CREATE TABLE posts (post_id VARCHAR, author_id VARCHAR, author_unique_id VARCHAR, url VARCHAR, created_at TIMESTAMP, "
        "first_seen_at TIMESTAMP)"
    )
    con.execute("CREATE TABLE authors (author_id VARCHAR, unique_id VARCHAR)")
    con.execute(
        "INSERT INTO posts VALUES ('1', 'a1', 'old', NULL, NULL, '2026-11-01'), ('2', NULL, 'bo', 'https://x/2', '2026-10-01', "
        "'2026-11-01')"
    )
    con.execute("INSERT INTO authors VALUES ('a1', 'new')")
    rows = con.execute(
        f"SELECT {conventions.post_url_sql()}, {conventions.published_sql()}::VARCHAR, {conventions.author_sql()} "
        "FROM posts p LEFT JOIN authors a ON a.author_id = p.author_id ORDER BY p.post_id"
    ).fetchall()
    assert rows == [("https://www.tiktok.com/@old/video/1", "2026-11-01 00:00:00", "new"), ("https://x/2", "2026-10-01 00:00:00", "bo")]
