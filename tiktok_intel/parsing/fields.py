"""Small, strict conversions shared by every parser.

A value that is present but unusable raises :class:`BadValue`; the parser turns that into a
reject naming the field, so no number is ever silently replaced by NULL or 0.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from typing import Any

from .. import clock, conventions

MAX_BIGINT = 2**63 - 1
_DIGITS = re.compile(r"\d{1,19}")


#: The web shapes' counts: our stat column -> TikTok's field, the same in ``stats`` (rounded ints) and
#: ``statsV2`` (exact strings), and in ``authorStats`` / ``authorStatsV2``. Both web readers use these:
#: the Python parser (:mod:`.web`) and DuckDB's (:mod:`tiktok_intel.ingest.sql_reader`).
POST_COUNTS = (
    ("views", "playCount"),
    ("likes", "diggCount"),
    ("comments", "commentCount"),
    ("shares", "shareCount"),
    ("saves", "collectCount"),
)
AUTHOR_COUNTS = (
    ("followers", "followerCount"),
    ("following", "followingCount"),
    ("hearts", "heartCount"),
    ("videos", "videoCount"),
    ("likes_given", "diggCount"),
)
#: A field some pages give under an older name, read (from the rounded ``stats`` only) when the field is absent.
COUNT_FALLBACKS = {"heartCount": "heart"}


class BadValue(ValueError):
    """A field holds something we refuse to store; the message is the reject reason."""


def text(value: Any) -> str | None:
    """A string without NUL bytes (DuckDB and CSV readers reject them), or None."""
    if value is None:
        return None
    if not isinstance(value, str):
        value = str(value)
    return value.replace("\x00", "") if "\x00" in value else value


def count(value: Any, field: str) -> int | None:
    """A non-negative BIGINT from an int, a float with no fraction, or a digit string."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise BadValue(f"{field} is a boolean ({value!r}), not a count")
    if isinstance(value, int):
        number = value
    elif isinstance(value, float):
        if math.isfinite(value) and abs(value) > MAX_BIGINT:  # orjson reads integers past 64 bits as floats
            raise BadValue(f"{field} is out of range ({value:.4g})")
        if not math.isfinite(value) or value != int(value):
            raise BadValue(f"{field} is not a whole number ({value!r})")
        number = int(value)
    elif isinstance(value, str):
        stripped = value.strip().replace("\x00", "")
        if not stripped.isdigit():
            try:
                as_float = float(stripped)
            except ValueError:
                raise BadValue(f"{field} is not a number ({value[:40]!r})") from None
            return count(as_float, field)
        number = int(stripped)
    else:
        raise BadValue(f"{field} is not a number ({type(value).__name__})")
    if number < 0:
        raise BadValue(f"{field} is negative ({number})")
    if number > MAX_BIGINT:
        raise BadValue(f"{field} is out of range ({number})")
    return number


def ident(value: Any, field: str, *, required: bool = False) -> str | None:
    """A TikTok numeric id as decimal text (JSON integers and strings alike)."""
    if value is None or value == "":
        if required:
            raise BadValue(f"missing {field}")
        return None
    if isinstance(value, bool) or isinstance(value, float):  # orjson turns integers past 64 bits into floats
        raise BadValue(f"{field} is out of range or not an integer ({value!r})")
    as_text = str(value).strip().replace("\x00", "")
    if not _DIGITS.fullmatch(as_text) or int(as_text) > MAX_BIGINT:
        raise BadValue(f"{field} is out of range or not numeric ({as_text[:40]})")
    return as_text


def epoch(value: Any, field: str) -> dt.datetime | None:
    """Seconds since 1970 (int or digit string) -> naive UTC datetime."""
    if value is None or value == "" or value == 0 or value == "0":
        return None
    try:
        return clock.from_epoch(float(value))
    except (TypeError, ValueError, OverflowError, OSError):
        raise BadValue(f"{field} is not a time ({str(value)[:40]!r})") from None


def hashtag_name(value: Any) -> str | None:
    """Normalised hashtag (:func:`tiktok_intel.conventions.hashtag`); None when empty."""
    return conventions.hashtag(text(value))


def post_url(unique_id: str | None, post_id: str) -> str:
    """The canonical TikTok link of a post."""
    return conventions.post_link(unique_id, post_id)


def first(mapping: Any, *keys: str) -> Any:
    """The first present, non-empty value among ``keys`` of a dict (None otherwise)."""
    if not isinstance(mapping, dict):
        return None
    for key in keys:
        value = mapping.get(key)
        if value not in (None, ""):
            return value
    return None


def url_of(value: Any) -> str | None:
    """A URL from a plain string or an aweme ``{url_list: [...]}`` object."""
    if isinstance(value, dict):
        urls = value.get("url_list") or []
        return text(urls[0]) if urls else None
    return text(value) if value else None
