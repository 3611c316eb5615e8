"""Opening the database (a DuckDB file or a DuckLake catalog): one function, one retry loop,
schema migrated on open, clear errors; transactions; extensions loaded offline.

Connections are meant to be short: DuckDB holds an exclusive per-file lock across processes
while any connection is open (docs/architecture.md), so callers use :func:`connection` (or
:class:`~tiktok_intel.store.Workspace`) and close it when done. ``open_db()`` with no target is the
notebook convenience (``ti.connect()``): the process settings' database.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import re
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import duckdb

from .. import clock
from ..errors import SchemaVersionError, StoreError
from ..schema import MIGRATIONS, SCHEMA_VERSION
from ..settings import Settings, get_settings

logger = logging.getLogger(__name__)


def _lock_holder(message: str) -> str:
    match = re.search(r"PID (\d+)", message)
    return f" (process {match.group(1)})" if match else ""


DUCKLAKE_PREFIX = "ducklake:"
#: What the error of an open that found the file held by another process says.
IN_USE = "in use by another process"


def is_ducklake(target: str | Path | None) -> bool:
    return str(target or "").startswith(DUCKLAKE_PREFIX)


def open_db(
    db: str | Path | None = None,
    *,
    read_only: bool = False,
    migrate: bool = True,
    wait_seconds: float | None = None,
    settings: Settings | None = None,
) -> duckdb.DuckDBPyConnection:
    """Open (creating when missing) the database and bring its schema up to date.

    ``db`` is a file path, or ``ducklake:sqlite:PATH`` (a DuckLake catalog in SQLite, its data
    files in ``<PATH without suffix>.files/`` beside it; ``ducklake:postgres:...`` and
    ``ducklake:PATH`` too); ``None`` means the configured one (``<workspace>/tiktok.duckdb``).
    While another process holds a DuckDB file, the open is retried for ``wait_seconds``
    (default: the ``read_wait_seconds`` / ``write_wait_seconds`` settings) before failing.
    A DuckLake store's data in S3 takes the ``s3_*`` settings (of ``settings``, default the process's).
    """
    target = str(db) if db is not None else get_settings().db_target
    if is_ducklake(target):
        con = _open_ducklake(target, read_only=read_only, settings=settings or get_settings())
    else:
        if wait_seconds is None:
            settings = get_settings()
            wait_seconds = settings.read_wait_seconds if read_only else settings.write_wait_seconds
        con = _open_duckdb(target, read_only=read_only, wait_seconds=wait_seconds)
    try:
        if migrate:
            ensure_schema(con, read_only=read_only)
    except BaseException:
        con.close()
        raise
    return con


def duckdb_path(target: str | Path) -> str:
    """``target`` as a DuckDB file path, refused when DuckDB would misread it: DuckDB takes what
    follows a ``?`` as URL parameters (its write-ahead log would go to ``a.wal?b/...``, so every
    write fails) and resolves symbolic links first, so no other name for the file helps."""
    text = str(target)
    if "?" in text or "?" in os.path.realpath(text):
        raise StoreError(
            f"cannot open the database {text}: DuckDB reads a '?' in a file path as URL parameters; "
            "choose a workspace folder (--db or TIKTOK_INTEL_WORKSPACE) whose path holds no '?'"
        )
    return text


def _open_duckdb(target: str, *, read_only: bool, wait_seconds: float) -> duckdb.DuckDBPyConnection:
    path = Path(target)
    if target != ":memory:":
        duckdb_path(target)
        if read_only and not path.exists():
            raise StoreError(f"no database at {target}: run `tiktok-intel init` (or `--db PATH`) first")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(
                f"cannot create the workspace folder {path.parent}: {exc.strerror}; choose a writable --db or TIKTOK_INTEL_WORKSPACE"
            ) from None
    deadline = time.monotonic() + max(0.0, wait_seconds)
    delay, warned = 0.05, False
    while True:
        try:
            return duckdb.connect(target, read_only=read_only)
        except duckdb.IOException as exc:
            text = str(exc)
            if "lock" not in text.lower():
                raise StoreError(f"cannot open {target}: {text.splitlines()[0]}; check the path and its permissions") from None
            if time.monotonic() + delay > deadline:
                raise StoreError(
                    f"{target} is {IN_USE}{_lock_holder(text)}: wait for it to finish, or close the notebook holding it"
                ) from None
            if not warned and wait_seconds >= 1:
                logger.info("%s is in use by another process%s, waiting up to %.0f s", target, _lock_holder(text), wait_seconds)
                warned = True
            time.sleep(delay)
            delay = min(delay * 2, 0.25)
        except duckdb.Error as exc:
            raise StoreError(f"cannot open {target}: {str(exc).splitlines()[0]}") from None


def _extension_file(package: str, name: str) -> Path | None:
    """``<site-packages>/<package>/extensions/v<duckdb version>/<name>.duckdb_extension`` (the PyPI
    ``duckdb-extension-*`` packages), so extensions load offline."""
    import importlib.util

    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    for folder in spec.submodule_search_locations:
        candidate = Path(folder) / "extensions" / f"v{duckdb.__version__}" / f"{name}.duckdb_extension"
        if candidate.is_file():
            return candidate
    return None


def load_extension(con: duckdb.DuckDBPyConnection, name: str, package: str) -> None:
    """LOAD a DuckDB extension from its PyPI package (offline); fall back to DuckDB's own install."""
    path = _extension_file(package, name)
    try:
        if path is not None:
            con.execute(f"LOAD '{_quote(str(path))}'")
        else:
            con.execute(f"LOAD {name}")
    except duckdb.Error as exc:
        pip_name = package.replace("_", "-")
        raise StoreError(
            f"cannot load the DuckDB extension {name} ({str(exc).splitlines()[0]}): pip install {pip_name}=={duckdb.__version__}"
        ) from None


