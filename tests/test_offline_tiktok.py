"""The offline TikTok: a deterministic, growing world; TikTok's response shapes (checked against
the real samples in ../shared/fixtures with the project's own parsers); covers; fault switches."""

from __future__ import annotations

import datetime as dt
import io
import json
import time
from urllib.parse import urlencode, urlsplit

import httpx
import imagehash
import pytest
from PIL import Image

from tiktok_intel import clock
from tiktok_intel.offline import FAULT_KINDS, OfflineTikTok, World
from tiktok_intel.offline.images import cover_jpeg
from tiktok_intel.offline.server import x_bogus
from tiktok_intel.offline.world import tiktok_rounded
from tiktok_intel.parsing import Context, parse_bytes

T = dt.datetime(2026, 11, 10, 8, 0)
WEB = {"aid": "1988", "app_name": "tiktok_web", "device_platform": "web_pc", "msToken": "test-token"}


@pytest.fixture(scope="module")
def tiktok():
    with clock.frozen(T), OfflineTikTok(seed=3) as server:
        yield server


@pytest.fixture(autouse=True)
def _frozen(tiktok):
    tiktok.faults.clear()
    with clock.frozen(T):
        yield


def get(tiktok, path, **params):
    return httpx.get(tiktok.base_url + path, params={**WEB, **params}, timeout=5)


def research_token(tiktok) -> str:
    r = httpx.post(tiktok.base_url + "/v2/oauth/token/", data={"client_key": "k", "client_secret": "s", "grant_type": "client_credentials"})
    return r.json()["access_token"]


def research_query(tiktok, token, body, fields="id,username,hashtag_names,view_count,create_time"):
    return httpx.post(
        f"{tiktok.base_url}/v2/research/video/query/?fields={fields}", json=body, headers={"Authorization": f"Bearer {token}"}, timeout=5
    )


# -- the world ---------------------------------------------------------------------------------


def test_world_is_deterministic_from_its_seed():
    a, b, c = World(11), World(11), World(12)
    assert [(p.post_id, p.description, p.author.unique_id) for p in a.posts] == [
        (p.post_id, p.description, p.author.unique_id) for p in b.posts
    ]
    assert [p.post_id for p in a.posts] != [p.post_id for p in c.posts]
    assert {"valet2026", "svtnyheter", "klimat", "miljö"} <= set(a.hashtags)


def test_configured_hashtags_exist_and_have_posts():
    world = World(1, hashtags=["#Eurovision2026", "valet2026"])
    assert "eurovision2026" in world.hashtags
    assert world.feed("eurovision2026", dt.datetime(2027, 6, 1))


def test_hashtags_co_occur_like_topics_do():
    world = World(2)
    valet = [set(p.hashtags) for p in world.posts if "valet2026" in p.hashtags]
    with_svt = sum("svtnyheter" in tags for tags in valet)
    with_football = sum("allsvenskan" in tags for tags in valet)
    assert with_svt > 5 * max(1, with_football)
    assert all(1 <= len(p.hashtags) <= 8 for p in world.posts)


def test_counts_and_followers_grow_over_simulated_time_and_new_posts_appear():
    world = World(4)
    later = T + dt.timedelta(hours=8)
    visible = [p for p in world.posts if p.visible(T)]
    before = {p.post_id: p.counts(T) for p in visible}
    after = {p.post_id: p.counts(later) for p in visible}
    assert all(after[i][k] >= before[i][k] for i in before for k in before[i])
    assert sum(after[i]["views"] > before[i]["views"] for i in before) > len(before) // 4
    author = visible[0].author
    assert author.followers(later) > author.followers(T)
    assert len(world.feed("valet2026", later)) >= len(world.feed("valet2026", T))
    assert len(world.feed("valet2026", T + dt.timedelta(days=20))) > len(world.feed("valet2026", T))


def test_rounding_matches_tiktoks_stats():
    assert tiktok_rounded(2955) == 2955 and tiktok_rounded(18279) == 18300 and tiktok_rounded(4001943) == 4000000
    assert tiktok_rounded(31_812_345) == 31_800_000


