"""Conformance: every real sample in ../shared/fixtures parses and ingests, with concrete values checked."""

from __future__ import annotations

import csv
import datetime as dt

import pytest
from conftest import T0
from test_ingest import snapshot

from tiktok_intel.imports import import_paths
from tiktok_intel.ingest.pages import rebuild
from tiktok_intel.parsing import Context, parse_bytes

RESPONSES = [
    "web/item_2024_fyp.json",
    "web/item_2024_hashtag.json",
    "web/item_2023_search.json",
    "web/item_list_minimal.json",
    "web/page_sigi_state_2023.json",
    "web/user_detail_2025.json",
    "aweme/ensembledata_hashtag_search.json",
    "aweme/ensembledata_post_info.json",
    "aweme/ensembledata_user_info_by_username.json",
    "zeeschuimer/tiktok_search_2023.ndjson",
    "research_api/api_videos_response_page_1_of_2.json",
    "research_api/api_videos_response_page_2_of_2.json",
    "research_api/api_videos_response_unicode_with_null_bytes.json",
    "research_api/traktok_example_resp_q_videos.json",
    "research_api/api_comments_response.json",
    "research_api/traktok_example_resp_comments.json",
    "web/comments_2024.json",
    "web/search_general_2022.json",
    "web/user_detail_scope_2025.json",
    "scrapers/tiktok_scraper_2021_user.json",
    "web/next_data_video_2020.html",
]


def parse(shared, name):
    return parse_bytes((shared / name).read_bytes(), Context(collected_at=T0))


def test_every_sample_file_is_covered(shared_fixtures):
    on_disk = {str(p.relative_to(shared_fixtures)) for p in shared_fixtures.rglob("*") if p.suffix in (".json", ".ndjson", ".html")}
    requests_not_responses = {
        "research_api/traktok_example_query.json",
        "research_api/traktok_example_request.json",
        "research_api/traktok_example_resp_q_user.json",
    }
    assert on_disk - set(RESPONSES) - requests_not_responses - SHAPES_FOR_ISSUE_17 == set()


#: Samples added to ../shared/fixtures for issue 17: all imported now (in RESPONSES, values checked below).
SHAPES_FOR_ISSUE_17: set[str] = set()


@pytest.mark.parametrize("name", RESPONSES)
def test_parses_without_unexpected_rejects(shared_fixtures, name):
    batch = parse(shared_fixtures, name)
    assert batch.shape is not None
    expected_rejects = 1 if name.endswith("page_2_of_2.json") else 0
    assert len(batch.rejects) == expected_rejects, [r.reason for r in batch.rejects]
    assert batch.items_read == batch.items_ok + len(batch.rejects)


def test_for_you_item_exact_counts(shared_fixtures):
    post = parse(shared_fixtures, "web/item_2024_fyp.json").rows["posts"][0]
    assert post["saves"] == 137069  # statsV2 "137069", not stats 137100
    assert post["views"] == 40100000 and post["likes"] == 1800000
    assert post["url"] == "https://www.tiktok.com/@caitliniola/video/7392284775479889157"
    assert post["created_at"] == dt.datetime(2024, 7, 16, 17, 20, 27)


def test_hashtag_feed_item_author_stats(shared_fixtures):
    batch = parse(shared_fixtures, "web/item_2024_hashtag.json")
    assert batch.rows["posts"][0]["views"] == 18279  # exact, where stats says 18300
    snap = batch.rows["author_stats"][0]
    assert snap["followers"] == 141000 and snap["hearts"] == 31800000 and snap["videos"] == 14400


def test_minimal_item_without_video_or_text_extra(shared_fixtures):
    post = parse(shared_fixtures, "web/item_list_minimal.json").rows["posts"][0]
    assert post["post_id"] == "7417822298599623943" and post["cover_url"] is None and post["views"] == 18279