def _quote(text: str) -> str:
    return text.replace("'", "''")


def absolute_target(target: str | Path) -> str:
    """A database target with its file path made absolute (``ducklake:sqlite:rel/x`` too), for a
    process that runs in another folder (a notebook's kernel, a flow run)."""
    target = str(target)
    if target == ":memory:":
        return target
    if not is_ducklake(target):
        return str(Path(target).resolve())
    rest = target[len(DUCKLAKE_PREFIX) :]
    for kind in ("sqlite:", "duckdb:"):
        if rest.startswith(kind):
            return f"{DUCKLAKE_PREFIX}{kind}{Path(rest[len(kind) :]).resolve()}"
    if ":" not in rest.split("/")[0]:
        return f"{DUCKLAKE_PREFIX}{Path(rest).resolve()}"
    return target  # postgres:...: no file


def ducklake_data_path(target: str) -> Path | None:
    """Where a DuckLake store keeps its Parquet files: beside a file catalog, ``<catalog stem>.files/``."""
    catalog = target[len(DUCKLAKE_PREFIX) :]
    for kind in ("sqlite:", "duckdb:"):
        if catalog.startswith(kind):
            catalog = catalog[len(kind) :]
            break
    else:
        if ":" in catalog.split("/")[0]:  # postgres:... : the data path must be given (DATA_PATH) by the deployment
            return None
    path = Path(catalog)
    return path.with_name(path.stem + ".files")


def uses_s3(settings: Settings) -> bool:
    """Whether the store's data may be in S3 (httpfs and the credentials are then set up on open)."""
    return bool(settings.s3_key_id or settings.s3_endpoint or settings.ducklake_data_path.startswith("s3://"))


def s3_secret(con: duckdb.DuckDBPyConnection, settings: Settings) -> None:
    """DuckDB's ``httpfs`` from its PyPI package and a temporary S3 secret from the ``s3_*`` settings,
    in this connection only (never written anywhere, never in a statement's text: the values are bound)."""
    from urllib.parse import urlsplit

    load_extension(con, "httpfs", "duckdb_extension_httpfs")
    options, values = ["TYPE s3", "REGION ?"], [settings.s3_region]
    if settings.s3_key_id:
        options += ["KEY_ID ?", "SECRET ?"]
        values += [settings.s3_key_id, settings.s3_secret]
    if settings.s3_endpoint:
        endpoint = urlsplit(settings.s3_endpoint if "://" in settings.s3_endpoint else "https://" + settings.s3_endpoint)
        options += ["ENDPOINT ?", "URL_STYLE 'path'", "USE_SSL ?"]
        values += [endpoint.netloc, endpoint.scheme == "https"]
    con.execute(f"CREATE OR REPLACE TEMPORARY SECRET tiktok_intel_s3 ({', '.join(options)})", values)


