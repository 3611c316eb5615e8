"""The media step: for whatever is new, a sequence of stages (:data:`STAGES`), each a function of
``(con, ctx)`` that does its part and notes its counts in ``ctx.summary``:

key frames (of the videos downloaded at collection time; and of the others' ``video_url`` when
``TIKTOK_INTEL_KEYFRAMES`` is set) -> hashes (covers, slides, key frames) -> OCR -> transcripts
(TikTok's caption files) -> speech (local speech-to-text, when set up) -> retention (videos older
than ``TIKTOK_INTEL_KEEP_VIDEOS_DAYS``) -> the text index.

A later stage (embeddings, say) is one more ``(name, function)`` in :data:`STAGES`, before
``index``. The summary keeps each stage's seconds (``summary.stage_seconds``).
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

import duckdb

from .. import downloads
from ..settings import Settings, get_settings
from ..speech import SpeechResult, transcribe_videos
from ..store.database import LeasedConnection
from ..transcripts import CaptionResult, transcribe_captions
from .hashing import hash_media
from .images import match_new_images
from .keyframes import KeyframeResult, extract_keyframes, keyframes_from_downloads
from .ocr import OcrResult, ocr_media
from .semantic import EmbedResult, embed_media
from .text import refresh_index

log = logging.getLogger("tiktok_intel.search")


@dataclasses.dataclass
class MediaSummary:
    hashed: int = 0
    unreadable: int = 0
    ocr: OcrResult = dataclasses.field(default_factory=OcrResult)
    keyframes: KeyframeResult | None = None
    embeddings: EmbedResult | None = None  # search by meaning (semantic.embed_media)
    captions: CaptionResult = dataclasses.field(default_factory=CaptionResult)
    speech: SpeechResult = dataclasses.field(default_factory=SpeechResult)
    removed_videos: int = 0
    indexed: int = 0
    seconds: float = 0.0
    stage_seconds: dict[str, float] = dataclasses.field(default_factory=dict)
    extra: dict[str, Any] = dataclasses.field(default_factory=dict)  # counts of stages added later

    def counts(self) -> dict[str, Any]:
        """For the run's record (``runs.steps``)."""
        return {
            "keyframes": self.keyframes.frames if self.keyframes else 0,
            "videos_cut": self.keyframes.videos if self.keyframes else 0,
            "hashed": self.hashed,
            "ocr": self.ocr.read,
            "transcripts": self.captions.read + self.speech.transcribed,
            "captions_failed": self.captions.failed,
            "videos_removed": self.removed_videos,
            "indexed": self.indexed,
            "stage_seconds": {k: round(v, 2) for k, v in self.stage_seconds.items()},
            **self.extra,
        }

    def summary(self) -> str:
        parts = []
        if self.keyframes is not None:
            parts.append(self.keyframes.summary())
        parts.append(f"{self.hashed} images hashed" + (f" ({self.unreadable} unreadable)" if self.unreadable else ""))
        parts.append(self.ocr.summary())
        if self.embeddings is not None:
            parts.append(self.embeddings.summary())
        if self.captions.read or self.captions.failed or self.speech.transcribed:
            text = f"{self.captions.read + self.speech.transcribed} transcripts"
            if self.speech.transcribed:
                text += f" ({self.speech.transcribed} by local speech-to-text)"
            if self.captions.failed:
                text += f", {self.captions.failed} caption files unreadable"
            parts.append(text)
        if self.removed_videos:
            parts.append(f"{self.removed_videos} old videos removed")
        parts.extend(f"{v} {k}" for k, v in self.extra.items())
        parts.append(f"{self.indexed} posts (re)indexed")
        return "media: " + "; ".join(parts) + f" in {self.seconds:.1f} s"

    __str__ = summary


@dataclasses.dataclass
class StageContext:
    settings: Settings
    summary: MediaSummary
    keyframes: bool
    tesseract: str
    workers: int
    speech_engine: Any = None
    posts: list[str] | None = None  # only these posts' media (None: all that is new)


