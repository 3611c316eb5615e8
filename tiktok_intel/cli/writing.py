"""The write lock for commands that write the store, as the scheduled flows take it.

``with writing("import") as con:`` waits (saying so on stderr, once) while another command or
flow is writing the workspace, then opens the store: two imports started at once run one after
the other instead of the second failing on DuckDB's file lock. Runs a killed process left
``running`` are marked failed then, as a flow does.
"""
from __future__ import annotations

import contextlib
import sys
from typing import Iterator

import duckdb

from ..orchestration.lock import write_lock
from ..orchestration.runs import close_stale_runs
from ..store import connection


def _say(message: str) -> None:
    print(f"tiktok-intel: {message}", file=sys.stderr, flush=True)


@contextlib.contextmanager
def writing(command: str) -> Iterator[duckdb.DuckDBPyConnection]:
    with write_lock(command, on_wait=_say), connection() as con:
        close_stale_runs(con)
        yield con
