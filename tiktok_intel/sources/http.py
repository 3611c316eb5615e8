"""The HTTP client every source shares: async ``httpx`` with a rate limit, a concurrency limit,
retries with exponential backoff and jitter on 429, 5xx and timeouts, the proxy from settings,
and typed errors for the ways TikTok answers without answering (captcha or login-wall HTML, an
empty 200 body, truncated JSON).

:meth:`HttpClient.request` returns the final response whatever its status (so the caller can
write it to the raw zone first); :func:`decode_json` then names what is wrong with it.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import logging
import random
import re
import ssl
import time
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

import httpx
import orjson

from ..errors import TikTokIntelError
from ..raw import redact
from ..settings import Settings, get_settings

#: First backoff step in seconds (doubled each retry, times a jitter factor in [0.5, 1.5)).
BACKOFF_BASE_SECONDS = 1.0
BACKOFF_MAX_SECONDS = 60.0
USER_AGENT = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"


class SourceError(TikTokIntelError):
    """A source could not get usable data. ``reason`` is a few words for run summaries."""

    reason = "source error"

    def __init__(self, message: str, *, raw_path: str | None = None):
        super().__init__(message)
        self.raw_path = raw_path


class HttpStatusError(SourceError):
    reason = "HTTP error"

    def __init__(self, message: str, *, status: int, raw_path: str | None = None):
        super().__init__(message, raw_path=raw_path)
        self.status = status


class RateLimitedError(HttpStatusError):
    reason = "rate limited (429)"


class ServerError(HttpStatusError):
    reason = "server error (5xx)"


class RequestTimeoutError(SourceError):
    reason = "timeout"


class ConnectionFailedError(SourceError):
    reason = "connection failed"


class BlockedError(SourceError):
    """TikTok sent a captcha or login-wall page instead of data."""

    reason = "captcha / login wall"


class EmptyBodyError(SourceError):
    reason = "empty body"


class TruncatedJsonError(SourceError):
    reason = "truncated JSON"


class UnexpectedResponseError(SourceError):
    reason = "unexpected response"


class ResponseTooLargeError(SourceError):
    reason = "too large"


class _RedactSecrets(logging.Filter):
    """httpx logs every request's URL at INFO, query included, and the web API's msToken is a
    query parameter: secret parameters and secret settings are removed before any handler sees it."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
            try:
                secrets = get_settings().secrets()
            except TikTokIntelError:
                secrets = []
            cleaned = redact(message, secrets)  # the secret parameters of every URL in it, and the secret values
            if cleaned != message:
                record.msg, record.args = cleaned, ()
        except Exception:  # noqa: BLE001 - a log line must never break a request
            pass
        return True


if not any(isinstance(f, _RedactSecrets) for f in logging.getLogger("httpx").filters):
    logging.getLogger("httpx").addFilter(_RedactSecrets())


@dataclasses.dataclass
class Response:
    status: int
    body: bytes
    content_type: str
    url: str  # secrets removed
    path: str
    headers: Mapping[str, str]
    attempts: int = 1

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


class RateLimiter:
    """At most ``per_second`` starts a second (0 or less: unlimited), shared by all tasks of a client."""

    def __init__(self, per_second: float):
        self.interval = 1.0 / per_second if per_second and per_second > 0 else 0.0
        self._next = 0.0
        self._lock = asyncio.Lock()

    async def wait(self) -> None:
        if not self.interval:
            return
        async with self._lock:
            now = time.monotonic()
            delay = self._next - now
            self._next = max(now, self._next) + self.interval
        if delay > 0:
            await asyncio.sleep(delay)


def backoff_delay(attempt: int, retry_after: str | None = None, *, base: float | None = None) -> float:
    """Seconds to wait before retry ``attempt`` (0-based): exponential with jitter; a longer Retry-After wins."""
    base = BACKOFF_BASE_SECONDS if base is None else base
    delay = min(BACKOFF_MAX_SECONDS, base * (2**attempt) * random.uniform(0.5, 1.5))
    if retry_after:
        try:
            delay = max(delay, min(BACKOFF_MAX_SECONDS, float(retry_after)))
        except ValueError:
            pass
    return delay


