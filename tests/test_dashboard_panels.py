"""Dashboard panels as plain functions: against a fixture workspace built like the flows build it, and an empty one."""

from __future__ import annotations

import base64
import datetime as dt
import html
import io
import re
from pathlib import Path

import ipywidgets as w
import openpyxl
import pandas as pd
import pytest

from tiktok_intel import dashboards as ti
from tiktok_intel import seeding
from tiktok_intel import settings as settings_module
from tiktok_intel.dashboards import data, launcher, ui
from tiktok_intel.store import open_db
from tiktok_intel.store import workspace as workspace_module

PANELS = [
    ("counts", lambda db: ti.counts_panel(db)),
    ("growth", lambda db: ti.growth_panel(db)),
    ("runs", lambda db: ti.runs_panel(db)),
    ("tracked", lambda db: ti.tracked_panel(db)),
    ("popularity", lambda db: ti.popularity_panel(db)),
    ("hashtag_trending", lambda db: ti.hashtag_trending_panel(db)),
    ("trending_posts", lambda db: ti.trending_posts_panel(db)),
    ("trending_authors", lambda db: ti.trending_authors_panel(db)),
    ("related", lambda db: ti.related_hashtags_panel(db)),
    ("search", lambda db: ti.search_panel(db)),
    ("duplicates", lambda db: ti.duplicates_panel(db)),
    ("reports", lambda db: ti.reports_panel(db)),
    ("report_archive", lambda db: ti.report_archive_panel(db)),
]


def texts(widget) -> str:
    """Every HTML / label text, and every figure's JSON, in a widget tree."""
    parts = []
    stack = [widget]
    while stack:
        item = stack.pop()
        if isinstance(item, (w.HTML, w.Label)):
            parts.append(item.value)
        if isinstance(item, w.Output):
            parts += [str(o.get("data", "")) for o in item.outputs]
        if type(item).__name__ == "ITable":  # an interactive table: its classes, header and every row it carries
            args = item._dt_args
            parts.append(" ".join(item._dom_classes) + "\n" + args.get("table_html", "") + "\n" + str(args.get("data_json", "")))
        if hasattr(item, "children"):
            stack.extend(reversed(item.children))
    return "\n".join(parts)


def find(widget, kind, **attrs):
    stack, found = [widget], []
    while stack:
        item = stack.pop()
        if isinstance(item, kind) and all(getattr(item, k, None) == v for k, v in attrs.items()):
            found.append(item)
        stack.extend(getattr(item, "children", ()))
    return found


def figures(widget):
    return [o.figure for o in find(widget, w.Output) if hasattr(o, "figure")]


@pytest.fixture(scope="module")
def fixture_db(tmp_path_factory):
    return seeding.small(tmp_path_factory.mktemp("dash") / "data")


@pytest.fixture
def ws(fixture_db, monkeypatch):
    """Settings pointing at the fixture workspace (secrets set), restored afterwards."""
    monkeypatch.setenv("TIKTOK_INTEL_PROGRESS", "0")
    base = settings_module.load_settings(environ={}, dotenv=None)
    settings_module.configure(
        base, workspace=fixture_db.parent, ms_token=seeding.SECRET, research_client_secret="s3cr3t-client-value", ui_language="en"
    )
    yield fixture_db
    settings_module.configure(None)


# ------------------------------------------------------------------------------------ empty workspace


@pytest.mark.parametrize("name,build", PANELS)
def test_every_panel_on_an_empty_workspace_says_how_to_start(workspace, name, build):
    widget = build(None)
    text = texts(widget)
    assert "Traceback" not in text and "Error" not in text.split("DashboardError")[0]
    if name not in ("tracked",):
        assert "tiktok-intel" in text or "yet" in text, (name, text[:300])
    assert not workspace.workspace_path.joinpath("tiktok.duckdb").exists() or name == "tracked"


def test_empty_database_file_gives_panel_messages_not_errors(workspace):
    settings_module.configure(settings_module.get_settings(), ui_language="en")  # the texts below are English
    open_db(workspace.db_target).close()
    for name, build in PANELS:
        text = texts(build(None))
        assert "could not be shown" not in text and "ti-warning" not in text, (name, text[:300])
    assert "No posts collected yet" in texts(ti.counts_panel(None))
    assert "No association rules yet" in texts(ti.related_hashtags_panel(None))


