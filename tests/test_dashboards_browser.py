"""Every dashboard in a real browser: Voilà serves the package's dashboards over a fixture workspace, Chromium drives it.

One Voilà server for the module (pre-heated kernels, as `tiktok-intel dashboards` runs it); each
test loads a dashboard, waits for it to render, interacts, checks what is shown and saves a
screenshot under the test's output folder, and also as ``<dashboard>.png`` in the folder named by
``TIKTOK_INTEL_SCREENSHOTS`` when set: the README's screenshots come from
``TIKTOK_INTEL_SCREENSHOTS=docs/screenshots pytest tests/test_dashboards_browser.py``.
"""

from __future__ import annotations

import os
import re
import socket
import time
import urllib.request
from pathlib import Path

import pytest

from tiktok_intel import seeding
from tiktok_intel import settings as settings_module
from tiktok_intel.dashboards import launcher

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
RENDER_TIMEOUT_MS = 60_000


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_http(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except Exception:  # noqa: BLE001 - not up yet
            time.sleep(0.3)
    raise RuntimeError(f"Voilà did not answer at {url}")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    workspace = tmp_path_factory.mktemp("browser") / "data"
    db = seeding.small(workspace)
    base = settings_module.load_settings(environ={}, dotenv=None)
    previous = settings_module.get_settings()
    # the suite's checks read English; the Swedish default is checked page by page with ?lang=sv
    settings_module.configure(base, workspace=workspace, ms_token=seeding.SECRET, ui_language="en")
    port = _free_port()
    log = (workspace.parent / "voila.log").open("wb")
    process, address = launcher.launch(port=port, stdout=log, stderr=subprocess_stdout())
    settings_module.configure(previous)
    try:
        _wait_http(address)
        yield {"url": address, "db": db, "log": workspace.parent / "voila.log"}
    finally:
        _stop(process)
        log.close()


def _stop(process) -> None:
    process.terminate()
    try:
        process.wait(timeout=15)
    except Exception:  # noqa: BLE001
        process.kill()


def subprocess_stdout():
    import subprocess

    return subprocess.STDOUT


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, server, request, tmp_path):
    context = browser.new_context(viewport={"width": 1280, "height": 1000}, accept_downloads=True)
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    pg.errors = errors
    yield pg
    pg.screenshot(path=str(tmp_path / f"{request.node.name}.png"), full_page=True)
    shots = os.environ.get("TIKTOK_INTEL_SCREENSHOTS")
    if shots and getattr(pg, "dashboard", None):
        Path(shots).mkdir(parents=True, exist_ok=True)
        pg.screenshot(path=str(Path(shots) / f"{pg.dashboard}.png"), full_page=False)
    pg.goto("about:blank")  # the page left: its unload shuts its kernel down (the server caps page kernels)
    context.close()


def open_dashboard(page, server, name: str, ready: str) -> float:
    started = time.perf_counter()
    page.goto(server["url"] + f"voila/render/{name}.ipynb", timeout=RENDER_TIMEOUT_MS)
    page.wait_for_selector(ready, timeout=RENDER_TIMEOUT_MS)
    page.dashboard = name
    return time.perf_counter() - started


def reload_until_room(page, timeout: float) -> float:
    """Seconds until a reload of the busy ``page`` is answered with the dashboard (fails after ``timeout``)."""
    started = time.monotonic()
    while True:
        response = page.reload(timeout=RENDER_TIMEOUT_MS)
        if response is None or response.status != 503:
            return time.monotonic() - started
        assert time.monotonic() - started < timeout, f"still busy after {timeout} s: {body_text(page)[:300]}"
        time.sleep(0.5)


def body_text(page) -> str:
    return page.inner_text("body")


def no_traceback(page) -> None:
    text = body_text(page)
    assert "Traceback" not in text and seeding.SECRET not in page.content()


def test_landing_page_links_every_dashboard(page, server):
    open_dashboard(page, server, "index", "a.ti-dashboard-link")
    links = page.eval_on_selector_all("a.ti-dashboard-link", "els => els.map(e => e.getAttribute('href'))")
    assert links == [f"{n}.ipynb" for n, _, _ in launcher_dashboards()]
    page.click("a.ti-dashboard-link >> text=Overview")
    page.wait_for_selector(".ti-counts", timeout=RENDER_TIMEOUT_MS)
    no_traceback(page)
    assert "from tiktok_intel" not in body_text(page)  # sources stripped


