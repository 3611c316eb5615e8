"""Comments and replies: the web comment list (``/api/comment/list/`` and ``/api/comment/list/reply/``:
``{comments: [{cid, aweme_id, reply_id, text, digg_count, reply_comment_total, comment_language,
create_time, user{uid, unique_id, nickname}}], cursor, has_more}``), the Research API's
``video/comment/list`` (``data.comments[{id, video_id, parent_comment_id, text, like_count,
reply_count, create_time}]``) and Zeeschuimer's comment captures (the web item in its wrapper).

A comment is an entity (``comments``: its latest text and counts) and a snapshot of its likes and
replies (``comment_stats``). Commenters are not added to ``authors``: that table holds the authors
of posts (their trends and reports); a comment keeps its author's id, unique id and nickname.
"""

from __future__ import annotations

from typing import Any

from .batch import Batch, Context
from .fields import BadValue, count, epoch, first, ident, text

#: Keys that mark a web comment (one is enough beside ``cid``).
WEB_COMMENT_KEYS = ("aweme_id", "reply_comment_total", "comment_language", "reply_id")


def is_web_comment(obj: Any) -> bool:
    return isinstance(obj, dict) and "cid" in obj and any(k in obj for k in WEB_COMMENT_KEYS)


def add_comment(
    batch: Batch,
    ctx: Context,
    *,
    comment_id: str,
    post_id: str | None,
    parent_id: str | None,
    author_id: str | None,
    author_unique_id: str | None,
    author_nickname: Any,
    body: Any,
    language: Any,
    created_at,
    likes: int | None,
    replies: int | None,
) -> None:
    batch.add(
        "comments",
        comment_id=comment_id,
        post_id=post_id,
        parent_id=parent_id,
        author_id=author_id,
        author_unique_id=text(author_unique_id),
        author_nickname=text(author_nickname),
        text=text(body),
        language=text(language) or None,
        created_at=created_at,
        likes=likes,
        replies=replies,
        source=ctx.source,
        first_seen_at=ctx.collected_at,
        last_seen_at=ctx.collected_at,
    )
    if likes is not None or replies is not None:
        batch.add("comment_stats", comment_id=comment_id, collected_at=ctx.collected_at, likes=likes, replies=replies)


def web_comment(item: Any, batch: Batch, ctx: Context) -> None:
    """One web comment (or reply: ``reply_id`` is the comment it answers, ``"0"`` for none)."""
    if not isinstance(item, dict):
        raise BadValue(f"comment is a {type(item).__name__}, not an object")
    comment_id = ident(item.get("cid"), "cid", required=True)
    post_id = ident(item.get("aweme_id"), "aweme_id")
    parent = item.get("reply_id")
    parent_id = None if parent in (None, "", "0", 0) else ident(parent, "reply_id")
    user = item.get("user") if isinstance(item.get("user"), dict) else {}
    author_id = ident(first(user, "uid", "id"), "user.uid")
    likes = count(item.get("digg_count"), "digg_count")
    replies = count(item.get("reply_comment_total"), "reply_comment_total")
    created_at = epoch(item.get("create_time"), "create_time", bounds=ctx.bounds)
    add_comment(
        batch,
        ctx,
        comment_id=comment_id,
        post_id=post_id,
        parent_id=parent_id,
        author_id=author_id,
        author_unique_id=first(user, "unique_id", "uniqueId"),
        author_nickname=user.get("nickname"),
        body=item.get("text"),
        language=item.get("comment_language"),
        created_at=created_at,
        likes=likes,
        replies=replies,
    )
    # replies TikTok inlines under a comment (``reply_comment``): comments of their own
    inline = item.get("reply_comment")
    if isinstance(inline, list):
        for reply in inline:
            if isinstance(reply, dict):
                web_comment({"aweme_id": item.get("aweme_id"), "reply_id": item.get("cid"), **reply}, batch, ctx)


def web_comment_list(comments: Any, batch: Batch, ctx: Context) -> None:
    if comments in (None, ""):
        comments = []
    if not isinstance(comments, list):
        batch.problem(f"comments is a {type(comments).__name__}, not a list ({str(comments)[:40]!r})")
        return
    for index, item in enumerate(comments):
        batch.item(index, item, lambda b: web_comment(item, b, ctx))


def research_comment(item: Any, batch: Batch, ctx: Context) -> None:
    """One Research API comment; a ``parent_comment_id`` equal to the video's id means top level."""
    if not isinstance(item, dict):
        raise BadValue(f"comment is a {type(item).__name__}, not an object")
    comment_id = ident(item.get("id"), "id", required=True)
    post_id = ident(item.get("video_id"), "video_id")
    parent = ident(item.get("parent_comment_id"), "parent_comment_id")
    add_comment(
        batch,
        ctx,
        comment_id=comment_id,
        post_id=post_id,
        parent_id=None if parent == post_id else parent,
        author_id=None,
        author_unique_id=None,
        author_nickname=None,
        body=item.get("text"),
        language=None,
        created_at=epoch(item.get("create_time"), "create_time", bounds=ctx.bounds),
        likes=count(item.get("like_count"), "like_count"),
        replies=count(item.get("reply_count"), "reply_count"),
    )


def research_comment_page(data: Any, batch: Batch, ctx: Context) -> None:
    if not isinstance(data, dict):
        batch.problem(f"data is a {type(data).__name__}, not an object ({str(data)[:40]!r})")
        return
    comments = data.get("comments")
    if comments in (None, ""):
        comments = []
    if not isinstance(comments, list):
        batch.problem(f"data.comments is a {type(comments).__name__}, not a list ({str(comments)[:40]!r})")
        return
    for index, item in enumerate(comments):
        batch.item(index, item, lambda b: research_comment(item, b, ctx))
