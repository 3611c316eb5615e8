"""Benchmark: the store on one machine vs DuckLake (issue 19), side by side in one run.

    .venv/bin/python bench/scale.py                      # 20,000 items, 200,000 snapshots
    .venv/bin/python bench/scale.py --items 1000000 --snapshots 10000000   # the issue's size

Three stores, each new: the DuckDB file; DuckLake with a PostgreSQL catalog and its data files in a
local folder; DuckLake with a PostgreSQL catalog and its data files in S3 (moto on loopback). The
PostgreSQL cluster and the S3 server are started as the tests start them (tests/lake_services.py)
and torn down at the end. On each:

- ingest N synthetic feed items (raw pages of 30) by one writer, then on a new store by two writers
  at once (two processes, half the pages each, as two machines): on the DuckDB file both share one
  workspace, so they take turns through the write lock; on DuckLake each has a workspace of its own
  and their transactions conflict and are retried (``retrying_conflicts``). The figure is items/s
  from the first writer's start to the last one's end (process start and the store's open left out);
- meanwhile, a reader in a process of its own opens the store read-only and counts the posts every
  0.2 s (a dashboard's short read): on the DuckDB file it cannot open while a writer holds it;
- write M post snapshots (one ``INSERT``) and refresh the post trends in full (own process).

Where PostgreSQL or moto is missing, the DuckLake figures are ``n/a`` with the reason.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(BENCH.parent))
sys.path.insert(0, str(BENCH.parent / "tests"))  # lake_services: the tests' PostgreSQL and moto

from common import Figure, print_table  # noqa: E402

T0 = dt.datetime(2026, 11, 1, 8, 1)
STORES = ("DuckDB file", "DuckLake, PostgreSQL + local files", "DuckLake, PostgreSQL + S3 (moto)")


# ------------------------------------------------------------------ children (one process each)


def _configure(env: dict[str, str]) -> None:
    from tiktok_intel import settings

    os.environ.update(env)
    settings.configure(settings.load_settings(environ=env, dotenv=None))


def child(job: dict) -> dict:
    """One measured thing in a process of its own: ``init``, ``ingest`` (its raw folders) or ``trends``."""
    _configure(job["env"])
    from tiktok_intel.store import Workspace

    ws = Workspace.current()
    if job["what"] == "init":
        with ws.writing("bench init"):
            pass
        return {}
    if job["what"] == "ingest":
        from tiktok_intel.ingest.pages import ingest_pages, pending_pages
        from tiktok_intel.store import retrying_conflicts

        retries = []

        class Count(logging.Handler):
            def emit(self, record):
                if "transaction conflict" in record.getMessage():
                    retries.append(1)

        logging.getLogger("tiktok_intel").addHandler(Count())
        started = time.time()
        items = 0
        with ws.writing("bench ingest") as con:  # the DuckDB file: writers sharing the workspace take turns here
            for folder in job["raw"]:

                def once(folder=folder):
                    return ingest_pages(con, pending_pages(con, Path(folder)), desc=None)

                items += retrying_conflicts(once, what="bench ingest").items_read
        return {"started": started, "ended": time.time(), "items": items, "retries": len(retries)}
    if job["what"] == "reader":  # a dashboard's short reads while the writers write, until the stop file appears
        from tiktok_intel.store import open_db

        stop, reads, live, spent = Path(job["stop"]), 0, 0, 0.0
        while not stop.exists():
            t = time.perf_counter()
            reads += 1
            try:
                con = open_db(ws.db_target, read_only=True, migrate=False, wait_seconds=0)
            except Exception:  # noqa: BLE001 - the file is held by a writer: this read sees nothing live
                pass
            else:
                try:
                    con.execute("SELECT count(*) FROM posts").fetchone()
                    live += 1
                    spent += time.perf_counter() - t
                finally:
                    con.close()
            time.sleep(0.2)
        return {"reads": reads, "live": live, "ms": 1000 * spent / live if live else None}
    if job["what"] == "trends":
        from tiktok_intel import clock
        from tiktok_intel.analyses import trends

        posts, per_post = job["posts"], job["per_post"]
        with ws.connection() as con:
            t = time.perf_counter()
            con.execute(
                f"""
INSERT INTO post_stats
SELECT 'p' || p, ?::TIMESTAMP + to_hours(8 * s) + to_minutes((p % 60)::BIGINT),
       (p % 1000) * s + (hash(p, s) % 5000)::BIGINT, (p % 100) * s, s, (hash(s, p) % 50)::BIGINT, 0
