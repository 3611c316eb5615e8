"""One run, one row in the ``runs`` table: flow, start, end, status, its steps (each with its counts,
note and seconds), the executed notebook's path and the error (one line, secrets removed).

:func:`flow_run` is what every scheduled flow, ``tiktok-intel run`` and each writing command wraps
its body in: it takes the workspace write lock, records the run as ``running``, and at the end
``completed`` or ``failed`` with the steps it recorded; its :meth:`FlowRun.summary` is the run's
one-line log. Nothing below this layer writes ``runs``: library functions return their outcomes.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import json
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

from .. import clock, raw
from ..errors import TikTokIntelError
from ..store import Workspace

#: How long a run's own opens of the store (and its notebooks') wait, retrying, while a reader (a
#: dashboard, a notebook) holds the DuckDB file: a scheduled run does not fail because someone is reading.
RUN_OPEN_WAIT_SECONDS = 60.0


@dataclasses.dataclass
class Step:
    """One step of a run: what it was, what it counted, its one-line note, how long it took."""

    name: str
    counts: dict[str, Any] = dataclasses.field(default_factory=dict)
    note: str | None = None
    seconds: float | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "counts": self.counts, "note": self.note, "seconds": self.seconds}


@dataclasses.dataclass
class FlowRun:
    flow: str
    run_id: str
    started_at: dt.datetime
    parameters: dict[str, Any] = dataclasses.field(default_factory=dict)
    steps: list[Step] = dataclasses.field(default_factory=list)
    notebook_path: str | None = None
    status: str = "running"
    error: str | None = None
    ended_at: dt.datetime | None = None
    workspace: Workspace | None = dataclasses.field(default=None, repr=False)
    _clock: float = dataclasses.field(default_factory=time.perf_counter, repr=False)
    _step_clock: float = dataclasses.field(default_factory=time.perf_counter, repr=False)

    def step(self, name: str, counts: Mapping[str, Any] | None = None, note: str | None = None) -> Step:
        """Record a finished step (its seconds: since the previous step ended, or the run began)."""
        now = time.perf_counter()
        done = Step(name, dict(counts or {}), note, round(now - self._step_clock, 2))
        self._step_clock = now
        self.steps.append(done)
        return done

    def notebook(self, run: Any) -> Step:
        """Record a :class:`~tiktok_intel.notebooks.NotebookRun` (its executed copy) as a step."""
        self.notebook_path = str(Path(run.ipynb).resolve())  # absolute: dashboards read it from another folder
        return self.step(f"notebook {run.name}", {"seconds": round(run.seconds, 2)}, f"report {self.notebook_path}")

    @property
    def counts(self) -> dict[str, Any]:
        """Every step's counts, merged (a later step's count of the same name wins)."""
        merged: dict[str, Any] = {}
        for done in self.steps:
            merged.update(done.counts)
        return merged

    @property
    def notes(self) -> list[str]:
        return [done.note for done in self.steps if done.note and not done.name.startswith("notebook ")]

    @property
    def seconds(self) -> float:
        return time.perf_counter() - self._clock

    def summary(self) -> str:
        """One line: the flow, its status, what it did, and where its report is."""
        parts = [f"{self.flow} {self.run_id}: {self.status} in {self.seconds:.1f} s"]
        parts += self.notes
        if self.notebook_path:
            parts.append(f"report {self.notebook_path}")
        if self.error:
            parts.append(f"error: {self.error}")
        return "; ".join(parts)


def _one_line(exc: BaseException, secrets: list[str]) -> str:
    text = str(exc) if isinstance(exc, TikTokIntelError) else f"{type(exc).__name__}: {exc}"
    return raw.redact(" ".join(text.split()), secrets)


def _safe(parameters: Mapping[str, Any], secrets: list[str]) -> dict[str, Any]:
    return {k: ("***" if raw.holds_secret(v, secrets) else v) for k, v in parameters.items()}


def _record_start(con, run: FlowRun) -> None:
    con.execute(
        "INSERT INTO runs (run_id, flow, started_at, status, counts, steps) VALUES (?, ?, ?, 'running', ?, '[]')",
        [run.run_id, run.flow, run.started_at, json.dumps({"parameters": run.parameters}, default=str)],
    )


def _record_end(workspace: Workspace, run: FlowRun) -> None:
    run.ended_at = clock.now()
    counts = {"parameters": run.parameters, **run.counts, "seconds": round(run.seconds, 2)}
    steps = [done.as_dict() for done in run.steps]
    with workspace.connection() as con:
        con.execute(
            "UPDATE runs SET ended_at = ?, status = ?, counts = ?, steps = ?, notebook_path = ?, error = ? WHERE run_id = ?",
            [
                run.ended_at,
                run.status,
                json.dumps(counts, default=str),
                json.dumps(steps, default=str),
                run.notebook_path,
                run.error,
                run.run_id,
            ],
        )


@contextlib.contextmanager
def flow_run(
    flow: str,
    parameters: Mapping[str, Any] | None = None,
    *,
    workspace: Workspace | None = None,
    lock: bool = True,
    on_wait: Callable[[str], None] | None = None,
) -> Iterator[FlowRun]:
    """The body of a run: write lock held (``lock``), one row in ``runs`` (``running`` ->
    ``completed`` / ``failed``) in ``workspace`` (default: the process settings' one, for the
    edges; the run's steps find it as ``run.workspace``, with opens waiting up to
    :data:`RUN_OPEN_WAIT_SECONDS` for readers). An exception fails
    the run with its one-line message (a failing notebook's cell and error, and its executed
    copy's path) and is raised again."""
    base = workspace if workspace is not None else Workspace.current()
    ws = base.replace(write_wait_seconds=max(base.settings.write_wait_seconds, RUN_OPEN_WAIT_SECONDS))
    secrets = ws.settings.secrets()
    guard = ws.write_lock(flow, on_wait=on_wait) if lock else contextlib.nullcontext()
    with guard:
        now = clock.now()
        run = FlowRun(flow, raw.new_run_id(now), now, _safe(parameters or {}, secrets), workspace=ws)
        if lock:
            with ws.writing(flow, on_wait=on_wait) as con:  # re-entrant: the lock is ours; closes a killed run's row
                _record_start(con, run)
        else:
            with ws.connection() as con:
                _record_start(con, run)
        try:
            yield run
        except BaseException as exc:
            run.status = "failed"
            run.error = "interrupted" if isinstance(exc, KeyboardInterrupt) else _one_line(exc, secrets)
            ipynb = getattr(exc, "ipynb", None)
            if ipynb is not None:
                run.notebook_path = str(Path(ipynb).resolve())
            _record_end(ws, run)
            raise
        if run.status == "running":
            run.status = "completed"
        _record_end(ws, run)
