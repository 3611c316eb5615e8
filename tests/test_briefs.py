"""Briefs (growth, weekly brief, comparison, Excel export) on a workspace built like the flows build it,
checked against the database directly; and the exploratory notebooks executed on it and on an empty one."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import nbformat
import openpyxl
import pandas as pd
import pytest

import tiktok_intel as ti
from tiktok_intel import seeding
from tiktok_intel import settings as settings_module
from tiktok_intel.analyses import AnalysisError, briefs, hashtags
from tiktok_intel.notebooks import EXPLORATORY_DIR as EXPLORATORY
from tiktok_intel.notebooks import run_notebook
from tiktok_intel.store import open_db

URL = re.compile(r"^https://www\.tiktok\.com/@[^/]+/video/(\d+)$")


@pytest.fixture(scope="module")
def fixture_db(tmp_path_factory):
    return seeding.small(tmp_path_factory.mktemp("briefs") / "data")


@pytest.fixture
def ws(fixture_db, monkeypatch):
    """Settings pointing at the fixture workspace, restored afterwards; kernels get its database as `db`."""
    monkeypatch.setenv("TIKTOK_INTEL_PROGRESS", "0")
    monkeypatch.delenv("TIKTOK_INTEL_WORKSPACE", raising=False)
    monkeypatch.delenv("TIKTOK_INTEL_DB", raising=False)
    base = settings_module.load_settings(environ={}, dotenv=None)
    settings_module.configure(base, workspace=fixture_db.parent)
    yield fixture_db
    settings_module.configure(None)


@pytest.fixture
def con(ws):
    connection = open_db(ws, read_only=True)
    yield connection
    connection.close()


def _under(con, hashtag: str) -> set[str]:
    """Post ids tagged with ``hashtag`` or listed in its feed, straight from the tables."""
    return {
        r[0]
        for r in con.execute(
            "SELECT post_id FROM post_hashtags WHERE hashtag = ? UNION SELECT post_id FROM feed_appearances WHERE hashtag = ?",
            [hashtag, hashtag],
        ).fetchall()
    }


def _published(con, since, until) -> pd.DataFrame:
    return con.execute(
        """SELECT post_id, coalesce(created_at, first_seen_at) AS published_at, views, author_id
                          FROM posts WHERE coalesce(created_at, first_seen_at) BETWEEN ? AND ?""",
        [since, until],
    ).df()


# ------------------------------------------------------------------------------------ growth


def test_period_ends_at_the_latest_snapshot(con):
    latest = con.execute("SELECT max(collected_at) FROM hashtag_stats WHERE hashtag = 'klimat'").fetchone()[0]
    since, until = hashtags.period(con, 7, ["klimat"])
    assert until == latest and since == latest - dt.timedelta(days=7)
    assert hashtags.period(con, 3, ["klimat"], until="2026-11-12") == (  # to the end of 12 November in Stockholm (CET: UTC+1)
        dt.datetime(2026, 11, 9, 22, 59, 59, 999999),
        dt.datetime(2026, 11, 12, 22, 59, 59, 999999),
    )
    with pytest.raises(AnalysisError, match="days 0 must be 1 or more"):
        hashtags.period(con, 0)


def test_growth_is_the_last_minus_the_first_snapshot_in_the_period(con):
    since, until = hashtags.period(con, 7, ["valet2026", "klimat"])
    growth = ti.hashtag_growth(con, ["#Valet2026", "klimat"], since, until)
    assert list(growth["hashtag"]) == ["valet2026", "klimat"]
    for row in growth.itertuples(index=False):
        snaps = con.execute(
            "SELECT collected_at, view_count, video_count FROM hashtag_stats WHERE hashtag = ? "
            "AND collected_at >= ? AND collected_at <= ? ORDER BY collected_at",
            [row.hashtag, since, until],
        ).fetchall()
        assert len(snaps) >= 2 and row.snapshots == len(snaps)
        first, last = snaps[0], snaps[-1]
        assert (row.first_at, row.last_at) == (first[0], last[0])
        assert (row.views_start, row.views_end, row.views_change) == (first[1], last[1], last[1] - first[1])
        assert row.views_change > 0
        assert row.views_growth == pytest.approx((last[1] - first[1]) * 100 / first[1])
        assert (row.videos_start, row.videos_end, row.videos_change) == (first[2], last[2], last[2] - first[2])
        assert row.url == f"https://www.tiktok.com/tag/{row.hashtag}"


def test_growth_needs_two_snapshots_and_defaults_to_the_tracked_hashtags(con):
    last = con.execute("SELECT max(collected_at) FROM hashtag_stats WHERE hashtag = 'klimat'").fetchone()[0]
    one = ti.hashtag_growth(con, "klimat", last, last)
    assert one.loc[0, "snapshots"] == 1 and pd.isna(one.loc[0, "views_change"]) and pd.isna(one.loc[0, "views_growth"])
    unknown = ti.hashtag_growth(con, "nosuchtag")
    assert unknown.loc[0, "snapshots"] == 0 and pd.isna(unknown.loc[0, "views_end"])
    tracked = {r[0] for r in con.execute("SELECT name FROM tracked_hashtags WHERE active").fetchall()}
    assert set(ti.hashtag_growth(con)["hashtag"]) == tracked == set(seeding.HASHTAGS)


# ------------------------------------------------------------------------------------ weekly brief


def test_weekly_brief_for_one_hashtag(con):
    brief = ti.weekly_brief(con, "valet2026", 7, limit=5)
    since, until = brief.since, brief.until
    assert brief.hashtags == ["valet2026"] and until - since == dt.timedelta(days=7)
    under = _under(con, "valet2026")
    published = _published(con, since, until)
    week = published[published["post_id"].isin(under)]
    assert brief.posts == {"valet2026": len(week)} and len(week) > 5

    # top posts: the 5 most viewed of the week's posts under the hashtag, with their links
    expected = week.sort_values(["views", "post_id"], ascending=[False, True]).head(5)
    posts = brief.top_posts
    assert list(posts["post_id"]) == list(expected["post_id"])
    assert list(posts["views"]) == list(expected["views"]) and list(posts["rank"]) == [1, 2, 3, 4, 5]
    for url, post_id in zip(posts["url"], posts["post_id"]):
        assert URL.match(url).group(1) == post_id

    # top authors: by the views their posts of the week add up to
    sums = week.groupby("author_id")["views"].sum().sort_values(ascending=False)
    authors = brief.top_authors
    assert list(authors["views"]) == list(sums.head(5))
    assert dict(zip(authors["author_id"], authors["views"])) == {a: sums[a] for a in authors["author_id"]}
    assert all(u.startswith("https://www.tiktok.com/@") for u in authors["url"])

    # growth, as hashtag_growth over the same period
    pd.testing.assert_frame_equal(brief.growth, ti.hashtag_growth(con, ["valet2026"], since, until))
    assert set(brief.snapshots["hashtag"]) == {"valet2026"} and brief.snapshots["collected_at"].between(since, until).all()
    assert "#valet2026" in brief.summary() and f"{brief.growth.loc[0, 'views_change']:+,} views" in brief.summary()


def test_related_hashtags_come_from_the_latest_rules(con):
    run_id = con.execute("SELECT run_id FROM rule_runs ORDER BY ran_at DESC LIMIT 1").fetchone()[0]
    rules = con.execute(
        "SELECT antecedents, consequents, lift FROM rules WHERE run_id = ? "
        "AND (list_contains(antecedents, 'klimat') OR list_contains(consequents, 'klimat'))",
        [run_id],
    ).fetchall()
    assert rules
    best: dict[str, float] = {}
    for antecedents, consequents, lift in rules:
        for tag in set(antecedents + consequents) - {"klimat"}:
            best[tag] = max(best.get(tag, 0.0), lift)
    related = hashtags.related(con, "#Klimat", limit=1000)
    assert set(related["related"]) == set(best)
    assert dict(zip(related["related"], related["lift"])) == pytest.approx(best)
    assert list(related["lift"]) == sorted(related["lift"], reverse=True)
    assert (related["hashtag"] == "klimat").all() and (related["url"] == "https://www.tiktok.com/tag/" + related["related"]).all()
    assert len(hashtags.related(con, "klimat", limit=3)) == 3


def test_weekly_brief_without_a_hashtag_covers_every_tracked_one(con):
    brief = ti.weekly_brief(con, "", 7)
    assert sorted(brief.hashtags) == sorted(seeding.HASHTAGS)
    assert set(brief.top_posts["hashtag"]) == set(brief.top_authors["hashtag"]) == set(brief.related["hashtag"]) == set(seeding.HASHTAGS)
    for tag in seeding.HASHTAGS:
        assert set(brief.top_posts.loc[brief.top_posts["hashtag"] == tag, "post_id"]) <= _under(con, tag)
    assert not brief.empty and all(f"#{tag}" in brief.summary() for tag in seeding.HASHTAGS)


# ------------------------------------------------------------------------------------ comparison


def test_compare_defaults_to_the_two_most_viewed_tracked_hashtags(con):
    views = dict(con.execute("SELECT hashtag, arg_max(view_count, collected_at) FROM hashtag_stats GROUP BY hashtag").fetchall())
    comparison = ti.compare_hashtags(con, days=30)
    assert comparison.hashtags == sorted(seeding.HASHTAGS, key=lambda h: -views[h])
    assert ti.compare_hashtags(con, "klimat").hashtags == ["klimat", "valet2026"]
    assert ti.compare_hashtags(con, "", "#KLIMAT").hashtags == ["klimat", "valet2026"]

    table = comparison.table()
    assert list(table["hashtag"]) == comparison.hashtags
    for row in table.itertuples(index=False):
        under = _under(con, row.hashtag)
        published = _published(con, comparison.since, comparison.until)
        assert row.published == published["post_id"].isin(under).sum() > 0
        collected = con.execute("SELECT post_id FROM posts WHERE first_seen_at BETWEEN ? AND ?", [comparison.since, comparison.until]).df()
        assert row.collected == collected["post_id"].isin(under).sum()
        snaps = con.execute(
            "SELECT view_count FROM hashtag_stats WHERE hashtag = ? AND collected_at BETWEEN ? AND ? ORDER BY collected_at",
            [row.hashtag, comparison.since, comparison.until],
        ).fetchall()
        assert row.views_change == snaps[-1][0] - snaps[0][0]
    per_day = comparison.per_day
    assert per_day["day"].is_monotonic_increasing and (per_day[["published", "collected"]] >= 0).all().all()

    fig = ti.growth_chart(comparison)
    names = {trace.name for trace in fig.data}
    assert names == {f"#{h}" for h in comparison.hashtags} and len(fig.data) == 6
    gained = [t for t in fig.data if t.type == "scatter" and t.yaxis == "y"][0]
    assert gained.y[0] == 0 and gained.y[-1] == table.loc[0, "views_change"]


# ------------------------------------------------------------------------------------ export


def test_export_writes_posts_with_links_and_their_authors(con, ws, tmp_path):
    export = ti.export_selection(con, "#klimat", "2026-11-01", "2026-11-15", path=tmp_path / "k.xlsx")
    # the dates are Stockholm days: 1 November 00:00 CET is 31 October 23:00 UTC
    expected = con.execute("""SELECT post_id, views, author_id FROM posts WHERE coalesce(created_at, first_seen_at) >= '2026-10-31 23:00'
                              AND coalesce(created_at, first_seen_at) < '2026-11-15 23:00'""").df()
    expected = expected[expected["post_id"].isin(_under(con, "klimat"))]
    assert export.path == tmp_path / "k.xlsx" and export.posts == len(expected) > 0
    sheets = pd.read_excel(export.path, sheet_name=None, dtype={"post_id": str, "author_id": str})
    assert list(sheets) == ["posts", "authors"]
    posts, authors = sheets["posts"], sheets["authors"]
    assert list(posts.columns) == [
        "post_id",
        "author",
        "nickname",
        "description",
        "published_at",
        "published_at (Europe/Stockholm)",  # beside the stored UTC time, the desk's
        "views",
        "likes",
        "comments",
        "shares",
        "saves",
        "hashtags",
        "url",
    ]
    assert set(posts["post_id"]) == set(expected["post_id"]) and len(posts) == len(expected)
    assert list(posts["views"]) == sorted(posts["views"], reverse=True)
    assert all(URL.match(u).group(1) == p for u, p in zip(posts["url"], posts["post_id"]))
    assert all("klimat" in tags.split(", ") or p in _under(con, "klimat") for tags, p in zip(posts["hashtags"], posts["post_id"]))
    assert export.authors == len(authors) == expected["author_id"].nunique()
    assert authors["posts"].sum() == len(posts) and authors["views"].sum() == expected["views"].sum()
    assert all(u == f"https://www.tiktok.com/@{name}" for u, name in zip(authors["url"], authors["unique_id"]))
    sheet = openpyxl.load_workbook(export.path)["posts"]
    url_column = [c.value for c in sheet[1]].index("url")
    links = [row[url_column].hyperlink.target for row in sheet.iter_rows(min_row=2)]
    assert links == list(posts["url"])
    assert export.summary() == f"{len(posts)} posts by {len(authors)} authors (#klimat, published 2026-11-01 – 2026-11-15) -> {export.path}"


def test_export_with_a_text_query_and_the_default_path(con, ws):
    export = ti.export_selection(con, "klimat", query="elbil")
    assert export.path.parent == ws.parent / "exports" and export.path.name.startswith("posts-klimat-elbil-")
    posts = pd.read_excel(export.path, sheet_name="posts", dtype={"post_id": str})
    rows = con.execute("""SELECT post_id, lower(description || ' ' || coalesce((SELECT string_agg(hashtag, ' ') FROM post_hashtags h
                                  WHERE h.post_id = p.post_id), '')) AS text FROM posts p""").df()
    matching = set(rows.loc[rows["text"].str.contains("elbil"), "post_id"]) & _under(con, "klimat")
    assert set(posts["post_id"]) == matching and len(posts) == export.posts > 0
    assert "score" in posts.columns and list(posts["score"]) == sorted(posts["score"], reverse=True)


def test_export_of_an_account_or_a_keyword_is_labelled_as_the_tracked_item(con, ws, tmp_path):
    name, count = con.execute("SELECT lower(author_unique_id), count(*) FROM posts GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 1").fetchone()
    export = ti.export_selection(con, f"@{name}", path=tmp_path / "a.xlsx")
    posts = pd.read_excel(export.path, sheet_name="posts", dtype={"post_id": str})
    assert export.posts == len(posts) == count and set(posts["author"].str.lower()) == {name}
    assert f"(@{name}) ->" in export.summary() and "#@" not in export.summary()
    keyword = ti.export_selection(con, '"ingen sådan sökning"', path=tmp_path / "k.xlsx")  # nothing listed: nothing written
    assert keyword.path is None and '("ingen sådan sökning")' in keyword.summary() and '#"' not in keyword.summary()


def test_export_of_nothing_writes_nothing(con, ws, tmp_path):
    export = ti.export_selection(con, "klimat", "2030-01-01", "2030-01-31", path=tmp_path / "none.xlsx")
    assert export.path is None and not (tmp_path / "none.xlsx").exists()
    assert export.summary().startswith("no posts match (#klimat, published 2030-01-01 – 2030-01-31)")
    with pytest.raises(AnalysisError, match="is not after the start"):
        ti.export_selection(con, since="2026-11-15", until="2026-11-01")


# ------------------------------------------------------------------------------------ empty workspace, read-only


def test_read_only_reads_read_only_and_an_empty_workspace_says_how_to_start(workspace):
    assert not Path(workspace.db_target).exists()
    brief = ti.read_only(ti.weekly_brief, "", 7)
    assert brief.empty and brief.summary() == briefs.NO_DATA
    assert ti.read_only(ti.compare_hashtags).summary() == briefs.NO_DATA
    export = ti.read_only(ti.export_selection, "", "", "", "valet")
    assert export.path is None and export.summary() == briefs.NO_DATA
    assert not (workspace.workspace_path / "exports").exists() and not Path(workspace.db_target).exists()
    open_db(workspace.db_target).close()
    assert ti.read_only(lambda con: con.execute("SELECT current_setting('access_mode')").fetchone()[0]) == "read_only"
    assert ti.read_only(ti.weekly_brief, "valet2026", 7).summary() == briefs.NO_DATA


def test_read_only_on_a_locked_database_says_to_run_the_cell_again(workspace, monkeypatch):
    from tiktok_intel.dashboards import data
    from tiktok_intel.errors import StoreError

    open_db(workspace.db_target).close()

    def locked(*args, **kwargs):
        raise StoreError(f"{workspace.db_target} is in use by another process (process 1): wait for it to finish")

    monkeypatch.setattr("tiktok_intel.store.workspace.open_db", locked)
    with pytest.raises(data.BusyError, match="run this cell again in a minute"):
        ti.read_only(ti.weekly_brief, "", 7, wait=0.2)


# ------------------------------------------------------------------------------------ notebooks


def _outputs(ipynb: Path) -> tuple[list[dict], str]:
    book = nbformat.read(str(ipynb), as_version=4)
    outputs = [o for c in book.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    text = "\n".join(o.get("text", "") + "".join(str(v) for v in o.get("data", {}).values()) for o in outputs)
    return outputs, text


@pytest.mark.parametrize(
    "name,parameters,expected",
    [
        ("weekly_hashtag_brief", {"hashtag": "valet2026"}, ["#valet2026", "posts published", "rules mined", "/video/", "tag/"]),
        ("weekly_hashtag_brief", {}, ["#valet2026", "#klimat"]),
        ("compare_hashtags", {"days": 30}, ["#valet2026 vs #klimat", "application/vnd.plotly.v1+json", "views_change"]),
        ("export_selection", {"hashtag": "klimat", "since": "2026-11-01"}, ["posts by", "authors: ", "/video/"]),
    ],
)
def test_exploratory_notebooks_run_on_the_fixture_workspace(ws, tmp_path, name, parameters, expected):
    before = set((ws.parent / "exports").glob("*.xlsx"))
    run = run_notebook(EXPLORATORY / f"{name}.ipynb", parameters, reports_dir=tmp_path)
    outputs, text = _outputs(run.ipynb)
    assert not [o for o in outputs if o.get("output_type") == "error"]
    assert "Traceback" not in text and briefs.NO_DATA not in text
    if name == "compare_hashtags":
        text += "".join(str(o.get("data", {}).keys()) for o in outputs)
    for snippet in expected:
        assert snippet in text, (name, snippet)
    if name == "export_selection":
        written = set((ws.parent / "exports").glob("*.xlsx")) - before
        assert len(written) == 1 and str(written.pop()) in text


def test_exploratory_notebooks_run_on_an_empty_workspace(workspace, tmp_path, monkeypatch):
    monkeypatch.delenv("TIKTOK_INTEL_WORKSPACE", raising=False)
    for path in sorted(EXPLORATORY.glob("*.ipynb")):
        run = run_notebook(path, {"db": workspace.db_target}, reports_dir=tmp_path)
        outputs, text = _outputs(run.ipynb)
        assert not [o for o in outputs if o.get("output_type") == "error"] and briefs.NO_DATA in text, path.name
    assert not (workspace.workspace_path / "exports").exists()


def test_notebooks_are_committed_clean():
    for path in sorted(EXPLORATORY.glob("*.ipynb")):
        book = nbformat.read(str(path), as_version=4)
        code = [c for c in book.cells if c.cell_type == "code"]
        assert "parameters" in code[0].metadata.get("tags", []), path.name
        assert all(not c.outputs and c.execution_count is None for c in code), path.name
        assert book.metadata.kernelspec.name == "python3"
        assert "import tiktok_intel as ti" in "".join(c.source for c in code)


def test_exported_text_never_runs_as_a_formula(tmp_path):
    from tiktok_intel.analyses import exports

    frame = pd.DataFrame({"description": ['=HYPERLINK("https://evil")', "+1", "@anna look", "-x", "plain"], "n": [1, 2, 3, 4, 5]})
    csv = exports.to_csv_bytes(frame).decode("utf-8-sig").splitlines()
    assert (
        csv[1].startswith("\"'=HYPERLINK") and csv[2] == "'+1,2" and csv[3] == "'@anna look,3" and csv[4] == "'-x,4" and csv[5] == "plain,5"
    )
    path = tmp_path / "t.xlsx"
    path.write_bytes(exports.to_excel_bytes(frame))
    cells = [c.value for c in openpyxl.load_workbook(path)["data"]["A"][1:]]
    assert cells == ['\'=HYPERLINK("https://evil")', "+1", "@anna look", "-x", "plain"]  # openpyxl stores only '=' as a formula
    assert openpyxl.load_workbook(path)["data"]["A"][1].data_type == "s"


def test_exported_text_has_no_secrets(monkeypatch):
    from tiktok_intel.analyses import exports

    monkeypatch.setattr(exports, "_secrets", lambda: ["canary-9"])
    frame = pd.DataFrame({"note": ["token canary-9", "https://x.example/?msToken=abc&a=1"], "tags": [["a", "canary-9"], []]})
    text = exports.to_csv_bytes(frame).decode("utf-8-sig")
    assert "canary-9" not in text and "abc" not in text and "token ***" in text
