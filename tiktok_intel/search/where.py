"""Where a text hit matched: its caption (description, hashtags, author), the text in its images
(covers, slides, key frames), or what is said in it (transcripts, with the time) — and a snippet.

:data:`PLACES` is the one list of places (``search --in`` takes their names); a new place is one
more :class:`Place` here and its fields in the index (``search/text.py``).
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Sequence
from typing import Any

from .errors import QueryError


@dataclasses.dataclass(frozen=True)
class Place:
    name: str  # as `--in` takes it
    fields: tuple[str, ...]  # the index's text fields searched there
    label: str  # as a hit shows it


#: Where a text search looks (``--in``): the one list.
PLACES: tuple[Place, ...] = (
    Place("caption", ("description", "hashtags", "author"), "caption"),
    Place("image", ("ocr",), "image text"),
    Place("speech", ("speech",), "speech"),
)
IN_CHOICES: tuple[str, ...] = tuple(p.name for p in PLACES)


@dataclasses.dataclass(frozen=True)
class Match:
    place: str  # a Place name
    label: str  # "caption", "image text", "speech 0:12"
    snippet: str
    at_s: float | None = None  # speech: where in the video

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def fields_for(places: Sequence[str] | str | None) -> tuple[str, ...] | None:
    """The index fields of ``places`` (``None``: every field); an unknown place is a QueryError."""
    if not places:
        return None
    names = [places] if isinstance(places, str) else list(places)
    unknown = [n for n in names if n not in IN_CHOICES]
    if unknown:
        raise QueryError(f"--in {unknown[0]!r} is not a place to search: use one of {', '.join(IN_CHOICES)}")
    return tuple(f for p in PLACES if p.name in names for f in p.fields)


_TOKEN = re.compile(r"[^\W_]+")


def _stems(analyzer: Any, text: str) -> list[str]:
    try:
        return analyzer.analyze(text)
    except Exception:  # noqa: BLE001 - tantivy's analyzer on odd text: fall back to lower-case words
        return [w.lower() for w in _TOKEN.findall(text)]


def _snippet(analyzer: Any, text: str, stems: set[str], width: int = 120) -> str | None:
    for m in _TOKEN.finditer(text or ""):
        if set(_stems(analyzer, m.group(0))) & stems:
            start = max(0, m.start() - width // 3)
            end = min(len(text), start + width)
            cut = text[start:end].replace("\n", " ")
            return ("…" if start else "") + cut.strip() + ("…" if end < len(text) else "")
    return None


def timestamp(seconds: float) -> str:
    whole = int(max(0.0, float(seconds)))
    h, rest = divmod(whole, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def explain(analyzer: Any, stored: dict[str, str], words: Sequence[str], places: Sequence[str] | None = None) -> list[Match]:
    """The places a hit's stored text (``caption``, ``image``, ``speech`` as the index keeps them)
    holds any of ``words``, each with a snippet (speech: the segment, and its time)."""
    stems = {s for w in words for s in _stems(analyzer, w)}
    if not stems:
        return []
    found = []
    for place in PLACES:
        if places and place.name not in places:
            continue
        text = stored.get(place.name) or ""
        if place.name == "speech":
            try:
                segments = json.loads(text) if text else []
            except ValueError:
                segments = []
            for segment in segments:
                if not isinstance(segment, list) or len(segment) != 2:
                    continue
                start, said = segment
                snip = _snippet(analyzer, str(said), stems)
                if snip:
                    at = float(start) if start is not None else None
                    found.append(Match("speech", f"speech {timestamp(at)}" if at is not None else "speech", snip, at))
                    break
            continue
        snip = _snippet(analyzer, text, stems)
        if snip:
            found.append(Match(place.name, place.label, snip))
    return found
