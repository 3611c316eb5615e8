"""The Prefect flows: one small module per scheduled job (see ``tiktok_intel.schedules``).

Each flow wraps its body in :func:`tiktok_intel.orchestration.runs.flow_run` (write lock, a row in
``runs``) and its tasks wrap package functions or the notebook runner. ``FLOWS`` maps each job's
name to its flow; ``tiktok-intel serve`` deploys them on their schedules.
"""
from __future__ import annotations

import importlib

from tiktok_intel.schedules import JOBS


def load(entrypoint: str):
    """``"flows.content:content"`` -> the flow object."""
    module, _, name = entrypoint.partition(":")
    return getattr(importlib.import_module(module), name)


def all_flows() -> dict:
    """Job name -> Prefect flow, for every job in the schedules table."""
    return {job.name: load(job.flow) for job in JOBS}