# -- web API shapes ----------------------------------------------------------------------------------


def test_challenge_detail_and_paged_feed(tiktok):
    detail = get(tiktok, "/api/challenge/detail/", challengeName="valet2026").json()
    info = detail["challengeInfo"]
    assert set(info["challenge"]) >= {"id", "title", "desc"} and info["challenge"]["title"] == "valet2026"
    assert set(info["stats"]) == {"videoCount", "viewCount"} and isinstance(info["statsV2"]["viewCount"], str)
    seen, cursor, pages = [], 0, 0
    while True:
        page = get(tiktok, "/api/challenge/item_list/", challengeID=info["challenge"]["id"], count=30, cursor=cursor).json()
        assert isinstance(page["cursor"], str) and isinstance(page["hasMore"], bool) and page["statusCode"] == 0
        seen += [item["id"] for item in page["itemList"]]
        cursor, pages = int(page["cursor"]), pages + 1
        if not page["hasMore"]:
            break
    assert pages > 2 and len(seen) == len(set(seen)) == len(tiktok.world.feed("valet2026", T))
    item = page["itemList"][0] if page["itemList"] else None
    first = get(tiktok, "/api/challenge/item_list/", challengeID=info["challenge"]["id"], count=5, cursor=0).json()["itemList"][0]
    for item in [first] + ([item] if item else []):
        assert all(isinstance(v, int) for v in item["stats"].values())
        assert all(isinstance(v, str) and v.isdigit() for v in item["statsV2"].values())
        assert int(item["statsV2"]["playCount"]) >= 0 and "valet2026" in [c["title"] for c in item["challenges"]]
        assert urlsplit(item["video"]["cover"]).hostname == "127.0.0.1" and "x-expires=" in item["video"]["cover"]


def test_web_api_wants_client_params_and_a_session(tiktok):
    no_aid = httpx.get(tiktok.base_url + "/api/challenge/detail/", params={"challengeName": "klimat", "msToken": "x"}).json()
    assert no_aid["statusCode"] != 0
    no_token = httpx.get(
        tiktok.base_url + "/api/challenge/detail/", params={"aid": "1988", "app_name": "tiktok_web", "challengeName": "klimat"}
    )
    assert no_token.status_code == 200 and no_token.content == b""
    assert get(tiktok, "/api/challenge/detail/", challengeName="nosuchtag").json()["statusCode"] == 10205


def test_signature_required_when_switched_on():
    with OfflineTikTok(seed=3, require_signature=True) as server:
        path = "/api/challenge/detail/?" + urlencode({**WEB, "challengeName": "klimat"})
        signed = httpx.get(server.base_url + path + "&X-Bogus=" + x_bogus(path))
        assert signed.json()["challengeInfo"]["challenge"]["title"] == "klimat"
        assert httpx.get(server.base_url + path + "&X-Bogus=DFSzwrong").content == b""
        assert httpx.get(server.base_url + path).content == b""


def test_home_page_sets_ms_token_and_defines_the_signer(tiktok):
    home = httpx.get(tiktok.base_url + "/")
    assert home.cookies.get("msToken") and "ttwid" in home.cookies
    assert "byted_acrawler" in home.text and "frontierSign" in home.text and "X-Bogus" in home.text


def test_user_detail_and_video_page(tiktok):
    post = tiktok.world.feed("klimat", T)[0]
    user = get(tiktok, "/api/user/detail/", uniqueId=post.author.unique_id).json()["userInfo"]
    assert user["user"]["uniqueId"] == post.author.unique_id and isinstance(user["statsV2"]["followerCount"], str)
    page = httpx.get(f"{tiktok.base_url}/@{post.author.unique_id}/video/{post.post_id}")
    assert page.headers["content-type"].startswith("text/html") and "__UNIVERSAL_DATA_FOR_REHYDRATION__" in page.text
    batch = parse_bytes(page.content, Context(collected_at=T, source="web"))
    assert [r["post_id"] for r in batch.rows["posts"]] == [post.post_id] and not batch.rejects


