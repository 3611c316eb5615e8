"""Issue 17: tracked accounts and keywords (kinds, normalisation, history), the offline TikTok's
profile, user posts, search, comments and replies (keys, pagination, faults), and a collection over
it whose posts, authors and comments reconcile with what it served."""

from __future__ import annotations

import datetime as dt
import json

import httpx
import pytest

from tiktok_intel import clock, tracking
from tiktok_intel import settings as settings_module
from tiktok_intel.collect import collect
from tiktok_intel.offline import OfflineTikTok, follow
from tiktok_intel.parsing import Context, parse_bytes
from tiktok_intel.schema import SCHEMA_VERSION, TRACKED_KINDS_TABLES
from tiktok_intel.sources import http as http_module

T = dt.datetime(2026, 11, 10, 8, 0)
ACCOUNT, KEYWORD = "svtnyheter", "klimatet"


# ---------------------------------------------------------------------------------- the tracked list


@pytest.mark.parametrize(
    "typed, kind, expected",
    [
        ("#Klimat", None, ("hashtag", "klimat")),
        ("@SVTNyheter", None, ("account", "svtnyheter")),
        ("https://www.tiktok.com/@dn.se?lang=sv", None, ("account", "dn.se")),
        ("svtnyheter", "account", ("account", "svtnyheter")),
        ("  Vatten  Brist ", "keyword", ("keyword", "vatten brist")),
        ("Vattenbrist", "keyword", ("keyword", "vattenbrist")),
    ],
)
def test_items_are_normalised_per_kind(typed, kind, expected):
    assert tracking.parse_item(typed, kind) == expected


@pytest.mark.parametrize(
    "typed, kind, says",
    [
        ("@a", None, "2 to 24"),
        ("@svt nyheter", None, "contains ' '"),
        ("@svt.", None, "ends with '.'"),
        ("", "keyword", "empty"),
        ("fejk\u202e", "keyword", "U+202E"),
        ("x" * 101, "keyword", "at most 100"),
    ],
)
def test_invalid_items_are_refused_with_one_line(typed, kind, says):
    with pytest.raises(tracking.InvalidTrackedItemError) as info:
        tracking.parse_item(typed, kind)
    assert says in str(info.value) and "\n" not in str(info.value)


def test_add_remove_keep_history_and_list(con):
    added = tracking.add_items(con, [(None, "klimat"), (None, "@svtnyheter"), ("keyword", "Vattenbrist")])
    assert added == [("hashtag", "klimat"), ("account", "svtnyheter"), ("keyword", "vattenbrist")]
    assert tracking.add_items(con, [(None, "@SVTnyheter")]) == []
    assert tracking.active(con) == ["klimat"]  # hashtags keep their own list
    tracking.remove_items(con, [(None, "@svtnyheter")])
    assert tracking.active_items(con) == [("keyword", "vattenbrist")]
    rows = {r.shown: r for r in tracking.list_items(con)}
    assert set(rows) == {"#klimat", "@svtnyheter", "vattenbrist"} and not rows["@svtnyheter"].active
    assert rows["@svtnyheter"].removed_at is not None  # history kept
    with pytest.raises(tracking.NotTrackedError):
        tracking.remove_items(con, [(None, "@svtnyheter")])
    assert tracking.add_items(con, [(None, "@svtnyheter")]) == [("account", "svtnyheter")]  # re-activated
    table = tracking.format_items(tracking.list_items(con))
    assert table.splitlines()[0].split() == ["kind", "name", "active", "last", "collected", "posts"]


def test_migration_007_declares_the_ingest_tables_as_schema_does():
    from pathlib import Path

    import tiktok_intel

    sql = (Path(tiktok_intel.__file__).parent / "migrations" / "007_tracked_kinds_comments.sql").read_text(encoding="utf-8")
    for table in TRACKED_KINDS_TABLES:
        assert table.ddl() in sql, table.name
    assert SCHEMA_VERSION >= 7


# ---------------------------------------------------------------------------------- the offline TikTok


@pytest.fixture
def tiktok(workspace, monkeypatch):
    monkeypatch.setattr(http_module, "BACKOFF_BASE_SECONDS", 0.01)
    with clock.frozen(T), OfflineTikTok(seed=7) as server:
        settings_module.configure(
            workspace, ms_token="tok", requests_per_second=0, retries=1, timeout_seconds=5, **server.settings_overrides()
        )
        yield server


def get(server, path, **params):
    query = {"aid": "1988", "app_name": "tiktok_web", "msToken": "tok", **params}
    return httpx.get(server.base_url + path, params=query, timeout=10).json()


