"""What the flows share: the notebook task, the flow body (one row in ``runs`` with its steps), the
one-line summary log, and Prefect's logs without tracebacks for the errors a user can cause (their
one line says what to fix)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from tiktok_intel import alerts
from tiktok_intel.errors import TikTokIntelError
from tiktok_intel.notebooks import run_notebook
from tiktok_intel.orchestration.runs import FlowRun, flow_run
from tiktok_intel.orchestration.steps import StepResult
from tiktok_intel.store import Workspace


class _OneLineForOurErrors(logging.Filter):
    """Prefect logs a failed flow or task with its traceback; ours carry a message naming the fix."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and isinstance(record.exc_info[1], TikTokIntelError):
            record.exc_info, record.exc_text = None, None
        return True


for _name in ("prefect.flow_runs", "prefect.task_runs"):
    logging.getLogger(_name).addFilter(_OneLineForOurErrors())


@task(name="run notebook", task_run_name="run {name}", cache_policy=NO_CACHE)  # the workspace holds the settings: never hashed
def notebook_task(workspace: Workspace, name: str, parameters: Mapping[str, Any] | None = None, report_name: str | None = None):
    """A pipeline notebook (or a notebook by path) on ``workspace``, its executed copy kept under
    ``<workspace>/reports/<report_name or notebook>/``; no retries (a failing cell fails the same way twice)."""
    return run_notebook(name, dict(parameters or {}), report_name=report_name, workspace=workspace)


def log_summary(run: FlowRun) -> str:
    line = run.summary()
    get_run_logger().info(line)
    return line


def flow_body(
    flow: str,
    parameters: Mapping[str, Any],
    notebook: str,
    notebook_parameters: Mapping[str, Any] | None,
    fetch: Callable[[Workspace], StepResult] | None = None,
    report_name: str | None = None,
) -> str:
    """The body every flow shares: under the write lock and recorded as one row in ``runs``,
    optionally a fetching task (``fetch(workspace)``, a step: its counts and note are kept), then one notebook (its
    executed copy under ``reports/<report_name or notebook>/``, a step too); the summary is logged."""
    run = None
    try:
        # a flow run is an edge: the workspace of its process's settings (`serve`'s, or `tiktok-intel run`'s)
        with flow_run(flow, parameters, workspace=Workspace.current(), on_wait=get_run_logger().warning) as run:
            if fetch is not None:
                done = fetch(run.workspace)  # the run's workspace: its opens wait for readers
                run.step(flow, done.counts, done.note)
            run.notebook(notebook_task(run.workspace, notebook, notebook_parameters, report_name))
            done = alerts.after_flow(run.workspace, flow)  # the alert rules that read this flow's data; failed deliveries again
            if done.rules or done.retried or done.notes:
                run.step("alerts", done.counts(), done.summary())
    finally:
        if run is not None:
            log_summary(run)
    return run.summary()


def notebook_flow(flow: str, notebook: str, parameters: Mapping[str, Any] | None) -> str:
    """The body of a flow that runs one pipeline notebook (its compute cell calls the job's step)."""
    return flow_body(flow, {"notebook": notebook, **dict(parameters or {})}, notebook, parameters)
