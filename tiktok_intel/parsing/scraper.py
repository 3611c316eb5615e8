"""Files of older tools that many research archives hold.

- **tiktok-scraper** (the npm tool, 2020-21): posts with their counts flat on the post
  (``{id, text, createTime, authorMeta{id, secUid, name, nickName, fans, heart, video, ...},
  musicMeta, covers, videoMeta, diggCount, shareCount, playCount, commentCount, hashtags[{id,
  name}]}``), as a JSON list, inside its result object (``{collector: [...], json, csv}``), or as
  CSV (its json2csv export: nested keys flattened with dots, ``authorMeta.name``; lists as JSON
  text).
- **a 2020 video page** (``<script id="__NEXT_DATA__">``: ``props.pageProps.videoData{itemInfos,
  authorInfos, musicInfos, authorStats, challengeInfoList, textExtra}``, with 2020's key names:
  ``text``, ``nickName``, ``challengeName``, PascalCase ``textExtra``, counts as ints or strings).
"""

from __future__ import annotations

import csv
import io
from typing import Any

import orjson

from .batch import Batch, Context
from .fields import BadValue, count, epoch, first, ident, listed, text
from .web import add_author, add_hashtag, add_post

SCRAPER_AUTHOR_COUNTS = (
    ("followers", "fans"),
    ("following", "following"),
    ("hearts", "heart"),
    ("videos", "video"),
    ("likes_given", "digg"),
)
SCRAPER_POST_COUNTS = (("views", "playCount"), ("likes", "diggCount"), ("comments", "commentCount"), ("shares", "shareCount"))


def is_scraper_post(obj: Any) -> bool:
    return isinstance(obj, dict) and "id" in obj and isinstance(obj.get("authorMeta"), dict)