FROM range({posts}) r(p), range({per_post}) q(s)""",
                [T0],
            )
            write = time.perf_counter() - t
        with ws.connection() as con:  # a new connection: nothing cached from the write
            t = time.perf_counter()
            with clock.frozen(T0 + dt.timedelta(hours=8 * per_post + 24)):
                done = trends.refresh_post_trends(con, full=True)
            refresh = time.perf_counter() - t
            rows = con.execute("SELECT count(*) FROM post_trends").fetchone()[0]
        assert rows == posts and done.recomputed == posts, (rows, done.recomputed)
        return {"write": write, "refresh": refresh}
    raise ValueError(job["what"])


def _spawn(job: dict) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TIKTOK_INTEL_")}
    env["TIKTOK_INTEL_PROGRESS"] = "0"
    return subprocess.Popen(
        [sys.executable, __file__, "--child", json.dumps(job)], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def _result(process: subprocess.Popen) -> dict:
    out, err = process.communicate(timeout=3600)
    if process.returncode != 0:
        raise RuntimeError(f"a benchmark child failed (exit {process.returncode}): {err.strip()[-2000:]}")
    return json.loads(out.strip().splitlines()[-1])


def _run(*jobs: dict) -> list[dict]:
    processes = [_spawn(job) for job in jobs]
    return [_result(p) for p in processes]


# ------------------------------------------------------------------ the stores


class Stores:
    """Makes a new, empty store of each kind; each call a new database (and bucket)."""

    def __init__(self, tmp: Path, pg, s3):
        self.tmp, self.pg, self.s3 = tmp, pg, s3

    def machines(self, kind: str, count: int) -> list[dict[str, str]]:
        """The settings of ``count`` writers on a new store of ``kind`` (environment variables)."""
        name = "b" + uuid.uuid4().hex[:10]
        base = {"TIKTOK_INTEL_PROGRESS": "0", "TIKTOK_INTEL_LOCK_TIMEOUT_SECONDS": "3600"}
        if kind == STORES[0]:  # one file: the writers share its workspace (and its write lock)
            folder = self.tmp / name
            return [{**base, "TIKTOK_INTEL_WORKSPACE": str(folder), "TIKTOK_INTEL_DB": str(folder / "tiktok.duckdb")}] * count
        target = "ducklake:postgres:" + self.pg.create_database(name)
        if kind == STORES[1]:
            lake = {"TIKTOK_INTEL_DUCKLAKE_DATA_PATH": str(self.tmp / name / "lake") + "/"}
        else:
            self.s3.create_bucket(name)
            lake = {"TIKTOK_INTEL_DUCKLAKE_DATA_PATH": f"s3://{name}/lake/", **self.s3.environ()}
        return [
            {**base, **lake, "TIKTOK_INTEL_DB": target, "TIKTOK_INTEL_WORKSPACE": str(self.tmp / name / f"machine{n}")}
            for n in range(count)
        ]


def _write_raw(items: int, page_items: int, folders: list[Path]) -> int:
    """Synthetic feed pages, dealt in turn to ``folders`` (each writer's share)."""
    from synthetic import World

    from tiktok_intel.raw import write_page

    world = World(posts=items, authors=max(items // 20, 1), hashtags=20_000)
    pages = 0
    for start in range(0, items, page_items):
        body = json.dumps(world.feed_page(start, page_items, T0, start), ensure_ascii=False)
        folder = folders[pages % len(folders)]
        write_page(
            body, source="web", run_id="bench", page=pages, fetched_at=T0, hashtag="valet2026", raw_dir=folder, extra={"rank_offset": start}
        )
        pages += 1
    return pages


def _ingest(stores: Stores, kind: str, writers: int, halves: list[Path]) -> dict:
    machines = stores.machines(kind, writers)
    _run({"what": "init", "env": machines[0]})
    if writers == 1:
        jobs = [{"what": "ingest", "env": machines[0], "raw": [str(h) for h in halves]}]
    else:
        jobs = [{"what": "ingest", "env": machines[n], "raw": [str(halves[n])]} for n in range(writers)]
    stop = stores.tmp / f"stop-{uuid.uuid4().hex[:6]}"
    reader = _spawn({"what": "reader", "env": machines[-1], "stop": str(stop)})
    results = _run(*jobs)
    stop.touch()
    read = _result(reader)
    seconds = max(r["ended"] for r in results) - min(r["started"] for r in results)
    return {"items": sum(r["items"] for r in results), "seconds": seconds, "retries": sum(r["retries"] for r in results), **read}


def main(argv: list[str] | None = None) -> list[Figure]:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--items", type=int, default=20_000, help="feed items ingested (default 20,000; the issue's size: 1000000)")
    parser.add_argument("--snapshots", type=int, default=200_000, help="post snapshots for the trends refresh (default 200,000)")
    parser.add_argument("--per-post", type=int, default=100, help="snapshots per post (one every 8 hours; default 100)")
    parser.add_argument("--scale", type=float, default=1.0, help="fraction of --items and --snapshots")
    parser.add_argument("--page-items", type=int, default=30, help="items per raw page (TikTok's web feed sends 30)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child(json.loads(args.child))))
        return []
    items = max(int(args.items * args.scale), 2 * args.page_items)
    posts = max(int(args.snapshots * args.scale) // args.per_post, 10)
    snapshots = posts * args.per_post

    import lake_services

    missing = lake_services.missing_postgres() or lake_services.missing_moto()
    kinds = STORES[:1] if missing else STORES
    pg = s3 = None
    ingest: dict[tuple[str, int], dict] = {}
    refresh: dict[str, dict] = {}
    try:
        if not missing:
            pg, s3 = lake_services.start_postgres(), lake_services.start_moto()
        with tempfile.TemporaryDirectory(prefix="bench-scale-") as tmp:
            tmp = Path(tmp)
            halves = [tmp / "raw-a", tmp / "raw-b"]
            t = time.perf_counter()
            pages = _write_raw(items, args.page_items, halves)
            print(f"wrote {pages:,} raw pages of {args.page_items} items in {time.perf_counter() - t:.1f} s", file=sys.stderr)
            stores = Stores(tmp, pg, s3)
            for kind in kinds:
                for writers in (1, 2):
                    done = ingest[kind, writers] = _ingest(stores, kind, writers, halves)
                    assert done["items"] == items, (kind, writers, done)
                    print(f"{kind}, {writers} writer(s): {done}", file=sys.stderr, flush=True)
                machine = stores.machines(kind, 1)[0]
                _run({"what": "init", "env": machine})
                refresh[kind] = _run({"what": "trends", "env": machine, "posts": posts, "per_post": args.per_post})[0]
                print(f"{kind}, trends: {refresh[kind]}", file=sys.stderr, flush=True)
    finally:
        if s3 is not None:
            s3.stop()
        if pg is not None:
            pg.stop()

    figures = []
    file = STORES[0]
    for writers in (1, 2):
        for kind in STORES:
            name = f"ingest {items:,} items, {kind}, {writers} writer{'s at once' if writers == 2 else ''}"
            if kind not in kinds:
                figures.append(Figure(name, None, "items/s", note=missing))
                continue
            done = ingest[kind, writers]
            rate = done["items"] / done["seconds"]
            if writers == 1:
                base = None if kind == file else ingest[file, 1]["items"] / ingest[file, 1]["seconds"]
                note = "" if kind == file else "baseline: the DuckDB file, 1 writer"
            else:
                base = ingest[kind, 1]["items"] / ingest[kind, 1]["seconds"]
                note = "baseline: this store, 1 writer; " + (
                    "they take turns (write lock)" if kind == file else f"{done['retries']} conflict retries"
                )
            figures.append(Figure(name, rate, "items/s", base, note=note))
    for kind in STORES:
        name = f"reads that saw live data while 2 writers ingested, {kind}"
        if kind not in kinds:
            figures.append(Figure(name, None, "%", note=missing))
            continue
        done = ingest[kind, 2]
        ms = f", {done['ms']:.0f} ms each (open + count)" if done["ms"] is not None else ""
        figures.append(Figure(name, 100 * done["live"] / max(done["reads"], 1), "%", note=f"{done['live']} of {done['reads']} reads{ms}"))
    for what, label in (
        ("write", f"write {snapshots:,} snapshots (one INSERT)"),
        ("refresh", f"post trends full refresh, {snapshots:,} snapshots"),
    ):
        for kind in STORES:
            if kind not in kinds:
                figures.append(Figure(f"{label}, {kind}", None, "s", note=missing))
                continue
            base = None if kind == file else refresh[file][what]
            figures.append(
                Figure(f"{label}, {kind}", refresh[kind][what], "s", base, note="" if kind == file else "baseline: the DuckDB file")
            )
    print_table("scale", figures)
    return figures


if __name__ == "__main__":
    main()
