"""The tracked hashtag list: add, remove (deactivate, history kept), list, and when each was last
collected. Every write to ``tracked_hashtags`` is here.

Names are normalised the way TikTok and the store key them (:func:`.conventions.hashtag`): no ``#``, lower case, Unicode NFC
(so a decomposed "å" and a composed one are the same hashtag), and validated: letters of any
script (å, ä, ö included) with their combining marks (the vowel signs of हिंदी, தமிழ், สวัสดี),
digits and underscore, at most :data:`MAX_LENGTH` characters.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import unicodedata
from collections.abc import Iterable

import duckdb

from . import clock, conventions
from .errors import HashtagError

MAX_LENGTH = conventions.HASHTAG_MAX_LENGTH  # the one limit the store keeps too (conventions.hashtag_problem)
_WORD = re.compile(r"\w")  # \w on str: Unicode letters and digits, and underscore
#: Combining marks (vowel signs, viramas, accents) belong to the letter before them; variation
#: selectors only pick an emoji's look, so they stay refused with the emoji.
_MARKS = {"Mn", "Mc"}
_VARIATION_SELECTORS = re.compile("[\ufe00-\ufe0f\U000e0100-\U000e01ef]")


def _allowed(ch: str, first: bool) -> bool:
    if _WORD.match(ch):
        return True
    return not first and unicodedata.category(ch) in _MARKS and not _VARIATION_SELECTORS.match(ch)


class InvalidHashtagError(HashtagError):
    """A name that cannot be a TikTok hashtag."""


class NotTrackedError(HashtagError):
    """A hashtag that is not on the tracked list."""


def normalise(name: str) -> str:
    """``'#SVTnyheter '`` -> ``'svtnyheter'``; a one-line :class:`InvalidHashtagError` for a bad name."""
    if not isinstance(name, str):
        raise InvalidHashtagError(f"a hashtag must be text, not {type(name).__name__}")
    cleaned = conventions.hashtag(name) or ""
    shown = name.strip()[:40]
    if not cleaned:
        raise InvalidHashtagError(
            f"{shown!r} is not a hashtag: give a name such as valet2026 or '#svtnyheter'", key="err_not_hashtag", name=repr(shown)
        )
    if len(cleaned) > MAX_LENGTH:
        raise InvalidHashtagError(
            f"hashtag {shown!r}... is {len(cleaned)} characters long: TikTok hashtags have at most {MAX_LENGTH}",
            key="err_hashtag_long",
            name=repr(shown),
            length=len(cleaned),
            most=MAX_LENGTH,
        )
    bad = next((ch for n, ch in enumerate(cleaned) if not _allowed(ch, n == 0)), None)
    if bad is not None:
        raise InvalidHashtagError(
            f"hashtag {shown!r} contains {bad!r}: use only letters, digits and underscore (one hashtag per argument)",
            key="err_hashtag_char",
            name=repr(shown),
            bad=repr(bad),
        )
    return cleaned


def normalise_all(names: Iterable[str]) -> list[str]:
    """Normalised, de-duplicated, in the order given; every name validated before any is used."""
    return list(dict.fromkeys(normalise(n) for n in names))


def add(con: duckdb.DuckDBPyConnection, names: Iterable[str]) -> list[str]:
    """Track ``names`` (re-activating removed ones); returns those newly tracked or re-activated."""
    wanted = normalise_all(names)
    if not wanted:
        raise InvalidHashtagError("no hashtag given: name at least one, such as valet2026")
    now = clock.now()
    changed = []
    for name in wanted:
        row = con.execute("SELECT active FROM tracked_hashtags WHERE name = ?", [name]).fetchone()
        if row is None:
            con.execute("INSERT INTO tracked_hashtags (name, active, added_at) VALUES (?, TRUE, ?)", [name, now])
            changed.append(name)
        elif not row[0]:
            con.execute("UPDATE tracked_hashtags SET active = TRUE, removed_at = NULL, added_at = ? WHERE name = ?", [now, name])
            changed.append(name)
    return changed


def remove(con: duckdb.DuckDBPyConnection, names: Iterable[str]) -> list[str]:
    """Stop tracking ``names``: they stay in the table (inactive) with everything collected for them."""
    wanted = normalise_all(names)
    active = {r[0] for r in con.execute("SELECT name FROM tracked_hashtags WHERE active").fetchall()}
    missing = [n for n in wanted if n not in active]
    if missing:
        raise NotTrackedError(f"not tracked: {', '.join(missing)}; see `tiktok-intel track list`")
    now = clock.now()
    for name in wanted:
        con.execute("UPDATE tracked_hashtags SET active = FALSE, removed_at = ? WHERE name = ?", [now, name])
    return wanted


def mark_collected(con: duckdb.DuckDBPyConnection, name: str, at: dt.datetime | None = None) -> None:
    """Note that ``name`` was just collected (``last_collected_at``); a hashtag not on the list is left off it."""
    con.execute("UPDATE tracked_hashtags SET last_collected_at = ? WHERE name = ?", [at or clock.now(), name])


def active(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Names of the hashtags being tracked, alphabetically."""
    return [r[0] for r in con.execute("SELECT name FROM tracked_hashtags WHERE active ORDER BY name").fetchall()]


