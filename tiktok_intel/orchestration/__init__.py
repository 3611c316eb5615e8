"""Running the workbench on its schedules: the write lock, run records, Prefect serving.

* :mod:`.lock` — the workspace write lock (one writing run at a time; the others wait).
* :mod:`.runs` — :func:`flow_run`, each flow's row in ``runs`` and its one-line summary.
* :mod:`.steps` — what the flows' tasks do (collect, monitor, run a notebook).
* :mod:`.server` — :func:`serve` (the five deployments on their cron schedules, with our own
  Prefect server unless ``PREFECT_API_URL`` is set) and :func:`run_now`.

Prefect is imported only when serving or running a flow.
"""
from .lock import WriteLockTimeout, holder, write_lock
from .runs import FlowRun, flow_run

__all__ = ["FlowRun", "WriteLockTimeout", "flow_run", "holder", "write_lock"]
