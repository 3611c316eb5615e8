"""TikTok's web API, asked the way TikTok's own web client asks it.

* ``/api/challenge/detail/?challengeName=`` — a hashtag's id and its own stats;
* ``/api/challenge/item_list/?challengeID=&count=&cursor=`` — its feed, paged on ``hasMore``/``cursor``;
* ``/api/user/detail/?uniqueId=`` — a profile;
* ``/@user/video/<id>`` — a video page, whose embedded JSON is the fallback for single posts.

Each response is written to the raw zone first, then checked. A session (``msToken`` cookie and,
when the browser provides one, the page's URL signer) comes from :mod:`.browser`, or from the
``ms_token`` setting. When TikTok stops answering (empty body, captcha), a renewable session is
renewed and the request tried once more.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Protocol
from urllib.parse import quote, urlencode

from ..raw import RawPage
from ..settings import Settings, get_settings
from . import RawSink
from .http import (
    USER_AGENT,
    BlockedError,
    EmptyBodyError,
    HttpClient,
    SourceError,
    TruncatedJsonError,
    UnexpectedResponseError,
    decode_json,
)

#: Items per feed page, as TikTok's web client asks (the API gives at most 35).
FEED_PAGE_SIZE = 30


class HashtagNotFoundError(SourceError):
    reason = "hashtag not on TikTok"


class NoSessionError(SourceError):
    reason = "no session"


class Session(Protocol):
    ms_token: str
    cookies: dict[str, str]
    user_agent: str
    renewable: bool

    async def sign(self, url: str) -> str | None: ...

    async def renew(self) -> None: ...

    async def close(self) -> None: ...


class StaticSession:
    """The ``ms_token`` setting as a session: no browser, no signer, not renewable."""

    renewable = False

    def __init__(self, ms_token: str, cookies: dict[str, str] | None = None, user_agent: str = USER_AGENT):
        if not ms_token:
            raise NoSessionError("no msToken: set TIKTOK_INTEL_MS_TOKEN, or leave it empty and install chromium for the browser session")
        self.ms_token = ms_token
        self.cookies = {"msToken": ms_token, **(cookies or {})}
        self.user_agent = user_agent

    async def sign(self, url: str) -> str | None:
        return None

    async def renew(self) -> None:
        raise NoSessionError(
            "TikTok stopped answering the msToken from TIKTOK_INTEL_MS_TOKEN: set a fresh one, or clear it to use the browser session"
        )

    async def close(self) -> None:
        return None


def client_params(settings: Settings) -> dict[str, str]:
    """The query parameters TikTok's web client sends with every API request."""
    language, region = settings.language, settings.region
    return {
        "WebIdLastTime": "0",
        "aid": "1988",
        "app_language": language,
        "app_name": "tiktok_web",
        "browser_language": f"{language}-{region}",
        "browser_name": "Mozilla",
        "browser_online": "true",
        "browser_platform": "Linux x86_64",
        "browser_version": USER_AGENT.split("/", 1)[1],
        "channel": "tiktok_web",
        "cookie_enabled": "true",
        "device_platform": "web_pc",
        "focus_state": "true",
        "from_page": "hashtag",
        "history_len": "2",
        "is_fullscreen": "false",
        "is_page_visible": "true",
        "language": language,
        "os": "linux",
        "priority_region": "",
        "referer": "",
        "region": region,
        "screen_height": "1080",
        "screen_width": "1920",
        "tz_name": settings.timezone,
        "webcast_language": language,
    }


@dataclasses.dataclass
class FeedPage:
    raw: RawPage
    items: list[dict[str, Any]]
    cursor: int
    has_more: bool
    rank_offset: int


