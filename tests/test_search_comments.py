"""Comment search (``search --in comments``): ranked from the comments' text index, stemmed, kept
current incrementally, with the user's text never reaching a query language."""

from __future__ import annotations

import datetime as dt

import pytest
from test_search_text import T0, add_posts

from tiktok_intel.search import QueryError, refresh_index
from tiktok_intel.search import text as text_module
from tiktok_intel.search.comments import COLUMNS, search_comments

POSTS = [
    {"post_id": "2001", "author": "anna_s", "description": "Valvakan"},
    {"post_id": "2002", "author": "kalle", "description": "Dans"},
]
COMMENTS = [  # comment_id, post_id, author, text, likes
    ("c1", "2001", "olle", "Flickorna ljuger, fejk!", 5),
    ("c2", "2001", "stina", "fejk fejk fejk", 1),
    ("c3", "2002", "bo", "Helt sant", 100),
    ("c4", "2002", "eva", "drop table comments", 2),
    ("c5", "2002", "eva", "", 9),  # no words: not indexed
]


def add_comments(con, rows, at=T0):
    for comment_id, post_id, author, text, likes in rows:
        con.execute(
            "INSERT INTO comments (comment_id, post_id, author_unique_id, text, likes, created_at, first_seen_at, last_seen_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [comment_id, post_id, author, text, likes, at, at, at],
        )


def ids(df):
    return list(df["comment_id"])


@pytest.fixture
def talk(con):
    add_posts(con, POSTS)
    add_comments(con, COMMENTS)
    refresh_index(con)
    return con


def test_comments_come_ranked_from_the_index_with_the_columns_and_stems(talk):
    found = search_comments(talk, "flicka")  # "Flickorna": the Swedish stemmer
    assert list(found.columns) == COLUMNS and ids(found) == ["c1"]
    row = found.iloc[0]
    assert (row.post_id, row.author, row.text, row.likes) == ("2001", "olle", "Flickorna ljuger, fejk!", 5)
    assert row.created_at == T0 and row.url == "https://www.tiktok.com/@anna_s/video/2001"
    fejk = search_comments(talk, "FEJK")
    # both hold the word; three times in three words ranks above once in three (BM25), likes notwithstanding
    assert ids(fejk) == ["c2", "c1"]
    assert ids(search_comments(talk, '"ljuger fejk"')) == ["c1"] and search_comments(talk, '"fejk ljuger"').empty
    assert ids(search_comments(talk, "flicka fejk")) == ["c1"]  # every word required
    assert search_comments(talk, "sant flicka").empty
    assert ids(search_comments(talk, "fejk", limit=1)) == ["c2"]


def test_the_users_text_never_reaches_a_query_language(talk):
    assert ids(search_comments(talk, "'; DROP TABLE comments; --")) == ["c4"]  # the words drop, table, comments
    assert search_comments(talk, "fejk OR sant").empty  # OR is a word here, in no comment
    assert search_comments(talk, "text:fejk").empty  # no field syntax: the words text and fejk
    assert talk.execute("SELECT count(*) FROM comments").fetchone()[0] == len(COMMENTS)
    for query in ("", "  ", "+-*:()"):
        with pytest.raises(QueryError):
            search_comments(talk, query)


def test_the_comment_index_follows_the_store_incrementally(talk):
    path = text_module.comment_index_dir()
    assert text_module.refresh_comment_index(talk) == 0  # nothing changed: nothing indexed
    assert talk.execute("SELECT count(*) FROM search_comment_docs").fetchone()[0] == sum(1 for c in COMMENTS if c[3])
    add_comments(talk, [("c6", "2002", "nils", "Flickorna sjunger", 0)], at=T0 + dt.timedelta(hours=1))
    assert text_module.refresh_comment_index(talk) == 1
    assert set(ids(search_comments(talk, "flicka"))) == {"c1", "c6"}
    talk.execute("UPDATE comments SET text = 'Flickor överallt', likes = 7 WHERE comment_id = 'c3'")  # changed
    talk.execute("DELETE FROM comments WHERE comment_id = 'c1'")  # removed
    assert text_module.refresh_comment_index(talk) == 2
    found = search_comments(talk, "flicka")
    assert set(ids(found)) == {"c3", "c6"} and found.set_index("comment_id").loc["c3", "likes"] == 7
    assert search_comments(talk, "sant").empty and search_comments(talk, "ljuger").empty
    # the posts' refresh (after every ingest, `media`) brings the comments' index along
    add_comments(talk, [("c7", "2001", "ida", "flickorna igen", 3)])
    assert refresh_index(talk) == 0  # no post changed
    assert "c7" in ids(search_comments(None, "flicka", path=path))  # read from the index alone
    assert text_module.refresh_comment_index(talk) == 0
    # a post's new link is the comments' too
    talk.execute("UPDATE posts SET url = 'https://www.tiktok.com/@anna_s/video/2001?x=1' WHERE post_id = '2001'")
    assert text_module.refresh_comment_index(talk) == 2  # c2, c7
    assert set(search_comments(talk, "igen")["url"]) == {"https://www.tiktok.com/@anna_s/video/2001?x=1"}
