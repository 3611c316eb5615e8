"""TikTok's Research API: client-credentials token, ``video/query`` and ``user/info``.

* the access token is cached until shortly before it expires (by :func:`tiktok_intel.clock.now`);
* ``video/query`` takes ``hashtag_name`` / ``region_code`` / ``keyword`` conditions, and
  ``start_date``/``end_date`` windows of at most 30 days (:func:`split_windows` cuts longer
  ranges), ``max_count`` up to 100, and pages on ``cursor`` + ``search_id``;
* the daily quota (1,000 requests, 100,000 records; reset at midnight UTC) is counted in the
  store (:class:`Quota`); running out raises :class:`QuotaExhaustedError` *before* the request,
  so the caller's saved cursor is where the next run resumes.

Token responses are never written to the raw zone (they hold the access token).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
from collections.abc import Sequence
from typing import Any

from .. import clock
from ..raw import RawPage
from ..settings import Settings, get_settings
from . import RawSink
from .http import HttpClient, Response, SourceError, decode_json

DAILY_REQUESTS = 1000
DAILY_RECORDS = 100_000
MAX_COUNT = 100
MAX_WINDOW_DAYS = 30
VIDEO_FIELDS = (
    "id",
    "video_description",
    "create_time",
    "region_code",
    "share_count",
    "view_count",
    "like_count",
    "comment_count",
    "music_id",
    "hashtag_names",
    "username",
    "favorites_count",
    "video_duration",
    "voice_to_text",  # what is said, as TikTok transcribed it (stored in `transcripts`)
)
USER_FIELDS = (
    "display_name",
    "bio_description",
    "avatar_url",
    "is_verified",
    "follower_count",
    "following_count",
    "likes_count",
    "video_count",
)


class ResearchAuthError(SourceError):
    reason = "Research API credentials refused"


class ResearchApiError(SourceError):
    reason = "Research API error"

    def __init__(self, message: str, *, code: str = "", raw_path: str | None = None):
        super().__init__(message, raw_path=raw_path)
        self.code = code


class QuotaExhaustedError(SourceError):
    reason = "Research API daily quota used up"


def split_windows(start: dt.date, end: dt.date, days: int = MAX_WINDOW_DAYS) -> list[tuple[dt.date, dt.date]]:
    """``[start, end]`` (inclusive) as consecutive windows of at most ``days`` days each, oldest first."""
    if end < start:
        raise ValueError(f"the end date {end} is before the start date {start}: swap them")
    windows, current = [], start
    while current <= end:
        last = min(end, current + dt.timedelta(days=days - 1))
        windows.append((current, last))
        current = last + dt.timedelta(days=1)
    return windows


def build_query(*, hashtags: Sequence[str] = (), regions: Sequence[str] = (), keywords: Sequence[str] = ()) -> dict[str, Any]:
    """A ``video/query`` query: every given condition must hold (hashtag and keyword: any of the values)."""
    conditions = []
    if hashtags:
        conditions.append({"field_name": "hashtag_name", "operation": "IN" if len(hashtags) > 1 else "EQ", "field_values": list(hashtags)})
    if regions:
        conditions.append({"field_name": "region_code", "operation": "IN", "field_values": [r.upper() for r in regions]})
    if keywords:
        conditions.append({"field_name": "keyword", "operation": "IN" if len(keywords) > 1 else "EQ", "field_values": list(keywords)})
    if not conditions:
        raise ValueError("a Research API query needs at least one hashtag, region or keyword")
    return {"and": conditions}


class Quota:
    """The day's Research API use, counted in the ``research_quota`` table (one row a UTC day)."""

    def __init__(self, con: Any, *, requests_per_day: int = DAILY_REQUESTS, records_per_day: int = DAILY_RECORDS):
        self.con = con
        self.requests_per_day, self.records_per_day = requests_per_day, records_per_day

    @staticmethod
    def today() -> dt.date:
        return clock.now().date()

    def used(self, day: dt.date | None = None) -> tuple[int, int]:
        row = self.con.execute("SELECT requests, records FROM research_quota WHERE day = ?", [day or self.today()]).fetchone()
        return (int(row[0]), int(row[1])) if row else (0, 0)

    def check(self) -> None:
        requests, records = self.used()
        if requests >= self.requests_per_day or records >= self.records_per_day:
            raise QuotaExhaustedError(
                f"the Research API daily quota is used up ({self.report()}): the next run after midnight UTC resumes from the saved cursor"
            )

    def spend(self, requests: int = 1, records: int = 0) -> None:
        now = clock.now()
        # UPDATE, then INSERT when the day has no row yet (no ON CONFLICT: DuckLake tables have no key constraints)
        self.con.execute(
            "UPDATE research_quota SET requests = requests + ?, records = records + ?, updated_at = ? WHERE day = ?",
            [requests, records, now, now.date()],
        )
        self.con.execute(
            "INSERT INTO research_quota (day, requests, records, updated_at) SELECT ?, ?, ?, ? "
            "WHERE NOT EXISTS (SELECT 1 FROM research_quota WHERE day = ?)",
            [now.date(), requests, records, now, now.date()],
        )

    def exhaust(self) -> None:
        """TikTok says the quota is used up: record it so this process stops asking today."""
        requests, _ = self.used()
        self.spend(max(0, self.requests_per_day - requests), 0)

    def report(self) -> str:
        requests, records = self.used()
        return f"{requests:,}/{self.requests_per_day:,} requests, {records:,}/{self.records_per_day:,} records today"


