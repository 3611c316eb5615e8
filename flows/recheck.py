"""recheck (every 6 hours): ask TikTok whether the posts collected in the last N days are still
available and record any change (``tiktok_intel.orchestration.steps.recheck``), then run the
``recheck`` notebook (the removed posts with their last stored copy)."""

from __future__ import annotations

from typing import Any

from prefect import flow, task
from prefect.cache_policies import NO_CACHE

from tiktok_intel.orchestration import steps

from ._common import flow_body


@task(
    name="recheck", retries=2, retry_delay_seconds=[60, 300], retry_condition_fn=steps.worth_retrying, cache_policy=NO_CACHE
)  # its workspace argument holds the settings (secrets): never hashed for a cache key
def recheck_task(workspace, days: int | None = None, max_posts: int | None = None) -> steps.StepResult:
    """Ask with the store closed, then record in one short write; retried when no post could be asked."""
    return steps.recheck(workspace, days=days, max_posts=max_posts)


@flow(name="recheck", description="Recheck the availability of recent posts, then run the recheck notebook.")
def recheck(days: int | None = None, max_posts: int | None = None, notebook: dict[str, Any] | None = None) -> str:
    return flow_body(
        "recheck",
        {"days": days, "max_posts": max_posts, "notebook": notebook},
        "recheck",
        notebook,
        fetch=lambda workspace: recheck_task(workspace, days, max_posts),
    )