# -- covers -------------------------------------------------------------------------------------------


def test_covers_are_jpeg_and_expire(tiktok):
    post = tiktok.world.feed("klimat", T)[0]
    item = get(tiktok, "/api/challenge/item_list/", challengeID=tiktok.world.hashtags["klimat"].challenge_id, count=1).json()["itemList"][0]
    cover = httpx.get(item["video"]["cover"])
    assert cover.status_code == 200 and cover.headers["content-type"] == "image/jpeg"
    assert Image.open(io.BytesIO(cover.content)).size == (360, 640)
    assert httpx.get(item["video"]["cover"].replace("x-signature=", "x-signature=0")).status_code == 403
    with clock.frozen(T + dt.timedelta(hours=7)):
        assert httpx.get(item["video"]["cover"]).status_code == 403
    assert post.post_id == item["id"]


def test_covers_include_captions_near_duplicates_and_unrelated_pictures():
    world = World(5)
    kinds = {p.cover_kind for p in world.posts}
    assert kinds == {"text", "dup", "plain"}
    assert any(p.overlay == "Valet 2026 #svtnyheter" for p in world.posts if p.cover_kind == "text")
    groups: dict[int, list] = {}
    for p in world.posts:
        if p.cover_kind == "dup":
            groups.setdefault(p.cover_group, []).append(p)
    group = next(g for g in groups.values() if len(g) >= 3)
    hashes = [imagehash.phash(Image.open(io.BytesIO(cover_jpeg(p)))) for p in group]
    assert len({cover_jpeg(p) for p in group}) == len(group)  # not byte-identical
    assert all(hashes[0] - h <= 8 for h in hashes[1:])  # but near-duplicates
    plain = [p for p in world.posts if p.cover_kind == "plain"][:5]
    assert sum(hashes[0] - imagehash.phash(Image.open(io.BytesIO(cover_jpeg(p)))) > 12 for p in plain) >= 4


# -- Research API -------------------------------------------------------------------------------------


def test_research_api_token_query_paging_and_user(tiktok):
    token = research_token(tiktok)
    body = {
        "query": {"and": [{"field_name": "hashtag_name", "operation": "EQ", "field_values": ["klimat"]}]},
        "start_date": "20261015",
        "end_date": "20261110",
        "max_count": 20,
    }
    first = research_query(tiktok, token, body).json()
    assert first["error"]["code"] == "ok" and set(first["error"]) == {"code", "message", "log_id"}
    data = first["data"]
    assert set(data) == {"videos", "cursor", "has_more", "search_id"} and data["has_more"] is True and data["cursor"] == 20
    assert isinstance(data["videos"][0]["id"], int) and all("klimat" in v["hashtag_names"] for v in data["videos"])
    assert len(data["videos"]) == 21 and data["videos"][0] == data["videos"][-1]  # the real API's duplicate trap
    second = research_query(tiktok, token, {**body, "cursor": 20, "search_id": data["search_id"]}).json()["data"]
    assert not {v["id"] for v in second["videos"]} & {v["id"] for v in data["videos"]}
    bad = research_query(tiktok, token, {**body, "cursor": 20}).json()
    assert bad["error"]["code"] == "invalid_params"
    author = tiktok.world.feed("klimat", T)[0].author
    user = httpx.post(
        tiktok.base_url + "/v2/research/user/info/?fields=display_name,follower_count",
        json={"username": author.unique_id},
        headers={"Authorization": f"Bearer {token}"},
    ).json()
    assert user["error"]["code"] == "ok" and set(user["data"]) == {"display_name", "follower_count"}


