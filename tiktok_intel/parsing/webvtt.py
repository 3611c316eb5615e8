"""WebVTT, as TikTok publishes its captions (``video.subtitleInfos[].Url``): a pure parser that never
raises. Cue timing (``HH:MM:SS.mmm`` or ``MM:SS.mmm``, cue settings after it), cue identifiers,
multi-line cues (joined by a space), ``NOTE``/``STYLE``/``REGION`` blocks skipped, styling tags
(``<c.x>``, ``<v Name>``, ``<b>``, ``<i>``, ``<u>``, ``<ruby>``/``<rt>``, ``<lang>``, inner
timestamps) removed and entities decoded. A file that cannot be read (no ``WEBVTT`` header, an
encoding it does not declare, only broken timings) gives no segments and a reason.
"""

from __future__ import annotations

import codecs
import dataclasses
import html
import re

#: Largest caption file read, in bytes (TikTok's are a few kilobytes).
MAX_VTT_BYTES = 5_000_000
#: Most cues kept from one file.
MAX_CUES = 20_000

_TIMING = re.compile(
    r"^\s*((?:\d+:)?\d{1,2}:\d{2}[.,]\d{1,3})\s*-->\s*((?:\d+:)?\d{1,2}:\d{2}[.,]\d{1,3})(?:\s+.*)?$",
)
_TAG = re.compile(r"<[^>]*>")
_RT = re.compile(r"<rt>.*?</rt>", re.S)
_SPACES = re.compile(r"\s+")


@dataclasses.dataclass
class Segment:
    start_s: float
    end_s: float
    text: str

    def as_dict(self) -> dict:
        return {"start_s": round(self.start_s, 3), "end_s": round(self.end_s, 3), "text": self.text}


@dataclasses.dataclass
class VttResult:
    segments: list[Segment] = dataclasses.field(default_factory=list)
    error: str | None = None  # why nothing could be read (a short reason, then detail)
    broken_cues: int = 0  # cues skipped for a bad timing

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def text(self) -> str:
        return " ".join(s.text for s in self.segments)


def seconds(stamp: str) -> float | None:
    """``01:02:03.500`` or ``02:03.5`` -> seconds; ``None`` when it is not a time."""
    parts = stamp.strip().replace(",", ".").split(":")
    try:
        if len(parts) == 3:
            h, m, s = int(parts[0]), int(parts[1]), float(parts[2])
        elif len(parts) == 2:
            h, m, s = 0, int(parts[0]), float(parts[1])
        else:
            return None
    except ValueError:
        return None
    if m >= 60 or s >= 60 or h < 0:
        return None
    return h * 3600 + m * 60 + s


def decode(data: bytes) -> tuple[str | None, str | None]:
    """The text of a caption file: UTF-8 (WebVTT's only encoding), or UTF-16/32 with a byte-order
    mark; anything else is refused (``(None, reason)``), never guessed."""
    for bom, codec in ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"), (codecs.BOM_UTF8, "utf-8-sig")):
        if data.startswith(bom):
            break
    else:
        codec = "utf-16" if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) else "utf-8"
    try:
        return data.decode(codec), None
    except UnicodeDecodeError:
        return None, "unknown encoding (WebVTT is UTF-8)"


def clean_cue_text(lines: list[str]) -> str:
    """One cue's lines as plain text: tags removed, entities decoded, whitespace collapsed."""
    text = " ".join(lines)
    text = _RT.sub("", text)
    text = _TAG.sub("", text)
    text = html.unescape(text).replace("\u200e", "").replace("\u200f", "")
    return _SPACES.sub(" ", text).strip()


def parse_webvtt(data: bytes | str) -> VttResult:
    """Parse a WebVTT file; never raises (see the module's doc)."""
    result = VttResult()
    if isinstance(data, bytes):
        if not data.strip():
            result.error = "empty caption file"
            return result
        if len(data) > MAX_VTT_BYTES:
            result.error = f"caption file over {MAX_VTT_BYTES:,} bytes"
            return result
        text, problem = decode(data)
        if text is None:
            result.error = problem
            return result
    else:
        text = data
    text = text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "\ufffd")
    if not re.match(r"WEBVTT(?:[ \t].*)?(?:\n|$)", text):
        result.error = "not WebVTT (no WEBVTT header)"
        return result
    blocks = re.split(r"\n[ \t]*\n", text)
    for block in blocks[1:]:
        lines = [line for line in block.split("\n")]
        while lines and not lines[0].strip():
            lines.pop(0)
        if not lines:
            continue
        head = lines[0].strip()
        if head.startswith(("NOTE", "STYLE", "REGION")) and "-->" not in head:
            continue
        if "-->" not in head:  # a cue identifier, then the timing
            lines = lines[1:]
            if not lines or "-->" not in lines[0]:
                continue  # stray text: not a cue
        timing = _TIMING.match(lines[0])
        start = seconds(timing.group(1)) if timing else None
        end = seconds(timing.group(2)) if timing else None
        if start is None or end is None or end < start:
            result.broken_cues += 1
            continue
        cue = clean_cue_text([line for line in lines[1:] if line.strip()])
        if not cue:
            continue
        if result.segments and result.segments[-1].text == cue and abs(result.segments[-1].end_s - start) < 0.05:
            result.segments[-1].end_s = end  # one cue repeated back to back (rolling captions)
            continue
        result.segments.append(Segment(start, end, cue))
        if len(result.segments) >= MAX_CUES:
            break
    if not result.segments and result.broken_cues:
        result.error = f"broken timings ({result.broken_cues} cue(s) with no readable time)"
    return result
