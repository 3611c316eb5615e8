"""Benchmark: set-based ingest of synthetic feed pages vs a row-by-row ORM-style baseline.

    .venv/bin/python bench/ingest.py                 # 1,000,000 items (targets below)
    .venv/bin/python bench/ingest.py --items 50000   # a quick look

Targets (issue 2): >= 30,000 items/s at 1,000,000 items, >= 300x the row-by-row baseline,
peak RSS < 1.5 GB. The ingest runs in a child process so its peak RSS is its own.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from common import Figure, print_table  # noqa: E402
from synthetic import World  # noqa: E402

T0 = dt.datetime(2026, 11, 1, 8, 1)


def write_raw(world: World, items: int, page_items: int, raw_dir: Path) -> int:
    from tiktok_intel.raw import write_page

    pages = 0
    for start in range(0, items, page_items):
        body = json.dumps(world.feed_page(start, page_items, T0, start), ensure_ascii=False)
        write_page(
            body,
            source="web",
            run_id="bench",
            page=pages,
            fetched_at=T0,
            hashtag="valet2026",
            raw_dir=raw_dir,
            extra={"rank_offset": start},
        )
        pages += 1
    return pages


def child_ingest(workspace: str) -> None:
    """Runs in a child process: ingest every raw page, print seconds and peak RSS as JSON."""
    import resource

    from tiktok_intel import settings
    from tiktok_intel.ingest.pages import ingest_pages, pending_pages
    from tiktok_intel.store import open_db

    settings.configure(settings.load_settings(environ={}, dotenv=None), workspace=Path(workspace))
    con = open_db()
    started = time.perf_counter()
    stats = ingest_pages(con, pending_pages(con), desc=None)  # ingest alone (process_pending also refreshes the search index)
    seconds = time.perf_counter() - started
    posts = con.execute("SELECT count(*) FROM posts").fetchone()[0]
    print(
        json.dumps(
            {
                "seconds": seconds,
                "items": stats.items_read,
                "posts": posts,
                "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            }
        )
    )


def row_by_row(world: World, items: int) -> float:
    """The baseline: one INSERT ... ON CONFLICT per row, as an ORM would do (items/s)."""
    import duckdb

    from tiktok_intel.parsing import Context, parse_json
    from tiktok_intel.schema import INGEST_TABLES

    with tempfile.TemporaryDirectory() as tmp:
        con = duckdb.connect(str(Path(tmp) / "rows.duckdb"))
        for table in INGEST_TABLES:  # as the original application had them: primary keys, upserts
            con.execute(table.ddl().rstrip().rstrip(");").rstrip() + f",\n  PRIMARY KEY ({', '.join(table.key)})\n);")
        pages = [world.feed_page(start, 30, T0, start) for start in range(0, items, 30)]
        started = time.perf_counter()
        for page in pages:
            batch = parse_json(page, Context(collected_at=T0, hashtag="valet2026"))
            for table in INGEST_TABLES:
                cols = table.column_names
                others = [c for c in cols if c not in table.key]
                update = ", ".join(f"{c} = EXCLUDED.{c}" for c in others) or None
                sql = f"INSERT INTO {table.name} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))}) " + (
                    f"ON CONFLICT DO UPDATE SET {update}" if update else "ON CONFLICT DO NOTHING"
                )
                for row in batch.rows[table.name]:
                    con.execute(sql, [row.get(c) for c in cols])
        seconds = time.perf_counter() - started
        con.close()
    return items / seconds


def main(argv: list[str] | None = None) -> list[Figure]:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--items", type=int, default=1_000_000)
    parser.add_argument("--scale", type=float, default=1.0, help="fraction of --items (and of --baseline-items)")
    parser.add_argument("--page-items", type=int, default=30, help="items per raw page (TikTok's web feed sends 30)")
    parser.add_argument("--baseline-items", type=int, default=3_000)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child_ingest(args.child)
        return []
    args.items = max(int(args.items * args.scale), args.page_items)
    args.baseline_items = max(int(args.baseline_items * min(args.scale * 10, 1.0)), 60)
    world = World(posts=args.items, authors=max(args.items // 20, 1), hashtags=20_000)
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        pages = write_raw(world, args.items, args.page_items, Path(tmp) / "raw")
        print(f"wrote {pages:,} raw pages of {args.page_items} items in {time.perf_counter() - started:.1f} s", file=sys.stderr)
        env = {**os.environ, "TIKTOK_INTEL_PROGRESS": "0"}
        out = subprocess.run([sys.executable, __file__, "--child", tmp], capture_output=True, text=True, env=env, check=True).stdout
        result = json.loads(out.strip().splitlines()[-1])
    assert result["items"] == args.items and result["posts"] == args.items, result
    baseline = row_by_row(World(posts=args.baseline_items, authors=max(args.baseline_items // 20, 1), hashtags=20_000), args.baseline_items)
    ours = result["items"] / result["seconds"]
    figures = [
        Figure(f"ingest {args.items:,} items ({pages:,} pages)", ours, "items/s", baseline, ">= 30,000 items/s and >= 300x"),
        Figure("ingest wall time", result["seconds"], "s"),
        Figure("ingest peak RSS", result["rss_mb"], "MB", target="< 1,500 MB"),
    ]
    print_table("ingest", figures)
    return figures


if __name__ == "__main__":
    main()
