"""Benchmark: post trends refresh, full and incremental (printed figures, not a timed test).

    .venv/bin/python bench/trends.py              # 20,000 posts x 500 snapshots = 10,000,000 rows
    .venv/bin/python bench/trends.py --scale 0.01 # a smoke run in seconds

Targets (issue 4, on the 2-core machine): full refresh < 8 s; incremental for one collection's new
snapshots (half the posts) < 2 s. Issue 20: the full refresh <= 1.5x the bare ``arg_max ... FILTER``
aggregate (one metric, three windows) over the same snapshots, measured in this run; peak RSS of
the refresh itself < 500 MB. Both run in a child process of their own on the file the parent
generated, so each RSS is that of the query alone, not of the data generation.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import subprocess
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


BASELINE_SQL = """
WITH lat AS (SELECT post_id, max(collected_at) AS t FROM post_stats GROUP BY post_id)
SELECT count(*), sum(cur - coalesce(w1d, 0)), sum(cur - coalesce(w7d, 0)), sum(cur - coalesce(w30d, 0)) FROM (
  SELECT s.post_id, arg_max(s.views, s.collected_at) AS cur,
         arg_max(s.views, s.collected_at) FILTER (WHERE s.collected_at <= l.t - INTERVAL 1 DAY) AS w1d,
         arg_max(s.views, s.collected_at) FILTER (WHERE s.collected_at <= l.t - INTERVAL 7 DAY) AS w7d,
         arg_max(s.views, s.collected_at) FILTER (WHERE s.collected_at <= l.t - INTERVAL 30 DAY) AS w30d
  FROM post_stats s JOIN lat l USING (post_id) GROUP BY s.post_id)
"""

#: The same aggregate carrying the four metrics the refresh computes (views, likes, comments, shares)
#: as one struct: the work the refresh is asked for, without its writes.
FOUR_METRICS_SQL = (
    BASELINE_SQL.replace("arg_max(s.views,", "arg_max({'views': s.views, 'likes': s.likes, 'comments': s.comments, 'shares': s.shares},")
    .replace("cur - coalesce(w", "cur.views - coalesce(w")
    .replace("d, 0))", "d.views, 0))")
)


def child(path: str, what: str) -> None:
    """Run one measured thing on the generated file and print its time and this process's peak RSS."""
    con = open_db(Path(path))
    t = time.perf_counter()
    if what == "baseline":
        con.execute(BASELINE_SQL).fetchall()
    elif what == "four":
        con.execute(FOUR_METRICS_SQL).fetchall()
    else:
        with clock.frozen(START + dt.timedelta(days=200)):
            trends.refresh_post_trends(con, full=True)
    seconds = time.perf_counter() - t
    con.close()
    print(json.dumps({"seconds": seconds, "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))


def measured(path: Path, what: str) -> dict:
    done = subprocess.run([sys.executable, __file__, "--child", what, str(path)], capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="fraction of 20,000 posts (snapshots per post stay 500)")
    parser.add_argument("--child", nargs=2, metavar=("WHAT", "FILE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[1], args.child[0])
        return
    posts = max(10, int(20_000 * args.scale))
    per_post = 500
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.duckdb"
        con = open_db(path)
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
        con.execute("CHECKPOINT")
        con.close()
        base = measured(path, "baseline")
        four = measured(path, "four")
        full = measured(path, "full")
        print(f"baseline {base}, the same carrying the 4 metrics {four}, full refresh {full}")
        con = open_db(path)
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
    print(inc.summary())
    assert inc.recomputed == (posts + 1) // 2 and nulls == 0
    full_scale = args.scale >= 1  # the targets are for the full size
    print_table(
        "trends",
        [
            Figure(
                f"full refresh, {rows:,} snapshots",
                full["seconds"],
                "s",
                base["seconds"],
                "<= 1.5x",
                "baseline: bare arg_max FILTER aggregate (views, 1/7/30 d), this run, own process",
            ),
            Figure(
                "full refresh, against the aggregate carrying its 4 metrics",
                full["seconds"],
                "s",
                four["seconds"],
                "",
                "baseline: the same arg_max FILTER aggregate of a struct of views, likes, comments, shares; this run, own process",
            ),
            Figure(
                f"incremental, {inc.recomputed:,} posts changed",
                inc_s,
                "s",
                full["seconds"],
                "< 2 s" if full_scale else "",
                "baseline: this run's full refresh",
            ),
            Figure(
                "peak RSS of the full refresh", full["rss_mb"], "MB", base["rss_mb"], "< 500 MB", "own process; baseline: the aggregate's"
            ),
        ],
    )


if __name__ == "__main__":
    main()
