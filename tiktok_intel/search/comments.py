"""Comment search (``search "fejk" --in comments``): the comments holding every word of a query,
ranked from the comments' text index (:func:`~.text.search_comment_index`: BM25, the Swedish
stemmer, kept current by :func:`~.text.refresh_index`)."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd

from . import text

#: Where ``search --in`` looks besides the post index (the CLI's choices: one tuple).
SEARCH_IN: tuple[str, ...] = ("comments",)
#: The columns of a comment search's table.
COLUMNS = ["comment_id", "post_id", "author", "text", "likes", "created_at", "url"]


def search_comments(
    con: duckdb.DuckDBPyConnection | None, query: str, *, limit: int = 20, refresh: bool = True, path: Path | None = None
) -> pd.DataFrame:
    """Comments holding every word of ``query`` (stemmed: ``flicka`` finds "Flickorna"), best match
    first: ``comment_id, post_id, author, text, likes, created_at, url`` (the post's link). ``con``
    (writable, with ``refresh``) brings the index up to date first; None searches what is indexed.
    ``path``: the comment index (default :func:`~.text.comment_index_dir`)."""
    hits = text.search_comment_index(con, query, limit=limit, refresh=refresh, path=path)
    df = pd.DataFrame(hits, columns=COLUMNS)
    df["likes"] = df["likes"].astype("Int64")
    df["created_at"] = pd.to_datetime(df["created_at"])
    return df
