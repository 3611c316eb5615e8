"""The main job, offline, in one command (``make demo`` / ``tiktok-intel demo``).

It starts the offline TikTok, tracks a handful of hashtags, registers one weekly job of your own
(``notebooks/exploratory/weekly_hashtag_brief.ipynb``) and replays the schedules of the last 14
days in fast-forward, with the clock set to each scheduled time in turn:

* every firing of the five built-in jobs (monitoring every 30 minutes, three collections a day,
  trend refreshes, nightly rules) runs that job's steps: the same package functions its Prefect
  tasks and pipeline notebook call, in this process (a notebook kernel per firing would take
  ~4 s each, 140 of them). Monitoring fetches its pages at its own time and leaves them in raw;
  they are ingested (and hashtag trends refreshed) together before the next other job runs,
  which changes no number: a snapshot's time is when its page was fetched;
* then, at the end of the 14 days, each built-in flow and the weekly job run once more as real
  Prefect flows (write lock, ``runs`` record, papermill, executed report under ``reports/``),
  exactly as ``tiktok-intel serve`` runs them;
* covers are hashed and OCR'd (when Tesseract is installed) for image and text search.

A second run reuses the workspace (``demo.json`` marks it finished) and only serves the
dashboards; a run that was interrupted is rebuilt. A workspace the demo did not build is never
touched.
"""
from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import json
import os
import shutil
import time
from pathlib import Path
from typing import Callable, Iterator

from . import clock, readcopy, settings as settings_module
from .errors import TikTokIntelError
from .notebooks import EXPLORATORY_DIR
from .progress import progress

#: What the demo tracks: one hashtag of each of the offline TikTok's topics.
HASHTAGS = ("valet2026", "klimat", "fotboll", "melodifestivalen", "fika")
DAYS = 14
#: Posts per hashtag per collection (the setting's default, 500, is for TikTok itself).
MAX_POSTS = 30
SEED = 2026
MARKER = "demo.json"
#: The msToken the demo collects with: the offline TikTok accepts any; it is still a secret setting.
TOKEN = "demo-offline-msToken"
WEEKLY_NOTEBOOK = EXPLORATORY_DIR / "weekly_hashtag_brief.ipynb"


class DemoError(TikTokIntelError):
    """The demo cannot build or serve its workspace."""


@dataclasses.dataclass(frozen=True)
class Firing:
    at: dt.datetime  # naive UTC
    job: str


def timeline(start: dt.datetime, end: dt.datetime) -> list[Firing]:
    """Every firing of the five built-in jobs in ``(start, end]`` (naive UTC), in time order; at
    the same minute, in the schedules table's order."""
    from .schedules import JOBS, next_runs

    firings = []
    for order, job in enumerate(JOBS):
        after = start
        while True:
            batch = [clock.to_utc(t) for t in next_runs(job, 200, after)]
            firings += [(t, order, job.name) for t in batch if t <= end]
            if batch[-1] > end:
                break
            after = batch[-1]
    return [Firing(at, name) for at, _, name in sorted(firings)]


def _steps() -> dict[str, Callable]:
    """Job name -> what its flow does (its fetching task, then its notebook's package call)."""
    from .analyses import rules, trends
    from .collect import collect, monitor
    from .processing import process_pending

    def monitoring(con):
        monitor(con, ingest=False)  # raw pages only: see catch_up

    def content(con):
        collect(con, max_posts=MAX_POSTS)
        process_pending(con)

    def catch_up(con):
        """What the monitoring firings since the last other job fetched: ingested, hashtag trends refreshed."""
        if process_pending(con).pages:
            trends.refresh_hashtag_trends(con)

    return {"hashtag-monitoring": monitoring, "content": content, "catch-up": catch_up,
            "post-trends": lambda con: trends.refresh_post_trends(con),
            "author-trends": lambda con: trends.refresh_author_trends(con),
            "association-rules": lambda con: rules.run_rules(con)}


@dataclasses.dataclass
class Demo:
    workspace: Path
    start: dt.datetime
    end: dt.datetime
    firings: int = 0
    flows: list[str] = dataclasses.field(default_factory=list)
    media: str = ""
    seconds: float = 0.0
    reused: bool = False

    def summary(self) -> str:
        if self.reused:
            return (f"demo: reusing {self.workspace} (built for {self.start:%Y-%m-%d} to {self.end:%Y-%m-%d}); "
                    f"`tiktok-intel demo --rebuild` builds it again")
        days = (self.end - self.start) / dt.timedelta(days=1)
        return (f"demo: {days:g} days ({self.start:%Y-%m-%d %H:%M} to {self.end:%Y-%m-%d %H:%M} UTC) replayed in {self.seconds:.0f} s: "
                f"{self.firings} scheduled firings fast-forwarded, {len(self.flows)} real flow runs with reports, {self.media}; "
                f"workspace {self.workspace}")


def _marker(workspace: Path) -> dict | None:
    try:
        return json.loads((workspace / MARKER).read_text())
    except (OSError, ValueError):
        return None


