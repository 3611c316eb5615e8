"""Running a pipeline notebook with Papermill; its executed copy is the report.

:func:`run_notebook` executes ``notebooks/pipelines/<name>.ipynb`` (or any notebook path) with
parameters, and keeps the executed copy as ``.ipynb`` and ``.html`` under
``<workspace>/reports/<notebook>/<timestamp>/``. A failing cell fails the call with
:class:`NotebookError` naming the cell and the error, and the executed copy (with the error in
it) is kept. Papermill runs inside a fresh ``contextvars.Context`` so it also works from worker
threads after it has run in the main thread (docs/architecture.md). Secret settings are never passed as
parameters: a parameter whose value contains a secret is refused.
"""

from __future__ import annotations

import contextvars
import dataclasses
import os
import re
import time
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import clock, raw
from ..errors import TikTokIntelError
from ..settings import get_settings

if TYPE_CHECKING:
    from ..store import Workspace

#: Where the pipeline notebooks live in a checkout.
from . import PIPELINES_DIR


class NotebookError(TikTokIntelError):
    """A notebook could not be run, or one of its cells failed."""


class NotebookCellError(NotebookError):
    """A cell of an executed notebook raised; the executed copy is kept (see ``.ipynb`` / ``.html``)."""

    def __init__(self, message: str, *, cell: int | None, ename: str, evalue: str, ipynb: Path, html: Path | None):
        super().__init__(message)
        self.cell, self.ename, self.evalue, self.ipynb, self.html = cell, ename, evalue, ipynb, html


@dataclasses.dataclass
class NotebookRun:
    name: str
    ipynb: Path
    html: Path | None
    parameters: dict[str, Any]
    seconds: float

    def summary(self) -> str:
        return f"{self.name}: ran in {self.seconds:.1f} s; report {self.html or self.ipynb}"


def use_database(db: str = ""):
    """In a notebook: apply its ``db`` parameter as ``--db`` would (the file's folder becomes the
    workspace, unless ``TIKTOK_INTEL_WORKSPACE`` is set); empty keeps the configured settings."""
    from ..settings import configure, for_database

    return configure(**for_database(db)) if db else get_settings()


def pipeline_names() -> list[str]:
    """Names of the pipeline notebooks (``content``, ``post_trends``, ...)."""
    return sorted(p.stem for p in PIPELINES_DIR.glob("*.ipynb"))


def resolve(notebook: str | Path) -> Path:
    """A pipeline name (``post_trends``) or a notebook path -> the notebook file."""
    path = Path(notebook)
    if path.suffix == ".ipynb" and path.is_file():
        return path
    candidate = PIPELINES_DIR / f"{path.stem}.ipynb"
    if candidate.is_file() and path.parent == Path("."):
        return candidate
    names = ", ".join(pipeline_names()) or "none found"
    raise NotebookError(f"no notebook {str(notebook)!r}: give a path to an .ipynb file or a pipeline name ({names})")


def _check_secrets(parameters: Mapping[str, Any]) -> None:
    secrets = [s for s in get_settings().secrets() if s]
    for key, value in parameters.items():
        text = str(value)
        if raw.holds_secret(text, secrets):
            raise NotebookError(
                f"parameter {key!r} holds a secret setting: notebooks read secrets from the settings, never from parameters; remove it"
            )


def _declared(path: Path) -> set[str]:
    import papermill

    try:
        return set(papermill.inspect_notebook(str(path)))
    except Exception:  # noqa: BLE001 - an unreadable parameters cell: let execution report it
        return set()


def _output_dir(base: Path, name: str) -> Path:
    stamp = clock.now().strftime("%Y-%m-%dT%H%M%SZ")
    folder = base / name / stamp
    n = 1
    while folder.exists():
        n += 1
        folder = base / name / f"{stamp}-{n}"
    folder.mkdir(parents=True)
    return folder


def _static_charts(nb):
    """Give each plotly output an HTML rendering nbconvert can show (it cannot render plotly's own
    JSON), with plotly.js inlined once: the report works offline and on its own."""
    import plotly.io as pio

    first = True
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            data = output.get("data") or {}
            figure = data.get("application/vnd.plotly.v1+json")
            if figure and "text/html" not in data:
                data["text/html"] = pio.to_html(figure, include_plotlyjs=first, full_html=False, validate=False)
                first = False
    return nb


def _to_html(ipynb: Path) -> Path | None:
    import nbformat
    from nbconvert import HTMLExporter

    try:
        # no require.js or MathJax from a CDN: reports are read offline, and require.js would
        # capture plotly.js as an AMD module and leave the charts blank when online
        exporter = HTMLExporter(require_js_url="", mathjax_url="")
        body, _ = exporter.from_notebook_node(_static_charts(nbformat.read(str(ipynb), as_version=4)))
        body = re.sub(r'<script src="">\s*</script>', "", body)
    except Exception:  # noqa: BLE001 - the .ipynb is the record; HTML is a convenience
        return None
    html = ipynb.with_suffix(".html")
    html.write_text(body, encoding="utf-8")
    return html


