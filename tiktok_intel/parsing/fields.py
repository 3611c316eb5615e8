"""Small, strict conversions shared by every parser.

A value that is present but unusable raises :class:`BadValue`; the parser turns that into a
reject naming the field, so no number is ever silently replaced by NULL or 0.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
import re
from typing import Any

from .. import clock, conventions
from ..settings import get_settings

MAX_BIGINT = 2**63 - 1
_DIGITS = re.compile(r"[0-9]{1,19}")
_NUMBER = re.compile(
    r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?"
)  # ASCII digits only (``\d`` would take Arabic-Indic and full-width ones)


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
        if not (stripped.isascii() and stripped.isdigit()):
            if not _NUMBER.fullmatch(stripped):  # float() would read full-width digits, "1_000", "nan", "infinity"
                raise BadValue(f"{field} is not a number ({value[:40]!r})")
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
    """A TikTok numeric id as decimal text (JSON integers and strings alike), normalised
    (:func:`normal_id`: ``"0001"`` is ``"1"``); one that is not a plausible id is :class:`BadValue`."""
    if value is None or value == "":
        if required:
            raise BadValue(f"missing {field}")
        return None
    if isinstance(value, bool) or isinstance(value, float):  # orjson turns integers past 64 bits into floats
        raise BadValue(f"{field} is out of range or not an integer ({value!r})")
    if isinstance(value, int):
        as_text = str(value)
    elif isinstance(value, str):
        as_text = value.strip().replace("\x00", "")
    else:
        raise BadValue(f"{field} is not an id ({type(value).__name__})")
    normal = normal_id(as_text)
    if normal is None:
        raise BadValue(f"{field} is not a plausible TikTok id ({as_text[:40]!r})")
    return normal


def normal_id(value: str) -> str | None:
    """The one form of a TikTok numeric id: ASCII decimal digits, no leading zeros, from 1 to
    2^63-1 (``"0001"`` and ``"1"`` are one id); None for anything else. The SQL reader's
    :data:`tiktok_intel.ingest.sql_reader` ``_id`` is the same in SQL."""
    if not _DIGITS.fullmatch(value):
        return None
    number = int(value)
    return str(number) if 0 < number <= MAX_BIGINT else None


def plausible_times() -> tuple[dt.datetime, dt.datetime]:
    """The plausible range of creation and collection times: from the ``plausible_since`` setting to
    now + ``plausible_ahead_days`` (naive UTC)."""
    settings = get_settings()
    return _since(settings.plausible_since), clock.now() + dt.timedelta(days=settings.plausible_ahead_days)


@functools.lru_cache(maxsize=8)
def _since(text: str) -> dt.datetime:
    return clock.to_utc(dt.datetime.fromisoformat(text))


def epoch(value: Any, field: str, *, required: bool = False, bounds: tuple[dt.datetime, dt.datetime] | None = None) -> dt.datetime | None:
    """Seconds (or milliseconds, :func:`tiktok_intel.clock.from_epoch`) since 1970 (a number or
    digit string) -> naive UTC datetime; a time outside :func:`plausible_times` is :class:`BadValue`
    (``createTime out of range: 10000000000000000``). 0 and empty mean unknown (None)."""
    if value is None or value == "" or value == 0 or value == "0":
        if required:
            raise BadValue(f"missing {field}")
        return None
    shown = str(value)[:40]
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise BadValue(f"{field} is not a time ({type(value).__name__}: {shown!r})")
    if isinstance(value, str) and not value.strip().isascii():
        raise BadValue(f"{field} is not a time ({shown!r})")
    try:
        seconds = float(value)
    except ValueError:
        raise BadValue(f"{field} is not a time ({shown!r})") from None
    if not math.isfinite(seconds):
        raise BadValue(f"{field} is not a time ({shown!r})")
    since, until = bounds or plausible_times()
    try:
        moment = clock.from_epoch(seconds)
    except (ValueError, OverflowError, OSError):
        moment = None
    if moment is None or not since <= moment <= until:
        settings = get_settings()  # the settings, not the bounds: a reason must not change with the time it was given
        raise BadValue(
            f"{field} out of range: {shown} (plausible: from plausible_since {settings.plausible_since} "
            f"to plausible_ahead_days {settings.plausible_ahead_days:g} days ahead)"
        )
    return moment


def listed(value: Any, field: str) -> list:
    """A list field: a list as it is; absent, empty or a string / object (nothing to read in it) as
    no items; a number or ``true`` is :class:`BadValue`. (The SQL reader leaves the last to Python.)"""
    if isinstance(value, list):
        return value
    if not value or isinstance(value, (str, dict)):
        return []
    raise BadValue(f"{field} is not a list ({type(value).__name__}: {str(value)[:40]!r})")


def hashtag_name(value: Any) -> str | None:
    """Normalised hashtag (:func:`tiktok_intel.conventions.hashtag`); None when empty or not a
    hashtag at all (:func:`tiktok_intel.conventions.hashtag_problem`: RTL overrides, zero-width or
    control characters, too long), which is then not stored as one."""
    name = conventions.hashtag(text(value))
    if name is None or conventions.hashtag_problem(name):
        return None
    return name


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
        urls = value.get("url_list")
        return text(urls[0]) if isinstance(urls, list) and urls else None
    return text(value) if value else None
