"""The offline TikTok's routes for what the desk follows besides hashtags: a profile's posts,
search, comments and replies (web), and the Research API's comment list, with TikTok's response
keys and pagination.

* ``/api/post/item_list/?secUid=&count=&cursor=``: a profile's posts, newest first;
  ``{cursor, hasMore, hasMorePrevious, itemList, statusCode}``; ``cursor`` is the creation time
  (milliseconds) of the last post sent, and the next page holds the older ones;
* ``/api/search/item/full/?keyword=&offset=&count=`` (``{item_list, has_more, cursor, status_code}``)
  and ``/api/search/general/full/?keyword=&offset=&count=`` (``{data: [{type: 1, item}], has_more,
  cursor, status_code}``): posts whose caption holds every word, newest first;
* ``/api/comment/list/?aweme_id=&count=&cursor=`` and ``/api/comment/list/reply/?item_id=&comment_id=``:
  ``{comments, cursor, has_more (0/1), total, status_code}``, top comments by likes;
* ``/v2/research/video/comment/list/`` (POST ``{video_id, max_count, cursor}``).

Faults (:func:`arm`): ``empty_page`` (a page with no items but ``has_more`` true), ``no_cursor``
(``has_more`` true and no cursor), and in the world itself: private accounts (:data:`PRIVATE`
on the server, ``tiktok.private_accounts``) and removed comments (every comment :func:`removed`
says so vanishes six hours after it was written, with its replies).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import random
from typing import Any

from . import shapes
from .world import Author, Post, World

#: Comments a post has at most in the offline world (TikTok has more; enough to page through).
MAX_COMMENTS = 120
MAX_REPLIES = 12
_PHRASES = (
    "Så sant!",
    "Vem mer kollar detta 2026?",
    "Haha 😂😂",
    "Det här är fejk, källa?",
    "Äntligen någon som säger det",
    "Klimatet måste gå först",
    "Vattenbrist i hela länet nu",
    "Bästa klippet idag 🔥",
    "Håller inte med alls",
    "Fler sådana här tack",
    "Var är detta?",
    "Märklig vinkel på nyheten",
)


@dataclasses.dataclass(frozen=True)
class Comment:
    comment_id: str
    post_id: str
    parent_id: str | None
    author: Author
    text: str
    language: str
    created_at: dt.datetime
    base_likes: int
    reply_count: int

    def likes(self, t: dt.datetime) -> int:
        hours = max(0.0, (t - self.created_at).total_seconds() / 3600)
        return int(self.base_likes * min(1.0, hours / 24 + 0.1))


def _rng(*parts: object) -> random.Random:
    return random.Random(int(hashlib.sha256(":".join(map(str, parts)).encode()).hexdigest()[:16], 16))


def removed(comment_id: str) -> bool:
    """Is this a comment that TikTok removes (six hours after it was written)?"""
    return int(comment_id) % 29 == 3


def _visible(c: Comment, t: dt.datetime) -> bool:
    return c.created_at <= t and not (removed(c.comment_id) and t >= c.created_at + dt.timedelta(hours=6))


def comments(world: World, post: Post, t: dt.datetime, *, removed_too: bool = False) -> list[Comment]:
    """A post's top-level comments visible at ``t``, most liked first (ties: newest first);
    ``removed_too``: also those TikTok removed by then."""
    rng = _rng(world.seed, "comments", post.post_id)
    n = min(MAX_COMMENTS, 3 + rng.randint(0, max(1, int(post.peak_views**0.35))))
    out = []
    for i in range(n):
        created = post.created_at + dt.timedelta(minutes=rng.randint(1, 60 * 48))
        author = world.authors[rng.randrange(len(world.authors))]
        out.append(
            Comment(
                comment_id=str(7_300_000_000_000_000_000 + int(post.post_id) % 10**12 * 1000 + i),
                post_id=post.post_id,
                parent_id=None,
                author=author,
                text=rng.choice(_PHRASES),
                language="sv",
                created_at=created,
                base_likes=int(rng.paretovariate(1.2) * 3) - 3,
                reply_count=rng.choice((0, 0, 0, 0, 1, 2, 5, MAX_REPLIES)),
            )
        )
    shown = [c for c in out if c.created_at <= t and (removed_too or _visible(c, t))]
    shown.sort(key=lambda c: (-c.likes(t), -c.created_at.timestamp(), c.comment_id))
    return shown


def replies(world: World, parent: Comment, t: dt.datetime) -> list[Comment]:
    """The replies to ``parent`` visible at ``t``, oldest first (as TikTok lists them)."""
    if not _visible(parent, t):
        return []
    rng = _rng(world.seed, "replies", parent.comment_id)
    out = []
    for i in range(parent.reply_count):
        out.append(
            Comment(
                comment_id=str(7_400_000_000_000_000_000 + int(parent.comment_id) % 10**14 * 100 + i),
                post_id=parent.post_id,
                parent_id=parent.comment_id,
                author=world.authors[rng.randrange(len(world.authors))],
                text=rng.choice(_PHRASES),
                language="sv",
                created_at=parent.created_at + dt.timedelta(minutes=rng.randint(1, 600)),
                base_likes=rng.randint(0, 20),
                reply_count=0,
            )
        )
    return sorted((c for c in out if _visible(c, t)), key=lambda c: (c.created_at, c.comment_id))


def comment_json(c: Comment, t: dt.datetime, base: str) -> dict[str, Any]:
    """A comment in the web comment list's item shape."""
    return {
        "author_pin": False,
        "aweme_id": c.post_id,
        "cid": c.comment_id,
        "collect_stat": 0,
        "comment_language": c.language,
        "create_time": shapes.epoch_seconds(c.created_at),
        "digg_count": c.likes(t),
        "is_author_digged": False,
        "label_list": None,
        "no_show": False,
        "reply_comment": None,
        "reply_comment_total": c.reply_count if c.parent_id is None else 0,
        "reply_id": c.parent_id or "0",
        "reply_to_reply_id": "0",
        "share_info": {"url": f"{base}/@{c.author.unique_id}/video/{c.post_id}?share_comment_id={c.comment_id}"},
        "status": 1,
        "stick_position": 0,
        "text": c.text,
        "text_extra": [],
        "user": {
            "avatar_thumb": {"uri": c.author.author_id, "url_list": [f"{base}/avatar/{c.author.author_id}.jpeg"]},
            "nickname": c.author.nickname,
            "sec_uid": c.author.sec_uid,
            "uid": c.author.author_id,
            "unique_id": c.author.unique_id,
        },
        "user_buried": False,
        "user_digged": 0,
    }


