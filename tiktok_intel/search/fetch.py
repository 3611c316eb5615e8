"""Reading images given by users, and downloads from the allowed media hosts (size cap, content type)."""

from __future__ import annotations

import io
import struct
from pathlib import Path
from urllib.parse import urljoin, urlsplit

from ..conventions import host_allowed
from ..settings import get_settings
from .errors import DownloadError, HostNotAllowedError, ImageInputError

#: Largest image we decode, in pixels (a TikTok cover is about 2 megapixels).
MAX_PIXELS = 40_000_000
_MAX_REDIRECTS = 5


def _shown(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname or ''}{parts.path}"  # no query string: it may carry signatures


def download(url: str, *, accept: tuple[str, ...] = ("image/",), max_bytes: int | None = None, dest: Path | None = None) -> bytes:
    """GET ``url`` from an allowed host (redirects re-checked), refusing other content types and bodies over the cap.

    Returns the body; with ``dest`` also writes it there (through a temporary name).
    """
    import httpx

    settings = get_settings()
    cap = settings.media_max_bytes if max_bytes is None else max_bytes
    current = url
    with httpx.Client(timeout=settings.timeout_seconds, follow_redirects=False, proxy=settings.proxy or None) as client:
        for _ in range(_MAX_REDIRECTS + 1):
            if not host_allowed(current, settings.media_hosts):
                raise HostNotAllowedError(
                    f"{_shown(current)} is not on an allowed media host ({', '.join(settings.media_hosts)}): "
                    "download it yourself and pass the file, or add the host to TIKTOK_INTEL_MEDIA_HOSTS"
                )
            try:
                with client.stream("GET", current) as response:
                    if response.is_redirect:
                        current = urljoin(current, response.headers.get("location", ""))
                        continue
                    if response.status_code != 200:
                        raise DownloadError(
                            f"{_shown(current)} answered HTTP {response.status_code}: check the URL (media links expire; collect the post again)"
                        )
                    kind = response.headers.get("content-type", "").split(";")[0].strip().lower()
                    if not any(kind.startswith(a) for a in accept):
                        raise ImageInputError(
                            f"{_shown(current)} is {kind or 'of no stated type'}, not {' or '.join(a.rstrip('/') for a in accept)}: give the URL of the media file itself"
                        )
                    length = response.headers.get("content-length")
                    if length and length.isdigit() and int(length) > cap:
                        raise ImageInputError(
                            f"{_shown(current)} is {int(length):,} bytes, over the {cap:,}-byte limit: raise TIKTOK_INTEL_MEDIA_MAX_BYTES if you trust it"
                        )
                    body = bytearray()
                    for chunk in response.iter_bytes():
                        body.extend(chunk)
                        if len(body) > cap:
                            raise ImageInputError(
                                f"{_shown(current)} is over the {cap:,}-byte limit: raise TIKTOK_INTEL_MEDIA_MAX_BYTES if you trust it"
                            )
                    data = bytes(body)
                    break
            except httpx.HTTPError as exc:
                raise DownloadError(f"cannot download {_shown(current)}: {type(exc).__name__}; check the network or the URL") from None
        else:
            raise DownloadError(f"{_shown(url)} redirects more than {_MAX_REDIRECTS} times: give the final URL")
    if dest is not None:
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = dest.with_name(dest.name + ".part")
        tmp.write_bytes(data)
        tmp.replace(dest)
    return data


def open_image(source: str | Path | bytes, *, name: str | None = None, max_pixels: int = MAX_PIXELS):
    """A decoded, RGB :class:`PIL.Image.Image`; refuses missing files, non-images and images over ``max_pixels``."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    label = name or (str(source) if not isinstance(source, bytes) else "the image")
    if isinstance(source, bytes):
        stream = io.BytesIO(source)
    else:
        path = Path(source)
        if not path.exists():
            raise ImageInputError(f"{label}: no such file; check the path")
        if not path.is_file():
            raise ImageInputError(f"{label} is not a file: give an image file (JPEG, PNG, WebP)")
        stream = path.open("rb")
    try:
        previous = Image.MAX_IMAGE_PIXELS
        Image.MAX_IMAGE_PIXELS = None  # we check the size ourselves, before decoding
        try:
            image = Image.open(stream)
        finally:
            Image.MAX_IMAGE_PIXELS = previous
        width, height = image.size
        if width * height > max_pixels:
            raise ImageInputError(
                f"{label} is {width}x{height} pixels, over the {max_pixels // 1_000_000}-megapixel limit: use a smaller copy (a screenshot or the cover itself)",
                key="err_image_pixels",
                name=label,
                width=width,
                height=height,
                megapixels=max_pixels // 1_000_000,
            )
        try:
            image.load()
            image = ImageOps.exif_transpose(image)
            return image.convert("RGB")
        except (OSError, SyntaxError, ValueError) as exc:
            raise ImageInputError(f"{label} is a damaged image ({exc}): give another copy", key="err_image_damaged", name=label) from None
    except UnidentifiedImageError:
        raise ImageInputError(
            f"{label} is not an image Pillow can read: give a JPEG, PNG or WebP file", key="err_not_image", name=label
        ) from None
    except (OSError, EOFError, SyntaxError, ValueError, struct.error) as exc:  # a header cut short: Image.open itself fails
        raise ImageInputError(f"{label} is a damaged image ({exc}): give another copy", key="err_image_damaged", name=label) from None
    finally:
        stream.close()
