"""Load: `tiktok-intel search` (and `report`) runs while an import loop writes, against the same runs with no import.

    .venv/bin/python bench/load.py                 # 200 searches, 20 reports, imports of 20,000 items
    .venv/bin/python bench/load.py --scale 0.1     # 20 searches, 5 reports, imports of 2,000 items

Every run is its own `tiktok-intel` process, as a user or a script starts it: first the baseline
(the searches and reports with nothing else running), then the same runs while another process
imports feed files one after another (each import a writing run: write lock, ingest, search index
refresh, read copy). Counted: runs that failed (exit status not 0; must be 0), their times (p50,
p95, worst), and the imports (all must succeed: readers must not stop writers either). Local files
only, no network. Bounded: each run has a time limit (``--run-timeout``), the whole a deadline.
The dashboards' 30 views under the same load are the dashboards' half (not measured here).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from common import Figure, print_table  # noqa: E402
from synthetic import World  # noqa: E402

T0 = dt.datetime(2026, 11, 1, 8, 1)
CLI = [sys.executable, "-m", "tiktok_intel"]
#: What the searches ask, in turn: words of the synthetic captions, hashtags, authors, filters.
SEARCHES = [
    ["inlägg"],
    ["valet2026"],
    ["#klimat"],
    ["inlägg", "--hashtag", "svtnyheter"],
    ["--author", "user7"],
    ["inlägg", "--min-views", "5000", "--limit", "50"],
    ["sverige", "--since", "2026-10-01"],
    ["politik nyheter"],
]
REPORTS = [["report", "top-posts", "--limit", "5"], ["report", "top-authors", "--limit", "5"], ["trends", "--limit", "5"]]


def write_feeds(folder: Path, files: int, items: int) -> list[Path]:
    """``files`` feed files of ``items`` distinct posts each (web item list shape)."""
    world = World(posts=files * items, authors=max(10, files * items // 20), hashtags=2_000)
    paths = []
    for n in range(files):
        page = {"statusCode": 0, "itemList": world.feed_page(n * items, items, T0, n * items)["itemList"], "hasMore": False}
        path = folder / f"feed{n:03}.json"
        path.write_text(json.dumps(page, ensure_ascii=False), encoding="utf-8")
        paths.append(path)
    return paths


def cli(db: Path, argv: list[str], timeout: float) -> tuple[float, int, str]:
    """One `tiktok-intel` process: seconds, exit status, the first line of its stderr."""
    started = time.perf_counter()
    try:
        done = subprocess.run([*CLI, "--db", str(db), *argv], capture_output=True, text=True, timeout=timeout, cwd=db.parent.parent)
        code, err = done.returncode, done.stderr
    except subprocess.TimeoutExpired:
        code, err = -1, f"timed out after {timeout:.0f} s"
    lines = [line for line in err.splitlines() if line.strip()]
    return time.perf_counter() - started, code, (lines[-1] if code else (lines[0] if lines else ""))


def phase(db: Path, runs: list[list[str]], parallel: int, timeout: float) -> list[tuple[list[str], float, int, str]]:
    with ThreadPoolExecutor(parallel) as pool:
        results = list(pool.map(lambda argv: (argv, *cli(db, argv, timeout)), runs))
    return results


class ImportLoop(threading.Thread):
    """Imports the feed files one after another (round and round) until stopped."""

    def __init__(self, db: Path, feeds: list[Path], timeout: float):
        super().__init__(daemon=True)
        self.db, self.feeds, self.timeout = db, feeds, timeout
        self.stop = threading.Event()
        self.started_one = threading.Event()
        self.results: list[tuple[float, int, str]] = []

    def run(self) -> None:
        n = 0
        while not self.stop.is_set():
            self.started_one.set()
            self.results.append(cli(self.db, ["import", str(self.feeds[n % len(self.feeds)])], self.timeout))
            n += 1


def _quantile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main(argv: list[str] | None = None) -> list[Figure]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="fraction of the full size (200 searches, imports of 20,000 items)")
    parser.add_argument("--searches", type=int, help="search runs per phase (default 200 x scale, at least 20)")
    parser.add_argument("--reports", type=int, help="report / trends runs per phase (default 20 x scale, at least 5)")
    parser.add_argument("--parallel", type=int, default=4, help="runs at a time (default 4)")
    parser.add_argument("--run-timeout", type=float, default=180.0, help="seconds one run may take (default 180)")
    args = parser.parse_args(argv)
    searches = args.searches or max(20, round(200 * args.scale))
    reports = args.reports or max(5, round(20 * args.scale))
    items = max(300, int(20_000 * args.scale))
    env_progress = os.environ.get("TIKTOK_INTEL_PROGRESS")
    os.environ["TIKTOK_INTEL_PROGRESS"] = "0"
    figures: list[Figure] = []
    try:
        with tempfile.TemporaryDirectory(prefix="bench-load-") as tmp:
            db = Path(tmp) / "data" / "tiktok.duckdb"
            feeds = write_feeds(Path(tmp), 6, items)
            seconds, code, err = cli(db, ["import", str(feeds[0])], args.run_timeout)
            if code:
                raise SystemExit(f"the first import failed: {err}")
            cli(db, ["trends", "--refresh"], args.run_timeout)
            print(
                f"workspace of {items:,} posts imported in {seconds:.1f} s; {searches} searches and {reports} reads per phase, {args.parallel} at a time",
                flush=True,
            )
            runs = [["search", *SEARCHES[n % len(SEARCHES)]] for n in range(searches)] + [REPORTS[n % len(REPORTS)] for n in range(reports)]
            runs = [runs[n] for n in sorted(range(len(runs)), key=lambda n: (n * 7919) % len(runs))]  # reads mixed in among searches

            started = time.perf_counter()
            baseline = phase(db, runs, args.parallel, args.run_timeout)
            print(f"baseline: {len(baseline)} runs in {time.perf_counter() - started:.1f} s", flush=True)

            loop = ImportLoop(db, feeds[1:] + feeds[:1], args.run_timeout)
            loop.start()
            loop.started_one.wait(30)
            time.sleep(1.0)  # the first import is under way (its process starting, then writing)
            started = time.perf_counter()
            loaded = phase(db, runs, args.parallel, args.run_timeout)
            print(f"while importing: {len(loaded)} runs in {time.perf_counter() - started:.1f} s", flush=True)
            loop.stop.set()
            loop.join(args.run_timeout + 30)

            def split(results, kind):
                chosen = [r for r in results if (r[0][0] == "search") == (kind == "search")]
                return (
                    [r[1] for r in chosen if r[2] == 0],
                    [r for r in chosen if r[2] != 0],
                    [r for r in chosen if "reading the copy" in r[3]],
                )

            imports_ok = [r for r in loop.results if r[1] == 0]
            imports_failed = [r for r in loop.results if r[1] != 0]
            note = f"baseline: the same runs with no import; imports of {items:,} items, {args.parallel} runs at a time"
            for kind, total in (("search", searches), ("report/trends", reports)):
                base_times, base_failed, _ = split(baseline, kind)
                times, failed, copies = split(loaded, kind)
                figures.append(
                    Figure(f"{kind} runs failed while importing (of {total})", len(failed), "runs", len(base_failed), "< 1", note)
                )
                for label, q in (("p50", 0.5), ("p95", 0.95)):
                    figures.append(
                        Figure(f"{kind} run {label} while importing", _quantile(times, q), "s", _quantile(base_times, q), "", note)
                    )
                figures.append(
                    Figure(f"{kind} run worst while importing", max(times, default=None), "s", max(base_times, default=None), "", note)
                )
                if kind != "search":
                    figures.append(
                        Figure("reads answered from the read copy", len(copies), "runs", None, "", "the rest waited for the database")
                    )
                for argv, _, code, err in failed[:3]:
                    print(f"FAILED ({code}) tiktok-intel {' '.join(argv)}: {err}")
            figures.append(
                Figure(
                    "imports while the runs ran",
                    len(loop.results),
                    "imports",
                    None,
                    "",
                    f"{len(imports_ok)} ok, p50 {statistics.median([r[0] for r in imports_ok]) if imports_ok else 0:.1f} s each",
                )
            )
            figures.append(Figure("imports failed", len(imports_failed), "imports", None, "< 1", "readers must not stop a writer"))
            for _, code, err in imports_failed[:3]:
                print(f"FAILED import ({code}): {err}")
            figures.append(
                Figure("dashboard views while importing", None, "views", None, "", "the dashboards' half of the load test: not run here")
            )
    finally:
        if env_progress is None:
            os.environ.pop("TIKTOK_INTEL_PROGRESS", None)
        else:
            os.environ["TIKTOK_INTEL_PROGRESS"] = env_progress
    print_table("Load: CLI reads while an import loop writes", figures)
    return figures


if __name__ == "__main__":
    main()
