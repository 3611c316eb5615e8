"""Research API collection of tracked accounts and keywords, each by its own route, and their
posts' comments:

* an account: ``user/info`` (a snapshot of followers, following, likes and videos: the raw page
  keeps the request, which names the user) and ``video/query`` with a ``username`` condition;
* a keyword: ``video/query`` with a ``keyword`` condition;
* comments: those of each post listed, as for a hashtag's (:func:`~.research.fetch_research_comments`).

Windows of at most 30 days, newest first; the daily quota is shared with the hashtags'
collection (:class:`~tiktok_intel.sources.research.Quota`). Unlike a hashtag's, an item's
collection is not resumed from a cursor: it starts from the top of its range each run.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from .. import clock, tracking
from ..sources.http import HttpClient
from ..sources.research import MAX_COUNT, USER_FIELDS, VIDEO_FIELDS, Quota, QuotaExhaustedError, ResearchSource, split_windows
from .follow import shown
from .outcomes import HASHTAG_ERRORS, HashtagOutcome, RunState
from .research import RESEARCH_DEFAULT_DAYS, fetch_research_comments


def condition(kind: str, name: str) -> dict[str, Any]:
    """The ``video/query`` condition of a tracked account or keyword."""
    field = "username" if kind == "account" else "keyword"
    return {"field_name": field, "operation": "EQ", "field_values": [name]}


async def _videos(
    state: RunState, research: ResearchSource, kind: str, name: str, since: dt.date, until: dt.date, max_posts: int, outcome: HashtagOutcome
) -> None:
    sink = state.sink.for_hashtag(None)
    fetched = 0
    for start, end in reversed(split_windows(since, until)):
        cursor, search_id = 0, None
        while fetched < max_posts:
            body: dict[str, Any] = {
                "query": {"and": [condition(kind, name)]},
                "start_date": start.strftime("%Y%m%d"),
                "end_date": end.strftime("%Y%m%d"),
                "max_count": max(1, min(MAX_COUNT, max_posts - fetched)),
                "cursor": cursor,
            }
            if search_id:
                body["search_id"] = search_id
            page, data = await research._post(
                "/v2/research/video/query/",
                VIDEO_FIELDS,
                body,
                sink=sink,
                what=f"videos of {shown(kind, name)} {start}..{end}",
                extra={"tracked": {"kind": kind, "name": name}, "rank_offset": fetched},
            )
            state.keep(page)
            payload = data.get("data") or {}
            videos = [v for v in payload.get("videos") or [] if isinstance(v, dict)]
            if research.quota is not None:
                research.quota.spend(0, len(videos))
            ids = list(dict.fromkeys(str(v.get("id") or v.get("video_id")) for v in videos))
            outcome.pages += 1
            outcome.posts += len(ids)
            outcome.new_posts += state.new_among(ids)
            state.fetched.setdefault(outcome.hashtag, []).extend(ids)
            fetched += len(ids)
            if not payload.get("has_more") or not videos or payload.get("cursor") in (None, ""):
                break
            cursor, search_id = int(payload["cursor"]), payload.get("search_id") or search_id
        if fetched >= max_posts:
            break


async def collect_research_followed(
    state: RunState,
    items: list[tuple[str, str]],
    max_posts: int,
    since: dt.date | None,
    until: dt.date | None,
    quota: Quota,
) -> None:
    """Each account and keyword (one at a time: the quota is shared), then their posts' comments."""
    until = until or clock.now().date()
    since = since or until - dt.timedelta(days=RESEARCH_DEFAULT_DAYS - 1)
    async with HttpClient(state.settings) as client:
        research = ResearchSource(client, quota, state.settings)
        mine, exhausted = [], False
        for kind, name in items:
            outcome = HashtagOutcome(shown(kind, name))
            state.result.outcomes.append(outcome)
            mine.append(outcome.hashtag)
            try:
                if kind == "account":
                    page, _ = await research._post(
                        "/v2/research/user/info/", USER_FIELDS, {"username": name}, sink=state.sink.for_hashtag(None), what=f"user @{name}"
                    )
                    state.keep(page)
                    outcome.pages += 1
                await _videos(state, research, kind, name, since, until, max_posts, outcome)
                if state.con is not None:
                    tracking.mark_item_collected(state.con, kind, name)
            except HASHTAG_ERRORS as exc:
                state.fail(outcome, exc)
                if isinstance(exc, QuotaExhaustedError):
                    exhausted = True
                    break
        if not exhausted:  # those a hashtag of this run listed are done already
            await fetch_research_comments(state, research, [i for key in mine for i in state.fetched.get(key, [])])
        state.secrets.extend(client.secrets)
        state.flush()
        state.result.quota = quota.report()
