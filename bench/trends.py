"""Benchmark: post trends refresh, full and incremental (printed figures, not a timed test).

    .venv/bin/python bench/trends.py              # 20,000 posts x 500 snapshots = 10,000,000 rows
    .venv/bin/python bench/trends.py --scale 0.01 # a smoke run in seconds

Targets (issue 4, on the 2-core machine): full refresh < 8 s; incremental for one collection's new
snapshots (half the posts) < 2 s.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("TIKTOK_INTEL_PROGRESS", "0")

from common import Figure, print_table  # noqa: E402

from tiktok_intel import clock  # noqa: E402
from tiktok_intel.analyses import trends  # noqa: E402
from tiktok_intel.store import open_db  # noqa: E402

START = dt.datetime(2026, 1, 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="fraction of 20,000 posts (snapshots per post stay 500)")
    args = parser.parse_args()
    posts = max(10, int(20_000 * args.scale))
    per_post = 500
    with tempfile.TemporaryDirectory() as tmp:
        con = open_db(Path(tmp) / "bench.duckdb")
        t = time.perf_counter()
        # one snapshot every 8 hours (about 166 days); counts grow irregularly
        con.execute(
            f"""
INSERT INTO post_stats
SELECT 'p' || p AS post_id, ?::TIMESTAMP + to_hours(8 * s) + to_minutes((p % 60)::BIGINT) AS collected_at,
       (p % 1000) * s + (hash(p, s) % 5000)::BIGINT AS views, (p % 100) * s AS likes, s AS comments, (hash(s, p) % 50)::BIGINT AS shares, 0
FROM range({posts}) r(p), range({per_post}) q(s)""",
            [START],
        )
        rows = con.execute("SELECT count(*) FROM post_stats").fetchone()[0]
        print(f"generated {rows:,} snapshots of {posts:,} posts in {time.perf_counter() - t:.1f} s")
        with clock.frozen(START + dt.timedelta(days=200)):
            t = time.perf_counter()
            full = trends.refresh_post_trends(con, full=True)
            full_s = time.perf_counter() - t
        # one collection: half the posts get a new snapshot 8 h after their last one
        con.execute(
            f"""
INSERT INTO post_stats
SELECT 'p' || p, ?::TIMESTAMP + to_hours(8 * {per_post}) + to_minutes((p % 60)::BIGINT), (p % 1000) * {per_post} + 7, 1, 1, 1, 0
FROM range(0, {posts}, 2) r(p)""",
            [START],
        )
        with clock.frozen(START + dt.timedelta(days=201)):
            t = time.perf_counter()
            inc = trends.refresh_post_trends(con)
            inc_s = time.perf_counter() - t
        nulls = con.execute("SELECT count(*) FILTER (WHERE views_change_30d IS NULL) FROM post_trends").fetchone()[0]
        con.close()
    print(full.summary())
    print(inc.summary())
    assert inc.recomputed == (posts + 1) // 2 and nulls == 0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    full_scale = args.scale >= 1  # the targets are for the full size
    print_table(
        "trends",
        [
            Figure(
                f"full refresh, {rows:,} snapshots",
                full_s,
                "s",
                1.0,
                "< 8 s" if full_scale else "",
                "baseline: docs/architecture.md's arg_max FILTER deltas, one metric, 9.96M rows",
            ),
            Figure(
                f"incremental, {inc.recomputed:,} posts changed",
                inc_s,
                "s",
                full_s,
                "< 2 s" if full_scale else "",
                "baseline: this run's full refresh",
            ),
            Figure("peak RSS of the process", peak, "MB", note="incl. generating the data"),
        ],
    )


if __name__ == "__main__":
    main()
