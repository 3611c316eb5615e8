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
        raise InvalidHashtagError(f"{shown!r} is not a hashtag: give a name such as valet2026 or '#svtnyheter'")
    if len(cleaned) > MAX_LENGTH:
        raise InvalidHashtagError(f"hashtag {shown!r}... is {len(cleaned)} characters long: TikTok hashtags have at most {MAX_LENGTH}")
    bad = next((ch for n, ch in enumerate(cleaned) if not _allowed(ch, n == 0)), None)
    if bad is not None:
        raise InvalidHashtagError(f"hashtag {shown!r} contains {bad!r}: use only letters, digits and underscore (one hashtag per argument)")
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
              FROM hashtag_stats GROUP BY hashtag),
        posts AS (SELECT hashtag, count(DISTINCT post_id) AS posts FROM post_hashtags GROUP BY hashtag)
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