def test_a_locked_database_is_a_busy_message_after_a_short_wait(workspace, monkeypatch):
    from tiktok_intel.errors import StoreError

    open_db(workspace.db_target).close()

    def locked(*args, **kwargs):
        raise StoreError(f"{workspace.db_target} is in use by another process (process 1): wait for it to finish")

    monkeypatch.setattr(workspace_module, "open_db", locked)
    monkeypatch.setattr(workspace_module, "BUSY_WAIT_SECONDS", 0.2)
    text = texts(ti.counts_panel(None))  # the page's language (the default: Swedish)
    assert "Databasen är upptagen: ett schemalagt flöde skriver till den" in text and "Traceback" not in text
    from tiktok_intel import texts as texts_module

    texts_module.use("en")
    try:
        assert "The database is busy" in texts(ti.counts_panel(None))
    finally:
        texts_module.use(None)


# ------------------------------------------------------------------------------------ fixture workspace


def test_panels_hold_no_connection_after_building(ws):
    for _, build in PANELS:
        build(None)
    con = open_db(ws)  # a writer opens at once: nothing kept the file
    con.close()


def test_counts_and_growth(ws):
    text = texts(ti.counts_panel(None))
    with open_db(ws, read_only=True) as con:
        posts = con.execute("SELECT count(*) FROM posts").fetchone()[0]
    assert f">{posts:,}<" in text and "tracked hashtags" in text
    growth = ti.growth_panel(None)
    assert figures(growth) and "2026-11-10" in texts(growth)
    toggle = find(growth, w.ToggleButtons)[0]
    toggle.value = "month"
    assert "2026-11-01" in texts(growth)


def test_runs_show_last_status_report_and_schedule(ws):
    panel = ti.runs_panel(None)
    text = texts(panel)
    assert "data-flow='content'" in text and "data-flow='post-trends'" in text and "failed" in text
    from tiktok_intel.schedules import JOBS, next_runs

    for job in JOBS:  # every scheduled flow with its next run time, from the one schedules table
        expected = next_runs(job, 1)[0].strftime("%Y-%m-%d %H:%M")
        assert re.search(rf"data-flow='{job.name}'.*?>{re.escape(expected)}</td></tr></tbody></table>", text), job.name
    assert "<th scope='col'" in text and "<th scope='row'" in text and "<caption" in text  # a real table for screen readers
    for button in find(panel, w.Button, description="Open report"):
        button.click()
    assert 'download="post_trends.html"' in texts(panel)


def test_tracked_list_add_validate_duplicate_and_deactivate(ws):
    panel = ti.tracked_panel(None)
    box = find(panel, w.Text, description="Hashtag")[0]  # (not the keyword box beside it)
    add = find(panel, w.Button, description="Add")[0]
    box.value = "#Nyheter_SE"
    add.click()
    assert "Now tracking #nyheter_se" in texts(panel) and ">nyheter_se<" in texts(panel)
    box.value = "nyheter_se"
    add.click()
    assert "Already tracked: #nyheter_se" in texts(panel)
    box.value = "bad tag!"
    add.click()
    assert "contains &#x27;!&#x27;" in texts(panel)
    box.value = "x'); DROP TABLE posts; --"
    add.click()
    assert "use only letters, digits and underscore" in texts(panel)
    pick = find(panel, w.Dropdown)[0]
    pick.value = "nyheter_se"
    find(panel, w.Button, description="Deactivate")[0].click()
    assert "Stopped tracking #nyheter_se" in texts(panel)
    with open_db(ws, read_only=True) as con:
        assert con.execute("SELECT active FROM tracked_hashtags WHERE name = 'nyheter_se'").fetchone() == (False,)
        assert con.execute("SELECT count(*) FROM posts").fetchone()[0] > 0


def test_editing_can_be_turned_off(ws):
    settings_module.configure(settings_module.get_settings(), dashboard_editing=False)
    panel = ti.tracked_panel(None)
    assert not find(panel, w.Button, description="Add") and "turned off" in texts(panel)
    with pytest.raises(ti.DashboardError, match="turned off"):
        ti.add_hashtags("valfritt", None)


