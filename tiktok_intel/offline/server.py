"""The offline TikTok's HTTP server (stdlib ``http.server`` in a thread).

Paths, as TikTok serves them:

* ``/`` — home page: sets ``msToken`` and ``ttwid`` cookies, defines
  ``window.byted_acrawler.frontierSign(url)`` returning ``{"X-Bogus": ...}``;
* ``/api/challenge/detail/?challengeName=``, ``/api/challenge/item_list/?challengeID=&count=&cursor=``,
  ``/api/user/detail/?uniqueId=``, ``/api/item/detail/?itemId=`` — the web API (needs ``aid=1988`` and an ``msToken``; with
  ``require_signature`` also a valid ``X-Bogus``; TikTok answers a bad session with an empty body);
* ``/@<user>/video/<id>`` — a video page with ``__UNIVERSAL_DATA_FOR_REHYDRATION__``;
* ``/obj/...`` — cover images (403 once their ``x-expires`` has passed), ``/avatar/<id>.jpeg``;
* ``/video/tos/<id>/``, ``/photomode/<id>/<n>.jpeg``, ``/caption/<id>/<lang>.vtt`` — videos (the
  session's ``tt_chain_token`` cookie needed), slides and captions (``offline/media.py``);
* ``/v2/oauth/token/``, ``/v2/research/video/query/``, ``/v2/research/user/info/`` — Research API;
* profiles' posts, search, comments and replies, and the Research API's comment list: :mod:`.follow`;
* ``/_offline/fault?kind=&times=&path=&delay=`` and ``/_offline/state`` — fault switches and
  counters, for demos driving the server from another process.

Time is simulated: the server answers as of ``now()`` (default :func:`tiktok_intel.clock.now`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from .. import clock
from . import follow, images, shapes
from .faults import Faults
from .media import MediaCDN
from .world import World

SIGN_JS = r"""
(function () {
  function fnv(s) { var h = 0x811c9dc5; for (var i = 0; i < s.length; i++) { h ^= s.charCodeAt(i); h = Math.imul(h, 0x01000193) >>> 0; } return h; }
  function hex(n) { var s = n.toString(16); while (s.length < 8) { s = "0" + s; } return s; }
  window.byted_acrawler = window.byted_acrawler || {};
  window.byted_acrawler.frontierSign = function (url) {
    var u = new URL(url, window.location.href);
    var s = u.pathname + u.search;
    return {"X-Bogus": "DFSz" + hex(fnv(s)) + hex(fnv(s + "|tt"))};
  };
})();
"""

CAPTCHA_HTML = (
    '<!DOCTYPE html><html><head><meta charset="utf-8"><title>Security Check</title></head><body>'
    '<div id="captcha-verify-container-main-page" class="captcha_verify_container">'
    '<div class="captcha_verify_bar">Verify to continue:</div><div class="captcha_verify_slide">'
    'Drag the puzzle piece into place</div></div><script src="/captcha.js"></script></body></html>'
)
LOGIN_HTML = (
    '<!DOCTYPE html><html><head><meta charset="utf-8"><title>Log in | TikTok</title></head><body>'
    '<div id="loginContainer"><h2>Log in to TikTok</h2><p>Manage your account, check notifications, '
    "comment on videos, and more.</p></div></body></html>"
)

_VIDEO_PAGE = re.compile(r"^/@([^/]+)/video/(\d+)/?$")
_COVER = re.compile(r"^/obj/[^/]+/(\d+)~[^/]*\.jpeg$")
_AVATAR = re.compile(r"^/avatar/(\d+)\.jpeg$")


def _fnv(text: str) -> int:
    h = 0x811C9DC5
    for ch in text:
        h ^= ord(ch)
        h = (h * 0x01000193) & 0xFFFFFFFF
    return h


def x_bogus(path_and_query: str) -> str:
    """What the home page's ``frontierSign`` returns for a URL with this path and query."""
    return "DFSz" + format(_fnv(path_and_query), "08x") + format(_fnv(path_and_query + "|tt"), "08x")


