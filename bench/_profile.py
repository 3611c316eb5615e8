"""Where the time goes in issue 20's unmet gaps: profiles, not figures (run.py skips ``_`` files).

    .venv/bin/python bench/_profile.py dup 200000      # near-duplicate pairs of N random hashes, by stage
    .venv/bin/python bench/_profile.py text 200000     # text index full build of N posts (cProfile)
    .venv/bin/python bench/_profile.py refresh 1000000 # text index refresh, 1,000 of N posts changed, by statement
    .venv/bin/python bench/_profile.py import 20000    # `import DIR` of N items (cProfile), beside the ceiling
    .venv/bin/python bench/_profile.py trends 4000     # full trends refresh of N posts x 500 (DuckDB operators)
    .venv/bin/python bench/_profile.py dashboards 1000000  # the Hashtags/Related/Reports data calls on
                                                           # bench/dashboards.py's synthetic workspace

Each prints its stages (or cProfile's top functions) with their seconds; bench/README.md gives the
shares measured. One thread where threads would hide the stages (``dup``).
"""

from __future__ import annotations

import cProfile
import io
import json
import os
import pstats
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("TIKTOK_INTEL_PROGRESS", "0")


def _top(profile: cProfile.Profile, n: int = 25) -> None:
    for order in ("cumulative", "tottime"):
        out = io.StringIO()
        pstats.Stats(profile, stream=out).sort_stats(order).print_stats(n)
        print(out.getvalue())


def _workspace(folder: Path) -> None:
    from tiktok_intel import settings

    settings.configure(settings.load_settings(environ={}, dotenv=None), workspace=folder)


def dup(n: int) -> None:
    import numpy as np

    from tiktok_intel.search import dupindex

    rng = np.random.default_rng(1)
    ph = rng.integers(0, 2**63, n, dtype=np.int64).astype(np.uint64) * np.uint64(2) + np.uint64(1)
    dh = rng.integers(0, 2**63, n, dtype=np.int64).astype(np.uint64)
    stages = {"keys (pext)": 0.0, "runs of equal keys: gathered by length, compared, verified": 0.0}
    key, runs = dupindex._key, dupindex._run_pairs

    def timed_key(*args):
        t = time.perf_counter()
        out = key(*args)
        stages["keys (pext)"] += time.perf_counter() - t
        return out

    def timed_runs(*args):
        t = time.perf_counter()
        out = runs(*args)
        stages["runs of equal keys: gathered by length, compared, verified"] += time.perf_counter() - t
        return out

    dupindex._key, dupindex._run_pairs, dupindex.THREADS = timed_key, timed_runs, 1
    scheme = dupindex.choose_scheme(n, 10)
    t = time.perf_counter()
    left, _ = dupindex.near_pairs(ph, dh, 10)
    total = time.perf_counter() - t
    stages["radix sorts and gathers (the rest)"] = total - sum(stages.values())
    print(f"near_pairs, {n:,} random hashes, radius 10, {scheme.tables(10)} tables, one thread: {total:.1f} s, {len(left):,} pairs")
    for name, seconds in stages.items():
        print(f"  {name:58s} {seconds:7.2f} s  {seconds / total:5.1%}")


def text(n: int) -> None:
    import search as bench_search

    from tiktok_intel.search import refresh_index
    from tiktok_intel.store import open_db

    _workspace(Path(tempfile.mkdtemp(prefix="profile-text-")) / "data")
    con = open_db()
    bench_search.populate(con, n)
    profile = cProfile.Profile()
    t = time.perf_counter()
    profile.enable()
    refresh_index(con, rebuild=True)
    profile.disable()
    print(f"full build, {n:,} posts: {time.perf_counter() - t:.1f} s; tantivy alone: {bench_search.tantivy_alone(con):.1f} s")
    _top(profile)