def test_user_posts_page_by_cursor_to_the_end(tiktok):
    author = tiktok.world.author(ACCOUNT)
    seen, cursor, pages = [], 0, 0
    while True:
        page = get(tiktok, "/api/post/item_list/", secUid=author.sec_uid, count=20, cursor=cursor)
        assert set(page) >= {"cursor", "hasMore", "itemList", "statusCode"} and page["statusCode"] == 0
        seen += [i["id"] for i in page["itemList"]]
        pages += 1
        if not page["hasMore"]:
            break
        cursor = int(page["cursor"])
    expected = [p.post_id for p in sorted(tiktok.world.posts_by_author[ACCOUNT], key=lambda p: (p.created_at, p.post_id), reverse=True)]
    expected = [i for i in expected if next(p for p in tiktok.world.posts if p.post_id == i).visible(T)]
    assert seen == expected and pages == -(-len(expected) // 20)
    profile = parse_bytes(
        httpx.get(
            tiktok.base_url + "/api/user/detail/", params={"aid": "1988", "app_name": "tiktok_web", "msToken": "t", "uniqueId": ACCOUNT}
        ).content,
        Context(collected_at=T),
    )
    assert profile.rows["author_stats"][0]["followers"] == tiktok.world.author_stats(author, T)["followerCount"]


def test_search_both_endpoints_and_comment_lists(tiktok):
    general = get(tiktok, "/api/search/general/full/", keyword=KEYWORD, offset=0, count=5)
    item = get(tiktok, "/api/search/item/full/", keyword=KEYWORD, offset=0, count=5)
    assert [e["item"]["id"] for e in general["data"]] == [i["id"] for i in item["item_list"]]
    assert general["has_more"] == 1 and general["cursor"] == 5 and all(e["type"] == 1 for e in general["data"])
    assert parse_bytes(str.encode(json.dumps(general)), Context(collected_at=T)).shape == "web_search"
    post = next(p for p in tiktok.world.posts_by_author[ACCOUNT] if p.visible(T))
    served = follow.comments(tiktok.world, post, T)
    page = get(tiktok, "/api/comment/list/", aweme_id=post.post_id, count=50, cursor=0)
    assert {"comments", "cursor", "has_more", "total", "status_code"} <= set(page) and page["total"] == len(served)
    assert [c["cid"] for c in page["comments"]] == [c.comment_id for c in served[:50]]
    answered = next(c for p in tiktok.world.posts for c in follow.comments(tiktok.world, p, T) if c.reply_count)
    replies = get(tiktok, "/api/comment/list/reply/", item_id=answered.post_id, comment_id=answered.comment_id, count=50)
    assert {c["reply_id"] for c in replies["comments"]} == {answered.comment_id} and replies["comments"]


def test_faults_empty_page_no_cursor_private_account_removed_comment(tiktok):
    author = tiktok.world.author(ACCOUNT)
    follow.arm(tiktok, "empty_page")
    page = get(tiktok, "/api/post/item_list/", secUid=author.sec_uid, count=10, cursor=0)
    assert page["itemList"] == [] and page["hasMore"] is True
    follow.arm(tiktok, "no_cursor")
    page = get(tiktok, "/api/search/general/full/", keyword=KEYWORD, offset=0, count=5)
    assert page["has_more"] == 1 and "cursor" not in page
    tiktok.private_accounts = {ACCOUNT}
    assert get(tiktok, "/api/user/detail/", uniqueId=ACCOUNT)["userInfo"]["user"]["privateAccount"] is True
    assert get(tiktok, "/api/post/item_list/", secUid=author.sec_uid)["statusCode"] == 10222
    # a removed comment: listed before its removal, gone (with its replies) after
    post, gone = next(
        (p, c) for p in tiktok.world.posts for c in follow.comments(tiktok.world, p, T, removed_too=True) if follow.removed(c.comment_id)
    )
    assert gone.comment_id in {c.comment_id for c in follow.comments(tiktok.world, post, gone.created_at + dt.timedelta(hours=1))}
    assert gone.comment_id not in {c.comment_id for c in follow.comments(tiktok.world, post, gone.created_at + dt.timedelta(hours=7))}
    with clock.frozen(gone.created_at + dt.timedelta(hours=7)):
        listed = get(tiktok, "/api/comment/list/", aweme_id=post.post_id, count=50)["comments"]
        replies = get(tiktok, "/api/comment/list/reply/", item_id=post.post_id, comment_id=gone.comment_id)
    assert gone.comment_id not in {c["cid"] for c in listed} and replies["comments"] == [] and replies["has_more"] == 0


def test_research_comment_list(tiktok):
    token = httpx.post(
        tiktok.base_url + "/v2/oauth/token/", data={"grant_type": "client_credentials", "client_key": "k", "client_secret": "s"}
    ).json()["access_token"]
    post = next(p for p in tiktok.world.posts_by_author[ACCOUNT] if p.visible(T))
    answer = httpx.post(
        tiktok.base_url + "/v2/research/video/comment/list/",
        json={"video_id": int(post.post_id), "max_count": 100, "cursor": 0},
        headers={"Authorization": f"Bearer {token}"},
    ).json()
    batch = parse_bytes(json.dumps(answer).encode(), Context(collected_at=T))
    assert batch.shape == "research_comments" and not batch.rejects
    top = {c.comment_id for c in follow.comments(tiktok.world, post, T)}
    assert {c["comment_id"] for c in batch.rows["comments"] if c["parent_id"] is None} == top


# ---------------------------------------------------------------------------------- collection


def test_collection_reconciles_with_what_the_offline_tiktok_served(tiktok, con, workspace):
    settings_module.configure(settings_module.get_settings(), comments_per_post=30, comment_replies_above=1)
    tracking.add_items(con, [(None, "@" + ACCOUNT), ("keyword", KEYWORD)])
    result = collect(con, max_posts=12, covers=False)
    assert not result.failed, result.summary()
    world = tiktok.world
    account_posts = sorted(
        (p for p in world.posts_by_author[ACCOUNT] if p.visible(T)), key=lambda p: (p.created_at, p.post_id), reverse=True
    )[:12]
    keyword_posts = follow.search(world, KEYWORD, T)[:12]
    listed = {
        (k, n): [r[0] for r in con.execute("SELECT post_id FROM listings WHERE kind = ? AND tracked = ? ORDER BY rank", [k, n]).fetchall()]
        for k, n in (("account", ACCOUNT), ("keyword", KEYWORD))
    }
    assert listed[("account", ACCOUNT)] == [p.post_id for p in account_posts]
    assert listed[("keyword", KEYWORD)] == [p.post_id for p in keyword_posts]
    for post in account_posts + keyword_posts:  # posts and their authors as served
        row = con.execute("SELECT views, likes, author_unique_id FROM posts WHERE post_id = ?", [post.post_id]).fetchone()
        assert row == (post.counts(T)["views"], post.counts(T)["likes"], post.author.unique_id)
    stats = world.author_stats(world.author(ACCOUNT), T)
    snap = con.execute(
        "SELECT s.followers, s.hearts, s.videos FROM author_stats s JOIN authors a USING (author_id) WHERE a.unique_id = ? "
        "ORDER BY s.collected_at DESC LIMIT 1",
        [ACCOUNT],
    ).fetchone()
    assert snap == (stats["followerCount"], stats["heartCount"], stats["videoCount"])
    expected = {}
    for post in {p.post_id: p for p in account_posts + keyword_posts}.values():
        for c in follow.comments(world, post, T)[:30]:
            expected[c.comment_id] = (post.post_id, None, c.author.unique_id, c.text, c.likes(T))
            if c.reply_count > 1:
                for r in follow.replies(world, c, T)[:30]:
                    expected[r.comment_id] = (post.post_id, c.comment_id, r.author.unique_id, r.text, r.likes(T))
    stored = {
        r[0]: tuple(r[1:])
        for r in con.execute("SELECT comment_id, post_id, parent_id, author_unique_id, text, likes FROM comments").fetchall()
    }
    assert stored == expected and len(expected) > 50
    assert con.execute("SELECT count(*) FROM comment_stats").fetchone()[0] == len(expected)
    assert f"{len(expected)} comments" in result.summary()
    rows = {r.shown: r for r in tracking.list_items(con)}
    assert rows["@" + ACCOUNT].last_collected_at == T and rows[KEYWORD].posts == len(keyword_posts)


def test_faults_end_a_listing_and_a_private_account_is_profile_only(tiktok, con, workspace):
    settings_module.configure(settings_module.get_settings(), comments_per_post=0)
    tracking.add_items(con, [(None, "@" + ACCOUNT), ("keyword", KEYWORD)])
    follow.arm(tiktok, "no_cursor", times=2)
    result = collect(con, max_posts=100, covers=False)
    assert not result.failed and len(tiktok.requests_to("/api/post/item_list/")) + len(tiktok.requests_to("/api/search/")) == 2
    tiktok.private_accounts = {ACCOUNT}
    result = collect(con, max_posts=100, covers=False)
    assert "@svtnyheter: private account: profile only" in result.summary() and not result.failed
    assert len(tiktok.requests_to("/api/comment/")) == 0  # comments_per_post 0: off


# ---------------------------------------------------------------------------------- the command line


def test_the_command_line_tracks_collects_reports_and_exports(tiktok, workspace, capsys, monkeypatch, tmp_path):
    import csv
    import io

    from tiktok_intel.cli import main

    db = str(workspace.db_target)
    for name, value in {
        "MS_TOKEN": "tok",
        "WEB_BASE_URL": tiktok.base_url,
        "MEDIA_HOSTS": "127.0.0.1",
        "REQUESTS_PER_SECOND": "0",
        "RETRIES": "1",
        "COMMENTS_PER_POST": "20",
    }.items():
        monkeypatch.setenv("TIKTOK_INTEL_" + name, value)

    def run(*argv):
        code = main(["--db", db, *argv])
        out, err = capsys.readouterr()
        assert "Traceback" not in out + err
        return code, out, err

    code, out, _ = run("track", "add", "klimat", "@" + ACCOUNT.upper(), "--keyword", KEYWORD)
    assert code == 0 and out.strip() == f'tracking klimat, @{ACCOUNT}, "{KEYWORD}"'
    code, _, err = run("track", "add", "@x y")
    assert code != 0 and err.count("\n") == 1 and "usernames hold only" in err
    code, out, _ = run("collect", "--max-posts", "8", "--no-covers")
    assert code == 0 and "comments" in out, out
    code, out, _ = run("track", "list")
    lines = out.splitlines()
    assert lines[0].split()[:3] == ["kind", "name", "active"]
    assert {ln.split()[0] for ln in lines[1:]} == {"hashtag", "account", "keyword"}
    code, out, _ = run("report", "accounts", "--metric", "followers", "--format", "csv")
    row = next(csv.DictReader(io.StringIO(out)))
    followers = tiktok.world.author_stats(tiktok.world.author(ACCOUNT), T)["followerCount"]
    assert row["account"] == ACCOUNT and int(row["followers"]) == followers and {"change_1d", "change_7d", "change_30d"} <= set(row)
    post = next(p for p in sorted(tiktok.world.posts_by_author[ACCOUNT], key=lambda p: p.created_at, reverse=True) if p.visible(T))
    code, out, _ = run("comments", post.post_id, "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    top = follow.comments(tiktok.world, post, T)[:20]
    assert [r["comment_id"] for r in rows if not r["parent_id"]] == [c.comment_id for c in top]
    code, out, _ = run("comments", post.post_id, "--output", str(tmp_path / "c.xlsx"))
    assert code == 0 and (tmp_path / "c.xlsx").stat().st_size > 0
    code, out, _ = run("search", "fejk", "--in", "comments", "--format", "json")
    hits = json.loads(out)
    assert hits and all("fejk" in h["text"].lower() for h in hits)
    code, out, _ = run("report", "discussed", "--since", "2026-10-01", "--format", "csv")
    discussed = list(csv.DictReader(io.StringIO(out)))
    assert discussed and int(discussed[0]["comments"]) >= int(discussed[-1]["comments"])


def test_comments_csv_and_excel_neutralise_formulas(con, workspace, tmp_path):
    from openpyxl import load_workbook

    from tiktok_intel.analyses.exports import to_csv_bytes, to_excel_bytes
    from tiktok_intel.analyses.following import post_comments
    from tiktok_intel.imports import import_paths

    comment = {"cid": "71", "aweme_id": "72", "reply_id": "0", "text": '=HYPERLINK("http://x")', "create_time": 1732068517}
    page = {"comments": [{**comment, "digg_count": 3, "reply_comment_total": 0, "user": {"uid": "9", "unique_id": "a"}}]}
    (tmp_path / "c.json").write_text(json.dumps(page), encoding="utf-8")
    import_paths(con, [tmp_path / "c.json"], collected_at=T)
    df = post_comments(con, "72")
    assert "'=HYPERLINK" in to_csv_bytes(df).decode("utf-8-sig")
    (tmp_path / "c.xlsx").write_bytes(to_excel_bytes(df))
    cells = [c.value for row in load_workbook(tmp_path / "c.xlsx").active.iter_rows() for c in row]
    assert '\'=HYPERLINK("http://x")' in cells


# ---------------------------------------------------------------------------------- the content job and the dashboards


def test_the_content_step_collects_accounts_and_keywords_raw_first(tiktok, con, workspace):
    from tiktok_intel.orchestration import steps
    from tiktok_intel.store import Workspace

    settings_module.configure(settings_module.get_settings(), comments_per_post=5)
    tracking.add_items(con, [(None, "klimat"), (None, "@" + ACCOUNT), ("keyword", KEYWORD)])
    con.close()
    result = steps.content(Workspace.current(), max_posts=6, covers=False)
    assert "comments" in result.note and result.counts["failed"] == 0, result.note
    from tiktok_intel.store import open_db

    with open_db(workspace.db_target) as again:
        assert again.execute("SELECT count(DISTINCT post_id) FROM listings WHERE kind = 'account'").fetchone() == (6,)
        assert again.execute("SELECT count(*) FROM comments").fetchone()[0] > 0
        shown = {r.shown: r.last_collected_at for r in tracking.list_items(again)}
    assert shown["@" + ACCOUNT] == T and shown[KEYWORD] == T and shown["#klimat"] == T


def test_dashboards_accounts_panel_tracked_kinds_and_comments_on_cards(tiktok, con, workspace):
    import ipywidgets as w
    from test_dashboard_panels import figures, find, texts

    from tiktok_intel import dashboards as ti
    from tiktok_intel.dashboards import data

    settings_module.configure(settings_module.get_settings(), comments_per_post=10, dashboard_editing=True, ui_language="en")
    con.close()
    panel = ti.tracked_panel(None)
    box = find(panel, w.Text, description="Hashtag")[0]
    keyword = find(panel, w.Text, description="Keyword")[0]
    box.value = "klimat @SVTnyheter"
    find(panel, w.Button, description="Add")[0].click()
    assert "Now tracking #klimat, @svtnyheter" in texts(panel)
    keyword.value = "Klimatet"
    find(panel, w.Button, description="Add keyword")[0].click()
    assert (
        "Now tracking the keyword &quot;klimatet&quot;" in texts(panel) and ">@svtnyheter<" in texts(panel) and ">keyword<" in texts(panel)
    )
    box.value = "@bad!"
    find(panel, w.Button, description="Add")[0].click()
    assert "usernames hold only" in texts(panel)
    from tiktok_intel.store import open_db

    with open_db(workspace.db_target) as again:
        collect(again, max_posts=5, covers=False)
    accounts = ti.accounts_panel(None)
    text = texts(accounts)
    followers = tiktok.world.author_stats(tiktok.world.author(ACCOUNT), T)["followerCount"]
    assert "ti-accounts" in text and f"{followers:,}".replace(",", "") in text.replace(",", "").replace("\u202f", "")
    assert "ti-account-posts" in text  # (its downloads are built on click: ui.downloads, tested with the other panels)
    assert figures(accounts)[0].data[0].y[-1] == followers
    post = next(p for p in sorted(tiktok.world.posts_by_author[ACCOUNT], key=lambda p: p.created_at, reverse=True) if p.visible(T))
    card = ti.ui.post_card(data.read(data.post_details, [post.post_id]).to_dict("records")[0])
    top = follow.comments(tiktok.world, post, T)[0]
    assert "ti-comments" in card and top.author.unique_id in card
    pick = find(panel, w.Dropdown)[0]
    pick.value = "@" + ACCOUNT
    find(panel, w.Button, description="Deactivate")[0].click()
    assert "Stopped tracking @svtnyheter" in texts(panel)


def test_research_api_collects_accounts_keywords_and_comments(workspace, con, monkeypatch):
    monkeypatch.setattr(http_module, "BACKOFF_BASE_SECONDS", 0.01)
    with clock.frozen(T), OfflineTikTok(seed=7, client_key="key-CANARY-1", client_secret="secret-CANARY-2") as server:
        settings_module.configure(
            workspace,
            research_client_key="key-CANARY-1",
            research_client_secret="secret-CANARY-2",
            requests_per_second=0,
            retries=1,
            comments_per_post=200,
            **server.settings_overrides(),
        )
        tracking.add_items(con, [(None, "@" + ACCOUNT), ("keyword", KEYWORD)])
        result = collect(con, max_posts=5, source="research", since=dt.date(2026, 10, 20), until=dt.date(2026, 11, 10))
        assert not result.failed, result.summary()
        world = server.world
        start, end = dt.datetime(2026, 10, 20), dt.datetime(2026, 11, 11)
        expected = [p.post_id for p in world.search(T, start=start, end=end) if p.author.unique_id == ACCOUNT][:5]
        listed = [r[0] for r in con.execute("SELECT post_id FROM listings WHERE kind = 'account' ORDER BY rank").fetchall()]
        assert listed == expected
        followers = world.author_stats(world.author(ACCOUNT), T)["followerCount"]
        assert con.execute("SELECT followers FROM author_stats WHERE author_id = '@svtnyheter'").fetchone() == (followers,)
        keyword = [r[0] for r in con.execute("SELECT post_id FROM listings WHERE kind = 'keyword' ORDER BY rank").fetchall()]
        assert keyword and all(KEYWORD in world_post.description.lower() for world_post in world.posts if world_post.post_id in keyword)
        post = next(p for p in world.posts if p.post_id == expected[0])
        served = {c.comment_id for c in follow.comments(world, post, T)} | {
            r.comment_id for c in follow.comments(world, post, T) for r in follow.replies(world, c, T)
        }
        stored = {r[0] for r in con.execute("SELECT comment_id FROM comments WHERE post_id = ?", [post.post_id]).fetchall()}
        assert stored == served


# ---------------------------------------------------------------------------------- comments of hashtag posts


def _served_comments(world, posts, per_post, above):
    """What the offline TikTok serves a collection of ``posts``' top ``per_post`` comments, with the
    replies of those answered more than ``above`` times: comment id -> (post, parent, author, text, likes)."""
    expected = {}
    for post in posts:
        for c in follow.comments(world, post, T)[:per_post]:
            expected[c.comment_id] = (post.post_id, None, c.author.unique_id, c.text, c.likes(T))
            if c.reply_count > above:
                for r in follow.replies(world, c, T)[:per_post]:
                    expected[r.comment_id] = (post.post_id, c.comment_id, r.author.unique_id, r.text, r.likes(T))
    return expected


def test_a_hashtag_collection_stores_the_comments_it_was_served(tiktok, con, workspace):
    settings_module.configure(settings_module.get_settings(), comments_per_post=25, comment_replies_above=2)
    tracking.add(con, ["klimat"])
    result = collect(con, max_posts=10, covers=False)
    assert not result.failed, result.summary()
    listed = [r[0] for r in con.execute("SELECT DISTINCT post_id FROM feed_appearances WHERE hashtag = 'klimat'").fetchall()]
    assert len(listed) == 10
    posts = [p for p in tiktok.world.posts if p.post_id in set(listed)]
    expected = _served_comments(tiktok.world, posts, 25, 2)
    stored = {
        r[0]: tuple(r[1:])
        for r in con.execute("SELECT comment_id, post_id, parent_id, author_unique_id, text, likes FROM comments").fetchall()
    }
    assert stored == expected and any(v[1] for v in expected.values()) and len(expected) > 40
    asked = {r["query"]["aweme_id"] for r in tiktok.requests_to("/api/comment/list/") if "aweme_id" in r["query"]}
    assert asked == set(listed)  # each listed post once, no other
    assert f"{len(expected)} comments in " in result.summary() and "1 of 1 hashtag(s) done" in result.summary()
    assert result.counts()["hashtags"] == 1 and result.counts()["comments"] == len(expected)


def test_a_post_listed_by_a_hashtag_and_an_account_has_its_comments_asked_once(tiktok, con, workspace):
    settings_module.configure(settings_module.get_settings(), comments_per_post=5, comment_replies_above=-1)
    post = next(p for p in tiktok.world.posts_by_author[ACCOUNT] if p.visible(T) and p.hashtags)
    tag = post.hashtags[0]
    tracking.add_items(con, [(None, tag), (None, "@" + ACCOUNT)])
    result = collect(con, max_posts=200, covers=False)
    assert not result.failed, result.summary()
    by_hashtag = {r[0] for r in con.execute("SELECT post_id FROM feed_appearances WHERE hashtag = ?", [tag]).fetchall()}
    by_account = {r[0] for r in con.execute("SELECT post_id FROM listings WHERE tracked = ?", [ACCOUNT]).fetchall()}
    assert post.post_id in by_hashtag & by_account
    asked = [r["query"]["aweme_id"] for r in tiktok.requests_to("/api/comment/list/")]
    assert sorted(asked) == sorted(by_hashtag | by_account)  # every listed post, each once
    assert [o.hashtag for o in result.outcomes].count("comments") == 1
    stored = {r[0] for r in con.execute("SELECT DISTINCT post_id FROM comments").fetchall()}
    has_comments = {p.post_id for p in tiktok.world.posts if p.post_id in by_hashtag | by_account and follow.comments(tiktok.world, p, T)}
    assert stored == has_comments


def test_comments_off_asks_for_none_for_hashtags_either(tiktok, con, workspace):
    settings_module.configure(settings_module.get_settings(), comments_per_post=0)
    tracking.add(con, ["klimat"])
    result = collect(con, max_posts=10, covers=False)
    assert not result.failed and result.posts == 10
    assert tiktok.requests_to("/api/comment/") == [] and con.execute("SELECT count(*) FROM comments").fetchone() == (0,)


def test_research_api_hashtag_collection_stores_comments(workspace, con, monkeypatch):
    monkeypatch.setattr(http_module, "BACKOFF_BASE_SECONDS", 0.01)
    with clock.frozen(T), OfflineTikTok(seed=7, client_key="k-1", client_secret="s-2") as server:
        settings_module.configure(
            workspace,
            research_client_key="k-1",
            research_client_secret="s-2",
            requests_per_second=0,
            retries=1,
            comments_per_post=300,
            **server.settings_overrides(),
        )
        tracking.add(con, ["klimat"])
        result = collect(con, ["klimat"], max_posts=4, source="research", since=dt.date(2026, 10, 20), until=dt.date(2026, 11, 10))
        assert not result.failed, result.summary()
        listed = {r[0] for r in con.execute("SELECT DISTINCT post_id FROM feed_appearances WHERE hashtag = 'klimat'").fetchall()}
        assert len(listed) == 4
        world = server.world
        served = {
            c.comment_id
            for p in world.posts
            if p.post_id in listed
            for top in follow.comments(world, p, T)
            for c in [top, *follow.replies(world, top, T)]
        }
        stored = {r[0] for r in con.execute("SELECT comment_id FROM comments").fetchall()}
        assert stored == served and served
        assert {r[0] for r in con.execute("SELECT DISTINCT post_id FROM comments").fetchall()} <= listed


# ---------------------------------------------------------------------------------- filter by any tracked item


@pytest.fixture
def followed(tiktok, con, workspace):
    """A hashtag, an account and a keyword collected a day apart (trends need two snapshots), trends refreshed."""
    from tiktok_intel.analyses import trends

    settings_module.configure(settings_module.get_settings(), comments_per_post=0)
    tracking.add_items(con, [(None, "klimat"), (None, "@" + ACCOUNT), ("keyword", KEYWORD)])
    with clock.frozen(T - dt.timedelta(days=1)):
        assert not collect(con, max_posts=15, covers=False).failed
    assert not collect(con, max_posts=15, covers=False).failed
    trends.refresh_trends(con, "posts")

    def ids(sql, *params):
        return {r[0] for r in con.execute(sql, list(params)).fetchall()}

    of = {
        "hashtag": ids(
            "SELECT post_id FROM post_hashtags WHERE hashtag = 'klimat' UNION SELECT post_id FROM feed_appearances WHERE hashtag = 'klimat'"
        ),
        "account": ids("SELECT post_id FROM posts WHERE lower(author_unique_id) = ?", ACCOUNT),
        "keyword": ids("SELECT post_id FROM listings WHERE kind = 'keyword' AND tracked = ?", KEYWORD),
        "all": ids("SELECT post_id FROM posts"),
    }
    assert of["account"] >= ids("SELECT post_id FROM listings WHERE kind = 'account'") and len(of["account"]) >= 15
    served = {p.post_id for p in follow.search(tiktok.world, KEYWORD, T)[:15]} | {
        p.post_id for p in follow.search(tiktok.world, KEYWORD, T - dt.timedelta(days=1))[:15]
    }
    assert of["keyword"] == served  # what its searches listed, and nothing else
    assert len({frozenset(v) for v in of.values()}) == 4  # four different sets of posts
    return of


@pytest.mark.parametrize("kind, value", [("account", "@SVTnyheter"), ("keyword", f'"{KEYWORD}"'), ("keyword", ("keyword", KEYWORD))])
def test_reports_and_trends_filter_by_an_account_or_a_keyword(followed, con, kind, value):
    from tiktok_intel.analyses import reports, trends

    top = reports.top_posts(con, "views", hashtag=value, limit=500)
    assert set(top["post_id"]) == followed[kind]
    if kind == "account":
        assert set(top["author"]) == {ACCOUNT}
    authors = reports.top_authors(con, "views", hashtag=value, limit=500)
    assert authors["posts"].sum() == len(followed[kind])
    table = trends.trend_table(con, "posts", hashtag=value)
    assert set(table["post_id"]) == followed[kind] & set(trends.trend_table(con, "posts")["post_id"])
    trending = trends.top_trending_posts(con, "1d", hashtag=value, limit=500)
    assert not trending.empty and set(trending["post_id"]) <= followed[kind]
    assert trends.new_posts_per_day(con, value)["posts"].sum() == len(followed[kind])
    feed = reports.top_feed_posts(con, value, limit=500)
    runs = dict(con.execute("SELECT post_id, count(DISTINCT run_id) FROM listings WHERE kind = ? GROUP BY 1", [kind]).fetchall())
    assert dict(zip(feed["post_id"], feed["collections"], strict=True)) == runs and max(runs.values()) == 2
    assert set(feed["hashtag"]) == {"@" + ACCOUNT if kind == "account" else f'"{KEYWORD}"'}


def test_search_filters_by_an_account_or_a_keyword(followed, con):
    from tiktok_intel.search import search_text, semantic

    everything = {h.post_id for h in search_text(con, "", since="2020-01-01", limit=1000)}
    assert everything == followed["all"]
    for value, kind in (("@svtnyheter", "account"), (f'"{KEYWORD}"', "keyword"), ("klimat", "hashtag")):
        hits = {h.post_id for h in search_text(con, "", hashtag=value, limit=1000)}
        assert hits == followed[kind], value
        assert semantic.allowed_posts(con, hashtag=value) == followed[kind]
    worded = search_text(con, KEYWORD, hashtag="@svtnyheter", limit=1000)
    assert {h.post_id for h in worded} <= followed["account"] and all(h.author == ACCOUNT for h in worded)
    assert search_text(con, "", hashtag='"no such words"', limit=10) == []


def test_the_command_line_filters_by_an_account_or_a_keyword(followed, con, workspace, capsys):
    import csv
    import io

    from tiktok_intel.cli import main

    con.close()

    def rows(*argv):
        assert main(["--db", str(workspace.db_target), *argv]) == 0
        out, err = capsys.readouterr()
        return out

    def ids(out):
        return {r["post_id"] for r in csv.DictReader(io.StringIO(out))}

    assert ids(rows("report", "top-posts", "--hashtag", "@svtnyheter", "--limit", "500", "--format", "csv")) == followed["account"]
    assert ids(rows("report", "top-posts", "--keyword", KEYWORD.upper(), "--limit", "500", "--format", "csv")) == followed["keyword"]
    assert ids(rows("report", "top-posts", "--hashtag", "klimat", "--limit", "500", "--format", "csv")) == followed["hashtag"]
    assert ids(rows("trends", "--keyword", KEYWORD, "--format", "csv")) <= followed["keyword"]
    assert ids(rows("trends", "--keyword", KEYWORD, "--format", "csv"))
    assert ids(rows("report", "feed", "--keyword", KEYWORD, "--limit", "500", "--format", "csv")) == followed["keyword"]
    hits = json.loads(rows("search", "--keyword", KEYWORD, "--limit", "500", "--format", "json"))
    assert {h["post_id"] for h in hits} == followed["keyword"]
    hits = json.loads(rows("search", "--hashtag", "@svtnyheter", "--limit", "500", "--format", "json"))
    assert {h["post_id"] for h in hits} == followed["account"]
    with pytest.raises(SystemExit):
        main(["--db", str(workspace.db_target), "report", "top-posts", "--hashtag", "klimat", "--keyword", KEYWORD])
    assert "not allowed with" in capsys.readouterr().err


def test_the_trends_dashboard_filters_by_a_tracked_account_or_keyword(followed, con, workspace):
    import ipywidgets as w
    from test_dashboard_panels import find

    from tiktok_intel import dashboards as ti
    from tiktok_intel.texts import t

    settings_module.configure(settings_module.get_settings(), ui_language="en")
    con.close()
    panel = ti.trending_posts_panel(None, window="1d", hashtag="@SVTnyheter", limit=500)
    tag = find(panel, w.Dropdown, description=t("hashtag"))[0]
    pick = find(panel, w.Dropdown, description=t("details"))[0]
    assert tag.value == "@svtnyheter" and {"@svtnyheter", f'"{KEYWORD}"', "klimat"} <= {v for _, v in tag.options}
    shown = {v for _, v in pick.options}
    assert shown and shown <= followed["account"]
    tag.value = f'"{KEYWORD}"'
    shown = {v for _, v in pick.options}
    assert shown and shown <= followed["keyword"]
    tag.value = ""
    assert {v for _, v in pick.options} - followed["keyword"]  # unfiltered: more than the keyword's


def test_alert_rules_take_an_account_or_a_keyword_too(followed, con):
    from tiktok_intel.alerts.evaluate import growth
    from tiktok_intel.alerts.rules import Rule

    def found(hashtags):
        rule = Rule("r", "growth", ("c",), {"entity": "post", "metric": "views", "window": "1d", "threshold": 0, "hashtags": hashtags})
        return {i.key for i in growth(con, rule)}

    everything = found([])
    account, keyword = found(["@svtnyheter"]), found([f'"{KEYWORD}"'])
    assert account and account <= followed["account"] and keyword and keyword <= followed["keyword"]
    assert account == everything & followed["account"] and keyword == everything & followed["keyword"]
    assert found(["@svtnyheter", f'"{KEYWORD}"']) == account | keyword


def test_the_reports_dashboard_filters_by_a_tracked_account_or_keyword(followed, con, workspace):
    import ipywidgets as w
    from test_dashboard_panels import find, texts

    from tiktok_intel import dashboards as ti
    from tiktok_intel.texts import t

    settings_module.configure(settings_module.get_settings(), ui_language="en")
    con.close()
    panel = ti.reports_panel(None, report="top posts", hashtag="@SVTnyheter", limit=500)
    tag = find(panel, w.Dropdown, description=t("hashtag"))[0]
    assert tag.value == "@svtnyheter" and {"@svtnyheter", f'"{KEYWORD}"', "klimat"} <= {v for _, v in tag.options}
    others = followed["all"] - followed["account"]
    shown = texts(panel)
    assert all(p in shown for p in followed["account"]) and not any(p in shown for p in others)
    tag.value = f'"{KEYWORD}"'
    shown = texts(panel)
    assert all(p in shown for p in followed["keyword"]) and not any(p in shown for p in followed["all"] - followed["keyword"])
