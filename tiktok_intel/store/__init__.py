"""Workspace access, in one package: opening the store (DuckDB file or DuckLake) with one retry
loop, transactions and the schema (:mod:`.database`), the write lock (:mod:`.lock`), the read copy
dashboards read while a flow writes (:mod:`.readcopy`), and the :class:`Workspace` value with its
``read`` / ``write`` / ``writing`` (:mod:`.workspace`)."""

from __future__ import annotations

from .database import (
    DUCKLAKE_PREFIX,
    LakeConflict,
    absolute_target,
    connection,
    ducklake_data_path,
    ensure_schema,
    is_ducklake,
    load_extension,
    no_room_is_a_store_error,
    open_db,
    retrying_conflicts,
    schema_version,
    transaction,
)
from .lock import WriteLockTimeout
from .workspace import BusyError, EmptyWorkspaceError, Workspace, close_stale_runs, noting_copies, read_only

__all__ = [
    "DUCKLAKE_PREFIX",
    "LakeConflict",
    "retrying_conflicts",
    "BusyError",
    "absolute_target",
    "EmptyWorkspaceError",
    "Workspace",
    "WriteLockTimeout",
    "close_stale_runs",
    "connection",
    "ducklake_data_path",
    "ensure_schema",
    "is_ducklake",
    "load_extension",
    "no_room_is_a_store_error",
    "noting_copies",
    "open_db",
    "read_only",
    "schema_version",
    "transaction",
]
