"""Opening the DuckDB workspace: one function, schema migrated on open, clear errors.

Connections are meant to be short: DuckDB holds an exclusive per-file lock across processes
while any connection is open (see ``DESIGN.md``), so callers use :func:`connection` as a context
manager and close it when done.
"""
from __future__ import annotations

import contextlib
import errno
import re
from pathlib import Path
from typing import Iterator

import duckdb

from . import clock
from .errors import SchemaVersionError, StoreError
from .schema import MIGRATIONS, SCHEMA_VERSION
from .settings import get_settings


def _lock_holder(message: str) -> str:
    match = re.search(r"PID (\d+)", message)
    return f" (process {match.group(1)})" if match else ""


def open_db(db: str | Path | None = None, *, read_only: bool = False, migrate: bool = True) -> duckdb.DuckDBPyConnection:
    """Open (creating when missing) the database and bring its schema up to date.

    ``db`` is a file path; ``None`` means the configured one (``<workspace>/tiktok.duckdb``).
    """
    target = str(db) if db is not None else get_settings().db_target
    path = Path(target)
    if target != ":memory:":
        if read_only and not path.exists():
            raise StoreError(f"no database at {target}: run `tiktok-intel init` (or `--db PATH`) first")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"cannot create the workspace folder {path.parent}: {exc.strerror}; choose a writable --db or TIKTOK_INTEL_WORKSPACE") from None
    try:
        con = duckdb.connect(target, read_only=read_only)
    except duckdb.IOException as exc:
        text = str(exc)
        if "lock" in text.lower():
            raise StoreError(f"{target} is in use by another process{_lock_holder(text)}: wait for it to finish, or close the notebook holding it") from None
        raise StoreError(f"cannot open {target}: {text.splitlines()[0]}; check the path and its permissions") from None
    except duckdb.Error as exc:
        raise StoreError(f"cannot open {target}: {str(exc).splitlines()[0]}") from None
    try:
        if migrate:
            ensure_schema(con, read_only=read_only)
    except BaseException:
        con.close()
        raise
    return con


@contextlib.contextmanager
def connection(db: str | Path | None = None, *, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
    """``with connection() as con:`` — opened, migrated, and closed at the end of the block."""
    con = open_db(db, read_only=read_only)
    try:
        yield con
    finally:
        con.close()


def schema_version(con: duckdb.DuckDBPyConnection) -> int:
    exists = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = 'schema_version' AND table_schema = current_schema()"
    ).fetchone()[0]
    if not exists:
        return 0
    row = con.execute("SELECT max(version) FROM schema_version").fetchone()
    return int(row[0] or 0)


def ensure_schema(con: duckdb.DuckDBPyConnection, *, read_only: bool = False) -> int:
    """Apply the migrations a database lacks; refuse one written by a newer version."""
    current = schema_version(con)
    if current > SCHEMA_VERSION:
        raise SchemaVersionError(
            f"this database has schema version {current}, newer than this tiktok-intel understands ({SCHEMA_VERSION}): upgrade tiktok-intel (pip install -U tiktok-intel)"
        )
    if current == SCHEMA_VERSION:
        return current
    if read_only:
        raise StoreError(f"the database has schema version {current}, older than {SCHEMA_VERSION}: open it once for writing (`tiktok-intel init`) to upgrade it")
    try:
        con.execute("BEGIN TRANSACTION")
        con.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, applied_at TIMESTAMP NOT NULL)")
        for version in range(current, SCHEMA_VERSION):
            if _has_statements(MIGRATIONS[version]):
                con.execute(MIGRATIONS[version])
            con.execute("INSERT INTO schema_version VALUES (?, ?)", [version + 1, clock.now()])
        con.execute("COMMIT")
    except duckdb.Error as exc:
        con.execute("ROLLBACK")
        if isinstance(exc, duckdb.IOException) and _is_disk_full(str(exc)):
            raise StoreError("the disk holding the database is full: free space and run again") from None
        raise
    return SCHEMA_VERSION


def _has_statements(sql: str) -> bool:
    return any(line.strip() and not line.strip().startswith("--") for line in sql.splitlines())


def _is_disk_full(message: str) -> bool:
    return "No space left" in message or str(errno.ENOSPC) in message


@contextlib.contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    """One transaction: committed at the end of the block, rolled back on any error."""
    con.execute("BEGIN TRANSACTION")
    try:
        yield con
    except BaseException:
        con.execute("ROLLBACK")
        raise
    else:
        try:
            con.execute("COMMIT")
        except duckdb.IOException as exc:
            if _is_disk_full(str(exc)):
                raise StoreError("the disk holding the database is full: free space and run again") from None
            raise
