"""What the flows share: the notebook task, the one-line summary log, and Prefect's logs without
tracebacks for the errors a user can cause (their one line says what to fix)."""
from __future__ import annotations

import logging
from typing import Any, Callable, Mapping

from prefect import get_run_logger, task

from tiktok_intel.errors import TikTokIntelError
from tiktok_intel.orchestration import steps
from tiktok_intel.orchestration.runs import FlowRun, flow_run


class _OneLineForOurErrors(logging.Filter):
    """Prefect logs a failed flow or task with its traceback; ours carry a message naming the fix."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and isinstance(record.exc_info[1], TikTokIntelError):
            record.exc_info, record.exc_text = None, None
        return True


for _name in ("prefect.flow_runs", "prefect.task_runs"):
    logging.getLogger(_name).addFilter(_OneLineForOurErrors())


@task(name="run notebook", task_run_name="run {name}")
def notebook_task(name: str, parameters: Mapping[str, Any] | None = None, report_name: str | None = None):
    """A pipeline notebook (or a notebook by path); no retries (a failing cell fails the same way twice)."""
    return steps.notebook(name, parameters, report_name)


def recorded(flow: str, parameters: Mapping[str, Any] | None = None):
    """The flow body's context: write lock (waiting logged), a row in ``runs``."""
    logger = get_run_logger()
    return flow_run(flow, parameters, on_wait=logger.warning)


def log_summary(run: FlowRun) -> str:
    line = run.summary()
    get_run_logger().info(line)
    return line


def flow_body(flow: str, parameters: Mapping[str, Any], notebook: str, notebook_parameters: Mapping[str, Any] | None,
              fetch: Callable[[], tuple[dict, str]] | None = None, report_name: str | None = None) -> str:
    """The body every flow shares: under the write lock and recorded in ``runs``, optionally a
    fetching task (its counts and note are kept), then one notebook (its executed copy under
    ``reports/<report_name or notebook>/``); the summary is logged."""
    run = None
    try:
        with recorded(flow, parameters) as run:
            if fetch is not None:
                counts, note = fetch()
                run.add(counts, note)
            run.notebook(notebook_task(notebook, notebook_parameters, report_name))
    finally:
        if run is not None:
            log_summary(run)
    return run.summary()


def notebook_flow(flow: str, notebook: str, parameters: Mapping[str, Any] | None) -> str:
    """The body of a flow that runs one pipeline notebook."""
    return flow_body(flow, {"notebook": notebook, **dict(parameters or {})}, notebook, parameters)
