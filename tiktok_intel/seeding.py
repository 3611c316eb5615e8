"""Seeded workspaces: the offline TikTok, a few tracked hashtags and scheduled firings replayed in
fast-forward, each job running its step function (:mod:`tiktok_intel.orchestration.steps`, what
its flow and notebook call) with the clock set to the firing's time.

One builder for both: the demo (:mod:`tiktok_intel.demo`, 14 days of the five schedules) and the
small workspace the dashboards' tests, browser tests and benchmark use (:func:`small`: three
collection days). Monitoring fetches its pages at its own time and leaves them in raw; they are
ingested (and the hashtag trends refreshed) together before the next other job runs, which changes
no number: a snapshot's time is when its page was fetched.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import json
import shutil
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from . import clock, tracking
from . import settings as settings_module
from .orchestration import steps
from .store import Workspace

MONITORING = "hashtag-monitoring"


@dataclasses.dataclass(frozen=True)
class Firing:
    at: dt.datetime  # naive UTC
    job: str
    parameters: Mapping[str, Any] = dataclasses.field(default_factory=dict)  # for the job's step function


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


@contextlib.contextmanager
def offline_workspace(
    folder: Path,
    *,
    hashtags: Iterable[str],
    at: dt.datetime,
    ms_token: str,
    seed: int = 0,
    world: Any = None,
    base: settings_module.Settings | None = None,
    follow: Iterable[tuple[str | None, str]] = (),
    **overrides: Any,
) -> Iterator[Workspace]:
    """Inside the block: the offline TikTok running, the settings pointing at ``folder`` (a
    workspace collecting from it with ``ms_token``, no rate limit) and ``hashtags`` tracked (and
    ``follow``: ``(kind, name)`` accounts and keywords); the clock at ``at``. The process settings
    are put back afterwards."""
    from .offline import OfflineTikTok

    previous = settings_module.get_settings()
    base = base if base is not None else settings_module.load_settings(environ={}, dotenv=None)
    try:
        with clock.frozen(at), OfflineTikTok(seed, world=world) as tiktok:
            settings = settings_module.configure(
                base,
                workspace=Path(folder),
                db="",
                ms_token=ms_token,
                requests_per_second=0,
                retries=1,
                **{"timeout_seconds": 5, **overrides},
                **tiktok.settings_overrides(),
            )
            workspace = Workspace.from_settings(settings)
            with workspace.connection() as con:
                tracking.add(con, list(hashtags))
                if follow:
                    tracking.add_items(con, list(follow))
            yield workspace
    finally:
        settings_module.configure(previous)


def replay(
    workspace: Workspace,
    firings: Iterable[Firing],
    *,
    end: dt.datetime,
    max_posts: int | None = None,
    record: bool = False,
    on_firing: Callable[[Firing], None] | None = None,
) -> int:
    """Run each firing's step at its time (``content`` with ``max_posts`` unless the firing says),
    then, at ``end``, ingest what monitoring left in raw. ``record``: each firing is also a row in
    ``runs``, with its step, as its flow would leave it (two short opens a firing: the demo, whose
    real flows record themselves at the end, does without). Returns how many firings ran."""
    from . import alerts
    from .orchestration.runs import flow_run

    done = 0
    alerting = bool(alerts.load(alerts.alerts_path(workspace.settings)).rules)  # its rules run after the firings whose data they read
    con = workspace.connect()
    try:
        for firing in firings:
            if on_firing is not None:
                on_firing(firing)
            with clock.frozen(firing.at):
                if firing.job != MONITORING:
                    steps.hashtag_monitoring(con, snapshot=False)  # what the monitoring firings since the last job fetched
                with (
                    flow_run(firing.job, firing.parameters, workspace=workspace, lock=False) if record else contextlib.nullcontext() as run
                ):
                    if firing.job == MONITORING:
                        result = steps.hashtag_monitoring(con, ingest=False, **firing.parameters)
                    elif firing.job == "content":
                        con.close()  # the step fetches with the store closed, as its flow does
                        result = steps.content(workspace, **{"max_posts": max_posts, **firing.parameters})
                        con = workspace.connect()
                    elif firing.job == "recheck":
                        con.close()  # asks TikTok with the store closed, as its flow does
                        result = steps.recheck(workspace, **firing.parameters)
                        con = workspace.connect()
                    else:
                        result = steps.STEPS[firing.job](con, **firing.parameters)
                    if run is not None:
                        run.step(firing.job, result.counts if isinstance(result, steps.StepResult) else None, result.summary())
                if alerting:
                    con.close()
                    alerts.after_flow(workspace, firing.job)
                    con = workspace.connect()
            done += 1
        with clock.frozen(end):
            steps.hashtag_monitoring(con, snapshot=False)
    finally:
        con.close()
    return done


# -- the tests' small workspace ---------------------------------------------------------------------

T0 = dt.datetime(2026, 11, 10, 8, 0)
HASHTAGS = ("valet2026", "klimat")
#: The msToken the small workspace collects with: a secret that must never appear on a page.
SECRET = "msTokenFIXTURE-9c1d7e"
#: Top comments per post the small workspace collects (the hashtags' posts have theirs, as every tracked item's; few, to stay quick).
SMALL_COMMENTS_PER_POST = 10


def small_firings(days: tuple[int, ...] = (0, 1, 7)) -> tuple[list[Firing], dt.datetime]:
    """A collection on each of ``days`` (covers on the first) with monitoring at it and 30 minutes
    later; two hours after the last, the trends and the rules (small thresholds, every post)."""
    firings = []
    for day in days:
        at = T0 + dt.timedelta(days=day)
        firings.append(Firing(at, "content", {"covers": day == days[0], "media": False}))  # the media step: by the caller, once
        firings += [Firing(at + dt.timedelta(minutes=30 * k), MONITORING) for k in range(2)]
    end = T0 + dt.timedelta(days=days[-1], hours=2)
    firings += [
        Firing(end, "post-trends"),
        Firing(end, "author-trends"),
        Firing(end, "association-rules", {"min_support": 3, "min_confidence": 0.3, "window_days": 0, "exclude_tracked": False}),
    ]
    return firings, end


def small(folder: Path, *, days: tuple[int, ...] = (0, 1, 7), max_posts: int = 40, seed: int = 7) -> Path:
    """The dashboards' test workspace in ``folder``: two hashtags collected on ``days`` (see
    :func:`small_firings`), covers hashed, one pair of near-identical covers posted by two accounts,
    the text index, and executed reports as the scheduler leaves them. Returns its database path;
    the process settings are put back afterwards."""
    from .search import hashing, text

    folder = Path(folder)
    firings, end = small_firings(days)
    with offline_workspace(
        folder, hashtags=HASHTAGS, at=T0, ms_token=SECRET, seed=seed, comments_per_post=SMALL_COMMENTS_PER_POST
    ) as workspace:
        replay(workspace, firings, end=end, max_posts=max_posts, record=True)
        with clock.frozen(end + dt.timedelta(minutes=1)), workspace.connection() as con:  # the reports' runs are the latest
            hashing.hash_media(con, workers=1)
            _near_duplicate(con, workspace.media_dir)
            text.refresh_index(con)
            _reports(con, workspace.reports_dir)
        return Path(workspace.db_target)


def _near_duplicate(con, media: Path) -> None:
    """Give a post of another author a copy of a hashed cover: one near-duplicate group."""
    row = con.execute("""SELECT h.post_id, h.phash, h.dhash, m.path, p.author_id FROM image_hashes h
                         JOIN media m USING (post_id, kind, seq) JOIN posts p USING (post_id)
                         WHERE h.kind = 'cover' ORDER BY h.post_id LIMIT 1""").fetchone()
    if row is None:
        return
    post_id, phash, dhash, path, author = row
    other = con.execute(
        "SELECT post_id FROM posts WHERE author_id <> ? AND post_id NOT IN (SELECT post_id FROM media WHERE kind = 'cover') ORDER BY post_id LIMIT 1",
        [author],
    ).fetchone()
    if other is None:
        return
    target = Path(path).with_name(f"dup-{other[0]}{Path(path).suffix}")
    shutil.copyfile(media / path, media / target)
    for table, changes in (("media", {"path": str(target)}), ("image_hashes", {})):
        cols = [
            r[0]
            for r in con.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_name = ? ORDER BY ordinal_position", [table]
            ).fetchall()
        ]
        values = dict(
            zip(
                cols,
                con.execute(f"SELECT {', '.join(cols)} FROM {table} WHERE post_id = ? AND kind = 'cover' LIMIT 1", [post_id]).fetchone(),
            )
        )
        values.update(post_id=other[0], **changes)
        con.execute(f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})", list(values.values()))


def _reports(con, reports: Path) -> None:
    """Executed reports as the scheduler would leave them: the post-trends flow's, a published and
    an unpublished user job's (the published one mentions the token, which pages must hide), and a
    failed rules run that left no report."""
    started = clock.now()
    for n, (flow, stem, title, publish) in enumerate(
        (
            ("post-trends", "post_trends", "Post trends report", None),
            ("weekly-brief", "weekly-brief", f"Weekly brief (token {SECRET})", True),
            ("private-job", "private-job", "Private notes", False),
        )
    ):
        folder = reports / stem / f"20261117T10000{n}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{stem}.ipynb").write_text(json.dumps({"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
        (folder / f"{stem}.html").write_text(f"<html><body><h1>{title}</h1></body></html>")
        counts = json.dumps({"parameters": {"notebook": f"{stem}.ipynb", **({"publish": publish} if publish is not None else {})}})
        con.execute(
            "INSERT INTO runs (run_id, flow, started_at, ended_at, status, notebook_path, counts) VALUES (?, ?, ?, ?, 'completed', ?, ?)",
            [
                uuid.uuid4().hex,
                flow,
                started + dt.timedelta(minutes=n),
                started + dt.timedelta(minutes=n, seconds=12),
                str(folder / f"{stem}.ipynb"),
                counts,
            ],
        )
    con.execute(
        "INSERT INTO runs (run_id, flow, started_at, ended_at, status, error) VALUES (?, 'association-rules', ?, ?, 'failed', ?)",
        [uuid.uuid4().hex, started, started + dt.timedelta(seconds=3), "RulesError: too few posts"],
    )