def test_the_address_opens_the_index_dashboard_not_a_file_list(page, server):
    page.goto(server["url"], timeout=RENDER_TIMEOUT_MS)  # http://127.0.0.1:<port>/, as `tiktok-intel dashboards` prints it
    page.wait_for_selector("a.ti-dashboard-link", timeout=RENDER_TIMEOUT_MS)
    page.dashboard = "index"
    assert page.url == server["url"] + "voila/render/index.ipynb"
    links = page.eval_on_selector_all("a.ti-dashboard-link", "els => els.map(e => e.innerText)")
    assert links == [title for _, title, _ in launcher_dashboards()]
    text = body_text(page)
    assert all(what in text for _, _, what in launcher_dashboards())  # what each dashboard shows
    assert re.search(
        r"posts last collected \d{4}-\d\d-\d\d \d\d:\d\d Europe/Stockholm \(\d+ (min|h|days) ago\)", page.inner_text(".ti-freshness")
    )  # how fresh the data is, in the desk's time zone
    assert "Select items" not in text and ".ipynb" not in text
    no_traceback(page)
    for tree in ("voila/tree", "voila/tree/", "voila/tree/pipelines"):  # Voilà's file list: the index instead
        page.goto(server["url"] + tree, timeout=RENDER_TIMEOUT_MS)
        page.wait_for_selector("a.ti-dashboard-link", timeout=RENDER_TIMEOUT_MS)
        assert "Select items" not in body_text(page) and ".ipynb" not in body_text(page)
    for listing in ("voila/api/contents", "voila/api/contents/", "api/contents"):
        assert page.request.get(server["url"] + listing).status == 404, listing


def test_with_a_token_nothing_is_listed_without_it(browser, tmp_path):
    """On another interface a token is required: without it, the address, the tree and the contents
    listing give no file names; with it, the address opens the index dashboard."""
    token = "browser-test-token-0123456789"
    previous = settings_module.get_settings()
    settings_module.configure(settings_module.load_settings(environ={}, dotenv=None), workspace=tmp_path / "data")
    with (tmp_path / "voila.log").open("wb") as log:
        process, address = launcher.launch(port=_free_port(), token=token, preheat=False, stdout=log, stderr=subprocess_stdout())
        settings_module.configure(previous)
        try:
            base = address.split("?")[0]
            _wait_http(address)
            assert token not in Path(f"/proc/{process.pid}/cmdline").read_bytes().decode(errors="replace")  # not visible in ps
            context = browser.new_context()
            page = context.new_page()
            for path in ("", "voila/tree", "voila/tree/dashboards", "voila/render/index.ipynb"):
                page.goto(base + path, timeout=RENDER_TIMEOUT_MS)
                assert "/login" in page.url, path  # asked for the token
                text = body_text(page)
                assert ".ipynb" not in text and "Select items" not in text and "TikTok intel dashboards" not in text, path
            for listing in ("voila/api/contents", "voila/api/contents/", "api/contents"):
                assert page.request.get(base + listing).status in (403, 404), listing
            page.goto(address, timeout=RENDER_TIMEOUT_MS)  # /?token=...
            page.wait_for_selector("a.ti-dashboard-link", timeout=RENDER_TIMEOUT_MS)
            assert page.url.startswith(base + "voila/render/index.ipynb")
            no_traceback(page)
            context.close()
        finally:
            _stop(process)


def launcher_dashboards():
    from tiktok_intel.dashboards import DASHBOARDS

    return DASHBOARDS


def test_overview_shows_counts_growth_chart_and_runs(page, server):
    open_dashboard(page, server, "overview", ".ti-run")
    page.wait_for_selector(".js-plotly-plot", timeout=RENDER_TIMEOUT_MS)
    text = body_text(page)
    assert "posts" in text and "tracked hashtags" in text and "collect" in text and "failed" in text
    page.click("text=month")
    page.wait_for_selector("text=2026-11-01", timeout=RENDER_TIMEOUT_MS)
    no_traceback(page)


