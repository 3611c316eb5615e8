"""TikTok's web shapes: ``itemStruct``, ``userInfo``, ``challengeInfo``, and the page-embedded
``SIGI_STATE`` / ``__UNIVERSAL_DATA_FOR_REHYDRATION__`` objects.

Every function reads its input without changing it and appends records to a :class:`Batch`.
"""

from __future__ import annotations

from typing import Any

from .batch import Batch, Context
from .fields import AUTHOR_COUNTS, COUNT_FALLBACKS, POST_COUNTS, BadValue, count, epoch, first, hashtag_name, ident, post_url, text


def exact_counts(stats: Any, stats_v2: Any, names: tuple[tuple[str, str], ...], where: str) -> dict[str, int | None]:
    """Counts by our column name; exact ``statsV2`` strings win over rounded ``stats`` ints."""
    result: dict[str, int | None] = {}
    for column, key in names:
        value = first(stats_v2, key)
        if value is None:
            value = first(stats, key)
            if value is None and key in COUNT_FALLBACKS:
                value = first(stats, COUNT_FALLBACKS[key])
        result[column] = count(value, f"{where}.{key}")
    return result


def add_author(
    batch: Batch,
    ctx: Context,
    *,
    author_id: str | None,
    unique_id: str | None,
    nickname=None,
    signature=None,
    verified=None,
    sec_uid=None,
    avatar_url=None,
    counts: dict[str, int | None] | None = None,
) -> str | None:
    """Add an author (and a stats snapshot when counts are known); return the author key."""
    key = author_id or (f"@{unique_id.lower()}" if unique_id else None)
    if key is None:
        return None
    counts = counts or {}
    batch.add(
        "authors",
        author_id=key,
        unique_id=unique_id,
        nickname=text(nickname),
        signature=text(signature),
        verified=verified if isinstance(verified, bool) else None,
        sec_uid=text(sec_uid),
        avatar_url=text(avatar_url),
        **{c: counts.get(c) for c, _ in AUTHOR_COUNTS},
        first_seen_at=ctx.collected_at,
        last_seen_at=ctx.collected_at,
    )
    if author_id and unique_id:
        batch.add("author_names", author_id=author_id, unique_id=unique_id.lower())
    if any(v is not None for v in counts.values()):
        batch.add("author_stats", author_id=key, collected_at=ctx.collected_at, **{c: counts.get(c) for c, _ in AUTHOR_COUNTS})
    return key


def add_hashtag(
    batch: Batch, ctx: Context, name: Any, *, challenge_id=None, title=None, description=None, video_count=None, view_count=None
) -> str | None:
    normalised = hashtag_name(name)
    if normalised is None:
        return None
    batch.add(
        "hashtags",
        name=normalised,
        challenge_id=challenge_id,
        title=text(title) or text(name),
        description=text(description),
        video_count=video_count,
        view_count=view_count,
        first_seen_at=ctx.collected_at,
        last_seen_at=ctx.collected_at,
    )
    return normalised


def add_post(
    batch: Batch,
    ctx: Context,
    *,
    post_id: str,
    author_key: str | None,
    unique_id: str | None,
    description,
    created_at,
    music_id,
    duration_s,
    cover_url,
    video_url,
    region,
    is_ad,
    counts: dict[str, int | None],
    hashtags: list[str],
    rank: int | None,
) -> None:
    batch.add(
        "posts",
        post_id=post_id,
        author_id=author_key,
        author_unique_id=unique_id,
        description=text(description),
        created_at=created_at,
        music_id=music_id,
        duration_s=duration_s,
        cover_url=text(cover_url),
        video_url=text(video_url),
        region=text(region),
        is_ad=is_ad if isinstance(is_ad, bool) else None,
        url=post_url(unique_id, post_id),
        source=ctx.source,
        **counts,
        first_seen_at=ctx.collected_at,
        last_seen_at=ctx.collected_at,
    )
    if any(v is not None for v in counts.values()):
        batch.add("post_stats", post_id=post_id, collected_at=ctx.collected_at, **counts)
    for tag in dict.fromkeys(hashtags):
        batch.add("post_hashtags", post_id=post_id, hashtag=tag)
    if ctx.hashtag and rank is not None:
        batch.add("feed_appearances", hashtag=ctx.hashtag, post_id=post_id, collected_at=ctx.collected_at, rank=rank, run_id=ctx.run_id)


