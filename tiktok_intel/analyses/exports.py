"""Tables leaving the workbench: as CSV or Excel (:func:`frame_for_export`, :func:`to_csv_bytes`,
:func:`to_excel_bytes`), and the Excel export of a selection of posts (:func:`export_selection`).

Every exported cell is made safe to open: lists are joined with ``, ``, secrets removed
(:func:`tiktok_intel.raw.redact`), and text that a spreadsheet would run as a formula is
neutralised with a leading ``'`` (CSV: text starting ``= + - @``, a tab or a carriage return;
Excel files written by openpyxl: text starting ``=``, the one it would store as a formula).
"""

from __future__ import annotations

import dataclasses
import io
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import pandas as pd

from .. import clock
from ..conventions import author_link_sql, author_sql, post_url_sql, published_sql, tracked_item, tracked_label
from ..conventions import hashtag as normalise_hashtag
from ..errors import TikTokIntelError
from ..raw import redact
from ..settings import get_settings
from . import NO_DATA, has_data, hashtags_of, reports, time_range, whole_numbers

if TYPE_CHECKING:
    from ..store import Workspace

#: Most matches an export with a text query takes from the search index.
EXPORT_SEARCH_LIMIT = 10_000
#: What makes a spreadsheet read a text cell as a formula: in a CSV file (any of these first), and
#: in an .xlsx file openpyxl writes (it stores text starting ``=`` as a formula).
CSV_FORMULA = ("=", "+", "-", "@", "\t", "\r")
XLSX_FORMULA = ("=",)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


# ------------------------------------------------------------------------------------ tables as files


def _secrets() -> list[str]:
    try:
        return [s for s in get_settings().secrets() if s]
    except TikTokIntelError:
        return []


def _cell(value: Any, secrets: list[str], formulas: tuple[str, ...]) -> Any:
    if hasattr(value, "tolist") and not isinstance(value, str):
        value = value.tolist()
    if isinstance(value, (list, tuple)):
        value = ", ".join(map(str, value))
    if isinstance(value, str):
        value = redact(value, secrets)
        if value.startswith(formulas):
            value = "'" + value
    return value


def frame_for_export(df: pd.DataFrame, *, formulas: tuple[str, ...] = CSV_FORMULA) -> pd.DataFrame:
    """A copy of ``df`` ready for a spreadsheet: lists joined, secrets removed, text that would
    run as a formula (starting with one of ``formulas``) quoted, times without a time zone: each
    time column (UTC, as stored) followed by the same times in the people's time zone, named
    ``<column> (Europe/Stockholm)`` (:mod:`~tiktok_intel.localtime`)."""
    out = with_local_times(df)
    secrets = _secrets()
    for column in out.columns:
        if out[column].dtype == object or pd.api.types.is_string_dtype(out[column].dtype):  # pandas 3: text is "str", not object
            out[column] = [_cell(v, secrets, formulas) for v in out[column]]
        elif isinstance(out[column].dtype, pd.DatetimeTZDtype):
            out[column] = out[column].dt.tz_localize(None)
    return out


