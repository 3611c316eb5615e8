"""Parsers: raw bytes of any supported TikTok shape -> a :class:`Batch` of flat records.

Pure functions: they never mutate their input, take the collection time in a :class:`Context`,
and turn anything they cannot read into a reject with a reason. :func:`sniff` tells, cheaply,
whether a file is TikTok data at all (for imports).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import orjson

from . import aweme, research, web, zeeschuimer
from .batch import Batch, Context, Reject
from .fields import BadValue

__all__ = ["Batch", "Context", "Reject", "BadValue", "SHAPES", "detect", "parse_bytes", "iter_parse", "sniff"]

#: Every shape we accept, as users would recognise it.
SHAPES = {
    "web_item_list": "TikTok web API feed ({itemList: [itemStruct...]})",
    "web_items": "a JSON list of web itemStruct objects",
    "web_item": "one web itemStruct (or {itemInfo: {itemStruct}})",
    "web_user": "web userInfo ({user, stats, statsV2}), also as a list",
    "web_challenge": "web challengeInfo ({challenge, stats})",
    "sigi_state": "page-embedded SIGI_STATE JSON (or the HTML page holding it)",
    "universal_data": "page-embedded __UNIVERSAL_DATA_FOR_REHYDRATION__ JSON (or the HTML page holding it)",
    "aweme_list": "mobile-app aweme items ({data|aweme_list: [...]}, a list, or {aweme_detail})",
    "research_videos": "Research API video/query response",
    "research_user": "Research API user/info response",
    "research_comments": "Research API comment list (recognised, not stored)",
    "zeeschuimer": "Zeeschuimer NDJSON export (or one of its records)",
}

_SCRIPT = re.compile(rb'<script[^>]*id="(SIGI_STATE|__UNIVERSAL_DATA_FOR_REHYDRATION__)"[^>]*>(.*?)</script>', re.S)


def detect(obj: Any) -> str | None:
    """The shape name of a decoded JSON document, or None."""
    if isinstance(obj, list):
        head = next((x for x in obj if isinstance(x, dict)), None)
        if head is None:
            return "web_items" if not obj else None
        if "aweme_id" in head:
            return "aweme_list"
        if zeeschuimer.is_wrapper(head):
            return "zeeschuimer"
        if isinstance(head.get("user"), dict):
            return "web_user"
        if "id" in head and ("stats" in head or "author" in head or "desc" in head):
            return "web_items"
        return None
    if not isinstance(obj, dict):
        return None
    if "itemList" in obj or ("statusCode" in obj and "hasMore" in obj):
        return "web_item_list"
    if "ItemModule" in obj or "UserModule" in obj:
        return "sigi_state"
    if "__DEFAULT_SCOPE__" in obj:
        return "universal_data"
    if zeeschuimer.is_wrapper(obj):
        return "zeeschuimer"
    if "itemInfo" in obj or ("id" in obj and ("stats" in obj or "author" in obj) and "desc" in obj):
        return "web_item"
    if isinstance(obj.get("userInfo"), dict) or isinstance(obj.get("user"), dict):
        return "web_user"
    if isinstance(obj.get("challengeInfo"), dict) or isinstance(obj.get("challenge"), dict):
        return "web_challenge"
    if "aweme_list" in obj or "aweme_detail" in obj or "aweme_id" in obj:
        return "aweme_list"
    data = obj.get("data")
    if isinstance(data, list) and data and isinstance(data[0], dict) and "aweme_id" in data[0]:
        return "aweme_list"
    if isinstance(data, dict) and "error" in obj:
        if "videos" in data:
            return "research_videos"
        if "comments" in data:
            return "research_comments"
        return "research_user"
    if isinstance(obj.get("error"), dict) and "data" in obj:
        return "research_videos"
    return None


def _keys(obj: Any) -> str:
    if isinstance(obj, dict):
        return "keys: " + ", ".join(list(obj)[:8])
    return type(obj).__name__


def parse_json(obj: Any, ctx: Context, batch: Batch | None = None) -> Batch:
    """Parse one decoded JSON document into ``batch`` (a new one by default)."""
    batch = batch if batch is not None else Batch()
    shape = detect(obj)
    batch.shape = batch.shape or shape
    if shape is None:
        batch.reject(-1, f"JSON of an unknown shape ({_keys(obj)})", obj)
    elif shape == "web_item_list":
        items = obj.get("itemList")
        if items is None and obj.get("statusCode") not in (0, None):
            batch.reject(
                -1,
                f"TikTok answered statusCode {obj.get('statusCode')} ({obj.get('statusMsg') or obj.get('status_msg') or 'no message'})",
                obj,
            )
        elif items is not None and not isinstance(items, list):
            batch.reject(-1, "itemList is not a list", obj)
        else:
            web.item_list(items or [], batch, ctx)
    elif shape == "web_items":
        web.item_list(obj, batch, ctx)
    elif shape == "web_item":
        item = (obj.get("itemInfo") or {}).get("itemStruct") if "itemInfo" in obj else obj
        batch.item(0, item, lambda b: web.item_struct(item, b, ctx))
    elif shape == "web_user":
        infos = obj if isinstance(obj, list) else [obj.get("userInfo") or obj]
        for index, info in enumerate(infos):
            batch.item(index, info, lambda b: web.user_info(info, b, ctx))
    elif shape == "web_challenge":
        info = obj.get("challengeInfo") or obj
        batch.item(0, info, lambda b: web.challenge_info(info, b, ctx))
    elif shape == "sigi_state":
        web.sigi_state(obj, batch, ctx)
    elif shape == "universal_data":
        web.universal_data(obj, batch, ctx)
    elif shape == "aweme_list":
        if isinstance(obj, list):
            items = obj
        elif "aweme_detail" in obj:
            items = [obj["aweme_detail"]]
        elif "aweme_id" in obj:
            items = [obj]
        else:
            items = obj.get("aweme_list") if "aweme_list" in obj else obj.get("data")
        aweme.aweme_list(items or [], batch, ctx)
    elif shape in ("research_videos", "research_user", "research_comments"):
        error = obj.get("error") or {}
        if isinstance(error, dict) and error.get("code") not in (None, "ok"):
            batch.reject(-1, f"Research API error {error.get('code')}: {error.get('message') or 'no message'}", obj)
        elif shape == "research_videos":
            research.video_page(obj.get("data") or {}, batch, ctx)
        elif shape == "research_user":
            research.user(obj.get("data") or {}, batch, ctx)
    elif shape == "zeeschuimer":
        records = obj if isinstance(obj, list) else [obj]
        for index, record in enumerate(records):
            batch.item(index, record, lambda b: zeeschuimer.line(record, b, ctx))
    return batch


def _strip_bom(data: bytes) -> bytes:
    return data[3:] if data.startswith(b"\xef\xbb\xbf") else data


def _looks_like_ndjson(data: bytes) -> bool:
    first_line, _, rest = data.partition(b"\n")
    if not rest.strip():
        return False
    try:
        return isinstance(orjson.loads(first_line), dict)
    except orjson.JSONDecodeError:
        return False


def iter_parse(data: bytes, ctx: Context, chunk_items: int = 20_000) -> Iterator[Batch]:
    """Parse a page; NDJSON comes out in chunks of ``chunk_items`` lines (rejects keep line indexes)."""
    data = _strip_bom(data)
    stripped = data.strip()
    if not stripped:
        batch = Batch()
        batch.reject(-1, "empty body (TikTok sent nothing: rate limited or blocked?)")
        yield batch
        return
    if stripped[:1] == b"<":
        yield _parse_html(stripped, ctx)
        return
    try:
        obj = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        if _looks_like_ndjson(stripped):
            yield from _iter_ndjson(stripped, ctx, chunk_items)
            return
        batch = Batch()
        batch.reject(-1, f"truncated or invalid JSON ({exc})", data)
        yield batch
        return
    yield parse_json(obj, ctx)


def parse_bytes(data: bytes, ctx: Context) -> Batch:
    """Parse a whole page into one batch."""
    total = Batch()
    for batch in iter_parse(data, ctx, chunk_items=1 << 62):
        total.extend(batch)
    return total


def _iter_ndjson(data: bytes, ctx: Context, chunk_items: int) -> Iterator[Batch]:
    batch = Batch()
    batch.shape = "zeeschuimer"
    pending = 0
    for index, raw_line in enumerate(data.split(b"\n")):
        if not raw_line.strip():
            continue
        try:
            obj = orjson.loads(raw_line)
        except orjson.JSONDecodeError as exc:
            batch.items_read += 1
            batch.reject(index, f"line {index + 1}: truncated or invalid JSON ({exc})", raw_line)
        else:
            if zeeschuimer.is_wrapper(obj) or not isinstance(obj, dict):
                batch.item(index, obj, lambda b: zeeschuimer.line(obj, b, ctx))
            else:  # NDJSON of plain itemStructs
                batch.item(index, obj, lambda b: web.item_struct(obj, b, ctx))
        pending += 1
        if pending >= chunk_items:
            yield batch
            batch, pending = Batch(), 0
            batch.shape = "zeeschuimer"
    yield batch


def _parse_html(data: bytes, ctx: Context) -> Batch:
    batch = Batch()
    found = False
    for match in _SCRIPT.finditer(data):
        found = True
        try:
            obj = orjson.loads(match.group(2))
        except orjson.JSONDecodeError as exc:
            batch.reject(-1, f"HTML page whose {match.group(1).decode()} script is not valid JSON ({exc})", match.group(2))
            continue
        parse_json(obj, ctx, batch)
    if not found:
        lowered = data[:20000].lower()
        hint = (
            "captcha" if b"captcha" in lowered or b"verify" in lowered else "login wall" if b"login" in lowered else "no TikTok data in it"
        )
        batch.reject(-1, f"HTML page where JSON was expected ({hint})", data)
    return batch


def sniff(head: bytes) -> str | None:
    """A cheap guess from a file's first bytes: 'json', 'ndjson', 'html', 'empty', or None (not TikTok data)."""
    head = _strip_bom(head).lstrip()
    if not head:
        return "empty"
    if head[:1] in (b"{", b"["):
        return "json"
    if head[:1] == b"<" and (b"<html" in head[:2000].lower() or b"<!doctype" in head[:200].lower()):
        return "html"
    return None
