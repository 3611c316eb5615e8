"""Content (00:01, 08:01, 16:01): collect up to N posts per tracked hashtag (default: the
``max_posts`` setting, 500), then run the ``process_content`` notebook."""
from __future__ import annotations

from typing import Any

from prefect import flow, task

from tiktok_intel.orchestration import steps

from ._common import flow_body


@task(name="collect posts", retries=2, retry_delay_seconds=[60, 300], retry_condition_fn=steps.worth_retrying)
def collect_posts(max_posts: int | None = None, hashtags: list[str] | None = None):
    """Fetch into raw with the store closed, then ingest; retried when every hashtag failed (TikTok
    unreachable): a retry fetches again, and ingest keeps each post once."""
    return steps.collect_posts(max_posts, hashtags)


@flow(name="content", description="Collect up to max_posts per tracked hashtag, then run process_content.")
def content(max_posts: int | None = None, hashtags: list[str] | None = None, notebook: dict[str, Any] | None = None) -> str:
    return flow_body("content", {"max_posts": max_posts, "hashtags": hashtags, "notebook": notebook}, "process_content", notebook,
                     fetch=lambda: collect_posts(max_posts, hashtags))