class _Reply:
    def __init__(
        self,
        status: int = 200,
        body: bytes | str | Any = b"",
        content_type: str = "application/json; charset=utf-8",
        headers: dict[str, str] | None = None,
        cookies: list[str] | None = None,
    ):
        if isinstance(body, str):
            body = body.encode("utf-8")
        elif not isinstance(body, (bytes, bytearray)):
            body = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        self.status, self.body, self.content_type = status, bytes(body), content_type
        self.headers = headers or {}
        self.cookies = cookies or []


class OfflineTikTok:
    """A local TikTok on ``127.0.0.1`` (a free port unless ``port`` is given), deterministic from ``seed``.

    Use as a context manager, or call :meth:`start` / :meth:`stop`. :attr:`faults` arms fault
    switches; :attr:`requests` logs what clients asked (method, path, query, json body, cookies).
    """

    def __init__(
        self,
        seed: int = 0,
        *,
        world: World | None = None,
        hashtags: tuple[str, ...] | list[str] = (),
        host: str = "127.0.0.1",
        port: int = 0,
        now: Callable[[], dt.datetime] | None = None,
        require_signature: bool = False,
        token_max_uses: int | None = None,
        client_key: str | None = None,
        client_secret: str | None = None,
        token_ttl_seconds: int = 7200,
        research_daily_requests: int = 1000,
        research_duplicates: bool = True,
        cover_host: str | None = None,
        cover_hours_valid: float = 6.0,
    ):
        self.world = world or World(seed, hashtags=hashtags)
        self.host, self.port = host, port
        self._now = now
        self.require_signature = require_signature
        self.token_max_uses = token_max_uses
        self.client_key, self.client_secret, self.token_ttl_seconds = client_key, client_secret, token_ttl_seconds
        self.research_daily_requests = research_daily_requests
        self.research_duplicates = research_duplicates
        self.cover_host = cover_host
        self.cover_hours_valid = cover_hours_valid
        self.faults = Faults()
        self.requests: list[dict[str, Any]] = []
        self.counters: dict[str, int] = {"home": 0, "tokens_issued": 0, "research_requests": 0}
        self._lock = threading.Lock()
        self._ms_tokens: dict[str, int] = {}  # issued msToken -> uses
        self._access_tokens: dict[str, dt.datetime] = {}
        self._research_days: dict[str, int] = {}
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.media = MediaCDN(self)  # videos, slides, captions (offline/media.py)

    # -- lifecycle ------------------------------------------------------------------------------
    def now(self) -> dt.datetime:
        return self._now() if self._now is not None else clock.now()

    @property
    def base_url(self) -> str:
        if self._httpd is None:
            raise RuntimeError("the offline TikTok is not running: call start() or use it as a context manager")
        return f"http://{self.host}:{self._httpd.server_address[1]}"

    @property
    def cover_base(self) -> str:
        if self.cover_host:
            return f"http://{self.cover_host}:{self._httpd.server_address[1]}"  # type: ignore[union-attr]
        return self.base_url

    def start(self) -> OfflineTikTok:
        server = self

        class Handler(_Handler):
            tiktok = server

        self._httpd = ThreadingHTTPServer((self.host, self.port), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True, name="offline-tiktok"
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def __enter__(self) -> OfflineTikTok:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def settings_overrides(self) -> dict[str, Any]:
        """Settings that point the collectors here (cover downloads allowed from this host only)."""
        return {"web_base_url": self.base_url, "research_base_url": self.base_url, "media_hosts": (urlsplit(self.cover_base).hostname,)}

    def requests_to(self, path: str) -> list[dict[str, Any]]:
        with self._lock:
            return [r for r in self.requests if r["path"].startswith(path)]

    # -- web API --------------------------------------------------------------------------------
    def issue_ms_token(self) -> str:
        with self._lock:
            self.counters["home"] += 1
            token = "offline" + hashlib.sha256(f"{self.world.seed}:{self.counters['home']}:{time.time_ns()}".encode()).hexdigest()[:100]
            self._ms_tokens[token] = 0
        return token

    def _web_session_ok(self, raw_path: str, query: dict[str, str], cookies: dict[str, str]) -> bool:
        token = query.get("msToken") or cookies.get("msToken")
        if not token:
            return False
        with self._lock:
            if token in self._ms_tokens:
                self._ms_tokens[token] += 1
                if self.token_max_uses is not None and self._ms_tokens[token] > self.token_max_uses:
                    return False
        if self.require_signature:
            given = query.get("X-Bogus")
            unsigned = re.sub(r"&X-Bogus=[^&]*", "", raw_path)
            if not given or given != x_bogus(unsigned):
                return False
        return True

    def web_api(self, path: str, raw_path: str, query: dict[str, str], cookies: dict[str, str]) -> _Reply:
        if query.get("aid") != "1988" or query.get("app_name") != "tiktok_web":
            return _Reply(body={"statusCode": 10201, "statusMsg": "invalid parameters (aid, app_name)"})
        if not self._web_session_ok(raw_path, query, cookies):
            return _Reply(body=b"")  # what TikTok does for an unsigned request or a spent msToken
        t = self.now()
        if (routed := follow.web(self, path, query, t)) is not None:  # profiles' posts, search, comments (issue 17)
            return _Reply(*routed)
        if path == "/api/challenge/detail/":
            tag = self.world.hashtag(query.get("challengeName", ""))
            if tag is None:
                return _Reply(body={"challengeInfo": {}, "statusCode": 10205, "statusMsg": "challenge not found"})
            return _Reply(body=shapes.challenge_detail(self.world, tag, t))
        if path == "/api/challenge/item_list/":
            tag = self.world.hashtag_by_id(query.get("challengeID", ""))
            if tag is None:
                return _Reply(
                    body={"hasMore": False, "cursor": "0", "itemList": [], "statusCode": 10205, "statusMsg": "challenge not found"}
                )
            try:
                count = max(1, min(35, int(query.get("count", "30"))))
                cursor = max(0, int(query.get("cursor", "0")))
            except ValueError:
                return _Reply(body={"statusCode": 10201, "statusMsg": "invalid count or cursor"})
            feed = self.world.feed(tag.name, t)
            posts = feed[cursor : cursor + count]
            return _Reply(
                body=shapes.item_list_page(
                    self.world,
                    posts,
                    t,
                    self.base_url,
                    cursor=cursor + len(posts),
                    has_more=cursor + len(posts) < len(feed),
                    cover_base=self.cover_base,
                )
            )
        if path == "/api/item/detail/":
            return self.item_detail(query.get("itemId", ""), t)
        if path == "/api/user/detail/":
            author = self.world.author(query.get("uniqueId", ""))
            if author is None:
                return _Reply(body={"userInfo": {}, "statusCode": 10221, "statusMsg": "user not found"})
            return _Reply(body=shapes.user_detail(self.world, author, t, self.base_url))
        return _Reply(404, {"statusCode": 404, "statusMsg": "not found"})

    def home(self) -> _Reply:
        token = self.issue_ms_token()
        body = (
            '<!DOCTYPE html><html lang="sv-SE"><head><meta charset="utf-8"><title>TikTok - Make Your Day</title>'
            f'<script>{SIGN_JS}</script></head><body><div id="app">TikTok (offline)</div></body></html>'
        )
        ttwid = hashlib.sha256(token.encode()).hexdigest()[:32]
        return _Reply(
            body=body,
            content_type="text/html; charset=utf-8",
            cookies=[
                f"msToken={token}; Path=/",
                f"ttwid=1%7C{ttwid}; Path=/; HttpOnly",
                "tt_csrf_token=offline; Path=/",
                f"tt_chain_token={ttwid[:24]}; Path=/",
            ],
        )

    def item_detail(self, post_id: str, t: dt.datetime) -> _Reply:
        """``/api/item/detail/``: the post's ``itemStruct``, or TikTok's statusCode for one it no longer shows (:mod:`.fates`)."""
        from .fates import Fate, gone_answer

        post = self.world.posts_by_id.get(post_id)
        if post is None or not post.visible(t):
            return _Reply(body=gone_answer(Fate("removed", t)))
        fate = self.world.fates.of(post_id, t)
        if fate is not None:
            return _Reply(body=gone_answer(fate))
        item = shapes.item_struct(self.world, post, t, self.base_url, self.cover_base)
        return _Reply(
            body={"itemInfo": {"itemStruct": item}, "extra": {"now": shapes.epoch_seconds(t) * 1000}, "statusCode": 0, "statusMsg": ""}
        )

    def video_page(self, user: str, post_id: str) -> _Reply:
        post = self.world.posts_by_id.get(post_id)
        t = self.now()
        fate = self.world.fates.of(post_id, t) if post is not None else None
        if fate is not None:
            data = {"__DEFAULT_SCOPE__": {"webapp.video-detail": {"statusCode": fate.code, "statusMsg": fate.message}}}
            return _Reply(
                body=f'<!DOCTYPE html><html><body><script id="__UNIVERSAL_DATA_FOR_REHYDRATION__" type="application/json">{json.dumps(data)}</script></body></html>',
                content_type="text/html; charset=utf-8",
            )
        if post is None or not post.visible(t) or post.author.unique_id != unquote(user):
            data = {"__DEFAULT_SCOPE__": {"webapp.video-detail": {"statusCode": 10204, "statusMsg": "item doesn't exist"}}}
            return _Reply(
                body=f'<!DOCTYPE html><html><body><script id="__UNIVERSAL_DATA_FOR_REHYDRATION__" type="application/json">{json.dumps(data)}</script></body></html>',
                content_type="text/html; charset=utf-8",
            )
        return _Reply(
            body=shapes.video_page_html(self.world, post, t, self.base_url, self.cover_base), content_type="text/html; charset=utf-8"
        )

    def cover(self, post_id: str, query: dict[str, str]) -> _Reply:
        post = self.world.posts_by_id.get(post_id)
        try:
            expires = int(query.get("x-expires", "0"))
        except ValueError:
            expires = 0
        if post is None or query.get("x-signature") != shapes.signature(post_id, expires):
            return _Reply(403, "Access Denied", "text/plain")
        if shapes.epoch_seconds(self.now()) > expires:
            return _Reply(403, "Access Denied: URL expired", "text/plain")
        return _Reply(body=images.cover_jpeg(post), content_type="image/jpeg")

    # -- Research API ---------------------------------------------------------------------------
    def _log_id(self) -> str:
        return self.now().strftime("%Y%m%d%H%M%S") + hashlib.sha256(str(time.time_ns()).encode()).hexdigest()[:18].upper()

    def oauth_token(self, form: dict[str, str]) -> _Reply:
        if form.get("grant_type") != "client_credentials" or not form.get("client_key") or not form.get("client_secret"):
            return _Reply(
                400,
                {
                    "error": "invalid_request",
                    "error_description": "grant_type, client_key and client_secret are required",
                    "log_id": self._log_id(),
                },
            )
        if (self.client_key and form["client_key"] != self.client_key) or (
            self.client_secret and form["client_secret"] != self.client_secret
        ):
            return _Reply(
                401, {"error": "invalid_client", "error_description": "Client key or secret is incorrect.", "log_id": self._log_id()}
            )
        token = "clt." + hashlib.sha256(f"{time.time_ns()}:{form['client_key']}".encode()).hexdigest()
        with self._lock:
            self._access_tokens[token] = self.now() + dt.timedelta(seconds=self.token_ttl_seconds)
            self.counters["tokens_issued"] += 1
        return _Reply(body={"access_token": token, "expires_in": self.token_ttl_seconds, "token_type": "Bearer"})

    def _research_auth(self, headers: Any) -> _Reply | None:
        auth = headers.get("Authorization", "")
        token = auth[7:] if auth.startswith("Bearer ") else ""
        with self._lock:
            expiry = self._access_tokens.get(token)
        if expiry is None or expiry < self.now():
            return _Reply(
                401,
                shapes.research_error("access_token_invalid", "The access token is invalid or not found in the request.", self._log_id()),
            )
        day = self.now().strftime("%Y-%m-%d")
        with self._lock:
            self.counters["research_requests"] += 1
            used = self._research_days.get(day, 0)
            if used >= self.research_daily_requests:
                return _Reply(429, shapes.research_error("daily_quota_limit_exceeded", "API daily quota limit exceeded.", self._log_id()))
            self._research_days[day] = used + 1
        return None

    @staticmethod
    def _condition(post: Any, cond: dict[str, Any]) -> bool:
        name = cond.get("field_name")
        values = [str(v) for v in cond.get("field_values") or []]
        if name == "hashtag_name":
            return bool({v.lower().lstrip("#") for v in values} & set(post.hashtags))
        if name == "region_code":
            return post.region in values
        if name == "keyword":
            return any(v.lower() in post.description.lower() for v in values)
        if name == "username":
            return post.author.unique_id in values
        if name == "video_id":
            return post.post_id in values
        raise ValueError(f"unsupported field_name {name!r}")

    def _matches(self, post: Any, query: dict[str, Any]) -> bool:
        ands, ors, nots = query.get("and") or [], query.get("or") or [], query.get("not") or []
        return (
            all(self._condition(post, c) for c in ands)
            and (not ors or any(self._condition(post, c) for c in ors))
            and not any(self._condition(post, c) for c in nots)
        )

    def research_query(self, headers: Any, query: dict[str, str], body: Any) -> _Reply:
        denied = self._research_auth(headers)
        if denied:
            return denied
        log_id = self._log_id()

        def invalid(message: str) -> _Reply:
            return _Reply(400, shapes.research_error("invalid_params", message, log_id))

        if not isinstance(body, dict) or not isinstance(body.get("query"), dict):
            return invalid("query is required")
        try:
            start = dt.datetime.strptime(str(body["start_date"]), "%Y%m%d")
            end = dt.datetime.strptime(str(body["end_date"]), "%Y%m%d")
        except (KeyError, ValueError):
            return invalid("start_date and end_date are required, as YYYYMMDD")
        if end < start:
            return invalid("end_date must be after start_date")
        if (end - start).days > 30:
            return invalid("end_date must be no more than 30 days after start_date")
        max_count = int(body.get("max_count") or 20)
        if max_count > 100:
            return invalid("max_count must be no more than 100")
        cursor = int(body.get("cursor") or 0)
        fingerprint = json.dumps({k: body.get(k) for k in ("query", "start_date", "end_date")}, sort_keys=True)
        search_id = str(int(hashlib.sha256(fingerprint.encode()).hexdigest()[:15], 16))
        if cursor and str(body.get("search_id") or "") != search_id:
            return invalid("search_id is required with a cursor, and must be the one the first page returned")
        t = self.now()
        try:
            found = [p for p in self.world.search(t, start=start, end=end + dt.timedelta(days=1)) if self._matches(p, body["query"])]
        except ValueError as exc:
            return invalid(str(exc))
        fields = set(query.get("fields", "").split(",")) - {""} or None
        page = found[cursor : cursor + max_count]
        videos = [shapes.research_video(p, t, fields) for p in page]
        if self.research_duplicates and cursor == 0 and len(videos) > 1:
            videos.append(dict(videos[0]))  # the real API sometimes lists a video twice in one page
        data = {"videos": videos, "cursor": cursor + len(page), "has_more": cursor + len(page) < len(found), "search_id": search_id}
        return _Reply(body=shapes.research_ok(data, log_id))

    def research_user(self, headers: Any, query: dict[str, str], body: Any) -> _Reply:
        denied = self._research_auth(headers)
        if denied:
            return denied
        username = body.get("username") if isinstance(body, dict) else None
        author = self.world.author(str(username or ""))
        if author is None:
            return _Reply(400, shapes.research_error("invalid_params", f"user {username!r} does not exist or is private", self._log_id()))
        data = shapes.research_user(self.world, author, self.now(), self.base_url)
        fields = set(query.get("fields", "").split(",")) - {""}
        if fields:
            data = {k: v for k, v in data.items() if k in fields}
        return _Reply(body=shapes.research_ok(data, self._log_id()))

    # -- faults ---------------------------------------------------------------------------------
    def fault_reply(self, kind: str, path: str) -> _Reply | None:
        if kind == "429":
            body = shapes.research_error("rate_limit_exceeded", "Too many requests", self._log_id()) if path.startswith("/v2/") else b""
            return _Reply(429, body, headers={"Retry-After": "0"})
        if kind in ("500", "503"):
            return _Reply(int(kind), "<html><body><h1>Service unavailable</h1></body></html>", "text/html")
        if kind == "captcha":
            return _Reply(body=CAPTCHA_HTML, content_type="text/html; charset=utf-8")
        if kind == "login":
            return _Reply(body=LOGIN_HTML, content_type="text/html; charset=utf-8")
        if kind == "empty":
            return _Reply(body=b"")
        if kind == "expired":
            return _Reply(403, "Access Denied: URL expired", "text/plain")
        if kind == "quota":
            return _Reply(429, shapes.research_error("daily_quota_limit_exceeded", "API daily quota limit exceeded.", self._log_id()))
        return None


class _Handler(BaseHTTPRequestHandler):
    tiktok: OfflineTikTok
    protocol_version = "HTTP/1.1"
    server_version = "offline-tiktok"
    # headers and body go out as separate writes: without TCP_NODELAY, Nagle's algorithm and the
    # client's delayed ACK add ~40 ms to every keep-alive request (measured: 44 ms -> under 2 ms)
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def _handle(self, method: str) -> None:
        tiktok = self.tiktok
        parts = urlsplit(self.path)
        path = parts.path
        query = {k: v[0] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        length = int(self.headers.get("Content-Length") or 0)
        raw_body = self.rfile.read(length) if length else b""
        cookies = {}
        for chunk in (self.headers.get("Cookie") or "").split(";"):
            if "=" in chunk:
                name, _, value = chunk.strip().partition("=")
                cookies[name] = value
        body: Any = None
        content_type = self.headers.get("Content-Type", "")
        if raw_body and "json" in content_type:
            try:
                body = json.loads(raw_body)
            except ValueError:
                body = None
        elif raw_body:
            body = {k: v[0] for k, v in parse_qs(raw_body.decode("utf-8", "replace")).items()}
        with tiktok._lock:
            tiktok.requests.append(
                {
                    "method": method,
                    "path": path,
                    "query": query,
                    "json": body if "json" in content_type else None,
                    "cookies": sorted(cookies),
                    "at": tiktok.now(),
                }
            )
        fault = tiktok.faults.take(path)
        reply = None
        if fault is not None:
            if fault.kind == "slow":
                time.sleep(fault.delay or 1.0)
            else:
                reply = tiktok.fault_reply(fault.kind, path)
        if reply is None:
            try:
                reply = self._route(method, path, query, body, cookies)
            except Exception as exc:  # noqa: BLE001 - a bug in the offline server  # pragma: no cover
                reply = _Reply(500, {"statusCode": 500, "statusMsg": f"offline server error: {exc}"})
            if fault is not None and fault.kind == "truncated" and reply.body:
                reply.body = reply.body[: max(1, len(reply.body) // 2)]
        try:
            self.send_response(reply.status)
            self.send_header("Content-Type", reply.content_type)
            self.send_header("Content-Length", str(len(reply.body)))
            for name, value in reply.headers.items():
                self.send_header(name, value)
            for cookie in reply.cookies:
                self.send_header("Set-Cookie", cookie)
            self.end_headers()
            if method != "HEAD":
                self.wfile.write(reply.body)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def _route(self, method: str, path: str, query: dict[str, str], body: Any, cookies: dict[str, str]) -> _Reply:
        tiktok = self.tiktok
        if path == "/" and method == "GET":
            return tiktok.home()
        if path.startswith("/api/") and method == "GET":
            return tiktok.web_api(path, self.path, query, cookies)
        if path == "/v2/oauth/token/" and method == "POST":
            return tiktok.oauth_token(body or {})
        if path == "/v2/research/video/query/" and method == "POST":
            return tiktok.research_query(self.headers, query, body)
        if path == "/v2/research/user/info/" and method == "POST":
            return tiktok.research_user(self.headers, query, body)
        if path == "/v2/research/video/comment/list/" and method == "POST":
            return tiktok._research_auth(self.headers) or _Reply(*follow.research_comments(tiktok, body, tiktok.now()))
        if (m := _VIDEO_PAGE.match(path)) and method == "GET":
            return tiktok.video_page(m.group(1), m.group(2))
        if (m := _COVER.match(path)) and method == "GET":
            return tiktok.cover(m.group(1), query)
        if (m := _AVATAR.match(path)) and method == "GET":
            return _Reply(body=images.avatar_jpeg(m.group(1)), content_type="image/jpeg")
        if (reply := tiktok.media.route(method, path, query, cookies, self.headers)) is not None:
            return reply
        if path == "/_offline/fault":
            try:
                tiktok.faults.add(
                    query.get("kind", ""),
                    path=query.get("path") or None,
                    times=int(query["times"]) if query.get("times") else 1,
                    delay=float(query.get("delay") or 0),
                    after=int(query.get("after") or 0),
                )
            except ValueError as exc:
                return _Reply(400, {"error": str(exc)})
            return _Reply(body={"armed": len(tiktok.faults)})
        if path == "/_offline/state":
            return _Reply(
                body={
                    "now": clock.iso(tiktok.now()),
                    "counters": tiktok.counters,
                    "faults_armed": len(tiktok.faults),
                    "hashtags": sorted(tiktok.world.hashtags),
                }
            )
        return _Reply(404, {"statusCode": 404, "statusMsg": "not found"})


def serve_forever(
    port: int = 8765,
    seed: int = 0,
    *,
    host: str = "127.0.0.1",
    start: dt.datetime | None = None,
    speed: float = 1.0,
    hashtags: tuple[str, ...] = (),
    announce: Callable[[str], None] = print,
    **options: Any,
) -> None:
    """Serve until Ctrl-C. With ``start``, simulated time begins there and runs ``speed`` times faster than real time."""
    now = None
    if start is not None or speed != 1.0:
        origin, t0 = (start or clock.now()), time.monotonic()
        now = lambda: origin + dt.timedelta(seconds=(time.monotonic() - t0) * speed)  # noqa: E731
    server = OfflineTikTok(seed, host=host, port=port, now=now, hashtags=hashtags, **options).start()
    announce(
        f"offline TikTok at {server.base_url} (seed {seed}); point the collectors at it with "
        f"TIKTOK_INTEL_WEB_BASE_URL={server.base_url} TIKTOK_INTEL_RESEARCH_BASE_URL={server.base_url} "
        f"TIKTOK_INTEL_MEDIA_HOSTS={host}; Ctrl-C stops it"
    )
    try:
        while True:
            time.sleep(3600)
    finally:
        server.stop()
