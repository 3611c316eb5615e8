"""The Prefect flows, above the library: one module per scheduled job, named as the job
(``post-trends`` -> ``flows.post_trends:post_trends``; the jobs are in ``tiktok_intel.schedules``),
plus ``user_job`` (your jobs from the jobs file).

Each flow wraps its body in :func:`tiktok_intel.orchestration.runs.flow_run` (write lock, one row
in ``runs`` with its steps) and calls the job's step function
(:mod:`tiktok_intel.orchestration.steps`) through its task and its notebook. :mod:`.deploy` builds
the deployments and serves them, :mod:`.pools` deploys them to work pools (with
:mod:`.content_fetch`, content's fetching half, on the collectors), :mod:`.server` runs our own
Prefect server, :mod:`.cli` adds ``tiktok-intel run``, ``serve``, ``deploy`` and ``demo`` (an entry point plugin: the library never imports this package).
"""

from __future__ import annotations

import importlib

from tiktok_intel.schedules import JOBS, Job
from tiktok_intel.schedules import job as find_job


def load(job: str | Job):
    """A built-in job (or its name, in any spelling) -> its Prefect flow object."""
    job = find_job(job) if isinstance(job, str) else job
    return getattr(importlib.import_module(f"{__name__}.{job.slug}"), job.slug)


def all_flows() -> dict:
    """Job name -> Prefect flow, for every job in the schedules table."""
    return {job.name: load(job) for job in JOBS}
