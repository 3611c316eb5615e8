"""The world's objects in TikTok's own response shapes (see ``../shared/fixtures``):
web ``itemStruct`` (rounded ``stats`` and exact ``statsV2`` strings), ``challengeInfo``,
``userInfo``, the video page's ``__UNIVERSAL_DATA_FOR_REHYDRATION__``, and Research API videos
and user info.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import html
import json
from typing import Any

from . import media
from .world import Author, Hashtag, Post, World, tiktok_rounded

_POST_KEYS = (
    ("playCount", "views"),
    ("diggCount", "likes"),
    ("commentCount", "comments"),
    ("shareCount", "shares"),
    ("collectCount", "saves"),
)


def epoch_seconds(t: dt.datetime) -> int:
    return int(t.replace(tzinfo=dt.UTC).timestamp())


def signature(*parts: object) -> str:
    return hashlib.sha256(":".join(map(str, parts)).encode()).hexdigest()[:28]


def cover_url(base: str, post: Post, t: dt.datetime, hours_valid: float = 6.0) -> str:
    """A cover URL like TikTok's: signed, and expiring (``x-expires``) a few hours after ``t``."""
    expires = epoch_seconds(t) + int(hours_valid * 3600)
    return (
        f"{base}/obj/tos-maliva-p-0068/{post.post_id}~tplv-photomode-zoomcover:720:720.jpeg"
        f"?x-expires={expires}&x-signature={signature(post.post_id, expires)}&shp=a5d48078"
    )


def author_object(author: Author, base: str) -> dict[str, Any]:
    avatar = f"{base}/avatar/{author.author_id}.jpeg"
    return {
        "avatarLarger": avatar,
        "avatarMedium": avatar,
        "avatarThumb": avatar,
        "commentSetting": 0,
        "downloadSetting": 0,
        "duetSetting": 0,
        "ftc": False,
        "id": author.author_id,
        "isADVirtual": False,
        "isEmbedBanned": False,
        "nickname": author.nickname,
        "openFavorite": False,
        "privateAccount": False,
        "relation": 0,
        "secUid": author.sec_uid,
        "secret": False,
        "signature": author.signature,
        "stitchSetting": 0,
        "ttSeller": False,
        "uniqueId": author.unique_id,
        "verified": author.verified,
    }


def _challenge(tag: Hashtag) -> dict[str, Any]:
    return {
        "coverLarger": "",
        "coverMedium": "",
        "coverThumb": "",
        "desc": tag.description,
        "id": tag.challenge_id,
        "isCommerce": False,
        "profileLarger": "",
        "profileMedium": "",
        "profileThumb": "",
        "stats": {"videoCount": 0, "viewCount": 0},
        "title": tag.name,
    }


def _text_extra(post: Post, world: World) -> list[dict[str, Any]]:
    extras = []
    for tag in post.hashtags:
        start = post.description.find("#" + tag)
        extras.append(
            {
                "awemeId": "",
                "end": start + len(tag) + 1,
                "hashtagId": world.hashtags[tag].challenge_id,
                "hashtagName": tag,
                "isCommerce": False,
                "secUid": "",
                "start": start,
                "subType": 0,
                "type": 1,
                "userId": "",
                "userUniqueId": "",
            }
        )
    return extras