def test_sigi_state_29_items_with_resolved_authors(shared_fixtures):
    batch = parse(shared_fixtures, "web/page_sigi_state_2023.json")
    posts = batch.rows["posts"]
    assert len(posts) == 29 and len({p["post_id"] for p in posts}) == 29
    assert {(p["author_id"], p["author_unique_id"]) for p in posts} == {("6873220517223924742", "thenikosknifee")}
    assert {a["nickname"] for a in batch.rows["authors"]} == {"The Nikos Knife"}
    assert batch.rows["author_stats"][0]["followers"] == 839000


def test_user_detail_profile(shared_fixtures):
    author = parse(shared_fixtures, "web/user_detail_2025.json").rows["authors"][0]
    assert (author["author_id"], author["unique_id"]) == ("6976999329680589829", "oddanimalspecimens")
    assert author["followers"] is not None and author["hearts"] is not None


def test_aweme_samples(shared_fixtures):
    batch = parse(shared_fixtures, "aweme/ensembledata_hashtag_search.json")
    assert len(batch.rows["posts"]) == 15
    first = next(p for p in batch.rows["posts"] if p["post_id"] == "7296852206433602849")
    assert first["views"] == 78549581 and first["likes"] == 8756489 and first["author_unique_id"] == "funnyanimalszzz"
    assert {"funny", "pet", "funnyanimals"} <= {r["hashtag"] for r in batch.rows["post_hashtags"] if r["post_id"] == first["post_id"]}
    user = parse(shared_fixtures, "aweme/ensembledata_user_info_by_username.json").rows["authors"][0]
    assert (user["unique_id"], user["followers"], user["hearts"]) == ("svt", 133804, 8870901)


def test_research_api_pages(shared_fixtures):
    page1 = parse(shared_fixtures, "research_api/api_videos_response_page_1_of_2.json")
    assert len(page1.rows["posts"]) == 27 and page1.rows["posts"][0]["post_id"] == "7320768196569599275"
    page2 = parse(shared_fixtures, "research_api/api_videos_response_page_2_of_2.json")
    assert page2.rejects[0].reason.startswith("id is out of range")
    nul = parse(shared_fixtures, "research_api/api_videos_response_unicode_with_null_bytes.json").rows["posts"][0]
    assert nul["author_unique_id"] == "حموديالباشا4" and "\x00" not in nul["author_unique_id"]
    traktok = parse(shared_fixtures, "research_api/traktok_example_resp_q_videos.json").rows["posts"]
    assert [p["post_id"] for p in traktok][0] == "702874395068494965"  # `video_id`, a JSON integer


def test_zeeschuimer_agrees_with_another_decoder(shared_fixtures):
    batch = parse(shared_fixtures, "zeeschuimer/tiktok_search_2023.ndjson")
    ours = {p["post_id"]: p for p in batch.rows["posts"]}
    with open(shared_fixtures / "zeeschuimer/tiktok_search_2023.decoder.csv", encoding="utf-8") as handle:
        theirs = list(csv.DictReader(handle))
    assert len(theirs) == 96 and set(ours) == {row["id"] for row in theirs}
    for row in theirs:
        assert ours[row["id"]]["url"] == row["url"]
        assert (ours[row["id"]]["description"] or "") == row["description"]
    # collected_at is Zeeschuimer's own timestamp_collected, never the import time
    assert min(r["collected_at"] for r in batch.rows["post_stats"]).date() == dt.date(2023, 10, 12)


def test_import_all_samples_twice_then_rebuild(shared_fixtures, con, workspace):
    paths = [shared_fixtures / name for name in RESPONSES]
    first = import_paths(con, paths, collected_at=T0)
    assert first.items_read == first.items_ingested + first.items_rejected and first.items_rejected == 1
    before = snapshot(con)
    second = import_paths(con, paths, collected_at=T0)  # new copies in raw, same content: nothing changes
    assert snapshot(con) == before and second.pages_skipped == len(paths)
    rebuild(con)
    assert snapshot(con) == before


