"""What media a TikTok item offers, read from its ``itemStruct`` (pure; never raises):

* the cover (``video.cover`` / ``originCover``);
* the video: the ``video.bitrateInfo[]`` variants (``PlayAddr.UrlList``, ``DataSize``, width and
  height), best first, then ``video.playAddr`` and ``downloadAddr``;
* photo-mode slides: ``imagePost.images[].imageURL.urlList`` (a slideshow has no video of its own);
* captions: ``video.subtitleInfos[]`` (``Url``, ``LanguageCodeName``, ``Source`` ASR or MT,
  ``Format``) and the newer ``video.claInfo.captionInfos[]`` (``url``/``urlList``, ``language``,
  ``captionFormat``, ``isAutoGen``/``translationType``); WebVTT only, one per language and source.
"""

from __future__ import annotations

import dataclasses
import json
import re
from typing import Any

from . import embedded_scripts

#: Most slides kept from one slideshow (TikTok allows 35).
MAX_SLIDES = 35
#: Most caption files kept from one item.
MAX_CAPTIONS = 8
KINDS = ("cover", "video", "slide", "captions")


@dataclasses.dataclass(frozen=True)
class Offer:
    post_id: str
    kind: str  # one of KINDS
    seq: int  # 0 for cover and video, 1.. for slides and captions
    urls: tuple[str, ...]  # alternatives, best first
    sizes: tuple[int | None, ...] = ()  # the size TikTok gives for each URL (DataSize), when it does
    language: str | None = None
    source: str | None = None  # captions: 'tiktok-asr' | 'tiktok-mt'


def _str(value: Any) -> str | None:
    if isinstance(value, str) and value.strip():
        return value.strip()
    return None


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return None


def _urls(value: Any) -> list[str]:
    """Web URLs from a string, a list, or an object with ``urlList``/``UrlList``/``url_list``."""
    if isinstance(value, dict):
        for key in ("urlList", "UrlList", "url_list"):
            if key in value:
                return _urls(value[key])
        return _urls(value.get("url") or value.get("Url"))
    if isinstance(value, list):
        return [u for v in value for u in _urls(v)][:10]
    text = _str(value)
    return [text] if text and text.startswith(("http://", "https://")) else []


def _dict(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list:
    return value if isinstance(value, list) else []


def _video_offer(post_id: str, video: dict) -> Offer | None:
    variants = []
    for rank, info in enumerate(_list(video.get("bitrateInfo"))):
        info = _dict(info)
        play = _dict(info.get("PlayAddr"))
        urls = _urls(play)
        if not urls:
            continue
        pixels = (_int(play.get("Width")) or 0) * (_int(play.get("Height")) or 0)
        h264 = "264" in str(info.get("CodecType") or "h264")  # plays everywhere; h265 variants are often the small ones
        variants.append(((h264, pixels, _int(info.get("Bitrate")) or 0, -rank), urls, _int(play.get("DataSize"))))
    variants.sort(key=lambda v: v[0], reverse=True)
    urls: list[str] = []
    sizes: list[int | None] = []
    for _, found, size in variants:
        for u in found:
            if u not in urls:
                urls.append(u)
                sizes.append(size)
    for key in ("playAddr", "downloadAddr"):
        for u in _urls(video.get(key)):
            if u not in urls:
                urls.append(u)
                sizes.append(None)
    return Offer(post_id, "video", 0, tuple(urls), tuple(sizes)) if urls else None


def _caption_source(text: Any) -> str:
    return "tiktok-mt" if str(text or "").strip().upper() in ("MT", "TRANSLATION", "2") else "tiktok-asr"


def _caption_offers(post_id: str, video: dict) -> list[Offer]:
    found: list[tuple[str, str, list[str]]] = []
    for info in _list(video.get("subtitleInfos")):
        info = _dict(info)
        if str(info.get("Format") or "webvtt").lower() not in ("webvtt", "vtt"):
            continue
        urls = _urls(info.get("Url")) or _urls(info.get("UrlList"))
        if urls:
            found.append((_str(info.get("LanguageCodeName")) or "", _caption_source(info.get("Source")), urls))
    for info in _list(_dict(video.get("claInfo")).get("captionInfos")):
        info = _dict(info)
        if str(info.get("captionFormat") or "webvtt").lower() not in ("webvtt", "vtt"):
            continue
        urls = _urls(info.get("urlList")) or _urls(info.get("url"))
        translated = info.get("isOriginalCaption") is False or bool(_int(info.get("translationType")))
        if urls:
            found.append((_str(info.get("language")) or "", "tiktok-mt" if translated else "tiktok-asr", urls))
    offers, seen = [], set()
    for language, source, urls in found:
        if (language, source) in seen:
            continue
        seen.add((language, source))
        offers.append(Offer(post_id, "captions", len(offers) + 1, tuple(urls), language=language, source=source))
        if len(offers) >= MAX_CAPTIONS:
            break
    return offers


def item_offers(item: Any) -> list[Offer]:
    """Every media file ``item`` (a web ``itemStruct``) offers; ``[]`` for anything unreadable."""
    item = _dict(item)
    post_id = item.get("id")
    post_id = str(post_id) if isinstance(post_id, (str, int)) and not isinstance(post_id, bool) else ""
    if not post_id.isdigit() or len(post_id) > 30:
        return []
    video = _dict(item.get("video"))
    offers: list[Offer] = []
    cover = _urls(video.get("cover")) + [u for u in _urls(video.get("originCover")) if u not in _urls(video.get("cover"))]
    slides = [_urls(_dict(image).get("imageURL")) for image in _list(_dict(item.get("imagePost")).get("images"))]
    slides = [s for s in slides if s][:MAX_SLIDES]
    if not cover and slides:
        cover = _urls(_dict(_dict(item.get("imagePost")).get("cover")).get("imageURL"))
    if cover:
        offers.append(Offer(post_id, "cover", 0, tuple(cover[:4])))
    if slides:
        offers.extend(Offer(post_id, "slide", n, tuple(urls)) for n, urls in enumerate(slides, start=1))
    else:
        offer = _video_offer(post_id, video)
        if offer is not None:
            offers.append(offer)
    offers.extend(_caption_offers(post_id, video))
    return offers


def detail_item(page: bytes) -> dict | None:
    """The ``itemStruct`` of a video page (``__UNIVERSAL_DATA_FOR_REHYDRATION__``), or ``None``."""
    try:
        for name, body in embedded_scripts(page):
            if name != b"__UNIVERSAL_DATA_FOR_REHYDRATION__":
                continue
            data = json.loads(body)
            item = _dict(_dict(_dict(_dict(data.get("__DEFAULT_SCOPE__")).get("webapp.video-detail")).get("itemInfo")).get("itemStruct"))
            return item or None
    except (ValueError, RecursionError):
        return None
    return None


_EXPIRES = re.compile(r"[?&](?:x-expires|expire)=(\d{9,11})(?:&|$)")


def url_expires(url: str) -> int | None:
    """The epoch second a TikTok media URL stops working (``x-expires`` or ``expire``), if it says."""
    m = _EXPIRES.search(url)
    return int(m.group(1)) if m else None
