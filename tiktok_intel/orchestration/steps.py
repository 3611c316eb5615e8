"""What the flows' tasks do, as plain package functions (the tasks in ``flows/`` only wrap them).

Each opens the store for as short a time as it can: a pipeline notebook's kernel is another
process and needs the DuckDB file free while it runs.
"""
from __future__ import annotations

from typing import Any, Mapping, Sequence

from ..collect import NothingToCollectError, RunResult, collect, ingest_raw_run, monitor
from ..errors import TikTokIntelError
from ..notebooks import NotebookRun, run_notebook
from .runs import connection


class FetchFailedError(TikTokIntelError):
    """Every hashtag of a collection failed (TikTok unreachable, blocked): worth a retry later."""


def worth_retrying(task: Any, task_run: Any, state: Any) -> bool:
    """A Prefect ``retry_condition_fn``: retry a fetching task only when TikTok failed it
    (:class:`FetchFailedError`), never for a mistake a retry would repeat (a bad parameter)."""
    return isinstance(state.result(raise_on_failure=False), FetchFailedError)


def _counts(result: RunResult) -> dict[str, Any]:
    c = result.counts()
    return {"collect_run_id": result.run_id, "hashtags": c["hashtags"], "failed": c["failed"], "posts": c["posts"],
            "new_posts": c["new_posts"], "pages": c["pages"]}


def _checked(result: RunResult) -> RunResult:
    if result.outcomes and len(result.failed) == len(result.outcomes):
        raise FetchFailedError(result.summary())
    return result


def monitor_hashtags(hashtags: Sequence[str] | None = None) -> tuple[dict[str, Any], str]:
    """Snapshot each tracked hashtag's stats (re-reading the tracked list now). Returns (counts, note)."""
    try:
        with connection() as con:
            result = _checked(monitor(con, hashtags or None))
    except NothingToCollectError:
        return {"hashtags": 0}, "no hashtags tracked (add some with `tiktok-intel track add NAME`)"
    c = _counts(result)
    return {k: c[k] for k in ("collect_run_id", "hashtags", "failed")}, result.summary()


def collect_posts(max_posts: int | None = None, hashtags: Sequence[str] | None = None) -> tuple[dict[str, Any], str]:
    """Collect up to ``max_posts`` (default: the ``max_posts`` setting) per tracked hashtag: the
    pages are fetched into raw with the store closed (dashboards and notebooks keep reading while
    TikTok answers), then ingested, with covers, in one short write. Returns (counts, note)."""
    try:
        result = collect(None, hashtags or None, max_posts=max_posts, raw_only=True)
    except NothingToCollectError:
        return {"hashtags": 0, "posts": 0}, "no hashtags tracked (add some with `tiktok-intel track add NAME`)"
    with connection() as con:
        result = _checked(ingest_raw_run(con, result))
    return _counts(result), result.summary()


def notebook(name: str, parameters: Mapping[str, Any] | None = None, report_name: str | None = None) -> NotebookRun:
    """Run a pipeline notebook, or a notebook by path (its executed copy kept under
    ``<workspace>/reports/<report_name or notebook name>/``)."""
    return run_notebook(name, dict(parameters or {}), report_name=report_name)
