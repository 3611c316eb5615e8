"""Time in one place: UTC, naive ``datetime`` (DuckDB ``TIMESTAMP``), and a clock that can be faked.

Everything that needs "now" calls :func:`now`, so the demo can run simulated days and tests can
pin time without patching modules one by one.
"""
from __future__ import annotations

import contextlib
import datetime as dt
from typing import Callable, Iterator

_override: Callable[[], dt.datetime] | None = None


def now() -> dt.datetime:
    """The current time in UTC, without tzinfo, to the microsecond."""
    if _override is not None:
        return _override()
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


@contextlib.contextmanager
def frozen(at: dt.datetime | Callable[[], dt.datetime]) -> Iterator[None]:
    """Make :func:`now` return ``at`` (a time or a callable) inside the block."""
    global _override
    previous = _override
    _override = at if callable(at) else (lambda: at)
    try:
        yield
    finally:
        _override = previous


def from_epoch(value: float) -> dt.datetime:
    """Seconds (or milliseconds, when the number is that large) since 1970 -> naive UTC."""
    seconds = float(value)
    if seconds > 1e11:  # milliseconds: Zeeschuimer's timestamp_collected
        seconds /= 1000.0
    return dt.datetime.fromtimestamp(seconds, dt.timezone.utc).replace(tzinfo=None)


def to_utc(value: dt.datetime) -> dt.datetime:
    """An aware datetime -> naive UTC; a naive one is taken to be UTC already."""
    if value.tzinfo is not None:
        value = value.astimezone(dt.timezone.utc).replace(tzinfo=None)
    return value


def parse_time(text: str) -> dt.datetime:
    """ISO 8601 (``2026-11-24T08:01:00Z``, with or without zone) -> naive UTC."""
    text = text.strip()
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    return to_utc(dt.datetime.fromisoformat(text))


def iso(value: dt.datetime) -> str:
    """Naive UTC -> ``2026-11-24T08:01:00.000000Z``."""
    return value.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
