"""Collection runs: fetch tracked hashtags from TikTok (web API or Research API), raw page first,
then ingest; covers of new posts; hashtag stats snapshots (:func:`monitor`).

* Every response page is written to the raw zone before it is ingested; a run starts by
  ingesting whatever an earlier, crashed run left in raw, so nothing fetched is ever lost.
* After each page the hashtag's cursor is saved (:mod:`.cursors`); a run that stops (failure,
  Ctrl-C, Research API quota) is resumed from there by the next run.
* A failing hashtag does not stop the others; the run ends with one summary line saying what
  failed and why. The run returns its :class:`~.outcomes.RunResult` and writes no ``runs`` row:
  the command or flow that ran it records it (:meth:`~.outcomes.RunResult.record`).

Each function takes the store as its first argument: an open connection, or a
:class:`~tiktok_intel.store.Workspace` (opened for the run; ``None``: the process settings' one,
for notebooks and scripts).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import datetime as dt
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import duckdb

from .. import clock, raw, tracking
from ..ingest.pages import process_pending, refresh_derived
from ..media import CoverResult, fetch_covers
from ..mediashare import share_outcome
from ..settings import Settings, get_settings
from ..sources.http import HttpClient
from ..sources.research import MAX_COUNT, Quota, QuotaExhaustedError
from ..sources.web import FEED_PAGE_SIZE, Session
from ..store import Workspace, no_room_is_a_store_error
from .follow import collect_followed, followed_item
from .outcomes import CollectError, NothingToCollectError, RunResult, RunState, UnknownSourceError
from .research import collect_research
from .research_follow import collect_research_followed
from .web import collect_web, fetch_run_covers, monitor_web

SOURCES = ("web", "research")
#: The most posts one collection asks for per hashtag (cursors are stored as 32-bit integers).
MAX_POSTS_LIMIT = 2**31 - 1

#: Where a run reads and writes: an open connection, or a workspace (``None``: the process settings' one).
Target = duckdb.DuckDBPyConnection | Workspace | None


def ensure_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Create the collection tables in a database migrated before they were declared (idempotent)."""
    con.execute((Path(__file__).parent.parent / "migrations" / "002_collection.sql").read_text(encoding="utf-8"))


def run_async(factory: Callable[[], Any]) -> Any:
    """Run a coroutine to the end, also from Jupyter (whose event loop is already running)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(factory())
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(lambda: asyncio.run(factory())).result()


def _settings(target: Target) -> Settings:
    return target.settings if isinstance(target, Workspace) else get_settings()


@contextlib.contextmanager
def _store(target: Target, *, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
    with no_room_is_a_store_error():  # a full disk ends the run with one clear error
        if isinstance(target, duckdb.DuckDBPyConnection):
            yield target
        else:
            with (target if target is not None else Workspace.current()).connection(read_only=read_only) as con:
                yield con


def _new_result(flow: str, source: str, run_id: str | None, **fields: Any) -> RunResult:
    now = clock.now()
    return RunResult(run_id=run_id or raw.new_run_id(now), flow=flow, source=source, started_at=now, **fields)


def _hashtags(con: duckdb.DuckDBPyConnection | None, hashtags: Sequence[str] | str | None) -> list[str]:
    if isinstance(hashtags, str):
        hashtags = [hashtags]
    names = tracking.normalise_all(hashtags) if hashtags else tracking.active(con)
    if not names:
        raise NothingToCollectError("no hashtags tracked: add some with `tiktok-intel track add valet2026`, or pass --hashtag NAME")
    return names


@contextlib.contextmanager
def _running(result: RunResult) -> Iterator[None]:
    """The run's end noted; Ctrl-C or a bug marks it interrupted (the cursors saved so far are where the next run resumes)."""
    try:
        yield
    except BaseException:
        result.interrupted = True
        raise
    finally:
        result.ended_at = clock.now()


