"""Web feed pages straight into staging tables, with DuckDB's own JSON reader.

The reference for what a web ``itemStruct`` means is :func:`tiktok_intel.parsing.web.item_struct`;
this module produces the very same records for the commonest raw page — a web API feed page
(``{itemList: [...]}``) — in SQL, because decoding and walking JSON in Python costs about 70 µs an
item and DuckDB does it in a few, on every core. ``tests/test_fastpath.py`` checks that both give
identical stores.

Each page is parsed once (``json_transform``), into a list of item structs: text fields, and the
JSON text of the few fields whose JSON type matters (booleans; the hashtag lists, parsed then).
A page is read in that one pass, not item by item, which costs a third less time and half the
memory. A page with any item that is not plainly well-formed (a count
that is not a whole number, an id out of range, an author given as a string, a boolean where
text belongs, ...) is left to the Python parser, which rejects what must be rejected with its
reason: this path never rejects anything, and sending a page to Python is always safe.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import TYPE_CHECKING

import duckdb

from ..conventions import HASHTAG_MAX_LENGTH, hashtag_sql, post_link_sql
from ..parsing.fields import AUTHOR_COUNTS, COUNT_FALLBACKS, POST_COUNTS, plausible_times
from ..schema import INGEST_TABLES
from ..settings import get_settings

if TYPE_CHECKING:
    from ..raw import RawPage

#: Pages read by one statement (see :func:`load`).
READ_PAGES = 128

_V = "VARCHAR"
_J = "JSON"  # the value's own JSON text, where its JSON type matters: 'true' is a boolean, '"true"' a string
_AUTHOR_FIELDS = ("id", "uniqueId", "nickname", "signature", "verified", "secUid", "avatarThumb", "avatarMedium")


def _stats(counts: tuple[tuple[str, str], ...], *, rounded: bool = False) -> dict[str, str]:
    """The text fields of a stats object: its counts, and in the rounded one their older names too."""
    keys = [k for _, k in counts] + ([COUNT_FALLBACKS[k] for _, k in counts if k in COUNT_FALLBACKS] if rounded else [])
    return {k: _V for k in keys}


ITEM_STRUCTURE = {
    "id": _V,
    "desc": _V,
    "createTime": _V,
    "locationCreated": _V,
    "isAd": _J,
    "author": {k: _J if k == "verified" else _V for k in _AUTHOR_FIELDS},
    "stats": _stats(POST_COUNTS, rounded=True),
    "statsV2": _stats(POST_COUNTS),
    "authorStats": _stats(AUTHOR_COUNTS, rounded=True),
    "authorStatsV2": _stats(AUTHOR_COUNTS),
    "music": {k: _J if k == "original" else _V for k in ("id", "title", "authorName", "original", "duration", "playUrl")},
    "video": {k: _V for k in ("duration", "cover", "originCover", "playAddr", "downloadAddr")},
    "challenges": _J,
    "textExtra": _J,
}
#: A whole feed page: DuckDB parses each page once, into a list of item structs.
PAGE_STRUCTURE = {"itemList": [ITEM_STRUCTURE]}
CHALLENGES = [{"id": _V, "title": _V, "desc": _V}]
TEXT_EXTRA = [{"hashtagName": _V, "hashtagId": _V}]

_MAX = "9223372036854775807"
_ODD_TEXT = r"^[\[{]|^(true|false)$"  # what json_transform makes of objects, lists and booleans
# where Python's strip() / lower() and DuckDB's trim() / lower() differ: hashtag names holding these go to Python
_ODD_NAME = _ODD_TEXT + r"|[\t\n\r\x0b\x0c\x{85}\x{a0}\x{1680}\x{2000}-\x{200a}\x{2028}\x{2029}\x{202f}\x{205f}\x{3000}İ]"
# and what :func:`tiktok_intel.conventions.hashtag_problem` refuses (controls, format characters such as RTL overrides and
# zero-width ones, separators but the plain space, which is stripped; unassigned code points too, as Unicode versions differ)
_ODD_NAME += r"|\pC|[^\PZ ]|[^ ] +[^ ]"
#: Text a reader may store (bytes, which are at least its characters), less what links and keys add to it
#: (``posts.url`` holds the author's name): longer text goes to Python, which checks ``max_text_chars``.
_TEXT_MARGIN = 100


def _digits(expr: str) -> str:
    return f"coalesce(regexp_full_match({expr}, '[0-9]{{1,19}}') AND TRY_CAST({expr} AS HUGEINT) <= {_MAX}, FALSE)"


def _id_ok(expr: str) -> str:
    """A plausible TikTok id, as :func:`tiktok_intel.parsing.fields.normal_id` takes it (never NULL)."""
    return f"coalesce(regexp_full_match({expr}, '[0-9]{{1,19}}') AND TRY_CAST({expr} AS HUGEINT) BETWEEN 1 AND {_MAX}, FALSE)"


def _id(expr: str) -> str:
    """:func:`tiktok_intel.parsing.fields.normal_id` of an id :func:`_id_ok` took (``0001`` -> ``1``)."""
    return f"CAST(TRY_CAST({expr} AS HUGEINT) AS VARCHAR)"


def _seconds(expr: str) -> str:
    """Seconds since 1970 of a digit string, milliseconds when that large (:func:`tiktok_intel.clock.from_epoch`)."""
    return f"(TRY_CAST({expr} AS DOUBLE) / CASE WHEN TRY_CAST({expr} AS DOUBLE) > 1e11 THEN 1000 ELSE 1 END)"


def _time_ok(expr: str) -> str:
    """A creation time Python takes: absent, ``0`` (unknown), or digits within the plausible range."""
    return (
        f"(nullif({expr}, '') IS NULL OR {expr} = '0' OR ({_digits(expr)} AND coalesce({_seconds(expr)} BETWEEN $since AND $until, FALSE)))"
    )


def _count(v2: str, v1: str, key: str) -> str:
    """Exact ``statsV2`` text first, then rounded ``stats`` (then its older name, ``COUNT_FALLBACKS``), as
    :func:`tiktok_intel.parsing.web.exact_counts` reads them."""
    parts = [f"nullif(t.{v2}.{key}, '')", f"nullif(t.{v1}.{key}, '')"] if v2 else [f"nullif(t.{v1}.{key}, '')"]
    if key in COUNT_FALLBACKS:
        parts.append(f"nullif(t.{v1}.{COUNT_FALLBACKS[key]}, '')")
    return f"coalesce({', '.join(parts)})"


def _text(expr: str) -> str:
    return f"replace({expr}, chr(0), '')"


def _plain(expr: str, pattern: str | None = None) -> str:
    """A text field Python reads the same (not an object, list or boolean; with ``pattern``, not matching it)."""
    short = f"coalesce(strlen({expr}) <= $maxlen, TRUE)"
    if pattern is None:  # the common case, without a regular expression
        return f"(NOT coalesce(left({expr}, 1) IN ('[', '{{') OR {expr} IN ('true', 'false'), FALSE) AND {short})"
    return f"(NOT coalesce(regexp_matches({expr}, '{pattern}'), FALSE) AND {short})"


def _name(expr: str) -> str:
    """A hashtag name Python reads as SQL does (:data:`_ODD_NAME`), not too long to be one."""
    return f"({_plain(expr, _ODD_NAME)} AND coalesce(strlen({expr}) <= {HASHTAG_MAX_LENGTH}, TRUE))"


def _bool(expr: str) -> str:
    """Python's ``value if isinstance(value, bool) else None``, from the value's JSON text."""
    return f"CASE {expr} WHEN 'true' THEN TRUE WHEN 'false' THEN FALSE END"


def _listed_or_ignored(expr: str) -> str:
    """A list field Python reads as SQL does: absent, null, a list, or what Python's ``value or []``
    makes nothing of (a string, an object, false). A number or ``true`` (Python cannot iterate
    it: the item is rejected) goes to Python."""
    return f"coalesce(left({expr}, 1) IN ('[', '\"', '{{', 'n', 'f'), TRUE)"


def _duration(expr: str) -> str:
    """Python's ``_safe_duration``: a whole, non-negative number capped at 2^31-1, else NULL."""
    return f"CASE WHEN {_digits(expr)} THEN least(TRY_CAST({expr} AS HUGEINT), 2147483647)::INTEGER END"