def refresh(n: int) -> None:
    """The index refresh after 1,000 of ``n`` posts changed (as ``bench/search.py`` changes them), by statement."""
    import search as bench_search

    from tiktok_intel.search import refresh_index
    from tiktok_intel.search import text as search_text
    from tiktok_intel.store import open_db

    _workspace(Path(tempfile.mkdtemp(prefix="profile-refresh-")) / "data")
    con = open_db()
    bench_search.populate(con, n)
    refresh_index(con, rebuild=True)
    con.execute(
        "UPDATE posts SET views = views + 1, last_seen_at = TIMESTAMP '2026-11-02' WHERE post_id IN "
        "(SELECT post_id FROM posts USING SAMPLE 1000 ROWS)"
    )
    stages: dict[str, float] = {}

    def note(name: str, seconds: float) -> None:
        stages[name] = stages.get(name, 0.0) + seconds

    class Timed:  # each statement's seconds (fetching included for the ones fetched at once)
        def __getattr__(self, name):
            return getattr(con, name)

        def execute(self, sql, *args):
            t = time.perf_counter()
            out = con.execute(sql, *args)
            note("SQL: " + " ".join(sql.split())[:90], time.perf_counter() - t)
            return out

    writer = search_text._writer

    def timed_writer(*args, **kwargs):
        w = writer(*args, **kwargs)

        class W:
            def __getattr__(self, name):
                method = getattr(w, name)

                def call(*a, **k):
                    t = time.perf_counter()
                    out = method(*a, **k)
                    note("tantivy: " + name, time.perf_counter() - t)
                    return out

                return call

        return W()

    search_text._writer = timed_writer
    t = time.perf_counter()
    changed = refresh_index(Timed())
    total = time.perf_counter() - t
    search_text._writer = writer
    print(f"index refresh, 1,000 of {n:,} posts changed: {total:.2f} s, {changed} (re)indexed")
    for name, seconds in sorted(stages.items(), key=lambda kv: -kv[1]):
        print(f"  {seconds:7.3f} s  {seconds / total:5.1%}  {name}")
    print(f"  {total - sum(stages.values()):7.3f} s  the rest (Python, opening the index, its reload)")


