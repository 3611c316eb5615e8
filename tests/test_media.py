"""Cover downloads: allowed hosts only, size cap, content-type check, names from post id + sha."""

from __future__ import annotations

import asyncio
import datetime as dt

import imagehash
import pytest
from PIL import Image

from tiktok_intel import clock, media
from tiktok_intel import settings as settings_module
from tiktok_intel.collect import collect
from tiktok_intel.offline import OfflineTikTok
from tiktok_intel.sources import http as http_module
from tiktok_intel.sources.http import HttpClient

T = dt.datetime(2026, 11, 10, 8, 0)


@pytest.fixture
def tiktok(workspace, monkeypatch):
    monkeypatch.setattr(http_module, "BACKOFF_BASE_SECONDS", 0.01)
    with clock.frozen(T), OfflineTikTok(seed=13) as server:
        settings_module.configure(workspace, ms_token="tok", requests_per_second=0, retries=1, **server.settings_overrides())
        yield server


def cover_url(tiktok, n=0):
    post = tiktok.world.feed("valet2026", T)[n]
    from tiktok_intel.offline.shapes import cover_url as make

    return post, make(tiktok.cover_base, post, T)


def download(url, post_id="7300000000000000001"):
    async def run():
        async with HttpClient(requests_per_second=0) as client:
            return await media.download_cover(client, post_id, url)

    return asyncio.run(run())


@pytest.mark.parametrize(
    "url, allowed",
    [
        ("https://p16-sign-va.tiktokcdn.com/obj/x.jpeg?x-expires=1", True),
        ("https://tiktokcdn.com/a.jpg", True),
        ("https://p77-sign.tiktokcdn-eu.com/a.jpg", True),
        ("https://evil-tiktokcdn.com/a.jpg", False),
        ("https://tiktokcdn.com.evil.example/a.jpg", False),
        ("ftp://p16.tiktokcdn.com/a.jpg", False),
        ("file:///etc/passwd", False),
        ("http://127.0.0.1:8765/obj/a.jpeg", False),
    ],
)
def test_default_allow_list_is_tiktoks_cdns(url, allowed):
    assert (
        media.host_allowed(url, settings_module.DECLARED[[s.name for s in settings_module.DECLARED].index("media_hosts")].default)
        is allowed
    )


def test_a_cover_is_saved_under_post_id_and_sha_never_the_url_path(tiktok, workspace):
    post, url = cover_url(tiktok)
    record = download(url, post.post_id)
    assert record.path.startswith(f"covers/{post.post_id}-") and record.path.endswith(".jpg")
    assert "tplv" not in record.path and "obj" not in record.path
    path = media.media_path(record.path)
    assert path.is_file() and path.parent == workspace.media_dir / "covers"
    assert (record.width, record.height, record.content_type) == (360, 640, "image/jpeg")
    import hashlib

    assert record.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    with pytest.raises(media.MediaError, match="not numeric"):
        download(url, "../../etc/passwd")


def test_hosts_outside_the_allow_list_are_refused(tiktok):
    settings_module.configure(settings_module.get_settings(), media_hosts=("tiktokcdn.com",))
    _, url = cover_url(tiktok)
    with pytest.raises(media.HostNotAllowedError, match="TIKTOK_INTEL_MEDIA_HOSTS"):
        download(url)
    assert not tiktok.requests_to("/obj/")  # refused before any request


def test_size_cap_and_content_type(tiktok):
    _, url = cover_url(tiktok)
    settings_module.configure(settings_module.get_settings(), media_max_bytes=500)
    with pytest.raises(media.MediaError, match="over the limit"):
        download(url)
    settings_module.configure(settings_module.get_settings(), media_max_bytes=10_000_000)
    with pytest.raises(media.NotAnImageError, match="not an image"):
        download(tiktok.base_url + "/_offline/state")


def test_expired_cover_urls(tiktok):
    _, url = cover_url(tiktok)
    with clock.frozen(T + dt.timedelta(hours=7)):
        with pytest.raises(media.MediaExpiredError, match="expired"):
            download(url)
    tiktok.faults.add("expired")
    with pytest.raises(media.MediaExpiredError):
        download(url)
    assert download(url).bytes > 1000


def test_collection_downloads_covers_of_new_posts_only(tiktok, con):
    first = collect(con, ["valet2026"], max_posts=40)
    assert first.outcomes[0].covers.saved == 40
    assert con.execute("SELECT count(*), count(DISTINCT path) FROM media WHERE kind = 'cover'").fetchone() == (40, 40)
    requested = len(tiktok.requests_to("/obj/"))
    second = collect(con, ["valet2026"], max_posts=40)
    assert second.outcomes[0].covers.saved == 0 and len(tiktok.requests_to("/obj/")) == requested
    tiktok.faults.add("expired", times=3)
    third = collect(con, ["valet2026"], max_posts=60)
    assert third.outcomes[0].covers.failed == 3 and third.outcomes[0].covers.saved == 17
    assert "3 URL expired (403)" in third.summary() and third.outcomes[0].ok


def test_collected_covers_give_image_search_and_ocr_real_work(tiktok, con, workspace):
    collect(con, ["valet2026"], max_posts=120)
    world = tiktok.world
    rows = con.execute("SELECT post_id, path FROM media WHERE kind = 'cover'").fetchall()
    kinds = {world.posts_by_id[pid].cover_kind for pid, _ in rows}
    assert kinds == {"text", "dup", "plain"}
    groups: dict[int, list] = {}
    for pid, path in rows:
        post = world.posts_by_id[pid]
        if post.cover_kind == "dup":
            groups.setdefault(post.cover_group, []).append(imagehash.phash(Image.open(media.media_path(path))))
    pairs = [(g[0], h) for g in groups.values() if len(g) > 1 for h in g[1:]]
    assert pairs and all(a - b <= 8 for a, b in pairs)