# ---------------------------------------------------------------------------------------------
# issue 17: search, comments, a scope without its wrapper, a 2020 page, tiktok-scraper's three forms

SEARCH_POSTS = {
    "7011756451920153861": ("bibilili12", 34700000),
    "7037087893222886661": ("justmemes.official", 51100000),
    "7000236391418432773": ("betyoucantfollowme1", 16200000),
    "7012172504349396251": ("jmlevin", 11900000),
    "7044147809280527662": ("danthreetwo", 75800000),
    "6991705017451302146": ("theofficialc_j", 67400000),
    "7170556997656382746": ("juryferma", 8500000),
    "7003218138338823429": ("quirpn", 23400000),
    "7098948236379016475": ("mustakeemyuhai.x", 27500000),
    "7105438015312383258": ("dika_kopkin555", 42900000),
    "7140666087129058561": ("hbcfxcu", 29500000),
}


def test_web_search_response_11_posts_at_data_item(shared_fixtures):
    batch = parse(shared_fixtures, "web/search_general_2022.json")
    assert batch.shape == "web_search"
    assert {p["post_id"]: (p["author_unique_id"], p["views"]) for p in batch.rows["posts"]} == SEARCH_POSTS
    first = "7011756451920153861"
    tags = {r["hashtag"] for r in batch.rows["post_hashtags"] if r["post_id"] == first}
    assert tags == {"foryou", "funny", "funnyvideos", "fyp", "haha", "hilarious", "lol", "tiktok", "viral", "😂"}  # emoji hashtag kept


def test_web_comment_list_80_comments(shared_fixtures):
    import json

    raw = json.loads((shared_fixtures / "web/comments_2024.json").read_text(encoding="utf-8"))["comments"]
    batch = parse(shared_fixtures, "web/comments_2024.json")
    rows = {c["comment_id"]: c for c in batch.rows["comments"]}
    assert len(rows) == 80 and set(rows) == {c["cid"] for c in raw}
    assert {c["post_id"] for c in rows.values()} == {"7426227701096123655"}
    for c in raw:  # every author and text as TikTok gave it (surrogate-pair escapes decoded)
        assert (rows[c["cid"]]["author_unique_id"], rows[c["cid"]]["text"]) == (c["user"]["unique_id"], c["text"])
    first = rows["7439177575589839623"]
    assert first["author_unique_id"] == "b.fan.quang.hn" and first["text"] == "lúc đầu tưởng tóc mẹ bạc màu mây😅"
    assert first["language"] == "vi" and first["parent_id"] is None and first["created_at"] == dt.datetime(2024, 11, 20, 2, 8, 37)
    assert sum(c["replies"] for c in rows.values()) == 2 and sum(c["likes"] for c in rows.values()) == 9
    assert len(batch.rows["comment_stats"]) == 80 and batch.rows["posts"] == []


def test_research_api_comments_are_stored(shared_fixtures):
    rows = parse(shared_fixtures, "research_api/traktok_example_resp_comments.json").rows["comments"]
    assert [(c["comment_id"], c["post_id"], c["parent_id"], c["likes"], c["replies"]) for c in rows] == [
        ("12345616934634134", "1234563451201523412", "1234561201524010", 50, 10)
    ]
    top = parse(shared_fixtures, "research_api/api_comments_response.json").rows["comments"]
    assert len(top) == 6 and {c["parent_id"] for c in top} == {None}  # parent_comment_id == video_id: top level


def test_profile_scope_without_its_wrapper(shared_fixtures):
    batch = parse(shared_fixtures, "web/user_detail_scope_2025.json")
    author = batch.rows["authors"][0]
    assert (author["author_id"], author["unique_id"], author["nickname"]) == ("7003973184912376833", "tuanmjnh90", "TM")
    snap = batch.rows["author_stats"][0]
    assert (snap["followers"], snap["following"], snap["hearts"], snap["videos"]) == (1265, 2665, 3598, 86)