def _safe_ident(expr: str) -> str:
    return f"CASE WHEN {_id_ok(expr)} THEN {_id(expr)} END"


def _normalised_tag(expr: str) -> str:
    """Python's ``hashtag_name``: :func:`tiktok_intel.conventions.hashtag_sql`."""
    return hashtag_sql(_text(expr))


_COUNT_EXPRS = {col: _count("statsV2", "stats", key) for col, key in POST_COUNTS}
_AUTHOR_COUNT_EXPRS = {col: _count("authorStatsV2", "authorStats", key) for col, key in AUTHOR_COUNTS}
READ = f"""
WITH pages AS (
    SELECT filename, json_transform(content, '{json.dumps(PAGE_STRUCTURE)}').itemList AS items FROM read_text($files) WHERE json_valid(content)
),
listed AS (
    SELECT filename, unnest(items) AS t, generate_subscripts(items, 1) - 1 AS idx FROM pages
),
parsed AS (
    SELECT filename, idx, t, json_transform(t.challenges, '{json.dumps(CHALLENGES)}') AS challenges,
           json_transform(t.textExtra, '{json.dumps(TEXT_EXTRA)}') AS textExtra FROM listed
)
SELECT l.filename, l.idx, p.fetched_at AS seen_at, p.hashtag AS feed, p.run_id, p.rank_offset + l.idx AS rank, p.source,
       -- TRUE when SQL reads this item exactly as the Python parser does. An item that is not an
       -- object reads as a struct of NULLs, so it fails the id check; an author that is not an
       -- object (a SIGI_STATE unique id, which Python resolves) reads as an author of NULLs
       -- Never NULL (bool_and skips NULLs): each test is coalesced to FALSE, so a value SQL cannot
       -- judge sends the page to Python.
       coalesce(({_id_ok("t.id")}
        AND (t.author IS NULL OR coalesce({", ".join(f"t.author.{k}::VARCHAR" for k in _AUTHOR_FIELDS)}) IS NOT NULL)
        AND (nullif(t.author.id, '') IS NULL OR {_id_ok("t.author.id")})
        AND {" AND ".join(_plain(f"t.author.{k}") for k in ("uniqueId", "nickname", "signature", "secUid", "avatarThumb", "avatarMedium"))}
        AND {_plain("t.desc")} AND {_plain("t.locationCreated")}
        AND {_time_ok("t.createTime")}
        AND {" AND ".join(f"({e} IS NULL OR {_digits(e)})" for e in [*_COUNT_EXPRS.values(), *_AUTHOR_COUNT_EXPRS.values()])}
        AND (nullif(t.music.id, '') IS NULL OR {_id_ok("t.music.id")})
        AND {" AND ".join(_plain(f"t.music.{k}") for k in ("title", "authorName", "playUrl"))}
        AND {" AND ".join(_plain(f"t.video.{k}") for k in ("cover", "originCover", "playAddr", "downloadAddr"))}
        AND {_listed_or_ignored("t.challenges")} AND {_listed_or_ignored("t.textExtra")}
        AND coalesce(list_bool_and(list_transform(l.challenges, c -> coalesce({_name("c.title")} AND {_plain("c.desc")}, FALSE))), TRUE)
        AND coalesce(list_bool_and(list_transform(l.textExtra, e -> coalesce({_name("e.hashtagName")}, FALSE))), TRUE)
       ), FALSE) AS exact,
       {_id("t.id")} AS post_id,
       {_id("nullif(t.author.id, '')")} AS author_id,
       nullif({_text("t.author.uniqueId")}, '') AS unique_id,
       {_text("t.author.nickname")} AS nickname, {_text("t.author.signature")} AS signature,
       {_bool("t.author.verified")} AS verified,
       {_text("t.author.secUid")} AS sec_uid,
       {_text("coalesce(nullif(t.author.avatarThumb, ''), nullif(t.author.avatarMedium, ''))")} AS avatar_url,
       {", ".join(f"TRY_CAST({e} AS BIGINT) AS a_{c}" for c, e in _AUTHOR_COUNT_EXPRS.items())},
       {", ".join(f"TRY_CAST({e} AS BIGINT) AS {c}" for c, e in _COUNT_EXPRS.items())},
       {_text("t.desc")} AS description,
       CASE WHEN nullif(t.createTime, '') IS NOT NULL AND t.createTime <> '0' AND {_time_ok("t.createTime")}
            THEN make_timestamp(TRY_CAST(TRY_CAST(t.createTime AS DOUBLE) * CASE WHEN TRY_CAST(t.createTime AS DOUBLE) > 1e11 THEN 1000 ELSE 1000000 END AS BIGINT))
       END AS created_at,
       {_id("nullif(t.music.id, '')")} AS music_id,
       {_text("t.music.title")} AS music_title, {_text("t.music.authorName")} AS music_author,
       {_bool("t.music.original")} AS music_original,
       {_duration("t.music.duration")} AS music_duration, {_text("t.music.playUrl")} AS music_play_url,
       {_duration("t.video.duration")} AS duration_s,
       {_text("coalesce(nullif(t.video.cover, ''), nullif(t.video.originCover, ''))")} AS cover_url,
       {_text("coalesce(nullif(t.video.playAddr, ''), nullif(t.video.downloadAddr, ''))")} AS video_url,
       {_text("t.locationCreated")} AS region,
       {_bool("t.isAd")} AS is_ad,
       l.challenges, l.textExtra
  FROM parsed l JOIN _fp_pages p ON p.path = l.filename
"""

