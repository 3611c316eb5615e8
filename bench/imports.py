"""Benchmark: ``tiktok-intel import DIR`` of web feed pages end to end (raw copy, checksums, ingest,
index refresh) against DuckDB's ``read_json`` of the same files flattened to columns (no store):
the ceiling, measured in the same run.

    .venv/bin/python bench/imports.py              # 200,000 items in pages of 30
    .venv/bin/python bench/imports.py --scale 0.05 # 10,000 items: seconds

Target (issue 20): >= 50 % of the ceiling, raw pages still kept and checksummed. Both run in a
child process of their own.
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

CEILING_SQL = """
SELECT count(*), count(DISTINCT id), sum(playCount) FROM (
  SELECT i.id, i.desc, i.createTime, i.author.id AS author_id, i.author.uniqueId AS unique_id, i.stats.playCount AS playCount,
         i.stats.diggCount AS likes, len(i.challenges) AS tags
  FROM (SELECT unnest(itemList) AS i FROM read_json(?, maximum_object_size = 100000000)))
"""


def child(what: str, folder: str, workspace: str) -> None:
    import resource

    started = time.perf_counter()
    if what == "ceiling":
        import duckdb

        items = duckdb.connect().execute(CEILING_SQL, [f"{folder}/*.json"]).fetchone()[0]
    else:
        from tiktok_intel import settings
        from tiktok_intel.imports import import_paths
        from tiktok_intel.store import open_db

        settings.configure(settings.load_settings(environ={}, dotenv=None), workspace=Path(workspace))
        con = open_db()
        stats = import_paths(con, [folder], collected_at=T0)
        items = stats.items_read
        con.close()
    seconds = time.perf_counter() - started
    print(json.dumps({"seconds": seconds, "items": items, "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))


def run(what: str, folder: Path, workspace: Path) -> dict:
    env = {**os.environ, "TIKTOK_INTEL_PROGRESS": "0"}
    out = subprocess.run(
        [sys.executable, __file__, "--child", what, str(folder), str(workspace)], capture_output=True, text=True, env=env, check=True
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> list[Figure]:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--items", type=int, default=200_000)
    parser.add_argument("--scale", type=float, default=1.0, help="fraction of --items")
    parser.add_argument("--page-items", type=int, default=30, help="items per page file (TikTok's web feed sends 30)")
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(*args.child)
        return []
    items = max(int(args.items * args.scale), args.page_items)
    world = World(posts=items, authors=max(items // 20, 1), hashtags=20_000)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "pages"
        folder.mkdir()
        for page, start in enumerate(range(0, items, args.page_items)):
            body = world.feed_page(start, min(args.page_items, items - start), T0, start)
            (folder / f"page-{page:06d}.json").write_text(json.dumps(body, ensure_ascii=False), encoding="utf-8")
        pages = page + 1
        ceiling = run("ceiling", folder, Path(tmp) / "ws-ceiling")
        ours = run("import", folder, Path(tmp) / "data")
        raw = Path(tmp) / "data" / "raw"
        kept = sum(1 for _ in raw.rglob("*.meta.json")) if raw.exists() else 0
        raw_bytes = sum(p.stat().st_size for p in raw.rglob("*") if p.is_file()) if raw.exists() else 0
        source_bytes = sum(p.stat().st_size for p in folder.iterdir())
    assert ceiling["items"] == items and ours["items"] == items, (ceiling, ours)
    assert kept == pages, (kept, pages)
    figures = [
        Figure(
            f"import DIR, {items:,} items ({pages:,} pages), end to end",
            items / ours["seconds"],
            "items/s",
            items / ceiling["seconds"],
            ">= 0.5x",
            "baseline: DuckDB read_json of the files, flattened, no store",
        ),
        Figure(
            "raw zone kept, bytes of the source files", raw_bytes / max(source_bytes, 1) * 100, "%", note=f"{kept:,} pages, checksummed"
        ),
        Figure("import peak RSS", ours["rss_mb"], "MB"),
    ]
    print_table("imports", figures)
    return figures


if __name__ == "__main__":
    main()
