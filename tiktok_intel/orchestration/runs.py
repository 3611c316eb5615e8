"""Each flow run, recorded in the ``runs`` table: flow, start, end, status, counts, the executed
notebook's path and the error (one line, secrets removed).

:func:`flow_run` is what every flow in ``flows/`` wraps its body in: it takes the workspace write
lock, records the run as ``running``, and at the end ``completed`` or ``failed`` with what the
steps reported; its :meth:`FlowRun.summary` is the flow's one-line log.
"""
from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import json
import os
import time
from pathlib import Path
from typing import Any, Iterator, Mapping

from .. import clock, raw
from ..errors import TikTokIntelError
from ..settings import DECLARED, configure, get_settings
from ..store import open_db
from .lock import write_lock

#: How long a flow's own opens of the store wait, retrying, while a reader (a dashboard, a
#: notebook) holds the DuckDB file: a flow does not fail because someone is reading.
FLOW_OPEN_WAIT_SECONDS = 60.0


@contextlib.contextmanager
def connection() -> Iterator:
    """The configured store, opened for writing by a flow (waits for readers), closed at the end."""
    con = open_db(wait_seconds=FLOW_OPEN_WAIT_SECONDS)
    try:
        yield con
    finally:
        con.close()


@dataclasses.dataclass
class FlowRun:
    flow: str
    run_id: str
    started_at: dt.datetime
    parameters: dict[str, Any] = dataclasses.field(default_factory=dict)
    counts: dict[str, Any] = dataclasses.field(default_factory=dict)
    notebook_path: str | None = None
    status: str = "running"
    error: str | None = None
    ended_at: dt.datetime | None = None
    notes: list[str] = dataclasses.field(default_factory=list)
    _clock: float = dataclasses.field(default_factory=time.perf_counter, repr=False)

    def add(self, counts: Mapping[str, Any] | None = None, note: str | None = None) -> None:
        """Merge a step's counts (and its one-line note) into the run's."""
        self.counts.update(counts or {})
        if note:
            self.notes.append(note)

    def notebook(self, run: Any) -> None:
        """Record a step's :class:`~tiktok_intel.notebooks.NotebookRun` (its executed copy)."""
        self.notebook_path = str(Path(run.ipynb).resolve())  # absolute: dashboards read it from another folder
        self.counts[f"{run.name}_seconds"] = round(run.seconds, 2)

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


def _one_line(exc: BaseException) -> str:
    text = str(exc) if isinstance(exc, TikTokIntelError) else f"{type(exc).__name__}: {exc}"
    return raw.redact(" ".join(text.split()), get_settings().secrets())


def _safe(parameters: Mapping[str, Any]) -> dict[str, Any]:
    secrets = [s for s in get_settings().secrets() if s]
    return {k: ("***" if any(s in str(v) for s in secrets) else v) for k, v in parameters.items()}


#: What a run left ``running`` by a process that died (kill -9, power loss) is marked with.
STALE_ERROR = "interrupted: its process ended before the run finished (found by the next run)"


def close_stale_runs(con) -> int:
    """Mark the runs still ``running`` as failed: call it holding the workspace write lock, before
    starting a run. With a DuckDB file that lock and the file's own make this process the only
    writer, so a ``running`` row is one whose process died. A DuckLake catalog can have writers on
    other machines: there nothing is touched. Returns how many were closed."""
    if get_settings().db_target.startswith("ducklake:"):
        return 0
    stale = con.execute("SELECT count(*) FROM runs WHERE status = 'running'").fetchone()[0]
    if stale:
        con.execute("UPDATE runs SET status = 'failed', error = ?, ended_at = coalesce(ended_at, ?) WHERE status = 'running'",
                    [STALE_ERROR, clock.now()])
    return stale


def record_start(run: FlowRun) -> None:
    with connection() as con:
        close_stale_runs(con)
        con.execute("INSERT INTO runs (run_id, flow, started_at, status, counts) VALUES (?, ?, ?, 'running', ?)",
                    [run.run_id, run.flow, run.started_at, json.dumps({"parameters": run.parameters}, default=str)])


def record_end(run: FlowRun) -> None:
    run.ended_at = clock.now()
    counts = {"parameters": run.parameters, **run.counts, "seconds": round(run.seconds, 2)}
    with connection() as con:
        con.execute("UPDATE runs SET ended_at = ?, status = ?, counts = ?, notebook_path = ?, error = ? WHERE run_id = ?",
                    [run.ended_at, run.status, json.dumps(counts, default=str), run.notebook_path, run.error, run.run_id])


_WRITE_WAIT = next(s for s in DECLARED if s.name == "write_wait_seconds")


@contextlib.contextmanager
def _flow_waits() -> Iterator[None]:
    """Inside a flow, opens for writing wait for readers instead of failing: ours (the setting) and
    the notebook kernels' (they read the same setting from the environment they inherit)."""
    settings = get_settings()
    previous = os.environ.get(_WRITE_WAIT.env)
    os.environ[_WRITE_WAIT.env] = str(FLOW_OPEN_WAIT_SECONDS)
    configure(settings, write_wait_seconds=FLOW_OPEN_WAIT_SECONDS)
    try:
        yield
    finally:
        configure(get_settings(), write_wait_seconds=settings.write_wait_seconds)
        if previous is None:
            os.environ.pop(_WRITE_WAIT.env, None)
        else:
            os.environ[_WRITE_WAIT.env] = previous


@contextlib.contextmanager
def flow_run(flow: str, parameters: Mapping[str, Any] | None = None, *, lock: bool = True,
             on_wait=None) -> Iterator[FlowRun]:
    """The body of a flow: write lock held, run recorded in ``runs`` (``running`` -> ``completed``
    / ``failed``). An exception fails the run with its one-line message (a failing notebook's
    cell and error, and its executed copy's path) and is raised again."""
    guard = write_lock(flow, on_wait=on_wait) if lock else contextlib.nullcontext()
    with guard, _flow_waits():
        now = clock.now()
        run = FlowRun(flow, raw.new_run_id(now), now, _safe(parameters or {}))
        record_start(run)
        try:
            yield run
        except BaseException as exc:
            run.status = "failed"
            run.error = "interrupted" if isinstance(exc, KeyboardInterrupt) else _one_line(exc)
            ipynb = getattr(exc, "ipynb", None)
            if ipynb is not None:
                run.notebook_path = str(Path(ipynb).resolve())
            record_end(run)
            raise
        if run.status == "running":
            run.status = "completed"
        record_end(run)
