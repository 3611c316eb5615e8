"""Search over everything collected: text (descriptions, hashtags, authors, words in images), images, duplicates.

Importable for notebooks::

    from tiktok_intel import search
    search.process_media(con)                       # hash + OCR new media, refresh the text index
    search.search_text(con, "valet", hashtag="svtnyheter", since="2026-11-01")
    search.search_image(con, "cover.jpg")           # or an image URL on an allowed host, or a post id
    search.find_duplicates(con)
    search.search_meaning(con, "brinnande bil")    # what the pictures show (the CLIP model: `tiktok-intel models fetch`)
    search.search_similar(con, "cover.jpg")         # similar content, not only copies

Call :func:`refresh_index` after every ingest; it returns at once when nothing changed.
"""

from __future__ import annotations

from .errors import DownloadError, HostNotAllowedError, ImageInputError, IndexBusyError, QueryError, SearchError
from .hashing import hash_file, hash_media, image_hashes
from .images import DuplicateGroup, HashIndex, ImageHit, find_duplicates, search_image
from .keyframes import extract_keyframes
from .media import MediaSummary, process_media
from .ocr import check_tesseract, ocr_image, ocr_images, ocr_media
from .semantic import SemanticHit, embed_media, fuse, search_meaning, search_similar
from .text import TextHit, refresh_index, search_text

__all__ = [
    "DownloadError",
    "DuplicateGroup",
    "HashIndex",
    "HostNotAllowedError",
    "ImageHit",
    "ImageInputError",
    "IndexBusyError",
    "MediaSummary",
    "QueryError",
    "SemanticHit",
    "SearchError",
    "TextHit",
    "check_tesseract",
    "embed_media",
    "extract_keyframes",
    "find_duplicates",
    "fuse",
    "hash_file",
    "hash_media",
    "image_hashes",
    "ocr_image",
    "ocr_images",
    "ocr_media",
    "process_media",
    "refresh_index",
    "search_image",
    "search_meaning",
    "search_similar",
    "search_text",
]
