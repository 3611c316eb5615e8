"""Time in one place: UTC, naive ``datetime`` (DuckDB ``TIMESTAMP``), and a clock that can be faked.

Everything that needs "now" calls :func:`now`, so the demo can run simulated days and tests can
pin time without patching modules one by one. A time frozen with :func:`frozen` is also put in
the environment (``TIKTOK_INTEL_FROZEN_AT``), so the notebook kernels a flow starts meanwhile
live at the same simulated time.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import os
from typing import Callable, Iterator

#: Set while a fixed time is frozen; a process started meanwhile (a notebook's kernel) reads it.
ENVIRONMENT = "TIKTOK_INTEL_FROZEN_AT"

_override: Callable[[], dt.datetime] | None = None


def now() -> dt.datetime:
    """The current time in UTC, without tzinfo, to the microsecond."""
    if _override is not None:
        return _override()
    inherited = os.environ.get(ENVIRONMENT)
    if inherited:
        return dt.datetime.fromisoformat(inherited)
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


@contextlib.contextmanager
def frozen(at: dt.datetime | Callable[[], dt.datetime]) -> Iterator[None]:
    """Make :func:`now` return ``at`` (a time or a callable) inside the block; a fixed time is
    passed on to child processes too."""
    global _override
    previous, inherited = _override, os.environ.get(ENVIRONMENT)
    _override = at if callable(at) else (lambda: at)
    if not callable(at):
        os.environ[ENVIRONMENT] = to_utc(at).isoformat()
    try:
        yield
    finally:
        _override = previous
        if inherited is None:
            os.environ.pop(ENVIRONMENT, None)
        else:
            os.environ[ENVIRONMENT] = inherited


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
