"""Printing a DataFrame from a command: a readable table, or CSV / JSON for scripts.

Shared by every command that prints rows::

    from .output import add_format_argument, print_frame
    add_format_argument(parser)                      # --format table|csv|json
    print_frame(df, args.format, empty="no posts yet: run `tiktok-intel collect`")

- ``table``: aligned columns, missing values blank, floats to 2 decimals, lists joined with ", ",
  times in the people's time zone (setting ``timezone``) with a line naming it;
  the ``empty`` message (on stderr) when there are no rows.
- ``csv``: a header and one line per row, missing values empty, lists joined with ", ", times ISO 8601 (UTC, as stored).
- ``json``: one array of objects, missing values ``null``, lists as arrays, times ISO 8601.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import sys
from typing import Any, TextIO

import numpy as np
import pandas as pd

FORMATS = ("table", "csv", "json")


def say(message: str) -> None:
    """One line to the user on stderr, while a command works (a wait, a skipped file)."""
    print(f"tiktok-intel: {message}", file=sys.stderr, flush=True)


def add_format_argument(parser: argparse.ArgumentParser, default: str = "table") -> None:
    parser.add_argument(
        "--format", choices=FORMATS, default=default, help="table (readable, default), csv or json (machine-readable, on stdout)"
    )


def _is_missing(value: Any) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return False


def _plain(value: Any) -> Any:
    """A cell as a JSON-able Python value."""
    if isinstance(value, (list, tuple, np.ndarray, set, frozenset)):
        items = sorted(value) if isinstance(value, (set, frozenset)) else list(value)
        return [_plain(v) for v in items]
    if _is_missing(value):
        return None
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and math.isinf(value):
        return "inf" if value > 0 else "-inf"
    if isinstance(value, (pd.Timestamp, dt.datetime)):
        return value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, (dt.timedelta, pd.Timedelta)):
        return pd.Timedelta(value).isoformat()
    return value


def _text(value: Any, *, floats: str | None = None) -> str:
    """A cell as text for a table or CSV."""
    value = _plain(value)
    if value is None:
        return ""
    if isinstance(value, list):
        return ", ".join(_text(v) for v in value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if floats is not None:
            return format(value, floats)
        return repr(value)
    return str(value)


def records(df: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as JSON-able dicts (what ``--format json`` prints)."""
    columns = [str(c) for c in df.columns]
    return [dict(zip(columns, (_plain(v) for v in row))) for row in df.itertuples(index=False, name=None)]


def format_table(df: pd.DataFrame, *, max_width: int = 60) -> str:
    """Aligned columns: numbers right, text left; long text cut to ``max_width`` characters."""
    columns = [str(c) for c in df.columns]
    numeric = [df[c].dtype.kind in "iufb" or str(df[c].dtype) in ("Int64", "Float64") for c in df.columns]
    cells = []
    for row in df.itertuples(index=False, name=None):
        line = []
        for value in row:
            plain = _plain(value)
            text = _text(value, floats=(".4f" if abs(plain) < 1 else ",.2f") if isinstance(plain, float) else None)
            if isinstance(_plain(value), int) and not isinstance(_plain(value), bool):
                text = f"{_plain(value):,}"
            text = " ".join(text.split())
            if len(text) > max_width and not text.startswith("http"):
                text = text[: max_width - 1] + "…"
            line.append(text)
        cells.append(line)
    widths = [max([len(c)] + [len(r[i]) for r in cells]) for i, c in enumerate(columns)]

    def fmt(parts: list[str]) -> str:
        return "  ".join(p.rjust(w) if num else p.ljust(w) for p, w, num in zip(parts, widths, numeric)).rstrip()

    lines = [fmt(columns), fmt(["-" * w for w in widths])]
    lines.extend(fmt(r) for r in cells)
    return "\n".join(lines)


def print_frame(df: pd.DataFrame, fmt: str = "table", *, file: TextIO | None = None, empty: str | None = None) -> None:
    """Print ``df`` as ``fmt`` (table, csv or json) to ``file`` (stdout)."""
    out = file or sys.stdout
    if fmt == "json":
        out.write(json.dumps(records(df), ensure_ascii=False) + "\n")
    elif fmt == "csv":
        import csv

        writer = csv.writer(out, lineterminator="\n")
        writer.writerow([str(c) for c in df.columns])
        for row in df.itertuples(index=False, name=None):
            writer.writerow([_text(v) for v in row])
    elif fmt == "table":
        if df.empty:
            print(empty or "no rows", file=sys.stderr)
            return
        from ..localtime import label, local_frame

        times = [str(c) for c in df.columns if pd.api.types.is_datetime64_any_dtype(df[c].dtype)]
        out.write(format_table(local_frame(df, times)) + "\n")
        if times:  # the readable table shows people's time; csv and json keep the store's UTC
            out.write(f"(times in {label()})\n")
    else:
        raise ValueError(f"unknown format {fmt!r}: use one of {', '.join(FORMATS)}")
