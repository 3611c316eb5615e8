"""A web session from a real browser: Playwright driving Debian's chromium (never ``playwright install``).

The session opens TikTok's home page, takes the ``msToken`` and the other cookies it sets, and
signs API URLs with the page's own signer (``window.byted_acrawler.frontierSign(url)`` giving
``X-Bogus``) when the page provides one. One session serves a whole run; :meth:`renew` opens a
fresh browser context (new cookies, new token) when TikTok stops answering. An ``ms_token``
setting skips the browser altogether (:func:`open_session`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..settings import Settings, get_settings
from .http import USER_AGENT, SourceError
from .web import Session, StaticSession

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
_HAS_SIGNER = "() => !!(window.byted_acrawler && typeof window.byted_acrawler.frontierSign === 'function')"
_SIGN = "(url) => { const r = window.byted_acrawler.frontierSign(url); return r && (r['X-Bogus'] || r['x-bogus']) || null; }"


class BrowserSessionError(SourceError):
    reason = "browser session failed"


class BrowserSession:
    """``session = await BrowserSession().start()``; then ``ms_token``, ``cookies``, ``await sign(url)``, ``await renew()``, ``await close()``."""

    renewable = True

    def __init__(self, settings: Settings | None = None, *, timeout_seconds: float | None = None):
        self.settings = settings or get_settings()
        self.base = self.settings.web_base_url.rstrip("/")
        self.timeout_ms = int(1000 * (timeout_seconds or self.settings.timeout_seconds))
        self.user_agent = USER_AGENT
        self.ms_token = ""
        self.cookies: dict[str, str] = {}
        self.has_signer = False
        self.renewals = 0
        self.opened = 0
        self._playwright: Any = None
        self._browser: Any = None
        self._context: Any = None
        self._page: Any = None

    async def start(self) -> BrowserSession:
        path = self.settings.chromium_path
        if not Path(path).exists():
            raise BrowserSessionError(
                f"chromium not found at {path}: `apt-get install chromium`, set TIKTOK_INTEL_CHROMIUM_PATH, "
                "or set TIKTOK_INTEL_MS_TOKEN to skip the browser"
            )
        try:
            from playwright.async_api import async_playwright
        except ImportError:  # pragma: no cover - playwright is a dependency
            raise BrowserSessionError(
                "the playwright package is missing: pip install playwright (no `playwright install` needed)"
            ) from None
        self._playwright = await async_playwright().start()
        launch: dict[str, Any] = {"executable_path": path, "args": CHROMIUM_ARGS, "headless": True, "timeout": self.timeout_ms}
        if self.settings.proxy:
            launch["proxy"] = {"server": self.settings.proxy}
        try:
            self._browser = await self._playwright.chromium.launch(**launch)
        except Exception as exc:  # noqa: BLE001 - Playwright raises many kinds; one line naming the fix
            await self.close()
            raise BrowserSessionError(
                f"chromium at {path} did not start ({type(exc).__name__}: {str(exc).splitlines()[0][:160]}): "
                "check the install, or set TIKTOK_INTEL_MS_TOKEN to skip the browser"
            ) from None
        try:
            await self._open()
        except BaseException:
            await self.close()
            raise
        return self

    async def _open(self) -> None:
        if self._context is not None:
            await self._context.close()
        self._context = await self._browser.new_context(
            user_agent=self.user_agent, locale=f"{self.settings.language}-{self.settings.region}", timezone_id=self.settings.timezone
        )
        self._page = await self._context.new_page()
        try:
            await self._page.goto(self.base + "/", wait_until="load", timeout=self.timeout_ms)
        except Exception as exc:  # noqa: BLE001 - Playwright raises many kinds; one line naming the fix
            raise BrowserSessionError(
                f"the browser could not open {self.base}/ ({type(exc).__name__}): check the network and "
                "TIKTOK_INTEL_WEB_BASE_URL, or set TIKTOK_INTEL_MS_TOKEN"
            ) from None
        cookies = await self._context.cookies()
        self.cookies = {c["name"]: c["value"] for c in cookies}
        self.ms_token = self.cookies.get("msToken", "")
        if not self.ms_token:
            raise BrowserSessionError(f"TikTok's home page ({self.base}/) set no msToken cookie: try later, or set TIKTOK_INTEL_MS_TOKEN")
        self.has_signer = bool(await self._page.evaluate(_HAS_SIGNER))
        self.opened += 1

    async def sign(self, url: str) -> str | None:
        """``X-Bogus`` for ``url`` from the page's signer (None when the page has none)."""
        if not self.has_signer:
            return None
        try:
            return await self._page.evaluate(_SIGN, url)
        except Exception as exc:  # noqa: BLE001 - Playwright raises many kinds; one line naming the fix
            raise BrowserSessionError(f"the page's signer failed ({type(exc).__name__}): renew the session (run again)") from None

    async def renew(self) -> None:
        """A fresh context: new cookies, a new msToken."""
        await self._open()
        self.renewals += 1

    async def close(self) -> None:
        for name in ("_context", "_browser"):
            thing = getattr(self, name)
            if thing is not None:
                try:
                    await thing.close()
                except Exception:  # noqa: BLE001 - closing what is left of a session: nothing to report
                    pass
                setattr(self, name, None)
        if self._playwright is not None:
            await self._playwright.stop()
            self._playwright = None


async def open_session(settings: Settings | None = None) -> Session:
    """The ``ms_token`` setting when set (no browser), else a started :class:`BrowserSession`."""
    settings = settings or get_settings()
    if settings.ms_token:
        return StaticSession(settings.ms_token)
    return await BrowserSession(settings).start()
