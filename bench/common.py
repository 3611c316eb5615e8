"""Shared by the benchmarks: a figure, the printed table, handing figures to run.py, peak memory.

A benchmark builds ``Figure``s and calls ``print_table(title, figures)``. Run alone, that prints the
benchmark's table. Under ``bench/run.py`` (environment variable ``BENCH_FIGURES_FILE`` set), it appends
the figures as JSON lines to that file instead, and run.py prints one table of all the benchmarks.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import resource

FIGURES_FILE_ENV = "BENCH_FIGURES_FILE"


@dataclasses.dataclass
class Figure:
    figure: str
    value: float | None  # None: not measured (``note`` says why)
    unit: str
    baseline: float | None = None  # measured in the same run, in ``unit``
    target: str = ""  # "< 5 s", ">= 30,000 items/s and >= 300x", "< 2 GB": checked; other text: shown only
    note: str = ""  # what the baseline is, the size, why a value is missing

    @property
    def ratio(self) -> float | None:
        """value / baseline (so for a time, < 1 is faster than the baseline; for a rate, > 1 is)."""
        if self.value is None or not self.baseline:
            return None
        return self.value / self.baseline

    @property
    def met(self) -> bool | None:
        """Whether the target is met; None when there is no target or it cannot be checked."""
        return target_met(self.target, self.value, self.unit, self.ratio)

    def to_json(self, title: str) -> str:
        return json.dumps({"title": title, **dataclasses.asdict(self)}, ensure_ascii=False)

    @classmethod
    def from_json(cls, line: str) -> tuple[str, Figure]:
        data = json.loads(line)
        title = data.pop("title", "")
        fields = {f.name for f in dataclasses.fields(cls)}
        return title, cls(**{k: v for k, v in data.items() if k in fields})


# --- targets --------------------------------------------------------------------------------------

#: unit -> (dimension, factor to the dimension's base unit); other units must match the figure's exactly
_UNITS = {"ms": ("s", 1e-3), "s": ("s", 1.0), "min": ("s", 60.0), "kb": ("MB", 1 / 1024), "mb": ("MB", 1.0), "gb": ("MB", 1024.0)}
_OPS = {"<": float.__lt__, "<=": float.__le__, "≤": float.__le__, ">": float.__gt__, ">=": float.__ge__, "≥": float.__ge__}
_CLAUSE = re.compile(r"(<=|>=|≤|≥|<|>)\s*(\d{1,3}(?:,\d{3})+|\d+)(\.\d+)?\s*(\S+)?")
_SPLIT = re.compile(r"\s+and\s+|,\s+|;\s*")  # "30,000" has no space after its comma


def _in_base(number: float, unit: str) -> tuple[str, float]:
    dim, factor = _UNITS.get(unit.lower(), (unit, 1.0))
    return dim, number * factor


def target_met(target: str, value: float | None, unit: str, ratio: float | None) -> bool | None:
    """Check a target such as "< 5 s", "<= 2 GB" or ">= 30,000 items/s and >= 300x".

    Every clause must be a comparison with a number and an optional unit: none means the figure's
    unit, "x" means the ratio to the baseline, ms/s/min and KB/MB/GB convert. A target with any other
    text is not machine-checkable: None, as for an empty target or a missing value.
    """
    if not target.strip() or value is None:
        return None
    met = True
    for clause in _SPLIT.split(target.strip()):
        m = _CLAUSE.fullmatch(clause.strip())
        if not m:
            return None
        op, whole, frac, want_unit = m.groups()
        limit = float(whole.replace(",", "") + (frac or ""))
        if want_unit == "x":
            if ratio is None:
                return None
            got = ratio
        elif want_unit is None or want_unit == unit:
            got = float(value)
        else:
            dim_want, limit = _in_base(limit, want_unit)
            dim_have, got = _in_base(float(value), unit)
            if dim_want != dim_have:
                return None
        met = met and _OPS[op](float(got), limit)
    return met


# --- the table ------------------------------------------------------------------------------------


def number(x: float) -> str:
    """1,418 / 54.2 / 5.91 / 0.48: at least three significant digits, thousands separated."""
    return f"{x:,.0f}" if abs(x) >= 100 else f"{x:.3g}"


def cells(f: Figure) -> dict[str, str]:
    met = f.met
    return {
        "figure": f.figure,
        "value": f"{number(f.value)} {f.unit}".strip() if f.value is not None else "n/a",
        "baseline": f"{number(f.baseline)} {f.unit}".strip() if f.baseline else "",
        "ratio": f"{number(f.ratio)}x" if f.ratio is not None else "",
        "target": f.target,
        "met": "" if met is None else ("yes" if met else "NO"),
        "note": f.note,
    }


def render(headers: list[str], rows: list[dict[str, str]]) -> list[str]:
    """Aligned text columns; the "met" and "note" columns only when some row has one."""
    headers = [h for h in headers if h not in ("met", "note") or any(r.get(h) for r in rows)]
    table = [headers] + [[r.get(h, "") for h in headers] for r in rows]
    widths = [max(len(row[i]) for row in table) for i in range(len(headers))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in table]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return lines


HEADERS = ["figure", "value", "baseline", "ratio", "target", "met", "note"]


def print_table(title: str, figures: list[Figure]) -> None:
    path = os.environ.get(FIGURES_FILE_ENV)
    if path:  # under run.py: hand the figures over, it prints them in its one table
        with open(path, "a", encoding="utf-8") as out:
            out.writelines(f.to_json(title) + "\n" for f in figures)
        print(f"{title}: {len(figures)} figures handed to bench/run.py", flush=True)
        return
    print(f"\n## {title}")
    print("\n".join(render(HEADERS, [cells(f) for f in figures])), flush=True)


def peak_rss_mb_children() -> float:
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