def test_hashtags_add_validate_and_popularity(page, server):
    open_dashboard(page, server, "hashtags", ".ti-tracked")
    page.wait_for_selector(".js-plotly-plot", timeout=RENDER_TIMEOUT_MS)
    page.fill("input[placeholder='valet2026, #svtnyheter']", "#Webbtest_2026")
    page.click("button:has-text('Add')")
    page.wait_for_selector("text=Now tracking #webbtest_2026", timeout=RENDER_TIMEOUT_MS)
    page.wait_for_selector(".ti-tracked >> text=webbtest_2026", timeout=RENDER_TIMEOUT_MS)
    page.fill("input[placeholder='valet2026, #svtnyheter']", "webbtest_2026")
    page.click("button:has-text('Add')")
    page.wait_for_selector("text=Already tracked: #webbtest_2026", timeout=RENDER_TIMEOUT_MS)
    page.fill("input[placeholder='valet2026, #svtnyheter']", "inte ok!")
    page.click("button:has-text('Add')")
    page.wait_for_selector("text=use only letters, digits and underscore", timeout=RENDER_TIMEOUT_MS)
    no_traceback(page)


def test_trends_filter_detail_and_download(page, server, tmp_path):
    open_dashboard(page, server, "trends", ".ti-trending")
    first = page.inner_text(".ti-trending")
    page.click(".widget-toggle-buttons button:has-text('1d')")
    page.wait_for_function(
        "t => document.querySelector('.ti-trending') && document.querySelector('.ti-trending').innerText !== t",
        arg=first,
        timeout=RENDER_TIMEOUT_MS,
    )
    assert page.locator(".ti-card .ti-watch").first.get_attribute("href").startswith("https://www.tiktok.com/@")
    assert page.locator("a.ti-download").count() == 0  # built on click, not on every render
    page.locator("button.ti-prepare-downloads").first.click()
    page.wait_for_selector("a.ti-download:has-text('CSV for Excel')", timeout=RENDER_TIMEOUT_MS)
    with page.expect_download() as download:
        page.locator("a.ti-download:has-text('Download Excel')").first.click()
    saved = tmp_path / download.value.suggested_filename
    download.value.save_as(saved)
    import openpyxl

    book = openpyxl.load_workbook(saved)
    assert saved.name == "trending-posts-1d-views.xlsx" and book.active.max_row > 1
    no_traceback(page)


def test_a_page_of_tables_loads_the_table_library_once_and_they_sort(page, server):
    """Each table imports itables' library from the server (one request for its JavaScript, one for
    its CSS, for every table on the page) instead of carrying 750 kB in its state; the tables
    render and sort."""
    library: list[str] = []
    page.on("request", lambda r: library.append(r.url.rsplit("/", 1)[-1]) if "/tiktok-intel/table-library/" in r.url else None)
    received: list[int] = []
    page.on("websocket", lambda ws: ws.on("framereceived", lambda frame: received.append(len(frame))))
    open_dashboard(page, server, "trends", ".ti-trending table.dataTable tbody tr")
    page.wait_for_function("document.querySelectorAll('table.dataTable').length >= 2", timeout=RENDER_TIMEOUT_MS)
    assert sorted(library) == ["widget.css", "widget.js"]
    assert sum(received) < 500_000, sum(received)  # itables' own tables sent its 619 kB module in each one's state
    table = page.locator(".ti-trending table.dataTable").first
    column = table.locator("thead th").all_inner_texts().index("views")
    shown = []
    for direction in ("ascending", "descending"):  # the heading's sort button sorts by it, a second click the other way
        table.locator("thead th").nth(column).locator(".dt-column-order").click()
        page.wait_for_function(
            "([t, c, d]) => document.querySelector(t).querySelectorAll('thead th')[c].getAttribute('aria-sort') === d",
            arg=[".ti-trending table.dataTable", column, direction],
            timeout=RENDER_TIMEOUT_MS,
        )
        texts = table.locator(f"tbody td:nth-child({column + 1})").all_inner_texts()
        shown.append([int(re.sub(r"\D", "", text)) for text in texts])
    assert shown[0] == sorted(shown[0]) and shown[1] == sorted(shown[1], reverse=True) and shown[0] != shown[1]
    assert not page.errors, page.errors
    no_traceback(page)


