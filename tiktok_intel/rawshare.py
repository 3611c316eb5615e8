"""The shared raw store: one place every collector and writer sees (``raw_url``: ``s3://bucket/raw``
through s3fs, or any fsspec URL, a mounted folder too), beside each machine's own ``<workspace>/raw/``.

Each machine keeps working on its local raw folder exactly as on one machine (:mod:`tiktok_intel.raw`);
this module only copies pages between the two, under the same relative names:

- :func:`put` right after a page is written locally (the collector's side): body first, then its
  meta file, so the shared store, like the local folder, never holds a meta file whose body is missing
  (a page is complete when its meta file exists);
- :func:`sync` before a writer lists pending pages: the pages others put there and this machine lacks
  are fetched (body, then meta, each written locally under a temporary name and renamed), and the
  local pages the store lacks (an import on this machine, a put that failed) are put there;
- :func:`put_media` and :func:`media_fetcher`: the files a collector downloaded (videos, slides,
  captions) under ``_media/`` (:data:`MEDIA`), put before the raw page that lists them
  (:func:`tiktok_intel.mediashare.share_outcome`) and fetched by the writer that ingests that page.
  :func:`sync` leaves ``_media/`` alone.

An object store has no rename, but a PUT is atomic: an object is there whole or not at all, so the
order body-then-meta is all a reader needs. Nothing is ever deleted or overwritten in either place.
Credentials are the ``s3_*`` settings (secret: never logged, never in an error line).
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from .errors import RawZoneError
from .settings import Settings, get_settings

log = logging.getLogger(__name__)

META_SUFFIX = ".meta.json"  # as raw.META_SUFFIX (raw imports this module, not the other way)
#: The shared raw store's folder of downloaded media files (under their paths in the media folder).
MEDIA = "_media"


class RawStoreError(RawZoneError):
    """The shared raw store cannot be read or written (one line naming the fix)."""


@dataclasses.dataclass
class SyncStats:
    fetched: int = 0
    put: int = 0
    waiting: int = 0  # meta files in the store whose body has not arrived yet (taken next time)


def _storage_options(settings: Settings) -> dict[str, Any]:
    if not settings.raw_url.startswith(("s3://", "s3a://")):
        return {}
    options: dict[str, Any] = {"skip_instance_cache": True, "use_listings_cache": False}
    if settings.s3_key_id:
        options.update(key=settings.s3_key_id, secret=settings.s3_secret)
    if settings.s3_endpoint:
        options["endpoint_url"] = settings.s3_endpoint
    options["client_kwargs"] = {"region_name": settings.s3_region}
    return options


def store(settings: Settings | None = None) -> tuple[Any, str] | None:
    """``(filesystem, root)`` of the shared raw store, or ``None`` when ``raw_url`` is not set."""
    settings = settings or get_settings()
    if not settings.raw_url:
        return None
    import fsspec

    try:
        fs, root = fsspec.core.url_to_fs(settings.raw_url, **_storage_options(settings))
    except (ImportError, ValueError) as exc:
        raise RawStoreError(f"cannot use the shared raw store {settings.raw_url}: {exc}; check TIKTOK_INTEL_RAW_URL") from None
    return fs, root.rstrip("/")


def _fail(settings: Settings, what: str, exc: BaseException) -> RawStoreError:
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    for secret in settings.secrets():
        text = text.replace(secret, "***")
    return RawStoreError(
        f"cannot {what} the shared raw store {settings.raw_url} ({type(exc).__name__}: {text}): "
        "check TIKTOK_INTEL_RAW_URL and the s3_* settings (the page is kept in the local raw folder and put there by the next sync)"
    )


def put(local_root: Path, files: Iterable[Path], settings: Settings | None = None, *, prefix: str = "") -> int:
    """Put ``files`` (under ``local_root``) into the shared raw store, in the order given, each under
    its path relative to ``local_root`` (below ``prefix``, if given); one already there is left as
    it is. Returns how many were put."""
    settings = settings or get_settings()
    found = store(settings)
    if found is None:
        return 0
    fs, root = found
    if prefix:
        root = f"{root}/{prefix}"
    count = 0
    try:
        for path in files:
            key = f"{root}/{Path(path).relative_to(local_root).as_posix()}"
            if fs.exists(key):
                continue
            _put_file(fs, str(path), key)
            count += 1
    except OSError as exc:
        raise _fail(settings, "write to", exc) from None
    except Exception as exc:  # noqa: BLE001 - botocore's and aiohttp's errors are not OSErrors: any is one line
        raise _fail(settings, "write to", exc) from None
    return count


def _put_file(fs: Any, local: str, key: str) -> None:
    """``fs.put_file``, into a folder made first where the store has folders (a mounted share)."""
    protocols = fs.protocol if isinstance(fs.protocol, tuple) else (fs.protocol,)
    if "file" in protocols:
        fs.makedirs(key.rsplit("/", 1)[0], exist_ok=True)
    fs.put_file(local, key)


def put_media(media_dir: Path, relatives: Iterable[str], settings: Settings | None = None) -> int:
    """Put the media files ``relatives`` (paths in ``media_dir``) under ``_media/`` in the shared raw store."""
    return put(media_dir, [Path(media_dir) / r for r in relatives], settings, prefix=MEDIA)


def media_fetcher(settings: Settings | None = None) -> Callable[[str], bytes | None]:
    """A function from a media file's path (in the media folder) to its bytes under ``_media/`` in
    the shared raw store, ``None`` when the store has no such file (or there is no shared raw
    store). One client for all its calls: a new one a file costs more than the file."""
    settings = settings or get_settings()
    found = store(settings)
    if found is None:
        return lambda relative: None
    fs, root = found

    def fetch(relative: str) -> bytes | None:
        try:
            return fs.cat_file(f"{root}/{MEDIA}/{relative}")
        except FileNotFoundError:
            return None
        except Exception as exc:  # noqa: BLE001 - OSError, botocore's and aiohttp's errors alike: one line naming the fix
            raise _fail(settings, "read from", exc) from None

    return fetch


def _pages(fs: Any, root: str) -> set[str]:
    """The relative names of every file in the store but its media (``_media/``, never listed)."""
    if not fs.exists(root):
        return set()
    found = set()
    for entry in fs.ls(root, detail=True):
        name = entry["name"].rstrip("/")
        if name.rsplit("/", 1)[-1] == MEDIA:
            continue
        if entry.get("type") == "directory":
            found.update(p[len(root) + 1 :] for p in fs.find(name))
        else:
            found.add(name[len(root) + 1 :])
    return found


def _local_files(local_root: Path) -> set[str]:
    found = set()
    for folder, _, names in os.walk(local_root):
        rel = Path(folder).relative_to(local_root).as_posix()
        found.update(n if rel == "." else f"{rel}/{n}" for n in names if not n.startswith(".tmp-"))
    return found


def _write_local(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=path.suffix)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def _stem(name: str) -> str:
    base = name.rsplit("/", 1)
    return (base[0] + "/" if len(base) == 2 else "") + base[-1].split(".", 1)[0]


def sync(local_root: Path, settings: Settings | None = None) -> SyncStats:
    """Bring the local raw folder and the shared raw store to the same pages (see the module's doc)."""
    settings = settings or get_settings()
    stats = SyncStats()
    found = store(settings)
    if found is None:
        return stats
    fs, root = found
    local_root = Path(local_root)
    try:
        remote = _pages(fs, root)
        local = _local_files(local_root) if local_root.exists() else set()
        # fetch: each meta file this machine lacks, after its body
        remote_bodies: dict[str, list[str]] = {}
        local_stems = {_stem(n) for n in local if not n.endswith(META_SUFFIX)}
        for name in remote:
            if not name.endswith(META_SUFFIX):
                remote_bodies.setdefault(_stem(name), []).append(name)
        for name in sorted(n for n in remote - local if n.endswith(META_SUFFIX)):
            data = fs.cat_file(f"{root}/{name}")
            try:
                shared = json.loads(data).get("body")
            except (ValueError, AttributeError):
                shared = None  # a damaged meta file: fetched as it is, ingest rejects it with its reason
            bodies = [shared] if isinstance(shared, str) else remote_bodies.get(name[: -len(META_SUFFIX)], [])
            if isinstance(shared, str) and shared not in remote and shared not in local:
                bodies = []
            if not bodies and name[: -len(META_SUFFIX)] not in local_stems:
                stats.waiting += 1
                continue
            for body in bodies:
                if body not in local:
                    _write_local(local_root / body, fs.cat_file(f"{root}/{body}"))
                    local.add(body)
            _write_local(local_root / name, data)
            local.add(name)
            stats.fetched += 1
        # put: each local page the store lacks, body first
        local_bodies: dict[str, list[str]] = {}
        for name in local:
            if not name.endswith(META_SUFFIX):
                local_bodies.setdefault(_stem(name), []).append(name)
        for name in sorted(n for n in local - remote if n.endswith(META_SUFFIX)):
            try:
                shared = json.loads((local_root / name).read_bytes()).get("body")
            except (OSError, ValueError, AttributeError):
                shared = None
            bodies = [shared] if isinstance(shared, str) else local_bodies.get(name[: -len(META_SUFFIX)], [])
            for body in bodies:
                if body not in remote and (local_root / body).is_file():
                    _put_file(fs, str(local_root / body), f"{root}/{body}")
                    remote.add(body)
            _put_file(fs, str(local_root / name), f"{root}/{name}")
            remote.add(name)
            stats.put += 1
    except Exception as exc:  # noqa: BLE001 - OSError, botocore's and aiohttp's errors alike: one line naming the fix
        raise _fail(settings, "sync with", exc) from None
    if stats.fetched or stats.put:
        log.info("shared raw store %s: %d page(s) fetched, %d put", settings.raw_url, stats.fetched, stats.put)
    return stats
