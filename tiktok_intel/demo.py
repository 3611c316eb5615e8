"""The main job, offline, in one command (``make demo`` / ``tiktok-intel demo``).

It starts the offline TikTok, tracks a handful of hashtags, registers one weekly job of your own
(``notebooks/exploratory/weekly_hashtag_brief.ipynb``) and replays the schedules of the last 14
days in fast-forward, with the clock set to each scheduled time in turn:

* every firing of the five built-in jobs (monitoring every 30 minutes, three collections a day,
  trend refreshes, nightly rules) runs that job's step function, the one its Prefect task and
  pipeline notebook call, in this process (a notebook kernel per firing would take ~4 s each,
  140 of them): :func:`tiktok_intel.seeding.replay`, the builder the tests' workspace uses too;
* then, at the end of the 14 days, each built-in flow and the weekly job run once more as real
  Prefect flows (write lock, ``runs`` record, papermill, executed report under ``reports/``),
  exactly as ``tiktok-intel serve`` runs them: the flows live above the library, so the caller
  hands them in (``run_flow``; ``tiktok-intel demo`` is added by the ``flows`` package);
* covers are hashed and OCR'd (when Tesseract is installed) for image and text search.

A second run reuses the workspace (``demo.json`` marks it finished) and only serves the
dashboards; a run that was interrupted is rebuilt. A workspace the demo did not build is never
touched, and the demo reads and writes nothing but its own workspace (its settings are the
defaults for that folder, not the environment's or a ``.env``'s).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import shutil
import time
from collections.abc import Callable
from pathlib import Path

from . import clock
from . import progress as progress_module
from . import settings as settings_module
from .errors import TikTokIntelError
from .notebooks import EXPLORATORY_DIR
from .progress import progress
from .seeding import Firing, offline_workspace, replay, timeline
from .store import readcopy

#: What the demo tracks: one hashtag of each of the offline TikTok's topics.
HASHTAGS = ("valet2026", "klimat", "fotboll", "melodifestivalen", "fika")
#: Accounts and a keyword the demo follows beside the hashtags (issue 17).
FOLLOWED = (("account", "svtnyheter"), ("account", "aftonbladet"), ("keyword", "klimatet"))
#: Top comments per post the demo collects (fewer than the default, to keep the demo quick).
DEMO_COMMENTS_PER_POST = 10
DAYS = 14
#: Posts per hashtag per collection (the setting's default, 500, is for TikTok itself).
MAX_POSTS = 30
SEED = 2026
MARKER = "demo.json"
#: The msToken the demo collects with: the offline TikTok accepts any; it is still a secret setting.
TOKEN = "demo-offline-msToken"
WEEKLY_NOTEBOOK = EXPLORATORY_DIR / "weekly_hashtag_brief.ipynb"
#: The share of the offline TikTok's posts that are removed, made private or blocked in the region some hours after posting.
FATE_RATE = 0.05
#: Posts one recheck asks about (the setting's default, 500, is for TikTok itself).
RECHECK_MAX_POSTS = 60
#: The demo's alert rules, sent to a local webhook (its URL filled in); kept as alerts.demo.toml afterwards.
DEMO_ALERTS = """# The demo's alert rules: they sent their digests to a local webhook while the fortnight was replayed
# (each message is a line of alerts-inbox.jsonl). Rename this file alerts.toml, with a channel of yours, to use them.
[channels.desk-webhook]
kind = "webhook"
url = "{url}"

[rules.gone]
kind = "removed"
channels = ["desk-webhook"]

[rules.spike]
kind = "growth"
entity = "post"
metric = "views"
window = "1d"
threshold = 20000
channels = ["desk-webhook"]

