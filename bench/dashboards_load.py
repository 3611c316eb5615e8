"""Dashboards under load: 30 page views while an import runs, beside the same views with no import (figures, not a test).

    .venv/bin/python bench/dashboards_load.py              # 30 views per phase
    .venv/bin/python bench/dashboards_load.py --views 10   # quick

Voilà serves the dashboards as `tiktok-intel dashboards` does (pre-heated kernels, one per
dashboard; the kernel cap from ``dashboard_max_kernels``) over the dashboards' test workspace
(``seeding.small``). Each phase opens ``--views`` views in Chromium, cycling through the seven
dashboards, one after the other, each in a fresh browser context; a view is done when its last
panel is visible, then its tab is closed as a user closes it (the page's unload shuts its kernel
down). The baseline phase runs with nothing else; the load phase with `tiktok-intel import` of the
test fixture pages looping in the background on the same workspace (bounded: ``--imports``).
A failure is a view that times out, shows the busy page or a traceback. Kernels are counted as
Voilà's kernel processes, before each phase and after it (when the pool has refilled).
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from common import Figure, print_table  # noqa: E402
from dashboards import READY, _wait_heated  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = [
    ROOT / "tests" / "fixtures" / name
    for name in ("web_item_list.json", "web_item_list_later.json", "aweme_list.json", "challenge_detail.json", "zeeschuimer.ndjson")
]
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
TIMEOUT_MS = 120_000


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def kernels(pid: int) -> int:
    count = 0
    for child in psutil.Process(pid).children(recursive=True):
        try:
            count += "ipykernel" in " ".join(child.cmdline())
        except psutil.Error:
            pass
    return count


def wait_kernels(pid: int, wanted: int, timeout: float = 120) -> float:
    """Seconds until Voilà has ``wanted`` kernels again (the pool refilled, closed pages' kernels gone)."""
    started = time.monotonic()
    while kernels(pid) != wanted and time.monotonic() - started < timeout:
        time.sleep(0.5)
    return time.monotonic() - started


class ImportLoop(threading.Thread):
    """`tiktok-intel import` of the fixture pages, again and again, until stopped or ``limit`` runs."""

    def __init__(self, workspace: Path, limit: int):
        super().__init__(daemon=True)
        self.env = {**os.environ, "TIKTOK_INTEL_WORKSPACE": str(workspace), "TIKTOK_INTEL_PROGRESS": "0"}
        self.limit, self.runs, self.failed = limit, 0, 0
        self.stop = threading.Event()

    def run(self) -> None:
        cli = [sys.executable, "-m", "tiktok_intel", "import", *map(str, FIXTURES)]
        while not self.stop.is_set() and self.runs < self.limit:
            done = subprocess.run(cli, env=self.env, capture_output=True, check=False)  # noqa: S603
            self.runs += 1
            self.failed += done.returncode != 0


def views(browser, address: str, count: int) -> tuple[list[float], list[str]]:
    times, failures = [], []
    names = list(READY)
    for n in range(count):
        name = names[n % len(names)]
        context = browser.new_context(viewport={"width": 1280, "height": 1000})
        page = context.new_page()
        started = time.perf_counter()
        try:
            page.goto(address + f"voila/render/{name}.ipynb", timeout=TIMEOUT_MS)
            page.wait_for_selector(f"{READY[name]}, .ti-busy", timeout=TIMEOUT_MS)
            text = page.inner_text("body")
            if "dashboards are busy" in text or "Traceback" in text:
                failures.append(f"{name}: {'busy' if 'busy' in text else 'traceback'}")
            else:
                times.append(time.perf_counter() - started)
        except Exception as exc:  # noqa: BLE001 - a failed view is a figure
            failures.append(f"{name}: {type(exc).__name__}")
        page.close(run_before_unload=True)  # the tab closed: its unload shuts the kernel down
        context.close()
    return times, failures


def main(argv: list[str] | None = None) -> list[Figure]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="fraction of the full size (30 views, 200 imports a phase)")
    parser.add_argument("--views", type=int, help="page views per phase (default 30 x scale, at least 7: one of each dashboard)")
    parser.add_argument("--imports", type=int, help="most import runs in the load phase (default 200 x scale, at least 10)")
    parser.add_argument("--keep-log", type=Path, help="copy Voilà's log here at the end (to read what a failed view did)")
    args = parser.parse_args(argv)
    args.views = args.views or max(7, round(30 * args.scale))
    args.imports = args.imports or max(10, round(200 * args.scale))
    from playwright.sync_api import sync_playwright

    from tiktok_intel import seeding, settings
    from tiktok_intel.dashboards import launcher

    os.environ["TIKTOK_INTEL_PROGRESS"] = "0"
    figures: list[Figure] = []
    with tempfile.TemporaryDirectory(prefix="bench-dash-load-") as tmp:
        workspace = Path(tmp) / "data"
        seeding.small(workspace)
        settings.configure(settings.load_settings(environ={}, dotenv=None), workspace=workspace)
        cap = settings.get_settings().dashboard_max_kernels
        log_path = Path(tmp) / "voila.log"
        with log_path.open("wb") as log:
            process, address = launcher.launch(port=_free_port(), preheat=True, stdout=log, stderr=subprocess.STDOUT)
            try:
                _wait_heated(log_path, len(READY))
                pool = len(READY)
                wait_kernels(process.pid, pool)
                with sync_playwright() as p:
                    browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS, headless=True)
                    results = {}
                    for phase in ("baseline", "import"):
                        before = kernels(process.pid)
                        loop = ImportLoop(workspace, args.imports) if phase == "import" else None
                        if loop:
                            loop.start()
                        started = time.perf_counter()
                        times, failures = views(browser, address, args.views)
                        elapsed = time.perf_counter() - started
                        if loop:
                            loop.stop.set()
                            loop.join()
                        settle = wait_kernels(process.pid, pool)
                        after = kernels(process.pid)
                        results[phase] = (times, failures, before, after, settle, elapsed, loop)
                        print(
                            f"{phase}: {len(times)} rendered, failures {failures}, kernels {before} -> {after} "
                            f"(settled in {settle:.0f} s), median {statistics.median(times) if times else 0:.2f} s, "
                            f"slowest {max(times, default=0):.2f} s, {elapsed:.0f} s"
                            + (f", {loop.runs} imports ({loop.failed} failed)" if loop else ""),
                            file=sys.stderr,
                            flush=True,
                        )
                    browser.close()
            finally:
                process.terminate()
                process.wait(timeout=30)
                if args.keep_log:
                    shutil.copyfile(log_path, args.keep_log)
    base_times = results["baseline"][0]
    for phase, (times, failures, before, after, settle, elapsed, loop) in results.items():
        note = f"{args.views} views in {elapsed:.0f} s; pool {pool}, cap {cap}" + (
            f"; {loop.runs} imports ({loop.failed} failed) meanwhile" if loop else "; no import running"
        )
        baseline = phase == "import"
        figures += [
            Figure(f"{phase}: failed views", len(failures), "views", target="<= 0", note="; ".join(failures[:5]) or note),
            Figure(f"{phase}: kernels before / after", after, "kernels", before, f"<= {pool}", f"after: pool refilled in {settle:.0f} s"),
            Figure(
                f"{phase}: render, median",
                statistics.median(times) if times else None,
                "s",
                statistics.median(base_times) if baseline and base_times else None,
                "",
                note,
            ),
            Figure(
                f"{phase}: render, slowest",
                max(times) if times else None,
                "s",
                max(base_times) if baseline and base_times else None,
                "",
            ),
        ]
    print_table(f"Dashboards under load: {args.views} views with and without an import running", figures)
    return figures


if __name__ == "__main__":
    main()