def _open_ducklake(target: str, *, read_only: bool, settings: Settings) -> duckdb.DuckDBPyConnection:
    catalog = target[len(DUCKLAKE_PREFIX) :]
    con = duckdb.connect()
    try:
        if uses_s3(settings):
            s3_secret(con, settings)
        if catalog.startswith("sqlite:"):
            load_extension(con, "sqlite_scanner", "duckdb_extension_sqlite_scanner")
            file = Path(catalog[len("sqlite:") :])
        elif catalog.startswith("postgres:"):
            load_extension(con, "postgres_scanner", "duckdb_extension_postgres_scanner")
            file = None
        else:
            file = Path(catalog[len("duckdb:") :] if catalog.startswith("duckdb:") else catalog)
        load_extension(con, "ducklake", "duckdb_extension_ducklake")
        options = []
        data = settings.ducklake_data_path.rstrip("/") or ducklake_data_path(target)
        if file is not None:
            duckdb_path(file)
            if read_only and not file.exists():
                raise StoreError(f"no DuckLake catalog at {file}: run `tiktok-intel --db {target} init` first")
            file.parent.mkdir(parents=True, exist_ok=True)
        if data is not None:
            options.append(f"DATA_PATH '{_quote(str(data))}/'")
        if read_only:
            options.append("READ_ONLY")
        suffix = f" ({', '.join(options)})" if options else ""
        con.execute(f"ATTACH '{_quote(target)}' AS lake{suffix}")
        con.execute("USE lake")
    except duckdb.Error as exc:
        con.close()
        raise StoreError(f"cannot open the DuckLake store {target}: {str(exc).splitlines()[0]}") from None
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
        "SELECT count(*) FROM information_schema.tables WHERE table_name = 'schema_version' AND table_schema = current_schema() AND table_catalog = current_database()"
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
        raise StoreError(
            f"the database has schema version {current}, older than {SCHEMA_VERSION}: open it once for writing (`tiktok-intel init`) to upgrade it"
        )
    with transaction(con):
        con.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL, applied_at TIMESTAMP NOT NULL)")
        for version in range(current, SCHEMA_VERSION):
            if _has_statements(MIGRATIONS[version]):
                con.execute(MIGRATIONS[version])
            con.execute("INSERT INTO schema_version VALUES (?, ?)", [version + 1, clock.now()])
    return SCHEMA_VERSION


def _has_statements(sql: str) -> bool:
    return any(line.strip() and not line.strip().startswith("--") for line in sql.splitlines())


#: How DuckDB words "no room to write" (its message holds the OS's text): full disk, quota, file size limit.
_NO_ROOM = (
    os.strerror(errno.ENOSPC),
    os.strerror(errno.EDQUOT),
    os.strerror(errno.EFBIG),
    "No space left",
    "Disk quota exceeded",
    "File too large",
)


def _is_disk_full(message: str) -> bool:
    return any(text in message for text in _NO_ROOM)


def _disk_full_error(exc: BaseException) -> StoreError:
    reason = next((text for text in _NO_ROOM if text in str(exc)), "no space left")
    return StoreError(
        f"the disk holding the database is full ({reason}): free space and run again (the last transaction was "
        "rolled back; nothing was half-written)"
    )


@contextlib.contextmanager
def no_room_is_a_store_error() -> Iterator[None]:
    """Inside the block, DuckDB's "no room to write" (a full disk, a quota, a file size limit),
    wherever it happens, becomes one :class:`StoreError` naming the fix."""
    try:
        yield
    except duckdb.Error as exc:
        cause = _no_room_in_chain(exc)  # also a failed ROLLBACK after a COMMIT that found no room
        if cause is not None:
            raise _disk_full_error(cause) from None
        raise


def _no_room_in_chain(exc: BaseException | None) -> BaseException | None:
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, duckdb.Error) and _is_disk_full(str(exc)):
            return exc
        exc = exc.__cause__ or exc.__context__
    return None


def _rollback(con: duckdb.DuckDBPyConnection) -> None:
    try:
        con.execute("ROLLBACK")
    except duckdb.Error:  # a failed COMMIT has already ended the transaction
        pass


@contextlib.contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    """One transaction: committed at the end of the block, rolled back on any error. No room to
    write (a full disk) is a :class:`StoreError` naming the fix (:func:`no_room_is_a_store_error`),
    wherever in the block it happens. On DuckLake, the transaction first takes the lake's turn
    (:func:`_take_turn`), and a commit that lost to another writer is a :class:`LakeConflict`, which
    :func:`retrying_conflicts` runs again."""
    with no_room_is_a_store_error():
        con.execute("BEGIN TRANSACTION")
        try:
            _take_turn(con)
            yield con
        except BaseException as exc:
            _rollback(con)
            if isinstance(exc, duckdb.Error) and is_conflict(exc):
                raise LakeConflict(f"another writer committed to the DuckLake store first ({str(exc).splitlines()[0]})") from exc
            raise
        try:
            con.execute("COMMIT")
        except duckdb.Error as exc:  # DuckDB reports a failed WAL write as a TransactionException
            _rollback(con)
            if is_conflict(exc):
                raise LakeConflict(f"another writer committed to the DuckLake store first ({str(exc).splitlines()[0]})") from exc
            raise


class LakeConflict(StoreError):
    """A DuckLake commit lost to another writer's (nothing of it was written): run the work again."""


