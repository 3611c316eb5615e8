"""Transcripts: what is said in a post, one row per (post, source, language) in ``transcripts``.

Sources: TikTok's own caption files (``tiktok-asr``, ``tiktok-mt``: WebVTT downloaded at collection
time, parsed by :mod:`tiktok_intel.parsing.webvtt`), the Research API's ``voice_to_text``
(``research``: text without timing), and local speech-to-text (``whisper``, :mod:`tiktok_intel.speech`).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable, Sequence
from typing import Any

import duckdb

from . import clock
from .parsing.webvtt import Segment, VttResult, parse_webvtt
from .store.database import of_posts

SOURCES = ("tiktok-asr", "tiktok-mt", "research", "whisper")
#: Longest transcript text kept, in characters.
MAX_TEXT_CHARS = 200_000


@dataclasses.dataclass
class Transcript:
    post_id: str
    source: str
    language: str
    text: str
    segments: list[dict] | None  # [{start_s, end_s, text}] or None (no timing)
    media_sha256: str | None = None
    fetched_at: Any = None

    def lines(self) -> list[str]:
        """Timestamped lines (``0:12  text``), or the text alone when there is no timing."""
        if not self.segments:
            return [self.text]
        return [f"{timestamp(s['start_s'])}  {s['text']}" for s in self.segments]


def timestamp(seconds: float) -> str:
    """``72.4`` -> ``1:12`` (``h:mm:ss`` past an hour)."""
    whole = int(max(0.0, float(seconds)))
    h, rest = divmod(whole, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def from_segments(post_id: str, source: str, language: str, segments: Sequence[Segment], media_sha256: str | None = None) -> Transcript:
    text = " ".join(s.text for s in segments)[:MAX_TEXT_CHARS]
    return Transcript(post_id, source, language or "", text, [s.as_dict() for s in segments], media_sha256, clock.now())


def from_vtt(post_id: str, source: str, language: str, data: bytes, media_sha256: str | None = None) -> tuple[Transcript | None, VttResult]:
    """A transcript from a caption file, or ``None`` with the parse result saying why."""
    parsed = parse_webvtt(data)
    if not parsed.ok or not parsed.segments:
        return None, parsed
    return from_segments(post_id, source, language, parsed.segments, media_sha256), parsed


def save(con: duckdb.DuckDBPyConnection, transcripts: Iterable[Transcript]) -> int:
    """Insert or replace each (post, source, language); the number written."""
    n = 0
    for t in transcripts:
        if t.source not in SOURCES:
            raise ValueError(f"unknown transcript source {t.source!r}")
        con.execute("DELETE FROM transcripts WHERE post_id = ? AND source = ? AND language = ?", [t.post_id, t.source, t.language])
        con.execute(
            "INSERT INTO transcripts (post_id, source, language, text, segments, media_sha256, fetched_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                t.post_id,
                t.source,
                t.language,
                t.text,
                json.dumps(t.segments, ensure_ascii=False) if t.segments is not None else None,
                t.media_sha256,
                t.fetched_at or clock.now(),
            ],
        )
        n += 1
    return n


def research_transcripts(videos: Iterable[Any]) -> list[Transcript]:
    """``voice_to_text`` of Research API videos (those that have one); never raises."""
    found = []
    for video in videos:
        if not isinstance(video, dict):
            continue
        text = video.get("voice_to_text")
        post_id = video.get("id", video.get("video_id"))
        if not isinstance(text, str) or not text.strip() or isinstance(post_id, bool) or not str(post_id).isdigit():
            continue
        clean = " ".join(text.replace("\x00", "").split())[:MAX_TEXT_CHARS]
        found.append(Transcript(str(post_id), "research", "", clean, None, None, clock.now()))
    return found


def for_post(con: duckdb.DuckDBPyConnection, post_id: str) -> list[Transcript]:
    """A post's transcripts, TikTok's own first."""
    rows = con.execute(
        """SELECT post_id, source, language, text, segments, media_sha256, fetched_at FROM transcripts WHERE post_id = ?
           ORDER BY list_position(['tiktok-asr', 'research', 'whisper', 'tiktok-mt'], source), language""",
        [str(post_id)],
    ).fetchall()
    return [Transcript(r[0], r[1], r[2], r[3], json.loads(r[4]) if r[4] else None, r[5], r[6]) for r in rows]


def where_said(transcript: Transcript, words: Sequence[str]) -> tuple[float | None, str]:
    """The first segment holding any of ``words`` (case-insensitive): (its start, its text)."""
    lowered = [w.lower() for w in words if w]
    for s in transcript.segments or []:
        if any(w in s["text"].lower() for w in lowered):
            return float(s["start_s"]), s["text"]
    return None, transcript.text[:160]


@dataclasses.dataclass
class CaptionResult:
    read: int = 0  # caption files made into transcripts
    failed: int = 0  # files that could not be read (missing, broken)


_CAPTIONS_PENDING = """
SELECT m.post_id, m.seq, m.path, m.sha256, coalesce(s.language, ''), coalesce(s.caption_source, 'tiktok-asr')
FROM media m LEFT JOIN media_sources s ON s.post_id = m.post_id AND s.kind = m.kind AND s.seq = m.seq
WHERE m.kind = 'captions' AND NOT EXISTS (SELECT 1 FROM transcripts t WHERE t.post_id = m.post_id AND t.media_sha256 = m.sha256)
ORDER BY m.post_id, m.seq
"""


def transcribe_captions(con: duckdb.DuckDBPyConnection, media_dir: Any, posts: Sequence[str] | None = None) -> CaptionResult:
    """Transcripts from the caption files downloaded and not read yet (incremental: by file hash), of
    ``posts`` when given."""
    from pathlib import Path

    result = CaptionResult()
    found = []
    for post_id, _seq, path, sha, language, source in of_posts(con, _CAPTIONS_PENDING, (), posts):
        try:
            data = (Path(media_dir) / path).read_bytes()
        except OSError:
            result.failed += 1
            continue
        transcript, _ = from_vtt(post_id, source if source in SOURCES else "tiktok-asr", language, data, sha)
        if transcript is None:
            result.failed += 1
            continue
        found.append(transcript)
    result.read = save(con, found)
    return result
