"""What the offline TikTok's posts show and say, and the CDN that serves it.

Each post's media traits follow from its id (not from the world's random stream, so the world's
posts and counts stay as they were):

* most posts are videos: small real MP4s made with PyAV (H.264 or MPEG-4 video with an AAC audio
  track; two scenes, each with a line of large text, for key frames and OCR), made once per
  process when first asked for;
* some are photo-mode slideshows (``imagePost.images[].imageURL.urlList``), each slide a picture
  with a line of text;
* about half the videos have TikTok's own captions: a WebVTT file of what is said, listed in
  ``video.subtitleInfos[]`` (or, for some, ``video.claInfo.captionInfos[]``), some also with a
  machine-translated English track; the Research API gives the same words as ``voice_to_text``.

The CDN answers like TikTok's: a video needs the session's ``tt_chain_token`` cookie (the home
page sets it) and an unexpired ``expire``/``x-expires``; it honours ``Range`` (206). Tests make
one post's media bad with ``tiktok.media.bad[post_id] = kind`` (see :data:`BAD_KINDS`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import hashlib
import io
import random
import re
import threading
from typing import TYPE_CHECKING, Any

from .world import Post

if TYPE_CHECKING:  # pragma: no cover
    from .server import OfflineTikTok

#: What ``OfflineTikTok.media.bad[post_id]`` may be set to.
BAD_KINDS = (
    "truncated",  # the MP4 cut in half
    "zero",  # 200 with an empty body
    "html",  # an HTML page sent as video/mp4
    "wrong_type",  # a JSON error with its own content type
    "expired",  # 403 "URL expired" whatever the URL
    "expired_once",  # 403 for the first URL; the one item detail gives afterwards works
    "bad_vtt",  # captions with broken timings
    "latin1_vtt",  # captions in ISO-8859-1
)

SPOKEN: dict[str, tuple[tuple[str, str], ...]] = {
    "valet": (
        ("idag pratar vi om statsbudget och vad den betyder för dig", "today we talk about the state budget and what it means for you"),
        ("opinionsmätningen visar ett jämnt läge mellan blocken", "the poll shows a close race between the blocs"),
        ("kom ihåg att ta med legitimation till vallokalen", "remember to bring identification to the polling station"),
    ),
    "klimat": (
        ("forskarna varnar för fler värmeböljor i framtiden", "researchers warn of more heatwaves in the future"),
        ("utsläppen måste halveras innan tjugotrettio", "emissions must be halved before twenty thirty"),
    ),
    "sport": (
        ("vilken match det var ikväll publiken jublade", "what a match it was tonight the crowd cheered"),
        ("tränaren säger att laget är redo för derbyt", "the coach says the team is ready for the derby"),
    ),
    "kultur": (
        ("artisten berättar om sin nya låt inför finalen", "the artist talks about the new song before the final"),
        ("repetitionerna har pågått hela veckan", "rehearsals have gone on all week"),
    ),
    "vardag": (
        ("kanelbullar är det bästa som finns till kaffet", "cinnamon buns are the best thing with coffee"),
        ("pendeltåget var försenat igen i morse", "the commuter train was late again this morning"),
    ),
}
#: The text in a video's frames (two scenes), per topic.
FRAME_TEXT: dict[str, tuple[str, str]] = {
    "valet": ("KÄLLA SCB", "VALDAGEN"),
    "klimat": ("SMHI VARNAR", "PLUS 14 GRADER"),
    "sport": ("SLUTSIGNAL", "TABELLEN"),
    "kultur": ("FINALEN", "PUBLIKRÖST"),
    "vardag": ("KAFFEPAUS", "MÅNDAG"),
}
SLIDE_TEXT = ("FAKTARUTA", "SIFFRORNA", "TIDSLINJE", "SAMMANFATTNING", "CITATET")

VIDEO_SIZE = (180, 320)
RATE = 8000  # audio sample rate
FPS = 8
SCENE_SECONDS = 1.5


@dataclasses.dataclass(frozen=True)
class Traits:
    slideshow: bool
    slides: tuple[str, ...]  # text on each slide
    spoken: tuple[str, str] | None  # (Swedish, English) of what is said, when TikTok captions it
    translated: bool  # an English machine-translated caption track too
    cla: bool  # captions listed in claInfo.captionInfos instead of subtitleInfos
    frame_text: tuple[str, str]  # text in the two scenes of the video


@functools.lru_cache(maxsize=100_000)
def traits(post: Post) -> Traits:
    rng = random.Random(int(hashlib.sha256(f"media:{post.post_id}".encode()).hexdigest()[:12], 16))
    topic = post.topic if post.topic in SPOKEN else "vardag"
    slideshow = rng.random() < 0.15
    slides = tuple(f"{n}/{k} {rng.choice(SLIDE_TEXT)}" for k in [rng.randint(2, 4)] for n in range(1, k + 1)) if slideshow else ()
    spoken = rng.choice(SPOKEN[topic]) if not slideshow and rng.random() < 0.5 else None
    return Traits(slideshow, slides, spoken, spoken is not None and rng.random() < 0.3, rng.random() < 0.3, FRAME_TEXT[topic])


def _sig(*parts: object) -> str:
    return hashlib.sha256(":".join(map(str, parts)).encode()).hexdigest()[:28]


def _epoch(t: dt.datetime) -> int:
    return int(t.replace(tzinfo=dt.UTC).timestamp())


# -- the files ---------------------------------------------------------------------------------
def _frame(text: str, seed: int):
    from . import images

    image = images._scene(seed).resize(VIDEO_SIZE)
    from PIL import ImageDraw

    draw = ImageDraw.Draw(image)
    font = images._font(22)
    box = draw.textbbox((0, 0), text, font=font)
    while box[2] - box[0] > VIDEO_SIZE[0] - 10 and font.size > 10:
        font = images._font(font.size - 2)
        box = draw.textbbox((0, 0), text, font=font)
    y = VIDEO_SIZE[1] // 2 - (box[3] - box[1])
    draw.rectangle([0, y - 10, VIDEO_SIZE[0], y + (box[3] - box[1]) + 12], fill=(255, 255, 255))
    draw.text(((VIDEO_SIZE[0] - (box[2] - box[0])) // 2 - box[0], y - box[1]), text, fill=(0, 0, 0), font=font)
    return image


_video_lock = threading.Lock()


def _mp4(texts: tuple[str, ...], seed: int) -> bytes:
    """A small real MP4: one scene per text (a picture with the text in large type), and a tone."""
    import av
    import numpy as np

    buffer = io.BytesIO()
    with av.open(buffer, "w", format="mp4") as container:
        for codec in ("libx264", "h264", "mpeg4"):
            try:
                stream = container.add_stream(codec, rate=FPS, options={"preset": "ultrafast"} if "264" in codec else {})
                break
            except (av.error.FFmpegError, ValueError, av.codec.codec.UnknownCodecError):
                continue
        stream.width, stream.height, stream.pix_fmt = VIDEO_SIZE[0], VIDEO_SIZE[1], "yuv420p"
        audio = container.add_stream("aac", rate=RATE)
        audio.layout = "mono"
        for n, text in enumerate(texts):
            picture = _frame(text, seed * 31 + n)
            for _ in range(int(FPS * SCENE_SECONDS)):
                for packet in stream.encode(av.VideoFrame.from_image(picture)):
                    container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
        total = int(RATE * SCENE_SECONDS * len(texts))
        t = np.arange(total) / RATE
        wave = (0.2 * np.sin(2 * np.pi * (440 + 220 * (t > SCENE_SECONDS)) * t)).astype(np.float32)
        samples = 1024
        for start in range(0, total, samples):
            chunk = wave[start : start + samples]
            if len(chunk) < samples:
                chunk = np.pad(chunk, (0, samples - len(chunk)))
            frame = av.AudioFrame.from_ndarray(chunk.reshape(1, -1), format="fltp", layout="mono")
            frame.sample_rate = RATE
            frame.pts = start
            for packet in audio.encode(frame):
                container.mux(packet)
        for packet in audio.encode():
            container.mux(packet)
    return buffer.getvalue()


def video_mp4(post: Post) -> bytes:
    """The post's video: its topic's two scenes on a picture of its own, shared only by the posts
    whose covers are re-uploads of one another (so key frames match where covers do), made once
    (and kept in the temporary folder, so the next process that starts an offline TikTok does not
    make it again)."""
    import tempfile
    from pathlib import Path

    tr = traits(post)
    seed = post.cover_group * 7919 + 3 if post.cover_kind == "dup" else int(post.post_id) % 99_991 * 13 + 5
    key = hashlib.sha256(repr((CACHE_VERSION, tr.frame_text, seed, VIDEO_SIZE, FPS, SCENE_SECONDS, RATE)).encode()).hexdigest()[:16]
    cached = Path(tempfile.gettempdir()) / "tiktok-intel-offline-videos" / f"{key}.mp4"
    with _video_lock:
        if key in _made:
            return _made[key]
        try:
            body = cached.read_bytes()
        except OSError:
            body = b""
        if not body:
            body = _mp4(tr.frame_text, seed)
            try:
                cached.parent.mkdir(parents=True, exist_ok=True)
                tmp = cached.with_name(f".{key}.{threading.get_ident()}.tmp")
                tmp.write_bytes(body)
                tmp.replace(cached)
            except OSError:
                pass  # a read-only temporary folder: made again next time
        _made[key] = body
        return body


CACHE_VERSION = 2
_made: dict[str, bytes] = {}


@functools.lru_cache(maxsize=2048)
def slide_jpeg(post: Post, n: int) -> bytes:
    from . import images

    tr = traits(post)
    text = tr.slides[n - 1] if 0 < n <= len(tr.slides) else "?"
    image = images._caption(images._scene(int(post.post_id) % 99_991 + n), text)
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=85)
    return buffer.getvalue()


def _cues(words: str, duration: float) -> list[tuple[float, float, str]]:
    parts = words.split()
    groups = [" ".join(parts[i : i + 4]) for i in range(0, len(parts), 4)]
    step = duration / max(1, len(groups))
    return [(i * step, (i + 1) * step, g) for i, g in enumerate(groups)]


def _stamp(seconds: float) -> str:
    whole = int(seconds)
    return f"{whole // 3600:02d}:{whole // 60 % 60:02d}:{whole % 60:02d}.{int(round((seconds - whole) * 1000)):03d}"


def vtt(post: Post, language: str) -> str:
    """The post's captions as TikTok's WebVTT (styling tags and an entity included, as TikTok's have)."""
    tr = traits(post)
    sv, en = tr.spoken or ("", "")
    words = en if language.startswith("eng") else sv
    lines = ["WEBVTT", ""]
    for n, (start, end, text) in enumerate(_cues(words, max(4.0, float(post.duration_s))), start=1):
        shown = f"<c.white>{text}</c>" if n % 2 else text.replace(" och ", " &amp; ", 1) if " och " in text else text
        if n == 2 and len(shown.split()) > 2:  # a cue on two lines
            first, rest = shown.split(" ", 1)
            shown = first + "\n" + rest
        lines += [str(n), f"{_stamp(start)} --> {_stamp(end)} align:center", shown, ""]
    return "\n".join(lines)


# -- the item fields ---------------------------------------------------------------------------
def _video_url(base: str, post: Post, expires: int, attempt: int = 0) -> str:
    return f"{base}/video/tos/{post.post_id}/?a=1988&expire={expires}&signature={_sig('v', post.post_id, expires)}&tk=tt_chain_token"


def decorate(
    item: dict[str, Any], post: Post, t: dt.datetime, base: str, cover_base: str | None = None, attempt: int = 0
) -> dict[str, Any]:
    """Add what ``post`` shows and says to its ``itemStruct`` (in place; returns it)."""
    tr = traits(post)
    expires = _epoch(t) + 6 * 3600
    media_base = cover_base or base
    video = item.setdefault("video", {})
    if tr.slideshow:
        item["imagePost"] = {
            "images": [
                {
                    "imageURL": {
                        "urlList": [
                            f"{media_base}/photomode/{post.post_id}/{n}.jpeg?x-expires={expires}&x-signature={_sig('s', post.post_id, n, expires)}"
                        ]
                    },
                    "imageWidth": 360,
                    "imageHeight": 640,
                }
                for n in range(1, len(tr.slides) + 1)
            ],
            "title": "",
        }
        video["playAddr"] = video["downloadAddr"] = ""
        return item
    url = _video_url(base, post, expires, attempt)
    size = len(video_mp4(post))
    video["playAddr"] = video["downloadAddr"] = url
    video["bitrateInfo"] = [
        {
            "Bitrate": 120000,
            "CodecType": "h264",
            "PlayAddr": {"DataSize": size, "Height": VIDEO_SIZE[1], "Width": VIDEO_SIZE[0], "UrlList": [url]},
        }
    ]
    video["subtitleInfos"] = []
    if tr.spoken:
        tracks = [("swe-SE", "ASR")] + ([("eng-US", "MT")] if tr.translated else [])
        captions = [
            (
                lang,
                src,
                f"{media_base}/caption/{post.post_id}/{lang}.vtt?x-expires={expires}&x-signature={_sig('c', post.post_id, lang, expires)}",
            )
            for lang, src in tracks
        ]
        if tr.cla:
            video["claInfo"] = {
                "enableAutoCaption": True,
                "hasOriginalAudio": True,
                "captionInfos": [
                    {
                        "language": lang,
                        "languageID": str(n),
                        "url": u,
                        "urlList": [u],
                        "captionFormat": "webvtt",
                        "isAutoGen": True,
                        "isOriginalCaption": src == "ASR",
                    }
                    for n, (lang, src, u) in enumerate(captions, start=1)
                ],
            }
        else:
            video["subtitleInfos"] = [
                {
                    "LanguageCodeName": lang,
                    "LanguageID": str(n),
                    "Url": u,
                    "UrlExpire": str(expires),
                    "Format": "webvtt",
                    "Source": src,
                    "Version": "1",
                    "Size": "0",
                }
                for n, (lang, src, u) in enumerate(captions, start=1)
            ]
    return item


def research_fields(post: Post) -> dict[str, Any]:
    """The Research API's ``voice_to_text`` for a post TikTok transcribed."""
    tr = traits(post)
    return {"voice_to_text": tr.spoken[0]} if tr.spoken else {}


# -- the CDN -----------------------------------------------------------------------------------
_VIDEO = re.compile(r"^/video/tos/(\d+)/?$")
_SLIDE = re.compile(r"^/photomode/(\d+)/(\d+)\.jpeg$")
_CAPTION = re.compile(r"^/caption/(\d+)/([A-Za-z-]+)\.vtt$")


class MediaCDN:
    """Videos, slides and captions of the offline TikTok (``OfflineTikTok.media``)."""

    def __init__(self, tiktok: OfflineTikTok):
        self.tiktok = tiktok
        self.bad: dict[str, str] = {}
        self.served: dict[str, int] = {"video": 0, "slide": 0, "captions": 0, "refused": 0}
        self.seen: list[dict[str, Any]] = []  # each media request: kind, post, range, referer, cookie present
        self._lock = threading.Lock()
        self._expired_once: set[str] = set()

    def route(self, method: str, path: str, query: dict[str, str], cookies: dict[str, str], headers: Any):
        if method not in ("GET", "HEAD"):
            return None
        if m := _VIDEO.match(path):
            return self.video(m.group(1), query, cookies, headers)
        if m := _SLIDE.match(path):
            return self.slide(m.group(1), int(m.group(2)), query)
        if m := _CAPTION.match(path):
            return self.caption(m.group(1), m.group(2), query)
        return None

    def _reply(self, *args: Any, **kwargs: Any):
        from .server import _Reply

        return _Reply(*args, **kwargs)

    def _denied(self, text: str):
        with self._lock:
            self.served["refused"] += 1
        return self._reply(403, f"Access Denied: {text}", "text/plain")

    def _expired(self, query: dict[str, str], key: str) -> bool:
        try:
            expires = int(query.get(key, "0"))
        except ValueError:
            return True
        return _epoch(self.tiktok.now()) > expires

    def video(self, post_id: str, query: dict[str, str], cookies: dict[str, str], headers: Any):
        post = self.tiktok.world.posts_by_id.get(post_id)
        with self._lock:
            self.seen.append(
                {
                    "kind": "video",
                    "post_id": post_id,
                    "range": headers.get("Range"),
                    "referer": headers.get("Referer"),
                    "tt_chain_token": "tt_chain_token" in cookies,
                }
            )
        if post is None or traits(post).slideshow:
            return self._reply(404, "Not Found", "text/plain")
        try:
            expires = int(query.get("expire") or query.get("x-expires") or "0")
        except ValueError:
            expires = 0
        if query.get("signature") != _sig("v", post_id, expires):
            return self._denied("bad signature")
        if not cookies.get("tt_chain_token"):
            return self._denied("no session")
        bad = self.bad.get(post_id)
        if bad == "expired" or _epoch(self.tiktok.now()) > expires:
            return self._denied("URL expired")
        if bad == "expired_once":
            with self._lock:
                first = post_id not in self._expired_once
                self._expired_once.add(post_id)
            if first:
                return self._denied("URL expired")
        body = video_mp4(post)
        content_type = "video/mp4"
        if bad == "truncated":
            body = body[: len(body) // 2]
        elif bad == "zero":
            body = b""
        elif bad == "html":
            body = b"<!DOCTYPE html><html><head><title>TikTok</title></head><body>Please wait...</body></html>"
        elif bad == "wrong_type":
            body, content_type = b'{"status_code": 10000, "status_msg": "error"}', "application/json"
        with self._lock:
            self.served["video"] += 1
        return self._ranged(body, content_type, headers.get("Range"))

    def _ranged(self, body: bytes, content_type: str, wanted: str | None):
        m = re.match(r"bytes=(\d+)-(\d*)$", (wanted or "").strip())
        if not m or not body:
            return self._reply(200, body, content_type, headers={"Accept-Ranges": "bytes"})
        start = int(m.group(1))
        end = min(int(m.group(2)) if m.group(2) else len(body) - 1, len(body) - 1)
        if start >= len(body):
            return self._reply(416, b"", content_type, headers={"Content-Range": f"bytes */{len(body)}"})
        return self._reply(
            206,
            body[start : end + 1],
            content_type,
            headers={"Accept-Ranges": "bytes", "Content-Range": f"bytes {start}-{end}/{len(body)}"},
        )

    def slide(self, post_id: str, n: int, query: dict[str, str]):
        post = self.tiktok.world.posts_by_id.get(post_id)
        try:
            expires = int(query.get("x-expires", "0"))
        except ValueError:
            expires = 0
        if post is None or not traits(post).slideshow or query.get("x-signature") != _sig("s", post_id, n, expires):
            return self._denied("bad signature")
        if self._expired(query, "x-expires"):
            return self._denied("URL expired")
        with self._lock:
            self.served["slide"] += 1
        return self._reply(body=slide_jpeg(post, n), content_type="image/jpeg")

    def caption(self, post_id: str, language: str, query: dict[str, str]):
        post = self.tiktok.world.posts_by_id.get(post_id)
        try:
            expires = int(query.get("x-expires", "0"))
        except ValueError:
            expires = 0
        if post is None or not traits(post).spoken or query.get("x-signature") != _sig("c", post_id, language, expires):
            return self._denied("bad signature")
        if self._expired(query, "x-expires"):
            return self._denied("URL expired")
        bad = self.bad.get(post_id)
        text = vtt(post, language)
        if bad == "bad_vtt":
            body = re.sub(r"\d\d:\d\d:\d\d\.\d{3} --> ", "99:xx --> ", text).encode("utf-8")
        elif bad == "latin1_vtt":
            body = text.replace("WEBVTT", "WEBVTT\n\nNOTE r\xe4ka", 1).encode("latin-1", "replace")
        else:
            body = text.encode("utf-8")
        with self._lock:
            self.served["captions"] += 1
        return self._reply(body=body, content_type="text/vtt; charset=utf-8")
