"""content (00:01, 08:01, 16:01): collect up to N posts per tracked hashtag (default: the
``max_posts`` setting, 500) and ingest them (``tiktok_intel.orchestration.steps.content``), then run
the ``content`` notebook."""

from __future__ import annotations

from typing import Any

from prefect import flow, task
from prefect.cache_policies import NO_CACHE

from tiktok_intel.orchestration import steps

from ._common import flow_body


@task(
    name="content", retries=2, retry_delay_seconds=[60, 300], retry_condition_fn=steps.worth_retrying, cache_policy=NO_CACHE
)  # its workspace argument holds the settings (secrets): never hashed for a cache key
def content_task(workspace, max_posts: int | None = None, hashtags: list[str] | None = None) -> steps.StepResult:
    """Fetch into raw with the store closed, then ingest; retried when every hashtag failed (TikTok
    unreachable): a retry fetches again, and ingest keeps each post once."""
    return steps.content(workspace, max_posts=max_posts, hashtags=hashtags)


@flow(name="content", description="Collect up to max_posts per tracked hashtag and ingest them, then run the content notebook.")
def content(max_posts: int | None = None, hashtags: list[str] | None = None, notebook: dict[str, Any] | None = None) -> str:
    return flow_body(
        "content",
        {"max_posts": max_posts, "hashtags": hashtags, "notebook": notebook},
        "content",
        notebook,
        fetch=lambda workspace: content_task(workspace, max_posts, hashtags),
    )
