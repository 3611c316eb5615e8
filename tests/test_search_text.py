"""Text search: ranking, filters, Swedish matching, hostile queries, and an index that follows ingest."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from tiktok_intel.imports import import_paths
from tiktok_intel.ingest import ingest_batch
from tiktok_intel.parsing import Batch
from tiktok_intel.search import QueryError, refresh_index, search_text
from tiktok_intel.search import text as text_module

T0 = dt.datetime(2026, 11, 1, 8, 0)


def add_posts(con, posts, *, collected_at=T0, feed=None):
    """Ingest posts given as dicts: post_id, author, description, created_at, views, hashtags."""
    batch = Batch()
    for n, p in enumerate(posts):
        author = p.get("author", "user")
        batch.add(
            "authors",
            author_id=f"id-{author}",
            unique_id=author,
            nickname=p.get("nickname", author.title()),
            first_seen_at=collected_at,
            last_seen_at=collected_at,
        )
        batch.add(
            "posts",
            post_id=p["post_id"],
            author_id=f"id-{author}",
            author_unique_id=author,
            description=p.get("description", ""),
            created_at=p.get("created_at", T0),
            views=p.get("views", 0),
            url=f"https://www.tiktok.com/@{author}/video/{p['post_id']}",
            first_seen_at=collected_at,
            last_seen_at=collected_at,
        )
        for tag in p.get("hashtags", ()):
            batch.add("post_hashtags", post_id=p["post_id"], hashtag=tag)
        if feed:
            batch.add("feed_appearances", hashtag=feed, post_id=p["post_id"], collected_at=collected_at, rank=n, run_id="test")
    batch.items_read = batch.items_ok = len(posts)
    return ingest_batch(con, batch)


CORPUS = [
    {
        "post_id": "1001",
        "author": "svtnyheter",
        "description": "Valet 2026: så röstade Sverige #val2026",
        "created_at": dt.datetime(2026, 9, 13),
        "views": 50_000,
        "hashtags": ["val2026", "svtnyheter"],
    },
    {
        "post_id": "1002",
        "author": "anna_s",
        "description": "Flickorna åkte till Göteborg för valvakan",
        "created_at": dt.datetime(2026, 9, 14),
        "views": 1_200,
        "hashtags": ["göteborg"],
    },
    {
        "post_id": "1003",
        "author": "kalle",
        "description": "En flicka i ÖSTERSUND dansar",
        "created_at": dt.datetime(2026, 10, 1),
        "views": 300,
        "hashtags": ["dans"],
    },
    {
        "post_id": "1004",
        "author": "kalle",
        "description": "Valet valet valet! Valet är här, valet nu",
        "created_at": dt.datetime(2026, 10, 2),
        "views": 90,
        "hashtags": [],
    },
    {
        "post_id": "1005",
        "author": "mia",
        "description": "Recept: kanelbullar 100% smör, inga_understreck",
        "created_at": dt.datetime(2026, 10, 5),
        "views": 7_000,
        "hashtags": ["fika"],
    },
    {"post_id": "1006", "author": "lyssnare", "description": "Jag hör dig", "created_at": dt.datetime(2026, 10, 6), "views": 10},
]


@pytest.fixture
def corpus(con):
    add_posts(con, CORPUS)
    assert refresh_index(con) == len(CORPUS)
    return con


def ids(hits):
    return [h.post_id for h in hits]


def test_ranking_puts_the_denser_match_first_and_hits_carry_links(corpus):
    hits = search_text(corpus, "valet")
    assert set(ids(hits)) == {"1001", "1004"}
    assert ids(hits)[0] == "1004"  # "valet" five times in a short text
    assert hits[0].score >= hits[1].score > 0
    assert hits[0].url == "https://www.tiktok.com/@kalle/video/1004"
    assert hits[0].description.startswith("Valet valet")


def test_every_word_is_required(corpus):
    assert ids(search_text(corpus, "valet sverige")) == ["1001"]
    assert search_text(corpus, "valet kanelbullar") == []


def test_swedish_case_folding_and_letters(corpus):
    assert ids(search_text(corpus, "östersund")) == ["1003"]
    assert ids(search_text(corpus, "ÖSTERSUND")) == ["1003"]
    assert ids(search_text(corpus, "GÖTEBORG")) == ["1002"]
    assert ids(search_text(corpus, "hör")) == ["1006"]
    assert search_text(corpus, "hor") == []  # ö is a letter of its own, not o
    assert search_text(corpus, "goteborg") == []


def test_swedish_stemming(corpus):
    assert set(ids(search_text(corpus, "flicka"))) == {"1002", "1003"}  # Flickorna, flicka
    assert set(ids(search_text(corpus, "röstar"))) == {"1001"}  # röstade


def test_hashtags_and_author_names_are_searchable(corpus):
    assert ids(search_text(corpus, "fika")) == ["1005"]  # only in its hashtags
    assert "1001" in ids(search_text(corpus, "svtnyheter"))  # author and hashtag
    assert ids(search_text(corpus, "mia")) == ["1005"]


def test_filters(corpus):
    assert ids(search_text(corpus, "valet", min_views=1_000)) == ["1001"]
    assert ids(search_text(corpus, "valet", author="@Kalle")) == ["1004"]
    assert ids(search_text(corpus, "valet", author="id-kalle")) == ["1004"]
    assert ids(search_text(corpus, "valet", since="2026-10-01")) == ["1004"]
    assert ids(search_text(corpus, "valet", until="2026-09-13")) == ["1001"]  # until is inclusive of that day
    assert ids(search_text(corpus, "valet", since=dt.date(2026, 9, 14), until="2026-10-01")) == []
    assert ids(search_text(corpus, "", hashtag="#Göteborg")) == ["1002"]
    # without words: the filtered posts, newest first
    assert ids(search_text(corpus, "", author="kalle")) == ["1004", "1003"]
    assert ids(search_text(corpus, "valet", limit=1)) == ["1004"]


def test_tracked_hashtag_filter_uses_the_feed_a_post_came_from(con):
    add_posts(con, [{"post_id": "2001", "author": "x", "description": "nyheter om valet"}], feed="svtnyheter")
    add_posts(con, [{"post_id": "2002", "author": "y", "description": "nyheter om valet"}], feed="fotboll")
    assert ids(search_text(con, "valet", hashtag="svtnyheter")) == ["2001"]
    assert ids(search_text(con, "valet", hashtag="fotboll")) == ["2002"]


@pytest.mark.parametrize("hostile", ["'; DROP TABLE posts; --", "%", "_", "100%", '" OR 1=1 --', "title:(x AND", "*", "\\", "[1 TO 2]"])
def test_sql_and_query_syntax_in_user_text_is_only_text(corpus, hostile):
    try:
        hits = search_text(corpus, hostile)
    except QueryError as exc:
        assert "no words" in str(exc)
        hits = []
    assert corpus.execute("SELECT count(*) FROM posts").fetchone()[0] == len(CORPUS)
    if hostile == "100%":
        assert ids(hits) == ["1005"]  # the word 100, the % ignored
    if hostile in {"%", "_"}:
        assert hits == []  # never "match everything" like an unescaped LIKE


def test_drop_table_words_are_searched_as_words(con):
    add_posts(con, [{"post_id": "3001", "description": "Lärare: drop table posts är ett klassiskt skämt"}])
    assert ids(search_text(con, "'; DROP TABLE posts; --")) == ["3001"]
    assert con.execute("SELECT count(*) FROM posts").fetchone()[0] == 1


def test_phrases(corpus):
    assert ids(search_text(corpus, '"till göteborg"')) == ["1002"]
    assert search_text(corpus, '"göteborg till"') == []


def test_bad_input_gives_one_line_errors(corpus):
    for kwargs, needle in [
        ({"query": ""}, "nothing to search"),
        ({"query": "x", "since": "igår"}, "YYYY-MM-DD"),
        ({"query": "x", "limit": 0}, "--limit"),
        ({"query": "x", "min_views": -1}, "--min-views"),
        ({"query": "x", "since": "2026-10-02", "until": "2026-10-01"}, "swap"),
    ]:
        with pytest.raises(QueryError) as info:
            search_text(corpus, **kwargs)
        assert needle in str(info.value) and "\n" not in str(info.value)


def test_index_follows_ingest_incrementally(corpus, monkeypatch):
    assert refresh_index(corpus) == 0  # nothing changed: nothing indexed
    add_posts(
        corpus,
        [{"post_id": "1007", "author": "ny", "description": "Nytt inlägg om valet i Malmö"}],
        collected_at=T0 + dt.timedelta(hours=1),
    )
    indexed = []
    real = text_module._document
    monkeypatch.setattr(text_module, "_document", lambda row: indexed.append(row[0]) or real(row))
    assert ids(search_text(corpus, "malmö")) == ["1007"]  # search refreshes first
    assert indexed == ["1007"]  # only the new post
    # an update of an existing post (more views, edited text) is re-indexed too
    add_posts(
        corpus, [{**CORPUS[2], "description": "En flicka i Östersund sjunger", "views": 5_000}], collected_at=T0 + dt.timedelta(hours=2)
    )
    assert refresh_index(corpus) == 1
    assert ids(search_text(corpus, "sjunger", min_views=4_000)) == ["1003"]
    assert search_text(corpus, "dansar") == []
    # posts removed from the store leave the index
    corpus.execute("DELETE FROM post_hashtags WHERE post_id = '1005'")
    corpus.execute("DELETE FROM posts WHERE post_id = '1005'")
    assert refresh_index(corpus) == 1
    assert search_text(corpus, "kanelbullar") == []


def test_import_of_files_is_searchable(con, tmp_path):
    item = {
        "id": "7300000000000000001",
        "desc": "Demonstration på Sergels torg #stockholm",
        "createTime": 1790000000,
        "author": {"id": "55", "uniqueId": "reporter_se", "nickname": "Reporter"},
        "stats": {"playCount": 4200, "diggCount": 10, "commentCount": 1, "shareCount": 0},
        "challenges": [{"id": "1", "title": "stockholm"}],
    }
    path = tmp_path / "items.json"
    path.write_text(json.dumps({"itemList": [item], "hasMore": False}), encoding="utf-8")
    stats = import_paths(con, [path])
    assert stats.items_ingested == 1, stats.summary()
    hits = search_text(con, "sergels torg")
    assert ids(hits) == ["7300000000000000001"]
    assert hits[0].url.endswith("/video/7300000000000000001") and hits[0].views == 4200


def test_a_lost_index_folder_is_rebuilt(corpus, workspace):
    import shutil

    shutil.rmtree(text_module.index_dir())
    assert refresh_index(corpus) == len(CORPUS)
    assert ids(search_text(corpus, "kanelbullar")) == ["1005"]


def test_read_only_connection_searches_what_is_indexed(corpus, workspace):
    from tiktok_intel.store import open_db

    add_posts(corpus, [{"post_id": "1008", "description": "ännu inte indexerad"}], collected_at=T0 + dt.timedelta(hours=3))
    corpus.close()
    ro = open_db(workspace.db_target, read_only=True)
    try:
        assert ids(search_text(ro, "kanelbullar")) == ["1005"]
        assert search_text(ro, "indexerad") == []  # not refreshed: a reader cannot record the refresh
    finally:
        ro.close()