def imports(items: int) -> None:
    import duckdb
    import imports as bench_imports
    from synthetic import World

    from tiktok_intel.imports import import_paths
    from tiktok_intel.store import open_db

    tmp = Path(tempfile.mkdtemp(prefix="profile-import-"))
    world = World(posts=items, authors=max(items // 20, 1), hashtags=20_000)
    folder = tmp / "pages"
    folder.mkdir()
    for page, start in enumerate(range(0, items, 30)):
        body = world.feed_page(start, min(30, items - start), bench_imports.T0, start)
        (folder / f"page-{page:06d}.json").write_text(json.dumps(body, ensure_ascii=False), encoding="utf-8")
    t = time.perf_counter()
    duckdb.connect().execute(bench_imports.CEILING_SQL, [f"{folder}/*.json"]).fetchone()
    print(f"ceiling (read_json, flattened), {items:,} items: {time.perf_counter() - t:.2f} s")
    _workspace(tmp / "data")
    con = open_db()
    profile = cProfile.Profile()
    t = time.perf_counter()
    profile.enable()
    import_paths(con, [str(folder)], collected_at=bench_imports.T0)
    profile.disable()
    print(f"import DIR, {items:,} items: {time.perf_counter() - t:.2f} s")
    _top(profile, 40)


def trends(posts: int) -> None:
    import datetime as dt

    import trends as bench_trends

    from tiktok_intel import clock
    from tiktok_intel.analyses import trends as analyses_trends
    from tiktok_intel.store import open_db

    tmp = Path(tempfile.mkdtemp(prefix="profile-trends-"))
    con = open_db(tmp / "b.duckdb")
    con.execute(
        f"""INSERT INTO post_stats
SELECT 'p' || p, ?::TIMESTAMP + to_hours(8 * s) + to_minutes((p % 60)::BIGINT), (p % 1000) * s + (hash(p, s) % 5000)::BIGINT,
       (p % 100) * s, s, (hash(s, p) % 50)::BIGINT, 0
FROM range({posts}) r(p), range(500) q(s)""",
        [bench_trends.START],
    )
    struct = bench_trends.FOUR_METRICS_SQL
    for name, sql in (
        ("baseline: arg_max of views, 3 windows", bench_trends.BASELINE_SQL),
        ("the same, arg_max of the 4 metrics' struct", struct),
    ):
        t = time.perf_counter()
        con.execute(sql).fetchall()
        print(f"{name:48s} {time.perf_counter() - t:6.2f} s")
    con.execute("SET enable_profiling = 'json'")
    con.execute(f"SET profiling_output = '{tmp}/profile.json'")
    slowest: list = [0.0, "", None]

    class Profiled:  # each statement's profile is written over the last: keep the slowest statement's
        def __getattr__(self, name):
            return getattr(con, name)

        def execute(self, sql, *args):
            t = time.perf_counter()
            out = con.execute(sql, *args)
            seconds = time.perf_counter() - t
            if seconds > slowest[0] and (tmp / "profile.json").exists():  # (BEGIN writes none)
                slowest[:] = [seconds, " ".join(sql.split())[:100], json.loads((tmp / "profile.json").read_text())]
            return out

    t = time.perf_counter()
    with clock.frozen(bench_trends.START + dt.timedelta(days=200)):
        analyses_trends.refresh_post_trends(Profiled(), full=True)
    print(f"{'full refresh (refresh_post_trends)':48s} {time.perf_counter() - t:6.2f} s")
    con.execute("SET enable_profiling = 'no_output'")
    print(f"its slowest statement, {slowest[0]:.2f} s: {slowest[1]} ...")

    def walk(node: dict, out: list) -> None:
        out.append((node.get("operator_timing", 0.0), node.get("operator_name") or node.get("operator_type") or ""))
        for child in node.get("children", []):
            walk(child, out)

    operators: list = []
    walk(slowest[2], operators)
    busy = sum(seconds for seconds, _ in operators)
    for seconds, name in sorted(operators, reverse=True)[:6]:
        print(f"  {name:30s} {seconds:6.2f} s  {seconds / busy:5.1%} of the operators' thread time")


def dashboards(posts: int) -> None:
    import dashboards as bench_dashboards
    import duckdb

    from tiktok_intel.analyses import rules
    from tiktok_intel.analyses import trends as analyses_trends
    from tiktok_intel.analyses.hashtags import hashtag_popularity
    from tiktok_intel.dashboards import data
    from tiktok_intel.dashboards import hashtags as hashtags_dashboard
    from tiktok_intel.dashboards import reports as reports_dashboard

    db = Path(tempfile.mkdtemp(prefix="profile-dashboards-")) / "data" / "tiktok.duckdb"
    db.parent.mkdir(parents=True)
    bench_dashboards.build(db, posts)
    con = duckdb.connect(str(db), read_only=True)
    calls = {
        "Hashtags: tracked list": lambda: hashtags_dashboard._tracked_frame(con),
        "Hashtags: popularity": lambda: hashtag_popularity(con),
        "Hashtags: trending posts of a hashtag": lambda: analyses_trends.top_trending_posts(con, "1d", "views", hashtag="klimat", limit=10),
        "Related: latest rules run and its rules": lambda: (rules.latest_run(con), rules.stored_rules(con)),
        "Reports: hashtag choices": lambda: data.known_hashtags(con),
        "Reports: top posts": lambda: reports_dashboard.report_frame(con),
    }
    for name, call in calls.items():
        seconds = []
        for _ in range(3):
            t = time.perf_counter()
            call()
            seconds.append(time.perf_counter() - t)
        print(f"{name:42s} median {sorted(seconds)[1]:6.3f} s")


if __name__ == "__main__":
    what, size = sys.argv[1], int(sys.argv[2])
    {"dup": dup, "text": text, "refresh": refresh, "import": imports, "trends": trends, "dashboards": dashboards}[what](size)