@pytest.mark.parametrize(
    "change, code",
    [
        ({"start_date": "20260901", "end_date": "20261110"}, "invalid_params"),
        ({"max_count": 101}, "invalid_params"),
        ({"start_date": "2026-09-01"}, "invalid_params"),
    ],
)
def test_research_api_rejects_what_the_real_one_rejects(tiktok, change, code):
    token = research_token(tiktok)
    body = {
        "query": {"and": [{"field_name": "region_code", "operation": "IN", "field_values": ["SE"]}]},
        "start_date": "20261101",
        "end_date": "20261110",
        "max_count": 10,
        **change,
    }
    response = research_query(tiktok, token, body)
    assert response.status_code == 400 and response.json()["error"]["code"] == code


def test_research_api_auth():
    with OfflineTikTok(seed=3, client_key="key", client_secret="secret") as server:
        wrong = httpx.post(
            server.base_url + "/v2/oauth/token/", data={"client_key": "key", "client_secret": "nope", "grant_type": "client_credentials"}
        )
        assert wrong.status_code == 401 and wrong.json()["error"] == "invalid_client"
        denied = httpx.post(server.base_url + "/v2/research/video/query/", json={}, headers={"Authorization": "Bearer clt.fake"})
        assert denied.status_code == 401 and denied.json()["error"]["code"] == "access_token_invalid"


# -- fault switches -----------------------------------------------------------------------------------


def test_every_fault_switch(tiktok):
    detail = "/api/challenge/detail/"
    checks = {
        "429": lambda r: r.status_code == 429 and r.headers["retry-after"] == "0",
        "500": lambda r: r.status_code == 500,
        "503": lambda r: r.status_code == 503,
        "captcha": lambda r: r.status_code == 200 and "captcha" in r.text.lower(),
        "login": lambda r: r.status_code == 200 and "Log in" in r.text,
        "empty": lambda r: r.status_code == 200 and r.content == b"",
        "truncated": lambda r: r.status_code == 200 and r.content.startswith(b"{") and not _is_json(r.content),
    }
    for kind, check in checks.items():
        tiktok.faults.add(kind, path=detail)
        assert check(get(tiktok, detail, challengeName="klimat")), kind
        assert get(tiktok, detail, challengeName="klimat").json()["statusCode"] == 0, f"{kind} fired more than once"
    tiktok.faults.add("slow", path=detail, delay=0.4)
    started = time.monotonic()
    assert get(tiktok, detail, challengeName="klimat").json()["statusCode"] == 0
    assert time.monotonic() - started >= 0.4
    cover = get(tiktok, "/api/challenge/item_list/", challengeID=tiktok.world.hashtags["klimat"].challenge_id, count=1).json()["itemList"][
        0
    ]["video"]["cover"]
    tiktok.faults.add("expired", times=2)
    assert [httpx.get(cover).status_code for _ in range(3)] == [403, 403, 200]
    token = research_token(tiktok)
    tiktok.faults.add("quota")
    body = {
        "query": {"and": [{"field_name": "keyword", "operation": "EQ", "field_values": ["klimat"]}]},
        "start_date": "20261101",
        "end_date": "20261110",
    }
    quota = research_query(tiktok, token, body)
    assert quota.status_code == 429 and quota.json()["error"]["code"] == "daily_quota_limit_exceeded"
    tiktok.faults.add("500", path=detail, after=1)
    assert get(tiktok, detail, challengeName="klimat").status_code == 200
    assert get(tiktok, detail, challengeName="klimat").status_code == 500
    assert set(FAULT_KINDS) == set(checks) | {"slow", "expired", "quota"}
    with pytest.raises(ValueError, match="unknown fault"):
        tiktok.faults.add("teapot")


def test_faults_can_be_armed_over_http(tiktok):
    armed = httpx.get(tiktok.base_url + "/_offline/fault", params={"kind": "503", "times": "2", "path": "/api/"}).json()
    assert armed["armed"] == 1
    assert [get(tiktok, "/api/challenge/detail/", challengeName="klimat").status_code for _ in range(3)] == [503, 503, 200]
    state = httpx.get(tiktok.base_url + "/_offline/state").json()
    assert state["now"].startswith("2026-11-10T08:00") and "valet2026" in state["hashtags"]