def with_local_times(df: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``df`` with a local-time column after each time column (see :func:`frame_for_export`)."""
    from ..localtime import label, local_frame

    out = df.copy()
    times = [c for c in out.columns if pd.api.types.is_datetime64_any_dtype(out[c].dtype) and not str(c).endswith(")")]
    if not times:
        return out
    local = local_frame(out[times])
    zone = label()
    for column in reversed(times):
        at = list(out.columns).index(column) + 1
        if isinstance(out[column].dtype, pd.DatetimeTZDtype):
            out[column] = out[column].dt.tz_convert("UTC").dt.tz_localize(None)
        out.insert(at, f"{column} ({zone})", local[column])
    return out


def to_csv_bytes(df: pd.DataFrame) -> bytes:
    """The frame as UTF-8 CSV (with a BOM, so Excel shows å ä ö), lists joined with ``, ``."""
    return frame_for_export(df).to_csv(index=False).encode("utf-8-sig")


def to_excel_csv_bytes(df: pd.DataFrame) -> bytes:
    """The frame as a CSV a Swedish Excel opens in columns: ``;`` between fields, decimal commas,
    UTF-8 with a BOM, CRLF line ends, formulas neutralised, times as ``YYYY-MM-DD HH:MM:SS``
    (beside the RFC 4180 CSV of :func:`to_csv_bytes`)."""
    out = frame_for_export(df)
    for column in out.columns:
        if out[column].dtype.kind == "f" or str(out[column].dtype) == "Float64":
            out[column] = [("" if v is None or v != v else format(float(v), ".10g").replace(".", ",")) for v in out[column]]
        elif pd.api.types.is_datetime64_any_dtype(out[column].dtype):
            out[column] = out[column].dt.strftime("%Y-%m-%d %H:%M:%S")
    return out.to_csv(index=False, sep=";", lineterminator="\r\n").encode("utf-8-sig")


def to_excel_bytes(df: pd.DataFrame, sheet: str = "data") -> bytes:
    """The frame as an .xlsx workbook (openpyxl)."""
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        frame_for_export(df, formulas=XLSX_FORMULA).to_excel(writer, sheet_name=sheet[:31] or "data", index=False)
    return buffer.getvalue()


# ------------------------------------------------------------------------------------ a selection of posts


@dataclasses.dataclass
class Export:
    """What :func:`export_selection` wrote (``path`` is None when nothing matched)."""

    path: Path | None
    posts: int
    authors: int
    hashtag: str | None
    since: Any
    until: Any
    query: str
    has_data: bool
    truncated: bool = False

    def selection(self) -> str:
        item = tracked_item(self.hashtag)  # a hashtag, an @account or a "keyword"
        parts = [tracked_label(*item) if item else "all hashtags"]
        if self.since or self.until:
            parts.append(f"published {self.since or '…'} – {self.until or '…'}")
        if self.query:
            parts.append(f"matching {self.query!r}")
        return ", ".join(parts)

    def summary(self) -> str:
        if not self.has_data:
            return NO_DATA
        if self.path is None:
            return f"no posts match ({self.selection()}): nothing exported; widen the dates or drop the query"
        more = f" (the first {self.posts:,} matches)" if self.truncated else ""
        return f"{self.posts:,} posts by {self.authors:,} authors ({self.selection()}){more} -> {self.path}"


def _slug(text: str) -> str:
    return re.sub(r"[^\w.-]+", "-", text, flags=re.UNICODE).strip("-")[:40] or "all"


def _export_path(hashtag: str | None, query: str, workspace: Workspace | None) -> Path:
    root = workspace.root if workspace is not None else get_settings().workspace_path
    folder = root / "exports"
    stem = "-".join(["posts", _slug(hashtag or "all")] + ([_slug(query)] if query else []) + [clock.now().strftime("%Y%m%dT%H%M%S")])
    path, n = folder / f"{stem}.xlsx", 1
    while path.exists():
        n += 1
        path = folder / f"{stem}-{n}.xlsx"
    return path


_EXPORT_POSTS = f"""
SELECT p.post_id, {author_sql()} AS author, a.nickname, p.description,
       {published_sql()} AS published_at, p.views, p.likes, p.comments, p.shares, p.saves,
       {hashtags_of("p.post_id")} AS hashtags,
       {post_url_sql()} AS url, sel.score
FROM {{selection}} sel JOIN posts p ON p.post_id = sel.post_id LEFT JOIN authors a ON a.author_id = p.author_id
ORDER BY sel.score DESC NULLS LAST, p.views DESC NULLS LAST, p.post_id"""
_EXPORT_AUTHORS = f"""
SELECT coalesce(p.author_id, '@' || p.author_unique_id) AS author_id,
       any_value({author_sql()}) AS unique_id, any_value(a.nickname) AS nickname,
       any_value(a.followers) AS followers, any_value(a.hearts) AS hearts, any_value(a.videos) AS videos,
       count(*) AS posts, sum(p.views) AS views, sum(p.likes) AS likes,
       {author_link_sql(f"any_value({author_sql()})")} AS url
FROM {{selection}} sel JOIN posts p ON p.post_id = sel.post_id LEFT JOIN authors a ON a.author_id = p.author_id
WHERE p.author_id IS NOT NULL OR p.author_unique_id IS NOT NULL
GROUP BY 1 ORDER BY views DESC NULLS LAST, posts DESC, author_id"""


def selection(
    con: duckdb.DuckDBPyConnection,
    hashtag: str = "",
    since: Any = "",
    until: Any = "",
    query: str = "",
    *,
    limit: int = EXPORT_SEARCH_LIMIT,
) -> tuple[pd.DataFrame, pd.DataFrame, bool]:
    """``(posts, authors, truncated)`` for the posts under ``hashtag`` (empty: any) published
    from ``since`` to ``until`` (dates, both included; empty: open), matching the text ``query``
    (ranked search over descriptions, hashtags, authors and words in images; at most ``limit``
    matches, ``truncated`` tells when there were that many).

    ``posts``: ``post_id, author, nickname, description, published_at, views, likes, comments,
    shares, saves, hashtags, url`` (best match first with a query, else most viewed first);
    ``authors``: their authors, ``author_id, unique_id, nickname, followers, hearts, videos,
    posts, views, likes, url`` (posts / views / likes: over the selected posts).
    """
    tag = normalise_hashtag(hashtag)
    time_range(since or None, until or None)  # a bad date fails here, before anything is searched
    truncated = False
    if (query or "").strip():
        from ..search import search_text

        hits = search_text(con, query, hashtag=tag, since=since or None, until=until or None, limit=int(limit))
        truncated = len(hits) >= int(limit)
        frame = pd.DataFrame({"post_id": [h.post_id for h in hits], "score": [h.score for h in hits]}, columns=["post_id", "score"]).astype(
            {"post_id": "object", "score": "float64"}
        )
        name = "_briefs_selection"
        con.register(name, frame)
        try:
            posts = con.execute(_EXPORT_POSTS.format(selection=name)).df()
            authors = con.execute(_EXPORT_AUTHORS.format(selection=name)).df()
        finally:
            con.unregister(name)
    else:
        params: list[Any] = []
        where = reports._filters(tag, since or None, until or None, params)
        sub = f"(SELECT p.post_id, NULL::DOUBLE AS score FROM posts p WHERE TRUE{where})"
        posts = con.execute(_EXPORT_POSTS.format(selection=sub), params).df()
        authors = con.execute(_EXPORT_AUTHORS.format(selection=sub), params).df()
    if not (query or "").strip():
        posts = posts.drop(columns=["score"])
    posts = whole_numbers(posts, ("views", "likes", "comments", "shares", "saves"))
    authors = whole_numbers(authors, ("followers", "hearts", "videos", "posts", "views", "likes"))
    return posts, authors, truncated


def _write_xlsx(path: Path, sheets: dict[str, pd.DataFrame]) -> None:
    from openpyxl.utils import get_column_letter

    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".part")
    with pd.ExcelWriter(partial, engine="openpyxl") as writer:
        for name, df in sheets.items():
            written = frame_for_export(df, formulas=XLSX_FORMULA)
            written.to_excel(writer, sheet_name=name, index=False)
            sheet = writer.sheets[name]
            if "url" in written.columns:  # clickable links (after the local-time columns frame_for_export adds)
                column = get_column_letter(list(written.columns).index("url") + 1)
                for cell in sheet[column][1:]:
                    if isinstance(cell.value, str) and cell.value.startswith("https://"):
                        cell.hyperlink = cell.value
                        cell.style = "Hyperlink"
            sheet.freeze_panes = "A2"
    partial.replace(path)


def export_selection(
    con: duckdb.DuckDBPyConnection,
    hashtag: str = "",
    since: Any = "",
    until: Any = "",
    query: str = "",
    *,
    path: str | Path | None = None,
    limit: int = EXPORT_SEARCH_LIMIT,
    workspace: Workspace | None = None,
) -> Export:
    """Write the :func:`selection` to an Excel file: a ``posts`` sheet (with TikTok links) and an
    ``authors`` sheet. ``path`` defaults to ``<workspace>/exports/posts-<hashtag>-<time>.xlsx``
    (``workspace``: default, the configured one).
    Nothing is written when no post matches (the result's ``path`` is None)."""
    tag = normalise_hashtag(hashtag)
    anything = has_data(con)
    if not anything:
        return Export(None, 0, 0, tag, since, until, query or "", has_data=False)
    posts, authors, truncated = selection(con, tag or "", since, until, query, limit=limit)
    if posts.empty:
        return Export(None, 0, 0, tag, since, until, query or "", has_data=True)
    target = Path(path) if path is not None else _export_path(tag, query or "", workspace)
    _write_xlsx(target, {"posts": posts, "authors": authors})
    return Export(target, len(posts), len(authors), tag, since, until, query or "", has_data=True, truncated=truncated)
