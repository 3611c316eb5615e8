"""The raw landing zone: every page exactly as it arrived, written once, never edited.

A page is two files in ``<workspace>/raw/<source>/<yyyy-mm-dd>/``:

* ``<run-id>-<n>.json`` (or ``.ndjson``, ``.html``, optionally ``.gz``): the body, byte for byte;
* ``<run-id>-<n>.meta.json``: where it came from — source, request (secrets removed), fetched_at,
  tracked hashtag, run id, page number and the body's sha256.

An imported file's body is content-addressed instead (``write_page(..., shared_body=True)``): kept
once in ``<workspace>/raw/<source>/bodies/<sha256[:2]>/<sha256>.<suffix>``, and its meta file names
it (``"body"``, relative to the raw folder), so importing the same bytes again (or again after a
killed import) adds a meta file, never another copy.

Both are written to a temporary name and renamed into place, body first; a page is complete when
its meta file exists, so a crash mid-write leaves nothing that looks like a page (at most a body a
rerun finds by its checksum). Nothing in the raw zone is edited or deleted by the program. Every table in
the store can be rebuilt from this folder (``tiktok-intel process --rebuild``).

A page damaged on disk afterwards (an unreadable meta file, a missing or undecompressable body, a
body that no longer matches its checksum) is still listed, with the ``problem``
(:meth:`RawPage.verify`), so that ingest rejects it with its reason and goes on with the others.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import errno
import gzip
import hashlib
import json
import os
import re
import secrets as _secrets
import tempfile
import zlib
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from . import clock, rawshare
from .errors import RawZoneError
from .settings import get_settings

META_SUFFIX = ".meta.json"
#: Query parameters and headers never written to disk.
SECRET_KEYS = {"mstoken", "client_secret", "client_key", "access_token", "authorization", "cookie", "x-tt-params", "proxy"}
#: Errors that mean "no room to write": a full disk, a quota, a file size limit.
NO_ROOM = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG}
#: How a damaged page's identity starts (its ``sha256`` in ``raw_pages`` and ``rejects``): never a real checksum.
CORRUPT_PREFIX = "corrupt-"
_RESTORE = "restore it from a backup, then run `tiktok-intel process`"


#: gzip level of compressed raw bodies: 6 writes a feed page 5.7x faster than 9 for 4 % more bytes
#: (7.9 % against 7.6 % of the JSON; bench/imports.py). Any level reads back the same.
GZIP_LEVEL = 6


def new_run_id(now: dt.datetime | None = None) -> str:
    """A sortable, unique run id: ``20261124T080100Z-3f9c2a``."""
    now = now or clock.now()
    return now.strftime("%Y%m%dT%H%M%SZ") + "-" + _secrets.token_hex(3)


@dataclasses.dataclass(frozen=True)
class RawPage:
    body_path: Path
    meta: Mapping[str, Any]
    #: Why the page cannot be ingested (``None``: as far as its files were read, it can); see :meth:`verify`.
    problem: str | None = None
    #: Its meta file, when that is not beside the body (a content-addressed body, shared by several pages).
    meta_file: Path | None = None

    @property
    def meta_path(self) -> Path:
        return self.meta_file or meta_path_for(self.body_path)

    @property
    def sha256(self) -> str:
        return self.meta["sha256"]

    @property
    def source(self) -> str:
        return self.meta.get("source", "")

    @property
    def hashtag(self) -> str | None:
        return self.meta.get("hashtag")

    @property
    def run_id(self) -> str | None:
        return self.meta.get("run_id")

    @property
    def fetched_at(self) -> dt.datetime | None:
        value = self.meta.get("fetched_at")
        return clock.parse_time(value) if value else None  # None only for a damaged page

    def read_bytes(self) -> bytes:
        if self.body_path.suffix != ".gz":
            return self.body_path.read_bytes()
        with self.body_path.open("rb") as handle:
            return inflate(handle, get_settings().max_inflated_bytes)

    def verify(self) -> RawPage:
        """This page, or, when it is damaged, a stand-in for it carrying the ``problem`` (its
        reason) under an identity of its own (``corrupt-<sha256 of its files>``), so the damage is
        rejected once and a restored page is ingested as new. Reads and checksums the body."""
        if self.problem:
            return self
        try:
            data = self.read_bytes()
        except (OSError, EOFError, zlib.error, TooLargeError) as exc:  # gzip.BadGzipFile is an OSError
            return _damaged(self.meta_path, self.body_path, "raw page body cannot be read", f"{type(exc).__name__}: {exc}", self.meta)
        if hashlib.sha256(data).hexdigest() != self.meta.get("sha256"):
            return _damaged(
                self.meta_path,
                self.body_path,
                "raw page corrupted: its body no longer matches the sha256 in its meta file",
                f"expected {self.meta.get('sha256')}, found {hashlib.sha256(data).hexdigest()} ({len(data)} bytes)",
                self.meta,
            )
        return self


class TooLargeError(ValueError):
    """Data past a size limit (:func:`inflate`)."""


#: How much is read or inflated at a time: memory stays at the limit, whatever a file claims.
CHUNK = 1 << 20


def inflate(handle: Any, limit: int, *, keep: bool = True) -> bytes:
    """The gzip stream ``handle`` (a binary file) inflated, read ``CHUNK`` at a time and stopped as
    soon as it passes ``limit`` bytes (:class:`TooLargeError`); with ``keep=False`` only counted
    (returns ``b""``), for a check before the work. Damage raises ``OSError``/``EOFError``/``zlib.error``."""
    out = bytearray()
    size = 0
    with gzip.GzipFile(fileobj=handle, mode="rb") as stream:
        while chunk := stream.read(CHUNK):
            size += len(chunk)
            if size > limit:
                raise TooLargeError(f"inflates to more than {limit:,} bytes (max_inflated_bytes)")
            if keep:
                out += chunk
    return bytes(out)


def meta_path_for(body_path: Path) -> Path:
    name = body_path.name[:-3] if body_path.name.endswith(".gz") else body_path.name
    stem = name.rsplit(".", 1)[0]
    return body_path.with_name(stem + META_SUFFIX)


_URL_IN_TEXT = re.compile(r"https?://[^\s\"'<>]+\?[^\s\"'<>]*")


def _redact_url(url: str) -> str:
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    if not any(k.lower() in SECRET_KEYS for k, _ in query):
        return url  # left byte for byte
    return urlunsplit(parts._replace(query=urlencode([(k, "***" if k.lower() in SECRET_KEYS else v) for k, v in query])))


def redact(value: Any, secrets: list[str] | None = None) -> Any:
    """``value`` without secrets: the one redaction, for what is written to disk, logged, recorded
    or shown. In a mapping (a request's headers, parameters), the values of :data:`SECRET_KEYS`
    become ``***``; in text, the secret query parameters of every URL in it, and every value of
    ``secrets`` (default: the secret settings' values). Lists and mappings are redacted item by item."""
    secrets = [s for s in (secrets if secrets is not None else get_settings().secrets()) if s]
    if isinstance(value, Mapping):
        return {k: ("***" if str(k).lower() in SECRET_KEYS else redact(v, secrets)) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [redact(v, secrets) for v in value]
    if isinstance(value, str):
        if "://" in value and "?" in value:
            value = _URL_IN_TEXT.sub(lambda m: _redact_url(m.group(0)), value)
        for secret in secrets:
            value = value.replace(secret, "***")
        return value
    return value


def holds_secret(value: Any, secrets: list[str] | None = None) -> bool:
    """Whether ``value`` (as text) holds something :func:`redact` would remove."""
    text = str(value)
    return redact(text, secrets) != text


def _atomic_write(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=path.suffix)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with _suppress():
            os.unlink(tmp)
        raise


class _suppress:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return True


def write_page(
    body: bytes | str | Any,
    *,
    source: str,
    run_id: str,
    page: int,
    request: Any = None,
    fetched_at: dt.datetime | None = None,
    hashtag: str | None = None,
    suffix: str = ".json",
    compress: bool = False,
    raw_dir: Path | None = None,
    extra: Mapping[str, Any] | None = None,
    shared_body: bool = False,
) -> RawPage:
    """Write one page to the raw zone and return it. ``body`` is kept byte for byte.

    ``body`` may be bytes, text, or a JSON-serialisable object (serialised once, here). With
    ``shared_body``, the body is content-addressed (kept once, see the module's doc): written only
    when no body with its checksum is there yet, and the meta file names it.
    """
    if not re.fullmatch(r"[a-z0-9_-]+", source):
        raise ValueError(f"source must be a short lower-case name, got {source!r}")
    if isinstance(body, str):
        data = body.encode("utf-8")
    elif isinstance(body, (bytes, bytearray)):
        data = bytes(body)
    else:
        data = json.dumps(body, ensure_ascii=False).encode("utf-8")
    fetched_at = fetched_at or clock.now()
    root = Path(raw_dir or get_settings().raw_dir)
    folder = root / source / fetched_at.strftime("%Y-%m-%d")
    sha = hashlib.sha256(data).hexdigest()
    if shared_body:
        name = f"{source}/{BODIES}/{sha[:2]}/{sha}{suffix}{'.gz' if compress else ''}"
        body_path, mpath = root / name, folder / f"{run_id}-{page}{META_SUFFIX}"
    else:
        body_path = folder / f"{run_id}-{page}{suffix}{'.gz' if compress else ''}"
        mpath = meta_path_for(body_path)
    meta = {
        "source": source,
        "run_id": run_id,
        "page": page,
        "fetched_at": clock.iso(fetched_at),
        "hashtag": hashtag,
        "request": redact(request),
        "sha256": sha,
        "bytes": len(data),
        **(dict(extra) if extra else {}),
        **({"body": name} if shared_body else {}),
    }
    try:
        text = json.dumps(meta, ensure_ascii=False, indent=1).encode("utf-8")  # before any file: what cannot be written stops here
    except UnicodeEncodeError as exc:
        raise RawZoneError(
            f"cannot record {_shown(exc.object[max(0, exc.start - 40) : exc.end + 40])!r}: it is not UTF-8 text; rename the file or fix the value"
        ) from None
    try:
        folder.mkdir(parents=True, exist_ok=True)
        if mpath.exists():
            old = json.loads(mpath.read_text())
            if old.get("sha256") == meta["sha256"]:
                return RawPage(body_path, old, meta_file=mpath if shared_body else None)
            raise RawZoneError(f"{mpath} already exists with other content: raw pages are never overwritten; use a new run id")
        if not (shared_body and body_path.is_file()):  # a shared body already there (an earlier or killed import) is kept as it is
            body_path.parent.mkdir(parents=True, exist_ok=True)
            _atomic_write(body_path, gzip.compress(data, compresslevel=GZIP_LEVEL, mtime=0) if compress else data)
        _atomic_write(mpath, text)
        if get_settings().raw_url:  # the shared raw store (docs/scaling.md): body first, then the meta file
            rawshare.put(root, [body_path, mpath])
    except OSError as exc:
        if exc.errno in NO_ROOM:
            raise RawZoneError(
                f"no room to write in {folder} ({exc.strerror}): the disk is full; free space, then run again (nothing was half-written)"
            ) from None
        raise RawZoneError(
            f"cannot write to the raw zone {folder}: {exc.strerror}; set a writable workspace (--db or TIKTOK_INTEL_WORKSPACE)"
        ) from None
    return RawPage(body_path, meta, meta_file=mpath if shared_body else None)


def _shown(text: str) -> str:
    """``text`` printable: bytes that are not UTF-8 (surrogate-escaped) as ``\\xNN``."""
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace") if isinstance(text, str) else str(text)


#: The folder of each source's content-addressed bodies (``write_page(..., shared_body=True)``).
BODIES = "bodies"
_SHARED_BODY = re.compile(r"[a-z0-9_-]+/" + BODIES + r"/[0-9a-f]{2}/[0-9a-f]{64}\.[a-z]+(\.gz)?")


def _shared_body(meta_path: Path, meta: Mapping[str, Any]) -> Path | None:
    """The content-addressed body a meta file names (``None``: its body is beside it); a name that
    is not one (a hand-edited meta file) is refused rather than followed out of the raw zone."""
    name = meta.get("body")
    if name is None:
        return None
    if not isinstance(name, str) or not _SHARED_BODY.fullmatch(name) or name.split("/")[-1][:64] != meta.get("sha256"):
        raise ValueError(f"its body {name!r} is not a raw body's name")
    return meta_path.parent.parent.parent / name


def read_page(meta_path: Path, bodies: dict[str, str] | None = None) -> RawPage:
    """The page whose meta file is ``meta_path`` (``bodies``: the folder's body files by stem, if known)."""
    meta_path = Path(meta_path)
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    shared = _shared_body(meta_path, meta)
    if shared is not None:
        return RawPage(shared, meta, meta_file=meta_path)
    stem = meta_path.name[: -len(META_SUFFIX)]
    body = (bodies if bodies is not None else _bodies(os.listdir(meta_path.parent))).get(stem)
    if body is None:
        raise RawZoneError(f"{meta_path} has no body file beside it: the raw zone was edited by hand")
    return RawPage(meta_path.with_name(body), meta)


def _damaged(meta_path: Path, body_path: Path | None, reason: str, detail: str, meta: Mapping[str, Any] | None = None) -> RawPage:
    """A stand-in for a damaged page: identity from the bytes of its files, ``problem`` its reason."""
    digest = hashlib.sha256()
    for path in (meta_path, body_path):
        if path is not None:
            try:
                digest.update(path.read_bytes())
            except OSError:
                digest.update(b"\0unreadable\0")
    meta = dict(meta) if isinstance(meta, Mapping) else {}
    if not isinstance(meta.get("fetched_at"), str):
        meta.pop("fetched_at", None)
    else:
        try:
            clock.parse_time(meta["fetched_at"])
        except ValueError:
            del meta["fetched_at"]
    meta.setdefault("source", meta_path.parent.parent.name)
    meta.update(sha256=CORRUPT_PREFIX + digest.hexdigest(), detail=detail)
    return RawPage(body_path or meta_path, meta, problem=f"{reason}: {_RESTORE}", meta_file=meta_path)


def _listed_page(meta_path: Path, bodies: dict[str, str]) -> RawPage:
    """The page whose meta file is ``meta_path``, or a stand-in naming its damage (never raises)."""
    stem = meta_path.name[: -len(META_SUFFIX)]
    body = meta_path.with_name(bodies[stem]) if stem in bodies else None
    try:
        meta = json.loads(meta_path.read_bytes())
        if not isinstance(meta, dict) or not isinstance(meta.get("sha256"), str) or not isinstance(meta.get("fetched_at"), str):
            raise ValueError("not a raw page's meta data (no sha256 or fetched_at)")
        clock.parse_time(meta["fetched_at"])
        shared = _shared_body(meta_path, meta)
    except (OSError, ValueError) as exc:  # json.JSONDecodeError and UnicodeDecodeError are ValueErrors
        return _damaged(meta_path, body, "raw page's meta file is unreadable", f"{type(exc).__name__}: {exc}")
    if shared is not None:
        if not shared.is_file():
            return _damaged(meta_path, None, "raw page has no body file where its meta file says", str(shared), meta)
        return RawPage(shared, meta, meta_file=meta_path)
    if body is None:
        return _damaged(meta_path, None, "raw page has no body file beside its meta file", str(meta_path), meta)
    return RawPage(body, meta)


def _bodies(names: list[str]) -> dict[str, str]:
    """Body files by stem (``<run-id>-<n>``; run ids and page numbers hold no dots)."""
    return {n.split(".", 1)[0]: n for n in names if not n.endswith(META_SUFFIX) and not n.startswith(".tmp-")}


def iter_pages(raw_dir: Path | None = None) -> Iterator[RawPage]:
    """Every complete page, oldest fetch first (ties: by path); a damaged one with its ``problem``."""
    root = Path(raw_dir or get_settings().raw_dir)
    if get_settings().raw_url:  # the pages other machines put in the shared raw store first (docs/scaling.md)
        rawshare.sync(root)
    if not root.exists():
        return
    pages = []
    for folder, _, names in os.walk(root):
        bodies = _bodies(names)
        pages.extend(_listed_page(Path(folder) / n, bodies) for n in names if n.endswith(META_SUFFIX))
    pages.sort(key=lambda p: (p.meta.get("fetched_at", ""), str(p.body_path)))
    yield from pages