class WebSource:
    """The web API through one HTTP client and one session."""

    name = "web"

    def __init__(self, client: HttpClient, session: Session, settings: Settings | None = None):
        self.client = client
        self.session = session
        self.settings = settings or get_settings()
        self.base = self.settings.web_base_url.rstrip("/")
        self.renewals = 0

    def _secrets(self) -> list[str]:
        return [self.session.ms_token]

    async def _signed_url(self, path: str, params: dict[str, Any]) -> str:
        query = {**client_params(self.settings), **{k: str(v) for k, v in params.items()}, "msToken": self.session.ms_token}
        url = f"{self.base}{path}?{urlencode(query)}"
        signature = await self.session.sign(url)
        return url + "&X-Bogus=" + quote(signature, safe="") if signature else url

    async def get_json(
        self, path: str, params: dict[str, Any], *, sink: RawSink, what: str, extra: dict[str, Any] | None = None
    ) -> tuple[RawPage, Any]:
        """GET a web API path: raw page first, then the decoded JSON (renewing the session once if TikTok stops answering)."""
        for attempt in (0, 1):
            url = await self._signed_url(path, params)
            self.client.secrets = list({*self.client.secrets, self.session.ms_token})
            sink.secrets = list({*sink.secrets, self.session.ms_token})
            cookie = "; ".join(f"{k}={v}" for k, v in self.session.cookies.items())
            response = await self.client.request(
                "GET", url, headers={"Cookie": cookie, "Referer": self.base + "/", "User-Agent": self.session.user_agent}
            )
            if not response.ok:
                decode_json(response, what)  # raises the typed error (429/5xx after retries, other statuses)
            page = sink.write(response.body, request={"method": "GET", "url": url}, content_type=response.content_type, extra=extra)
            try:
                return page, decode_json(response, what, raw_path=str(page.body_path))
            except (EmptyBodyError, BlockedError, TruncatedJsonError) as exc:
                # a truncated page is tried once more; a silent or blocking TikTok only with a renewed session
                if attempt == 1 or not (self.session.renewable or isinstance(exc, TruncatedJsonError)):
                    raise
                if self.session.renewable:
                    await self.session.renew()
                    self.renewals += 1
        raise AssertionError("unreachable")  # pragma: no cover

    async def hashtag_detail(self, name: str, *, sink: RawSink) -> tuple[RawPage, dict[str, Any]]:
        """The hashtag's ``challengeInfo`` (its id, title, description, video and view counts)."""
        page, data = await self.get_json("/api/challenge/detail/", {"challengeName": name}, sink=sink, what=f"hashtag #{name}")
        info = data.get("challengeInfo") if isinstance(data, dict) else None
        if not isinstance(info, dict) or not isinstance(info.get("challenge"), dict) or not info["challenge"].get("id"):
            status = data.get("statusCode") if isinstance(data, dict) else None
            if status not in (None, 0):
                raise HashtagNotFoundError(
                    f"TikTok knows no hashtag #{name} (statusCode {status}): check its spelling, "
                    f"or remove it with `tiktok-intel track remove {name}`",
                    raw_path=str(page.body_path),
                )
            raise UnexpectedResponseError(
                f"TikTok's answer for hashtag #{name} has no challengeInfo (kept in raw: {page.body_path})", raw_path=str(page.body_path)
            )
        return page, info

    async def hashtag_feed_page(
        self, challenge_id: str, *, cursor: int = 0, count: int = FEED_PAGE_SIZE, sink: RawSink, name: str = ""
    ) -> FeedPage:
        """One page of a hashtag's feed, from ``cursor``."""
        page, data = await self.get_json(
            "/api/challenge/item_list/",
            {"challengeID": challenge_id, "count": count, "cursor": cursor},
            sink=sink,
            what=f"the feed of #{name or challenge_id}",
            extra={"rank_offset": cursor},
        )
        if not isinstance(data, dict) or ("itemList" not in data and data.get("statusCode") not in (None, 0)):
            status = data.get("statusCode") if isinstance(data, dict) else None
            raise UnexpectedResponseError(
                f"TikTok refused the feed of #{name or challenge_id} (statusCode {status}, kept in raw: {page.body_path})",
                raw_path=str(page.body_path),
            )
        items = data.get("itemList") or []
        try:
            next_cursor = int(data.get("cursor") or cursor + len(items))
        except (TypeError, ValueError):
            next_cursor = cursor + len(items)
        return FeedPage(page, items, next_cursor, bool(data.get("hasMore")) and bool(items), cursor)

    async def user_detail(self, unique_id: str, *, sink: RawSink) -> tuple[RawPage, dict[str, Any]]:
        page, data = await self.get_json("/api/user/detail/", {"uniqueId": unique_id, "secUid": ""}, sink=sink, what=f"user @{unique_id}")
        info = data.get("userInfo") if isinstance(data, dict) else None
        if not isinstance(info, dict) or not info.get("user"):
            raise UnexpectedResponseError(
                f"TikTok has no profile @{unique_id} (statusCode {data.get('statusCode') if isinstance(data, dict) else None})",
                raw_path=str(page.body_path),
            )
        return page, info

    async def video_page(self, unique_id: str, post_id: str, *, sink: RawSink) -> RawPage:
        """A post's web page (its ``__UNIVERSAL_DATA_FOR_REHYDRATION__`` JSON is what gets parsed)."""
        url = f"{self.base}/@{quote(unique_id)}/video/{post_id}"
        cookie = "; ".join(f"{k}={v}" for k, v in self.session.cookies.items())
        response = await self.client.request("GET", url, headers={"Cookie": cookie, "User-Agent": self.session.user_agent})
        if not response.ok:
            decode_json(response, f"post {post_id}")
        page = sink.write(response.body, request={"method": "GET", "url": url}, content_type="text/html")
        if b"__UNIVERSAL_DATA_FOR_REHYDRATION__" not in response.body and b"SIGI_STATE" not in response.body:
            from .http import html_kind

            kind = html_kind(response.body)
            error = BlockedError if kind in ("captcha", "login wall") else UnexpectedResponseError
            raise error(
                f"the page of post {post_id} holds no TikTok data ({kind}; kept in raw: {page.body_path})", raw_path=str(page.body_path)
            )
        return page

    async def item_detail(self, post_id: str, *, sink: RawSink) -> tuple[RawPage, Any]:
        """``/api/item/detail/?itemId=``: ``{itemInfo: {itemStruct}}`` for a post TikTok shows, a
        ``statusCode`` without ``itemInfo`` for one it no longer does (removed, private, blocked);
        the caller reads which (:func:`tiktok_intel.collect.recheck.classify`)."""
        return await self.get_json("/api/item/detail/", {"itemId": post_id}, sink=sink, what=f"post {post_id}")