def _is_retryable(status: int) -> bool:
    return status == 429 or 500 <= status < 600


@functools.lru_cache(maxsize=1)
def _tls_context() -> ssl.SSLContext:
    """One verifying TLS context for every client: loading the CA bundle costs ~17 ms a client."""
    import certifi

    return ssl.create_default_context(cafile=certifi.where())


class HttpClient:
    """``async with HttpClient() as client: await client.request("GET", url)``.

    ``requests_per_second``/``concurrency`` default to the settings; pass 0 for no rate limit.
    """

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        requests_per_second: float | None = None,
        concurrency: int | None = None,
        retries: int | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        secrets: list[str] | None = None,
    ):
        self.settings = settings or get_settings()
        rps = self.settings.requests_per_second if requests_per_second is None else requests_per_second
        self.limiter = RateLimiter(rps)
        self.semaphore = asyncio.Semaphore(max(1, self.settings.concurrency if concurrency is None else concurrency))
        self.retries = max(0, self.settings.retries if retries is None else retries)
        self.secrets = list(secrets or [])
        self.retried = 0  # retries made, for summaries and tests
        kwargs: dict[str, Any] = {
            "timeout": httpx.Timeout(self.settings.timeout_seconds),
            "follow_redirects": True,
            "headers": {
                "User-Agent": USER_AGENT,
                "Accept-Language": f"{self.settings.language}-{self.settings.region},{self.settings.language};q=0.9",
            },
        }
        if transport is not None:
            kwargs["transport"] = transport
        elif self.settings.proxy:
            kwargs["proxy"] = self.settings.proxy
        kwargs["verify"] = _tls_context()
        kwargs["http2"] = True  # negotiated over TLS (ALPN) where the server offers it; plain http:// stays HTTP/1.1
        self._client = httpx.AsyncClient(**kwargs)

    async def __aenter__(self) -> HttpClient:
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._client.aclose()

    def redact(self, text: str) -> str:
        return redact(text, get_settings().secrets() + [s for s in self.secrets if s])

    async def request(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        data: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        max_bytes: int | None = None,
        no_retry: Callable[[Response], bool] | None = None,
    ) -> Response:
        """Send with rate limit, concurrency limit and retries; return the final response (any status)."""
        path = urlsplit(url).path or "/"
        attempt = 0
        while True:
            await self.limiter.wait()
            try:
                async with self.semaphore:
                    response = await self._send(method, url, params=params, json=json, data=data, headers=headers, max_bytes=max_bytes)
                response.attempts = attempt + 1
            except httpx.TimeoutException:
                if attempt >= self.retries:
                    raise RequestTimeoutError(
                        f"{path} did not answer within {self.settings.timeout_seconds:g} s, {attempt + 1} times: "
                        "try later, or raise TIKTOK_INTEL_TIMEOUT_SECONDS"
                    ) from None
                retry_after = None
            except httpx.TransportError as exc:
                if attempt >= self.retries:
                    host = urlsplit(url).netloc
                    raise ConnectionFailedError(
                        f"cannot reach {host} ({type(exc).__name__}) after {attempt + 1} attempts: "
                        "check the network, TIKTOK_INTEL_PROXY and the base URL settings"
                    ) from None
                retry_after = None
            else:
                if not _is_retryable(response.status) or (no_retry and no_retry(response)) or attempt >= self.retries:
                    return response
                retry_after = response.headers.get("retry-after")
            self.retried += 1
            await asyncio.sleep(backoff_delay(attempt, retry_after))
            attempt += 1

    async def _send(self, method: str, url: str, *, params, json, data, headers, max_bytes) -> Response:
        request = self._client.build_request(method, url, params=params, json=json, data=data, headers=headers)
        response = await self._client.send(request, stream=True)
        try:
            length = response.headers.get("content-length")
            if max_bytes is not None and length and length.isdigit() and int(length) > max_bytes:
                raise ResponseTooLargeError(
                    f"{request.url.path} is {int(length):,} bytes, over the limit of {max_bytes:,}: "
                    "raise TIKTOK_INTEL_MEDIA_MAX_BYTES if that is expected"
                )
            chunks, size = [], 0
            async for chunk in response.aiter_bytes():
                size += len(chunk)
                if max_bytes is not None and size > max_bytes:
                    raise ResponseTooLargeError(
                        f"{request.url.path} is over the limit of {max_bytes:,} bytes: "
                        "raise TIKTOK_INTEL_MEDIA_MAX_BYTES if that is expected"
                    )
                chunks.append(chunk)
        finally:
            await response.aclose()
        return Response(
            status=response.status_code,
            body=b"".join(chunks),
            content_type=response.headers.get("content-type", ""),
            url=self.redact(str(request.url)),
            path=request.url.path,
            headers=dict(response.headers),
        )


