"""Search on covers the offline TikTok serves: collected like real ones, then OCR'd and hashed."""

from __future__ import annotations

import datetime as dt

import pytest

from tiktok_intel import clock
from tiktok_intel import settings as settings_module
from tiktok_intel.collect import collect
from tiktok_intel.offline import OfflineTikTok
from tiktok_intel.search import find_duplicates, process_media, search_image, search_text
from tiktok_intel.sources import http as http_module
from tiktok_intel.store import open_db

T = dt.datetime(2026, 11, 12, 8, 1)


@pytest.fixture(scope="module")
def collected(tmp_path_factory):
    """One collection with covers from the offline TikTok, hashed and OCR'd, shared by the tests here."""
    base = settings_module.load_settings(environ={}, dotenv=None)
    workspace = settings_module.configure(base, workspace=tmp_path_factory.mktemp("covers") / "data")
    con = open_db(workspace.db_target)
    saved_backoff = http_module.BACKOFF_BASE_SECONDS
    http_module.BACKOFF_BASE_SECONDS = 0.01
    try:
        with clock.frozen(T), OfflineTikTok(seed=21) as server:
            settings_module.configure(workspace, ms_token="tok", requests_per_second=0, retries=1, **server.settings_overrides())
            result = collect(con, ["valet2026", "klimat"], max_posts=40)
            assert not result.failed, result.summary()
            summary = process_media(con)
            world = server.world
        covered = {r[0] for r in con.execute("SELECT post_id FROM media WHERE kind = 'cover'").fetchall()}
        yield {pid: world.posts_by_id[pid] for pid in covered}, summary, con
    finally:
        http_module.BACKOFF_BASE_SECONDS = saved_backoff
        con.close()
        settings_module.configure(None)


def test_ocr_finds_the_words_drawn_on_covers(collected):
    posts, summary, con = collected
    text_posts = [p for p in posts.values() if p.cover_kind == "text"]
    assert text_posts, "the offline world draws text on some covers"
    read_back = 0
    for post in text_posts:
        read = con.execute("SELECT text FROM ocr_text WHERE post_id = ?", [post.post_id]).fetchone()
        assert read is not None
        read_back += post.overlay.lower() in " ".join(read[0].split()).lower()
    assert read_back >= 0.8 * len(text_posts), f"{read_back} of {len(text_posts)} overlays read exactly"
    # a word only in the picture, not in the caption, finds the post
    for post in text_posts:
        only_in_picture = [
            w for w in post.overlay.replace("#", " ").split() if len(w) > 4 and w.lower() not in (post.description or "").lower()
        ]
        if only_in_picture:
            hits = search_text(con, only_in_picture[0], limit=50)
            assert post.post_id in {h.post_id for h in hits}
            break
    assert "ocr" in str(summary).lower()


def test_image_search_finds_near_duplicates_and_not_unrelated(collected):
    posts, _, con = collected
    groups: dict[int, list] = {}
    for post in posts.values():
        if post.cover_kind == "dup":
            groups.setdefault(post.cover_group, []).append(post)
    group = max(groups.values(), key=len)
    assert len(group) >= 2, "the offline world re-uploads some covers"
    hits = search_image(con, group[0].post_id, max_distance=10, limit=50)
    found = {h.post_id for h in hits}
    assert {p.post_id for p in group[1:]} <= found
    unrelated = {pid for pid, p in posts.items() if p.cover_kind != "dup" or p.cover_group != group[0].cover_group}
    assert not (found & unrelated)
    assert [h.distance for h in hits] == sorted(h.distance for h in hits)
    assert all(h.url.endswith(f"/video/{h.post_id}") for h in hits)


def test_duplicate_groups_cross_accounts_and_match_the_world(collected):
    posts, _, con = collected
    dups = find_duplicates(con, max_distance=8, min_accounts=2)
    for g in dups:
        members = [posts[p.post_id] for p in g.posts]
        assert len({m.cover_group for m in members}) == 1 and all(m.cover_kind == "dup" for m in members)
        assert g.accounts >= 2 and g.accounts == len({m.author.unique_id for m in members})
