"""Collection runs: fetch tracked hashtags from TikTok (web API or Research API), raw page first,
then ingest; covers of new posts; hashtag stats snapshots (:func:`monitor`).

* Every response page is written to the raw zone before it is ingested; a run starts by
  ingesting whatever an earlier, crashed run left in raw, so nothing fetched is ever lost.
* After each page the hashtag's cursor is saved (``collection_cursors``); a run that stops
  (failure, Ctrl-C, Research API quota) is resumed from there by the next run.
* A failing hashtag does not stop the others; the run ends with one summary line saying what
  failed and why, and is recorded in ``runs``.
"""
from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import dataclasses
import datetime as dt
import json
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

import duckdb

from . import clock, raw, tracking
from .errors import TikTokIntelError
from .media import CoverResult, fetch_covers
from .processing import ingest_page, ingest_pages, process_pending, refresh_derived
from .progress import progress
from .settings import Settings, get_settings
from .sources import RawSink
from .sources.http import HttpClient, SourceError
from .sources.research import MAX_COUNT, QuotaExhaustedError, Quota, ResearchSource, split_windows
from .sources.web import FEED_PAGE_SIZE, Session, WebSource
from .store import connection, no_room_is_a_store_error

SOURCES = ("web", "research")
#: The most posts one collection asks for per hashtag (cursors are stored as 32-bit integers).
MAX_POSTS_LIMIT = 2**31 - 1
#: Days a Research API collection covers when no dates are given (today included).
RESEARCH_DEFAULT_DAYS = 7


class CollectError(TikTokIntelError):
    """A collection cannot start."""


class UnknownSourceError(CollectError):
    pass


class NothingToCollectError(CollectError):
    pass


@dataclasses.dataclass
class HashtagOutcome:
    hashtag: str
    posts: int = 0
    new_posts: int = 0
    pages: int = 0
    resumed_from: int | None = None
    covers: CoverResult = dataclasses.field(default_factory=CoverResult)
    error: str | None = None
    reason: str | None = None
    raw_path: str | None = None
    video_count: int | None = None
    view_count: int | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclasses.dataclass
class RunResult:
    run_id: str
    flow: str
    source: str
    started_at: dt.datetime
    ended_at: dt.datetime | None = None
    outcomes: list[HashtagOutcome] = dataclasses.field(default_factory=list)
    quota: str | None = None
    interrupted: bool = False
    raw_only: bool = False  # pages written to raw only: `tiktok-intel process` (or ingest_raw_run) ingests them
    fetched: dict[str, list[str]] = dataclasses.field(default_factory=dict)  # hashtag -> post ids its pages held

    @property
    def failed(self) -> list[HashtagOutcome]:
        return [o for o in self.outcomes if not o.ok]

    @property
    def status(self) -> str:
        if self.interrupted or (self.outcomes and len(self.failed) == len(self.outcomes)):
            return "failed"
        return "completed"

    @property
    def posts(self) -> int:
        return sum(o.posts for o in self.outcomes)

    def counts(self) -> dict[str, Any]:
        return {"hashtags": len(self.outcomes), "failed": len(self.failed), "posts": self.posts,
                "new_posts": sum(o.new_posts for o in self.outcomes), "pages": sum(o.pages for o in self.outcomes),
                "covers_saved": sum(o.covers.saved for o in self.outcomes), "covers_failed": sum(o.covers.failed for o in self.outcomes),
                "per_hashtag": {o.hashtag: {"posts": o.posts, "new_posts": o.new_posts, "pages": o.pages, "resumed_from": o.resumed_from,
                                            "error": o.error} for o in self.outcomes},
                "quota": self.quota}

    def summary(self) -> str:
        """One line: what was collected, and what failed and why."""
        c = self.counts()
        ok = len(self.outcomes) - len(self.failed)
        if self.flow == "monitor":
            text = f"monitor {self.run_id}: {ok} of {len(self.outcomes)} hashtag(s) snapshotted"
        elif self.raw_only:
            text = (f"collect ({self.source}, raw pages only) {self.run_id}: {ok} of {len(self.outcomes)} hashtag(s) done, "
                    f"{c['posts']} posts in {c['pages']} pages; `tiktok-intel process` ingests them")
        else:
            text = (f"collect ({self.source}) {self.run_id}: {ok} of {len(self.outcomes)} hashtag(s) done, {c['posts']} posts "
                    f"({c['new_posts']} new) in {c['pages']} pages")
            if c["covers_saved"] or c["covers_failed"]:
                reasons = {}
                for o in self.outcomes:
                    for k, v in o.covers.reasons.items():
                        reasons[k] = reasons.get(k, 0) + v
                text += f", {c['covers_saved']} covers" + (f" ({c['covers_failed']} failed: " + ", ".join(f"{v} {k}" for k, v in reasons.items()) + ")" if c["covers_failed"] else "")
        resumed = [f"{o.hashtag} from {o.resumed_from}" for o in self.outcomes if o.resumed_from is not None]
        if resumed:
            text += f"; resumed {', '.join(resumed)}"
        if self.quota:
            text += f"; quota {self.quota}"
        if self.interrupted:
            text += "; INTERRUPTED (the next run resumes from the saved cursors)"
        if self.failed:
            text += "; FAILED " + "; ".join(f"#{o.hashtag}: {o.error}" for o in self.failed)
        return " ".join(text.split())