@dataclasses.dataclass
class VideoPage:
    raw: RawPage
    videos: list[dict[str, Any]]
    cursor: int
    has_more: bool
    search_id: str | None
    rank_offset: int


#: Access tokens by (base URL, client key): shared by the runs of one process until they expire.
_TOKEN_CACHE: dict[tuple[str, str, str], tuple[str, dt.datetime]] = {}


class ResearchSource:
    name = "research"

    def __init__(self, client: HttpClient, quota: Quota | None = None, settings: Settings | None = None):
        self.client = client
        self.settings = settings or get_settings()
        self.base = self.settings.research_base_url.rstrip("/")
        self.quota = quota
        self._token: str | None = None
        self._expires_at: dt.datetime | None = None
        self.tokens_fetched = 0

    async def token(self, *, refresh: bool = False) -> str:
        """A client-credentials access token, cached until a minute before it expires."""
        key, secret = self.settings.research_client_key, self.settings.research_client_secret
        cache_key = (self.base, key, hashlib.sha256(secret.encode()).hexdigest())
        cached = _TOKEN_CACHE.get(cache_key)
        if not refresh and cached and clock.now() < cached[1]:
            self._token, self._expires_at = cached
            self.client.secrets = list({*self.client.secrets, self._token})
            return self._token
        if not key or not secret:
            raise ResearchAuthError(
                "no Research API credentials: set TIKTOK_INTEL_RESEARCH_CLIENT_KEY and TIKTOK_INTEL_RESEARCH_CLIENT_SECRET"
            )
        response = await self.client.request(
            "POST",
            f"{self.base}/v2/oauth/token/",
            data={"client_key": key, "client_secret": secret, "grant_type": "client_credentials"},
            headers={"Content-Type": "application/x-www-form-urlencoded", "Cache-Control": "no-cache"},
        )
        try:
            data = decode_json(response, "the Research API token") if response.body.strip() else {}
        except SourceError:
            data = {}
        if not response.ok or not isinstance(data, dict) or not data.get("access_token"):
            error = data.get("error") if isinstance(data, dict) else None
            raise ResearchAuthError(
                f"the Research API refused the credentials (HTTP {response.status}, {error or 'no token'}): "
                "check TIKTOK_INTEL_RESEARCH_CLIENT_KEY and TIKTOK_INTEL_RESEARCH_CLIENT_SECRET"
            )
        self._token = str(data["access_token"])
        self.client.secrets = list({*self.client.secrets, self._token})
        expires_in = int(data.get("expires_in") or 7200)
        self._expires_at = clock.now() + dt.timedelta(seconds=max(0, expires_in - 60))
        _TOKEN_CACHE[cache_key] = (self._token, self._expires_at)
        self.tokens_fetched += 1
        return self._token

    async def _post(
        self, path: str, fields: Sequence[str], body: dict[str, Any], *, sink: RawSink, what: str, extra: dict[str, Any] | None = None
    ) -> tuple[RawPage, dict[str, Any]]:
        """POST with quota accounting; the raw page first; one token refresh on 401."""
        for attempt in (0, 1):
            if self.quota is not None:
                self.quota.check()
            token = await self.token(refresh=attempt == 1)
            url = f"{self.base}{path}?fields={','.join(fields)}"
            response = await self.client.request(
                "POST",
                url,
                json=body,
                headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
                no_retry=_is_quota_answer,
            )
            if self.quota is not None:
                self.quota.spend(response.attempts, 0)  # every attempt counts against the daily quota
            if response.status == 401 and attempt == 0:
                continue
            if _is_quota_answer(response):
                if self.quota is not None:
                    self.quota.exhaust()
                raise QuotaExhaustedError(
                    f"TikTok says the Research API daily quota is used up for {what}: the next run after "
                    "midnight UTC resumes from the saved cursor"
                )
            if response.status == 429 or response.status >= 500 or not response.body.strip():
                decode_json(response, what)
            page = sink.write(response.body, request={"method": "POST", "url": url, "json": body}, extra=extra)
            data = decode_json(response, what, raw_path=str(page.body_path))
            error = data.get("error") if isinstance(data, dict) else None
            code = error.get("code") if isinstance(error, dict) else None
            if code not in ("ok", None) or not response.ok:
                message = error.get("message") if isinstance(error, dict) else ""
                if response.status == 401 or code in ("access_token_invalid", "scope_not_authorized"):
                    raise ResearchAuthError(
                        f"the Research API refused the access token for {what} ({code}): check the client's Research API access",
                        raw_path=str(page.body_path),
                    )
                raise ResearchApiError(
                    f"the Research API answered {code or response.status} for {what}: {message or 'no message'}",
                    code=str(code or ""),
                    raw_path=str(page.body_path),
                )
            return page, data
        raise AssertionError("unreachable")  # pragma: no cover

    async def query_videos(
        self,
        *,
        start: dt.date,
        end: dt.date,
        hashtags: Sequence[str] = (),
        regions: Sequence[str] = (),
        keywords: Sequence[str] = (),
        cursor: int = 0,
        search_id: str | None = None,
        max_count: int = MAX_COUNT,
        sink: RawSink,
    ) -> VideoPage:
        """One ``video/query`` page (``start``..``end`` at most 30 days apart)."""
        if (end - start).days >= MAX_WINDOW_DAYS + 1:
            raise ValueError(f"{start}..{end} is longer than the API's 30 days: use split_windows()")
        body: dict[str, Any] = {
            "query": build_query(hashtags=hashtags, regions=regions, keywords=keywords),
            "start_date": start.strftime("%Y%m%d"),
            "end_date": end.strftime("%Y%m%d"),
            "max_count": max(1, min(MAX_COUNT, max_count)),
            "cursor": cursor,
        }
        if search_id:
            body["search_id"] = search_id
        what = f"videos {'#' + ' #'.join(hashtags) if hashtags else ''} {start}..{end}".replace("  ", " ")
        page, data = await self._post("/v2/research/video/query/", VIDEO_FIELDS, body, sink=sink, what=what, extra={"rank_offset": cursor})
        payload = data.get("data") or {}
        videos = payload.get("videos") or []
        if self.quota is not None:
            self.quota.spend(0, len(videos))
        try:
            next_cursor = int(payload.get("cursor") or cursor + len(videos))
        except (TypeError, ValueError):
            next_cursor = cursor + len(videos)
        return VideoPage(
            page,
            videos,
            next_cursor,
            bool(payload.get("has_more")) and bool(videos),
            str(payload["search_id"]) if payload.get("search_id") else search_id,
            cursor,
        )

    async def user_info(self, username: str, *, sink: RawSink) -> tuple[RawPage, dict[str, Any]]:
        """A profile by username (the raw page keeps the request, which names the user)."""
        page, data = await self._post("/v2/research/user/info/", USER_FIELDS, {"username": username}, sink=sink, what=f"user @{username}")
        return page, data.get("data") or {}


def _is_quota_answer(response: Response) -> bool:
    return response.status == 429 and b"daily_quota_limit_exceeded" in response.body
