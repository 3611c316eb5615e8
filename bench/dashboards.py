"""Time to first render of every dashboard, served by Voilà, opened in Chromium (figures, not a test).

    .venv/bin/python bench/dashboards.py              # 1,000,000 posts (target: each dashboard < 5 s)
    .venv/bin/python bench/dashboards.py --scale 0.01 # 10,000 posts, quick

The workspace is synthetic, written straight into DuckDB with SQL (posts, authors, hashtags,
post-hashtag links, feed appearances, monitoring snapshots, trends, one rules run, flow runs).
Each dashboard is opened ``--views`` times, each in a fresh browser context (nothing cached),
with a pause between rounds for Voilà to heat the next kernel. "Render" is the time from
navigation to the dashboard's last panel being visible. Measured as `tiktok-intel dashboards`
serves (pre-heated kernels, the default), in one run: quiet (baseline `--no-preheat`, a kernel
started for each page; `--no-no-preheat-baseline` leaves it out), then while `tiktok-intel import`
loops on the same workspace as a content flow's writing part does (write lock, ingest, search
index refresh, read copy), against the quiet figures. Targets (issue 20): <= 3 s quiet, <= 5 s
while importing. A view that does not render (a panel's message, the busy page, 120 s) is counted.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from common import Figure, print_table  # noqa: E402

#: Dashboard -> selector of what shows last.
READY = {
    "index": "a.ti-dashboard-link",
    "overview": ".ti-run",
    "hashtags": ".ti-tracked",
    "trends": ".ti-trending",
    "related_hashtags": ".ti-rule-count",
    "search": ".ti-dup-count, .ti-message",
    "reports": ".ti-report",
}


def build(db: Path, posts: int) -> None:
    from tiktok_intel.store import open_db

    authors, tags = max(100, posts // 20), max(50, posts // 200)
    con = open_db(db)
    t0 = "TIMESTAMP '2026-11-01 08:00:00'"
    con.execute(f"""INSERT INTO authors (author_id, unique_id, nickname, followers, hearts, videos, likes_given, first_seen_at, last_seen_at)
        SELECT 'a' || i, 'user' || i, 'User ' || i, 1000 + i * 7, 50000 + i, 40, 5, {t0} + INTERVAL (i % 30) DAY, {t0} + INTERVAL 30 DAY
        FROM range({authors}) t(i)""")
    con.execute(f"""INSERT INTO hashtags (name, video_count, view_count, first_seen_at, last_seen_at)
        SELECT CASE WHEN i < 5 THEN ['valet2026','klimat','svtnyheter','sverige','nyheter'][i + 1] ELSE 'tag' || i END,
               100000 - i, 1e7 - i, {t0} + INTERVAL (i % 30) DAY, {t0} + INTERVAL 30 DAY FROM range({tags}) t(i)""")
    con.execute(f"""INSERT INTO posts (post_id, author_id, author_unique_id, description, created_at, views, likes, comments, shares, saves,
                                      url, first_seen_at, last_seen_at)
        SELECT (7300000000000000000 + i)::VARCHAR, 'a' || (i % {authors}), 'user' || (i % {authors}), 'Inlägg ' || i || ' om valet och klimatet',
               {t0} + INTERVAL (i % 43200) MINUTE, 1000 + (i * 7919) % 1000000, (i * 31) % 50000, i % 997, i % 301, i % 103,
               NULL, {t0} + INTERVAL (i % 43200) MINUTE, {t0} + INTERVAL 30 DAY
        FROM range({posts}) t(i)""")
    con.execute(f"""INSERT INTO post_hashtags SELECT DISTINCT (7300000000000000000 + i)::VARCHAR,
               CASE WHEN k = 0 THEN ['valet2026','klimat','svtnyheter','sverige','nyheter'][1 + i % 5]
                    ELSE 'tag' || (5 + (i * (k + 3) * 2654435761) % {tags - 5}) END
        FROM range({posts}) t(i), range(3) s(k)""")
    con.execute(
        "INSERT INTO tracked_hashtags (name, active, added_at) VALUES ('valet2026', TRUE, TIMESTAMP '2026-11-01'), "
        "('klimat', TRUE, TIMESTAMP '2026-11-01'), ('svtnyheter', TRUE, TIMESTAMP '2026-11-01')"
    )
    con.execute(f"""INSERT INTO feed_appearances SELECT ['valet2026','klimat','svtnyheter'][1 + h], (7300000000000000000 + (h * 7000 + c * 37 + r) % {posts})::VARCHAR,
               {t0} + INTERVAL (c * 8) HOUR, r, 'run' || c FROM range(3) a(h), range(90) b(c), range(500) d(r)""")
    con.execute(f"""INSERT INTO hashtag_stats SELECT ['valet2026','klimat','svtnyheter'][1 + h], {t0} + INTERVAL (30 * k) MINUTE,
               100000 + k * 10 + h, 10000000 + k * 5000 * (h + 1) FROM range(3) a(h), range(1440) b(k)""")
    con.execute(f"""INSERT INTO post_trends BY NAME SELECT post_id, {t0} + INTERVAL 30 DAY AS collected_at, {t0} AS first_collected_at,
               30 AS snapshots, views, likes, comments, shares,
               views % 5000 AS views_change_1d, views % 20000 AS views_change_7d, views % 80000 AS views_change_30d,
               (views % 5000) * 100.0 / greatest(views - views % 5000, 1) AS views_growth_1d,
               (views % 20000) * 100.0 / greatest(views - views % 20000, 1) AS views_growth_7d,
               (views % 80000) * 100.0 / greatest(views - views % 80000, 1) AS views_growth_30d,
               {t0} + INTERVAL 30 DAY AS refreshed_at FROM posts""")
    con.execute(f"""INSERT INTO author_trends BY NAME SELECT author_id, {t0} + INTERVAL 30 DAY AS collected_at, {t0} AS first_collected_at,
               30 AS snapshots, followers, followers % 300 AS followers_change_1d, followers % 900 AS followers_change_7d,
               followers % 2000 AS followers_change_30d, 1.0 AS followers_growth_1d, 2.0 AS followers_growth_7d, 3.0 AS followers_growth_30d,
               {t0} + INTERVAL 30 DAY AS refreshed_at FROM authors""")
    con.execute(f"""INSERT INTO rule_runs VALUES ('bench', {t0} + INTERVAL 30 DAY, 30, {t0}, {t0} + INTERVAL 30 DAY, {posts},
                    0.001, {max(1, posts // 1000)}, 0.3, 3, [], 300, 1.0, NULL)""")  # tracked NULL: over all posts
    con.execute(f"""INSERT INTO rules BY NAME SELECT 'bench' AS run_id, i AS rule_no, ['tag' || (5 + i % {tags - 5})] AS antecedents,
               ['tag' || (5 + (i * 7 + 1) % {tags - 5})] AS consequents, 0.01 AS antecedent_support, 0.02 AS consequent_support,
               0.002 + (i % 10) / 1000.0 AS support, 0.3 + (i % 7) / 10.0 AS confidence, 1.0 + (i % 13) AS lift, 0.001 AS leverage,
               1.5 AS conviction, {posts} / 500 AS post_count FROM range(300) t(i)""")
    for flow in ("collect", "monitor", "trends", "rules", "report"):
        con.execute(
            f"INSERT INTO runs (run_id, flow, started_at, ended_at, status) VALUES (?, ?, {t0} + INTERVAL 30 DAY, "
            f"{t0} + INTERVAL 30 DAY + INTERVAL 20 SECOND, 'completed')",
            [f"bench-{flow}", flow],
        )
    con.execute("CHECKPOINT")
    con.close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def measure(workspace: Path, *, preheat: bool, views: int, flow: bool = False) -> dict[str, list[float]]:
    """Render times per dashboard; ``flow``: while `tiktok-intel import` loops on the same workspace
    (a content flow's writing part: write lock, ingest, search index refresh, read copy)."""
    from dashboards_load import ImportLoop
    from playwright.sync_api import sync_playwright

    from tiktok_intel import settings
    from tiktok_intel.dashboards import launcher

    settings.configure(settings.load_settings(environ={}, dotenv=None), workspace=workspace)
    log_path = workspace.parent / f"voila-{'preheat' if preheat else 'no-preheat'}{'-flow' if flow else ''}.log"
    log = log_path.open("wb")
    process, address = launcher.launch(port=_free_port(), preheat=preheat, stdout=log, stderr=subprocess.STDOUT)
    times: dict[str, list[float]] = {key: [] for name in READY for key in (name, f"{name} html", f"{name} bytes", f"{name} ws")}
    failed: dict[str, int] = {}
    loop = ImportLoop(workspace, limit=10_000) if flow else None
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                urllib.request.urlopen(address, timeout=2).close()
                break
            except Exception:  # noqa: BLE001
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.3)
        if preheat:  # let the pools fill: one kernel per dashboard, started at launch
            _wait_heated(log_path, len(READY))
        if loop:  # the first import (not timed) builds the search index and the read copy, as a
            # workspace that has been collecting has; the views start as the next one begins
            loop.start()
            deadline = time.monotonic() + 900
            while loop.runs < 1 and loop.is_alive() and time.monotonic() < deadline:
                time.sleep(1)
            time.sleep(3)
        with sync_playwright() as p:
            browser = p.chromium.launch(
                executable_path="/usr/bin/chromium",
                headless=True,
                args=[
                    "--headless",
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-dev-shm-usage",
                    "--disable-background-networking",
                    "--disable-component-update",
                    "--no-first-run",
                    "--disable-sync",
                ],
            )
            for n in range(views):
                for name, ready in READY.items():
                    context = browser.new_context(viewport={"width": 1280, "height": 1000})
                    page = context.new_page()
                    received = [0]  # bytes the kernel's websocket brought: the cells' outputs and widget states

                    def count(ws, received=received):
                        ws.on("framereceived", lambda payload: received.__setitem__(0, received[0] + len(payload)))

                    page.on("websocket", count)
                    started = time.perf_counter()
                    try:
                        page.goto(address + f"voila/render/{name}.ipynb", timeout=120_000)
                        # a panel that failed shows a message instead: said, not waited for until the timeout
                        page.wait_for_selector(f"{ready}, .ti-busy, .ti-error, .ti-warning", timeout=120_000)
                        if page.query_selector(ready) is None:
                            raise RuntimeError(page.inner_text("body")[:300].replace("\n", " "))
                        times[name].append(time.perf_counter() - started)
                        # where it went: Voilà's page (its HTML, a shell) by responseEnd; then the kernel runs
                        # the cells and their outputs come over its websocket, rendered as they come
                        nav = page.evaluate(
                            "() => { const n = performance.getEntriesByType('navigation')[0];"
                            " return [n.responseEnd / 1000, n.decodedBodySize]; }"
                        )
                        times[f"{name} html"].append(nav[0])
                        times[f"{name} bytes"].append(nav[1])
                        times[f"{name} ws"].append(received[0])
                    except Exception as exc:  # noqa: BLE001 - a view that failed is counted, the others measured
                        failed[name] = failed.get(name, 0) + 1
                        print(f"  {name} did not render{' (import loop)' if flow else ''}: {str(exc)[:300]}", file=sys.stderr)
                    page.close(run_before_unload=True)  # as a user closes the tab: its unload shuts the kernel down
                    context.close()
                if preheat:  # each view took a kernel: wait for the pools to refill
                    _wait_heated(log_path, len(READY) * (n + 2))
            browser.close()
    finally:
        if loop:
            loop.stop.set()
            loop.join(timeout=600)
            print(f"  imports during the views: {loop.runs} ({loop.failed} failed)", file=sys.stderr)
            times["imports"] = [loop.runs, loop.failed]
        process.terminate()
        process.wait(timeout=20)
        log.close()
    times["failed views"] = [sum(failed.values())]
    return times


def _wait_heated(log: Path, kernels: int, timeout: float = 180) -> None:
    """Wait until ``kernels`` pre-heated kernels have said in Voilà's log that they wait for a page."""
    from tiktok_intel.dashboards.preheat import WAITING

    deadline = time.monotonic() + timeout
    while log.read_text(encoding="utf-8", errors="replace").count(WAITING) < kernels:
        if time.monotonic() > deadline:
            raise RuntimeError(f"fewer than {kernels} pre-heated kernels after {timeout:.0f} s: see {log}")
        time.sleep(0.5)


def main(argv: list[str] | None = None) -> list[Figure]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="fraction of 1,000,000 posts")
    parser.add_argument("--views", type=int, default=2, help="page views per dashboard and mode")
    parser.add_argument(
        "--no-preheat-baseline",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="also measure `--no-preheat` (a kernel started per page) as the quiet figures' baseline",
    )
    args = parser.parse_args(argv)
    posts = max(1000, int(1_000_000 * args.scale))
    os.environ["TIKTOK_INTEL_PROGRESS"] = "0"
    figures: list[Figure] = []
    with tempfile.TemporaryDirectory(prefix="bench-dash-") as tmp:
        workspace = Path(tmp) / "data"
        started = time.perf_counter()
        build(workspace / "tiktok.duckdb", posts)
        print(f"synthetic workspace of {posts:,} posts built in {time.perf_counter() - started:.1f} s")
        served = measure(workspace, preheat=True, views=args.views)
        busy = measure(workspace, preheat=True, views=args.views, flow=True)
        baseline = measure(workspace, preheat=False, views=args.views) if args.no_preheat_baseline else None

    def median(values: list[float] | None) -> float | None:
        return statistics.median(values) if values else None

    def parts(measured: dict[str, list[float]], name: str) -> str:
        if not measured[name]:
            return ""
        html = median(measured[f"{name} html"])
        return (
            f"; Voilà's page (HTML {median(measured[f'{name} bytes']) / 1e6:.2f} MB) in {html:.2f} s, then the cells' outputs "
            f"({median(measured[f'{name} ws']) / 1e6:.2f} MB over the kernel's websocket) in "
            f"{median([t - h for t, h in zip(measured[name], measured[f'{name} html'])]):.2f} s"
        )

    imports, imports_failed = busy["imports"]
    for name in READY:
        figures.append(
            Figure(
                f"{name} render quiet, median of {args.views}",
                median(served[name]),
                "s",
                median(baseline[name]) if baseline else None,
                "<= 3 s",
                (f"baseline: --no-preheat; {posts:,} posts" if baseline else f"{posts:,} posts")
                + ("" if served[name] else "; no view rendered")
                + parts(served, name),
            )
        )
        figures.append(
            Figure(
                f"{name} render while importing, median of {args.views}",
                median(busy[name]),
                "s",
                median(served[name]),
                "<= 5 s",
                f"baseline: the same views quiet, this run; `tiktok-intel import` looping ({imports} runs); {posts:,} posts"
                + ("" if busy[name] else "; no view rendered")
                + parts(busy, name),
            )
        )
    figures.append(
        Figure("views that did not render, quiet / while importing", served["failed views"][0], "views", busy["failed views"][0])
    )
    figures.append(Figure("imports during the views / failed", imports, "runs", note=f"{imports_failed} failed"))
    print_table(f"Dashboards: time to first render over {posts:,} posts (Voilà + Chromium)", figures)
    return figures


if __name__ == "__main__":
    main()