def kernel_environment(workspace: Workspace) -> dict[str, str]:
    """What a notebook's kernel is started with, beside this process's environment: the workspace
    and database as absolute paths (a kernel runs in the notebook's folder), the write wait of the
    run, no progress bars, and the frozen time of a replayed schedule (:func:`clock.environment`)."""
    from ..settings import PREFIX
    from ..store.database import absolute_target

    return {
        PREFIX + "WORKSPACE": str(workspace.root.resolve()),
        PREFIX + "DB": absolute_target(workspace.db_target),
        PREFIX + "WRITE_WAIT_SECONDS": str(workspace.settings.write_wait_seconds),
        PREFIX + "PROGRESS": "false",
        **clock.environment(),
    }


def _kernel_manager_class(environment: Mapping[str, str]) -> type:
    """A kernel manager class whose kernels get ``environment`` on top of this process's (the
    process's own environment is left alone). Papermill's client makes the manager from the class,
    so it owns it and shuts the kernel down at the end (a manager handed in is left running)."""
    from jupyter_client.manager import AsyncKernelManager

    class _Manager(AsyncKernelManager):
        async def _async_pre_start_kernel(self, **kw: Any):
            kw["env"] = {**kw.get("env", os.environ), **environment}
            return await super()._async_pre_start_kernel(**kw)

    return _Manager


def run_notebook(
    notebook: str | Path,
    parameters: Mapping[str, Any] | None = None,
    *,
    reports_dir: str | Path | None = None,
    kernel_name: str = "python3",
    timeout_seconds: float | None = None,
    report_name: str | None = None,
    workspace: Workspace | None = None,
) -> NotebookRun:
    """Execute a notebook with Papermill; keep the executed copy as ``.ipynb`` and ``.html``.

    ``parameters`` override the notebook's ``parameters`` cell. When the notebook declares a
    ``db`` parameter and none is given, the configured database is passed, so the kernel works on
    the same store as the caller (``workspace``, default the process settings'; its kernel is
    started with :func:`kernel_environment`). The copies go to ``<reports_dir>/<notebook>/<timestamp>/``
    (default: ``<workspace>/reports``; ``report_name`` instead of the notebook's name: a user job's
    reports go under its job name). Raises :class:`NotebookCellError` naming the failing cell.
    """
    import papermill
    from papermill.exceptions import PapermillExecutionError

    path = resolve(notebook)
    params = dict(parameters or {})
    _check_secrets(params)
    declared = _declared(path)
    unknown = sorted(set(params) - declared) if declared else []
    if unknown:
        raise NotebookError(f"{path.stem} has no parameter(s) {', '.join(unknown)}: it takes {', '.join(sorted(declared))}")
    from ..store import Workspace
    from ..store.database import absolute_target

    ws = workspace if workspace is not None else Workspace.current()
    if "db" in declared and "db" not in params:
        params["db"] = absolute_target(ws.db_target)
    base = Path(reports_dir) if reports_dir is not None else ws.reports_dir
    name = report_name or path.stem
    folder = _output_dir(base, name)
    ipynb = folder / f"{name}.ipynb"
    started = time.perf_counter()
    try:
        contextvars.Context().run(
            papermill.execute_notebook,
            str(path),
            str(ipynb),
            parameters=params,
            kernel_name=kernel_name,
            progress_bar=False,
            log_output=False,
            execution_timeout=timeout_seconds,
            cwd=str(path.parent),
            kernel_manager_class=_kernel_manager_class(kernel_environment(ws)),
        )
    except PapermillExecutionError as exc:
        html = _to_html(ipynb)
        cell = exc.exec_count
        raise NotebookCellError(
            f"{path.stem}: cell {cell if cell is not None else '?'} failed with {exc.ename}: {exc.evalue.strip().splitlines()[0] if exc.evalue.strip() else ''}"
            f" (executed copy kept at {html or ipynb})",
            cell=cell,
            ename=exc.ename,
            evalue=exc.evalue,
            ipynb=ipynb,
            html=html,
        ) from None
    except Exception as exc:  # noqa: BLE001 - kernel died, timeout, bad notebook
        if not ipynb.exists():
            raise NotebookError(
                f"{path.stem} could not run ({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}): "
                f"check that the '{kernel_name}' kernel is installed (python -m ipykernel install --sys-prefix)"
            ) from None
        html = _to_html(ipynb)
        raise NotebookError(
            f"{path.stem} stopped ({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}); "
            f"executed copy kept at {html or ipynb}"
        ) from None
    html = _to_html(ipynb)
    return NotebookRun(name, ipynb, html, params, time.perf_counter() - started)
