"""``process``: from the raw zone to the store. Raw pages are parsed into batches (web feed pages by
DuckDB itself, :mod:`.sql_reader`; every other shape by :mod:`tiktok_intel.parsing`) and merged
(:mod:`.merge`); :func:`process_pending` ingests the pages not yet in the store, :func:`rebuild`
every table again from raw."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable
from pathlib import Path

import duckdb

from .. import clock, mediashare
from ..downloads import record_outcome
from ..errors import StoreError, TikTokIntelError
from ..parsing import Batch, Context, Limits, iter_parse, nested_deeper
from ..progress import progress
from ..raw import RawPage, iter_pages
from ..schema import INGEST_TABLES
from ..settings import Settings, get_settings
from ..store import no_room_is_a_store_error, retrying_conflicts, transaction
from . import sql_reader
from .merge import IngestStats, PageDone, ingest_batch, ingest_relations, record_pages


def context_for(page: RawPage) -> Context:
    meta = page.meta
    return Context(
        collected_at=page.fetched_at,
        source=page.source,
        hashtag=meta.get("hashtag"),
        tracked=_tracked(meta.get("tracked")),
        run_id=meta.get("run_id"),
        rank_offset=int(meta.get("rank_offset") or 0),
        request=meta.get("request"),
    )


def _tracked(value) -> tuple[str, str] | None:
    """The (kind, name) of the tracked account or keyword a raw page was collected for, if any."""
    if isinstance(value, dict) and isinstance(value.get("kind"), str) and isinstance(value.get("name"), str):
        return value["kind"], value["name"]
    return None


def ingest_page(con: duckdb.DuckDBPyConnection, page: RawPage, *, chunk_items: int | None = None) -> IngestStats:
    """Ingest one raw page (skipped when its checksum is already in ``raw_pages``)."""
    return ingest_pages(con, [page], chunk_items=chunk_items, desc=None)


def pending_pages(con: duckdb.DuckDBPyConnection, raw_dir: Path | None = None, *, retry_failed: bool = False) -> list[RawPage]:
    """The raw pages not yet in the store; those marked failed only with ``retry_failed`` (so a
    bad page is not tried again by every run)."""
    skip = _done(con) | (set() if retry_failed else failed_shas(con))
    return [p for p in iter_pages(raw_dir) if p.sha256 not in skip]


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
    record_media: bool = True,
) -> IngestStats:
    """Ingest raw pages, many to a transaction (up to ``chunk_items`` items each).

    Pages already ingested (by checksum) are skipped; web feed pages are read by DuckDB itself
    (``sql_reader``, see :mod:`.sql_reader`), everything else by the Python parsers; a large page (an
    NDJSON export) is split over several transactions and marked done with its last one. A raw-only
    run's ``downloads`` page (:mod:`tiktok_intel.mediashare`) records its media files, after the
    other pages (not with ``record_media``: a rebuild, which keeps the media tables as they are).
    """
    pages = list(pages)
    settings = settings or get_settings()
    chunk_items = chunk_items or settings.ingest_batch_items
    downloads = [p for p in pages if p.source == mediashare.SOURCE]
    if downloads:
        pages = [p for p in pages if p.source != mediashare.SOURCE]
    with _memory_limit(con, settings.ingest_memory_limit):
        stats = _ingest_pages(con, pages, chunk_items, desc, use_sql=sql_reader, settings=settings)
        if downloads:  # after the posts they are of
            stats.add(_ingest_downloads(con, downloads, settings, record=record_media))
        return stats


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
    con: duckdb.DuckDBPyConnection, pages: list[RawPage], chunk_items: int, desc: str | None, *, use_sql: bool, settings: Settings
) -> IngestStats:
    done = _done(con, [p.sha256 for p in pages])
    total = IngestStats()
    limits = Limits.from_settings(settings)
    group: list[tuple[PageDone, Batch]] = []  # whole pages parsed, waiting to go in together
    group_items = 0

    def failed(page: RawPage, exc: Exception) -> None:
        _mark_failed(con, page, exc)
        total.pages_failed += 1

    def flush() -> None:
        """The waiting pages in one transaction; when that fails, each alone, so only the page at
        fault is marked failed."""
        nonlocal group, group_items
        parts, group, group_items = group, [], 0
        if not parts:
            return
        try:
            total.add(_write(con, parts))
            return
        except Exception as exc:  # noqa: BLE001 - whatever a page makes the merge raise, it must not stop the others
            if _fatal(exc):
                raise
            if len(parts) == 1:
                failed(parts[0][0].page, exc)
                return
        for part in parts:
            try:
                total.add(_write(con, [part]))
            except Exception as exc:  # noqa: BLE001 - as above: this page is at fault
                if _fatal(exc):
                    raise
                failed(part[0].page, exc)

    with progress(total=len(pages), desc=desc or "ingest", unit="page", disable=desc is None or len(pages) < 2) as bar:
        readable = [p for p in pages if p.sha256 not in done and not p.problem]
        loaded = _ingest_feed_pages_in_sql(con, readable, chunk_items, total, bar, limits) if use_sql else set()
        for page in pages:
            if page.sha256 in loaded:
                continue
            bar.update(1)
            try:
                if page.sha256 not in done:
                    page = page.verify()  # a damaged page becomes its stand-in, rejected once under an identity of its own
                    if page.problem and _done(con, [page.sha256]):
                        done.add(page.sha256)
                if page.sha256 in done:
                    total.pages_skipped += 1
                    continue
                done.add(page.sha256)
                read = rejected = 0
                shape, mine = None, None
                batches = (
                    _damage(page)
                    if page.problem
                    else iter_parse(page.read_bytes(), context_for(page), chunk_items=chunk_items, limits=limits)
                )
                for batch in batches:
                    for reject in batch.rejects:
                        reject.page = page
                    read, rejected, shape = read + batch.items_read, rejected + len(batch.rejects), shape or batch.shape
                    if mine is None:
                        mine = batch
                    else:
                        mine.extend(batch)
                    if mine.items_read >= chunk_items:  # a large page (an NDJSON export): in parts, marked done with its last
                        flush()
                        total.add(ingest_batch(con, mine, []))
                        mine = None
            except Exception as exc:  # noqa: BLE001 - whatever a page makes the parsers raise, it is marked failed and the run goes on
                if _fatal(exc):
                    raise
                failed(page, exc)
                continue
            group.append((PageDone(page, shape, read, rejected), mine if mine is not None else Batch()))
            group_items += group[-1][1].items_read
            if group_items >= chunk_items:
                flush()
            bar.set_postfix(items=total.items_read + group_items, refresh=False)
        flush()
    _forget_failures_that_went_in(con)
    return total


def _ingest_downloads(con: duckdb.DuckDBPyConnection, pages: list[RawPage], settings: Settings, *, record: bool) -> IngestStats:
    """Each ``downloads`` page: its files taken or fetched (:func:`~tiktok_intel.mediashare.received`),
    then its outcome recorded and the page marked done in one transaction; a page that cannot be
    read is marked failed (a damaged one rejected), and the others go on."""
    total = IngestStats()
    done = _done(con, [p.sha256 for p in pages])
    for page in pages:
        if page.sha256 in done:
            total.pages_skipped += 1
            continue
        page = page.verify()
        if page.problem:  # rejected once with its reason, as any damaged page
            total.add(_ingest_pages(con, [page], settings.ingest_batch_items, None, use_sql=False, settings=settings))
            continue
        try:
            outcome = mediashare.received(mediashare.from_json(page.read_bytes()), settings)
            with transaction(con):
                if record:
                    record_outcome(con, outcome)
                record_pages(con, [PageDone(page, mediashare.SHAPE, 0, 0)])
        except Exception as exc:  # noqa: BLE001 - as any page: marked failed, the run goes on
            if _fatal(exc):
                raise
            _mark_failed(con, page, exc)
            total.pages_failed += 1
            continue
        done.add(page.sha256)
        total.pages += 1
        for r in outcome.records:
            total.media_saved[r.kind] = total.media_saved.get(r.kind, 0) + 1
        total.media_failed += len(outcome.failures)
    return total


def _write(con: duckdb.DuckDBPyConnection, parts: list[tuple[PageDone, Batch]]) -> IngestStats:
    """Whole pages in one transaction (marked done in it)."""
    if len(parts) == 1:
        merged = parts[0][1]
    else:
        merged = Batch()
        for _, batch in parts:
            merged.extend(batch)
    return ingest_batch(con, merged, [done for done, _ in parts])


def _fatal(exc: BaseException) -> bool:
    """An error that is not a page's fault (the store cannot be written, the connection is lost):
    it stops the run, as before, instead of marking pages failed."""
    if isinstance(exc, StoreError | duckdb.FatalException | duckdb.InterruptException | duckdb.ConnectionException):
        return True
    return "database has been invalidated" in str(exc)


def _reason(exc: BaseException) -> str:
    text = str(exc) if isinstance(exc, TikTokIntelError) else f"{type(exc).__name__}: {exc}"
    text = " ".join(text.split())
    return text if len(text) <= _REASON_CHARS else text[: _REASON_CHARS - 1] + "…"


_REASON_CHARS = 500


def _mark_failed(con: duckdb.DuckDBPyConnection, page: RawPage, exc: BaseException) -> None:
    """Record that ``page`` failed (one row a page: the latest reason, the attempts so far)."""
    with transaction(con):
        prior = con.execute("SELECT max(attempts) FROM failed_pages WHERE sha256 = ?", [page.sha256]).fetchone()[0] or 0
        con.execute("DELETE FROM failed_pages WHERE sha256 = ?", [page.sha256])
        con.execute(
            "INSERT INTO failed_pages (sha256, path, reason, failed_at, attempts) VALUES (?, ?, ?, ?, ?)",
            [page.sha256, str(page.body_path), _reason(exc), clock.now(), prior + 1],
        )


def _forget_failures_that_went_in(con: duckdb.DuckDBPyConnection) -> None:
    """A failed page that has gone in since (a retry, a fixed parser) leaves the failed list."""
    if con.execute("SELECT count(*) FROM failed_pages").fetchone()[0]:
        with transaction(con):
            con.execute(
                "DELETE FROM failed_pages WHERE sha256 IN (SELECT sha256 FROM raw_pages WHERE sha256 IN (SELECT sha256 FROM failed_pages))"
            )


def failed_shas(con: duckdb.DuckDBPyConnection) -> set[str]:
    """Checksums of the pages marked failed."""
    return {row[0] for row in con.execute("SELECT sha256 FROM failed_pages").fetchall()}


def _damage(page: RawPage) -> list[Batch]:
    """A damaged page as one whole-page reject with its reason (what was found in its excerpt)."""
    batch = Batch()
    batch.reject(-1, page.problem, page.meta.get("detail") or None)
    return [batch]


#: Raw pages that may be web feed pages, which DuckDB can read itself (:mod:`.sql_reader`).
_FEED_SUFFIXES = (".json",)
_BYTES_PER_ITEM = 2_000


def _ingest_feed_pages_in_sql(
    con: duckdb.DuckDBPyConnection, pages: list[RawPage], chunk_items: int, total: IngestStats, bar, limits: Limits
) -> set[str]:
    """Ingest what :mod:`.sql_reader` can load exactly, in groups of about ``chunk_items`` items;
    return the checksums of the pages it ingested (the rest is for the Python parser: a page
    beyond a limit, and every page of a group whose read or ingest raised, go there, where each
    is rejected or marked failed on its own).

    DuckDB reads a group's JSON on one core and ingests on one core: with several groups, other
    connections (``_READERS``) read the next groups (into an in-memory database all see) while
    this one ingests the current group in its transaction, so every core works.
    """
    candidates = [p for p in pages if p.body_path.name.endswith(_FEED_SUFFIXES) and not p.meta.get("tracked")]
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

    def ingest(read: tuple | None) -> None:
        if read is None:  # the read raised: these pages go to the Python parser
            return
        loaded, relations, counts, repeats = read
        if loaded:
            done = [PageDone(p, "web_item_list", counts[str(p.body_path)], 0) for p in loaded]
            try:
                total.add(ingest_relations(con, relations, repeats, sum(counts.values()), done))
            except Exception as exc:  # noqa: BLE001 - rolled back: the Python parser takes these pages one by one
                if _fatal(exc):
                    raise
                return
            loaded_all.update(p.sha256 for p in loaded)
            bar.update(len(loaded))

    def load(reader: duckdb.DuckDBPyConnection, pages: list[RawPage], at: str = "") -> tuple | None:
        """Load ``pages`` (those within the limits); None when that raised (the pages go to Python)."""
        try:
            with no_room_is_a_store_error():
                return _load_within_limits(reader, _fit(pages, limits), limits, at)
        except Exception as exc:  # noqa: BLE001 - whatever DuckDB makes of a page, the Python parser reads it or marks it failed
            if _fatal(exc):
                raise
            sql_reader.cleanup(reader, at)
            return None

    if len(groups) == 1:  # one group (a collection's pages): nothing to overlap
        try:
            ingest(load(con, groups[0]))
        finally:
            sql_reader.cleanup(con)
        return loaded_all

    from collections import deque
    from concurrent.futures import ThreadPoolExecutor

    con.execute(f"ATTACH IF NOT EXISTS ':memory:' AS {_READ_DB}")
    ahead = max(1, min(_READERS, len(groups) - 1))
    readers = [con.cursor() for _ in range(ahead)]  # their own connections to the same database: run while `con` works

    def read(n: int) -> tuple | None:
        return load(readers[n % ahead], groups[n], at=f"{_READ_DB}.b{n}")  # checksums too, beside the ingest

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


def _fit(pages: list[RawPage], limits: Limits) -> list[RawPage]:
    """The pages intact (:func:`_intact`) and nested no deeper than the limit; the others go to the
    Python parser, which rejects them with their reason."""
    out = []
    for page in _intact(pages):
        try:
            deep = nested_deeper(page.read_bytes(), limits.max_depth, quick=True)
        except (OSError, TikTokIntelError):  # unreadable now: the Python path meets it and says why
            continue
        if not deep:
            out.append(page)
    return out


def _load_within_limits(reader: duckdb.DuckDBPyConnection, pages: list[RawPage], limits: Limits, at: str) -> tuple:
    """:func:`sql_reader.load`, then again without any page holding more items than the limit."""
    loaded, relations, counts = sql_reader.load(reader, pages, at=at)
    over = {path for path, n in counts.items() if n > limits.max_items}
    if over:
        sql_reader.cleanup(reader, at)
        loaded, relations, counts = sql_reader.load(reader, [p for p in pages if str(p.body_path) not in over], at=at)
    return loaded, relations, counts, sql_reader.repeated_keys(reader, relations) if loaded else {}


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


def process_pending(con: duckdb.DuckDBPyConnection, raw_dir: Path | None = None, *, retry_failed: bool = False) -> IngestStats:
    """Ingest every raw page not yet in the store (what a crashed or raw-only run left); the pages
    marked failed too with ``retry_failed``. On DuckLake, a transaction conflict with another writer
    runs it again (:func:`~tiktok_intel.store.retrying_conflicts`: the pages the other committed are then skipped)."""

    def once() -> IngestStats:
        return after_ingest(con, ingest_pages(con, pending_pages(con, raw_dir, retry_failed=retry_failed), desc="process"))

    return retrying_conflicts(once, what="process")


#: The schema a rebuild fills beside the store's tables before it swaps them in.
_SHADOW = "_rebuild"
#: What a rebuild makes again from raw: the ingest tables, the rejects, the pages done and failed.
#: (``tracked_hashtags``, ``runs`` and the rest are not derived from raw pages and are kept.)
REBUILT = tuple(t.name for t in INGEST_TABLES) + ("rejects", "raw_pages", "failed_pages")


def rebuild(con: duckdb.DuckDBPyConnection, raw_dir: Path | None = None) -> IngestStats:
    """Ingest every raw page again, beside the store, and swap only on success.

    The tables of :data:`REBUILT` are made empty in a schema of their own (``_rebuild``, in the
    store's catalog: a DuckDB file and DuckLake alike); every page is ingested there (a page that
    fails is marked failed there, as in any run, and the others go on); then one transaction
    replaces the store's rows by the rebuilt ones. Until that commits, the store is as it was:
    an error or a kill midway leaves it whole (the next rebuild drops what was left beside it).
    Readers see the old rows until the swap.
    """
    catalog = '"' + con.execute("SELECT current_database()").fetchone()[0].replace('"', '""') + '"'
    shadow, main = f"{catalog}.{_SHADOW}", f"{catalog}.main"
    con.execute(f"DROP SCHEMA IF EXISTS {shadow} CASCADE")  # what a killed rebuild left
    con.execute(f"CREATE SCHEMA {shadow}")
    for name in REBUILT:
        con.execute(f"CREATE TABLE {shadow}.{name} AS FROM {main}.{name} LIMIT 0")
    con.execute(f"INSERT INTO {shadow}.failed_pages SELECT * FROM {main}.failed_pages")  # attempts carry on
    before = con.execute("SELECT current_setting('search_path')").fetchone()[0]
    try:
        con.execute("SET search_path = ?", [f"{shadow},{main}"])
        try:
            stats = ingest_pages(con, list(iter_pages(raw_dir)), desc="rebuild", record_media=False)
        finally:
            con.execute("SET search_path = ?", [before]) if before else con.execute("RESET search_path")
        with transaction(con):
            for name in REBUILT:
                con.execute(f"DELETE FROM {main}.{name}")
                con.execute(f"INSERT INTO {main}.{name} SELECT * FROM {shadow}.{name}")
    finally:
        con.execute(f"DROP SCHEMA IF EXISTS {shadow} CASCADE")
    return after_ingest(con, stats)