[rules.copies]
kind = "duplicates"
min_accounts = 2
channels = ["desk-webhook"]
"""


class DemoError(TikTokIntelError):
    """The demo cannot build or serve its workspace."""


__all__ = ["Demo", "DemoError", "Firing", "build", "run", "timeline"]


@dataclasses.dataclass
class Demo:
    workspace: Path
    start: dt.datetime
    end: dt.datetime
    firings: int = 0
    flows: list[str] = dataclasses.field(default_factory=list)
    media: str = ""
    alerts: dict[str, int] = dataclasses.field(default_factory=dict)  # rule -> digests that arrived at the local webhook
    seconds: float = 0.0
    reused: bool = False

    def summary(self) -> str:
        if self.reused:
            return (
                f"demo: reusing {self.workspace} (built for {self.start:%Y-%m-%d} to {self.end:%Y-%m-%d}); "
                f"`tiktok-intel demo --rebuild` builds it again"
            )
        days = (self.end - self.start) / dt.timedelta(days=1)
        return (
            f"demo: {days:g} days ({self.start:%Y-%m-%d %H:%M} to {self.end:%Y-%m-%d %H:%M} UTC) replayed in {self.seconds:.0f} s: "
            f"{self.firings} scheduled firings fast-forwarded, {len(self.flows)} real flow runs with reports, {self.media}; "
            f"{self._alerts()}; workspace {self.workspace}"
        )

    def _alerts(self) -> str:
        if not self.alerts:
            return "no alert reached the local webhook"
        shown = ", ".join(f"{rule} {n}" for rule, n in sorted(self.alerts.items()))
        return f"{sum(self.alerts.values())} alert digests at the local webhook ({shown})"


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
        raise DemoError(
            f"{workspace} holds a workspace the demo did not build: run the demo elsewhere "
            f"(tiktok-intel --db demo/tiktok.duckdb demo), or move {workspace} away"
        )
    if marker and marker.get("complete") and not rebuild and database.exists():
        return marker
    if marker is not None:  # ours: interrupted, or --rebuild
        for name in (
            "tiktok.duckdb",
            "tiktok.duckdb.wal",
            readcopy.copy_path(database).name,
            "raw",
            "media",
            "reports",
            "search",
            "prefect",
            "jobs.toml",
            "alerts.toml",
            "alerts.demo.toml",
            "alerts-inbox.jsonl",
            MARKER,
        ):
            target = workspace / name
            if target.is_dir():
                shutil.rmtree(target)
            elif target.exists():
                target.unlink()
    return None


#: Runs one flow (or user job) by name for real and returns its one-line summary (``flows.cli.run_flow_in_place``).
RunFlow = Callable[[str], str]


def build(
    workspace: Path | None = None,
    *,
    rebuild: bool = False,
    days: float = DAYS,
    end: dt.datetime | None = None,
    run_flow: RunFlow | None = None,
    say: Callable[[str], None] = print,
) -> Demo:
    """Build (or reuse) the demo workspace; returns what was done (``summary()`` is one line).
    ``run_flow``: how to run the real flows at the end (none: the replay only)."""
    from . import jobs
    from .alerts.inbox import WebhookInbox
    from .offline import World
    from .search import process_media

    previous = settings_module.get_settings()
    workspace = Path(workspace or previous.workspace_path)
    if previous.db and (previous.db.startswith("ducklake:") or Path(previous.db).name != "tiktok.duckdb"):
        raise DemoError(
            f"the demo builds a DuckDB file named tiktok.duckdb, not {previous.db}: pass --db FOLDER/tiktok.duckdb, or no --db for data/"
        )
    marker = _claim(workspace, rebuild)
    if marker is not None:
        return Demo(workspace, dt.datetime.fromisoformat(marker["start"]), dt.datetime.fromisoformat(marker["end"]), reused=True)
    started = time.perf_counter()
    end = (end or clock.now()).replace(second=0, microsecond=0)
    start = end - dt.timedelta(days=days)
    workspace.mkdir(parents=True, exist_ok=True)
    (workspace / MARKER).write_text(json.dumps({"complete": False, "start": start.isoformat(), "end": end.isoformat()}))
    demo = Demo(workspace, start, end)
    with (
        WebhookInbox(workspace / "alerts-inbox.jsonl") as inbox,
        offline_workspace(
            workspace,
            hashtags=HASHTAGS,
            at=start,
            ms_token=TOKEN,
            world=World(SEED, hashtags=HASHTAGS, epoch=start, fate_rate=FATE_RATE),
            timeout_seconds=10,
            max_posts=MAX_POSTS,
            recheck_max_posts=RECHECK_MAX_POSTS,
            follow=FOLLOWED,
            comments_per_post=DEMO_COMMENTS_PER_POST,
        ) as ws,
    ):
        alerts_file = ws.settings.workspace_path / "alerts.toml"
        alerts_file.write_text(DEMO_ALERTS.format(url=inbox.url), encoding="utf-8")  # the replay runs them after each firing
        moments = timeline(start, end)  # in the demo's settings' time zone (the default), whatever the environment says
        shown = progress(iterable=moments, desc="demo: fast-forward", unit="firing", leave=True)
        with progress_module.quiet():  # one bar for the replay, not one per step
            demo.firings = replay(
                ws,
                shown,
                end=end,
                max_posts=MAX_POSTS,
                on_firing=lambda f: shown.set_postfix_str(f"{f.at:%Y-%m-%d %H:%M} {f.job}", refresh=False),
            )
        jobs.save(
            [
                jobs.UserJob(
                    "weekly-brief", jobs.relative_notebook(WEEKLY_NOTEBOOK, ws.jobs_path), "0 7 * * 1", parameters={"days": 7}, publish=True
                )
            ],
            ws.jobs_path,
        )
        with clock.frozen(end):
            if run_flow is not None:
                demo.flows = _real_flows(run_flow, say)
            with ws.connection() as con:
                demo.media = process_media(con).summary()
                demo.media += "; " + spoken_example(con)
        for message in inbox.messages:
            rule = message.get("rule", "?")
            demo.alerts[rule] = demo.alerts.get(rule, 0) + 1
            if demo.alerts[rule] <= 2:  # the first two of each rule, as the desk saw them arrive
                say(f"demo: alert at the local webhook ({message.get('at', '?')} UTC): {message.get('subject', '')}")
        alerts_file.replace(alerts_file.with_name("alerts.demo.toml"))  # its webhook stops with the build
    settings_module.configure(previous, workspace=workspace, db="")  # what `run` serves next
    demo.seconds = time.perf_counter() - started
    (workspace / MARKER).write_text(
        json.dumps(
            {
                "complete": True,
                "start": start.isoformat(),
                "end": end.isoformat(),
                "built_in_seconds": round(demo.seconds, 1),
                "hashtags": list(HASHTAGS),
                "followed": [list(item) for item in FOLLOWED],
            }
        )
    )
    return demo


#: A word the offline TikTok's videos say and no caption or image holds.
SPOKEN_WORD = "statsbudget"


def spoken_example(con) -> str:
    """One line: what a search for :data:`SPOKEN_WORD` finds, and that it is only in what is said."""
    from .search import search_text

    hits = search_text(con, SPOKEN_WORD, limit=1000)
    spoken = [h for h in hits if [m.place for m in h.matches] == ["speech"]]
    first = spoken[0].matches[0].label if spoken else "no match"
    return f'search "{SPOKEN_WORD}" finds {len(hits)} posts, {len(spoken)} of them only by what is said ({first})'


def _real_flows(run_flow: RunFlow, say: Callable[[str], None]) -> list[str]:
    """Each built-in flow, then the weekly job, as real Prefect flows (papermill and all)."""
    from .schedules import JOBS

    done = []
    for name in [job.name for job in JOBS] + ["weekly-brief"]:
        say(f"demo: running the {name} flow (Prefect + papermill) ...")
        say("  " + run_flow(name))
        done.append(name)
    return done


def run(*, rebuild: bool = False, serve: bool = True, port: int = 8866, run_flow: RunFlow | None = None) -> int:
    """``tiktok-intel demo``: build or reuse the demo workspace, then serve the dashboards until Ctrl-C."""
    demo = build(rebuild=rebuild, run_flow=run_flow)
    print(demo.summary(), flush=True)
    if not serve:
        return 0
    from .dashboards.launcher import run as serve_dashboards

    return serve_dashboards(port=port)
