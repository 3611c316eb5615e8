"""Ranked full-text search over posts: descriptions, hashtags, author names and the words in their images.

The engine is `tantivy <https://github.com/quickwit-oss/tantivy-py>`_ (BM25), chosen on measurements
(``docs/search.md``): over 1,000,000 posts a query takes about a millisecond, where DuckDB's fts
extension took 62 ms. The index lives in ``<workspace>/search/text-index/``; DuckDB stays the truth:

* ``search_index_docs`` holds, per indexed post, a hash of everything indexed for it;
* :func:`refresh_index` first compares a cheap fingerprint of the source tables with the one of the
  last refresh (nothing changed: it returns at once), then re-indexes only the posts whose hash
  differs and removes the posts that are gone. A missing or foreign index folder is rebuilt.

Text is tokenised on letters and digits, lower-cased (Å Ä Ö included) and reduced with the Snowball
Swedish stemmer, so ``flicka`` finds ``Flickorna`` and ``val`` finds ``Valet``. Letters are not
folded to ASCII: in Swedish ``ö`` is not ``o`` (``hör`` / ``hor``).

User text never reaches a query language: the words are extracted (``"quoted phrases"`` kept)
and every word is required, so ``'; DROP TABLE posts; --`` is a search for the words drop, table,
posts.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import shutil
import threading
import uuid
from pathlib import Path
from typing import Any

import duckdb

from .. import clock
from ..conventions import author_sql, post_url_sql
from ..conventions import hashtag as hashtag_name
from ..settings import get_settings
from .errors import IndexBusyError, QueryError, SearchError

#: Bump when the index's fields or analysis change: the index is then rebuilt on the next refresh.
LAYOUT = "1"
TOKENIZER = "sv_stem"
#: Fields searched by words, with their BM25 boosts.
TEXT_FIELDS = {"description": 1.0, "hashtags": 1.0, "author": 1.5, "ocr": 0.8}
_ID_FILE = "tiktok-intel-index-id"
_U64_MAX = 2**64 - 1
_WRITER_HEAP = 100_000_000

_lock = threading.Lock()
_open: dict[str, Any] = {}


@dataclasses.dataclass(frozen=True)
class TextHit:
    post_id: str
    url: str
    score: float
    description: str
    author: str | None
    created_at: dt.datetime | None
    views: int | None

    def as_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["created_at"] = self.created_at.isoformat() if self.created_at else None
        return data


def index_dir(workspace: Path | None = None) -> Path:
    """``<workspace>/search/text-index`` (default: the process settings' workspace)."""
    return (Path(workspace) if workspace is not None else get_settings().workspace_path) / "search" / "text-index"


def index_exists(path: Path | None = None) -> bool:
    """Whether a text index has been built at ``path`` (default :func:`index_dir`)."""
    return (Path(path) if path is not None else index_dir()).joinpath(_ID_FILE).is_file()


def _reason(exc: BaseException) -> str:
    """The OS's words for why an index file could not be used, on one line."""
    text = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
    os_words = re.search(r'message: "([^"]+)"', text)  # tantivy's: IoError(Os { code: 30, ..., message: "Read-only file system" })
    text = os_words.group(1) if os_words else text.splitlines()[0].removeprefix("Internal error: ").strip("'\" ")
    return text[:200]


def _cannot_write(path: Path, exc: BaseException) -> SearchError:
    return SearchError(
        f"cannot write the search index in {path} ({_reason(exc)}): free space on its disk or make the folder writable, "
        "then run `tiktok-intel media` to bring the index up to date (what the store holds is not affected)"
    )


def _cannot_read(path: Path, exc: BaseException) -> SearchError:
    return SearchError(
        f"cannot read the search index in {path} ({_reason(exc)}): free space on its disk or make the folder writable "
        "(searching keeps a lock file there), then run again"
    )


# ---------------------------------------------------------------------------------------------- index


def _tantivy():
    import tantivy

    return tantivy


def _schema():
    tantivy = _tantivy()
    sb = tantivy.SchemaBuilder()
    sb.add_text_field("post_id", stored=True, tokenizer_name="raw")
    for name in TEXT_FIELDS:
        sb.add_text_field(name, stored=False, tokenizer_name=TOKENIZER)
    sb.add_text_field("tag", stored=False, tokenizer_name="raw")  # hashtags and tracked feeds, normalised
    sb.add_text_field("author_key", stored=False, tokenizer_name="raw")  # lower-case unique id and numeric id
    sb.add_date_field("created_at", stored=True, indexed=True, fast=True)
    sb.add_unsigned_field("views", stored=True, indexed=True, fast=True)
    sb.add_text_field("description_stored", stored=True, tokenizer_name="raw", index_option="basic")
    sb.add_text_field("url", stored=True, tokenizer_name="raw", index_option="basic")
    sb.add_text_field("author_name", stored=True, tokenizer_name="raw", index_option="basic")
    return sb.build()


def _register(index) -> None:
    tantivy = _tantivy()
    analyzer = (
        tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple())
        .filter(tantivy.Filter.remove_long(80))
        .filter(tantivy.Filter.lowercase())
        .filter(tantivy.Filter.stemmer("swedish"))
        .build()
    )
    index.register_tokenizer(TOKENIZER, analyzer)


