"""Run every benchmark in bench/ and print their tables (``make bench``; ``make bench SCALE=0.01`` for a quick look).

Each benchmark prints: figure, value, baseline (measured in the same run), ratio, target.
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
BENCHMARKS = ("ingest.py", "trends.py", "rules.py", "search.py", "dashboards.py")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", type=float, default=1.0, help="fraction of each benchmark's full size")
    args = parser.parse_args()
    failed = []
    for name in BENCHMARKS:
        started = time.perf_counter()
        print(f"\n# {name} (scale {args.scale})", flush=True)
        done = subprocess.run([sys.executable, str(HERE / name), "--scale", str(args.scale)])
        if done.returncode:
            failed.append(name)
        print(f"({name}: {time.perf_counter() - started:.0f} s)", flush=True)
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
