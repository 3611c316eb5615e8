"""Research API collection: each hashtag's videos between two dates, in windows of at most 30 days,
one hashtag at a time (the daily quota is shared), resumed from its saved cursor; then the comments
(:func:`fetch_research_comments`: ``video/comment/list``, top ``comments_per_post`` with replies
among them, once a run per post) of the posts every tracked item listed."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from .. import clock, tracking
from ..progress import progress
from ..sources.http import HttpClient
from ..sources.research import MAX_COUNT, Quota, QuotaExhaustedError, ResearchSource, split_windows
from ..transcripts import research_transcripts
from ..transcripts import save as save_transcripts
from .cursors import save_cursor, saved_cursor
from .outcomes import HASHTAG_ERRORS, CollectError, HashtagOutcome, RunState

#: Days a Research API collection covers when no dates are given (today included).
RESEARCH_DEFAULT_DAYS = 7
COMMENT_FIELDS = ("id", "video_id", "text", "like_count", "reply_count", "parent_comment_id", "create_time")


async def collect_research(
    state: RunState,
    names: list[str],
    max_posts: int,
    since: dt.date | None,
    until: dt.date | None,
    regions: Sequence[str],
    quota: Quota,
    page_size: int = MAX_COUNT,
) -> None:
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
                except HASHTAG_ERRORS as exc:
                    state.fail(outcome, exc)
                    if isinstance(exc, QuotaExhaustedError):
                        state.result.quota = quota.report()
            state.secrets.extend(client.secrets)
        if state.result.quota is None:  # the quota left: the comments of the hashtags' posts
            await fetch_research_comments(state, research, [i for n in names for i in state.fetched.get(n, [])])
            state.secrets.extend(client.secrets)
            state.flush()
            state.result.quota = quota.report()


async def _comments(state: RunState, research: ResearchSource, post_ids: Sequence[str], outcome: HashtagOutcome) -> None:
    limit = state.settings.comments_per_post
    sink = state.sink.for_hashtag(None)
    for post_id in post_ids:
        cursor, got = 0, 0
        while got < limit:
            page, data = await research._post(
                "/v2/research/video/comment/list/",
                COMMENT_FIELDS,
                {"video_id": int(post_id), "max_count": max(1, min(100, limit - got)), "cursor": cursor},
                sink=sink,
                what=f"the comments of post {post_id}",
            )
            state.keep(page)
            payload = data.get("data") or {}
            listed = [c for c in payload.get("comments") or [] if isinstance(c, dict)]
            outcome.pages += 1
            outcome.comments += len(listed)
            got += len(listed)
            if not payload.get("has_more") or not listed or payload.get("cursor") in (None, ""):
                break
            cursor = int(payload["cursor"])


async def fetch_research_comments(state: RunState, research: ResearchSource, post_ids: Sequence[str]) -> None:
    """The comments of those of ``post_ids`` this run has not asked about yet (:meth:`~.outcomes.RunState.comment`)."""
    await state.comment(post_ids, lambda todo, outcome: _comments(state, research, todo, outcome))


async def _research_hashtag(
    state: RunState,
    research: ResearchSource,
    name: str,
    max_posts: int,
    since: dt.date,
    until: dt.date,
    regions: Sequence[str],
    outcome: HashtagOutcome,
    bar: Any,
    page_size: int = MAX_COUNT,
) -> None:
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
        save_cursor(
            con,
            "research",
            name,
            run_id=run_id,
            cursor=cursor,
            search_id=search_id,
            window_start=window[0],
            window_end=window[1],
            range_end=range_end,
            pages=pages,
            posts=fetched,
            max_posts=max_posts,
            done=done,
        )

    for index, window in enumerate(windows):
        if index > 0:
            cursor, search_id = 0, None
        save(window)
        while fetched < max_posts:
            page = await research.query_videos(
                start=window[0],
                end=window[1],
                hashtags=[name],
                regions=regions,
                cursor=cursor,
                search_id=search_id,
                max_count=min(page_size, MAX_COUNT, max_posts - fetched),
                sink=sink,
            )
            ids = list(dict.fromkeys(str(v.get("id") or v.get("video_id")) for v in page.videos if isinstance(v, dict)))
            known = state.existing(ids)
            state.fetched.setdefault(name, []).extend(ids)
            state.ingest(page.raw)
            save_transcripts(con, research_transcripts(page.videos))
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
    tracking.mark_collected(con, name)
