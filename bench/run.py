"""Run every benchmark in bench/ and print one table of all their figures (``make bench``; ``make bench SCALE=0.01``).

A benchmark is any bench/*.py but the helpers (common.py, synthetic.py, run.py, _*.py); each takes
``--scale`` and hands its figures over through ``common.print_table`` (BENCH_FIGURES_FILE). Their
progress shows as they run; the last thing printed is the table: benchmark, figure, value, baseline
(measured in the same run), ratio (value / baseline), target, met (where the target can be checked).
A benchmark that fails, or reports no figures, is a row saying so, and the exit status is 1.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from common import FIGURES_FILE_ENV, HEADERS, Figure, cells, render  # noqa: E402

HELPERS = {"common.py", "synthetic.py", "run.py"}


@dataclasses.dataclass
class Result:
    name: str  # "ingest"
    returncode: int
    figures: list[Figure]
    seconds: float = 0.0

    @property
    def failed(self) -> bool:
        return self.returncode != 0 or not self.figures


def discover(directory: Path = HERE) -> list[Path]:
    return sorted(p for p in directory.glob("*.py") if p.name not in HELPERS and not p.name.startswith("_"))


def read_figures(path: Path) -> list[Figure]:
    if not path.exists():
        return []
    return [Figure.from_json(line)[1] for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def run_one(script: Path, scale: float, figures_file: Path) -> Result:
    env = {**os.environ, FIGURES_FILE_ENV: str(figures_file), "PYTHONUNBUFFERED": "1"}
    started = time.perf_counter()
    done = subprocess.run([sys.executable, str(script), "--scale", str(scale)], env=env)
    return Result(script.stem, done.returncode, read_figures(figures_file), time.perf_counter() - started)


def combined_table(results: list[Result]) -> list[str]:
    rows = []
    for r in results:
        rows += [{"benchmark": r.name, **cells(f)} for f in r.figures]
        if r.returncode:
            rows.append({"benchmark": r.name, "figure": f"FAILED (exit {r.returncode})"})
        elif not r.figures:
            rows.append({"benchmark": r.name, "figure": "FAILED (no figures reported)"})
    return render(["benchmark", *HEADERS], rows)


def summary(results: list[Result], scale: float) -> str:
    checked = [f.met for r in results for f in r.figures if f.met is not None]
    failed = [r.name for r in results if r.failed]
    line = (
        f"## All benchmarks, scale {scale:g}: {len(results)} run in {sum(r.seconds for r in results):,.0f} s"
        f" ({', '.join(f'{r.name} {r.seconds:,.0f} s' for r in results)}); "
        + (f"FAILED: {', '.join(failed)}; " if failed else "none failed; ")
        + f"checkable targets met: {sum(checked)} of {len(checked)}"
    )
    if scale != 1:
        line += " (targets are set for full size, --scale 1)"
    return line


def main(argv: list[str] | None = None, bench_dir: Path = HERE) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="fraction of each benchmark's full size")
    parser.add_argument("names", nargs="*", help="only these benchmarks (e.g. ingest trends); default: all")
    args = parser.parse_args(argv)
    scripts = discover(bench_dir)
    if args.names:
        unknown = set(args.names) - {s.stem for s in scripts}
        if unknown:
            parser.error(f"no such benchmark: {', '.join(sorted(unknown))} (have: {', '.join(s.stem for s in scripts)})")
        scripts = [s for s in scripts if s.stem in args.names]
    results = []
    with tempfile.TemporaryDirectory(prefix="bench-figures-") as tmp:
        for script in scripts:
            print(f"\n# {script.name} (scale {args.scale:g})", flush=True)
            result = run_one(script, args.scale, Path(tmp) / f"{script.stem}.jsonl")
            print(f"# {script.name}: {result.seconds:,.0f} s, exit {result.returncode}", flush=True)
            results.append(result)
    print("\n" + summary(results, args.scale))
    print("\n".join(combined_table(results)), flush=True)
    return 1 if any(r.failed for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
