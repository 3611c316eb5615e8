"""The Playwright session in Debian's headless chromium against the offline TikTok: msToken from
the home page's cookie, URLs signed by the page's own frontierSign, renewal when TikTok stops
answering. Marked `browser`."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tiktok_intel import clock
from tiktok_intel import settings as settings_module
from tiktok_intel.collect import collect
from tiktok_intel.offline import OfflineTikTok
from tiktok_intel.offline.server import x_bogus
from tiktok_intel.sources import http as http_module
from tiktok_intel.sources.browser import BrowserSession, BrowserSessionError, open_session
from tiktok_intel.sources.web import StaticSession

pytestmark = pytest.mark.browser
T = dt.datetime(2026, 11, 10, 8, 0)


@pytest.fixture
def signed_tiktok(workspace, monkeypatch):
    if not Path(workspace.chromium_path).exists():
        pytest.fail(f"chromium is required for browser tests: apt-get install chromium ({workspace.chromium_path})")
    monkeypatch.setattr(http_module, "BACKOFF_BASE_SECONDS", 0.01)
    with clock.frozen(T), OfflineTikTok(seed=21, require_signature=True, token_max_uses=3) as server:
        settings_module.configure(workspace, requests_per_second=0, retries=1, **server.settings_overrides())
        yield server


def test_session_takes_the_ms_token_cookie_and_signs_with_the_pages_signer(signed_tiktok):
    async def run():
        session = await BrowserSession().start()
        try:
            url = (
                signed_tiktok.base_url
                + "/api/challenge/detail/?aid=1988&app_name=tiktok_web&challengeName=klimat&msToken="
                + session.ms_token
            )
            return session.ms_token, session.cookies, session.has_signer, await session.sign(url), url
        finally:
            await session.close()

    token, cookies, has_signer, signature, url = asyncio.run(run())
    assert token.startswith("offline") and "ttwid" in cookies and has_signer
    parts = urlsplit(url)
    assert signature == x_bogus(parts.path + "?" + parts.query)  # the page's JavaScript signer, run in chromium
    assert signed_tiktok.counters["home"] == 1


def test_collect_through_the_browser_session_renews_it_when_tiktok_stops_answering(signed_tiktok, con, workspace):
    result = collect(con, ["valet2026"], max_posts=100, covers=False)
    assert not result.failed and result.posts == 100, result.summary()
    feed = signed_tiktok.requests_to("/api/challenge/item_list/")
    assert all("X-Bogus" in r["query"] for r in feed)
    assert signed_tiktok.counters["home"] >= 2  # each msToken answers 3 requests: the session was renewed
    tokens = {r["query"]["msToken"] for r in signed_tiktok.requests_to("/api/")}
    assert len(tokens) >= 2
    texts = "\n".join(p.read_text() for p in workspace.raw_dir.rglob("*.meta.json"))
    assert not any(t in texts for t in tokens)  # browser tokens are redacted from raw meta too


def test_ms_token_setting_skips_the_browser_and_a_missing_chromium_is_one_line(signed_tiktok):
    settings_module.configure(settings_module.get_settings(), ms_token="configured-token")
    session = asyncio.run(open_session())
    assert isinstance(session, StaticSession) and session.ms_token == "configured-token"
    assert signed_tiktok.counters["home"] == 0
    settings_module.configure(settings_module.get_settings(), ms_token="", chromium_path="/nonexistent/chromium")
    with pytest.raises(BrowserSessionError) as info:
        asyncio.run(open_session())
    assert "apt-get install chromium" in str(info.value) and "\n" not in str(info.value)