def _claim(workspace: Path, rebuild: bool) -> dict | None:
    """The finished demo to reuse, or None after making ``workspace`` ready for a fresh build."""
    marker = _marker(workspace)
    database = workspace / "tiktok.duckdb"
    if marker is None and database.exists():
        raise DemoError(f"{workspace} holds a workspace the demo did not build: run the demo elsewhere "
                        f"(tiktok-intel --db demo/tiktok.duckdb demo), or move {workspace} away")
    if marker and marker.get("complete") and not rebuild and database.exists():
        return marker
    if marker is not None:  # ours: interrupted, or --rebuild
        for name in ("tiktok.duckdb", "tiktok.duckdb.wal", readcopy.copy_path(database).name, "raw", "media", "reports", "search", "prefect", "jobs.toml", MARKER):
            target = workspace / name
            if target.is_dir():
                shutil.rmtree(target)
            elif target.exists():
                target.unlink()
    return None


def build(workspace: Path | None = None, *, rebuild: bool = False, days: int = DAYS, end: dt.datetime | None = None,
          real_flows: bool = True, say: Callable[[str], None] = print) -> Demo:
    """Build (or reuse) the demo workspace; returns what was done (``summary()`` is one line)."""
    from . import jobs
    from .offline import OfflineTikTok, World
    from .search import process_media
    from .store import open_db
    from . import tracking

    previous = settings_module.get_settings()
    workspace = Path(workspace or previous.workspace_path)
    if previous.db and (previous.db.startswith("ducklake:") or Path(previous.db).name != "tiktok.duckdb"):
        raise DemoError(f"the demo builds a DuckDB file named tiktok.duckdb, not {previous.db}: "
                        "pass --db FOLDER/tiktok.duckdb, or no --db for data/")
    marker = _claim(workspace, rebuild)
    if marker is not None:
        return Demo(workspace, dt.datetime.fromisoformat(marker["start"]), dt.datetime.fromisoformat(marker["end"]), reused=True)
    started = time.perf_counter()
    end = (end or clock.now()).replace(second=0, microsecond=0)
    start = end - dt.timedelta(days=days)
    workspace.mkdir(parents=True, exist_ok=True)
    (workspace / MARKER).write_text(json.dumps({"complete": False, "start": start.isoformat(), "end": end.isoformat()}))
    demo = Demo(workspace, start, end)
    world = World(SEED, hashtags=HASHTAGS, epoch=start)
    moments = timeline(start, end)
    steps = _steps()
    environment = dict(os.environ)  # the real flows point the environment at the demo workspace: put it back after
    try:
        with clock.frozen(start), OfflineTikTok(world=world) as tiktok:
            settings_module.configure(previous, workspace=workspace, db="", ms_token=TOKEN, requests_per_second=0, retries=1,
                                      timeout_seconds=10, max_posts=MAX_POSTS, **tiktok.settings_overrides())
            con = open_db()
            try:
                tracking.add(con, list(HASHTAGS))
                shown = progress(iterable=moments, desc="demo: fast-forward", unit="firing", leave=True)
                with _quiet_steps():  # one bar for the replay, not one per step
                    for firing in shown:
                        shown.set_postfix_str(f"{firing.at:%Y-%m-%d %H:%M} {firing.job}", refresh=False)
                        with clock.frozen(firing.at):
                            if firing.job != "hashtag-monitoring":
                                steps["catch-up"](con)
                            steps[firing.job](con)
                    with clock.frozen(end):
                        steps["catch-up"](con)
                demo.firings = len(moments)
            finally:
                con.close()
            jobs.save([jobs.UserJob("weekly-brief", jobs.relative_notebook(WEEKLY_NOTEBOOK, workspace / "jobs.toml"),
                                    "0 7 * * 1", parameters={"days": 7}, publish=True)], workspace / "jobs.toml")
            if real_flows:
                with clock.frozen(end):
                    demo.flows = _real_flows(say)
            with clock.frozen(end):
                con = open_db()
                try:
                    demo.media = process_media(con).summary()
                finally:
                    con.close()
    finally:
        settings_module.configure(previous, workspace=workspace, db="")
        os.environ.clear()
        os.environ.update(environment)
    demo.seconds = time.perf_counter() - started
    (workspace / MARKER).write_text(json.dumps({"complete": True, "start": start.isoformat(), "end": end.isoformat(),
                                                "built_in_seconds": round(demo.seconds, 1), "hashtags": list(HASHTAGS)}))
    return demo


@contextlib.contextmanager
def _quiet_steps() -> Iterator[None]:
    previous = os.environ.get("TIKTOK_INTEL_PROGRESS")
    os.environ["TIKTOK_INTEL_PROGRESS"] = "0"
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop("TIKTOK_INTEL_PROGRESS", None)
        else:
            os.environ["TIKTOK_INTEL_PROGRESS"] = previous


def _real_flows(say: Callable[[str], None]) -> list[str]:
    """Each built-in flow, then the weekly job, as real Prefect flows (papermill and all)."""
    from .orchestration.server import run_now
    from .schedules import JOBS

    done = []
    for name in [job.name for job in JOBS] + ["weekly-brief"]:
        say(f"demo: running the {name} flow (Prefect + papermill) ...")
        say("  " + run_now(name))
        done.append(name)
    return done


def run(*, rebuild: bool = False, serve: bool = True, port: int = 8866) -> int:
    """``tiktok-intel demo``: build or reuse the demo workspace, then serve the dashboards until Ctrl-C."""
    demo = build(rebuild=rebuild)
    print(demo.summary(), flush=True)
    if not serve:
        return 0
    from .dashboards.launcher import run as serve_dashboards

    return serve_dashboards(port=port)