def test_a_shared_link_opens_the_view_it_names(page, server):
    """``trends.ipynb?hashtag=klimat&window=30d`` opens with those filters, and its "link to this view" says them."""
    page.goto(server["url"] + "voila/render/trends.ipynb?hashtag=klimat&window=1d", timeout=RENDER_TIMEOUT_MS)
    page.wait_for_selector(".ti-share", timeout=RENDER_TIMEOUT_MS)
    assert page.locator(".widget-toggle-buttons button.mod-active").first.inner_text().strip() == "1d"
    assert page.locator(".widget-dropdown:has-text('Hashtag') select").first.evaluate("s => s.options[s.selectedIndex].text") == "#klimat"
    href = page.locator("a.ti-share").first.get_attribute("href")
    assert "hashtag=klimat" in href and "window=1d" in href
    page.click(".widget-toggle-buttons button:has-text('7d')")
    page.wait_for_function(
        "() => document.querySelector('a.ti-share').getAttribute('href').includes('window=7d')", timeout=RENDER_TIMEOUT_MS
    )
    no_traceback(page)


SWEDISH = {  # a dashboard, what to wait for, and words only the Swedish page shows
    "index": ("a.ti-dashboard-link", []),
    "overview": (".ti-run", ["inlägg", "bevakade hashtaggar", "nästa körning", "vecka", "månad", "inlägg totalt"]),
    "trends": (".ti-trending", ["Period", "Rangordna", "Förbered nedladdning", "Länk till den här vyn", "Tider i Europe/Stockholm"]),
    "search": (".ti-dup-group", ["Sök med bild", "Kopiera länk", "grupper av nästan identiska bilder", "Grupp 1"]),
    "hashtags": (".ti-tracked", ["Lägg till sökord", "Inaktivera", "senast insamlad", "videor", "Kopiera länk"]),
    "related_hashtags": (".ti-rule-count", ["Minsta konfidens", "Sortera efter", "regler", "Förbered nätverksfiler", "Kopiera länk"]),
    "reports": (".ti-report", ["toppkonton", "Rapport", "Rader", "jobb", "Kopiera länk", "Sök i tabellen"]),
    "accounts": (".ti-message", ["Inga konton bevakas än"]),
}
#: English no panel of a dashboard shows in Swedish (the notebooks' narrative is not checked)
ENGLISH = (
    "Rank by",
    "Prepare download",
    "Link to this view",
    "Search by image",
    "next run",
    "Add keyword",
    "Deactivate",
    "Min confidence",
    "Sort by",
    "Network for Gephi",
    "Prepare network files",
    "near-identical images",
    "No accounts tracked",
    "Search the table",
    "posts_total",
    "unique_id",
)


@pytest.mark.parametrize("name", list(SWEDISH))
def test_every_dashboard_in_swedish(page, server, name):
    """The same server, the page asked for in Swedish (``?lang=sv``; the setting's default): Swedish
    labels, numbers with Swedish digit groups, no English leftovers among the converted ones."""
    ready, words = SWEDISH[name]
    page.goto(server["url"] + f"voila/render/{name}.ipynb?lang=sv", timeout=RENDER_TIMEOUT_MS)
    page.wait_for_selector(ready, timeout=RENDER_TIMEOUT_MS)
    # the panels' texts (the notebooks' narrative is English)
    panels = "\n".join(page.eval_on_selector_all(".jp-OutputArea-output", "els => els.map(e => e.innerText)"))
    assert panels.strip(), name
    for word in words:
        assert word in panels, (name, word)
    for english in ENGLISH:
        assert english not in panels, (name, english)
    expected = expected_headings(name, "sv")
    assert headings(page, len(expected)) == expected, name
    no_traceback(page)