# -- cursors ---------------------------------------------------------------------------------------

@dataclasses.dataclass
class SavedCursor:
    cursor: int
    search_id: str | None
    window_start: dt.date | None
    window_end: dt.date | None
    range_end: dt.date | None
    pages: int
    posts: int
    done: bool
    run_id: str | None


def saved_cursor(con: duckdb.DuckDBPyConnection, source: str, hashtag: str) -> SavedCursor | None:
    row = con.execute("SELECT cursor, search_id, window_start, window_end, range_end, pages, posts, done, run_id FROM collection_cursors "
                      "WHERE source = ? AND hashtag = ?", [source, hashtag]).fetchone()
    return SavedCursor(*row) if row else None


def save_cursor(con: duckdb.DuckDBPyConnection, source: str, hashtag: str, *, run_id: str, cursor: int, pages: int, posts: int,
                done: bool = False, search_id: str | None = None, window_start: dt.date | None = None,
                window_end: dt.date | None = None, range_end: dt.date | None = None, max_posts: int | None = None) -> None:
    # DELETE + INSERT rather than INSERT OR REPLACE: DuckLake tables have no key constraints
    con.execute("DELETE FROM collection_cursors WHERE source = ? AND hashtag = ?", [source, hashtag])
    con.execute("""INSERT INTO collection_cursors (source, hashtag, run_id, cursor, search_id, window_start, window_end, range_end,
                   pages, posts, max_posts, done, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                [source, hashtag, run_id, cursor, search_id, window_start, window_end, range_end, pages, posts, max_posts, done, clock.now()])


# -- plumbing --------------------------------------------------------------------------------------

def ensure_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Create the collection tables in a database migrated before they were declared (idempotent)."""
    con.execute((Path(__file__).with_name("migrations") / "002_collection.sql").read_text(encoding="utf-8"))


@contextlib.contextmanager
def _connection(con_or_db: Any) -> Iterator[duckdb.DuckDBPyConnection]:
    with no_room_is_a_store_error():  # a full disk ends the run with one clear error
        if isinstance(con_or_db, duckdb.DuckDBPyConnection):
            yield con_or_db
        else:
            with connection(con_or_db) as con:
                yield con


def run_async(factory: Callable[[], Any]) -> Any:
    """Run a coroutine to the end, also from Jupyter (whose event loop is already running)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(factory())
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(lambda: asyncio.run(factory())).result()


def _start_run(con: duckdb.DuckDBPyConnection, flow: str, source: str) -> RunResult:
    now = clock.now()
    result = RunResult(run_id=raw.new_run_id(now), flow=flow, source=source, started_at=now)
    con.execute("INSERT INTO runs (run_id, flow, started_at, status) VALUES (?, ?, ?, 'running')", [result.run_id, flow, now])
    return result


def _finish_run(con: duckdb.DuckDBPyConnection, result: RunResult) -> None:
    result.ended_at = clock.now()
    error = "; ".join(f"#{o.hashtag}: {o.error}" for o in result.failed) or None
    if result.interrupted:
        error = "interrupted" + (f"; {error}" if error else "")
    con.execute("UPDATE runs SET ended_at = ?, status = ?, counts = ?, error = ? WHERE run_id = ?",
                [result.ended_at, result.status, json.dumps({"source": result.source, **result.counts()}), error, result.run_id])


def _hashtags(con: duckdb.DuckDBPyConnection, hashtags: Sequence[str] | str | None) -> list[str]:
    if isinstance(hashtags, str):
        hashtags = [hashtags]
    names = tracking.normalise_all(hashtags) if hashtags else tracking.active(con)
    if not names:
        raise NothingToCollectError("no hashtags tracked: add some with `tiktok-intel track add valet2026`, or pass --hashtag NAME")
    return names


class _Run:
    """What one run's hashtags share: connection, sources, sink, secrets."""

    def __init__(self, con: duckdb.DuckDBPyConnection | None, result: RunResult, settings: Settings, source: str):
        self.con, self.result, self.settings = con, result, settings  # no connection: raw pages only
        self.sink = RawSink(source, result.run_id)
        self.secrets: list[str] = []
        self.kept: list[raw.RawPage] = []  # written to raw, ingested together by flush()
        self.seen: set[str] = set()  # post ids this run has fetched so far
        self.fetched: dict[str, list[str]] = {}  # hashtag -> post ids fetched for it

    def ingest(self, page: raw.RawPage) -> None:
        ingest_page(self.con, page)

    def keep(self, page: raw.RawPage) -> None:
        """A page to ingest with the others of the run (one transaction for many pages is ~10x
        cheaper than one each); until then it waits in raw, where ``process`` would find it."""
        self.kept.append(page)

    def flush(self) -> None:
        pages, self.kept = self.kept, []
        if pages and self.con is not None:
            ingest_pages(self.con, pages, desc=None)

    def new_among(self, post_ids: Sequence[str]) -> int:
        """How many of ``post_ids`` neither the store nor this run had seen (then remembers them)."""
        fresh = [i for i in post_ids if i not in self.seen]
        known = self.existing(fresh) if self.con is not None else set(fresh)  # raw only: not counted
        self.seen.update(post_ids)
        return len([i for i in fresh if i not in known])

    def existing(self, post_ids: Sequence[str]) -> set[str]:
        if not post_ids:
            return set()
        marks = ", ".join("?" for _ in post_ids)
        return {r[0] for r in self.con.execute(f"SELECT post_id FROM posts WHERE post_id IN ({marks})", list(post_ids)).fetchall()}

    def fail(self, outcome: HashtagOutcome, exc: BaseException) -> None:
        text = str(exc) if isinstance(exc, TikTokIntelError) else f"{type(exc).__name__}: {exc}"
        text = " ".join(text.split())
        outcome.error = raw.redact(text, self.settings.secrets() + [s for s in self.secrets if s])
        outcome.reason = getattr(exc, "reason", type(exc).__name__)
        outcome.raw_path = getattr(exc, "raw_path", None)
        if outcome.raw_path and self.con is not None:  # the page TikTok sent instead of data: into the store now (a reject)
            with contextlib.suppress(Exception):  # best effort: the page stays in raw for `process` either way
                self.ingest(raw.read_page(raw.meta_path_for(Path(outcome.raw_path))))


# -- collect ----------------------------------------------------------------------------------------

def collect(con_or_db: Any = None, hashtags: Sequence[str] | str | None = None, max_posts: int | None = None, source: str = "web", *,
            since: dt.date | None = None, until: dt.date | None = None, regions: Sequence[str] = (), covers: bool = True,
            session: Session | None = None, quota_requests: int | None = None, quota_records: int | None = None,
            page_size: int | None = None, raw_only: bool = False) -> RunResult:
    """Collect up to ``max_posts`` posts (default: the ``max_posts`` setting) for each hashtag (default: the tracked ones).

    ``source``: ``"web"`` (hashtag feed; covers downloaded) or ``"research"`` (``since``..``until``
    dates, default the last 7 days, split into 30-day windows). ``page_size``: items asked per page
    (default: 30 web, 100 research). Returns the run's :class:`RunResult`;
    its ``summary()`` is the one line to show.

    ``raw_only`` (web): write the pages to the raw zone and nothing else; the store is only read,
    briefly, for the tracked list when no ``hashtags`` are given. No database lock is needed, so
    collectors on several machines can share one raw folder; ``process_pending`` (`tiktok-intel
    process`) ingests the pages, and covers come with the next full collection. No cursor is
    saved: an interrupted raw-only run starts again from the top of each feed.
    """
    if source not in SOURCES:
        raise UnknownSourceError(f"unknown source {source!r}: use --source web or --source research")
    settings = get_settings()
    max_posts = settings.max_posts if max_posts is None else max_posts
    if isinstance(max_posts, bool) or not isinstance(max_posts, int) or not 1 <= max_posts <= MAX_POSTS_LIMIT:
        raise CollectError(f"--max-posts must be a whole number from 1 to {MAX_POSTS_LIMIT:,}, not {max_posts!r}")
    if raw_only:
        return _collect_raw_only(con_or_db, hashtags, max_posts, session, page_size or FEED_PAGE_SIZE, source)
    with _connection(con_or_db) as con:
        ensure_tables(con)
        names = _hashtags(con, hashtags)
        process_pending(con)  # what a crashed run left in raw
        result = _start_run(con, "collect", source)
        state = _Run(con, result, settings, source)
        try:
            if source == "web":
                run_async(lambda: _collect_web(state, names, max_posts, covers, session, page_size or FEED_PAGE_SIZE))
            else:
                quota = Quota(con, **{k: v for k, v in (("requests_per_day", quota_requests), ("records_per_day", quota_records)) if v})
                run_async(lambda: _collect_research(state, names, max_posts, since, until, regions, quota, page_size or MAX_COUNT))
        except BaseException:  # Ctrl-C or a bug: the run is recorded; the cursors saved so far are where the next run resumes
            result.interrupted = True
            _finish_run(con, result)
            raise
        _finish_run(con, result)
        refresh_derived(con)
    return result


async def _fetch_run_covers(con: duckdb.DuckDBPyConnection, client: HttpClient, outcomes: list[HashtagOutcome],
                            fetched: dict[str, list[str]], settings: Settings) -> None:
    """The covers of the posts each successful hashtag's pages held (those without one yet)."""
    for outcome in outcomes:
        if outcome.ok and fetched.get(outcome.hashtag):
            outcome.covers.add(await fetch_covers(con, client, fetched[outcome.hashtag], settings=settings))


def _collect_raw_only(con_or_db: Any, hashtags: Sequence[str] | str | None, max_posts: int, session: Session | None,
                      page_size: int, source: str) -> RunResult:
    if source != "web":
        raise CollectError("--raw-only is for the web API: the Research API's pages are collected with the store")
    if hashtags:
        names = _hashtags(None, hashtags)  # type: ignore[arg-type]
    elif isinstance(con_or_db, duckdb.DuckDBPyConnection):
        names = _hashtags(con_or_db, None)
    else:
        with connection(con_or_db, read_only=True) as con:
            names = _hashtags(con, None)
    now = clock.now()
    result = RunResult(run_id=raw.new_run_id(now), flow="collect", source="web", started_at=now, raw_only=True)
    state = _Run(None, result, get_settings(), "web")
    try:
        run_async(lambda: _collect_web(state, names, max_posts, False, session, page_size))
    except BaseException:
        result.interrupted = True
        raise
    finally:
        result.ended_at = clock.now()
        result.fetched = state.fetched
    return result


def ingest_raw_run(con: duckdb.DuckDBPyConnection, result: RunResult, *, covers: bool = True) -> RunResult:
    """Finish a raw-only web collection in the store: its pages (and any other pending ones)
    ingested, the new posts counted, their covers fetched, ``last_collected_at`` set and the run
    recorded in ``runs``, as a full collection would have done. The store is held for this step
    only, not while TikTok answered. Returns ``result``, now a full run (its ``summary()`` says so)."""
    ensure_tables(con)
    settings = get_settings()
    state = _Run(con, result, settings, result.source)
    for outcome in result.outcomes:
        outcome.new_posts = state.new_among(result.fetched.get(outcome.hashtag, []))
    process_pending(con)
    if covers:
        async def fetch_all() -> None:
            async with HttpClient(settings, requests_per_second=0) as media_client:
                await _fetch_run_covers(con, media_client, result.outcomes, result.fetched, settings)

        run_async(fetch_all)
    for outcome in result.outcomes:
        if outcome.ok:
            con.execute("UPDATE tracked_hashtags SET last_collected_at = ? WHERE name = ?", [clock.now(), outcome.hashtag])
    result.raw_only = False
    con.execute("INSERT INTO runs (run_id, flow, started_at, status) VALUES (?, ?, ?, 'running')", [result.run_id, result.flow, result.started_at])
    _finish_run(con, result)  # ended: when its pages were in the store
    refresh_derived(con)
    return result


async def _collect_web(state: _Run, names: list[str], max_posts: int, covers: bool, session: Session | None, page_size: int) -> None:
    from .sources.browser import open_session

    settings = state.settings
    own_session = session is None
    async with HttpClient(settings) as client, HttpClient(settings, requests_per_second=0) as media_client:
        if session is None:
            session = await open_session(settings)
        state.secrets.append(session.ms_token)
        try:
            web = WebSource(client, session, settings)
            limit = asyncio.Semaphore(max(1, settings.concurrency))

            async def one(position: int, name: str) -> None:
                async with limit:
                    outcome = HashtagOutcome(name)
                    state.result.outcomes.append(outcome)
                    with progress(total=max_posts, desc=f"#{name}", unit="post", position=position) as bar:
                        try:
                            await _web_hashtag(state, web, name, max_posts, outcome, bar, page_size)
                        except (SourceError, TikTokIntelError, OSError, ValueError, KeyError, TypeError) as exc:
                            state.fail(outcome, exc)
                    state.secrets.append(session.ms_token)  # a renewed session's token, for redaction

            await asyncio.gather(*(one(i, n) for i, n in enumerate(names)))
            state.flush()  # the run's pages in one go; then the covers of the posts they hold
            if covers:
                await _fetch_run_covers(state.con, media_client, state.result.outcomes, state.fetched, settings)
        finally:
            if own_session:
                await session.close()


async def _web_hashtag(state: _Run, web: WebSource, name: str, max_posts: int, outcome: HashtagOutcome, bar: Any,
                       page_size: int = FEED_PAGE_SIZE) -> None:
    con, run_id = state.con, state.result.run_id
    sink = state.sink.for_hashtag(name)
    page, info = await web.hashtag_detail(name, sink=sink)
    state.keep(page)
    outcome.pages += 1
    challenge_id = str(info["challenge"]["id"])
    saved = saved_cursor(con, "web", name) if con is not None else None
    cursor, fetched, pages = 0, 0, 0
    if saved and not saved.done and saved.cursor:
        cursor, fetched, pages = saved.cursor, saved.posts, saved.pages
        outcome.resumed_from = cursor
        bar.update(min(fetched, max_posts))

    def save(done: bool = False) -> None:
        if con is not None:  # raw pages only: no cursor
            save_cursor(con, "web", name, run_id=run_id, cursor=cursor, pages=pages, posts=fetched, max_posts=max_posts, done=done)

    save()
    while fetched < max_posts:
        feed = await web.hashtag_feed_page(challenge_id, cursor=cursor, count=min(page_size, max_posts - fetched), sink=sink, name=name)
        ids = list(dict.fromkeys(str(i["id"]) for i in feed.items if isinstance(i, dict) and i.get("id")))
        outcome.new_posts += state.new_among(ids)
        state.keep(feed.raw)
        state.fetched.setdefault(name, []).extend(ids)
        outcome.pages += 1
        outcome.posts += len(ids)
        fetched, cursor, pages = fetched + len(ids), feed.cursor, pages + 1
        save()
        bar.update(len(ids))
        if not feed.has_more:
            break
    save(done=True)
    if con is not None:
        con.execute("UPDATE tracked_hashtags SET last_collected_at = ? WHERE name = ?", [clock.now(), name])


async def _collect_research(state: _Run, names: list[str], max_posts: int, since: dt.date | None, until: dt.date | None,
                            regions: Sequence[str], quota: Quota, page_size: int = MAX_COUNT) -> None:
    settings = state.settings
    until = until or clock.now().date()
    since = since or until - dt.timedelta(days=RESEARCH_DEFAULT_DAYS - 1)
    if since > until:
        raise CollectError(f"--since {since} is after --until {until}: swap them")
    async with HttpClient(settings) as client:
        research = ResearchSource(client, quota, settings)
        for position, name in enumerate(names):  # one at a time: the quota is shared, and cursors must stay in order
            outcome = HashtagOutcome(name)
            state.result.outcomes.append(outcome)
            with progress(total=max_posts, desc=f"#{name}", unit="post", position=position) as bar:
                try:
                    await _research_hashtag(state, research, name, max_posts, since, until, regions, outcome, bar, page_size)
                except (SourceError, TikTokIntelError, OSError, ValueError, KeyError, TypeError) as exc:
                    state.fail(outcome, exc)
                    if isinstance(exc, QuotaExhaustedError):
                        state.result.quota = quota.report()
            state.secrets.extend(client.secrets)
        if state.result.quota is None:
            state.result.quota = quota.report()


async def _research_hashtag(state: _Run, research: ResearchSource, name: str, max_posts: int, since: dt.date, until: dt.date,
                            regions: Sequence[str], outcome: HashtagOutcome, bar: Any, page_size: int = MAX_COUNT) -> None:
    con, run_id = state.con, state.result.run_id
    sink = state.sink.for_hashtag(name)
    saved = saved_cursor(con, "research", name)
    cursor, search_id, fetched, pages = 0, None, 0, 0
    if saved and not saved.done and saved.window_start and saved.range_end:
        windows = split_windows(saved.window_start, saved.range_end)
        cursor, search_id, fetched, pages = saved.cursor, saved.search_id, saved.posts, saved.pages
        outcome.resumed_from = cursor
        bar.update(min(fetched, max_posts))
    else:
        windows = split_windows(since, until)
    range_end = windows[-1][1]

    def save(window: tuple[dt.date, dt.date], done: bool = False) -> None:
        save_cursor(con, "research", name, run_id=run_id, cursor=cursor, search_id=search_id, window_start=window[0], window_end=window[1],
                    range_end=range_end, pages=pages, posts=fetched, max_posts=max_posts, done=done)

    for index, window in enumerate(windows):
        if index > 0:
            cursor, search_id = 0, None
        save(window)
        while fetched < max_posts:
            page = await research.query_videos(start=window[0], end=window[1], hashtags=[name], regions=regions, cursor=cursor,
                                               search_id=search_id, max_count=min(page_size, MAX_COUNT, max_posts - fetched), sink=sink)
            ids = list(dict.fromkeys(str(v.get("id") or v.get("video_id")) for v in page.videos if isinstance(v, dict)))
            known = state.existing(ids)
            state.ingest(page.raw)
            outcome.pages += 1
            outcome.posts += len(ids)
            outcome.new_posts += len([i for i in ids if i not in known])
            fetched, cursor, search_id, pages = fetched + len(ids), page.cursor, page.search_id, pages + 1
            save(window)
            bar.update(len(ids))
            if not page.has_more:
                break
        if fetched >= max_posts:
            break
    save(windows[-1], done=True)
    if con.execute("SELECT count(*) FROM tracked_hashtags WHERE name = ?", [name]).fetchone()[0]:
        con.execute("UPDATE tracked_hashtags SET last_collected_at = ? WHERE name = ?", [clock.now(), name])


# -- monitor ----------------------------------------------------------------------------------------

def monitor(con_or_db: Any = None, hashtags: Sequence[str] | str | None = None, *, session: Session | None = None,
            ingest: bool = True) -> RunResult:
    """Snapshot each tracked hashtag's own stats (video count, view count) into ``hashtag_stats`` (the 30-minute job).

    ``ingest=False`` only writes the raw pages (``process_pending`` ingests them later, many at once)."""
    settings = get_settings()
    with _connection(con_or_db) as con:
        ensure_tables(con)
        names = _hashtags(con, hashtags)
        result = _start_run(con, "monitor", "web")
        state = _Run(con, result, settings, "web")
        try:
            run_async(lambda: _monitor(state, names, session))
            if ingest:
                state.flush()
        except BaseException:
            result.interrupted = True
            _finish_run(con, result)
            raise
        _finish_run(con, result)
    return result


async def _monitor(state: _Run, names: list[str], session: Session | None) -> None:
    from .sources.browser import open_session

    settings = state.settings
    own_session = session is None
    async with HttpClient(settings) as client:
        if session is None:
            session = await open_session(settings)
        state.secrets.append(session.ms_token)
        try:
            web = WebSource(client, session, settings)
            with progress(total=len(names), desc="monitor", unit="hashtag") as bar:
                for name in names:
                    outcome = HashtagOutcome(name)
                    state.result.outcomes.append(outcome)
                    try:
                        page, info = await web.hashtag_detail(name, sink=state.sink.for_hashtag(name))
                        state.keep(page)
                        outcome.pages = 1
                        stats = info.get("statsV2") or info.get("stats") or {}
                        outcome.video_count = int(stats.get("videoCount") or 0)
                        outcome.view_count = int(stats.get("viewCount") or 0)
                    except (SourceError, TikTokIntelError, OSError, ValueError, KeyError, TypeError) as exc:
                        state.fail(outcome, exc)
                    bar.update(1)
                    state.secrets.append(session.ms_token)
        finally:
            if own_session:
                await session.close()
