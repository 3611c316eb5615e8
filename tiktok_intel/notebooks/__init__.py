"""The notebooks shipped with the package, and running them with Papermill.

``NOTEBOOKS_DIR`` is the one place that says where they are: ``pipelines/`` (what the schedules
run), ``dashboards/`` (Voilà), ``exploratory/`` (examples to copy).
"""
from __future__ import annotations

from pathlib import Path

#: The folder holding the shipped notebooks (package data: found the same way in a checkout and an install).
NOTEBOOKS_DIR = Path(__file__).resolve().parent
PIPELINES_DIR = NOTEBOOKS_DIR / "pipelines"
DASHBOARDS_DIR = NOTEBOOKS_DIR / "dashboards"
EXPLORATORY_DIR = NOTEBOOKS_DIR / "exploratory"

from .runner import (  # noqa: E402
    NotebookCellError,
    NotebookError,
    NotebookRun,
    pipeline_names,
    resolve,
    run_notebook,
    use_database,
)

__all__ = ["NOTEBOOKS_DIR", "PIPELINES_DIR", "DASHBOARDS_DIR", "EXPLORATORY_DIR", "NotebookCellError", "NotebookError",
           "NotebookRun", "pipeline_names", "resolve", "run_notebook", "use_database"]
