"""Running the workbench's jobs: each run's record (:mod:`.runs`) and what each job does (:mod:`.steps`).

The Prefect flows and their deployments live above the library, in the ``flows`` package.
"""

from .runs import FlowRun, flow_run

__all__ = ["FlowRun", "flow_run"]
