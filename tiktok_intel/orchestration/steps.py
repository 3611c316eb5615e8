"""What each scheduled job does, written once: one step function per job, named as the job
(``post-trends`` -> :func:`post_trends`), taking explicit arguments (a connection, or the
:class:`~tiktok_intel.store.Workspace` when it must release the store meanwhile) and the job's
parameters.

The same function is called by the job's pipeline notebook (its compute cell), by its Prefect flow
(``flows/``: a fetching job's task, then the notebook) and by the demo and test workspaces' replay
(:mod:`tiktok_intel.seeding`). The notebooks keep the narrative and the tables and charts.

The two fetching jobs split in two the same way everywhere: the flow's task fetches
(``hashtag_monitoring(con, ingest=False)``, ``content(workspace, max_posts=N)``), and the notebook
then calls the step without fetching (its defaults, offline) to ingest what is pending and refresh.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

from ..analyses import rules, trends
from ..collect import NothingToCollectError, RunResult, collect, fetch_ingested_covers, ingest_raw_run, monitor
from ..errors import TikTokIntelError
from ..ingest import IngestStats, process_pending
from ..media import CoverResult

NOTHING_TRACKED = "no hashtags tracked (add some with `tiktok-intel track add NAME`)"


class FetchFailedError(TikTokIntelError):
    """Every hashtag of a collection failed (TikTok unreachable, blocked): worth a retry later."""


def worth_retrying(task: Any, task_run: Any, state: Any) -> bool:
    """A Prefect ``retry_condition_fn``: retry a fetching task only when TikTok failed it
    (:class:`FetchFailedError`), never for a mistake a retry would repeat (a bad parameter)."""
    return isinstance(state.result(raise_on_failure=False), FetchFailedError)


@dataclasses.dataclass
class StepResult:
    """What a step did: counts for the run's record, and one line."""

    counts: dict[str, Any]
    note: str

    def summary(self) -> str:
        return self.note


def _checked(result: RunResult) -> RunResult:
    if result.outcomes and len(result.failed) == len(result.outcomes):
        raise FetchFailedError(result.summary())
    return result


def _ingested(stats: IngestStats) -> dict[str, Any]:
    return {"pages": stats.pages, **({"failed_pages": stats.pages_failed} if stats.pages_failed else {})}


def hashtag_monitoring(
    con, *, snapshot: bool = True, hashtags: Sequence[str] | None = None, ingest: bool = True, full: bool = False
) -> StepResult:
    """Snapshot each tracked hashtag's own stats (``snapshot``: fetch its page from TikTok, re-reading
    the tracked list now; or only ``hashtags``), then (``ingest``) ingest the pending raw pages and
    refresh the hashtag trends (every hashtag when ``full``). ``ingest=False``: the pages stay in raw
    for a later call without ``snapshot`` (the flow's notebook, the replay's next other job)."""
    counts: dict[str, Any] = {}
    notes = []
    if snapshot:
        try:
            result = _checked(monitor(con, hashtags or None, ingest=False))
        except NothingToCollectError:
            counts["hashtags"], notes = 0, [NOTHING_TRACKED]
        else:
            c = result.counts()
            counts.update(hashtags=c["hashtags"], failed=c["failed"])
            notes.append(result.summary())
    if ingest:
        counts.update(_ingested(process_pending(con)))
        notes.append(trends.refresh_hashtag_trends(con, full=full).summary())
    return StepResult(counts, "; ".join(notes))


def content(
    workspace, *, max_posts: int | None = None, hashtags: Sequence[str] | None = None, covers: bool = True, media: bool = True
) -> StepResult:
    """Collect up to ``max_posts`` posts (``None``: the ``max_posts`` setting) per tracked hashtag (or
    per one of ``hashtags``): the pages are fetched into raw with the store closed (dashboards and
    notebooks keep reading while TikTok answers), then ingested, with covers, in one short write.
    ``max_posts=0`` fetches nothing and ingests the pending raw pages only, with the covers of their
    posts (a collector's pages, work pools: docs/scaling.md). Then (``media``) the media step: key
    frames, hashes, OCR, transcripts, the search index, for what is new."""
    if max_posts == 0:
        with workspace.connection() as con:
            stats = process_pending(con, workspace.raw_dir)
            got = fetch_ingested_covers(con, stats.seen.get("posts", ()), workspace.settings) if covers else CoverResult()
        counts = {**_ingested(stats), "covers_saved": got.saved, "covers_failed": got.failed}
        note = stats.summary() + (f", {got.summary()}" if got.summary() else "")
        if not media:
            return StepResult(counts, note)
        done = media_step(workspace)
        return StepResult({**counts, "media": done.counts()}, f"{note}; {done.summary()}")
    try:
        result = collect(workspace, hashtags or None, max_posts=max_posts, raw_only=True)
    except NothingToCollectError:
        return StepResult({"hashtags": 0, "posts": 0}, NOTHING_TRACKED)
    result = _checked(ingest_raw_run(workspace, result, covers=covers))
    c = result.counts()
    counts = {k: c[k] for k in ("hashtags", "failed", "posts", "new_posts", "pages")}
    counts.update({k: v for k, v in c.items() if k.startswith("media_")})
    if not media:
        return StepResult(counts, result.summary())
    done = media_step(workspace)
    counts["media"] = done.counts()
    return StepResult(counts, f"{result.summary()}; {done.summary()}")