def expected_headings(name: str, lang: str) -> list[str]:
    """The ``<h1>`` and ``<h2>`` texts a dashboard's notebook writes (``ti.title`` / ``ti.section``), from the catalogue."""
    import nbformat

    from tiktok_intel.texts import t

    book = nbformat.read(str(launcher.DASHBOARDS_DIR / f"{name}.ipynb"), as_version=4)
    source = "\n".join(c.source for c in book.cells if c.cell_type == "code")
    keys = re.findall(r'ti\.(title|section)\("([^"]+)"\)', source)
    return [t(f"dash_{key}" if kind == "title" else key, lang) for kind, key in keys]


HEADINGS = ".jp-OutputArea-output h1, .jp-OutputArea-output h2"


def headings(page, count: int = 0) -> list[str]:
    """The page's ``<h1>`` and ``<h2>`` texts, in order (what a screen reader's list of headings shows),
    once there are ``count`` (the page renders cell by cell)."""
    page.wait_for_function("([sel, n]) => document.querySelectorAll(sel).length >= n", arg=[HEADINGS, count], timeout=RENDER_TIMEOUT_MS)
    return [h.strip() for h in page.eval_on_selector_all(HEADINGS, "els => els.map(e => e.innerText)")]


def test_the_headings_in_swedish_and_in_english(page, server):
    """Swedish (``?lang=sv``) and English (``?lang=en``) pages head their sections in their language: the
    notebooks' headings are code cells after ``from_url``, real ``<h1>``/``<h2>`` markup."""
    page.goto(server["url"] + "voila/render/overview.ipynb?lang=sv", timeout=RENDER_TIMEOUT_MS)
    page.wait_for_selector(".ti-run", timeout=RENDER_TIMEOUT_MS)
    assert page.locator("h1").first.inner_text().strip() == "Översikt"
    assert headings(page, 6) == ["Översikt", "I arbetsytan", "Tillväxt", "Schemalagda flöden", "Borttagna inlägg", "Larm"]
    assert [b.strip() for b in page.locator(".widget-toggle-buttons button").all_inner_texts()] == ["dag", "vecka", "månad", "år"]
    page.click(".widget-toggle-buttons button:has-text('vecka')")  # the switch's value stays "week"
    page.wait_for_selector("text=Nya per vecka", timeout=RENDER_TIMEOUT_MS)
    for name in ("overview", "trends", "search"):
        page.goto(server["url"] + f"voila/render/{name}.ipynb?lang=en", timeout=RENDER_TIMEOUT_MS)
        expected = expected_headings(name, "en")
        assert headings(page, len(expected)) == expected, name
    assert headings(page)[0] == "Search" and "Near-duplicate images" in headings(page)
    no_traceback(page)


def test_a_shared_related_hashtags_link_opens_filtered(page, server):
    """``related_hashtags.ipynb?hashtag=...&min_lift=0`` opens with only the rules naming the hashtag."""
    import duckdb

    from tiktok_intel.analyses import rules

    con = duckdb.connect(str(server["db"]), read_only=True)
    stored = rules.stored_rules(con)
    con.close()
    tag = str(list(stored["antecedents"].iloc[0])[0])
    naming = sum(tag in list(a) or tag in list(c) for a, c in zip(stored["antecedents"], stored["consequents"]))
    page.goto(server["url"] + f"voila/render/related_hashtags.ipynb?hashtag={tag}&min_lift=0", timeout=RENDER_TIMEOUT_MS)
    page.wait_for_selector(".ti-rule-count", timeout=RENDER_TIMEOUT_MS)
    assert page.inner_text(".ti-rule-count").strip() == f"{naming} of {len(stored)} rules" and naming < len(stored)
    chosen = page.locator(".widget-dropdown:has-text('Hashtag') select").first.evaluate("s => s.options[s.selectedIndex].text")
    assert chosen == "#" + tag
    href = page.locator("a.ti-share").first.get_attribute("href")
    assert f"hashtag={tag}" in href and "min_lift=0.0" in href
    page.wait_for_selector(".ti-rules >> text=#" + tag, timeout=RENDER_TIMEOUT_MS)  # the interactive table holds them
    no_traceback(page)


