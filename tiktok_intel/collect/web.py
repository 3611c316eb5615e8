"""Web API collection: each hashtag's detail page and feed pages (resumed from its saved cursor),
its hashtag stats snapshots (:func:`monitor_web`), and the covers of the posts a run fetched.

Comments (:func:`fetch_comments`) of the posts every tracked item listed, hashtags as accounts and
keywords (``collect/follow``): the top ``comments_per_post`` of each post (``/api/comment/list/``; 0:
none), and the replies (``/api/comment/list/reply/``) of those with more than
``comment_replies_above`` replies; once a run per post, through the run's rate-limited client.
"""

from __future__ import annotations

import asyncio
from typing import Any

import duckdb

from .. import tracking
from ..downloads import Downloader, record_outcome
from ..media import fetch_covers
from ..parsing.item_media import detail_item
from ..progress import progress
from ..settings import Settings
from ..sources.http import HttpClient
from ..sources.web import FEED_PAGE_SIZE, Session, WebSource
from .cursors import save_cursor, saved_cursor
from .outcomes import HASHTAG_ERRORS, HashtagOutcome, RunState

#: Comments asked for per page.
COMMENTS_PAGE = 50


async def collect_web(state: RunState, names: list[str], max_posts: int, covers: bool, session: Session | None, page_size: int) -> None:
    from ..sources.browser import open_session

    settings = state.settings
    own_session = session is None
    async with HttpClient(settings) as client, HttpClient(settings, requests_per_second=0) as media_client:
        if session is None:
            session = await open_session(settings)
        state.secrets.append(session.ms_token)
        try:
            web = WebSource(client, session, settings)
            limit = asyncio.Semaphore(max(1, settings.concurrency))
            state.downloads = _downloader(state, web, session, media_client)

            async def one(position: int, name: str) -> None:
                async with limit:
                    outcome = HashtagOutcome(name)
                    state.result.outcomes.append(outcome)
                    with progress(total=max_posts, desc=f"#{name}", unit="post", position=position) as bar:
                        try:
                            await _web_hashtag(state, web, name, max_posts, outcome, bar, page_size)
                        except HASHTAG_ERRORS as exc:
                            state.fail(outcome, exc)
                    state.secrets.append(session.ms_token)  # a renewed session's token, for redaction

            await asyncio.gather(*(one(i, n) for i, n in enumerate(names)))
            await fetch_comments(state, web, [i for n in names for i in state.fetched.get(n, [])])
            state.secrets.append(session.ms_token)
            state.result.media = await state.downloads.finish()
            state.flush()  # the run's pages in one go; then the covers of the posts they hold
            if state.con is not None:
                record_outcome(state.con, state.result.media)
            if covers:
                await fetch_run_covers(state.con, media_client, state.result.listings, state.fetched, settings)
        finally:
            if own_session:
                await session.close()


async def _comment_pages(
    state: RunState, web: WebSource, path: str, params: dict[str, Any], limit: int, what: str
) -> tuple[int, list[dict[str, Any]]]:
    """Pages of a comment list up to ``limit`` comments: (pages, the comments)."""
    sink = state.sink.for_hashtag(None)
    cursor, got, pages = 0, [], 0
    while len(got) < limit:
        raw, data = await web.get_json(
            path, {**params, "count": min(COMMENTS_PAGE, limit - len(got)), "cursor": cursor}, sink=sink, what=what
        )
        state.keep(raw)
        pages += 1
        listed = [c for c in (data.get("comments") or []) if isinstance(c, dict)] if isinstance(data, dict) else []
        got.extend(listed)
        next_cursor = data.get("cursor") if isinstance(data, dict) else None
        if not (isinstance(data, dict) and data.get("has_more")) or not listed or next_cursor in (None, "") or int(next_cursor) <= cursor:
            break
        cursor = int(next_cursor)
    return pages, got[:limit]


async def collect_comments(state: RunState, web: WebSource, post_ids: list[str], outcome: HashtagOutcome) -> None:
    """The top comments of each post (and the replies of the much-answered ones)."""
    per_post, above = state.settings.comments_per_post, state.settings.comment_replies_above
    if per_post <= 0:
        return
    with progress(total=len(post_ids), desc="comments", unit="post") as bar:
        for post_id in post_ids:
            pages, listed = await _comment_pages(
                state, web, "/api/comment/list/", {"aweme_id": post_id}, per_post, f"the comments of post {post_id}"
            )
            outcome.pages += pages
            outcome.comments += len(listed)
            if above >= 0:
                for comment in listed:
                    if int(comment.get("reply_comment_total") or 0) > above:
                        more, replies = await _comment_pages(
                            state,
                            web,
                            "/api/comment/list/reply/",
                            {"item_id": post_id, "comment_id": comment.get("cid")},
                            per_post,
                            f"the replies to comment {comment.get('cid')}",
                        )
                        outcome.pages += more
                        outcome.comments += len(replies)
            bar.update(1)


async def fetch_comments(state: RunState, web: WebSource, post_ids: list[str]) -> None:
    """The comments of those of ``post_ids`` this run has not asked about yet (:meth:`~.outcomes.RunState.comment`)."""
    await state.comment(post_ids, lambda todo, outcome: collect_comments(state, web, todo, outcome))


def _downloader(state: RunState, web: WebSource, session: Session, media_client: HttpClient) -> Downloader:
    """The run's media downloads, with the session's cookies and a refresh from the item detail."""

    async def refresh(post_id: str, unique_id: str) -> dict | None:
        page = await web.video_page(unique_id, post_id, sink=state.sink.for_hashtag(None))
        state.keep(page)
        return detail_item(page.read_bytes())

    return Downloader(
        media_client,
        state.settings,
        cookies=session.cookies,
        user_agent=getattr(session, "user_agent", None),
        referer=state.settings.web_base_url.rstrip("/") + "/",
        refresh=refresh,
        secrets=[session.ms_token],
    )


async def fetch_run_covers(
    con: duckdb.DuckDBPyConnection, client: HttpClient, outcomes: list[HashtagOutcome], fetched: dict[str, list[str]], settings: Settings
) -> None:
    """The covers of the posts each successful hashtag's pages held (those without one yet)."""
    for outcome in outcomes:
        if outcome.ok and fetched.get(outcome.hashtag):
            outcome.covers.add(await fetch_covers(con, client, fetched[outcome.hashtag], settings=settings))


async def _web_hashtag(
    state: RunState, web: WebSource, name: str, max_posts: int, outcome: HashtagOutcome, bar: Any, page_size: int = FEED_PAGE_SIZE
) -> None:
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
        if state.downloads is not None:
            state.downloads.page(feed.items)  # right after the page is in raw: its URLs expire within hours
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
        tracking.mark_collected(con, name)


async def monitor_web(state: RunState, names: list[str], session: Session | None) -> None:
    """Each hashtag's detail page (its video and view counts), one after the other."""
    from ..sources.browser import open_session

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
                    except HASHTAG_ERRORS as exc:
                        state.fail(outcome, exc)
                    bar.update(1)
                    state.secrets.append(session.ms_token)
        finally:
            if own_session:
                await session.close()