TAGS = f"""
CREATE OR REPLACE TEMP TABLE _fp_tags AS
WITH challenge AS (
    SELECT filename, idx, seen_at, post_id, generate_subscripts(challenges, 1) AS pos, unnest(challenges) AS c
      FROM _fp_flat WHERE len(challenges) > 0
),
extra AS (
    SELECT filename, idx, seen_at, post_id, 100000 + generate_subscripts(textExtra, 1) AS pos, unnest(textExtra) AS e
      FROM _fp_flat WHERE len(textExtra) > 0
),
named AS (
    SELECT filename, idx, seen_at, post_id, pos, {_normalised_tag("c.title")} AS name, {_safe_ident("c.id")} AS challenge_id,
           {_text("c.title")} AS title, {_text("c.desc")} AS description
      FROM challenge
    UNION ALL
    SELECT filename, idx, seen_at, post_id, pos, {_normalised_tag("e.hashtagName")}, {_safe_ident("e.hashtagId")},
           {_text("e.hashtagName")}, NULL
      FROM extra WHERE coalesce(e.hashtagName, '') <> ''
)
-- a caption hashtag counts only when no challenge of the item (or earlier caption tag) has its name
SELECT * FROM named n WHERE name IS NOT NULL
   AND NOT (pos >= 100000 AND EXISTS (SELECT 1 FROM named m WHERE m.filename = n.filename AND m.idx = n.idx AND m.name = n.name AND m.pos < n.pos))
"""

