"""``process``: from the raw zone to the store. Raw pages are parsed into batches (web feed pages by
DuckDB itself, :mod:`.sql_reader`; every other shape by :mod:`tiktok_intel.parsing`) and merged
(:mod:`.merge`); :func:`process_pending` ingests the pages not yet in the store, :func:`rebuild`
every table again from raw."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable
from pathlib import Path

import duckdb

from ..parsing import Batch, Context, iter_parse
from ..progress import progress
from ..raw import RawPage, iter_pages
from ..schema import INGEST_TABLES
from ..settings import Settings, get_settings
from ..store import transaction
from . import sql_reader
from .merge import IngestStats, PageDone, ingest_batch, ingest_relations


def context_for(page: RawPage) -> Context:
    meta = page.meta
    return Context(
        collected_at=page.fetched_at,
        source=page.source,
        hashtag=meta.get("hashtag"),
        run_id=meta.get("run_id"),
        rank_offset=int(meta.get("rank_offset") or 0),
        request=meta.get("request"),
    )


def ingest_page(con: duckdb.DuckDBPyConnection, page: RawPage, *, chunk_items: int | None = None) -> IngestStats:
    """Ingest one raw page (skipped when its checksum is already in ``raw_pages``)."""
    return ingest_pages(con, [page], chunk_items=chunk_items, desc=None)


def pending_pages(con: duckdb.DuckDBPyConnection, raw_dir: Path | None = None) -> list[RawPage]:
    done = _done(con)
    return [p for p in iter_pages(raw_dir) if p.sha256 not in done]


def _done(con: duckdb.DuckDBPyConnection, shas: list[str] | None = None) -> set[str]:
    """Checksums already ingested: all of them, or those among ``shas``."""
    if shas is None:
        return {row[0] for row in con.execute("SELECT sha256 FROM raw_pages").fetchall()}
    return {row[0] for row in con.execute("SELECT sha256 FROM raw_pages WHERE sha256 IN (SELECT unnest(?::VARCHAR[]))", [shas]).fetchall()}


def ingest_pages(
    con: duckdb.DuckDBPyConnection,
    pages: Iterable[RawPage],
    *,
    chunk_items: int | None = None,
    desc: str | None = "ingest",
    sql_reader: bool = True,
    settings: Settings | None = None,
) -> IngestStats:
    """Ingest raw pages, many to a transaction (up to ``chunk_items`` items each).

    Pages already ingested (by checksum) are skipped; web feed pages are read by DuckDB itself
    (``sql_reader``, see :mod:`.sql_reader`), everything else by the Python parsers; a large page (an
    NDJSON export) is split over several transactions and marked done with its last one.
    """
    pages = list(pages)
    settings = settings or get_settings()
    chunk_items = chunk_items or settings.ingest_batch_items
    with _memory_limit(con, settings.ingest_memory_limit):
        return _ingest_pages(con, pages, chunk_items, desc, use_sql=sql_reader)


@contextlib.contextmanager
def _memory_limit(con: duckdb.DuckDBPyConnection, limit: str):
    """DuckDB's memory limit for the block (ingest streams in batches and needs little)."""
    if not limit:
        yield
        return
    before = con.execute("SELECT current_setting('memory_limit')").fetchone()[0]
    con.execute("SET memory_limit = ?", [limit])
    try:
        yield
    finally:
        con.execute("SET memory_limit = ?", [before])


def _intact(pages: list[RawPage]) -> list[RawPage]:
    """The pages whose bodies still match their checksums (:meth:`RawPage.verify`); a damaged one
    is left out here and met again by the Python path, which rejects it."""
    return [p for p in pages if not p.verify().problem]


def _ingest_pages(
    con: duckdb.DuckDBPyConnection, pages: list[RawPage], chunk_items: int, desc: str | None, *, use_sql: bool
) -> IngestStats:
    done = _done(con, [p.sha256 for p in pages])
    total = IngestStats()
    group, finished = Batch(), []

    def flush() -> None:
        nonlocal group, finished
        if group.items_read or finished:
            total.add(ingest_batch(con, group, finished))
        group, finished = Batch(), []

    with progress(total=len(pages), desc=desc or "ingest", unit="page", disable=desc is None or len(pages) < 2) as bar:
        readable = [p for p in pages if p.sha256 not in done and not p.problem]
        loaded = _ingest_feed_pages_in_sql(con, readable, chunk_items, total, bar) if use_sql else set()
        for page in pages:
            if page.sha256 in loaded:
                continue
            bar.update(1)
            if page.sha256 not in done:
                page = page.verify()  # a damaged page becomes its stand-in, rejected once under an identity of its own
                if page.problem and _done(con, [page.sha256]):
                    done.add(page.sha256)
            if page.sha256 in done:
                total.pages_skipped += 1
                continue
            done.add(page.sha256)
            read = rejected = 0
            shape = None
            for batch in _damage(page) if page.problem else iter_parse(page.read_bytes(), context_for(page), chunk_items=chunk_items):
                for reject in batch.rejects:
                    reject.page = page
                read, rejected, shape = read + batch.items_read, rejected + len(batch.rejects), shape or batch.shape
                group.extend(batch)
                if group.items_read >= chunk_items:
                    flush()
            finished.append(PageDone(page, shape, read, rejected))
            if group.items_read >= chunk_items:
                flush()
            bar.set_postfix(items=total.items_read + group.items_read, refresh=False)
        flush()
    return total