def test_popularity_is_a_line_per_tracked_hashtag(ws):
    fig = figures(ti.popularity_panel(None))[0]
    assert sorted(t.name for t in fig.data) == sorted(seeding.HASHTAGS)
    assert all(len(t.x) >= 2 for t in fig.data)


def test_trending_posts_filters_detail_and_downloads(ws):
    panel = ti.trending_posts_panel(None, window="1d")
    text = texts(panel)
    assert "ti-trending" in text and "post on TikTok" in text and "Download CSV" not in text  # the files are built on click
    assert any(b.description == "Prepare download" for b in find(panel, w.Button))
    window = find(panel, w.ToggleButtons)[0]
    window.value = "30d"
    assert "No trending posts for these filters" in texts(panel)
    window.value = "7d"
    tag = find(panel, w.Dropdown, description="Hashtag")[0]
    tag.value = "klimat"
    with open_db(ws, read_only=True) as con:
        from tiktok_intel.analyses import trends

        expected = trends.top_trending_posts(con, "7d", hashtag="klimat", limit=20)
    pick = find(panel, w.Dropdown, description="Details")[0]
    assert [v for _, v in pick.options] == list(expected["post_id"])
    pick.value = pick.options[-1][1]
    assert f'data-post-id="{pick.value}"' in texts(panel)
    [prepare] = [b for b in find(panel, w.Button) if b.description == "Prepare download"]
    prepare.click()
    link = re.search(r'download="([^"]+\.xlsx)" href="data:[^;]+;base64,([^"]+)"', texts(panel))
    import base64

    book = openpyxl.load_workbook(io.BytesIO(base64.b64decode(link.group(2))))
    assert link.group(1) == "trending-posts-7d-views.xlsx" and book.active.max_row == len(expected) + 1
    csv = re.search(r'download="[^"]+\.csv" href="data:text/csv;base64,([^"]+)"', texts(panel)).group(1)
    frame = pd.read_csv(io.BytesIO(base64.b64decode(csv)), encoding="utf-8-sig")
    assert list(frame["post_id"].astype(str)) == list(expected["post_id"])


def test_related_hashtags_filters_and_network(ws):
    panel = ti.related_hashtags_panel(None, min_lift=0)
    count = lambda: int(re.search(r"ti-rule-count'>(\d+) of", texts(panel)).group(1))  # noqa: E731
    all_rules = count()
    assert all_rules > 0 and figures(panel)[0].data
    find(panel, w.BoundedFloatText, description="Min confidence")[0].value = 0.9
    high = count()
    with open_db(ws, read_only=True) as con:
        from tiktok_intel.analyses import rules

        stored = rules.stored_rules(con)
    assert high == int((stored["confidence"] >= 0.9 - 1e-9).sum()) < all_rules
    find(panel, w.BoundedFloatText, description="Min lift")[0].value = 1e6
    assert "No rules at these thresholds" in texts(panel)


def test_search_cards_errors_and_image_upload(ws):
    panel = ti.search_panel(None)
    box = find(panel, w.Text, description="Search")[0]
    button = find(panel, w.Button, description="Search")[0]
    with open_db(ws, read_only=True) as con:
        word = con.execute("SELECT description FROM posts WHERE description <> '' ORDER BY post_id LIMIT 1").fetchone()[0].split()[0]
    box.value = word
    button.click()
    text = texts(panel)
    assert "ti-card" in text and "post on TikTok" in text and "ti-hit-count" in text
    box.value = "'; DROP TABLE posts; --"
    button.click()
    assert "Traceback" not in texts(panel) and ("No posts match" in texts(panel) or "ti-card" in texts(panel))
    box.value = "!!! ???"
    button.click()
    assert "has no words in it" in texts(panel)
    with pytest.raises(Exception, match="at most"):
        ti.image_results(b"x" * (settings_module.get_settings().media_max_bytes + 1))
    with open_db(ws, read_only=True) as con:
        path = con.execute("SELECT path FROM media WHERE kind = 'cover' ORDER BY post_id LIMIT 1").fetchone()[0]
    content = (ws.parent / "media" / path).read_bytes()
    count, cards = ti.image_results(content)
    assert count >= 1 and "data:image/jpeg;base64," in cards


