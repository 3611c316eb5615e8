"""TikTok's web shapes: ``itemStruct``, ``userInfo``, ``challengeInfo``, and the page-embedded
``SIGI_STATE`` / ``__UNIVERSAL_DATA_FOR_REHYDRATION__`` objects.

Every function reads its input without changing it and appends records to a :class:`Batch`.
"""

from __future__ import annotations

from typing import Any

from .batch import Batch, Context
from .fields import AUTHOR_COUNTS, COUNT_FALLBACKS, POST_COUNTS, BadValue, count, epoch, first, hashtag_name, ident, listed, post_url, text


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
    if ctx.tracked and rank is not None:
        kind, name = ctx.tracked
        batch.add("listings", kind=kind, tracked=name, post_id=post_id, collected_at=ctx.collected_at, rank=rank, run_id=ctx.run_id)


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
        user = (users or {}).get(author)
        user = user if isinstance(user, dict) else {}
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
    created_at = epoch(item.get("createTime"), "createTime", bounds=ctx.bounds)
    video = item.get("video") if isinstance(item.get("video"), dict) else {}
    music = item.get("music") if isinstance(item.get("music"), dict) else {}
    music_id = ident(music.get("id"), "music.id") if music else None
    challenges, text_extra = listed(item.get("challenges"), "challenges"), listed(item.get("textExtra"), "textExtra")

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
    for challenge in challenges:
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
    for extra in text_extra:  # hashtags in the caption that are not challenges of the item
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


def _object(parent: Any, key: str, batch: Batch, where: str) -> dict:
    """``parent[key]`` when it is an object; absent: {}; of another type: {} and a whole-page reject naming it."""
    value = parent.get(key) if isinstance(parent, dict) else None
    if value is None or value == "":
        return {}
    if not isinstance(value, dict):
        batch.problem(f"{where} is a {type(value).__name__}, not an object ({str(value)[:40]!r})")
        return {}
    return value


def sigi_state(state: dict, batch: Batch, ctx: Context) -> None:
    """``SIGI_STATE``: ``ItemModule`` keyed by id, authors as strings resolved via ``UserModule``.
    A module of the wrong type is a whole-page reject naming it; the other modules are read."""
    users_module = _object(state, "UserModule", batch, "UserModule")
    users = _object(users_module, "users", batch, "UserModule.users")
    stats = _object(users_module, "stats", batch, "UserModule.stats")
    user_post = _object(_object(state, "ItemList", batch, "ItemList"), "user-post", batch, "ItemList.user-post")
    order = user_post.get("list")
    if not isinstance(order, list):
        if order not in (None, ""):
            batch.problem(f"ItemList.user-post.list is a {type(order).__name__}, not a list")
        order = []
    module = _object(state, "ItemModule", batch, "ItemModule")
    ranks = {item_id: n for n, item_id in enumerate(order) if isinstance(item_id, str)}
    for index, (key, item) in enumerate(module.items()):
        batch.item(index, item, lambda b: item_struct(item, b, ctx, rank=ranks.get(key), users=users, user_stats=stats))
    # profiles listed in UserModule without posts of theirs here
    authors_seen = {i.get("author") for i in module.values() if isinstance(i, dict) and isinstance(i.get("author"), str)}
    for offset, (name, user) in enumerate(users.items()):
        if name not in authors_seen:
            batch.item(len(module) + offset, user, lambda b: user_info({"user": user, "stats": stats.get(name)}, b, ctx))


def universal_data(data: dict, batch: Batch, ctx: Context) -> None:
    """``__UNIVERSAL_DATA_FOR_REHYDRATION__``: ``__DEFAULT_SCOPE__`` with video, user or challenge detail.
    A part of the wrong type is a reject naming it; the other parts are read."""
    scope = _object(data, "__DEFAULT_SCOPE__", batch, "__DEFAULT_SCOPE__")
    index = 0
    details = (
        ("webapp.video-detail", "itemInfo", lambda info, b: item_detail(info, b, ctx)),
        ("webapp.user-detail", "userInfo", lambda info, b: user_info(info, b, ctx)),
        ("webapp.challenge-detail", "challengeInfo", lambda info, b: challenge_info(info, b, ctx)),
    )
    for detail_key, info_key, parse in details:
        detail = _object(scope, detail_key, batch, f"__DEFAULT_SCOPE__.{detail_key}")
        info = detail.get(info_key)
        if detail_key == "webapp.video-detail" and info is not None:  # a detail without its itemStruct holds no post
            info = {"itemInfo": info} if not isinstance(info, dict) else info.get("itemStruct")
        if info is not None:
            batch.item(index, info, lambda b, info=info, parse=parse: parse(info, b))
            index += 1


def item_detail(obj: Any, batch: Batch, ctx: Context) -> None:
    """One post's detail: ``{itemInfo: {itemStruct: {...}}}`` or the ``itemStruct`` itself."""
    if isinstance(obj, dict) and "itemInfo" in obj:
        info = obj["itemInfo"]
        if not isinstance(info, dict):
            raise BadValue(f"itemInfo is a {type(info).__name__}, not an object ({str(info)[:40]!r})")
        obj = info.get("itemStruct")
        if obj is None:
            raise BadValue("itemInfo without an itemStruct")
    item_struct(obj, batch, ctx)


def item_list(items: list, batch: Batch, ctx: Context) -> None:
    for index, item in enumerate(items):
        batch.item(index, item, lambda b: item_struct(item, b, ctx, rank=ctx.rank_offset + index))


def search_results(entries: Any, batch: Batch, ctx: Context) -> None:
    """A web search page (``/api/search/general/full/``, ``/api/search/item/full/``): its posts sit at
    ``data[].item`` (other entries, such as user cards, hold no post and are passed over)."""
    if entries in (None, ""):
        entries = []
    if not isinstance(entries, list):
        batch.problem(f"data is a {type(entries).__name__}, not a list ({str(entries)[:40]!r})")
        return
    rank = ctx.rank_offset
    for index, entry in enumerate(entries):
        if isinstance(entry, dict) and "item" not in entry and entry.get("type") not in (None, 1):
            continue  # a user card, a "related searches" box: no post in it
        item = entry.get("item") if isinstance(entry, dict) else entry
        batch.item(index, item, lambda b, item=item, rank=rank: item_struct(item, b, ctx, rank=rank))
        rank += 1