def _duration(value: Any, field: str) -> int | None:
    number = count(value, field)
    return None if number is None else min(number, 2**31 - 1)


def item_struct(
    item: Any, batch: Batch, ctx: Context, *, rank: int | None = None, users: dict | None = None, user_stats: dict | None = None
) -> None:
    """One web ``itemStruct`` (API) or ``ItemModule`` entry (SIGI_STATE, where ``author`` is a string)."""
    if not isinstance(item, dict):
        raise BadValue(f"item is a {type(item).__name__}, not an object")
    post_id = ident(item.get("id"), "id", required=True)
    author = item.get("author")
    if isinstance(author, str):  # SIGI_STATE: author is the unique id; details sit beside it and in UserModule
        unique_id = text(author)
        user = (users or {}).get(author) or {}
        author_id = ident(first(user, "id") or item.get("authorId"), "authorId")
        author_fields = dict(
            nickname=first(user, "nickname") or item.get("nickname"),
            signature=user.get("signature"),
            verified=user.get("verified"),
            sec_uid=first(user, "secUid") or item.get("authorSecId"),
            avatar_url=first(user, "avatarThumb") or item.get("avatarThumb"),
        )
        stats = (user_stats or {}).get(author)
        author_counts = exact_counts(stats, None, AUTHOR_COUNTS, "authorStats") if stats else None
    elif isinstance(author, dict):
        unique_id = text(author.get("uniqueId"))
        author_id = ident(author.get("id"), "author.id")
        author_fields = dict(
            nickname=author.get("nickname"),
            signature=author.get("signature"),
            verified=author.get("verified"),
            sec_uid=author.get("secUid"),
            avatar_url=first(author, "avatarThumb", "avatarMedium"),
        )
        stats, stats_v2 = item.get("authorStats"), item.get("authorStatsV2")
        author_counts = exact_counts(stats, stats_v2, AUTHOR_COUNTS, "authorStats") if (stats or stats_v2) else None
    else:
        unique_id, author_id, author_fields, author_counts = None, None, {}, None
    counts = exact_counts(item.get("stats"), item.get("statsV2"), POST_COUNTS, "stats")
    created_at = epoch(item.get("createTime"), "createTime")
    video = item.get("video") if isinstance(item.get("video"), dict) else {}
    music = item.get("music") if isinstance(item.get("music"), dict) else {}
    music_id = ident(music.get("id"), "music.id") if music else None

    # all checks passed: from here on only records are added
    author_key = (
        add_author(batch, ctx, author_id=author_id, unique_id=unique_id, counts=author_counts, **author_fields)
        if (author_id or unique_id)
        else None
    )
    if music_id:
        batch.add(
            "music",
            music_id=music_id,
            title=text(music.get("title")),
            author_name=text(music.get("authorName")),
            original=music.get("original") if isinstance(music.get("original"), bool) else None,
            duration_s=_safe_duration(music.get("duration")),
            play_url=text(music.get("playUrl")),
            first_seen_at=ctx.collected_at,
            last_seen_at=ctx.collected_at,
        )
    tags: list[str] = []
    for challenge in item.get("challenges") or []:
        if isinstance(challenge, dict):
            tag = add_hashtag(
                batch,
                ctx,
                challenge.get("title"),
                challenge_id=_safe_ident(challenge.get("id")),
                title=challenge.get("title"),
                description=challenge.get("desc"),
            )
            if tag:
                tags.append(tag)
    for extra in item.get("textExtra") or []:  # hashtags in the caption that are not challenges of the item
        if isinstance(extra, dict) and extra.get("hashtagName") and hashtag_name(extra["hashtagName"]) not in tags:
            tag = add_hashtag(batch, ctx, extra.get("hashtagName"), challenge_id=_safe_ident(extra.get("hashtagId")))
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
        duration_s=_safe_duration(video.get("duration")),
        cover_url=first(video, "cover", "originCover"),
        video_url=first(video, "playAddr", "downloadAddr"),
        region=item.get("locationCreated"),
        is_ad=item.get("isAd"),
        counts=counts,
        hashtags=tags,
        rank=rank,
    )


def _safe_ident(value: Any) -> str | None:
    try:
        return ident(value, "id")
    except BadValue:
        return None


def _safe_duration(value: Any) -> int | None:
    try:
        return _duration(value, "duration")
    except BadValue:
        return None