def _is_json(data: bytes) -> bool:
    try:
        json.loads(data)
        return True
    except ValueError:
        return False


# -- conformance with the real samples ---------------------------------------------------------------


def _tables(data: bytes, **ctx):
    batch = parse_bytes(data, Context(collected_at=T, source="test", **ctx))
    return {name for name, rows in batch.rows.items() if rows}, batch


def test_offline_responses_parse_like_the_real_samples(tiktok, shared_fixtures):
    """Each offline response gives the same kinds of records as the real sample of its shape, with no rejects."""
    web = shared_fixtures / "web"
    feed = get(tiktok, "/api/challenge/item_list/", challengeID=tiktok.world.hashtags["valet2026"].challenge_id, count=5).content
    real_item = json.loads((web / "item_2024_hashtag.json").read_text())
    offline_tables, batch = _tables(feed, hashtag="valet2026")
    real_tables, _ = _tables(json.dumps({"itemList": [real_item], "hasMore": False, "cursor": "1", "statusCode": 0}).encode(), hashtag="x")
    assert offline_tables == real_tables and not batch.rejects
    offline_item = json.loads(feed)["itemList"][0]
    assert set(real_item) <= set(offline_item)
    assert set(real_item["stats"]) <= set(offline_item["stats"]) and set(real_item["statsV2"]) <= set(offline_item["statsV2"])
    for key in ("author", "video", "music"):
        core = {"id", "uniqueId", "nickname", "secUid", "cover", "playAddr", "duration", "title", "authorName"} & set(real_item[key])
        assert core <= set(offline_item[key]), key

    real_user = json.loads((web / "user_detail_2025.json").read_text())[0]
    author = tiktok.world.feed("valet2026", T)[0].author
    user = get(tiktok, "/api/user/detail/", uniqueId=author.unique_id).content
    assert _tables(user)[0] == _tables(json.dumps({"userInfo": {k: real_user[k] for k in ("user", "stats", "statsV2")}}).encode())[0]
    assert set(real_user["statsV2"]) <= set(json.loads(user)["userInfo"]["statsV2"])

    detail = get(tiktok, "/api/challenge/detail/", challengeName="valet2026").content
    assert _tables(detail)[0] == {"hashtags", "hashtag_stats"}

    research = shared_fixtures / "research_api"
    real_page = (research / "api_videos_response_page_1_of_2.json").read_bytes()
    token = research_token(tiktok)
    body = {
        "query": {"and": [{"field_name": "hashtag_name", "operation": "EQ", "field_values": ["valet2026"]}]},
        "start_date": "20261015",
        "end_date": "20261110",
        "max_count": 5,
    }
    offline_page = research_query(
        tiktok,
        token,
        body,
        fields="id,video_description,create_time,region_code,share_count,view_count,"
        "like_count,comment_count,music_id,hashtag_names,username",
    ).content
    real_tables, _ = _tables(real_page, hashtag="cats")
    offline_tables, batch = _tables(offline_page, hashtag="valet2026")
    assert offline_tables == real_tables and not batch.rejects
    real_video = json.loads(real_page)["data"]["videos"][0]
    assert set(real_video) <= set(json.loads(offline_page)["data"]["videos"][0])
    assert set(json.loads(real_page)) == set(json.loads(offline_page)) == {"data", "error"}

    real_user_info = (research / "traktok_example_resp_q_user.json").read_bytes()
    offline_user = httpx.post(
        tiktok.base_url + "/v2/research/user/info/?fields=" + ",".join(json.loads(real_user_info)["data"]),
        json={"username": author.unique_id},
        headers={"Authorization": f"Bearer {token}"},
    ).content
    request = {"json": {"username": author.unique_id}}
    assert _tables(offline_user, request=request)[0] == _tables(real_user_info, request=request)[0] == {"authors", "author_stats"}
    assert set(json.loads(offline_user)["data"]) == set(json.loads(real_user_info)["data"])