def test_a_non_image_upload_is_one_clear_message(ws):
    from tiktok_intel.errors import TikTokIntelError

    with pytest.raises(TikTokIntelError):
        ti.image_results(b"GIF89a-broken" * 10)


def test_duplicate_groups(ws):
    text = texts(ti.duplicates_panel(None))
    groups = int(re.search(r"ti-dup-count'>(\d+) groups? of near-identical images", text).group(1))
    with open_db(ws, read_only=True) as con:
        planted = con.execute("SELECT post_id FROM media WHERE path LIKE '%dup-%'").fetchone()[0]
    assert groups >= 1 and text.count("ti-dup-group") == groups and f'data-post-id="{planted}"' in text


def test_reports_switch_and_download(ws):
    panel = ti.reports_panel(None)
    assert figures(panel)[0].data and "ti-report" in texts(panel)
    kind = find(panel, w.ToggleButtons)[0]
    kind.value = "top authors"
    assert find(panel, w.Dropdown, description="Metric")[0].value == "followers"
    header = _table(panel, "ti-report")._dt_args["table_html"]  # headings from the catalogue, rows kept by column name
    assert "username" in header and "unique_id" not in header and "display name" in header
    assert "unique_id" in find(panel, w.VBox, table=_table(panel, "ti-report"))[0].frame.columns
    kind.value = "top posts in feed"

    def prepared() -> str:
        for button in find(panel, w.Button, description="Prepare download"):
            button.click()  # the files are built on click
        return texts(panel)

    assert "collections" in texts(panel) and "top-posts-in-feed.xlsx" not in texts(panel)
    assert "top-posts-in-feed.xlsx" in prepared() and "top-posts-in-feed-excel.csv" in prepared()
    find(panel, w.Dropdown, description="Hashtag")[0].value = "klimat"
    assert "top-posts-in-feed-klimat.csv" in prepared()


def test_report_archive_lists_built_in_and_published_reports_newest_first_and_opens_them(ws):
    panel = ti.report_archive_panel(None)
    text = texts(panel)
    listed = re.findall(r"class='ti-executed-report' data-flow='([^']+)'", text)
    assert listed == ["weekly-brief", "post-trends"]  # newest first; the unpublished job and the run without a report are left out
    assert "private-job" not in text and "association-rules" not in text
    opened = []
    for button in find(panel, w.Button, description="Open"):
        button.click()
        opened.append(texts(panel.children[1]))  # the box under the list shows the opened report
    [trends] = [o for o in opened if "Post trends report" in o]
    assert "ti-report-frame" in trends and "&lt;h1&gt;Post trends report&lt;/h1&gt;" in trends
    assert 'download="post_trends.html"' in trends
    [brief] = [o for o in opened if "Weekly brief" in o]
    assert "Weekly brief (token ***)" in brief and seeding.SECRET not in brief  # the report's secret is hidden
    only = texts(ti.report_archive_panel(None, job="post-trends"))
    assert re.findall(r"class='ti-executed-report' data-flow='([^']+)'", only) == ["post-trends"]


def test_no_secret_on_any_panel(ws):
    for name, build in PANELS:
        text = texts(build(None))
        assert seeding.SECRET not in text and "s3cr3t-client-value" not in text, name
    assert seeding.SECRET not in ui.safe_text(f"token {seeding.SECRET}")


def test_an_unexpected_error_shows_a_line_not_a_traceback(ws, monkeypatch):
    monkeypatch.setattr(data, "counts", lambda con: 1 / 0)
    text = texts(ti.counts_panel(None))
    assert "could not be shown (ZeroDivisionError)" in text and "Traceback" not in text


def test_index_links_every_dashboard_notebook():
    text = ti.index_panel().value
    for name, _, _ in ti.DASHBOARDS:
        assert f"href='{name}.ipynb'" in text
        assert (launcher.DASHBOARDS_DIR / f"{name}.ipynb").is_file()