# ------------------------------------------------------------------------------------ faults


def arm(tiktok: Any, kind: str, times: int = 1) -> None:
    """Make the next ``times`` listing pages answer with the fault ``kind`` (``empty_page`` or ``no_cursor``)."""
    if kind not in ("empty_page", "no_cursor"):
        raise ValueError(f"unknown listing fault {kind!r}: empty_page or no_cursor")
    with tiktok._lock:
        _faults(tiktok)[kind] = _faults(tiktok).get(kind, 0) + times


def _faults(tiktok: Any) -> dict[str, int]:
    if not hasattr(tiktok, "listing_faults"):
        tiktok.listing_faults = {}
    return tiktok.listing_faults


def _take(tiktok: Any) -> str | None:
    with tiktok._lock:
        faults = _faults(tiktok)
        for kind in ("empty_page", "no_cursor"):
            if faults.get(kind):
                faults[kind] -= 1
                return kind
    return None


def _private(tiktok: Any, author: Author) -> bool:
    return author.unique_id in getattr(tiktok, "private_accounts", ())


# ------------------------------------------------------------------------------------ routes


def _int(query: dict[str, str], key: str, default: int, low: int, high: int) -> int:
    return max(low, min(high, int(query.get(key) or default)))


def web(tiktok: Any, path: str, query: dict[str, str], t: dt.datetime) -> tuple[int, Any] | None:
    """The answer (status, JSON body) to one of this module's web paths, or None for any other path."""
    world: World = tiktok.world
    base, cover_base = tiktok.base_url, tiktok.cover_base
    try:
        if path == "/api/post/item_list/":
            return _user_posts(tiktok, world, query, t, base, cover_base)
        if path in ("/api/search/item/full/", "/api/search/general/full/"):
            return _search(tiktok, world, path, query, t, base, cover_base)
        if path == "/api/comment/list/":
            return _comments(tiktok, world, query, t, base)
        if path == "/api/comment/list/reply/":
            return _replies(tiktok, world, query, t, base)
    except ValueError:
        return 200, {"status_code": 10201, "status_msg": "invalid count or cursor", "statusCode": 10201}
    if path == "/api/user/detail/":
        author = world.author(query.get("uniqueId", ""))
        if author is not None and _private(tiktok, author):
            body = shapes.user_detail(world, author, t, base)
            body["userInfo"]["user"]["privateAccount"] = True
            body["userInfo"]["user"]["secret"] = True
            return 200, body
    return None