def is_conflict(exc: BaseException) -> bool:
    """Whether ``exc`` is DuckLake's "another transaction changed this first" (a transaction conflict)."""
    return isinstance(exc, LakeConflict) or (isinstance(exc, duckdb.Error) and "conflict" in str(exc).lower())


#: The one-row table every DuckLake write transaction updates first (migration ``007_lake_turn.sql``).
TURN_TABLE = "lake_turn"


def _take_turn(con: duckdb.DuckDBPyConnection) -> None:
    """On a DuckLake store, update the one row of :data:`TURN_TABLE`: DuckLake keeps no keys unique
    and lets two transactions that only insert commit side by side, so two writers ingesting the same
    raw page at once would both add it. Both now change that one row, so whichever commits second gets
    a transaction conflict and does its work again (:func:`retrying_conflicts`), on what the first
    committed: writers take turns per transaction, optimistically, across machines. A DuckDB file
    needs none of this (one writer holds the file)."""
    row = con.execute(
        "SELECT (SELECT type FROM duckdb_databases() WHERE database_name = current_database()) = 'ducklake', "
        "EXISTS (SELECT 1 FROM duckdb_tables() WHERE database_name = current_database() AND schema_name = 'main' AND table_name = ?)",
        [TURN_TABLE],
    ).fetchone()
    if row[0] and row[1]:
        con.execute(f"UPDATE main.{TURN_TABLE} SET commits = commits + 1")


#: The first wait after a conflict, in seconds; doubled each time (with jitter), up to :data:`CONFLICT_MAX_DELAY`.
CONFLICT_DELAY = 0.05
CONFLICT_MAX_DELAY = 5.0  # with the default 20 retries: over a minute of patience for a writer whose turn is long


def retrying_conflicts(fn, *args, what: str = "write", attempts: int | None = None, **kwargs):
    """``fn(*args, **kwargs)``, run again after a DuckLake transaction conflict (:class:`LakeConflict`),
    up to ``attempts`` times (default: the ``lake_conflict_retries`` setting) with exponential backoff
    and jitter, each retry logged; the store's one retry loop for writes. ``fn`` must be safe to run
    again (what it committed before the conflict stays; ingest skips pages already in)."""
    import random

    attempts = get_settings().lake_conflict_retries if attempts is None else attempts
    delay = CONFLICT_DELAY
    for attempt in range(1, attempts + 2):
        try:
            return fn(*args, **kwargs)
        except BaseException as exc:
            if not is_conflict(exc) or attempt > attempts:
                if is_conflict(exc):
                    raise LakeConflict(
                        f"{what}: still losing DuckLake transaction conflicts to other writers after {attempts} retries: "
                        "run it again, or raise TIKTOK_INTEL_LAKE_CONFLICT_RETRIES"
                    ) from None
                raise
            wait = delay * (1 + random.random())
            logger.warning(
                "%s: DuckLake transaction conflict with another writer, retrying in %.2f s (retry %d of %d)", what, wait, attempt, attempts
            )
            time.sleep(wait)
            delay = min(delay * 2, CONFLICT_MAX_DELAY)
    raise AssertionError("unreachable")


class LeasedConnection:
    """A connection opened on first use and closed by :meth:`release`, for long steps that hold the
    DuckDB file only while they read or write: ``release()`` before the slow part (OCR, cutting
    frames), and the next ``execute`` opens it again. ``connect`` is a context manager factory
    (``Workspace.connection``). Everything else is the live connection's."""

    def __init__(self, connect):
        self._connect = connect
        self._held = None
        self._con = None

    def _live(self):
        if self._con is None:
            self._held = self._connect()
            self._con = self._held.__enter__()
        return self._con

    def __getattr__(self, name):
        return getattr(self._live(), name)

    def release(self) -> None:
        """Close the connection (the next use opens it again); other processes may open the file meanwhile."""
        if self._con is not None:
            held, self._held, self._con = self._held, None, None
            held.__exit__(None, None, None)

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.release()


def release(con) -> None:
    """Let go of the database file for a while when ``con`` is a :class:`LeasedConnection` (a plain
    connection stays open: its caller owns it)."""
    if isinstance(con, LeasedConnection):
        con.release()


def of_posts(con, sql: str, params: Sequence[Any] = (), posts: Sequence[str] | None = None) -> list[tuple]:
    """The rows of the query ``sql`` (its first column ``post_id``); when ``posts`` are given
    (``None``: all), only theirs, sorted by all columns (post by post)."""
    if posts is None:
        return con.execute(sql, list(params)).fetchall()
    scoped = f"SELECT * FROM ({sql}) AS pending WHERE list_contains(?::VARCHAR[], pending.post_id) ORDER BY ALL"
    return con.execute(scoped, [*params, [str(p) for p in posts]]).fetchall()
