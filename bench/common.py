"""Shared by the benchmarks: the printed table and peak memory of a child process."""
from __future__ import annotations

import dataclasses
import resource


@dataclasses.dataclass
class Figure:
    figure: str
    value: float
    unit: str
    baseline: float | None = None  # measured in the same run
    target: str = ""

    @property
    def ratio(self) -> str:
        if not self.baseline:
            return ""
        return f"{self.value / self.baseline:,.1f}x"


def print_table(title: str, figures: list[Figure]) -> None:
    rows = [("figure", "value", "baseline", "ratio", "target")]
    for f in figures:
        rows.append((f.figure, f"{f.value:,.1f} {f.unit}", f"{f.baseline:,.1f} {f.unit}" if f.baseline else "", f.ratio, f.target))
    widths = [max(len(r[i]) for r in rows) for i in range(5)]
    print(f"\n## {title}")
    for n, row in enumerate(rows):
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip())
        if n == 0:
            print("  ".join("-" * w for w in widths))


def peak_rss_mb_children() -> float:
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