def test_launcher_hides_sources_and_requires_a_token_off_loopback():
    args, token = launcher.voila_command()
    assert token is None and "--Voila.ip=127.0.0.1" in args and "--port=8866" in args
    assert "--strip_sources=True" in args and "--show_tracebacks=False" in args
    assert any(a.startswith("--MappingKernelManager.cull_idle_timeout=") for a in args)
    args, token = launcher.voila_command(host="0.0.0.0", port=9000)
    assert token and len(token) >= 24 and not any(token in a for a in args)  # never on argv (``ps`` shows it)
    args, token = launcher.voila_command(host="192.168.1.5", token="abc123")
    assert token == "abc123" and not any("abc123" in a or a.startswith("--token") for a in args)
    assert launcher.voila_environment("192.168.1.5", token)["JUPYTER_TOKEN"] == "abc123"  # in the environment instead
    assert launcher.voila_environment()["JUPYTER_TOKEN"] == ""  # loopback: explicitly none (not one inherited)
    with pytest.raises(launcher.LauncherError):
        launcher.voila_command(host="0.0.0.0", token="  ")


def test_the_server_takes_the_token_out_of_its_environment_before_kernels_inherit_it():
    import importlib.util

    spec = importlib.util.spec_from_file_location("voila_app_for_test", launcher.VOILA_APP)
    voila_app = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(voila_app)
    environ = {"JUPYTER_TOKEN": "s3cret", "PATH": "/bin"}
    assert voila_app.take_token(environ) == "s3cret" and "JUPYTER_TOKEN" not in environ
    assert voila_app.take_token({}) == ""


def test_a_report_recorded_relative_to_the_project_folder_is_found(workspace, tmp_path, monkeypatch):
    """`make demo` and `tiktok-intel run` from the project folder once recorded `data/reports/...`;
    a dashboard kernel runs in notebooks/dashboards/ with the workspace given as an absolute path."""
    settings_module.configure(settings_module.get_settings(), ui_language="en")  # the texts below are English
    from tiktok_intel.notebooks import NotebookRun
    from tiktok_intel.orchestration.runs import FlowRun

    folder = workspace.workspace_path / "reports" / "post_trends" / "20261117T100000"
    folder.mkdir(parents=True)
    (folder / "post_trends.ipynb").write_text("{}")
    (folder / "post_trends.html").write_text("<h1>Post trends report</h1>")
    relative = Path("data") / "reports" / "post_trends" / "20261117T100000" / "post_trends.ipynb"
    with open_db() as con:
        con.execute(
            "INSERT INTO runs (run_id, flow, started_at, ended_at, status, notebook_path) VALUES "
            "('r1', 'post-trends', now()::TIMESTAMP, now()::TIMESTAMP, 'completed', ?)",
            [str(relative)],
        )
    panel = ti.report_archive_panel(None)
    assert "report file not found" not in texts(panel) and find(panel, w.Button, description="Open")
    monkeypatch.chdir(tmp_path)  # and what a flow records now is absolute, wherever it ran from
    run = FlowRun("post-trends", "r2", dt.datetime(2026, 11, 17))
    run.notebook(NotebookRun("post_trends", relative, None, {}, 1.0))
    assert Path(run.notebook_path).is_absolute() and Path(run.notebook_path) == tmp_path / relative


def test_popularity_marks_each_snapshot_only_while_they_can_be_told_apart():
    from tiktok_intel.dashboards.hashtags import MARKERS_UP_TO, popularity_figure

    def frame(snapshots: int) -> pd.DataFrame:
        times = pd.date_range("2026-11-01", periods=snapshots, freq="30min")
        return pd.DataFrame({"hashtag": "klimat", "collected_at": times, "view_count": range(snapshots), "video_count": 1})

    assert popularity_figure(frame(MARKERS_UP_TO)).data[0].mode == "lines+markers"
    month = popularity_figure(frame(30 * 48))  # a month of 30-minute monitoring
    assert month.data[0].mode == "lines" and len(month.data[0].x) == 30 * 48


