"""Words in images: Tesseract OCR of every cover and key frame, stored per image in ``ocr_text``.

Tesseract runs as a subprocess (Debian ``tesseract-ocr`` + ``tesseract-ocr-swe``) with
``OMP_THREAD_LIMIT=1`` (its OpenMP threads only slow small images down: about 0.2 s an image instead
of 0.4 s), as many processes at once as there are CPUs, each reading a batch of images from a list
file (:func:`ocr_images`): loading the language data is most of a small image's time (12 covers:
0.58 s of CPU in one process against 2.28 s in twelve). A batch Tesseract stops in (an unreadable
image ends the whole list) is read again one image at a time, so each image gets its own text or
error. Languages come from ``settings.ocr_languages`` (default ``swe+eng``: ``swe`` alone misreads
``#``).

Where Tesseract or a language is missing, :func:`ocr_media` logs one line saying what to install
and returns; the images stay pending and are read on a later run.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import functools
import logging
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import duckdb

from .. import clock
from ..progress import progress
from ..settings import get_settings
from ..store.database import of_posts, release
from .hashing import save_rows

log = logging.getLogger("tiktok_intel.search")

#: Seconds one image may take before Tesseract is stopped.
TIMEOUT_SECONDS = 60


@dataclasses.dataclass
class OcrResult:
    read: int = 0  # images read (text may be empty)
    with_text: int = 0  # images where words were found
    failed: int = 0  # images Tesseract could not read
    pending: int = 0  # images left for later (Tesseract missing)
    unavailable: str | None = None  # why OCR did not run, one line

    def summary(self) -> str:
        if self.unavailable:
            return f"OCR skipped ({self.unavailable})"
        return f"{self.read} images OCR'd ({self.with_text} with text, {self.failed} failed)"


def _env() -> dict[str, str]:
    return {**os.environ, "OMP_THREAD_LIMIT": "1"}


@functools.lru_cache(maxsize=8)
def _available_languages(binary: str) -> frozenset[str]:
    out = subprocess.run([binary, "--list-langs"], capture_output=True, text=True, timeout=30, env=_env())
    lines = (out.stdout + "\n" + out.stderr).splitlines()
    return frozenset(line.strip() for line in lines if line.strip() and " " not in line.strip() and not line.endswith(":"))


def check_tesseract(tesseract: str = "tesseract", languages: str | None = None) -> str | None:
    """``None`` when OCR can run; otherwise one line saying what is missing and how to get it."""
    languages = languages or get_settings().ocr_languages
    binary = shutil.which(tesseract)
    if binary is None:
        return (
            f"Tesseract not found ({tesseract}): install it (apt-get install tesseract-ocr tesseract-ocr-swe) "
            "to make the words in images searchable"
        )
    try:
        have = _available_languages(binary)
    except (OSError, subprocess.SubprocessError) as exc:
        return f"Tesseract at {binary} does not run ({exc}): reinstall tesseract-ocr"
    missing = [lang for lang in languages.split("+") if lang and lang not in have]
    if missing:
        packages = " ".join(f"tesseract-ocr-{m.lower().replace('_', '-')}" for m in missing)
        return f"Tesseract has no language data for {'+'.join(missing)}: apt-get install {packages}, or change TIKTOK_INTEL_OCR_LANGUAGES"
    return None


def ocr_image(path: str | Path, *, languages: str | None = None, tesseract: str = "tesseract") -> str:
    """The text Tesseract reads in one image file (whitespace tidied); raises ``OSError``/``RuntimeError`` on failure."""
    languages = languages or get_settings().ocr_languages
    text = _tesseract(tesseract, path, languages)
    if not text:
        text = _tesseract(tesseract, path, languages, *SAUVOLA)
    return text


#: Tesseract's default global (Otsu) threshold loses dark text on a light band over a gradient, as
#: many covers have; Sauvola's local threshold reads it (37 of 40 offline TikTok text covers
#: exactly, against 28 for the default alone). Tried on the images the default read nothing in.
SAUVOLA = ("-c", "thresholding_method=2")


def ocr_images(
    paths: list[str | Path], *, languages: str | None = None, tesseract: str = "tesseract"
) -> list[tuple[str | None, str | None]]:
    """``(text, error)`` for each image of ``paths``, in order, as :func:`ocr_image` reads them but
    with one Tesseract process for the batch (and one more for the images it found no words in)."""
    languages = languages or get_settings().ocr_languages
    out: list[tuple[str | None, str | None]] = [(text, None) for text in _batch(tesseract, paths, languages)]
    empty = [i for i, (text, _) in enumerate(out) if text == ""]
    for i, text in zip(empty, _batch(tesseract, [paths[i] for i in empty], languages, *SAUVOLA)):
        out[i] = (text, None)
    for i, (text, _) in enumerate(out):
        if text is None:  # the batch stopped: this image alone, with its own error
            try:
                out[i] = (ocr_image(paths[i], languages=languages, tesseract=tesseract), None)
            except (OSError, RuntimeError, subprocess.SubprocessError) as exc:
                out[i] = (None, str(exc)[:500] or type(exc).__name__)
    return out


def _batch(tesseract: str, paths: list[str | Path], languages: str, *options: str) -> list[str | None]:
    """The tidied text of each image in one Tesseract run over a list file (pages come out separated
    by form feeds); all None when Tesseract stopped, timed out or gave another number of pages."""
    if not paths:
        return []
    if len(paths) == 1:
        try:
            return [_tesseract(tesseract, paths[0], languages, *options)]
        except (OSError, RuntimeError, subprocess.SubprocessError):
            return [None]
    with tempfile.NamedTemporaryFile("w", suffix=".txt", encoding="utf-8", delete=False) as listing:
        listing.write("".join(f"{p}\n" for p in paths))
    try:
        ran = subprocess.run(
            [tesseract, listing.name, "stdout", "-l", languages, "--psm", "3", *options],
            capture_output=True,
            timeout=TIMEOUT_SECONDS * len(paths),
            env=_env(),
        )
    except (OSError, subprocess.SubprocessError):
        return [None] * len(paths)
    finally:
        os.unlink(listing.name)
    pages = ran.stdout.decode("utf-8", "replace").split("\f")
    if len(pages) == len(paths) + 1 and not pages[-1].strip():
        pages.pop()
    if ran.returncode != 0 or len(pages) != len(paths):
        return [None] * len(paths)
    return [_tidy(page) for page in pages]


def _tesseract(tesseract: str, path: str | Path, languages: str, *options: str) -> str:
    out = subprocess.run(
        [tesseract, str(path), "stdout", "-l", languages, "--psm", "3", *options], capture_output=True, timeout=TIMEOUT_SECONDS, env=_env()
    )
    if out.returncode != 0:
        message = out.stderr.decode("utf-8", "replace").strip().splitlines()
        raise RuntimeError(message[-1] if message else f"tesseract exited with {out.returncode}")
    return _tidy(out.stdout.decode("utf-8", "replace"))


def _tidy(text: str) -> str:
    return "\n".join(" ".join(line.split()) for line in text.splitlines() if line.strip())


_PENDING = """
SELECT m.post_id, m.kind, m.seq, m.path, m.sha256 FROM media m
LEFT JOIN ocr_text o ON o.post_id = m.post_id AND o.kind = m.kind AND o.seq = m.seq
WHERE (o.media_sha256 IS DISTINCT FROM m.sha256 OR o.languages IS DISTINCT FROM ?) AND m.kind IN ('cover', 'frame', 'slide')
ORDER BY m.post_id, m.kind, m.seq
"""


def pending_ocr(con: duckdb.DuckDBPyConnection, languages: str | None = None, posts: list[str] | None = None) -> list[tuple]:
    return of_posts(con, _PENDING, [languages or get_settings().ocr_languages], posts)


def ocr_media(
    con: duckdb.DuckDBPyConnection,
    *,
    tesseract: str = "tesseract",
    languages: str | None = None,
    workers: int | None = None,
    chunk: int = 50,
    posts: list[str] | None = None,
) -> OcrResult:
    """OCR every media row not read yet (or re-downloaded, or read with other languages), of ``posts``
    when given, and store the text."""
    languages = languages or get_settings().ocr_languages
    todo = pending_ocr(con, languages, posts)
    result = OcrResult()
    if not todo:
        return result
    reason = check_tesseract(tesseract, languages)
    if reason:
        log.warning("%s", reason)
        result.unavailable, result.pending = reason, len(todo)
        return result
    binary = shutil.which(tesseract) or tesseract
    media_dir = get_settings().media_dir

    workers = workers or os.cpu_count() or 1

    def batch(rows: list[tuple]) -> list[tuple]:
        read = ocr_images([media_dir / row[3] for row in rows], languages=languages, tesseract=binary)
        return [(post_id, kind, seq, sha, languages, text, error) for (post_id, kind, seq, _, sha), (text, error) in zip(rows, read)]

    bar = progress(total=len(todo), desc="OCR", unit="img")
    try:
        with concurrent.futures.ThreadPoolExecutor(max_workers=workers) as pool:
            for start in range(0, len(todo), chunk):
                release(con)  # tesseract takes its time: readers of the file get in meanwhile
                part = todo[start : start + chunk]
                size = -(-len(part) // workers)  # one batch (one Tesseract process) per worker
                rows = [r for done in pool.map(batch, [part[i : i + size] for i in range(0, len(part), size)]) for r in done]
                now = clock.now()
                save_rows(
                    con,
                    "ocr_text",
                    ("post_id", "kind", "seq", "media_sha256", "languages", "text", "error", "ocr_at"),
                    [r + (now,) for r in rows],
                )
                result.read += sum(1 for r in rows if r[6] is None)
                result.with_text += sum(1 for r in rows if r[5])
                result.failed += sum(1 for r in rows if r[6] is not None)
                bar.update(len(rows))
    finally:
        bar.close()
    if result.failed:
        log.warning("%d image(s) could not be OCR'd (see ocr_text.error)", result.failed)
    return result