def _keyframes(con: duckdb.DuckDBPyConnection, ctx: StageContext) -> None:
    result = keyframes_from_downloads(con, workers=ctx.workers, posts=ctx.posts)
    if ctx.keyframes:  # posts whose video was not downloaded while collecting
        older = extract_keyframes(con, posts=ctx.posts)
        result.videos, result.frames, result.failed = (
            result.videos + older.videos,
            result.frames + older.frames,
            result.failed + older.failed,
        )
        result.unavailable = result.unavailable or older.unavailable
    if result.videos or result.failed or result.unavailable or ctx.keyframes:
        ctx.summary.keyframes = result


def _hashes(con: duckdb.DuckDBPyConnection, ctx: StageContext) -> None:
    ctx.summary.hashed, ctx.summary.unreadable = hash_media(con, workers=ctx.workers, posts=ctx.posts)
    match_new_images(con)  # near-duplicate pairs of the new images against the archive (image_pairs)


def _ocr(con: duckdb.DuckDBPyConnection, ctx: StageContext) -> None:
    ctx.summary.ocr = ocr_media(con, tesseract=ctx.tesseract, workers=ctx.workers, posts=ctx.posts)


def _embeddings(con: duckdb.DuckDBPyConnection, ctx: StageContext) -> None:
    ctx.summary.embeddings = embed_media(con, posts=ctx.posts)  # vectors for search by meaning; no model: skipped, said in the summary


def _transcripts(con: duckdb.DuckDBPyConnection, ctx: StageContext) -> None:
    ctx.summary.captions = transcribe_captions(con, ctx.settings.media_dir, ctx.posts)


def _speech(con: duckdb.DuckDBPyConnection, ctx: StageContext) -> None:
    ctx.summary.speech = transcribe_videos(con, ctx.settings, engine=ctx.speech_engine, posts=ctx.posts)


def _retention(con: duckdb.DuckDBPyConnection, ctx: StageContext) -> None:
    ctx.summary.removed_videos = downloads.apply_retention(con, ctx.settings)


def _index(con: duckdb.DuckDBPyConnection, ctx: StageContext) -> None:
    ctx.summary.indexed = refresh_index(con)


#: The media step's stages, in order: (name, function of (con, ctx)).
STAGES: list[tuple[str, Callable[[duckdb.DuckDBPyConnection, StageContext], None]]] = [
    ("keyframes", _keyframes),
    ("hashes", _hashes),
    ("ocr", _ocr),
    ("embeddings", _embeddings),
    ("transcripts", _transcripts),
    ("speech", _speech),
    ("retention", _retention),
    ("index", _index),
]


def process_media(
    con: duckdb.DuckDBPyConnection | None = None,
    *,
    connect: Callable[[], AbstractContextManager[duckdb.DuckDBPyConnection]] | None = None,
    keyframes: bool | None = None,
    tesseract: str = "tesseract",
    workers: int = 2,
    speech_engine: Any = None,
    posts: list[str] | None = None,
) -> MediaSummary:
    """Run the :data:`STAGES` over what is new (cheap when nothing is). Returns a summary (``str()``
    is one line). ``workers``: images, frames and OCR done at once (1: one at a time). ``posts``: only
    the media of these posts (what a run does one post at a time; the near-duplicate matching and the
    index take whatever is new).

    ``connect`` (instead of ``con``): each stage opens its own connection and closes it when done,
    so a scheduled run lets the readers of the DuckDB file in between stages rather than holding it
    for the whole step."""
    if (con is None) == (connect is None):
        raise TypeError("process_media takes a connection or connect, one of them")
    started = time.perf_counter()
    settings = get_settings()
    ctx = StageContext(
        settings,
        MediaSummary(),
        keyframes if keyframes is not None else settings.keyframes,
        tesseract,
        max(1, int(workers)),
        speech_engine,
        list(posts) if posts is not None else None,
    )
    for name, stage in STAGES:
        t0 = time.perf_counter()
        if connect is None:
            stage(con, ctx)
        else:
            with LeasedConnection(connect) as stage_con:  # a stage may let go of the file while it computes
                stage(stage_con, ctx)
        ctx.summary.stage_seconds[name] = time.perf_counter() - t0
    ctx.summary.seconds = time.perf_counter() - started
    log.info("%s", ctx.summary.summary())
    return ctx.summary
