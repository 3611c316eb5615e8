"""The workspace write lock: one writing run at a time, the others wait their turn.

DuckDB allows one writing process per file (docs/architecture.md), so every flow that writes the store
takes this lock first: a lock file (``<workspace>/.write.lock``) holding the holder's pid, flow
and start time, locked with ``flock`` (released by the OS if the holder dies, so it is never
stale). A run that finds it taken logs "another run is writing since 01:00:03 (content, process
4242), waiting" and waits up to the ``lock_timeout_seconds`` setting. Collectors that only write
raw pages do not need it. When the outermost hold ends without an error, the database the run
wrote is published as the dashboards' read copy (:mod:`tiktok_intel.store.readcopy`) before the lock is
let go: no other writer can start meanwhile, and the run's connections are closed by then.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import fcntl
import json
import logging
import os
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from .. import clock
from ..errors import StoreError
from . import readcopy

logger = logging.getLogger(__name__)

LOCK_NAME = ".write.lock"
_held = threading.local()


class WriteLockTimeout(StoreError):
    """Another run held the write lock for longer than ``lock_timeout_seconds``."""


@dataclasses.dataclass(frozen=True)
class Holder:
    pid: int | None
    flow: str
    since: dt.datetime | None  # naive UTC

    def describe(self, zone: dt.tzinfo = dt.UTC) -> str:
        if self.since is None:
            when = "a moment ago"
        else:
            when = "since " + self.since.replace(tzinfo=dt.UTC).astimezone(zone).strftime("%H:%M:%S")
        who = ", ".join(part for part in (self.flow, f"process {self.pid}" if self.pid else "") if part)
        return f"{when}{f' ({who})' if who else ''}"


def lock_path(workspace: Path) -> Path:
    """The lock file of the workspace folder ``workspace``."""
    return Path(workspace) / LOCK_NAME


def holder(workspace: Path) -> Holder | None:
    """Who holds the write lock now (``None``: nobody)."""
    path = lock_path(workspace)
    if not path.exists():
        return None
    fd = os.open(path, os.O_RDWR)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return _read(path)
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)


def _read(path: Path) -> Holder:
    try:
        data = json.loads(path.read_text(encoding="utf-8") or "{}")
        since = dt.datetime.fromisoformat(data["since"]) if data.get("since") else None
        return Holder(data.get("pid"), str(data.get("flow") or ""), since)
    except (OSError, ValueError, KeyError, TypeError):  # being rewritten right now
        return Holder(None, "", None)


def _read_settled(path: Path, poll_seconds: float, patience: float = 2.0) -> Holder:
    """The holder, once it has written who it is: it takes the lock first and writes its details
    just after, so a reader can come in between (then "a moment ago" is all we can say)."""
    deadline = time.monotonic() + patience
    other = _read(path)
    while other.since is None and time.monotonic() < deadline:
        time.sleep(min(poll_seconds, 0.05))
        other = _read(path)
    return other


@contextlib.contextmanager
def write_lock(
    flow: str,
    workspace: Path,
    *,
    timeout: float,
    on_wait: Callable[[str], None] | None = None,
    poll_seconds: float = 0.2,
    db: str | Path | None = None,
    zone: dt.tzinfo = dt.UTC,
) -> Iterator[Holder]:
    """Hold the write lock of the workspace folder ``workspace`` inside the block; wait up to
    ``timeout`` seconds while another run holds it. Re-entrant within a thread. ``db`` is the
    database the block writes: when the outermost block ends without an error its read copy is
    published, before the lock is released. ``zone``: the time zone waiting messages use.
    (:meth:`tiktok_intel.store.Workspace.write_lock` fills all of these in from the workspace.)"""
    path = lock_path(workspace)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreError(
            f"cannot create the workspace folder {path.parent} ({exc.strerror}): check the path and its permissions, "
            "or choose a writable --db or TIKTOK_INTEL_WORKSPACE"
        ) from None
    key = str(path.resolve())
    stack = getattr(_held, "paths", None)
    if stack is None:
        stack = _held.paths = {}
    if key in stack:  # this thread already holds it
        yield stack[key]
        return
    written = str(db) if db not in (None, "") else None
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise StoreError(
            f"cannot write the workspace's lock file {path} ({exc.strerror}): check the path and its permissions, "
            "or choose a writable --db or TIKTOK_INTEL_WORKSPACE"
        ) from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            other = _read_settled(path, poll_seconds)
            message = f"another run is writing {other.describe(zone)}, waiting"
            (on_wait or logger.warning)(message)
            deadline = time.monotonic() + timeout
            while True:
                time.sleep(poll_seconds)
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        other = _read(path)
                        raise WriteLockTimeout(
                            f"another run has been writing {other.describe(zone)}; gave up waiting after {timeout:.0f} s: let it finish "
                            f"(or stop it), or raise TIKTOK_INTEL_LOCK_TIMEOUT_SECONDS"
                        ) from None
        me = Holder(os.getpid(), flow, clock.now())
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps({"pid": me.pid, "flow": flow, "since": me.since.isoformat()}).encode(), 0)
        stack[key] = me
        try:
            yield me
            if written is not None:  # reached only when the block ended without an error
                readcopy.publish(written)
        finally:
            del stack[key]
            with contextlib.suppress(OSError):
                os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
