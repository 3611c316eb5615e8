"""Parsers: raw bytes of any supported TikTok shape -> a :class:`Batch` of flat records.

Pure functions: they never mutate their input, take the collection time in a :class:`Context`,
and turn anything they cannot read into a reject with a reason. :func:`sniff` tells, cheaply,
whether a file is TikTok data at all (for imports).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator
from typing import Any

import orjson

from . import aweme, comments, research, scraper, web, zeeschuimer
from .batch import Batch, Context, Reject
from .fields import BadValue

__all__ = [
    "Batch",
    "Context",
    "Reject",
    "BadValue",
    "Limits",
    "SHAPES",
    "detect",
    "embedded_scripts",
    "nested_deeper",
    "parse_bytes",
    "iter_parse",
    "sniff",
]

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
    "research_comments": "Research API video/comment/list response",
    "zeeschuimer": "Zeeschuimer NDJSON export (or one of its records)",
    "web_search": "TikTok web search response ({data: [{type, item: itemStruct}], cursor, has_more})",
    "web_comments": "TikTok web comment list ({comments: [{cid, aweme_id, text, user, ...}]}), also as a list",
    "universal_scope": "a __DEFAULT_SCOPE__ saved without its wrapper ({webapp.user-detail|video-detail|challenge-detail: ...})",
    "next_data": "a 2020 page's __NEXT_DATA__ JSON ({props: {pageProps: {videoData}}}), or the HTML page holding it",
    "tiktok_scraper": "a tiktok-scraper export: a JSON list of {id, text, authorMeta, ...}, its result object, or its CSV",
}

#: What :func:`detect` looks for, named in the reason of a file it finds none of.
LOOKED_FOR = (
    "itemList, ItemModule/UserModule, __DEFAULT_SCOPE__ or webapp.*-detail, props.pageProps, data[].item, "
    "comments[].cid, aweme_id, authorMeta, userInfo/user, challengeInfo, Research API {data, error}, Zeeschuimer records"
)

#: The ids of the scripts that hold a page's embedded state (see :func:`embedded_scripts`).
SCRIPT_IDS = (b"SIGI_STATE", b"__UNIVERSAL_DATA_FOR_REHYDRATION__", scraper.SCRIPT_ID)
_SCRIPT_OPEN, _SCRIPT_CLOSE = b"<script", b"</script>"


def embedded_scripts(data: bytes) -> Iterator[tuple[bytes, bytes]]:
    """(id, body) of each ``<script ... id="SIGI_STATE|__UNIVERSAL_DATA_FOR_REHYDRATION__" ...>body</script>``
    in ``data``, in order: what the regular expression
    ``<script[^>]*id="(SIGI_STATE|__UNIVERSAL_DATA_FOR_REHYDRATION__)"[^>]*>(.*?)</script>`` (with
    ``re.S``) finds, in time linear in the size of ``data``. (That expression takes quadratic time:
    each unclosed opener scans to the end; 8,000 of them, 192 kB, took 17 s.)

    Every search moves forward: the end of a tag (its first ``>``) and the next ``</script>`` are
    found once and shared by all the openers before them, and so is the last ``id="..."`` in a
    tag's span (the regular expression's greedy ``[^>]*`` takes the last one)."""
    pos, n = 0, len(data)
    gt = close = -1  # the first '>' / '</script>' at or after the current place (-1: not looked for yet)
    seg = -1  # the '>' the id positions below were found for
    last_id: tuple[int, bytes] = (-1, b"")
    patterns = [(b'id="' + name + b'"', name) for name in SCRIPT_IDS]
    while pos < n:
        start = data.find(_SCRIPT_OPEN, pos)
        if start < 0:
            return
        attrs = start + len(_SCRIPT_OPEN)
        if gt < attrs:
            gt = data.find(b">", attrs)
            if gt < 0:
                return  # no opener from here on has an end
        if seg != gt:  # the last id="..." before this '>' (searched once for every opener sharing it)
            seg, seg_from = gt, attrs
            found = [(data.rfind(pattern, seg_from, gt), name) for pattern, name in patterns]
            last_id = max(found)
        if last_id[0] < attrs:  # not one of ours (or its id lies before this opener)
            pos = attrs
            continue
        if close < gt + 1:
            close = data.find(_SCRIPT_CLOSE, gt + 1)
            if close < 0:
                return  # no script is closed from here on
        yield last_id[1], data[gt + 1 : close]
        pos = close + len(_SCRIPT_CLOSE)


@dataclasses.dataclass(frozen=True)
class Limits:
    """The page-level limits (settings ``max_nesting_depth`` and ``max_items_per_page``), checked
    before a page's items are parsed: a page beyond one is one whole-page reject naming the limit,
    and none of its items is kept."""

    max_depth: int
    max_items: int

    @classmethod
    def from_settings(cls, settings: Any = None) -> Limits:
        if settings is None:
            from ..settings import get_settings

            settings = get_settings()
        return cls(settings.max_nesting_depth, settings.max_items_per_page)

    def too_deep(self) -> str:
        return f"JSON nested deeper than max_nesting_depth ({self.max_depth} levels)"

    def items(self, n: int) -> str | None:
        """The reject reason for ``n`` items in one page, or None when that is within the limit."""
        return f"{n:,} items in one page: more than max_items_per_page ({self.max_items:,})" if n > self.max_items else None

    def too_many(self, obj: Any) -> str | None:
        """The reject reason when a decoded document lists more items than the limit (its item
        lists, looked up where the shapes keep them, before any is parsed), else None."""
        return self.items(_listed_items(obj))


def _listed_items(obj: Any) -> int:
    if isinstance(obj, list):
        return len(obj)
    if not isinstance(obj, dict):
        return 0
    sizes = [len(v) for k in ("itemList", "aweme_list", "ItemModule", "UserModule") if isinstance(v := obj.get(k), (list, dict))]
    data = obj.get("data")
    if isinstance(data, list):
        sizes.append(len(data))
    elif isinstance(data, dict):
        sizes += [len(v) for v in data.values() if isinstance(v, list)]
    return max(sizes, default=0)


_KEEP_STRUCTURE = bytes(b for b in range(256) if b not in b'"[]{}')  # deleted: all but quotes and brackets
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_STEPS = bytes.maketrans(b"[{]}", b"\x01\x01\xff\xff")  # +1 / -1 as int8


def _deepest(brackets: bytes) -> int:
    """The greatest running depth of a string of brackets."""
    import numpy as np

    return int(np.cumsum(np.frombuffer(brackets.translate(_STEPS), dtype=np.int8), dtype=np.int64).max(initial=0))


def nested_deeper(data: bytes, limit: int, *, quick: bool = False) -> bool:
    """Does the JSON text ``data`` nest arrays and objects deeper than ``limit``? A scan of the
    bytes (brackets outside strings), linear in their size, before anything decodes them: escapes
    go first (a run of backslashes pairs up from its left; an odd one escapes the next byte), then
    all but quotes and brackets, then strings. For valid JSON it is exact; for invalid JSON it may
    err either way, which does no harm (the parser refuses that JSON anyway).

    ``quick``: first count the brackets inside strings too (a fraction of the cost) and look
    closer only when that count is over the limit; it can then miss a page whose strings hold
    closing brackets, which is enough where nothing walks the nesting (DuckDB's reader)."""
    if data.count(b"[") + data.count(b"{") <= limit:
        return False
    if quick and _deepest(data.translate(None, _NOT_BRACKETS)) <= limit:
        return False
    s = data.replace(b"\\\\", b"").replace(b'\\"', b"").translate(None, _KEEP_STRUCTURE).replace(b'""', b"")
    if b'"' in s:  # strings holding brackets: drop what lies between each pair of quotes
        s = b"".join(s.split(b'"')[::2])
    return s.count(b"[") + s.count(b"{") > limit and _deepest(s) > limit


def detect(obj: Any) -> str | None:
    """The shape name of a decoded JSON document, or None."""
    if isinstance(obj, list):
        head = next((x for x in obj if isinstance(x, dict)), None)
        if head is None:
            return "web_items" if not obj else None
        if comments.is_web_comment(head):
            return "web_comments"
        if scraper.is_scraper_post(head):
            return "tiktok_scraper"
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
    listed = obj.get("comments")
    if comments.is_web_comment(obj) or (isinstance(listed, list) and listed and comments.is_web_comment(listed[0])):
        return "web_comments"
    if isinstance(listed, list) and not listed and ("cursor" in obj or "has_more" in obj) and "data" not in obj:
        return "web_comments"  # an empty page of comments
    if "itemList" in obj or ("statusCode" in obj and "hasMore" in obj):
        return "web_item_list"
    if "ItemModule" in obj or "UserModule" in obj:
        return "sigi_state"
    if "__DEFAULT_SCOPE__" in obj:
        return "universal_data"
    if any(k in obj for k in ("webapp.user-detail", "webapp.video-detail", "webapp.challenge-detail")):
        return "universal_scope"
    if scraper.is_next_data(obj):
        return "next_data"
    if scraper.is_scraper_post(obj):
        return "tiktok_scraper"
    found = obj.get("data")
    if isinstance(found, list) and any(isinstance(x, dict) and isinstance(x.get("item"), dict) for x in found):
        return "web_search"
    if isinstance(found, list) and not found and "has_more" in obj and "status_code" in obj:
        return "web_search"  # an empty page of search results
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
    if shape is None and isinstance(obj, dict) and obj.get("statusCode") not in (0, None):  # a post TikTok no longer shows
        batch.reject(-1, f"TikTok answered statusCode {obj.get('statusCode')} ({obj.get('statusMsg') or 'no message'}): no post", obj)
    elif shape is None:
        if not _parse_nested(obj, ctx, batch):
            batch.reject(-1, f"JSON of an unknown shape ({_keys(obj)}); looked for {LOOKED_FOR}, at the top and nested inside", obj)
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
        batch.item(0, obj, lambda b: web.item_detail(obj, b, ctx))
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
        elif shape == "research_comments":
            comments.research_comment_page(obj.get("data") or {}, batch, ctx)
    elif shape == "zeeschuimer":
        records = obj if isinstance(obj, list) else [obj]
        for index, record in enumerate(records):
            if isinstance(record, dict) and comments.is_web_comment(record.get("data")):  # a captured comment
                batch.item(index, record, lambda b: zeeschuimer.comment_line(record, b, ctx))
            else:
                batch.item(index, record, lambda b: zeeschuimer.line(record, b, ctx))
    elif shape == "web_search":
        web.search_results(obj.get("data"), batch, ctx)
    elif shape == "web_comments":
        listed = obj if isinstance(obj, list) else obj.get("comments") if "comments" in obj and "cid" not in obj else [obj]
        comments.web_comment_list(listed, batch, ctx)
    elif shape == "universal_scope":
        web.universal_data({"__DEFAULT_SCOPE__": obj}, batch, ctx)
    elif shape == "next_data":
        scraper.next_data(obj, batch, ctx)
    elif shape == "tiktok_scraper":
        scraper.scraper_posts(obj if isinstance(obj, list) else [obj], batch, ctx)
    return batch


#: How far :func:`_parse_nested` looks inside a document of unknown shape (levels, and values looked at).
NESTED_DEPTH, NESTED_NODES = 6, 20_000


def _parse_nested(obj: Any, ctx: Context, batch: Batch) -> bool:
    """A document of no known shape: look inside it (breadth first, :data:`NESTED_DEPTH` levels)
    for a known shape (a list under an unfamiliar key, an object inside a wrapper, JSON or an HTML
    page held in a string) and parse each one found into ``batch``. True when one held anything."""
    found = False
    queue: list[tuple[Any, int]] = [(obj, 0)]
    seen = 0
    while queue and seen < NESTED_NODES:
        value, depth = queue.pop(0)
        seen += 1
        if depth > 0:
            candidate = value
            if isinstance(value, str):
                candidate = _decoded(value, ctx)
                if isinstance(candidate, Batch):
                    if candidate.items_read and candidate.items_ok + len(candidate.rows["comments"]):
                        batch.extend(candidate)
                        found = True
                    continue
            if isinstance(candidate, (dict, list)) and candidate and detect(candidate) is not None:
                scratch = parse_json(candidate, ctx)
                if scratch.items_ok:
                    batch.extend(scratch)
                    found = True
                    continue
        if depth >= NESTED_DEPTH:
            continue
        children = value.values() if isinstance(value, dict) else value if isinstance(value, list) else ()
        queue.extend((child, depth + 1) for child in children if isinstance(child, (dict, list, str)))
    return found


def _decoded(value: str, ctx: Context) -> Any:
    """A string that holds JSON (decoded) or an HTML page with embedded state (parsed, a Batch); else None."""
    head = value.lstrip()[:1]
    if head in ("{", "["):
        try:
            return orjson.loads(value)
        except orjson.JSONDecodeError:
            return None
    if head == "<" and "<script" in value:
        data = value.encode("utf-8", "replace")
        if any(name in data for name in SCRIPT_IDS):
            return _parse_html(data, ctx, Limits.from_settings())
    return None


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


def iter_parse(data: bytes, ctx: Context, chunk_items: int = 20_000, *, limits: Limits | None = None) -> Iterator[Batch]:
    """Parse a page; NDJSON comes out in chunks of ``chunk_items`` lines (rejects keep line indexes).

    ``limits`` (default: from the settings) are checked before the items are parsed: a page that
    nests too deep or holds too many items is one whole-page reject naming the limit."""
    limits = limits or Limits.from_settings()
    data = _strip_bom(data)
    stripped = data.strip()
    if not stripped:
        batch = Batch()
        batch.reject(-1, "empty body (TikTok sent nothing: rate limited or blocked?)")
        yield batch
        return
    if stripped[:1] == b"<":
        yield _parse_html(stripped, ctx, limits)
        return
    if stripped[:1] not in (b"{", b"[") and scraper.looks_like_scraper_csv(stripped[:4096]):
        batch = Batch()
        scraper.scraper_csv(stripped, batch, ctx)
        yield _page_reject(limits.items(batch.items_read), stripped) if limits.items(batch.items_read) else batch
        return
    too_deep = nested_deeper(data, limits.max_depth)
    try:
        if too_deep:
            raise orjson.JSONDecodeError("too deep", "", 0)
        obj = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        if _looks_like_ndjson(stripped):
            lines = stripped.count(b"\n") + 1
            if lines > limits.max_items:  # counted before any line is parsed: none is half-stored
                lines = sum(1 for line in stripped.split(b"\n") if line.strip())
            if limits.items(lines):
                yield _page_reject(limits.items(lines), stripped)
                return
            yield from _iter_ndjson(stripped, ctx, chunk_items, limits)
            return
        yield _page_reject(limits.too_deep() if too_deep else f"truncated or invalid JSON ({exc})", data)
        return
    if limits.too_many(obj):
        yield _page_reject(limits.too_many(obj), data)
        return
    batch = parse_json(obj, ctx)
    if limits.items(batch.items_read):  # items the shapes keep elsewhere: counted after, and none kept
        yield _page_reject(limits.items(batch.items_read), data)
        return
    yield batch


def _page_reject(reason: str, data: bytes) -> Batch:
    batch = Batch()
    batch.reject(-1, reason, data)
    return batch


def parse_bytes(data: bytes, ctx: Context, *, limits: Limits | None = None) -> Batch:
    """Parse a whole page into one batch."""
    total = Batch()
    for batch in iter_parse(data, ctx, chunk_items=1 << 62, limits=limits):
        total.extend(batch)
    return total


class _TooDeep(Exception):
    """A line nests deeper than the limit (caught at once: it becomes that line's reject)."""


def _iter_ndjson(data: bytes, ctx: Context, chunk_items: int, limits: Limits) -> Iterator[Batch]:
    batch = Batch()
    batch.shape = "zeeschuimer"
    pending = 0
    for index, raw_line in enumerate(data.split(b"\n")):
        if not raw_line.strip():
            continue
        try:
            if nested_deeper(raw_line, limits.max_depth):
                raise _TooDeep
            obj = orjson.loads(raw_line)
        except _TooDeep:
            batch.items_read += 1
            batch.reject(index, f"line {index + 1}: {limits.too_deep()}", raw_line)
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


def _parse_html(data: bytes, ctx: Context, limits: Limits) -> Batch:
    batch = Batch()
    found = False
    for name, body in embedded_scripts(data):
        found = True
        if nested_deeper(body, limits.max_depth):
            batch.reject(-1, limits.too_deep(), body)
            continue
        try:
            obj = orjson.loads(body)
        except orjson.JSONDecodeError as exc:
            batch.reject(-1, f"HTML page whose {name.decode()} script is not valid JSON ({exc})", body)
            continue
        if limits.too_many(obj):
            batch.reject(-1, limits.too_many(obj), body)
            continue
        parse_json(obj, ctx, batch)
    if not found:
        kind = html_kind(data)
        hint = (
            kind
            if kind in ("captcha", "login wall")
            else f'no TikTok data in it: looked for <script id="{"|".join(n.decode() for n in SCRIPT_IDS)}">'
        )
        batch.reject(-1, f"HTML page where JSON was expected ({hint})", data)
    if limits.items(batch.items_read):
        return _page_reject(limits.items(batch.items_read), data)
    return batch


_TITLE = re.compile(rb"<title[^>]*>([^<]{0,300})</title>", re.I)
_CAPTCHA_MARKS = (b"captcha", b"secsdk-captcha", b"verify-bar", b"security check")
_LOGIN_MARKS = (b'id="logincontainer"', b"log in to tiktok", b'action="/login', b"/login?redirect")


def html_kind(data: bytes) -> str:
    """'captcha', 'login wall' or 'HTML page': a page is called a captcha or a login wall only when
    it is one (its title says so, or it holds the captcha's or the login form's own markup), never
    because a TikTok page mentions "login" or "verify" somewhere in its scripts."""
    head = data[:200_000].lower()
    title = _TITLE.search(head)
    title_text = title.group(1) if title else b""
    if any(m in title_text for m in (b"captcha", b"security check", b"verify")) or b"captcha_verify" in head or b"captcha-verify" in head:
        return "captcha"
    if b"log in" in title_text or b"login" in title_text or any(m in head for m in _LOGIN_MARKS):
        return "login wall"
    return "HTML page"


def sniff(head: bytes) -> str | None:
    """A cheap guess from a file's first bytes: 'json', 'ndjson', 'html', 'empty', or None (not TikTok data)."""
    head = _strip_bom(head).lstrip()
    if not head:
        return "empty"
    if head[:1] in (b"{", b"["):
        return "json"
    if head[:1] == b"<" and (b"<html" in head[:2000].lower() or b"<!doctype" in head[:200].lower()):
        return "html"
    if scraper.looks_like_scraper_csv(head):
        return "csv"
    return None
