"""Time for people: one time zone (setting ``timezone``, ``TIKTOK_INTEL_TIMEZONE``, default
Europe/Stockholm) for every time a person sees and every day a person names.

The store stays naive UTC. What changes is at the edges:

- **shown**: a time shown in a dashboard, a CLI table, a report or an export's extra column is
  converted with :func:`to_local` / :func:`local_frame` and labelled with :func:`label`
  ("Europe/Stockholm");
- **named**: a bare date a person gives (``--since 2026-11-10``, a dashboard's From/To) is that
  local day, :func:`day_bounds` turns it into the naive-UTC half-open range the store is queried with
  (23 or 25 hours on the days the clocks change);
- **grouped**: day / week / month / year buckets are local, in SQL with DuckDB's ICU
  ``timezone()`` (built into DuckDB's Python wheels, so it works offline): :func:`local_sql`.

The schedules read the same setting (``schedules.timezone``): one zone for the whole desk.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from .schedules import timezone as _zone

__all__ = ["day_bounds", "format_time", "label", "local_frame", "local_sql", "to_local", "to_utc_naive", "zone"]


def zone(name: str | None = None) -> dt.tzinfo:
    """The people's time zone (setting ``timezone``); an unknown name is one line naming the fix."""
    return _zone(name)


def label(name: str | None = None) -> str:
    """The zone's name, as tables and headings label their times: ``Europe/Stockholm``."""
    return str(getattr(zone(name), "key", zone(name)))


_SAFE_KEY = re.compile(r"^[A-Za-z0-9_+\-/]+$")


def local_sql(column: str, name: str | None = None) -> str:
    """SQL turning the naive-UTC ``column`` into naive local time (ICU ``timezone()``); its
    ``date_trunc`` is a local day, week, month or year. The zone is one ZoneInfo accepted (so it
    is an IANA key of letters, digits and ``/_+-``), written as a literal."""
    key = label(name)
    if not _SAFE_KEY.match(key):  # a ZoneInfo key never has anything else; belt and braces for the literal
        raise ValueError(f"time zone key {key!r} cannot be used in SQL")
    return f"timezone('{key}', timezone('UTC', {column}))"


def to_local(value: Any, name: str | None = None) -> dt.datetime | None:
    """A stored time (naive UTC, or aware) as a naive local time; None / NaT stays None."""
    if value is None:
        return None
    try:
        import pandas as pd

        if value is pd.NaT or (not isinstance(value, (str, bytes)) and pd.isna(value)):
            return None
        if isinstance(value, pd.Timestamp):
            value = value.to_pydatetime()
    except (TypeError, ValueError):
        pass
    if isinstance(value, dt.datetime):
        aware = value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value
        return aware.astimezone(zone(name)).replace(tzinfo=None)
    return value


def to_utc_naive(local: dt.datetime, name: str | None = None) -> dt.datetime:
    """A naive local wall time (or an aware one) as naive UTC, the store's form."""
    aware = local.replace(tzinfo=zone(name)) if local.tzinfo is None else local
    return aware.astimezone(dt.UTC).replace(tzinfo=None)


def day_bounds(day: dt.date, name: str | None = None) -> tuple[dt.datetime, dt.datetime]:
    """The local ``day`` as a naive-UTC half-open range ``[start, end)``: 24 hours, or 23 / 25 on
    the days the clocks change."""
    start = to_utc_naive(dt.datetime.combine(day, dt.time()), name)
    end = to_utc_naive(dt.datetime.combine(day + dt.timedelta(days=1), dt.time()), name)
    return start, end


def local_frame(df, columns: list[str] | None = None, name: str | None = None):
    """A copy of ``df`` with its time columns (datetime dtypes, or ``columns``) in local time (naive)."""
    import pandas as pd

    out = df.copy()
    key = label(name)
    for column in columns if columns is not None else list(out.columns):
        if column not in out.columns:
            continue
        values = out[column]
        if isinstance(values.dtype, pd.DatetimeTZDtype):
            out[column] = values.dt.tz_convert(key).dt.tz_localize(None)
        elif pd.api.types.is_datetime64_any_dtype(values.dtype):
            out[column] = values.dt.tz_localize("UTC").dt.tz_convert(key).dt.tz_localize(None)
    return out


def format_time(value: Any, *, seconds: bool = False, zone_name: bool = False, name: str | None = None) -> str:
    """A stored time as local ``YYYY-MM-DD HH:MM`` (``:SS`` with ``seconds``; `` Europe/Stockholm``
    after it with ``zone_name``); empty for a missing one."""
    local = to_local(value, name)
    if local is None:
        return ""
    if not isinstance(local, dt.datetime):
        return str(local)
    text = local.strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")
    return f"{text} {label(name)}" if zone_name else text
