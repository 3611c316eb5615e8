"""TikTok Research API responses: ``video/query`` pages and ``user/info``.

Traps handled here: the video id is ``id`` in some responses and ``video_id`` in others, often
a JSON integer; one page can list a video twice; strings can hold NUL bytes; videos name their
author by ``username`` only, so the author is keyed ``@username`` until a numeric id is known.
"""

from __future__ import annotations

from typing import Any

from .batch import Batch, Context
from .fields import BadValue, count, epoch, first, ident, listed, text
from .web import add_author, add_hashtag, add_post

VIDEO_COUNTS = (
    ("views", "view_count"),
    ("likes", "like_count"),
    ("comments", "comment_count"),
    ("shares", "share_count"),
    ("saves", "favorites_count"),
)
USER_COUNTS = (("followers", "follower_count"), ("following", "following_count"), ("hearts", "likes_count"), ("videos", "video_count"))


def video(item: Any, batch: Batch, ctx: Context, *, rank: int | None = None) -> None:
    if not isinstance(item, dict):
        raise BadValue(f"item is a {type(item).__name__}, not an object")
    post_id = ident(first(item, "id", "video_id"), "id", required=True)
    counts = {col: count(item.get(key), key) for col, key in VIDEO_COUNTS}
    created_at = epoch(item.get("create_time"), "create_time", bounds=ctx.bounds)
    username = text(item.get("username"))
    music_id = ident(item.get("music_id"), "music_id")
    names = item.get("hashtag_names")
    if isinstance(names, str) and names:  # a string is not a list of names (its letters would become hashtags)
        raise BadValue(f"hashtag_names is a string, not a list ({names[:40]!r})")
    names = listed(names, "hashtag_names")
    author_key = add_author(batch, ctx, author_id=None, unique_id=username) if username else None
    if music_id:
        batch.add(
            "music",
            music_id=music_id,
            title=None,
            author_name=None,
            original=None,
            duration_s=None,
            play_url=None,
            first_seen_at=ctx.collected_at,
            last_seen_at=ctx.collected_at,
        )
    tags = [t for t in (add_hashtag(batch, ctx, name) for name in names if isinstance(name, (str, int))) if t]
    add_post(
        batch,
        ctx,
        post_id=post_id,
        author_key=author_key,
        unique_id=username,
        description=item.get("video_description"),
        created_at=created_at,
        music_id=music_id,
        duration_s=min(count(item.get("video_duration"), "video_duration") or 0, 2**31 - 1) or None,
        cover_url=None,
        video_url=None,
        region=item.get("region_code"),
        is_ad=None,
        counts=counts,
        hashtags=tags,
        rank=rank,
    )


def video_page(data: Any, batch: Batch, ctx: Context) -> None:
    if not isinstance(data, dict):
        batch.problem(f"data is a {type(data).__name__}, not an object ({str(data)[:40]!r})")
        return
    videos = data.get("videos")
    if videos in (None, ""):
        videos = []
    if not isinstance(videos, list):
        batch.problem(f"data.videos is a {type(videos).__name__}, not a list ({str(videos)[:40]!r})")
        return
    for index, item in enumerate(videos):
        batch.item(index, item, lambda b: video(item, b, ctx, rank=ctx.rank_offset + index))


def requested_username(request: Any) -> str | None:
    """The username a ``user/info`` request asked for (the response does not repeat it)."""
    if isinstance(request, dict):
        body = request.get("json") or request.get("body") or request
        if isinstance(body, dict) and body.get("username"):
            return text(body["username"])
    return None


def user(data: Any, batch: Batch, ctx: Context) -> None:
    def parse(b: Batch) -> None:
        if not isinstance(data, dict):
            raise BadValue(f"data is a {type(data).__name__}, not an object ({str(data)[:40]!r})")
        username = requested_username(ctx.request)
        if not username:
            raise BadValue("Research API user info without the username it was asked for (keep the request in the raw page)")
        counts = {col: count(data.get(key), key) for col, key in USER_COUNTS}
        add_author(
            b,
            ctx,
            author_id=None,
            unique_id=username,
            nickname=data.get("display_name"),
            signature=data.get("bio_description"),
            verified=data.get("is_verified"),
            avatar_url=data.get("avatar_url"),
            counts=counts,
        )

    batch.item(0, data, parse)
