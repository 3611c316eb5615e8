"""The Search dashboard's "by meaning" switch and "similar" upload, in a real browser, with the tiny ONNX pair."""

from __future__ import annotations

import os
from pathlib import Path

import duckdb
import pytest
import tiny_clip
from test_dashboards_browser import RENDER_TIMEOUT_MS, _free_port, _stop, _wait_http, browser, no_traceback, subprocess_stdout  # noqa: F401

from tiktok_intel import seeding
from tiktok_intel import settings as settings_module
from tiktok_intel.dashboards import launcher
from tiktok_intel.search import clip, semantic
from tiktok_intel.search.fetch import open_image
from tiktok_intel.store import open_db

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    root = tmp_path_factory.mktemp("semantic-browser")
    workspace = root / "data"
    db = seeding.small(workspace)
    con = duckdb.connect(str(db), read_only=True)
    post_id, cover = con.execute("SELECT post_id, path FROM media WHERE kind = 'cover' ORDER BY post_id DESC LIMIT 1").fetchone()
    con.close()
    plain = clip.ClipModel(tiny_clip.build(root / "plain"))
    target = plain.embed_images([open_image(workspace / "media" / cover)])[0]
    folder = tiny_clip.build(root / "tiny-clip", words={"hund": target})  # "hund" means that post's cover
    base = settings_module.load_settings(environ={}, dotenv=None)
    previous = settings_module.get_settings()
    settings_module.configure(base, workspace=workspace, ms_token=seeding.SECRET, clip_model=str(folder), ui_language="en")
    saved = os.environ.get("TIKTOK_INTEL_CLIP_MODEL")
    os.environ["TIKTOK_INTEL_CLIP_MODEL"] = str(folder)  # for Voilà's kernels
    writer = open_db(str(db))
    try:
        assert semantic.embed_media(writer).embedded > 0
    finally:
        writer.close()
    log = (root / "voila.log").open("wb")
    process, address = launcher.launch(port=_free_port(), stdout=log, stderr=subprocess_stdout())
    settings_module.configure(previous)
    try:
        _wait_http(address)
        yield {"url": address, "db": db, "post_id": post_id, "cover": workspace / "media" / cover}
    finally:
        _stop(process)
        log.close()
        if saved is None:
            os.environ.pop("TIKTOK_INTEL_CLIP_MODEL", None)
        else:
            os.environ["TIKTOK_INTEL_CLIP_MODEL"] = saved


def test_search_by_meaning_and_similar_images_show_scores(browser, server):  # noqa: F811 - the shared fixture
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    page = context.new_page()
    try:
        page.goto(server["url"] + "voila/render/search.ipynb", timeout=RENDER_TIMEOUT_MS)
        page.wait_for_selector("input[placeholder='words, #hashtags, @authors']", timeout=RENDER_TIMEOUT_MS)
        page.fill("input[placeholder='words, #hashtags, @authors']", "hund")
        page.click("text=by meaning")
        page.click("button:has-text('Search')")
        page.wait_for_selector("text=showing “hund”", timeout=RENDER_TIMEOUT_MS)
        first = page.locator(".ti-card").first
        assert first.get_attribute("data-post-id") == server["post_id"]  # the cover "hund" was built from
        assert "similarity" in first.locator(".ti-score").inner_text()
        page.click("button:has-text('similar')")
        with page.expect_file_chooser() as chooser:
            page.click("button:has-text('Search by image')")
        chooser.value.set_files(str(Path(server["cover"])))
        page.wait_for_selector("text=like the image", timeout=RENDER_TIMEOUT_MS)
        first = page.locator(".ti-card").first
        assert first.get_attribute("data-post-id") == server["post_id"]
        assert "similarity 1.000" in first.locator(".ti-score").inner_text()
        no_traceback(page)
    finally:
        context.close()