def test_related_hashtags_filter_and_network(page, server):
    open_dashboard(page, server, "related_hashtags", ".ti-rule-count")
    page.wait_for_selector(".js-plotly-plot", timeout=RENDER_TIMEOUT_MS)
    before = int(page.inner_text(".ti-rule-count").split()[0])
    field = page.locator(".widget-inline-hbox:has-text('Min confidence') input")
    field.fill("0.9")
    field.press("Enter")
    page.wait_for_function(f"() => parseInt(document.querySelector('.ti-rule-count').innerText) < {before}", timeout=RENDER_TIMEOUT_MS)
    no_traceback(page)


def test_search_text_and_image_upload(page, server):
    open_dashboard(page, server, "search", ".ti-dup-group")
    import duckdb

    con = duckdb.connect(str(server["db"]), read_only=True)
    word = con.execute("SELECT description FROM posts WHERE description <> '' ORDER BY post_id LIMIT 1").fetchone()[0].split()[0]
    cover = con.execute("SELECT path FROM media WHERE kind = 'cover' ORDER BY post_id LIMIT 1").fetchone()[0]
    con.close()
    page.fill("input[placeholder='words, #hashtags, @authors']", word)
    page.click("button:has-text('Search')")
    page.wait_for_selector(".ti-hit-count", timeout=RENDER_TIMEOUT_MS)
    assert page.locator(".ti-card").count() >= 1
    page.fill("input[placeholder='words, #hashtags, @authors']", "'; DROP TABLE posts; --")
    page.click("button:has-text('Search')")
    page.wait_for_selector("text=No posts match", timeout=RENDER_TIMEOUT_MS)
    with page.expect_file_chooser() as chooser:  # ipywidgets 8 keeps the file input out of the DOM
        page.click("button:has-text('Search by image')")
    chooser.value.set_files(str(Path(server["db"]).parent / "media" / cover))
    page.wait_for_selector("text=the image", timeout=RENDER_TIMEOUT_MS)
    assert page.locator(".ti-card img.ti-cover").count() >= 1
    no_traceback(page)


def test_reports_switch_filter_and_download_csv(page, server, tmp_path):
    open_dashboard(page, server, "reports", ".ti-report")
    page.wait_for_selector(".js-plotly-plot", timeout=RENDER_TIMEOUT_MS)
    page.click(".widget-toggle-buttons button:has-text('top authors')")
    page.wait_for_selector(".ti-report >> text=username", timeout=RENDER_TIMEOUT_MS)  # unique_id's heading
    page.select_option(".widget-dropdown:has-text('Hashtag') select", label="#klimat")
    page.wait_for_selector(".ti-report >> text=Rows 1–", timeout=RENDER_TIMEOUT_MS)  # an interactive table: every row, paged
    link = page.locator("a.ti-download[download='top-authors-klimat.csv']")
    deadline = time.monotonic() + RENDER_TIMEOUT_MS / 1000
    while link.count() == 0 and time.monotonic() < deadline:  # the files are built on click (of the filtered table's button)
        page.locator("button.ti-prepare-downloads").last.click()
        page.wait_for_timeout(1000)
    page.wait_for_selector("a.ti-download[download='top-authors-klimat.csv']", timeout=RENDER_TIMEOUT_MS)
    with page.expect_download() as download:
        page.click("a.ti-download[download='top-authors-klimat.csv']")
    saved = tmp_path / "report.csv"
    download.value.save_as(saved)
    assert saved.read_text(encoding="utf-8-sig").startswith("rank,author_id,unique_id")
    # the executed reports, newest first; one opens in the page
    rows = page.eval_on_selector_all(".ti-executed-report", "els => els.map(e => e.dataset.flow)")
    assert rows == ["weekly-brief", "post-trends"]
    row = page.locator(".widget-hbox", has=page.locator(".ti-executed-report[data-flow='post-trends']"))
    row.locator("button:has-text('Open')").click()
    frame = page.frame_locator("iframe.ti-report-frame")
    frame.locator("h1:has-text('Post trends report')").wait_for(timeout=RENDER_TIMEOUT_MS)
    no_traceback(page)


def _waiting_kernels(log: Path) -> int:
    from tiktok_intel.dashboards.preheat import WAITING

    return log.read_text(encoding="utf-8", errors="replace").count(WAITING) if log.exists() else 0