def test_2020_next_data_video_page(shared_fixtures):
    batch = parse(shared_fixtures, "web/next_data_video_2020.html")
    assert batch.shape == "next_data" and not batch.rejects  # not a "login wall"
    post = batch.rows["posts"][0]
    assert (post["post_id"], post["author_unique_id"], post["views"], post["likes"], post["comments"], post["shares"]) == (
        "6800631926869724421",
        "just.me164",
        13837,
        4263,
        23,
        16,
    )
    assert post["created_at"] == dt.datetime(2020, 3, 5, 8, 5, 19) and post["duration_s"] == 14
    assert sorted(r["hashtag"] for r in batch.rows["post_hashtags"]) == ["attention", "bf", "couple", "gaming", "love"]
    assert batch.rows["authors"][0]["nickname"] == "Just Me" and batch.rows["author_stats"][0]["followers"] == 78890


def _scraper_posts(shared_fixtures):
    import json

    return json.loads((shared_fixtures / "scrapers/tiktok_scraper_2021_user.json").read_text(encoding="utf-8"))


def _check_scraper_batch(batch, raw):
    posts = {p["post_id"]: p for p in batch.rows["posts"]}
    assert len(posts) == 65 and not batch.rejects
    for item in raw:  # every post's exact counts and hashtags, as the tool exported them
        post = posts[item["id"]]
        assert (post["views"], post["likes"], post["comments"], post["shares"]) == (
            item["playCount"],
            item["diggCount"],
            item["commentCount"],
            item["shareCount"],
        )
        assert {r["hashtag"] for r in batch.rows["post_hashtags"] if r["post_id"] == item["id"]} == {
            h["name"].lower() for h in item["hashtags"]
        }
    first = posts["6911379416308305158"]
    assert (first["views"], first["author_unique_id"], first["created_at"]) == (
        18800,
        "thebigbradwolf",
        dt.datetime(2020, 12, 28, 18, 42, 13),
    )
    assert sum(p["views"] for p in posts.values()) == 38276900
    assert {r["hashtag"] for r in batch.rows["post_hashtags"] if r["post_id"] == "6911379416308305158"} == {"fyp", "harrystyles"}
    snap = batch.rows["author_stats"][0]
    assert (snap["followers"], snap["hearts"], snap["videos"]) == (398700, 20400000, 263)


def test_tiktok_scraper_json_list(shared_fixtures):
    batch = parse(shared_fixtures, "scrapers/tiktok_scraper_2021_user.json")
    assert batch.shape == "tiktok_scraper"
    _check_scraper_batch(batch, _scraper_posts(shared_fixtures))