@dataclasses.dataclass(frozen=True)
class Tracked:
    name: str
    active: bool
    added_at: dt.datetime
    removed_at: dt.datetime | None
    last_collected_at: dt.datetime | None
    posts: int
    video_count: int | None
    view_count: int | None
    stats_at: dt.datetime | None


def list_tracked(con: duckdb.DuckDBPyConnection, *, include_inactive: bool = True) -> list[Tracked]:
    """Every tracked hashtag with its posts in the store and its last hashtag stats snapshot."""
    rows = con.execute(f"""
        WITH last_stats AS (
            SELECT hashtag, arg_max(video_count, collected_at) AS video_count, arg_max(view_count, collected_at) AS view_count,
                   max(collected_at) AS stats_at
              FROM hashtag_stats WHERE hashtag IN (SELECT name FROM tracked_hashtags) GROUP BY hashtag),
        posts AS (SELECT hashtag, count(DISTINCT post_id) AS posts FROM post_hashtags
                   WHERE hashtag IN (SELECT name FROM tracked_hashtags) GROUP BY hashtag)
        SELECT t.name, t.active, t.added_at, t.removed_at, t.last_collected_at, coalesce(p.posts, 0),
               s.video_count, s.view_count, s.stats_at
          FROM tracked_hashtags t LEFT JOIN posts p ON p.hashtag = t.name LEFT JOIN last_stats s ON s.hashtag = t.name
         {"" if include_inactive else "WHERE t.active"}
         ORDER BY t.active DESC, t.name""").fetchall()
    return [Tracked(*row) for row in rows]


def format_table(rows: list[Tracked]) -> str:
    """The list as an aligned text table (the CLI's ``track list``)."""
    if not rows:
        return "no hashtags tracked: add some with `tiktok-intel track add valet2026 svtnyheter`"

    def when(value: dt.datetime | None) -> str:
        return value.strftime("%Y-%m-%d %H:%M") if value else "-"

    def num(value: int | None) -> str:
        return f"{value:,}" if value is not None else "-"

    table = [("hashtag", "active", "added", "last collected", "posts", "videos", "views", "stats at")]
    table += [
        (
            r.name,
            "yes" if r.active else "no",
            when(r.added_at),
            when(r.last_collected_at),
            f"{r.posts:,}",
            num(r.video_count),
            num(r.view_count),
            when(r.stats_at),
        )
        for r in rows
    ]
    widths = [max(len(row[i]) for row in table) for i in range(len(table[0]))]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in table)


# ------------------------------------------------------------------- every kind: hashtag, account, keyword
# Hashtags are kept in ``tracked_hashtags`` (above); accounts and keywords in ``tracked_items``
# (migration 007), with the same history: a removed item is inactive, never deleted.