def user_info(info: Any, batch: Batch, ctx: Context) -> None:
    """A profile: ``{user: {...}, stats: {...}, statsV2?: {...}}`` (web ``userInfo``, also third-party APIs)."""
    if not isinstance(info, dict) or not isinstance(info.get("user"), dict):
        raise BadValue("user info without a user object")
    user = info["user"]
    author_id = ident(first(user, "id", "uid"), "user.id")
    unique_id = text(first(user, "uniqueId", "unique_id"))
    if not (author_id or unique_id):
        raise BadValue("user info without id or uniqueId")
    counts = exact_counts(info.get("stats"), info.get("statsV2"), AUTHOR_COUNTS, "stats")
    add_author(
        batch,
        ctx,
        author_id=author_id,
        unique_id=unique_id,
        nickname=user.get("nickname"),
        signature=user.get("signature"),
        verified=user.get("verified"),
        sec_uid=first(user, "secUid", "sec_uid"),
        avatar_url=first(user, "avatarThumb", "avatarMedium") if isinstance(first(user, "avatarThumb", "avatarMedium"), str) else None,
        counts=counts,
    )


def challenge_info(info: Any, batch: Batch, ctx: Context) -> None:
    """Hashtag detail: ``{challenge: {id, title, desc}, stats: {videoCount, viewCount}, statsV2?}``."""
    if not isinstance(info, dict) or not isinstance(info.get("challenge"), dict):
        raise BadValue("challenge info without a challenge object")
    challenge = info["challenge"]
    stats_names = (("video_count", "videoCount"), ("view_count", "viewCount"))
    counts = exact_counts(info.get("stats"), info.get("statsV2"), stats_names, "stats")
    name = add_hashtag(
        batch,
        ctx,
        challenge.get("title"),
        challenge_id=ident(challenge.get("id"), "challenge.id"),
        title=challenge.get("title"),
        description=challenge.get("desc"),
        **counts,
    )
    if name is None:
        raise BadValue("challenge without a title")
    if any(v is not None for v in counts.values()):
        batch.add("hashtag_stats", hashtag=name, collected_at=ctx.collected_at, **counts)


def sigi_state(state: dict, batch: Batch, ctx: Context) -> None:
    """``SIGI_STATE``: ``ItemModule`` keyed by id, authors as strings resolved via ``UserModule``."""
    users_module = state.get("UserModule") or {}
    users = users_module.get("users") or {}
    stats = users_module.get("stats") or {}
    order = [i for i in ((state.get("ItemList") or {}).get("user-post") or {}).get("list") or []]
    module = state.get("ItemModule") or {}
    ranks = {item_id: n for n, item_id in enumerate(order)}
    for index, (key, item) in enumerate(module.items()):
        batch.item(index, item, lambda b: item_struct(item, b, ctx, rank=ranks.get(key), users=users, user_stats=stats))
    # profiles listed in UserModule without posts of theirs here
    authors_seen = {i.get("author") for i in module.values() if isinstance(i, dict)}
    for offset, (name, user) in enumerate(users.items()):
        if name not in authors_seen:
            batch.item(len(module) + offset, user, lambda b: user_info({"user": user, "stats": stats.get(name)}, b, ctx))


def universal_data(data: dict, batch: Batch, ctx: Context) -> None:
    """``__UNIVERSAL_DATA_FOR_REHYDRATION__``: ``__DEFAULT_SCOPE__`` with video, user or challenge detail."""
    scope = data.get("__DEFAULT_SCOPE__") or {}
    index = 0
    video = ((scope.get("webapp.video-detail") or {}).get("itemInfo") or {}).get("itemStruct")
    if video is not None:
        batch.item(index, video, lambda b: item_struct(video, b, ctx))
        index += 1
    user = (scope.get("webapp.user-detail") or {}).get("userInfo")
    if user is not None:
        batch.item(index, user, lambda b: user_info(user, b, ctx))
        index += 1
    challenge = (scope.get("webapp.challenge-detail") or {}).get("challengeInfo")
    if challenge is not None:
        batch.item(index, challenge, lambda b: challenge_info(challenge, b, ctx))


def item_list(items: list, batch: Batch, ctx: Context) -> None:
    for index, item in enumerate(items):
        batch.item(index, item, lambda b: item_struct(item, b, ctx, rank=ctx.rank_offset + index))