def test_related_and_search_pages_offer_the_networks_for_download(ws):
    import base64

    import networkx as nx

    for panel, kind in ((ti.related_hashtags_panel(None, min_lift=0), "cotag"), (ti.duplicates_panel(None), "duplicates")):
        assert f"{kind}-network" not in texts(panel)  # built when asked for, not on every render
        [button] = [b for b in find(panel, w.HBox) if "ti-network" in b._dom_classes]
        button.prepare()
        text = texts(panel)
        found = re.search(rf'download="{kind}-network.gexf" href="data:application/gexf\+xml;base64,([^"]+)"', text)
        assert found, (kind, text[-500:])
        graph = nx.read_gexf(io.BytesIO(base64.b64decode(found.group(1))), version="1.3")
        assert graph.number_of_edges() > 0 and all("posts" in a for _, a in graph.nodes(data=True))
        assert f"{kind}-network.graphml" in text and f"{kind}-network.csv" in text
        assert seeding.SECRET not in base64.b64decode(found.group(1)).decode()


# ------------------------------------------------------------------------------ tables, shared views, Swedish


def _table(widget, css: str):
    [table] = [t for t in find(widget, w.Widget) if type(t).__name__ == "ITable" and css in t._dom_classes]
    return table


def test_search_hits_are_an_interactive_table_with_escaped_text_and_links_saying_whose_post(ws):
    import json

    with open_db(ws) as con:  # a post whose caption is markup, as TikTok could send it
        post_id, author = con.execute(
            "SELECT p.post_id, a.unique_id FROM posts p JOIN authors a USING (author_id) ORDER BY p.post_id LIMIT 1"
        ).fetchone()
        before = con.execute("SELECT description FROM posts WHERE post_id = ?", [post_id]).fetchone()[0]
        con.execute("UPDATE posts SET description = ? WHERE post_id = ?", ["<img src=x onerror=alert(1)> zebrafinken", post_id])
    try:
        from tiktok_intel.search import refresh_index

        with open_db(ws) as con:
            refresh_index(con)
        panel = ti.search_panel(None)
        find(panel, w.Text, description="Search")[0].value = "zebrafinken"
        find(panel, w.Button, description="Search")[0].click()
        table = _table(panel, "ti-hits")
        rows = json.loads(table._dt_args["data_json"])
        header = table._dt_args["table_html"]
        assert len(rows) == 1 and "found" in header and "rank" in header
        row = dict(zip(["rank", "author", "description", "published_at", "views", "likes", "found", "score", "url"], rows[0]))
        assert "<img" not in row["description"] and "&lt;img" in row["description"]  # escaped before DataTables shows it
        assert "zebrafinken" in row["found"] and row["found"].startswith("caption")
        assert re.fullmatch(
            rf'<a href="https://www\.tiktok\.com/@{author}/video/{post_id}"[^>]*>Open post {post_id} by @{author} on TikTok</a>', row["url"]
        )
        assert f'data-post-id="{post_id}"' in texts(panel)  # and the card beside it
    finally:
        with open_db(ws) as con:
            con.execute("UPDATE posts SET description = ? WHERE post_id = ?", [before, post_id])
            refresh_index(con)


def test_rules_and_trending_tables_are_interactive(ws):
    assert _table(ti.related_hashtags_panel(None, min_lift=0), "ti-rules")
    assert _table(ti.hashtag_trending_panel(None, window="7d"), "ti-hashtag-trending")


def test_related_hashtags_filter_by_a_hashtag_and_share_the_view(ws):
    with open_db(ws, read_only=True) as con:
        from tiktok_intel.analyses import rules

        stored = rules.stored_rules(con)
    tag = str(list(stored["antecedents"].iloc[0])[0])
    naming = sum(tag in list(a) or tag in list(c) for a, c in zip(stored["antecedents"], stored["consequents"]))
    assert 0 < naming < len(stored)
    panel = ti.related_hashtags_panel(None, min_lift=0, hashtag="#" + tag.upper())
    assert re.search(r"ti-rule-count'>(\d+) of", texts(panel)).group(1) == str(naming)
    href = re.search(r"class='ti-share' href='([^']+)'", texts(panel)).group(1)
    assert f"hashtag={tag}" in href and "min_lift=0.0" in href
    find(panel, w.Dropdown, description="Hashtag")[0].value = ""
    assert re.search(r"ti-rule-count'>(\d+) of", texts(panel)).group(1) == str(len(stored))
    assert "hashtag=" not in re.search(r"class='ti-share' href='([^']+)'", texts(panel)).group(1)