def _damage(page: RawPage) -> list[Batch]:
    """A damaged page as one whole-page reject with its reason (what was found in its excerpt)."""
    batch = Batch()
    batch.reject(-1, page.problem, page.meta.get("detail") or None)
    return [batch]


#: Raw pages that may be web feed pages, which DuckDB can read itself (:mod:`.sql_reader`).
_FEED_SUFFIXES = (".json",)
_BYTES_PER_ITEM = 2_000


def _ingest_feed_pages_in_sql(con: duckdb.DuckDBPyConnection, pages: list[RawPage], chunk_items: int, total: IngestStats, bar) -> set[str]:
    """Ingest what :mod:`.sql_reader` can load exactly, in groups of about ``chunk_items`` items;
    return the checksums of the pages it ingested (the rest is for the Python parser).

    DuckDB reads a group's JSON on one core and ingests on one core: with several groups, other
    connections (``_READERS``) read the next groups (into an in-memory database all see) while
    this one ingests the current group in its transaction, so every core works.
    """
    candidates = [p for p in pages if p.body_path.name.endswith(_FEED_SUFFIXES)]
    groups: list[list[RawPage]] = []
    group: list[RawPage] = []
    budget, size = chunk_items * _BYTES_PER_ITEM, 0
    for page in candidates:
        group.append(page)
        size += int(page.meta.get("bytes") or 0)
        if size >= budget:
            groups.append(group)
            group, size = [], 0
    if group:
        groups.append(group)
    loaded_all: set[str] = set()
    if not groups:
        return loaded_all

    def ingest(read: tuple) -> None:
        loaded, relations, counts, repeats = read
        if loaded:
            done = [PageDone(p, "web_item_list", counts[str(p.body_path)], 0) for p in loaded]
            total.add(ingest_relations(con, relations, repeats, sum(counts.values()), done))
            loaded_all.update(p.sha256 for p in loaded)
            bar.update(len(loaded))

    if len(groups) == 1:  # one group (a collection's pages): nothing to overlap
        try:
            loaded, relations, counts = sql_reader.load(con, _intact(groups[0]))
            ingest((loaded, relations, counts, sql_reader.repeated_keys(con, relations) if loaded else {}))
        finally:
            sql_reader.cleanup(con)
        return loaded_all

    from collections import deque
    from concurrent.futures import ThreadPoolExecutor

    con.execute(f"ATTACH IF NOT EXISTS ':memory:' AS {_READ_DB}")
    ahead = max(1, min(_READERS, len(groups) - 1))
    readers = [con.cursor() for _ in range(ahead)]  # their own connections to the same database: run while `con` works

    def read(n: int) -> tuple:
        at = f"{_READ_DB}.b{n}"
        reader = readers[n % ahead]
        loaded, relations, counts = sql_reader.load(reader, _intact(groups[n]), at=at)  # checksums too, beside the ingest
        return loaded, relations, counts, sql_reader.repeated_keys(reader, relations) if loaded else {}

    pending: deque = deque()
    with ThreadPoolExecutor(ahead, thread_name_prefix="sql-reader") as pool:
        try:
            pending.extend(pool.submit(read, n) for n in range(ahead))
            for n in range(len(groups)):
                current = pending.popleft().result()
                if n + ahead < len(groups):
                    pending.append(pool.submit(read, n + ahead))
                try:
                    ingest(current)
                finally:
                    sql_reader.cleanup(con, f"{_READ_DB}.b{n}")
        finally:
            for future in pending:  # an error: let the reads under way finish, then drop what they made
                try:
                    future.result()
                except Exception:  # noqa: BLE001 - the readers are being stopped after an error: that first error is the one raised
                    pass
            if pending:
                for n in range(len(groups)):
                    sql_reader.cleanup(con, f"{_READ_DB}.b{n}")
            for reader in readers:
                reader.close()
    return loaded_all


#: The in-memory database where the reading connections leave each group's rows.
_READ_DB = "_fp_read"
#: Groups read ahead, each by its own connection and thread, while one is ingested: reading a
#: group takes about twice as long as ingesting it (bench/ingest.py), so two readers and the
#: ingest keep both cores of this machine busy; peak memory grows by a group's rows a reader.
_READERS = 2


def refresh_derived(con: duckdb.DuckDBPyConnection) -> None:
    """Bring what is derived from the store up to date: the text search index (incremental;
    about 0.1 s at 1,000,000 posts when nothing changed)."""
    from ..search import refresh_index

    refresh_index(con)


def after_ingest(con: duckdb.DuckDBPyConnection, stats: IngestStats) -> IngestStats:
    if stats.pages:
        refresh_derived(con)
    return stats


def process_pending(con: duckdb.DuckDBPyConnection, raw_dir: Path | None = None) -> IngestStats:
    """Ingest every raw page not yet in the store (what a crashed or raw-only run left)."""
    return after_ingest(con, ingest_pages(con, pending_pages(con, raw_dir), desc="process"))


def rebuild(con: duckdb.DuckDBPyConnection, raw_dir: Path | None = None) -> IngestStats:
    """Empty every table that comes from raw pages and ingest all pages again.

    ``tracked_hashtags`` and ``runs`` are not derived from raw pages and are kept.
    """
    with transaction(con):
        for table in INGEST_TABLES:
            con.execute(f"DELETE FROM {table.name}")
        con.execute("DELETE FROM rejects")
        con.execute("DELETE FROM raw_pages")
    return after_ingest(con, ingest_pages(con, list(iter_pages(raw_dir)), desc="rebuild"))
