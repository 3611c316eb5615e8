"""Content (00:01, 08:01, 16:01): collect up to N posts per tracked hashtag (default: the
``max_posts`` setting, 500), then run the ``process_content`` notebook."""
from __future__ import annotations

from typing import Any

from prefect import flow, task

from tiktok_intel.orchestration import steps

from ._common import log_summary, notebook_task, recorded


@task(name="collect posts", retries=2, retry_delay_seconds=[60, 300])
def collect_posts(max_posts: int | None = None, hashtags: list[str] | None = None):
    """Fetching: retried when every hashtag failed; a retry resumes from the saved cursors."""
    return steps.collect_posts(max_posts, hashtags)


@flow(name="content", description="Collect up to max_posts per tracked hashtag, then run process_content.")
def content(max_posts: int | None = None, hashtags: list[str] | None = None, notebook: dict[str, Any] | None = None) -> str:
    run = None
    try:
        with recorded("content", {"max_posts": max_posts, "hashtags": hashtags, "notebook": notebook}) as run:
            counts, note = collect_posts(max_posts, hashtags)
            run.add(counts, note)
            run.notebook(notebook_task("process_content", notebook))
    finally:
        if run is not None:
            log_summary(run)
    return run.summary()