def test_related_hashtags_over_the_posts_of_a_tracked_account(ws):
    from tiktok_intel.analyses import rules

    with open_db(ws) as con:
        name = con.execute("SELECT lower(author_unique_id) FROM posts GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1").fetchone()[0]
        run = rules.run_rules(con, min_support=2, min_confidence=0.1, window_days=0, exclude_tracked=False, hashtag="@" + name)
        everything = len(rules.stored_rules(con))
    try:
        assert run.tracked == f"@{name}" and len(run.rules) != everything
        panel = ti.related_hashtags_panel(None, min_lift=0, posts_of="@" + name.upper())
        posts_of = find(panel, w.Dropdown, description="Rules over")[0]
        assert posts_of.value == f"@{name}" and [v for _, v in posts_of.options] == ["", f"@{name}"]
        assert re.search(r"ti-rule-count'>(\d+) of (\d+)", texts(panel)).groups() == (str(len(run.rules)),) * 2
        assert f"{run.posts} posts" in texts(panel) and "posts_of=%40" + name in _share(panel).replace("@", "%40")
        posts_of.value = ""  # the latest run over all posts
        assert re.search(r"ti-rule-count'>(\d+) of (\d+)", texts(panel)).group(2) == str(everything)
        assert "posts_of" not in _share(panel)
    finally:
        with open_db(ws) as con:
            con.execute("DELETE FROM rules WHERE run_id = ?", [run.run_id])
            con.execute("DELETE FROM rule_runs WHERE run_id = ?", [run.run_id])


def _share(widget) -> str:
    return html.unescape(re.search(r"class='ti-share' href='([^']+)'", texts(widget)).group(1))


def test_every_filtered_dashboard_links_to_its_view(ws):
    reports = ti.reports_panel(None, report="top authors", hashtag="klimat", limit=5)
    assert find(reports, w.ToggleButtons)[0].value == "top authors"
    assert {"report=top+authors", "hashtag=klimat", "limit=5", "metric=views"} <= set(_share(reports)[1:].split("&"))
    find(reports, w.ToggleButtons)[0].value = "top posts"
    assert "report=top+posts" in _share(reports)
    popularity = ti.popularity_panel(None, metric="video_count")
    assert _share(popularity) == "?metric=video_count" and figures(popularity)[0].layout.title.text.startswith("Videos per hashtag")
    trending = ti.hashtag_trending_panel(None, window="7d", hashtag="klimat")
    assert find(trending, w.Dropdown, description="Hashtag")[0].value == "klimat"
    assert set(_share(trending)[1:].split("&")) == {"hashtag=klimat", "window=7d"}


def test_the_converted_dashboards_speak_swedish(ws):
    settings_module.configure(settings_module.get_settings(), ui_language="sv", dashboard_editing=True)
    tracked = texts(ti.tracked_panel(None))
    assert "bevakas" in tracked and ">aktiv<" in tracked and find(ti.tracked_panel(None), w.Button, description="Lägg till")
    related = texts(ti.related_hashtags_panel(None, min_lift=0))
    assert re.search(r"ti-rule-count'>\d+ av \d+ regler", related) and "Körning " in related and "Kopiera länk" in related
    assert find(ti.related_hashtags_panel(None), w.BoundedFloatText, description="Minsta konfidens")
    reports = ti.reports_panel(None)
    assert [label for label, _ in find(reports, w.ToggleButtons)[0].options] == ["toppinlägg", "toppkonton", "toppinlägg i flödet"]
    assert figures(reports)[0].layout.title.text == "Toppinlägg efter views"
    duplicates = texts(ti.duplicates_panel(None))
    assert "grupp" in duplicates and "Grupp 1" in duplicates and "Group" not in duplicates
    for english in ("Now tracking", "Min confidence", "Top posts by", "Run ", "Prepare download", "Link to this view"):
        assert english not in tracked + related + texts(reports) + duplicates, english