def _flag(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if value in ("true", "TRUE", "True"):
        return True
    if value in ("false", "FALSE", "False"):
        return False
    return None


def scraper_post(item: Any, batch: Batch, ctx: Context, *, rank: int | None = None) -> None:
    """One tiktok-scraper post."""
    if not isinstance(item, dict):
        raise BadValue(f"item is a {type(item).__name__}, not an object")
    post_id = ident(item.get("id"), "id", required=True)
    author = item.get("authorMeta") if isinstance(item.get("authorMeta"), dict) else {}
    author_id = ident(author.get("id"), "authorMeta.id")
    unique_id = text(author.get("name"))
    author_counts = {col: count(author.get(key), f"authorMeta.{key}") for col, key in SCRAPER_AUTHOR_COUNTS}
    counts = {col: count(item.get(key), key) for col, key in SCRAPER_POST_COUNTS}
    counts["saves"] = None
    created_at = epoch(item.get("createTime"), "createTime", bounds=ctx.bounds)
    music = item.get("musicMeta") if isinstance(item.get("musicMeta"), dict) else {}
    music_id = ident(music.get("musicId"), "musicMeta.musicId") if music else None
    video = item.get("videoMeta") if isinstance(item.get("videoMeta"), dict) else {}
    duration = count(video.get("duration"), "videoMeta.duration")
    covers = item.get("covers") if isinstance(item.get("covers"), dict) else {}
    hashtags = listed(item.get("hashtags"), "hashtags")

    author_key = (
        add_author(
            batch,
            ctx,
            author_id=author_id,
            unique_id=unique_id,
            nickname=author.get("nickName"),
            signature=author.get("signature"),
            verified=_flag(author.get("verified")),
            sec_uid=author.get("secUid"),
            avatar_url=author.get("avatar") if isinstance(author.get("avatar"), str) else None,
            counts=author_counts,
        )
        if (author_id or unique_id)
        else None
    )
    if music_id:
        batch.add(
            "music",
            music_id=music_id,
            title=text(music.get("musicName")),
            author_name=text(music.get("musicAuthor")),
            original=_flag(music.get("musicOriginal")),
            duration_s=min(count(music.get("duration"), "musicMeta.duration") or 0, 2**31 - 1) or None,
            play_url=text(music.get("playUrl")),
            first_seen_at=ctx.collected_at,
            last_seen_at=ctx.collected_at,
        )
    tags = []
    for tag in hashtags:
        if isinstance(tag, dict):
            name = add_hashtag(
                batch, ctx, tag.get("name"), challenge_id=_safe_ident(tag.get("id")), title=tag.get("title") or tag.get("name")
            )
        elif isinstance(tag, str):
            name = add_hashtag(batch, ctx, tag)
        else:
            name = None
        if name:
            tags.append(name)
    add_post(
        batch,
        ctx,
        post_id=post_id,
        author_key=author_key,
        unique_id=unique_id,
        description=item.get("text"),
        created_at=created_at,
        music_id=music_id,
        duration_s=None if duration is None else min(duration, 2**31 - 1),
        cover_url=first(covers, "default", "origin"),
        video_url=item.get("videoUrl") if isinstance(item.get("videoUrl"), str) else None,
        region=None,
        is_ad=None,
        counts=counts,
        hashtags=tags,
        rank=rank,
    )


def _safe_ident(value: Any) -> str | None:
    try:
        return ident(value, "id")
    except BadValue:
        return None


def scraper_posts(items: list, batch: Batch, ctx: Context) -> None:
    for index, item in enumerate(items):
        batch.item(index, item, lambda b: scraper_post(item, b, ctx, rank=ctx.rank_offset + index))


# ------------------------------------------------------------------------------------ CSV

#: The columns that mark a tiktok-scraper CSV export (its header holds all of them).
CSV_MARKERS = ("id", "text", "createTime", "authorMeta.name")


def looks_like_scraper_csv(head: bytes) -> bool:
    """Does the first line of ``head`` name tiktok-scraper's columns?"""
    line = head.lstrip(b"\xef\xbb\xbf").split(b"\n", 1)[0].decode("utf-8", "replace")
    try:
        header = next(csv.reader([line]))
    except (csv.Error, StopIteration):
        return False
    return all(marker in header for marker in CSV_MARKERS)


def _unflatten(row: dict[str, str]) -> dict[str, Any]:
    """``{"authorMeta.name": "x"}`` -> ``{"authorMeta": {"name": "x"}}``; empty cells left out;
    the list columns (JSON text) decoded."""
    out: dict[str, Any] = {}
    for key, value in row.items():
        if key is None or value in (None, ""):
            continue
        if key in ("hashtags", "mentions") and value.lstrip().startswith("["):
            try:
                value = orjson.loads(value)
            except orjson.JSONDecodeError:
                raise BadValue(f"{key} is not a JSON list ({value[:40]!r})") from None
        place = out
        *parents, leaf = key.split(".")
        for part in parents:
            nested = place.get(part)
            if not isinstance(nested, dict):
                nested = place[part] = {}
            place = nested
        place[leaf] = value
    return out


def scraper_csv(data: bytes, batch: Batch, ctx: Context) -> None:
    """A tiktok-scraper CSV export: one post a row (row numbers are the item indexes)."""
    batch.shape = batch.shape or "tiktok_scraper"
    try:
        reader = csv.DictReader(io.StringIO(data.decode("utf-8-sig", "replace"), newline=""))
        rows = list(reader)
    except csv.Error as exc:
        batch.problem(f"a tiktok-scraper CSV that cannot be read ({exc})")
        return
    for index, row in enumerate(rows):
        batch.item(index, row, lambda b: scraper_post(_unflatten(row), b, ctx, rank=ctx.rank_offset + index))


# ------------------------------------------------------------------------------------ 2020 page

SCRIPT_ID = b"__NEXT_DATA__"


def is_next_data(obj: Any) -> bool:
    return isinstance(obj, dict) and isinstance(obj.get("props"), dict) and isinstance(obj["props"].get("pageProps"), dict)


def next_data(obj: dict, batch: Batch, ctx: Context) -> None:
    """A 2020 ``__NEXT_DATA__`` page: its video (``pageProps.videoData``) or its listed items."""
    props = obj["props"]["pageProps"]
    video = props.get("videoData")
    if isinstance(video, dict):
        batch.item(0, video, lambda b: video_data(video, b, ctx))
        return
    items = props.get("items")
    if isinstance(items, list):
        for index, item in enumerate(items):
            batch.item(index, item, lambda b, item=item: video_data(item, b, ctx))
        return
    status = props.get("statusCode")
    batch.problem(
        f"a __NEXT_DATA__ page without videoData or items (statusCode {status!r}; keys: {', '.join(list(props)[:8])})"
        if status not in (None, 0)
        else f"a __NEXT_DATA__ page without videoData or items (keys: {', '.join(list(props)[:8])})"
    )


def video_data(video: Any, batch: Batch, ctx: Context) -> None:
    """``{itemInfos, authorInfos, musicInfos, authorStats, challengeInfoList, textExtra}`` (2020)."""
    if not isinstance(video, dict) or not isinstance(video.get("itemInfos"), dict):
        raise BadValue("videoData without itemInfos")
    info = video["itemInfos"]
    post_id = ident(info.get("id"), "itemInfos.id", required=True)
    author = video.get("authorInfos") if isinstance(video.get("authorInfos"), dict) else {}
    author_id = ident(first(author, "userId") or info.get("authorId"), "authorInfos.userId")
    unique_id = text(author.get("uniqueId"))
    stats = video.get("authorStats") if isinstance(video.get("authorStats"), dict) else {}
    author_counts = {
        "followers": count(stats.get("followerCount"), "authorStats.followerCount"),
        "following": count(stats.get("followingCount"), "authorStats.followingCount"),
        "hearts": count(stats.get("heartCount"), "authorStats.heartCount"),
        "videos": count(stats.get("videoCount"), "authorStats.videoCount"),
        "likes_given": count(stats.get("diggCount"), "authorStats.diggCount"),
    }
    counts = {col: count(info.get(key), f"itemInfos.{key}") for col, key in SCRAPER_POST_COUNTS}
    counts["saves"] = None
    created_at = epoch(info.get("createTime"), "itemInfos.createTime", bounds=ctx.bounds)
    music = video.get("musicInfos") if isinstance(video.get("musicInfos"), dict) else {}
    music_id = ident(music.get("musicId"), "musicInfos.musicId") if music else None
    media = info.get("video") if isinstance(info.get("video"), dict) else {}
    meta = media.get("videoMeta") if isinstance(media.get("videoMeta"), dict) else {}
    duration = count(meta.get("duration"), "videoMeta.duration")
    covers = listed(info.get("covers"), "covers")
    urls = listed(media.get("urls"), "video.urls")
    challenges = listed(video.get("challengeInfoList"), "challengeInfoList")
    extras = listed(video.get("textExtra"), "textExtra")

    author_key = (
        add_author(
            batch,
            ctx,
            author_id=author_id,
            unique_id=unique_id,
            nickname=author.get("nickName"),
            verified=_flag(author.get("verified")),
            sec_uid=author.get("secUid"),
            counts=author_counts,
        )
        if (author_id or unique_id)
        else None
    )
    if music_id:
        batch.add(
            "music",
            music_id=music_id,
            title=text(music.get("musicName")),
            author_name=text(music.get("authorName")),
            original=None,
            duration_s=None,
            play_url=None,
            first_seen_at=ctx.collected_at,
            last_seen_at=ctx.collected_at,
        )
    tags: list[str] = []
    for challenge in challenges:
        if isinstance(challenge, dict):
            name = add_hashtag(batch, ctx, challenge.get("challengeName"), challenge_id=_safe_ident(challenge.get("challengeId")))
            if name and name not in tags:
                tags.append(name)
    for extra in extras:
        if isinstance(extra, dict):
            name = first(extra, "HashtagName", "hashtagName")
            if name:
                tag = add_hashtag(batch, ctx, name, challenge_id=_safe_ident(first(extra, "HashtagId", "hashtagId")))
                if tag and tag not in tags:
                    tags.append(tag)
    add_post(
        batch,
        ctx,
        post_id=post_id,
        author_key=author_key,
        unique_id=unique_id,
        description=info.get("text"),
        created_at=created_at,
        music_id=music_id,
        duration_s=None if duration is None else min(duration, 2**31 - 1),
        cover_url=covers[0] if covers and isinstance(covers[0], str) else None,
        video_url=urls[0] if urls and isinstance(urls[0], str) else None,
        region=None,
        is_ad=None,
        counts=counts,
        hashtags=tags,
        rank=None,
    )