def _open_index(path: Path, *, create: bool = False):
    key = str(path.resolve())
    with _lock:
        cached = _open.get(key)
        if cached is not None and (path / _ID_FILE).is_file() and cached[1] == (path / _ID_FILE).read_text():
            return cached[0]
        tantivy = _tantivy()
        if create:
            if path.exists():
                shutil.rmtree(path)
            path.mkdir(parents=True)
            index = tantivy.Index(_schema(), path=str(path))
            (path / _ID_FILE).write_text(uuid.uuid4().hex)
        else:
            if not (path / _ID_FILE).is_file():
                raise SearchError(f"no search index at {path}: run `tiktok-intel media` (or search.refresh_index) to build it")
            index = tantivy.Index.open(str(path))
        _register(index)
        _open[key] = (index, (path / _ID_FILE).read_text())
        return index


def _writer(index):
    try:
        return index.writer(heap_size=_WRITER_HEAP, num_threads=1)
    except ValueError as exc:
        if "lock" in str(exc).lower():
            raise IndexBusyError("another process is updating the search index: wait for it to finish and run again") from None
        raise


def _state(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    return dict(con.execute("SELECT name, value FROM search_index_state").fetchall())


def _set_state(con: duckdb.DuckDBPyConnection, **values: str) -> None:
    now = clock.now()
    for name, value in values.items():
        con.execute("DELETE FROM search_index_state WHERE name = ?", [name])  # no INSERT OR REPLACE: DuckLake has no keys
        con.execute("INSERT INTO search_index_state VALUES (?, ?, ?)", [name, value, now])


_FINGERPRINT_SQL = """
SELECT concat_ws('|',
  (SELECT count(*) || ':' || coalesce(sum(hash(post_id, description, author_id, author_unique_id, created_at, views, url)), 0) FROM posts),
  (SELECT count(*) || ':' || coalesce(sum(hash(author_id, unique_id, nickname)), 0) FROM authors),
  (SELECT count(*) FROM post_hashtags),
  (SELECT count(*) || ':' || coalesce(max(collected_at)::VARCHAR, '') FROM feed_appearances),
  (SELECT count(*) || ':' || coalesce(max(ocr_at)::VARCHAR, '') FROM ocr_text))
"""

# One row per post with everything that is indexed; ``doc_hash`` changes when any of it does.
_DOCS_SQL = f"""
CREATE OR REPLACE TEMP TABLE _search_docs AS
WITH tags AS (
  SELECT post_id, string_agg(DISTINCT hashtag, ' ' ORDER BY hashtag) AS hashtags FROM post_hashtags GROUP BY post_id
), feeds AS (
  SELECT post_id, string_agg(DISTINCT hashtag, ' ' ORDER BY hashtag) AS feeds FROM feed_appearances GROUP BY post_id
), ocr AS (
  SELECT post_id, string_agg(text, chr(10) ORDER BY kind, seq) AS ocr FROM ocr_text WHERE coalesce(text, '') <> '' GROUP BY post_id
), docs AS (
  SELECT p.post_id,
         coalesce(p.description, '') AS description,
         {author_sql()} AS unique_id,
         a.nickname,
         p.author_id,
         p.created_at,
         p.views,
         {post_url_sql()} AS url,
         coalesce(tags.hashtags, '') AS hashtags,
         coalesce(feeds.feeds, '') AS feeds,
         coalesce(ocr.ocr, '') AS ocr
  FROM posts p
  LEFT JOIN authors a ON a.author_id = p.author_id
  LEFT JOIN tags ON tags.post_id = p.post_id
  LEFT JOIN feeds ON feeds.post_id = p.post_id
  LEFT JOIN ocr ON ocr.post_id = p.post_id
)
SELECT *, hash(post_id, description, unique_id, nickname, author_id, created_at, views, url, hashtags, feeds, ocr) AS doc_hash
FROM docs
"""


def _document(row: tuple):
    tantivy = _tantivy()
    post_id, description, unique_id, nickname, author_id, created_at, views, url, hashtags, feeds, ocr = row
    doc = tantivy.Document()
    doc.add_text("post_id", post_id)
    doc.add_text("description", description)
    doc.add_text("description_stored", description)
    doc.add_text("hashtags", hashtags)
    doc.add_text("author", " ".join(x for x in (unique_id, nickname) if x))
    doc.add_text("ocr", ocr)
    for tag in set(hashtags.split()) | set(feeds.split()):
        doc.add_text("tag", tag)
    for key in {(unique_id or "").lower(), author_id or ""} - {""}:
        doc.add_text("author_key", key)
    if created_at is not None:
        doc.add_date("created_at", created_at)
    if views is not None:
        doc.add_unsigned("views", max(int(views), 0))
    doc.add_text("url", url)
    if unique_id:
        doc.add_text("author_name", unique_id)
    return doc


def refresh_index(con: duckdb.DuckDBPyConnection, *, path: Path | None = None, rebuild: bool = False) -> int:
    """Bring the text index in step with the store; returns the number of posts (re-)indexed or removed.

    Call it after every ingest (and after OCR): when nothing changed it costs a few aggregate
    queries. ``rebuild=True`` (or a missing / foreign index folder) indexes everything again.
    """
    path = Path(path) if path is not None else index_dir()
    state = _state(con)
    stored_id = (path / _ID_FILE).read_text() if (path / _ID_FILE).is_file() else None
    rebuild = rebuild or stored_id is None or state.get("index_id") != stored_id or state.get("layout") != LAYOUT
    fingerprint = con.execute(_FINGERPRINT_SQL).fetchone()[0]
    if not rebuild and state.get("fingerprint") == fingerprint:
        return 0

    if rebuild:
        con.execute("DELETE FROM search_index_docs")  # fails first on a read-only connection
    try:
        index = _open_index(path, create=rebuild)
    except (OSError, ValueError) as exc:  # a full disk, an unwritable folder
        raise _cannot_write(path, exc) from None
    con.execute(_DOCS_SQL)
    try:
        gone = [
            r[0]
            for r in con.execute(
                "SELECT post_id FROM search_index_docs d WHERE NOT EXISTS (SELECT 1 FROM _search_docs s WHERE s.post_id = d.post_id)"
            ).fetchall()
        ]
        con.execute("""CREATE OR REPLACE TEMP TABLE _search_changed AS
                       SELECT s.* FROM _search_docs s LEFT JOIN search_index_docs d ON d.post_id = s.post_id
                       WHERE d.doc_hash IS DISTINCT FROM s.doc_hash""")
        changed = con.execute("SELECT count(*) FROM _search_changed").fetchone()[0]
        if changed or gone:
            writer = _writer(index)
            try:
                existing = not rebuild
                for post_id in gone:
                    writer.delete_documents_by_term("post_id", post_id)
                result = con.execute("SELECT * EXCLUDE (doc_hash) FROM _search_changed")
                while rows := result.fetchmany(20_000):  # fetched to the end: no other statement meanwhile
                    for row in rows:
                        if existing:
                            writer.delete_documents_by_term("post_id", row[0])
                        writer.add_document(_document(row))
                writer.commit()
                writer.wait_merging_threads()
            except BaseException as exc:
                try:
                    writer.rollback()
                except Exception:  # noqa: BLE001 - rolling back after a failure: the failure is what is raised
                    pass
                if isinstance(exc, (OSError, ValueError)):  # tantivy's I/O errors are ValueErrors: a full disk
                    raise _cannot_write(path, exc) from None
                raise
            try:
                index.reload()
            except ValueError as exc:
                raise _cannot_write(path, exc) from None
        now = clock.now()
        con.execute("BEGIN TRANSACTION")
        try:
            if gone:
                con.execute("DELETE FROM search_index_docs WHERE post_id IN (SELECT unnest(?))", [gone])
            con.execute("DELETE FROM search_index_docs WHERE post_id IN (SELECT post_id FROM _search_changed)")
            con.execute("INSERT INTO search_index_docs SELECT post_id, doc_hash, ? FROM _search_changed", [now])
            _set_state(con, index_id=(path / _ID_FILE).read_text(), layout=LAYOUT, fingerprint=fingerprint)
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
    finally:
        con.execute("DROP TABLE IF EXISTS _search_docs")
        con.execute("DROP TABLE IF EXISTS _search_changed")
    return changed + len(gone)


# --------------------------------------------------------------------------------------------- search

_PHRASE = re.compile(r'"([^"]*)"')
_WORD = re.compile(r"[^\W_]+")


def query_terms(text: str) -> tuple[list[str], list[list[str]]]:
    """The words and the ``"quoted phrases"`` of a user's query, lower-cased; everything else dropped."""
    phrases = [[w.lower() for w in _WORD.findall(p)] for p in _PHRASE.findall(text)]
    words = [w.lower() for w in _WORD.findall(_PHRASE.sub(" ", text))]
    return words, [p for p in phrases if p]


def _as_time(value: Any, name: str, *, end: bool) -> dt.datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return clock.to_utc(value)
    if isinstance(value, dt.date):
        day = dt.datetime(value.year, value.month, value.day)
        return day + dt.timedelta(days=1) if end else day
    text = str(value).strip()
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            return _as_time(dt.date.fromisoformat(text), name, end=end)
        return clock.parse_time(text)
    except ValueError:
        raise QueryError(f"{name} {text!r} is not a date: use YYYY-MM-DD (or an ISO time such as 2026-11-24T08:00)") from None


def _read_only(con: duckdb.DuckDBPyConnection) -> bool:
    return con.execute("SELECT current_setting('access_mode')").fetchone()[0] == "read_only"


def search_text(
    con: duckdb.DuckDBPyConnection | None,
    query: str = "",
    *,
    hashtag: str | None = None,
    since: Any = None,
    until: Any = None,
    author: str | None = None,
    min_views: int | None = None,
    limit: int = 20,
    refresh: bool = True,
    path: Path | None = None,
) -> list[TextHit]:
    """Posts matching every word of ``query`` (BM25, best first), filtered.

    ``hashtag``: posts carrying it or collected from its feed (``#`` optional). ``since`` / ``until``:
    creation dates, inclusive (``date``, ``datetime`` or ``'YYYY-MM-DD'``). ``author``: unique id
    (``@`` optional, any case) or numeric id. ``min_views``: at least this many views. An empty
    query with filters lists the matching posts, newest first. With ``refresh`` and a writable
    ``con``, the index is brought up to date first.
    """
    tantivy = _tantivy()
    if limit is None or int(limit) < 1:
        raise QueryError(f"--limit must be at least 1 (got {limit})")
    if min_views is not None and int(min_views) < 0:
        raise QueryError(f"--min-views must be 0 or more (got {min_views})")
    words, phrases = query_terms(query or "")
    start, end = _as_time(since, "--since", end=False), _as_time(until, "--until", end=True)
    if start and end and start >= end:
        raise QueryError("--since is after --until: swap them")
    tag = hashtag_name(hashtag)
    who = (author or "").strip().lstrip("@").lower() or None
    if not words and not phrases and not any(x is not None for x in (tag, who, start, end, min_views)):
        if (query or "").strip():
            raise QueryError(f"the query {query!r} has no words in it: search for words, #hashtags or author names")
        raise QueryError("nothing to search for: give words, or at least one filter (--hashtag, --author, --since, ...)")

    path = Path(path) if path is not None else index_dir()
    if con is not None and refresh and not _read_only(con):  # a writer's connection; a reader searches what is indexed
        refresh_index(con, path=path)
    try:
        index = _open_index(path)
        index.reload()
    except (OSError, ValueError) as exc:
        raise _cannot_read(path, exc) from None
    schema = index.schema
    clauses = []
    if words or phrases:
        text = " ".join([f"+{w}" for w in words] + ['+"' + " ".join(p) + '"' for p in phrases])
        clauses.append((tantivy.Occur.Must, index.parse_query(text, list(TEXT_FIELDS), field_boosts=TEXT_FIELDS)))
    if tag:
        clauses.append((tantivy.Occur.Must, tantivy.Query.term_query(schema, "tag", tag)))
    if who:
        clauses.append((tantivy.Occur.Must, tantivy.Query.term_query(schema, "author_key", who)))
    if start or end:
        clauses.append(
            (tantivy.Occur.Must, tantivy.Query.range_query(schema, "created_at", tantivy.FieldType.Date, start, end, True, end is None))
        )
    if min_views is not None:  # views are unsigned 64-bit: a larger minimum matches nothing, as it should
        clauses.append(
            (
                tantivy.Occur.Must,
                tantivy.Query.range_query(schema, "views", tantivy.FieldType.Unsigned, min(int(min_views), _U64_MAX), None, True, True),
            )
        )
    q = clauses[0][1] if len(clauses) == 1 else tantivy.Query.boolean_query(clauses)
    try:
        return _hits(index, q, limit, scored=bool(words or phrases))
    except (OSError, ValueError) as exc:  # a segment file gone or unreadable
        raise _cannot_read(path, exc) from None


def _hits(index: Any, q: Any, limit: int, *, scored: bool) -> list[TextHit]:
    tantivy = _tantivy()
    searcher = index.searcher()
    top = max(1, min(int(limit), searcher.num_docs))  # tantivy reserves room for ``limit`` hits: a huge one aborts the process
    if scored:
        result = searcher.search(q, top, count=False)
    else:
        result = searcher.search(q, top, count=False, order_by_field="created_at", order=tantivy.Order.Desc)
    hits = []
    for key, address in result.hits:
        doc = searcher.doc(address)
        created = doc.get_first("created_at")
        views = doc.get_first("views")
        hits.append(
            TextHit(
                post_id=doc.get_first("post_id"),
                url=doc.get_first("url"),
                score=round(float(key), 4) if scored else 0.0,
                description=doc.get_first("description_stored") or "",
                author=doc.get_first("author_name"),
                created_at=created.replace(tzinfo=None) if isinstance(created, dt.datetime) else None,
                views=int(views) if views is not None else None,
            )
        )
    return hits


def ilike_baseline(con: duckdb.DuckDBPyConnection, query: str, limit: int = 20) -> list[str]:
    """The naive baseline the benchmark compares with: every word as an ``ILIKE`` over descriptions, unranked."""
    words, phrases = query_terms(query)
    terms = words + [" ".join(p) for p in phrases]
    if not terms:
        return []
    where = " AND ".join(["description ILIKE ? ESCAPE '\\'"] * len(terms))
    params: list[Any] = ["%" + t.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%" for t in terms]
    return [r[0] for r in con.execute(f"SELECT post_id FROM posts WHERE {where} LIMIT ?", [*params, limit]).fetchall()]
