"""TikTok's mobile-app ``aweme`` shape (as third-party APIs such as EnsembleData return it)."""

from __future__ import annotations

from typing import Any

from .batch import Batch, Context
from .fields import BadValue, count, epoch, first, ident, listed, text, url_of
from .web import add_author, add_hashtag, add_post

AWEME_COUNTS = (
    ("views", "play_count"),
    ("likes", "digg_count"),
    ("comments", "comment_count"),
    ("shares", "share_count"),
    ("saves", "collect_count"),
)
AWEME_AUTHOR_COUNTS = (
    ("followers", "follower_count"),
    ("following", "following_count"),
    ("hearts", "total_favorited"),
    ("videos", "aweme_count"),
    ("likes_given", "favoriting_count"),
)


def aweme(item: Any, batch: Batch, ctx: Context, *, rank: int | None = None) -> None:
    if not isinstance(item, dict):
        raise BadValue(f"item is a {type(item).__name__}, not an object")
    post_id = ident(item.get("aweme_id"), "aweme_id", required=True)
    stats = item.get("statistics") if isinstance(item.get("statistics"), dict) else {}
    counts = {col: count(stats.get(key), f"statistics.{key}") for col, key in AWEME_COUNTS}
    author = item.get("author") if isinstance(item.get("author"), dict) else {}
    author_id = ident(first(author, "uid") or item.get("author_user_id"), "author.uid")
    unique_id = text(first(author, "unique_id"))
    author_counts = {col: count(author.get(key), f"author.{key}") for col, key in AWEME_AUTHOR_COUNTS}
    # Search and feed results carry the author with every count at 0 (placeholders, not
    # measurements): a snapshot of those zeros would fake a collapse in the author's trends.
    if not any(author_counts.values()):
        author_counts = {}
    created_at = epoch(item.get("create_time"), "create_time", bounds=ctx.bounds)
    video = item.get("video") if isinstance(item.get("video"), dict) else {}
    music = item.get("music") if isinstance(item.get("music"), dict) else {}
    music_id = ident(first(music, "id_str", "id", "mid"), "music.id") if music else None
    duration_ms = count(first(video, "duration") or item.get("duration"), "duration")
    challenges, text_extra = listed(item.get("cha_list"), "cha_list"), listed(item.get("text_extra"), "text_extra")

    author_key = (
        add_author(
            batch,
            ctx,
            author_id=author_id,
            unique_id=unique_id,
            nickname=author.get("nickname"),
            signature=author.get("signature"),
            verified=bool(author.get("verification_type")) if "verification_type" in author else None,
            sec_uid=author.get("sec_uid"),
            avatar_url=url_of(author.get("avatar_thumb")),
            counts=author_counts,
        )
        if (author_id or unique_id)
        else None
    )
    if music_id:
        batch.add(
            "music",
            music_id=music_id,
            title=text(music.get("title")),
            author_name=text(music.get("author")),
            original=music.get("is_original") if isinstance(music.get("is_original"), bool) else None,
            duration_s=min(count(music.get("duration"), "music.duration") or 0, 2**31 - 1) or None,
            play_url=url_of(music.get("play_url")),
            first_seen_at=ctx.collected_at,
            last_seen_at=ctx.collected_at,
        )
    tags: list[str] = []
    for challenge in challenges:
        if isinstance(challenge, dict):
            tag = add_hashtag(
                batch,
                ctx,
                challenge.get("cha_name"),
                challenge_id=ident(challenge.get("cid"), "cha_list.cid"),
                title=challenge.get("cha_name"),
                description=challenge.get("desc"),
            )
            if tag:
                tags.append(tag)
    for extra in text_extra:
        if isinstance(extra, dict) and extra.get("hashtag_name"):
            tag = add_hashtag(batch, ctx, extra.get("hashtag_name"), challenge_id=ident(extra.get("hashtag_id"), "text_extra.hashtag_id"))
            if tag:
                tags.append(tag)
    add_post(
        batch,
        ctx,
        post_id=post_id,
        author_key=author_key,
        unique_id=unique_id,
        description=item.get("desc"),
        created_at=created_at,
        music_id=music_id,
        duration_s=None if duration_ms is None else min(duration_ms // 1000, 2**31 - 1),
        cover_url=url_of(first(video, "cover", "origin_cover")),
        video_url=url_of(first(video, "play_addr", "download_addr")),
        region=item.get("region"),
        is_ad=item.get("is_ads"),
        counts=counts,
        hashtags=tags,
        rank=rank,
    )


def aweme_list(items: Any, batch: Batch, ctx: Context, where: str = "aweme_list") -> None:
    if not isinstance(items, list):
        batch.problem(f"{where} is a {type(items).__name__}, not a list ({str(items)[:40]!r})")
        return
    for index, item in enumerate(items):
        batch.item(index, item, lambda b: aweme(item, b, ctx, rank=ctx.rank_offset + index))