_AUTHOR_KEY = "coalesce(author_id, '@' || lower(unique_id))"
TABLE_ROWS = {
    "authors": f"""SELECT {_AUTHOR_KEY} AS author_id, unique_id, nickname, signature, verified, sec_uid, avatar_url,
                          a_followers AS followers, a_following AS following, a_hearts AS hearts, a_videos AS videos,
                          a_likes_given AS likes_given, seen_at AS first_seen_at, seen_at AS last_seen_at
                     FROM _fp_flat WHERE author_id IS NOT NULL OR unique_id IS NOT NULL""",
    "author_names": "SELECT author_id, lower(unique_id) AS unique_id FROM _fp_flat WHERE author_id IS NOT NULL AND unique_id IS NOT NULL",
    "music": """SELECT music_id, music_title AS title, music_author AS author_name, music_original AS original, music_duration AS duration_s,
                       music_play_url AS play_url, seen_at AS first_seen_at, seen_at AS last_seen_at FROM _fp_flat WHERE music_id IS NOT NULL""",
    "hashtags": """SELECT name, challenge_id, coalesce(nullif(title, ''), name) AS title, description, NULL::BIGINT AS video_count,
                          NULL::BIGINT AS view_count, seen_at AS first_seen_at, seen_at AS last_seen_at FROM _fp_tags""",
    "posts": f"""SELECT post_id, CASE WHEN author_id IS NOT NULL OR unique_id IS NOT NULL THEN {_AUTHOR_KEY} END AS author_id,
                        unique_id AS author_unique_id, description, created_at, music_id, duration_s, cover_url, video_url, region, is_ad,
                        {post_link_sql("unique_id", "post_id")} AS url, source,
                        views, likes, comments, shares, saves, seen_at AS first_seen_at, seen_at AS last_seen_at FROM _fp_flat""",
    "post_hashtags": "SELECT DISTINCT post_id, name AS hashtag FROM _fp_tags",
    "post_stats": """SELECT post_id, seen_at AS collected_at, views, likes, comments, shares, saves FROM _fp_flat
                      WHERE coalesce(views, likes, comments, shares, saves) IS NOT NULL""",
    "author_stats": f"""SELECT {_AUTHOR_KEY} AS author_id, seen_at AS collected_at, a_followers AS followers, a_following AS following,
                               a_hearts AS hearts, a_videos AS videos, a_likes_given AS likes_given FROM _fp_flat
                         WHERE (author_id IS NOT NULL OR unique_id IS NOT NULL)
                           AND coalesce(a_followers, a_following, a_hearts, a_videos, a_likes_given) IS NOT NULL""",
    "feed_appearances": "SELECT feed AS hashtag, post_id, seen_at AS collected_at, rank::INTEGER AS rank, run_id FROM _fp_flat WHERE feed IS NOT NULL",
}
_TEMP = ["_fp_pages", "_fp_flat", "_fp_tags", *(f"_fp_in_{t}" for t in TABLE_ROWS)]