class InvalidTrackedItemError(InvalidHashtagError):
    """A name that cannot be a tracked account or keyword."""


KINDS = conventions.TRACKED_KINDS


def parse_item(text: str, kind: str | None = None) -> tuple[str, str]:
    """``(kind, normalised name)`` of what a user typed: ``@svtnyheter`` (or a profile link) is an
    account, a name given with ``kind="keyword"`` a keyword, anything else a hashtag."""
    if not isinstance(text, str):
        raise InvalidTrackedItemError(f"a tracked item must be text, not {type(text).__name__}")
    stripped = text.strip()
    if kind is None:
        kind = "account" if stripped.startswith("@") or "tiktok.com/@" in stripped.lower() else "hashtag"
    if kind == "hashtag":
        return "hashtag", normalise(text)
    if kind == "account":
        name = conventions.account(text) or ""
        problem = conventions.account_problem(name) if name else "empty"
        if problem:
            raise InvalidTrackedItemError(f"account {stripped[:40]!r} is {problem}: give a username such as @svtnyheter")
        return "account", name
    if kind == "keyword":
        name = conventions.keyword(text) or ""
        problem = conventions.keyword_problem(name) if name else "empty"
        if problem:
            raise InvalidTrackedItemError(f"keyword {stripped[:40]!r} {problem}: give words to search for, such as 'vattenbrist'")
        return "keyword", name
    raise InvalidTrackedItemError(f"unknown kind {kind!r}: one of {', '.join(KINDS)}")


