"""hashtag-monitoring (every 30 minutes): snapshot each tracked hashtag's own stats (re-reading the
tracked list), then run the ``hashtag_monitoring`` notebook, which ingests them and refreshes the
hashtag trends; both through ``tiktok_intel.orchestration.steps.hashtag_monitoring``."""

from __future__ import annotations

from typing import Any

from prefect import flow, task
from prefect.cache_policies import NO_CACHE

from tiktok_intel.orchestration import steps

from ._common import flow_body


@task(
    name="hashtag-monitoring", retries=2, retry_delay_seconds=[30, 120], retry_condition_fn=steps.worth_retrying, cache_policy=NO_CACHE
)  # its workspace argument holds the settings (secrets): never hashed for a cache key
def hashtag_monitoring_task(workspace, hashtags: list[str] | None = None) -> steps.StepResult:
    """Fetching (the pages wait in raw for the notebook): retried when every hashtag failed (TikTok unreachable)."""
    with workspace.connection() as con:
        return steps.hashtag_monitoring(con, hashtags=hashtags, ingest=False)


@flow(name="hashtag-monitoring", description="Snapshot each tracked hashtag's stats, then run the hashtag_monitoring notebook.")
def hashtag_monitoring(hashtags: list[str] | None = None, notebook: dict[str, Any] | None = None) -> str:
    return flow_body(
        "hashtag-monitoring",
        {"hashtags": hashtags, "notebook": notebook},
        "hashtag_monitoring",
        notebook,
        fetch=lambda workspace: hashtag_monitoring_task(workspace, hashtags),
    )