def fetch_content(workspace, *, max_posts: int | None = None, hashtags: Sequence[str] | None = None) -> StepResult:
    """The fetching half of :func:`content` alone, for a collector machine (work pools,
    docs/scaling.md): up to ``max_posts`` posts per tracked hashtag (or per one of ``hashtags``)
    fetched into raw, nothing written to the store (read once, read-only, for the tracked list;
    not at all with ``hashtags``). The writer's ``content(workspace, max_posts=0)`` ingests them."""
    try:
        result = _checked(collect(workspace, hashtags or None, max_posts=max_posts, raw_only=True))
    except NothingToCollectError:
        return StepResult({"hashtags": 0, "pages": 0}, NOTHING_TRACKED)
    c = result.counts()
    return StepResult({k: c[k] for k in ("hashtags", "failed", "posts", "pages")}, result.summary())


def media_step(workspace) -> Any:
    """The content flow's media step, after ingest: key frames, hashes, OCR, transcripts, speech,
    retention, the search index, for whatever is new (:func:`tiktok_intel.search.process_media`),
    each stage on a connection of its own (readers of the file get in between stages)."""
    from ..search import process_media

    return process_media(connect=workspace.connection)


def post_trends(con, *, full: bool = False) -> trends.RefreshResult:
    """Bring the post trends up to date (only posts with new snapshots, unless ``full``)."""
    return trends.refresh_post_trends(con, full=full)


def author_trends(con, *, full: bool = False) -> trends.RefreshResult:
    """Bring the author trends up to date (only authors with new snapshots, unless ``full``)."""
    return trends.refresh_author_trends(con, full=full)


def association_rules(
    con,
    *,
    min_support: float = 0.01,
    min_confidence: float = 0.5,
    window_days: int = 30,
    max_len: int | None = 3,
    exclude_tracked: bool = True,
) -> rules.RulesRun:
    """Mine and store the association rules between the hashtags of the posts collected in the last
    ``window_days`` (0: all); ``max_len`` 0 or None: no limit on a rule's size."""
    return rules.run_rules(
        con,
        min_support=min_support,
        min_confidence=min_confidence,
        window_days=window_days,
        max_len=max_len or None,
        exclude_tracked=exclude_tracked,
    )


def recheck(workspace, *, days: int | None = None, max_posts: int | None = None) -> StepResult:
    """Ask TikTok whether the posts collected in the last ``days`` (``None``: the ``recheck_days``
    setting) are still available, at most ``max_posts`` (``None``: ``recheck_max_posts``), most
    recently active first, with the store closed meanwhile; record the answers and ingest the pages
    of the posts still there. ``max_posts=0`` asks nothing and counts the latest statuses."""
    from ..analyses import availability
    from ..collect.recheck import RecheckFailedError
    from ..collect.recheck import recheck as ask

    if max_posts == 0:
        with workspace.connection() as con:
            counts = availability.status_counts(con)
        seen = ", ".join(f"{n:,} {s.replace('_', ' ')}" for s, n in counts.items()) or "no post checked yet"
        return StepResult(dict(counts), f"latest statuses: {seen}")
    try:
        result = ask(workspace, days=days, max_posts=max_posts)
    except RecheckFailedError as exc:
        raise FetchFailedError(str(exc)) from None
    return StepResult(result.counts(), result.summary())


#: Job name -> its step function (the schedules table names the jobs).
STEPS = {
    "hashtag-monitoring": hashtag_monitoring,
    "content": content,
    "post-trends": post_trends,
    "author-trends": author_trends,
    "association-rules": association_rules,
    "recheck": recheck,
}