def test_headings_period_switch_and_column_headings_in_the_pages_language(ws):
    """The notebooks' headings (``ti.title`` / ``ti.section``), the growth period switch and the tables'
    column headings follow the language; the switch's values, the rows kept and the downloads do not."""
    settings_module.configure(settings_module.get_settings(), ui_language="sv")
    assert "<h1 class='ti-title'>Översikt</h1>" in ti.title("overview").data
    assert "<h2 class='ti-section'>Tillväxt</h2>" in ti.section("overview.growth").data
    assert "<code>tiktok-intel track add @svtnyheter</code>" in ti.section("accounts.watched").data
    assert "<strong>stöd</strong>" in ti.title("related_hashtags").data and "<em>A → B</em>" in ti.title("related_hashtags").data
    assert "<p class='ti-intro'>" not in ti.section("search.posts").data  # a section without a line
    growth = ti.growth_panel(None)
    toggle = find(growth, w.ToggleButtons)[0]
    assert [label for label, _ in toggle.options] == ["dag", "vecka", "månad", "år"] and toggle.value == "day"
    toggle.value = "month"  # the observer gets the value, not the label
    text = texts(growth)
    assert "2026-11-01" in text and "Nya per månad" in text and ">inlägg totalt</th>" in text and "posts_total" not in text
    tracked = texts(ti.tracked_panel(None))
    assert ">bevakas</th>" in tracked and ">senast insamlad</th>" in tracked
    reports = ti.reports_panel(None)
    find(reports, w.ToggleButtons)[0].value = "top authors"
    table = _table(reports, "ti-report")
    assert "användarnamn" in table._dt_args["table_html"] and "unique_id" not in table._dt_args["table_html"]
    for button in find(reports, w.Button, description="Förbered nedladdning"):
        button.click()
    csv = re.search(r'download="[^"]+\.csv" href="data:text/csv;base64,([^"]+)"', texts(reports)).group(1)
    assert base64.b64decode(csv).decode("utf-8-sig").startswith("rank,author_id,unique_id")  # downloads keep the names
    settings_module.configure(settings_module.get_settings(), ui_language="en")
    assert "<h1 class='ti-title'>Overview</h1>" in ti.title("overview").data
    assert "<h2 class='ti-section'>Growth</h2>" in ti.section("overview.growth").data
    assert [label for label, _ in find(ti.growth_panel(None), w.ToggleButtons)[0].options] == ["day", "week", "month", "year"]


def test_library_errors_on_a_page_speak_its_language_and_the_command_line_keeps_english(ws):
    """A shared error with a catalogue key (the search's, the store's) is said in the page's language on
    the dashboard; ``str(err)`` (what the command line prints) stays the English one naming its options."""
    import pickle

    from tiktok_intel.search import QueryError, search_text

    with pytest.raises(QueryError) as caught:
        search_text(None, "!!! ???")
    err = caught.value
    assert "the query '!!! ???' has no words in it" in str(err) and err.key == "err_no_words"
    copy = pickle.loads(pickle.dumps(err))  # a flow's worker hands errors back pickled
    assert str(copy) == str(err) and copy.key == err.key and copy.fields == {"query": "!!! ???"}
    settings_module.configure(settings_module.get_settings(), ui_language="sv")
    panel = ti.search_panel(None)
    box, button = find(panel, w.Text, description="Sök")[0], find(panel, w.Button, description="Sök")[0]
    for query, min_views, swedish in (
        ("!!! ???", 0, "Sökningen ”!!! ???” innehåller inga ord"),
        ("", 0, "Inget att söka efter"),
        ("klimat", -5, "Minst visningar måste vara 0 eller mer (nu -5)"),
    ):
        box.value = query
        find(panel, w.IntText, description="Minst visningar")[0].value = min_views
        button.click()
        shown = texts(panel)
        assert swedish in shown and "ti-warning" in shown, (query, shown[-300:])
        assert "--" not in shown.split("ti-warning", 1)[1], query  # no command-line option on the page
    assert "Inget har samlats in i den här arbetsytan än" in ui.error_text(data.EmptyWorkspaceError("x", key="err_empty_workspace"))
    assert ui.error_text(QueryError("no key: its own words")) == "no key: its own words"
