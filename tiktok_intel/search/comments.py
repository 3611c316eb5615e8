"""Comment search (``search "fejk" --in comments``): the comments holding every word of a query,
read straight from the store's ``comments`` table."""

from __future__ import annotations

import duckdb
import pandas as pd

from ..conventions import post_url_sql
from .errors import QueryError

#: Where ``search --in`` looks besides the post index (the CLI's choices: one tuple).
SEARCH_IN: tuple[str, ...] = ("comments",)


def search_comments(con: duckdb.DuckDBPyConnection, query: str, *, limit: int = 20) -> pd.DataFrame:
    """Comments holding every word of ``query`` (case-insensitive), most liked first:
    ``comment_id, post_id, author, text, likes, created_at, url`` (the post's link)."""
    words = [w for w in (query or "").lower().split() if w]
    if not words:
        raise QueryError('give words to find in comments, e.g. search "fejk" --in comments')
    where = " AND ".join("strpos(lower(c.text), ?) > 0" for _ in words)
    sql = f"""
SELECT c.comment_id, c.post_id, c.author_unique_id AS author, c.text, c.likes, c.created_at, {post_url_sql("p", "c.post_id")} AS url
  FROM comments c LEFT JOIN posts p ON p.post_id = c.post_id LEFT JOIN authors a ON a.author_id = p.author_id
 WHERE {where}
 ORDER BY c.likes DESC NULLS LAST, c.created_at DESC, c.comment_id LIMIT ?"""
    df = con.execute(sql, [*words, max(1, int(limit))]).df()
    df["likes"] = df["likes"].astype("Int64")
    return df
