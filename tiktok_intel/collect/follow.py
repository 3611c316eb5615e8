"""Web collection of what is followed besides hashtags, each kind by its own route, and the
comments of the posts they listed.

* an account (:func:`collect_account`): its profile (``/api/user/detail/``: a snapshot of
  followers, following, hearts and videos into ``author_stats``), then its posts
  (``/api/post/item_list/`` with ``secUid``, paged by TikTok's cursor);
* a keyword (:func:`collect_keyword`): TikTok's web search (``/api/search/general/full/``, posts at
  ``data[].item``), paged by offset;
* comments: those of the posts they listed, as for a hashtag's (:func:`~.web.fetch_comments`).

Every page goes to the raw zone first, marked with the tracked item it was listed for (its
``tracked`` meta: ingest records a ``listings`` row per post). A page of no items while TikTok
says there are more, or "more" without a cursor, ends that listing (nothing loops forever).
"""

from __future__ import annotations

import asyncio
from typing import Any

from .. import tracking
from ..sources.web import WebSource
from .outcomes import HASHTAG_ERRORS, HashtagOutcome, RunState
from .web import fetch_comments, fetch_run_covers

#: Items asked for per page: profiles' posts (TikTok's most), search results.
POSTS_PAGE, SEARCH_PAGE = 35, 20


def shown(kind: str, name: str) -> str:
    """How a run's summary names a tracked item: ``@svtnyheter``, ``"vattenbrist"``."""
    return f"@{name}" if kind == "account" else f'"{name}"' if kind == "keyword" else name


def followed_item(label: str) -> tuple[str, str] | None:
    """The ``(kind, name)`` a run's outcome label (:func:`shown`) names, or None for a hashtag's."""
    if label.startswith("@"):
        return "account", label[1:]
    if len(label) > 1 and label.startswith('"') and label.endswith('"'):
        return "keyword", label[1:-1]
    return None


def _tracked_extra(kind: str, name: str, rank_offset: int) -> dict[str, Any]:
    return {"tracked": {"kind": kind, "name": name}, "rank_offset": rank_offset}


def _ids(items: Any) -> list[str]:
    return list(dict.fromkeys(str(i["id"]) for i in items or [] if isinstance(i, dict) and i.get("id")))


async def collect_account(state: RunState, web: WebSource, name: str, max_posts: int, outcome: HashtagOutcome) -> None:
    sink = state.sink.for_hashtag(None)
    page, info = await web.user_detail(name, sink=sink)
    state.keep(page)
    outcome.pages += 1
    user = info.get("user") or {}
    if user.get("privateAccount") or user.get("secret"):
        outcome.note = "private account: profile only"
        return
    sec_uid = str(user.get("secUid") or "")
    cursor, fetched = 0, 0
    while fetched < max_posts:
        raw, data = await web.get_json(
            "/api/post/item_list/",
            {"secUid": sec_uid, "count": min(POSTS_PAGE, max_posts - fetched), "cursor": cursor},
            sink=sink,
            what=f"the posts of @{name}",
            extra=_tracked_extra("account", name, fetched),
        )
        state.keep(raw)
        outcome.pages += 1
        items = data.get("itemList") if isinstance(data, dict) else None
        ids = _ids(items)
        _count(state, outcome, ids)
        fetched += len(ids)
        more, next_cursor = (
            bool(data.get("hasMore")) if isinstance(data, dict) else False,
            data.get("cursor") if isinstance(data, dict) else None,
        )
        if not more or not ids or next_cursor in (None, "", str(cursor), cursor):
            break
        cursor = int(next_cursor)


async def collect_keyword(state: RunState, web: WebSource, name: str, max_posts: int, outcome: HashtagOutcome) -> None:
    sink = state.sink.for_hashtag(None)
    offset, fetched = 0, 0
    while fetched < max_posts:
        raw, data = await web.get_json(
            "/api/search/general/full/",
            {"keyword": name, "offset": offset, "count": min(SEARCH_PAGE, max_posts - fetched)},
            sink=sink,
            what=f'the search for "{name}"',
            extra=_tracked_extra("keyword", name, fetched),
        )
        state.keep(raw)
        outcome.pages += 1
        entries = data.get("data") if isinstance(data, dict) else None
        ids = _ids(e.get("item") for e in entries or [] if isinstance(e, dict) and isinstance(e.get("item"), dict))
        _count(state, outcome, ids)
        fetched += len(ids)
        next_cursor = data.get("cursor") if isinstance(data, dict) else None
        if not (isinstance(data, dict) and data.get("has_more")) or not ids or next_cursor in (None, "") or int(next_cursor) <= offset:
            break
        offset = int(next_cursor)


def _count(state: RunState, outcome: HashtagOutcome, ids: list[str]) -> None:
    outcome.new_posts += state.new_among(ids)
    state.fetched.setdefault(outcome.hashtag, []).extend(ids)
    outcome.posts += len(ids)


async def collect_followed(
    state: RunState,
    items: list[tuple[str, str]],
    max_posts: int,
    session: Any,
    *,
    covers: bool = True,
    comments_of: list[str] | None = None,
) -> None:
    """Collect ``items`` (``(kind, name)``: accounts and keywords) by their routes, then the comments
    of the posts they listed (or of ``comments_of``; :func:`~.web.fetch_comments`), then the covers
    of their posts; one outcome per item, and the run's one for comments."""
    from ..sources.browser import open_session
    from ..sources.http import HttpClient

    settings = state.settings
    own_session = session is None
    async with HttpClient(settings) as client:
        if session is None:
            session = await open_session(settings)
        state.secrets.append(session.ms_token)
        try:
            web = WebSource(client, session, settings)
            limit = asyncio.Semaphore(max(1, settings.concurrency))

            async def one(kind: str, name: str) -> None:
                async with limit:
                    outcome = HashtagOutcome(shown(kind, name))
                    state.result.outcomes.append(outcome)
                    try:
                        route = collect_account if kind == "account" else collect_keyword
                        await route(state, web, name, max_posts, outcome)
                        if state.con is not None:
                            tracking.mark_item_collected(state.con, kind, name)
                    except HASHTAG_ERRORS as exc:
                        state.fail(outcome, exc)

            await asyncio.gather(*(one(k, n) for k, n in items))
            mine = [shown(k, n) for k, n in items]
            if comments_of is None:
                comments_of = [i for key in mine for i in state.fetched.get(key, [])]
            await fetch_comments(state, web, comments_of)  # those a hashtag of this run listed are done already
            state.flush()
            if covers:
                async with HttpClient(settings, requests_per_second=0) as media_client:
                    outcomes = [o for o in state.result.outcomes if o.hashtag in mine]
                    await fetch_run_covers(state.con, media_client, outcomes, state.fetched, settings)
        finally:
            if own_session:
                await session.close()