def collect(
    target: Target = None,
    hashtags: Sequence[str] | str | None = None,
    max_posts: int | None = None,
    source: str = "web",
    *,
    since: dt.date | None = None,
    until: dt.date | None = None,
    regions: Sequence[str] = (),
    covers: bool = True,
    session: Session | None = None,
    quota_requests: int | None = None,
    quota_records: int | None = None,
    page_size: int | None = None,
    raw_only: bool = False,
    run_id: str | None = None,
) -> RunResult:
    """Collect up to ``max_posts`` posts (default: the ``max_posts`` setting) for each hashtag (default: the tracked ones).

    ``source``: ``"web"`` (hashtag feed; covers downloaded) or ``"research"`` (``since``..``until``
    dates, default the last 7 days, split into 30-day windows). ``page_size``: items asked per page
    (default: 30 web, 100 research). ``run_id``: the id its raw pages and cursors carry (default: a
    new one; a recorded run passes its own). Returns the run's :class:`RunResult`; its
    ``summary()`` is the one line to show.

    ``raw_only`` (web): write the pages to the raw zone and nothing else; the store is only read,
    briefly, for the tracked list when no ``hashtags`` are given. No database lock is needed, so
    collectors on several machines can share one raw folder; ``process_pending`` (`tiktok-intel
    process`) or :func:`ingest_raw_run` ingests the pages. No cursor is saved: an interrupted
    raw-only run starts again from the top of each feed.
    """
    if source not in SOURCES:
        raise UnknownSourceError(f"unknown source {source!r}: use --source web or --source research")
    settings = _settings(target)
    max_posts = settings.max_posts if max_posts is None else max_posts
    if isinstance(max_posts, bool) or not isinstance(max_posts, int) or not 1 <= max_posts <= MAX_POSTS_LIMIT:
        raise CollectError(f"--max-posts must be a whole number from 1 to {MAX_POSTS_LIMIT:,}, not {max_posts!r}")
    if raw_only:
        return _collect_raw_only(target, settings, hashtags, max_posts, session, page_size or FEED_PAGE_SIZE, source, run_id)
    with _store(target) as con:
        ensure_tables(con)
        items = tracking.active_items(con) if not hashtags else []  # accounts, keywords (collect/follow, collect/research_follow)
        names = _hashtags(con, hashtags) if hashtags or not items else tracking.active(con)
        result = _new_result("collect", source, run_id)
        result.ingested(process_pending(con, settings.raw_dir))  # what a crashed run left in raw
        state = RunState(con, result, settings, source)
        with _running(result):
            if source == "web":
                if names:
                    run_async(lambda: collect_web(state, names, max_posts, covers, session, page_size or FEED_PAGE_SIZE))
                if items:
                    run_async(lambda: collect_followed(state, items, max_posts, session, covers=covers))
            else:
                quota = Quota(con, **{k: v for k, v in (("requests_per_day", quota_requests), ("records_per_day", quota_records)) if v})
                if names:
                    run_async(lambda: collect_research(state, names, max_posts, since, until, regions, quota, page_size or MAX_COUNT))
                if items and not any(o.reason == QuotaExhaustedError.reason for o in result.outcomes):
                    run_async(lambda: collect_research_followed(state, items, max_posts, since, until, quota))
        refresh_derived(con)
    return result


def _collect_raw_only(
    target: Target,
    settings: Settings,
    hashtags: Sequence[str] | str | None,
    max_posts: int,
    session: Session | None,
    page_size: int,
    source: str,
    run_id: str | None,
) -> RunResult:
    if source != "web":
        raise CollectError("--raw-only is for the web API: the Research API's pages are collected with the store")
    items: list[tuple[str, str]] = []
    if hashtags:
        names = _hashtags(None, hashtags)
    else:
        with _store(target, read_only=True) as con:
            items = tracking.active_items(con)  # accounts, keywords (collect/follow)
            names = tracking.active(con) if items else _hashtags(con, None)
    result = _new_result("collect", "web", run_id, raw_only=True)
    state = RunState(None, result, settings, "web")
    try:
        with _running(result):
            if names:
                run_async(lambda: collect_web(state, names, max_posts, False, session, page_size))
            if items:
                run_async(lambda: collect_followed(state, items, max_posts, session, covers=False))
    finally:
        result.fetched = state.fetched
    share_outcome(result.media, result.run_id, settings)  # its downloads, for the writer that ingests its pages
    return result


def ingest_raw_run(target: Target, result: RunResult, *, covers: bool = True) -> RunResult:
    """Finish a raw-only web collection in the store: its pages (and any other pending ones)
    ingested, the new posts counted, their covers fetched and ``last_collected_at`` set, as a full
    collection would have done. The store is held for this step only, not while TikTok answered.
    Returns ``result``, now a full run (its ``summary()`` says so)."""
    settings = _settings(target)
    with _store(target) as con:
        ensure_tables(con)
        state = RunState(con, result, settings, result.source)
        for outcome in result.listings:
            outcome.new_posts = state.new_among(result.fetched.get(outcome.hashtag, []))
        result.ingested(process_pending(con, settings.raw_dir))  # its downloads page among them (mediashare)
        if covers:

            async def fetch_all() -> None:
                async with HttpClient(settings, requests_per_second=0) as media_client:
                    await fetch_run_covers(con, media_client, result.listings, result.fetched, settings)

            run_async(fetch_all)
        for outcome in result.listings:
            if outcome.ok:
                tracking.mark_collected(con, outcome.hashtag)
                if (item := followed_item(outcome.hashtag)) is not None:
                    tracking.mark_item_collected(con, *item)
        result.raw_only = False
        result.ended_at = clock.now()  # ended: when its pages were in the store
        refresh_derived(con)
    return result


def fetch_ingested_covers(con: duckdb.DuckDBPyConnection, post_ids: Sequence[str], settings: Settings) -> CoverResult:
    """The covers of posts whose pages another process fetched into raw and this one ingested (the
    writer's half of a content run split over work pools, docs/scaling.md): those without a cover
    yet, fetched now, minutes after the collector, while their URLs still work."""

    async def fetch_all() -> CoverResult:
        async with HttpClient(settings, requests_per_second=0) as media_client:
            return await fetch_covers(con, media_client, sorted(post_ids), settings=settings)

    return run_async(fetch_all) if post_ids else CoverResult()


def monitor(
    target: Target = None,
    hashtags: Sequence[str] | str | None = None,
    *,
    session: Session | None = None,
    ingest: bool = True,
    run_id: str | None = None,
) -> RunResult:
    """Snapshot each tracked hashtag's own stats (video count, view count) into ``hashtag_stats`` (the 30-minute job).

    ``ingest=False`` only writes the raw pages (``process_pending`` ingests them later, many at once)."""
    settings = _settings(target)
    with _store(target) as con:
        ensure_tables(con)
        names = _hashtags(con, hashtags)
        result = _new_result("monitor", "web", run_id)
        state = RunState(con, result, settings, "web")
        with _running(result):
            run_async(lambda: monitor_web(state, names, session))
            if ingest:
                state.flush()
    return result