def _at(sql: str, at: str) -> str:
    """``sql`` with its working tables named ``<at>_fp_...`` (``at`` e.g. ``_fp_read.b3``: regular tables of that
    database, which every connection of the process sees) instead of this connection's temp tables."""
    if not at:
        return sql
    return re.sub(
        r"\b(_fp_(?:flat|tags|pages|in_\w+))\b", rf"{at}\1", sql.replace("CREATE OR REPLACE TEMP TABLE ", "CREATE OR REPLACE TABLE ")
    )


def load(con: duckdb.DuckDBPyConnection, pages: list[RawPage], *, at: str = "") -> tuple[list[RawPage], dict[str, str], dict[str, int]]:
    """Read ``pages`` with DuckDB; return (pages it loaded, {table: relation with its rows},
    {path: items} of the pages it loaded). Pages it could not read exactly are left out: the caller
    parses them in Python. No key of a relation holds a NULL (rows without one are left out, as
    ingest would). The relations are this connection's temp tables, or with ``at`` (see
    :func:`_at`) tables another connection can ingest from (so reading the next pages can overlap
    ingesting these)."""
    import pyarrow as pa

    if not pages:
        return [], {}, {}
    meta = pa.table(
        {
            "path": pa.array([str(p.body_path) for p in pages], pa.string()),
            "fetched_at": pa.array([p.fetched_at for p in pages], pa.timestamp("us")),
            "hashtag": pa.array([p.hashtag for p in pages], pa.string()),
            "run_id": pa.array([p.run_id for p in pages], pa.string()),
            "rank_offset": pa.array([int(p.meta.get("rank_offset") or 0) for p in pages], pa.int64()),
            "source": pa.array([p.source for p in pages], pa.string()),
        }
    )
    con.register("_fp_pages_arrow", meta)
    try:
        # a table, not the Arrow view: scanning Python objects needs the GIL, which another thread may hold
        con.execute(_at("CREATE OR REPLACE TEMP TABLE _fp_pages AS SELECT * FROM _fp_pages_arrow", at))
    finally:
        con.unregister("_fp_pages_arrow")
    flat = f"{at}_fp_flat"
    # a few hundred pages a statement: DuckDB parses a statement's pages in one go, and its peak
    # memory grows with them (about 600 MB for 40 MB of pages at once; a fifth of that in parts)
    since, until = plausible_times()
    limits = {"since": since.replace(tzinfo=dt.UTC).timestamp(), "until": until.replace(tzinfo=dt.UTC).timestamp()}
    limits["maxlen"] = max(0, get_settings().max_text_chars - _TEXT_MARGIN)
    for start in range(0, len(pages), READ_PAGES):
        files = [str(p.body_path) for p in pages[start : start + READ_PAGES]]
        into = "CREATE OR REPLACE TEMP TABLE _fp_flat AS " if start == 0 else "INSERT INTO _fp_flat "
        con.execute(_at(into + READ, at), {"files": files, **limits})
    counts = dict(con.execute(f"SELECT filename, count(*) FROM {flat} GROUP BY filename HAVING bool_and(exact)").fetchall())
    con.execute(f"DELETE FROM {flat} WHERE filename NOT IN (SELECT filename FROM {flat} GROUP BY filename HAVING bool_and(exact))")
    con.execute(_at(TAGS, at))
    relations = {}
    for table in INGEST_TABLES:
        if table.name in TABLE_ROWS:
            relations[table.name] = f"{at}_fp_in_{table.name}"
            keyed = " AND ".join(f"{k} IS NOT NULL" for k in table.key)  # ingest merges from these tables directly
            con.execute(
                _at(
                    f"CREATE OR REPLACE TEMP TABLE _fp_in_{table.name} AS SELECT {', '.join(table.column_names)} "
                    f"FROM ({TABLE_ROWS[table.name]}) WHERE {keyed}",
                    at,
                )
            )
    for name in ("_fp_flat", "_fp_tags", "_fp_pages"):  # only the relations are needed from here on: free the rest now
        con.execute(f"DROP TABLE {at}{name}")
    loaded = [p for p in pages if str(p.body_path) in counts]
    return loaded, relations, counts


def repeated_keys(con: duckdb.DuckDBPyConnection, relations: dict[str, str]) -> dict[str, bool]:
    """Per table: does any key occur twice (so staging must merge rows)?"""
    out = {}
    for table in INGEST_TABLES:
        if table.name in relations:
            keys = ", ".join(table.key)
            out[table.name] = bool(con.execute(f"SELECT count(*) > count(DISTINCT ({keys})) FROM {relations[table.name]}").fetchone()[0])
    return out


def cleanup(con: duckdb.DuckDBPyConnection, at: str = "") -> None:
    for name in _TEMP:
        con.execute(f"DROP TABLE IF EXISTS {at}{name}")