def item_struct(world: World, post: Post, t: dt.datetime, base: str, cover_base: str | None = None) -> dict[str, Any]:
    """One web ``itemStruct`` at time ``t``."""
    counts = post.counts(t)
    author_stats = world.author_stats(post.author, t)
    cover = cover_url(cover_base or base, post, t)
    play = f"{base}/video/tos/{post.post_id}/?a=1988&expire={epoch_seconds(t) + 21600}&signature={signature('v', post.post_id)}"
    extras = _text_extra(post, world)
    item = {
        "AIGCDescription": "",
        "BAInfo": "",
        "adAuthorization": False,
        "adLabelVersion": 0,
        "aigcLabelType": 0,
        "author": author_object(post.author, base),
        "authorStats": {
            "diggCount": tiktok_rounded(author_stats["diggCount"]),
            "followerCount": tiktok_rounded(author_stats["followerCount"]),
            "followingCount": author_stats["followingCount"],
            "friendCount": author_stats["friendCount"],
            "heart": tiktok_rounded(author_stats["heartCount"]),
            "heartCount": tiktok_rounded(author_stats["heartCount"]),
            "videoCount": tiktok_rounded(author_stats["videoCount"]),
        },
        "challenges": [_challenge(world.hashtags[tag]) for tag in post.hashtags],
        "collected": False,
        "contents": [{"desc": post.description, "textExtra": extras}],
        "createTime": epoch_seconds(post.created_at),
        "desc": post.description,
        "digged": False,
        "diversificationId": 10000 + len(post.topic),
        "duetDisplay": 0,
        "duetEnabled": True,
        "duetInfo": {"duetFromId": "0"},
        "forFriend": False,
        "id": post.post_id,
        "isAd": False,
        "itemCommentStatus": 0,
        "itemMute": False,
        "item_control": {"can_repost": True},
        "locationCreated": post.region,
        "music": {
            "album": "",
            "authorName": post.author.nickname,
            "coverLarge": "",
            "coverMedium": "",
            "coverThumb": "",
            "duration": post.duration_s,
            "id": post.music_id,
            "original": True,
            "playUrl": f"{base}/music/{post.music_id}.mp3",
            "title": f"originalljud - {post.author.unique_id}",
        },
        "officalItem": False,
        "originalItem": False,
        "playlistId": "",
        "privateItem": False,
        "secret": False,
        "shareEnabled": True,
        "showNotPass": False,
        "stats": {k: tiktok_rounded(counts[v]) for k, v in _POST_KEYS},
        "statsV2": {**{k: str(counts[v]) for k, v in _POST_KEYS}, "repostCount": "0"},
        "stitchDisplay": 0,
        "stitchEnabled": True,
        "textExtra": extras,
        "video": {
            "VQScore": "60.2",
            "bitrate": 404684,
            "codecType": "h264",
            "cover": cover,
            "originCover": cover,
            "dynamicCover": cover,
            "definition": "540p",
            "downloadAddr": play,
            "duration": post.duration_s,
            "format": "mp4",
            "height": 1024,
            "width": 576,
            "id": post.post_id,
            "playAddr": play,
            "ratio": "540p",
        },
        "vl1": False,
    }
    return media.decorate(item, post, t, base, cover_base)  # video variants, slides, captions


def item_list_page(
    world: World, posts: list[Post], t: dt.datetime, base: str, *, cursor: int, has_more: bool, cover_base: str | None = None
) -> dict[str, Any]:
    """``/api/challenge/item_list/``: ``{cursor, hasMore, itemList, statusCode, ...}`` (cursor as TikTok sends it: a string)."""
    return {
        "cursor": str(cursor),
        "extra": {"fatal_item_ids": [], "logid": signature("log", cursor, epoch_seconds(t)), "now": epoch_seconds(t) * 1000},
        "hasMore": has_more,
        "itemList": [item_struct(world, p, t, base, cover_base) for p in posts],
        "log_pb": {"impr_id": signature("impr", cursor)},
        "statusCode": 0,
        "status_code": 0,
        "status_msg": "",
    }


def challenge_detail(world: World, tag: Hashtag, t: dt.datetime) -> dict[str, Any]:
    stats = world.hashtag_stats(tag.name, t)
    return {
        "challengeInfo": {
            "challenge": {**_challenge(tag), "stats": {"videoCount": 0, "viewCount": 0}},
            "stats": {"videoCount": tiktok_rounded(stats["videoCount"]), "viewCount": tiktok_rounded(stats["viewCount"])},
            "statsV2": {"videoCount": str(stats["videoCount"]), "viewCount": str(stats["viewCount"])},
        },
        "extra": {"now": epoch_seconds(t) * 1000},
        "log_pb": {"impr_id": signature("c", tag.name)},
        "shareMeta": {"desc": f"{tiktok_rounded(stats['viewCount'])} visningar", "title": "#" + tag.name},
        "statusCode": 0,
        "statusMsg": "",
    }


