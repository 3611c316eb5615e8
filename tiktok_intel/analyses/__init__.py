"""Analyses over the store: trends, association rules, reports.

Each function takes an open DuckDB connection and parameters, and returns a DataFrame or writes a
derived table. The modules:

- :mod:`.trends` — post / author / hashtag trends over true 1 / 7 / 30-day windows, refreshed
  incrementally into ``post_trends``, ``author_trends``, ``hashtag_trends``;
- :mod:`.rules` — association rules between hashtags (mlxtend ``fpgrowth``), stored per run;
- :mod:`.reports` — top posts / authors, top posts in feed, overview counts by period;
- :mod:`.hashtags` — hashtags over a period: growth from monitoring snapshots, posts per day, related ones;
- :mod:`.briefs` — the weekly brief and the comparison of two hashtags (exploratory notebooks);
- :mod:`.exports` — tables as Excel / CSV (formulas neutralised, secrets removed), the export of a selection;
- :mod:`.charts` — the plotly figures the notebooks and dashboards end with.

This module holds what they share: the error class and the parsing of user-given names and dates.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

from ..errors import TikTokIntelError

if TYPE_CHECKING:
    import duckdb

#: What a notebook says when the workspace holds nothing yet.
NO_DATA = "no data yet: run `make demo` or `tiktok-intel collect`"


class AnalysisError(TikTokIntelError):
    """A parameter of an analysis cannot be used (the message names the fix)."""


def has_data(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether anything was collected: a post or a monitoring snapshot."""
    return bool(con.execute("SELECT EXISTS (SELECT 1 FROM posts) OR EXISTS (SELECT 1 FROM hashtag_stats)").fetchone()[0])


def to_time(value: Any, what: str, *, end: bool = False) -> dt.datetime | None:
    """A date or time given by a user -> naive UTC ``datetime``.

    A bare date is a day in the people's time zone (setting ``timezone``, :mod:`~tiktok_intel.localtime`):
    as ``start`` its local midnight, as ``end`` the end of that day (the range is inclusive of it), so
    ``--start 2026-11-01 --end 2026-11-01`` is the whole of 1 November in Stockholm. A time
    (``datetime``, ISO text) is UTC unless it carries its zone.
    """
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=None) if value.tzinfo is None else value.astimezone(dt.UTC).replace(tzinfo=None)
    if isinstance(value, dt.date):
        from ..localtime import day_bounds

        start, stop = day_bounds(value)
        return stop if end else start
    text = str(value).strip()
    try:
        if len(text) == 10:
            return to_time(dt.date.fromisoformat(text), what, end=end)
        from ..clock import parse_time

        return parse_time(text)
    except ValueError:
        raise AnalysisError(f"{what} {text!r} is not a date: use YYYY-MM-DD or an ISO 8601 time") from None


def time_range(start: Any = None, end: Any = None) -> tuple[dt.datetime | None, dt.datetime | None]:
    """``(start, end)`` as a half-open range ``[start, end)``; a bare end date includes that day."""
    lo, hi = to_time(start, "start"), to_time(end, "end", end=True)
    if lo is not None and hi is not None and hi <= lo:
        raise AnalysisError(f"the end ({hi:%Y-%m-%d %H:%M}) is not after the start ({lo:%Y-%m-%d %H:%M}): swap --start and --end")
    return lo, hi


def time_clause(column: str, lo: dt.datetime | None, hi: dt.datetime | None, params: list[Any], *, include_end: bool = False) -> str:
    """`` AND column >= ? AND column < ?`` for the bounds that are set (``<=`` with
    ``include_end``), their values appended to ``params``: an optional time filter in one place."""
    clause = ""
    if lo is not None:
        clause += f" AND {column} >= ?"
        params.append(lo)
    if hi is not None:
        clause += f" AND {column} {'<=' if include_end else '<'} ?"
        params.append(hi)
    return clause


def choose(value: str, allowed: tuple[str, ...] | list[str], what: str, option: str | None = None) -> str:
    """``value`` if it is one of ``allowed``, else an error naming the choices."""
    if value in allowed:
        return value
    flag = f" ({option} ...)" if option else ""
    raise AnalysisError(f"unknown {what} {value!r}: use one of {', '.join(allowed)}{flag}")


def hashtags_of(post_id: str) -> str:
    """SQL for the hashtags of the post ``post_id`` (a column, qualified: ``p.post_id``; a bare
    ``post_id`` would mean post_hashtags' own) as a sorted list, ``[]`` for none.

    Use it on the few rows a query keeps (after its ``ORDER BY ... LIMIT``, in a CTE): asked for
    every post of a range before the limit it costs about a second at 1,000,000 posts.
    """
    return f"coalesce((SELECT list(h.hashtag ORDER BY h.hashtag) FROM post_hashtags h WHERE h.post_id = {post_id}), [])"


def whole_numbers(df: pd.DataFrame, columns: Iterable[str]) -> pd.DataFrame:
    """``df`` with its ``columns`` (those it has) as nullable integers, rounded: a count stays a
    count (``120``, not ``120.0``) and a missing one stays empty. Text columns are left alone."""
    import pandas as pd

    for column in columns:
        if column not in df:
            continue
        values = df[column]
        if values.dtype.kind == "O":  # e.g. DuckDB's HUGEINT sums arrive as Decimal objects
            try:
                values = pd.to_numeric(values)
            except (TypeError, ValueError):
                continue
        if values.dtype.kind in "fiu":
            df[column] = values.round().astype("Int64")
    return df