def add_items(con: duckdb.DuckDBPyConnection, items: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    """Track ``(kind, name)`` items (names as typed; each validated before any is written);
    returns those newly tracked or re-activated."""
    wanted = list(dict.fromkeys(parse_item(name, kind) for kind, name in items))
    if not wanted:
        raise InvalidTrackedItemError("nothing given: name a hashtag, an @account or a --keyword")
    changed = [("hashtag", n) for n in add(con, [n for k, n in wanted if k == "hashtag"])] if any(k == "hashtag" for k, _ in wanted) else []
    now = clock.now()
    for kind, name in wanted:
        if kind == "hashtag":
            continue
        row = con.execute("SELECT active FROM tracked_items WHERE kind = ? AND name = ?", [kind, name]).fetchone()
        if row is None:
            con.execute("INSERT INTO tracked_items (kind, name, active, added_at) VALUES (?, ?, TRUE, ?)", [kind, name, now])
            changed.append((kind, name))
        elif not row[0]:
            con.execute(
                "UPDATE tracked_items SET active = TRUE, removed_at = NULL, added_at = ? WHERE kind = ? AND name = ?", [now, kind, name]
            )
            changed.append((kind, name))
    return changed


def remove_items(con: duckdb.DuckDBPyConnection, items: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    """Stop tracking ``(kind, name)`` items; they stay, inactive, with what was collected for them."""
    wanted = list(dict.fromkeys(parse_item(name, kind) for kind, name in items))
    hashtags = [n for k, n in wanted if k == "hashtag"]
    others = [(k, n) for k, n in wanted if k != "hashtag"]
    active_now = set(active_items(con))
    missing = [f"{'@' if k == 'account' else ''}{n}" for k, n in others if (k, n) not in active_now]
    if missing:
        raise NotTrackedError(f"not tracked: {', '.join(missing)}; see `tiktok-intel track list`")
    if hashtags:
        remove(con, hashtags)
    now = clock.now()
    for kind, name in others:
        con.execute("UPDATE tracked_items SET active = FALSE, removed_at = ? WHERE kind = ? AND name = ?", [now, kind, name])
    return wanted


def active_items(con: duckdb.DuckDBPyConnection, kind: str | None = None) -> list[tuple[str, str]]:
    """Active accounts and keywords as ``(kind, name)`` (only ``kind``'s when given); hashtags: :func:`active`."""
    rows = con.execute(
        "SELECT kind, name FROM tracked_items WHERE active AND (? IS NULL OR kind = ?) ORDER BY kind, name", [kind, kind]
    ).fetchall()
    return [(k, n) for k, n in rows]


def mark_item_collected(con: duckdb.DuckDBPyConnection, kind: str, name: str, at: dt.datetime | None = None) -> None:
    """Note that an account or keyword was just collected."""
    con.execute("UPDATE tracked_items SET last_collected_at = ? WHERE kind = ? AND name = ?", [at or clock.now(), kind, name])


@dataclasses.dataclass(frozen=True)
class TrackedItem:
    kind: str
    name: str
    active: bool
    added_at: dt.datetime
    removed_at: dt.datetime | None
    last_collected_at: dt.datetime | None
    posts: int

    @property
    def shown(self) -> str:
        """How a user types it: ``#klimat``, ``@svtnyheter``, ``"vattenbrist"``."""
        return {"hashtag": "#", "account": "@"}.get(self.kind, "") + self.name


def list_items(con: duckdb.DuckDBPyConnection, *, include_inactive: bool = True) -> list[TrackedItem]:
    """Every tracked item of every kind with its posts in the store: a hashtag's tagged or listed
    posts, an account's own posts and listings, a keyword's listings."""
    where = "" if include_inactive else "WHERE active"
    rows = con.execute(f"""
        WITH items AS (
            SELECT 'hashtag' AS kind, name, active, added_at, removed_at, last_collected_at FROM tracked_hashtags
            UNION ALL SELECT kind, name, active, added_at, removed_at, last_collected_at FROM tracked_items),
        hashtag_posts AS (
            SELECT hashtag AS name, count(DISTINCT post_id) AS posts FROM (
                SELECT hashtag, post_id FROM post_hashtags WHERE hashtag IN (SELECT name FROM items WHERE kind = 'hashtag')
                UNION ALL SELECT hashtag, post_id FROM feed_appearances WHERE hashtag IN (SELECT name FROM items WHERE kind = 'hashtag'))
             GROUP BY hashtag),
        account_posts AS (
            SELECT name, count(DISTINCT post_id) AS posts FROM (
                SELECT lower(p.author_unique_id) AS name, p.post_id FROM posts p
                 WHERE lower(p.author_unique_id) IN (SELECT name FROM items WHERE kind = 'account')
                UNION ALL SELECT tracked, post_id FROM listings WHERE kind = 'account') GROUP BY name),
        keyword_posts AS (SELECT tracked AS name, count(DISTINCT post_id) AS posts FROM listings WHERE kind = 'keyword' GROUP BY tracked)
        SELECT i.kind, i.name, i.active, i.added_at, i.removed_at, i.last_collected_at,
               coalesce(CASE i.kind WHEN 'hashtag' THEN h.posts WHEN 'account' THEN a.posts ELSE k.posts END, 0)
          FROM items i
          LEFT JOIN hashtag_posts h ON i.kind = 'hashtag' AND h.name = i.name
          LEFT JOIN account_posts a ON i.kind = 'account' AND a.name = i.name
          LEFT JOIN keyword_posts k ON i.kind = 'keyword' AND k.name = i.name
         {where}
         ORDER BY i.active DESC, array_position(['hashtag', 'account', 'keyword'], i.kind), i.name""").fetchall()
    return [TrackedItem(*row) for row in rows]


def format_items(rows: list[TrackedItem]) -> str:
    """The tracked list of every kind as an aligned text table (``track list``)."""
    if not rows:
        return 'nothing tracked: add some with `tiktok-intel track add klimat @svtnyheter --keyword "vattenbrist"`'
    table = [("kind", "name", "active", "last collected", "posts")]
    table += [
        (
            r.kind,
            r.shown,
            "yes" if r.active else "no",
            r.last_collected_at.strftime("%Y-%m-%d %H:%M") if r.last_collected_at else "-",
            f"{r.posts:,}",
        )
        for r in rows
    ]
    widths = [max(len(row[i]) for row in table) for i in range(len(table[0]))]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in table)