_HTML_START = re.compile(rb"^\s*(<!doctype|<html|<head|<body|<div|<script|<\?xml)", re.I)


def looks_like_html(body: bytes) -> bool:
    return bool(_HTML_START.match(body[:200]))


def html_kind(body: bytes) -> str:
    """'captcha', 'login wall' or 'HTML page' for an HTML body."""
    head = body[:20000].lower()
    if b"captcha" in head or b"verify" in head or b"security check" in head:
        return "captcha"
    if b"login" in head or b"log in" in head:
        return "login wall"
    return "HTML page"


def decode_json(response: Response, what: str, *, raw_path: str | None = None) -> Any:
    """The decoded JSON of a final response, or a typed error naming what went wrong and the fix."""
    where = f" (kept in raw: {raw_path})" if raw_path else ""
    if response.status == 429:
        raise RateLimitedError(
            f"TikTok kept answering 429 Too Many Requests for {what} after {response.attempts} attempts: "
            "lower TIKTOK_INTEL_REQUESTS_PER_SECOND or run later",
            status=429,
            raw_path=raw_path,
        )
    if response.status >= 500:
        raise ServerError(
            f"TikTok answered {response.status} for {what} after {response.attempts} attempts: try again later",
            status=response.status,
            raw_path=raw_path,
        )
    body = response.body
    if looks_like_html(body) or "text/html" in response.content_type:
        kind = html_kind(body)
        if kind == "captcha":
            raise BlockedError(
                f"TikTok sent a captcha page instead of {what}{where}: slow down (TIKTOK_INTEL_REQUESTS_PER_SECOND), "
                "use a fresh session or a proxy (TIKTOK_INTEL_PROXY)",
                raw_path=raw_path,
            )
        if kind == "login wall":
            raise BlockedError(
                f"TikTok sent a login wall instead of {what}{where}: use a fresh session (clear TIKTOK_INTEL_MS_TOKEN "
                "to use the browser) or a proxy",
                raw_path=raw_path,
            )
        if response.status >= 400:
            raise HttpStatusError(
                f"TikTok answered {response.status} for {what}: check the base URL settings", status=response.status, raw_path=raw_path
            )
        raise UnexpectedResponseError(
            f"TikTok sent an HTML page instead of {what}{where}: check TIKTOK_INTEL_WEB_BASE_URL", raw_path=raw_path
        )
    if not body.strip():
        if response.status >= 400:
            raise HttpStatusError(
                f"TikTok answered {response.status} with no body for {what}: check the settings and try later",
                status=response.status,
                raw_path=raw_path,
            )
        raise EmptyBodyError(
            f"TikTok sent an empty page for {what}{where} (an unsigned request or a spent msToken): "
            "clear TIKTOK_INTEL_MS_TOKEN to use a fresh browser session, or set a fresh one",
            raw_path=raw_path,
        )
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        if response.status >= 400:
            raise HttpStatusError(
                f"TikTok answered {response.status} for {what}: check the settings and try later", status=response.status, raw_path=raw_path
            ) from None
        raise TruncatedJsonError(
            f"TikTok sent truncated or invalid JSON for {what}{where} ({len(body)} bytes): usually a dropped connection; run again",
            raw_path=raw_path,
        ) from None
