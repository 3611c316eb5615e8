"""What a collection run returns (:class:`RunResult`, one :class:`HashtagOutcome` a hashtag), its
errors, and what one run's hashtags share while it fetches (:class:`RunState`)."""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

import duckdb

from .. import raw
from ..errors import TikTokIntelError
from ..ingest.merge import IngestStats
from ..ingest.pages import ingest_page, ingest_pages
from ..media import CoverResult
from ..settings import Settings
from ..sources import RawSink
from ..sources.http import SourceError

#: What fetching a hashtag may raise and fail that hashtag alone (the run goes on with the others).
HASHTAG_ERRORS = (SourceError, TikTokIntelError, OSError, ValueError, KeyError, TypeError)


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
    comments: int = 0  # comments and replies fetched (the run's comments outcome)
    note: str | None = None  # e.g. "private account: profile only"
    is_comments: bool = False  # the run's one comments outcome (RunState.comments_outcome), not a tracked item's

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclasses.dataclass
class RunResult:
    """One collection (``flow`` ``collect``) or hashtag stats snapshot (``monitor``): what each hashtag
    gave. The library returns it and writes no ``runs`` row: whoever runs it records it
    (:meth:`record`), as ``tiktok-intel collect`` and the flows do."""

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
    items_rejected: int = 0  # items of the run's pages (and of pages a crashed run left) that went to `rejects`
    pages_failed: int = 0  # pages marked failed (`failed_pages`): `status` lists them, `process --retry-failed` retries

    def ingested(self, stats: IngestStats) -> None:
        """Count what an ingest of this run's pages rejected or marked failed."""
        self.items_rejected += stats.items_rejected
        self.pages_failed += stats.pages_failed

    media: Any = None  # the run's downloads (videos, slides, captions): a downloads.MediaOutcome

    @property
    def failed(self) -> list[HashtagOutcome]:
        return [o for o in self.outcomes if not o.ok]

    @property
    def status(self) -> str:
        if self.interrupted or (self.outcomes and len(self.failed) == len(self.outcomes)):
            return "failed"
        return "completed"

    @property
    def error(self) -> str | None:
        """One line: the hashtags that failed and why (and whether the run was interrupted); ``None`` when none did."""
        error = "; ".join(f"#{o.hashtag}: {o.error}" for o in self.failed) or None
        if self.interrupted:
            error = "interrupted" + (f"; {error}" if error else "")
        return error

    @property
    def posts(self) -> int:
        return sum(o.posts for o in self.outcomes)

    @property
    def listings(self) -> list[HashtagOutcome]:
        """The outcomes of the tracked items (hashtags, accounts, keywords), without the comments'."""
        return [o for o in self.outcomes if not o.is_comments]

    def counts(self) -> dict[str, Any]:
        return {
            "hashtags": len(self.listings),
            "failed": len(self.failed),
            "posts": self.posts,
            "new_posts": sum(o.new_posts for o in self.outcomes),
            "pages": sum(o.pages for o in self.listings),
            "comments": sum(o.comments for o in self.outcomes),
            "comment_pages": sum(o.pages for o in self.outcomes if o.is_comments),
            "covers_saved": sum(o.covers.saved for o in self.outcomes),
            "covers_failed": sum(o.covers.failed for o in self.outcomes),
            "per_hashtag": {
                o.hashtag: {"posts": o.posts, "new_posts": o.new_posts, "pages": o.pages, "resumed_from": o.resumed_from, "error": o.error}
                for o in self.outcomes
            },
            "quota": self.quota,
            "rejected": self.items_rejected,
            "failed_pages": self.pages_failed,
            **(self.media.counts() if self.media is not None else {}),
        }

    def record(self, run: Any) -> None:
        """Add this result to a run record (:class:`~tiktok_intel.orchestration.runs.FlowRun`) as its
        step named after ``flow``, with the counts and :meth:`summary`; a result that failed (every
        hashtag failed, or interrupted) fails the run with :attr:`error`."""
        run.step(self.flow, {"source": self.source, **self.counts()}, self.summary())
        if self.status == "failed":
            run.status, run.error = "failed", self.error

    def summary(self) -> str:
        """One line: what was collected, and what failed and why."""
        c = self.counts()
        listings = self.listings
        ok = len([o for o in listings if o.ok])
        if self.flow == "monitor":
            text = f"monitor {self.run_id}: {ok} of {len(listings)} hashtag(s) snapshotted"
        elif self.raw_only:
            text = (
                f"collect ({self.source}, raw pages only) {self.run_id}: {ok} of {len(listings)} hashtag(s) done, "
                f"{c['posts']} posts in {c['pages']} pages; `tiktok-intel process` ingests them"
            )
        else:
            text = (
                f"collect ({self.source}) {self.run_id}: {ok} of {len(listings)} hashtag(s) done, {c['posts']} posts "
                f"({c['new_posts']} new) in {c['pages']} pages"
            )
            covers = CoverResult()
            for o in self.outcomes:
                covers.add(o.covers)
            if covers.summary():
                text += f", {covers.summary()}"
        if c["comments"]:
            text += f", {c['comments']} comments in {c['comment_pages']} pages"
        notes = [f"{o.hashtag}: {o.note}" for o in self.outcomes if o.note]
        if notes:
            text += f"; {'; '.join(notes)}"
        if self.media is not None and (self.media.records or self.media.failures):
            text += f"; {self.media.summary()}"
        resumed = [f"{o.hashtag} from {o.resumed_from}" for o in self.outcomes if o.resumed_from is not None]
        if resumed:
            text += f"; resumed {', '.join(resumed)}"
        if self.items_rejected:
            text += f"; {self.items_rejected} items rejected (`tiktok-intel status` says why)"
        if self.pages_failed:
            text += f"; {self.pages_failed} pages failed (`tiktok-intel status` lists them, `process --retry-failed` retries)"
        if self.quota:
            text += f"; quota {self.quota}"
        if self.interrupted:
            text += "; INTERRUPTED (the next run resumes from the saved cursors)"
        if self.failed:
            text += "; FAILED " + "; ".join(f"#{o.hashtag}: {o.error}" for o in self.failed)
        return " ".join(text.split())