def _json2csv(items: list[dict]) -> bytes:
    """What tiktok-scraper's CSV export (json2csv, ``flatten: true``) writes: nested keys joined by
    dots, lists as JSON text, every value quoted."""
    import io
    import json

    def flat(obj, prefix=""):
        out = {}
        for key, value in obj.items():
            if isinstance(value, dict):
                out.update(flat(value, f"{prefix}{key}."))
            else:
                out[prefix + key] = json.dumps(value, ensure_ascii=False) if isinstance(value, list) else value
        return out

    rows = [flat(item) for item in items]
    header = list(dict.fromkeys(k for row in rows for k in row))
    buffer = io.StringIO()
    writer = csv.writer(buffer, quoting=csv.QUOTE_ALL, lineterminator="\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow(["" if row.get(k) is None else str(row[k]).lower() if isinstance(row.get(k), bool) else row[k] for k in header])
    return buffer.getvalue().encode("utf-8")


def test_tiktok_scraper_result_object_and_csv(shared_fixtures):
    import json

    raw = _scraper_posts(shared_fixtures)
    wrapped = {"headers": {"user-agent": "x"}, "collector": raw, "json": "thebigbradwolf_1609948309033.json"}
    _check_scraper_batch(parse_bytes(json.dumps(wrapped).encode(), Context(collected_at=T0)), raw)
    _check_scraper_batch(parse_bytes(_json2csv(raw), Context(collected_at=T0)), raw)


def test_known_shapes_nested_inside_something_else(shared_fixtures):
    import json

    search = json.loads((shared_fixtures / "web/search_general_2022.json").read_text(encoding="utf-8"))
    page = (shared_fixtures / "web/next_data_video_2020.html").read_text(encoding="utf-8")
    under_unfamiliar_key = {"export": {"meta": {"tool": "x"}, "results": [e["item"] for e in search["data"]]}}
    assert {p["post_id"] for p in parse_bytes(json.dumps(under_unfamiliar_key).encode(), Context(collected_at=T0)).rows["posts"]} == set(
        SEARCH_POSTS
    )
    html_in_a_string = {"url": "https://www.tiktok.com/@just.me164/video/6800631926869724421", "html": page}
    posts = parse_bytes(json.dumps(html_in_a_string).encode(), Context(collected_at=T0)).rows["posts"]
    assert [(p["post_id"], p["views"]) for p in posts] == [("6800631926869724421", 13837)]
    rejected = parse_bytes(b'{"hello": {"world": [1, 2]}}', Context(collected_at=T0)).rejects[0].reason
    assert "looked for" in rejected and "itemList" in rejected and "authorMeta" in rejected


def test_html_called_a_login_wall_or_captcha_only_when_it_is_one():
    ctx = Context(collected_at=T0)
    login = b'<!DOCTYPE html><html><head><title>Log in | TikTok</title></head><body><div id="loginContainer">Log in</div></body></html>'
    captcha = (
        b'<!DOCTYPE html><html><head><title>Security Check</title></head><body><div id="captcha-verify-container"></div></body></html>'
    )
    other = b'<!DOCTYPE html><html><head><title>Cats</title></head><body><script>var login = "verify";</script></body></html>'
    assert "(login wall)" in parse_bytes(login, ctx).rejects[0].reason
    assert "(captcha)" in parse_bytes(captcha, ctx).rejects[0].reason
    reason = parse_bytes(other, ctx).rejects[0].reason
    assert "login" not in reason.split("(", 1)[1][:12] and "captcha" not in reason and "__NEXT_DATA__" in reason


SHAPES_17 = [
    "web/search_general_2022.json",
    "web/comments_2024.json",
    "web/user_detail_scope_2025.json",
    "web/next_data_video_2020.html",
    "scrapers/tiktok_scraper_2021_user.json",
]


@pytest.mark.parametrize("name", SHAPES_17)
def test_issue_17_shapes_import_idempotently(shared_fixtures, con, workspace, name):
    first = import_paths(con, [shared_fixtures / name], collected_at=T0)
    assert first.items_rejected == 0 and first.items_read > 0
    before = snapshot(con)
    second = import_paths(con, [shared_fixtures / name], collected_at=T0)
    assert snapshot(con) == before and second.pages_skipped == 1
    rebuild(con)
    assert snapshot(con) == before


def test_tiktok_scraper_csv_file_imports(shared_fixtures, con, workspace, tmp_path):
    path = tmp_path / "thebigbradwolf.csv"
    path.write_bytes(_json2csv(_scraper_posts(shared_fixtures)))
    stats = import_paths(con, [path], collected_at=T0)
    assert stats.items_read == 65 and stats.items_rejected == 0
    assert con.execute("SELECT count(*), sum(views) FROM posts").fetchone() == (65, 38276900)
    again = import_paths(con, [path], collected_at=T0)
    assert again.pages_skipped == 1 and con.execute("SELECT count(*) FROM post_stats").fetchone() == (65,)


def test_comments_import_into_the_store(shared_fixtures, con, workspace):
    import_paths(con, [shared_fixtures / "web/comments_2024.json"], collected_at=T0)
    assert con.execute("SELECT count(*), count(DISTINCT author_unique_id), sum(likes) FROM comments").fetchone() == (80, 80, 9)
    assert con.execute("SELECT count(*) FROM comment_stats").fetchone() == (80,)
