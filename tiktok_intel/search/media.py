"""The media step: key frames (when enabled), hashes, OCR, then the text index, for whatever is new."""

from __future__ import annotations

import dataclasses
import logging
import time

import duckdb

from ..settings import get_settings
from .hashing import hash_media
from .keyframes import KeyframeResult, extract_keyframes
from .ocr import OcrResult, ocr_media
from .text import refresh_index

log = logging.getLogger("tiktok_intel.search")


@dataclasses.dataclass
class MediaSummary:
    hashed: int = 0
    unreadable: int = 0
    ocr: OcrResult = dataclasses.field(default_factory=OcrResult)
    keyframes: KeyframeResult | None = None
    indexed: int = 0
    seconds: float = 0.0

    def summary(self) -> str:
        parts = []
        if self.keyframes is not None:
            parts.append(self.keyframes.summary())
        parts.append(f"{self.hashed} images hashed" + (f" ({self.unreadable} unreadable)" if self.unreadable else ""))
        parts.append(self.ocr.summary())
        parts.append(f"{self.indexed} posts (re)indexed")
        return "media: " + "; ".join(parts) + f" in {self.seconds:.1f} s"

    __str__ = summary


def process_media(con: duckdb.DuckDBPyConnection, *, keyframes: bool | None = None, tesseract: str = "tesseract") -> MediaSummary:
    """Process the media rows not processed yet: key frames (``settings.keyframes``), pHash/dHash,
    OCR, then :func:`refresh_index`. Cheap when nothing is new. Returns a summary (``str()`` is one line)."""
    started = time.perf_counter()
    result = MediaSummary()
    if keyframes if keyframes is not None else get_settings().keyframes:
        result.keyframes = extract_keyframes(con)
    result.hashed, result.unreadable = hash_media(con)
    result.ocr = ocr_media(con, tesseract=tesseract)
    result.indexed = refresh_index(con)
    result.seconds = time.perf_counter() - started
    log.info("%s", result.summary())
    return result
