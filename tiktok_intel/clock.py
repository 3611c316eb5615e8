"""Time in one place: UTC, naive ``datetime`` (DuckDB ``TIMESTAMP``), and a clock that can be faked.

Everything that needs "now" calls :func:`now`, so the demo can run simulated days and tests can
pin time without patching modules one by one. A process started while a time is frozen (a
notebook's kernel) is given :func:`environment` (``TIKTOK_INTEL_FROZEN_AT``, a declared setting),
so it lives at the same simulated time.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
from collections.abc import Callable, Iterator

#: The variable a child process started while a fixed time is frozen reads it from (setting ``frozen_at``).
ENVIRONMENT = "TIKTOK_INTEL_FROZEN_AT"

_override: Callable[[], dt.datetime] | None = None
_fixed: dt.datetime | None = None


def now() -> dt.datetime:
    """The current time in UTC, without tzinfo, to the microsecond."""
    if _override is not None:
        return _override()
    inherited = os.environ.get(ENVIRONMENT)  # the declared setting frozen_at, read live (a parent sets it for us)
    if inherited:
        return dt.datetime.fromisoformat(inherited)
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


@contextlib.contextmanager
def frozen(at: dt.datetime | Callable[[], dt.datetime]) -> Iterator[None]:
    """Make :func:`now` return ``at`` (a time or a callable) inside the block; a fixed time is
    also what :func:`environment` gives the processes started meanwhile."""
    global _override, _fixed
    previous, previous_fixed = _override, _fixed
    _override = at if callable(at) else (lambda: at)
    _fixed = None if callable(at) else to_utc(at)
    try:
        yield
    finally:
        _override, _fixed = previous, previous_fixed


def environment() -> dict[str, str]:
    """What a child process needs in its environment to live at this process's frozen time
    (empty when the time is not frozen to a fixed value here or by a parent)."""
    if _fixed is not None:
        return {ENVIRONMENT: _fixed.isoformat()}
    inherited = os.environ.get(ENVIRONMENT)
    return {ENVIRONMENT: inherited} if inherited else {}


def from_epoch(value: float) -> dt.datetime:
    """Seconds (or milliseconds, when the number is that large) since 1970 -> naive UTC."""
    seconds = float(value)
    if seconds > 1e11:  # milliseconds: Zeeschuimer's timestamp_collected
        seconds /= 1000.0
    return dt.datetime.fromtimestamp(seconds, dt.UTC).replace(tzinfo=None)


def to_utc(value: dt.datetime) -> dt.datetime:
    """An aware datetime -> naive UTC; a naive one is taken to be UTC already."""
    if value.tzinfo is not None:
        value = value.astimezone(dt.UTC).replace(tzinfo=None)
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