def test_a_preheated_page_shows_the_data_of_when_it_is_opened(browser, tmp_path):
    """The pre-heated kernel did its imports long before: what it shows must still be read when the page opens."""
    import shutil

    workspace = tmp_path / "data"
    db = seeding.small(workspace)
    root = tmp_path / "dashboards"
    root.mkdir()
    for name in ("index", "hashtags"):
        shutil.copy(launcher.DASHBOARDS_DIR / f"{name}.ipynb", root / f"{name}.ipynb")
    previous = settings_module.get_settings()
    settings_module.configure(settings_module.load_settings(environ={}, dotenv=None), workspace=workspace)
    log_path = tmp_path / "voila.log"
    with log_path.open("wb") as log:
        process, address = launcher.launch(port=_free_port(), root=root, preheat=True, stdout=log, stderr=subprocess_stdout())
        settings_module.configure(previous)
        try:
            _wait_http(address)
            deadline = time.monotonic() + 90
            while _waiting_kernels(log_path) < 2:  # both dashboards' kernels heated and waiting for a page
                assert time.monotonic() < deadline, log_path.read_text(errors="replace")[-2000:]
                time.sleep(0.3)
            time.sleep(3)  # were the panels read at the heat, they would have been by now
            from tiktok_intel import tracking
            from tiktok_intel.store import open_db

            with open_db(db) as con:  # after the heat, before the page
                tracking.add(con, ["added_after_the_heat"])
            context = browser.new_context()
            page = context.new_page()
            page.goto(address + "voila/render/hashtags.ipynb", timeout=RENDER_TIMEOUT_MS)
            page.wait_for_selector(".ti-tracked", timeout=RENDER_TIMEOUT_MS)
            assert "added_after_the_heat" in page.inner_text(".ti-tracked")
            no_traceback(page)
            context.close()
        finally:
            _stop(process)


@pytest.mark.slow
def test_closed_pages_free_their_kernels_and_beyond_the_cap_a_busy_page(browser, tmp_path):
    """Each page view has its kernel; closing the tab (or leaving the page) shuts it down within
    seconds (the unload's shutdown request passes the XSRF check), and a view beyond
    dashboard_max_kernels gets the busy page instead of a kernel."""
    from test_dashboards_guard import _wait_http as wait_http_no_render  # urllib's follows / to a render: a kernel
    from test_dashboards_guard import kernels, wait_kernels

    previous = settings_module.get_settings()
    settings_module.configure(settings_module.load_settings(environ={}, dotenv=None), workspace=tmp_path / "data", dashboard_max_kernels=3)
    with (tmp_path / "voila.log").open("wb") as log:
        process, address = launcher.launch(port=_free_port(), preheat=False, stdout=log, stderr=subprocess_stdout())
        settings_module.configure(previous)
        try:
            wait_http_no_render(address)
            context = browser.new_context()
            pages = []
            for _ in range(3):
                pg = context.new_page()
                pg.goto(address + "voila/render/index.ipynb", timeout=RENDER_TIMEOUT_MS)
                pg.wait_for_selector("a.ti-dashboard-link", timeout=RENDER_TIMEOUT_MS)
                pages.append(pg)
            assert len(kernels(process.pid)) == 3
            busy = context.new_page()
            response = busy.goto(address + "voila/render/overview.ipynb", timeout=RENDER_TIMEOUT_MS)
            assert response.status == 503
            assert "The dashboards are busy: try again in a minute." in body_text(busy)
            assert "Traceback" not in body_text(busy) and len(kernels(process.pid)) == 3
            pages[0].close(run_before_unload=True)  # the tab closed
            pages[1].goto("about:blank")  # the page left
            pages[2].close(run_before_unload=True)
            assert wait_kernels(process.pid, 0, 10) < 10
            # the kernel processes are gone; the server forgets a kernel once its shutdown has finished
            # (a moment later on a busy machine): the reader's retry finds room within seconds
            assert reload_until_room(busy, 15) < 15
            busy.wait_for_selector(".ti-counts, .ti-message", timeout=RENDER_TIMEOUT_MS)  # room again
            assert len(kernels(process.pid)) == 1
            busy.close(run_before_unload=True)
            wait_kernels(process.pid, 0, 10)
            context.close()
        finally:
            _stop(process)