def _posts_by_sec_uid(world: World, sec_uid: str) -> tuple[Author | None, list[Post]]:
    author = next((a for a in world.authors if a.sec_uid == sec_uid), None)
    if author is None:
        return None, []
    return author, list(world.posts_by_author.get(author.unique_id, []))


def _user_posts(tiktok: Any, world: World, query: dict[str, str], t: dt.datetime, base: str, cover_base: str) -> tuple[int, Any]:
    author, posts = _posts_by_sec_uid(world, query.get("secUid", ""))
    if author is None:
        return 200, {"statusCode": 10221, "statusMsg": "user not found", "itemList": [], "hasMore": False, "cursor": "0"}
    if _private(tiktok, author):
        return 200, {"statusCode": 10222, "statusMsg": "this account is private", "itemList": [], "hasMore": False, "cursor": "0"}
    count = _int(query, "count", 30, 1, 35)
    cursor = int(query.get("cursor") or 0)  # milliseconds: posts created before it (0: the newest)
    visible = sorted((p for p in posts if p.visible(t)), key=lambda p: (p.created_at, p.post_id), reverse=True)
    older = [p for p in visible if cursor == 0 or shapes.epoch_seconds(p.created_at) * 1000 < cursor]
    page = older[:count]
    fault = _take(tiktok)
    if fault == "empty_page":
        return 200, {"cursor": str(cursor), "hasMore": True, "hasMorePrevious": False, "itemList": [], "statusCode": 0}
    body = shapes.item_list_page(world, page, t, base, cursor=0, has_more=len(older) > len(page), cover_base=cover_base)
    body["cursor"] = str(shapes.epoch_seconds(page[-1].created_at) * 1000) if page else str(cursor)
    body["hasMorePrevious"] = False
    if fault == "no_cursor":
        del body["cursor"]
        body["hasMore"] = True
    return 200, body


def matches(post: Post, keyword: str) -> bool:
    """Does the caption hold every word of ``keyword`` (case-insensitive)?"""
    caption = post.description.lower()
    return all(word in caption for word in keyword.lower().split())


def search(world: World, keyword: str, t: dt.datetime) -> list[Post]:
    found = [p for p in world.posts if p.visible(t) and matches(p, keyword)]
    return sorted(found, key=lambda p: (p.created_at, p.post_id), reverse=True)


def _search(tiktok: Any, world: World, path: str, query: dict[str, str], t: dt.datetime, base: str, cover_base: str) -> tuple[int, Any]:
    keyword = (query.get("keyword") or "").strip()
    if not keyword:
        return 200, {"status_code": 10201, "status_msg": "keyword is required"}
    count = _int(query, "count", 12, 1, 30)
    offset = int(query.get("offset") or query.get("cursor") or 0)
    found = search(world, keyword, t)
    page = found[offset : offset + count]
    fault = _take(tiktok)
    items = [] if fault == "empty_page" else [shapes.item_struct(world, p, t, base, cover_base) for p in page]
    has_more = 1 if fault else int(offset + len(page) < len(found))
    body: dict[str, Any] = {
        "status_code": 0,
        "cursor": offset + (0 if fault == "empty_page" else len(page)),
        "has_more": has_more,
        "extra": {"now": shapes.epoch_seconds(t) * 1000, "logid": shapes.signature("s", keyword, offset)},
        "log_pb": {"impr_id": shapes.signature("search", keyword, offset)},
    }
    if path == "/api/search/general/full/":
        body["data"] = [{"type": 1, "item": item} for item in items]
    else:
        body["item_list"] = items
    if fault == "no_cursor":
        del body["cursor"]
    return 200, body