class RunState:
    """What one run's hashtags share: connection, settings, sink, secrets."""

    def __init__(self, con: duckdb.DuckDBPyConnection | None, result: RunResult, settings: Settings, source: str):
        self.con, self.result, self.settings = con, result, settings  # no connection: raw pages only
        self.sink = RawSink(source, result.run_id)
        self.secrets: list[str] = []
        self.kept: list[raw.RawPage] = []  # written to raw, ingested together by flush()
        self.seen: set[str] = set()  # post ids this run has fetched so far
        self.fetched: dict[str, list[str]] = {}  # hashtag -> post ids fetched for it
        self.downloads: Any = None  # a downloads.Downloader: each page's media, fetched as the page is written
        self.commented: set[str] = set()  # post ids whose comments this run has asked for (once a run, whoever listed them)

    def comments_outcome(self) -> HashtagOutcome:
        """The run's one outcome for comments (made on first use): every tracked item's posts' comments count there."""
        found = next((o for o in self.result.outcomes if o.is_comments), None)
        if found is None:
            found = HashtagOutcome("comments", is_comments=True)
            self.result.outcomes.append(found)
        return found

    def to_comment(self, post_ids: Sequence[str]) -> list[str]:
        """Those of ``post_ids`` whose comments this run has not asked for yet (then remembered as asked);
        none when the ``comments_per_post`` setting is 0."""
        if self.settings.comments_per_post <= 0:
            return []
        todo = [i for i in dict.fromkeys(post_ids) if i not in self.commented]
        self.commented.update(todo)
        return todo

    async def comment(self, post_ids: Sequence[str], collect: Callable[[list[str], HashtagOutcome], Awaitable[None]]) -> None:
        """``collect(todo, outcome)``: the comments of those of ``post_ids`` this run has not asked about
        yet (:meth:`to_comment`), counted in the run's comments outcome (:meth:`comments_outcome`); a
        failure (the Research API's quota's too) fails that outcome, not the items'."""
        todo = self.to_comment(post_ids)
        if not todo:
            return
        outcome = self.comments_outcome()
        try:
            await collect(todo, outcome)
        except HASHTAG_ERRORS as exc:
            self.fail(outcome, exc)

    def ingest(self, page: raw.RawPage) -> None:
        self.result.ingested(ingest_page(self.con, page))

    def keep(self, page: raw.RawPage) -> None:
        """A page to ingest with the others of the run (one transaction for many pages is ~10x
        cheaper than one each); until then it waits in raw, where ``process`` would find it."""
        self.kept.append(page)

    def flush(self) -> None:
        pages, self.kept = self.kept, []
        if pages and self.con is not None:
            self.result.ingested(ingest_pages(self.con, pages, desc=None, settings=self.settings))

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
