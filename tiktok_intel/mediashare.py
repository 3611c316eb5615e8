"""A raw-only run's downloads, carried to the writer that ingests its pages (work pools,
docs/scaling.md): a collector that writes nothing to the store still downloads each page's videos,
slides and captions as the page arrives (:mod:`tiktok_intel.downloads`); this module makes what it
did reach the store wherever that is.

- :func:`share_outcome`, on the collector at the end of the run: the files it downloaded are put
  under ``_media/`` in the shared raw store (when there is one: :mod:`tiktok_intel.rawshare`), then
  one raw page of source ``downloads`` is written holding the run's :class:`MediaOutcome` (the
  files with their sha256, what was offered, what failed; URLs redacted). The page goes to raw like
  any other, so it reaches every writer, and a crash before it is written leaves no half of it.
- :func:`received`, on the writer while it ingests that page (:mod:`tiktok_intel.ingest.pages`):
  each file is taken from the writer's media folder when it is already there (one shared
  workspace) or fetched from ``_media/``; its sha256 must be the one recorded, or the file counts
  as a failure (``missing from the shared raw store``, retryable), never as downloaded. The outcome
  is then recorded (:func:`tiktok_intel.downloads.record_outcome`) in the transaction that marks
  the page done, so it is recorded once, whichever writer takes it.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
from pathlib import Path
from typing import Any

from . import clock, rawshare
from .downloads import FOLDERS, Failure, MediaOutcome, write_file
from .media import MediaRecord
from .parsing.item_media import Offer
from .raw import RawPage, redact, write_page
from .settings import Settings

#: The raw source of a run's downloads, and the shape its pages are recorded with in ``raw_pages``.
SOURCE = "downloads"
SHAPE = "media_outcome"
VERSION = 1
#: A media file's path as :func:`tiktok_intel.downloads.target_name` makes it (nothing else is followed).
_PATH = re.compile(r"(videos|slides|captions)/[0-9]{1,30}(-[0-9]{1,4})?\.[a-z0-9]{2,5}")
_SHA = re.compile(r"[0-9a-f]{64}")
MISSING = "missing from the shared raw store"


def share_outcome(outcome: MediaOutcome | None, run_id: str, settings: Settings) -> RawPage | None:
    """The collector's side (see the module's doc): ``None`` when the run offered no media."""
    if outcome is None or not (outcome.offers or outcome.records or outcome.failures):
        return None
    if settings.raw_url:  # the files first: the page that lists them is complete only after them
        rawshare.put_media(settings.media_dir, [r.path for r in outcome.records], settings)
    return write_page(as_json(outcome), source=SOURCE, run_id=run_id, page=1, raw_dir=settings.raw_dir)


def as_json(outcome: MediaOutcome) -> dict[str, Any]:
    """The outcome as a raw page's body (URLs and failure details redacted), in one order whatever
    order the concurrent downloads finished in: the same run gives the same bytes, so one raw row."""
    records = [
        {**dataclasses.asdict(r), "source_url": redact(r.source_url), "fetched_at": clock.iso(r.fetched_at)} for r in outcome.records
    ]
    offers = [
        {
            "post_id": o.post_id,
            "kind": o.kind,
            "seq": o.seq,
            "url": redact(o.urls[0]) if o.urls else None,
            "language": o.language,
            "source": o.source,
        }
        for o in outcome.offers
    ]
    failures = [{**dataclasses.asdict(f), "detail": redact(f.detail)} for f in outcome.failures]
    return {
        "kind": SHAPE,
        "version": VERSION,
        "records": _ordered(records),
        "offers": _ordered(offers),
        "failures": _ordered(failures),
        "present": outcome.present,
        "refreshed": outcome.refreshed,
    }


def _ordered(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(entries, key=lambda e: (e["post_id"], e["kind"], e["seq"], json.dumps(e, sort_keys=True)))


def from_json(body: bytes) -> MediaOutcome:
    """The outcome a ``downloads`` page holds; ``ValueError`` naming what is wrong when it is not one."""
    data = json.loads(body)
    if not isinstance(data, dict) or data.get("kind") != SHAPE or data.get("version") != VERSION:
        raise ValueError(f"not a downloads page of version {VERSION} (kind {SHAPE!r})")
    outcome = MediaOutcome(present=_count(data.get("present")), refreshed=_count(data.get("refreshed")))
    for r in _list(data, "records"):
        path, sha = r.get("path"), r.get("sha256")
        if not isinstance(path, str) or not _PATH.fullmatch(path) or not isinstance(sha, str) or not _SHA.fullmatch(sha):
            raise ValueError(f"a downloaded file's path or sha256 is not one this program writes: {str(path)[:80]!r}")
        post_id, kind, seq = _key(r)
        if FOLDERS[kind] != path.split("/", 1)[0]:
            raise ValueError(f"the {kind} of post {post_id} is filed under {path!r}")
        outcome.records.append(
            MediaRecord(
                post_id,
                kind,
                seq,
                path,
                sha,
                _text(r.get("source_url")),
                _text(r.get("content_type")),
                _count(r.get("bytes")),
                _optional_count(r.get("width")),
                _optional_count(r.get("height")),
                _time(r.get("fetched_at"), post_id),
            )
        )
    for o in _list(data, "offers"):
        post_id, kind, seq = _key(o, cover=True)
        url = o.get("url")
        outcome.offers.append(
            Offer(
                post_id,
                kind,
                seq,
                (url,) if isinstance(url, str) else (),
                language=_optional(o.get("language")),
                source=_optional(o.get("source")),
            )
        )
    for f in _list(data, "failures"):
        post_id, kind, seq = _key(f)
        outcome.failures.append(
            Failure(post_id, kind, seq, _text(f.get("reason"))[:100], _text(f.get("detail"))[:300], f.get("retryable") is True)
        )
    return outcome


def received(outcome: MediaOutcome, settings: Settings) -> MediaOutcome:
    """The writer's side (see the module's doc): ``outcome`` with each of its files in this
    machine's media folder, and each that cannot be (not there, not in ``_media/``, or not the
    bytes recorded) turned into a retryable failure."""
    kept: list[MediaRecord] = []
    failures = list(outcome.failures)
    fetch = None
    for r in outcome.records:
        target = Path(settings.media_dir) / r.path
        if _sha256(target) == r.sha256:
            kept.append(r)
            continue
        fetch = fetch or rawshare.media_fetcher(settings)
        data = fetch(r.path)
        if data is not None and hashlib.sha256(data).hexdigest() == r.sha256:
            write_file(target, data)
            kept.append(r)
            continue
        found = "not there" if data is None else "other bytes than the collector recorded"
        detail = f"the {r.kind} of post {r.post_id} ({r.path}) is {found} in the shared raw store's {rawshare.MEDIA}/: the next collection fetches it again"
        failures.append(Failure(r.post_id, r.kind, r.seq, MISSING, detail, True))
    return dataclasses.replace(outcome, records=kept, failures=failures)


def _sha256(path: Path) -> str | None:
    try:
        digest = hashlib.sha256()
        with path.open("rb") as handle:
            while chunk := handle.read(1 << 20):
                digest.update(chunk)
        return digest.hexdigest()
    except OSError:
        return None


def _list(data: dict, name: str) -> list[dict]:
    value = data.get(name, [])
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise ValueError(f"its {name} are not a list of objects")
    return value


def _key(value: dict, *, cover: bool = False) -> tuple[str, str, int]:
    post_id, kind, seq = value.get("post_id"), value.get("kind"), value.get("seq")
    kinds = (*FOLDERS, "cover") if cover else tuple(FOLDERS)
    if not (
        isinstance(post_id, str)
        and post_id.isdigit()
        and kind in kinds
        and isinstance(seq, int)
        and not isinstance(seq, bool)
        and 0 <= seq < 10_000
    ):
        raise ValueError(f"a media entry names no post, kind and position this program knows: {json.dumps(value)[:120]}")
    return post_id, kind, seq


def _time(value: Any, post_id: str):
    try:
        return clock.parse_time(value)
    except (AttributeError, TypeError, ValueError):
        raise ValueError(f"a downloaded file of post {post_id} has no time it was fetched") from None


def _count(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else 0


def _optional_count(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _optional(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None
