"""Hashtag monitoring (every 30 minutes): refresh the tracked list, snapshot each tracked
hashtag's own stats, then run the ``hashtag_monitor`` notebook."""
from __future__ import annotations

from typing import Any

from prefect import flow, task

from tiktok_intel.orchestration import steps

from ._common import flow_body


@task(name="snapshot hashtag stats", retries=2, retry_delay_seconds=[30, 120], retry_condition_fn=steps.worth_retrying)
def snapshot_hashtags(hashtags: list[str] | None = None):
    """Fetching: retried when every hashtag failed (TikTok unreachable)."""
    return steps.monitor_hashtags(hashtags)


@flow(name="hashtag-monitoring", description="Snapshot each tracked hashtag's stats; run hashtag_monitor.")
def hashtag_monitoring(hashtags: list[str] | None = None, notebook: dict[str, Any] | None = None) -> str:
    return flow_body("hashtag-monitoring", {"hashtags": hashtags, "notebook": notebook}, "hashtag_monitor", notebook,
                     fetch=lambda: snapshot_hashtags(hashtags))
