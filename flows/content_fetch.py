"""content-fetch (content's cron, on the ``collectors`` work pool; docs/scaling.md): fetch up to N
posts per tracked hashtag into raw on a collector machine, writing nothing to the store
(``tiktok_intel.orchestration.steps.fetch_content``, as ``tiktok-intel collect --raw-only``), then
start the ``content`` deployment on the ``writer`` pool with ``max_posts=0``, which ingests what is
pending in raw and runs the ``content`` notebook. Not a job of its own: the fetching half of
``content`` when :mod:`flows.pools` splits it over two pools."""

from __future__ import annotations

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE

from tiktok_intel.orchestration import steps
from tiktok_intel.store import Workspace

#: The deployment that ingests what this flow fetched (``flows.pools``: on the writer pool).
INGEST = "content/content"


@task(
    name="content-fetch", retries=2, retry_delay_seconds=[60, 300], retry_condition_fn=steps.worth_retrying, cache_policy=NO_CACHE
)  # its workspace argument holds the settings (secrets): never hashed for a cache key
def fetch_task(workspace, max_posts: int | None = None, hashtags: list[str] | None = None) -> steps.StepResult:
    """Fetch into raw only; retried when every hashtag failed (TikTok unreachable)."""
    return steps.fetch_content(workspace, max_posts=max_posts, hashtags=hashtags)


@flow(name="content-fetch", description="Fetch up to max_posts per tracked hashtag into raw, then start the writer's content ingest.")
def content_fetch(max_posts: int | None = None, hashtags: list[str] | None = None, ingest: str | None = INGEST) -> str:
    """``ingest``: the deployment to start when pages were fetched (``None``: none; the pages wait in
    raw for the writer's next ``tiktok-intel process`` or content run)."""
    from prefect.deployments import run_deployment

    done = fetch_task(Workspace.current(), max_posts, hashtags)  # a flow run is an edge: its process's settings
    line = done.note
    if ingest and done.counts.get("pages"):
        started = run_deployment(ingest, parameters={"max_posts": 0}, timeout=0, as_subflow=False)
        line += f"; {ingest} started on the writer pool (flow run {started.name}, id {started.id})"
    get_run_logger().info(line)
    return line