def _post(world: World, post_id: str) -> Post | None:
    return next((p for p in world.posts if p.post_id == post_id), None)


def _comment_page(tiktok: Any, listed: list[Comment], query: dict[str, str], t: dt.datetime, base: str, limit: int) -> dict[str, Any]:
    count = _int(query, "count", 20, 1, limit)
    cursor = int(query.get("cursor") or 0)
    page = listed[cursor : cursor + count]
    fault = _take(tiktok)
    body: dict[str, Any] = {
        "alias_comment_deleted": False,
        "comments": [] if fault == "empty_page" else [comment_json(c, t, base) for c in page],
        "cursor": cursor + (0 if fault == "empty_page" else len(page)),
        "extra": {"now": shapes.epoch_seconds(t) * 1000},
        "has_more": 1 if fault else int(cursor + len(page) < len(listed)),
        "log_pb": {"impr_id": shapes.signature("cm", cursor)},
        "reply_style": 2,
        "status_code": 0,
        "status_msg": "",
        "total": len(listed),
    }
    if fault == "no_cursor":
        del body["cursor"]
    return body


def _comments(tiktok: Any, world: World, query: dict[str, str], t: dt.datetime, base: str) -> tuple[int, Any]:
    post = _post(world, query.get("aweme_id", ""))
    if post is None or not post.visible(t):
        return 200, {"status_code": 0, "comments": None, "cursor": 0, "has_more": 0, "total": 0}
    return 200, _comment_page(tiktok, comments(world, post, t), query, t, base, 50)


def _replies(tiktok: Any, world: World, query: dict[str, str], t: dt.datetime, base: str) -> tuple[int, Any]:
    post = _post(world, query.get("item_id", ""))
    parent = next((c for c in comments(world, post, t) if c.comment_id == query.get("comment_id")), None) if post else None
    if parent is None:  # a removed comment (or none such): no replies, as TikTok answers
        return 200, {"status_code": 0, "comments": [], "cursor": 0, "has_more": 0, "total": 0}
    return 200, _comment_page(tiktok, replies(world, parent, t), query, t, base, 50)


def research_comments(tiktok: Any, body: Any, t: dt.datetime) -> tuple[int, Any]:
    """``/v2/research/video/comment/list/``: top-level comments and replies, ids as JSON integers."""
    log_id = tiktok._log_id()
    if not isinstance(body, dict) or not body.get("video_id"):
        return 400, shapes.research_error("invalid_params", "video_id is required", log_id)
    post = _post(tiktok.world, str(body["video_id"]))
    if post is None:
        return 400, shapes.research_error("invalid_params", f"video {body['video_id']} does not exist", log_id)
    listed = []
    for c in comments(tiktok.world, post, t):
        listed.append(c)
        listed.extend(replies(tiktok.world, c, t))
    max_count = max(1, min(100, int(body.get("max_count") or 10)))
    cursor = int(body.get("cursor") or 0)
    page = listed[cursor : cursor + max_count]
    data = {
        "comments": [
            {
                "id": int(c.comment_id),
                "video_id": int(c.post_id),
                "parent_comment_id": int(c.parent_id or c.post_id),
                "text": c.text,
                "like_count": c.likes(t),
                "reply_count": c.reply_count if c.parent_id is None else 0,
                "create_time": shapes.epoch_seconds(c.created_at),
            }
            for c in page
        ],
        "cursor": cursor + len(page),
        "has_more": cursor + len(page) < len(listed),
    }
    return 200, shapes.research_ok(data, log_id)
