"""The work-pool deployment of docs/scaling.md as code: ``tiktok-intel deploy --pool collectors --pool writer``.

:func:`plan` says which flow runs on which pool with which schedule (the crons and time zone are
``tiktok_intel.schedules.JOBS``' and the jobs file's, unchanged); :func:`deploy` creates the
process work pools (``writer`` with a concurrency limit of 1: one ingesting writer at a time) and
registers the deployments with the Prefect server in ``PREFECT_API_URL``. Workers
(``prefect worker start --pool collectors`` / ``--pool writer``) then run them on their machines.

With both pools, content is split in two: ``content-fetch/content`` on ``collectors`` at content's
cron fetches into raw and writes nothing to the store (``flows.content_fetch``), then starts
``content/content`` on ``writer`` (no schedule of its own, ``max_posts=0``: ingest what is pending
in raw, the media step, the ``content`` notebook). Everything else (monitoring, whose snapshot
needs the store, trends, rules, recheck, your jobs) runs on ``writer``. With ``--pool writer``
alone every job runs there as ``serve`` runs it. Deployments are loaded by module path
(``flows.content.content``): every worker machine needs the package installed, nothing else (no
image, no source checkout to pull).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import Any

from tiktok_intel.jobs import valid_jobs
from tiktok_intel.schedules import JOBS, timezone

from . import load
from .server import OrchestrationError, healthy, prepare_environment

#: The pools, by role: their names in Prefect.
COLLECTORS, WRITER = "collectors", "writer"
POOLS = (COLLECTORS, WRITER)
#: Tags of every deployment :func:`deploy` makes (and removes again when a later plan drops it).
TAGS = ["tiktok-intel", "work-pool"]


@dataclasses.dataclass(frozen=True)
class Placement:
    """One deployment: ``flow/name`` on ``pool``, on ``cron`` in ``tz`` (``None``: started by another flow)."""

    pool: str
    flow: str
    name: str
    cron: str | None
    tz: str
    does: str
    parameters: dict[str, Any] = dataclasses.field(default_factory=dict)

    @property
    def full_name(self) -> str:
        return f"{self.flow}/{self.name}"

    def line(self) -> str:
        when = f"{self.cron} ({self.tz})" if self.cron else "started by content-fetch/content"
        return f"{self.full_name:<38} pool {self.pool:<10} {when}"


def plan(pools: Sequence[str]) -> list[Placement]:
    """Which deployment goes where for the pools asked for (``writer`` is needed; ``collectors`` splits content)."""
    pools = list(dict.fromkeys(pools))
    unknown = [p for p in pools if p not in POOLS]
    if unknown or WRITER not in pools:
        raise OrchestrationError(
            f"--pool takes {COLLECTORS} and {WRITER} ({', '.join(unknown) or 'no writer'} given): "
            f"use --pool {WRITER}, or --pool {COLLECTORS} --pool {WRITER}"
        )
    zone = timezone().key
    split = COLLECTORS in pools
    placed = []
    for job in JOBS:
        if job.name == "content" and split:
            placed.append(Placement(COLLECTORS, "content-fetch", job.name, job.cron, zone, f"{job.does}: the fetching, into raw"))
            placed.append(
                Placement(
                    WRITER,
                    job.name,
                    job.name,
                    None,
                    zone,
                    "ingest what the collectors fetched, then the content notebook",
                    {"max_posts": 0},
                )
            )
        else:
            placed.append(Placement(WRITER, job.name, job.name, job.cron, zone, job.does))
    for job in valid_jobs()[0]:
        placed.append(Placement(WRITER, "user-job", job.name, job.cron, timezone(job.timezone).key, job.does, {"job": job.name}))
    return placed


def _flow(placement: Placement):
    if placement.flow == "content-fetch":
        from .content_fetch import content_fetch

        return content_fetch
    if placement.flow == "user-job":
        from .user_job import user_job

        return user_job
    return load(placement.flow)


def _pool(client, name: str, say: Callable[[str], None]) -> None:
    """Create the process pool ``name``, or check the one there; ``writer`` gets a concurrency limit of 1."""
    from prefect.client.schemas.actions import WorkPoolCreate, WorkPoolUpdate
    from prefect.exceptions import ObjectNotFound
    from prefect.workers.process import ProcessWorker

    limit = 1 if name == WRITER else None
    try:
        pool = client.read_work_pool(name)
    except ObjectNotFound:
        template = ProcessWorker.get_default_base_job_template()
        client.create_work_pool(WorkPoolCreate(name=name, type="process", base_job_template=template, concurrency_limit=limit))
        say(f"created work pool {name} (process{', concurrency limit 1' if limit else ''})")
        return
    if pool.type != "process":
        raise OrchestrationError(
            f"work pool {name} exists with type {pool.type}: delete it (prefect work-pool delete {name}) and deploy again"
        )
    if limit and pool.concurrency_limit != limit:
        client.update_work_pool(name, WorkPoolUpdate(concurrency_limit=limit))
        say(f"work pool {name}: concurrency limit set to {limit}")
    else:
        say(f"work pool {name} is there (process{', concurrency limit 1' if limit else ''})")


def deploy(pools: Sequence[str], say: Callable[[str], None] = print) -> list[Placement]:
    """Create the pools and register :func:`plan`'s deployments on the server in ``PREFECT_API_URL``;
    deployments an earlier ``deploy`` made that the plan no longer has are deleted. Returns the plan."""
    import os

    placed = plan(pools)
    url = os.environ.get("PREFECT_API_URL")
    if not url:
        raise OrchestrationError(
            "deploy needs the long-running Prefect server the workers use: set PREFECT_API_URL "
            "(e.g. http://orchestrator.internal:4200/api; start one with `prefect server start`)"
        )
    if not healthy(url, 5.0):
        raise OrchestrationError(f"no Prefect server answers at PREFECT_API_URL={url}: start it (prefect server start) or fix the address")
    prepare_environment()
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import DeploymentFilter, DeploymentFilterTags
    from prefect.deployments.runner import EntrypointType
    from prefect.schedules import Cron

    with get_client(sync_client=True) as client:
        for name in [n for n in POOLS if any(p.pool == n for p in placed)]:
            _pool(client, name, say)
        for p in placed:
            deployment = _flow(p).to_deployment(
                name=p.name,
                schedules=[Cron(p.cron, timezone=p.tz)] if p.cron else [],
                paused=False,
                parameters=p.parameters,
                description=p.does,
                tags=TAGS,
                entrypoint_type=EntrypointType.MODULE_PATH,  # the installed package, on every worker
            )
            deployment.apply(work_pool_name=p.pool)
            say(f"deployed {p.line()}")
        wanted = {p.full_name for p in placed}
        ours = client.read_deployments(deployment_filter=DeploymentFilter(tags=DeploymentFilterTags(all_=TAGS)))
        flows = {f.id: f.name for f in client.read_flows()}
        for old in ours:
            full = f"{flows.get(old.flow_id, '?')}/{old.name}"
            if full not in wanted:
                client.delete_deployment(old.id)
                say(f"removed {full} (not in this plan)")
    return placed