def user_info(world: World, author: Author, t: dt.datetime, base: str) -> dict[str, Any]:
    stats = world.author_stats(author, t)
    return {
        "user": {**author_object(author, base), "createTime": epoch_seconds(world.epoch) - 400 * 86400, "shortId": ""},
        "stats": {**{k: tiktok_rounded(v) for k, v in stats.items()}, "heart": tiktok_rounded(stats["heartCount"])},
        "statsV2": {**{k: str(v) for k, v in stats.items()}, "heart": str(stats["heartCount"])},
    }


def user_detail(world: World, author: Author, t: dt.datetime, base: str) -> dict[str, Any]:
    return {
        "extra": {"now": epoch_seconds(t) * 1000},
        "log_pb": {"impr_id": signature("u", author.unique_id)},
        "shareMeta": {"desc": "", "title": author.nickname},
        "statusCode": 0,
        "statusMsg": "",
        "userInfo": user_info(world, author, t, base),
    }


def video_page_html(world: World, post: Post, t: dt.datetime, base: str, cover_base: str | None = None) -> str:
    """A video page with its data embedded as ``__UNIVERSAL_DATA_FOR_REHYDRATION__``, like tiktok.com's."""
    data = {
        "__DEFAULT_SCOPE__": {
            "webapp.app-context": {"language": "sv-SE", "region": "SE"},
            "webapp.video-detail": {
                "itemInfo": {"itemStruct": item_struct(world, post, t, base, cover_base)},
                "shareMeta": {"title": post.author.nickname, "desc": post.description},
                "statusCode": 0,
                "statusMsg": "",
            },
        }
    }
    embedded = json.dumps(data, ensure_ascii=False).replace("</", "<\\/")
    return (
        '<!DOCTYPE html><html lang="sv-SE"><head><meta charset="utf-8"><title>'
        + html.escape(f"{post.description} | TikTok")
        + '</title></head><body><div id="app"></div>'
        + f'<script id="__UNIVERSAL_DATA_FOR_REHYDRATION__" type="application/json">{embedded}</script></body></html>'
    )


RESEARCH_VIDEO_FIELDS = (
    "id",
    "video_description",
    "create_time",
    "region_code",
    "share_count",
    "view_count",
    "like_count",
    "comment_count",
    "music_id",
    "hashtag_names",
    "username",
    "effect_ids",
    "playlist_id",
    "voice_to_text",
    "favorites_count",
    "video_duration",
    "is_stem_verified",
)


def research_video(post: Post, t: dt.datetime, fields: set[str] | None = None) -> dict[str, Any]:
    """A Research API video: ids as JSON integers, as the API sends them."""
    counts = post.counts(t)
    video = {
        "id": int(post.post_id),
        "video_description": post.description,
        "create_time": epoch_seconds(post.created_at),
        "region_code": post.region,
        "share_count": counts["shares"],
        "view_count": counts["views"],
        "like_count": counts["likes"],
        "comment_count": counts["comments"],
        "favorites_count": counts["saves"],
        "music_id": int(post.music_id),
        "hashtag_names": list(post.hashtags),
        "username": post.author.unique_id,
        "video_duration": post.duration_s,
        **media.research_fields(post),  # voice_to_text
    }
    if fields:
        video = {k: v for k, v in video.items() if k in fields or k == "id"}
    return video


def research_ok(data: dict[str, Any], log_id: str) -> dict[str, Any]:
    return {"data": data, "error": {"code": "ok", "message": "", "log_id": log_id}}


def research_error(code: str, message: str, log_id: str) -> dict[str, Any]:
    return {"data": {}, "error": {"code": code, "message": message, "log_id": log_id}}


def research_user(world: World, author: Author, t: dt.datetime, base: str) -> dict[str, Any]:
    stats = world.author_stats(author, t)
    return {
        "display_name": author.nickname,
        "bio_description": author.signature,
        "avatar_url": f"{base}/avatar/{author.author_id}.jpeg",
        "is_verified": author.verified,
        "follower_count": stats["followerCount"],
        "following_count": stats["followingCount"],
        "likes_count": stats["heartCount"],
        "video_count": stats["videoCount"],
    }
