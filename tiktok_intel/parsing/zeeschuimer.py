"""Zeeschuimer exports: NDJSON, one captured item a line, wrapped with its collection time."""

from __future__ import annotations

from typing import Any

from .batch import Batch, Context
from .fields import BadValue, epoch
from .web import item_struct


def is_wrapper(obj: Any) -> bool:
    return isinstance(obj, dict) and "timestamp_collected" in obj and isinstance(obj.get("data"), dict)


def comment_line(obj: Any, batch: Batch, ctx: Context) -> None:
    """A Zeeschuimer record holding a captured web comment."""
    from .comments import web_comment

    collected_at = epoch(obj["timestamp_collected"], "timestamp_collected", required=True, bounds=ctx.bounds)
    own = Context(collected_at=collected_at, source=ctx.source, run_id=ctx.run_id, request=ctx.request, bounds=ctx.bounds)
    web_comment(obj["data"], batch, own)


def line(obj: Any, batch: Batch, ctx: Context) -> None:
    """One Zeeschuimer record; its own ``timestamp_collected`` is the collection time."""
    if not is_wrapper(obj):
        raise BadValue("not a Zeeschuimer record (no timestamp_collected / data)")
    platform = str(obj.get("source_platform") or "tiktok.com")
    if "tiktok" not in platform:
        raise BadValue(f"not a TikTok item (source_platform={platform[:40]})")
    # Zeeschuimer's own collection time (milliseconds), as plausible as a creation time must be
    collected_at = epoch(obj["timestamp_collected"], "timestamp_collected", required=True, bounds=ctx.bounds)
    own = Context(
        collected_at=collected_at,
        source=ctx.source,
        hashtag=ctx.hashtag,
        tracked=ctx.tracked,
        run_id=ctx.run_id,
        request=ctx.request,
        bounds=ctx.bounds,
    )
    item_struct(obj["data"], batch, own)
