"""Local speech-to-text, optional: for downloaded videos TikTok gives no captions for.

``pip install 'tiktok-intel[speech]'`` (faster-whisper) and set ``TIKTOK_INTEL_WHISPER_MODEL`` to a
model size (``tiny``, ``base``, ``small``, ...: fetched on first use into ``<workspace>/models/``) or
a local model folder. Audio is decoded with PyAV (no system ffmpeg). The language is detected and
stored. Off unless the setting is set. The engine is anything with ``transcribe(path) ->
(language, [(start_s, end_s, text), ...])``: :class:`WhisperEngine` is the real one; tests pass a
fake.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, Protocol

import duckdb

from .errors import TikTokIntelError
from .parsing.webvtt import Segment
from .settings import Settings
from .store.database import of_posts
from .transcripts import from_segments, save

INSTALL_HINT = "local speech-to-text needs the speech extra: pip install 'tiktok-intel[speech]'"


class SpeechUnavailableError(TikTokIntelError):
    """faster-whisper is not installed, or the model cannot be loaded."""


class Engine(Protocol):
    def transcribe(self, path: Path) -> tuple[str, list[tuple[float, float, str]]]: ...


def decode_audio(path: Path, sample_rate: int = 16000):
    """The audio track of a video as mono float32 samples at ``sample_rate`` (PyAV)."""
    import av
    import numpy as np

    chunks = []
    with av.open(str(path)) as container:
        if not container.streams.audio:
            return np.zeros(0, dtype=np.float32)
        resampler = av.AudioResampler(format="flt", layout="mono", rate=sample_rate)
        for frame in container.decode(audio=0):
            for out in resampler.resample(frame):
                chunks.append(out.to_ndarray().reshape(-1))
        for out in resampler.resample(None):
            chunks.append(out.to_ndarray().reshape(-1))
    return np.concatenate(chunks).astype(np.float32) if chunks else np.zeros(0, dtype=np.float32)


class WhisperEngine:
    """faster-whisper with the ``whisper_model`` setting (downloaded into ``<workspace>/models/``)."""

    def __init__(self, settings: Settings):
        try:
            from faster_whisper import WhisperModel
        except ImportError:
            raise SpeechUnavailableError(INSTALL_HINT) from None
        name = settings.whisper_model
        root = settings.workspace_path / "models"
        root.mkdir(parents=True, exist_ok=True)
        try:
            self.model = WhisperModel(name, device="cpu", compute_type="int8", download_root=str(root))
        except Exception as exc:  # noqa: BLE001 - hub, file and runtime errors of many kinds
            raise SpeechUnavailableError(
                f"cannot load the speech model {name!r} ({type(exc).__name__}): give a model size (tiny, base, small) "
                "with network access once, or a local model folder, in TIKTOK_INTEL_WHISPER_MODEL"
            ) from None

    def transcribe(self, path: Path) -> tuple[str, list[tuple[float, float, str]]]:
        audio = decode_audio(path)
        if not len(audio):
            return "", []
        segments, info = self.model.transcribe(audio, vad_filter=False)
        return info.language or "", [(s.start, s.end, s.text.strip()) for s in segments if s.text.strip()]


@dataclasses.dataclass
class SpeechResult:
    transcribed: int = 0
    failed: int = 0
    skipped: str | None = None  # why it did not run


_PENDING = """
SELECT m.post_id, m.path, m.sha256 FROM media m
WHERE m.kind = 'video' AND m.removed_at IS NULL
  AND NOT EXISTS (SELECT 1 FROM transcripts t WHERE t.post_id = m.post_id)
ORDER BY m.post_id
"""


def transcribe_videos(
    con: duckdb.DuckDBPyConnection, settings: Settings, *, engine: Engine | None = None, posts: list[str] | None = None
) -> SpeechResult:
    """Transcribe the downloaded videos that have no transcript of any source (of ``posts`` when given)."""
    result = SpeechResult()
    if engine is None:
        if not settings.whisper_model:
            result.skipped = "off (set TIKTOK_INTEL_WHISPER_MODEL)"
            return result
        rows = of_posts(con, _PENDING, (), posts)
        if not rows:
            return result
        try:
            engine = WhisperEngine(settings)
        except SpeechUnavailableError as exc:
            result.skipped = str(exc)
            return result
    else:
        rows = of_posts(con, _PENDING, (), posts)
    found = []
    for post_id, path, sha in rows:
        try:
            language, parts = engine.transcribe(settings.media_dir / path)
        except Exception:  # noqa: BLE001 - one unreadable video must not stop the others
            result.failed += 1
            continue
        segments = [Segment(float(a), float(b), str(t)) for a, b, t in parts]
        found.append(from_segments(post_id, "whisper", language, segments, sha))
    result.transcribed = save(con, [t for t in found if t.text or t.segments is not None])
    return result


def describe(engine: Any) -> str:
    return type(engine).__name__
