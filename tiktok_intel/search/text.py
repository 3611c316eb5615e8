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
import os
import re
import shutil
import threading
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import duckdb

from .. import clock
from ..conventions import author_sql, post_url_sql, tracked_item, tracked_label, tracked_posts_sql
from ..settings import get_settings
from . import where
from .errors import IndexBusyError, QueryError, SearchError

#: Bump when the index's fields or analysis change: the index is then rebuilt on the next refresh.
LAYOUT = "3"  # 2: what is said (transcripts), the stored text that says where a hit matched; 3: documents as JSON
TOKENIZER = "sv_stem"
#: Fields searched by words, with their BM25 boosts.
TEXT_FIELDS = {"description": 1.0, "hashtags": 1.0, "author": 1.5, "ocr": 0.8, "speech": 0.8}
_ID_FILE = "tiktok-intel-index-id"
_U64_MAX = 2**64 - 1
_WRITER_HEAP = 100_000_000
#: A large (re)build: one writer thread a core (at most 4) sharing 400 MB. Measured at 1,000,000
#: posts on 2 cores (bench/README.md): 4 threads of 100 MB took 41 s, most of it merging their many
#: small segments; 2 of 200 MB 25 s. A small refresh uses one thread.
_BUILD_THREADS = max(1, min(4, os.cpu_count() or 1))
_BUILD_HEAP = 400_000_000

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
    matches: tuple = ()  # where it matched (search.where.Match): caption, image text, speech 0:12

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
    sb.add_text_field("ocr_stored", stored=True, tokenizer_name="raw", index_option="basic")  # where a hit matched
    sb.add_text_field("speech_stored", stored=True, tokenizer_name="raw", index_option="basic")  # [[start_s, text], ...]
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


def _open_index(path: Path, *, create: bool = False, schema: Any = None):
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
            index = tantivy.Index((schema or _schema)(), path=str(path))
            (path / _ID_FILE).write_text(uuid.uuid4().hex)
        else:
            if not (path / _ID_FILE).is_file():
                raise SearchError(f"no search index at {path}: run `tiktok-intel media` (or search.refresh_index) to build it")
            index = tantivy.Index.open(str(path))
        _register(index)
        _open[key] = (index, (path / _ID_FILE).read_text())
        return index


def _writer(index, threads: int = 1, heap: int = _WRITER_HEAP):
    try:
        return index.writer(heap_size=heap, num_threads=threads)
    except ValueError as exc:
        if "lock" in str(exc).lower():
            raise IndexBusyError(
                "another process is updating the search index: wait for it to finish and run again", key="err_index_busy"
            ) from None
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
  (SELECT count(*) || ':' || coalesce(max(ocr_at)::VARCHAR, '') FROM ocr_text),
  (SELECT count(*) || ':' || coalesce(max(fetched_at)::VARCHAR, '') FROM transcripts))
"""

# Change detection, per post: a hash of every source column that is indexed (hashes of the side
# tables' rows combined per post, no text aggregated): cheap enough to run over the whole store on
# every refresh, so that only the posts whose hash differs are read in full and re-indexed.
_HASH_SQL = """
CREATE OR REPLACE TEMP TABLE _search_hashes AS
WITH tags AS (
  SELECT post_id, bit_xor(DISTINCT hash(hashtag)) AS h FROM post_hashtags GROUP BY post_id
), feeds AS (
  SELECT post_id, bit_xor(DISTINCT hash(hashtag)) AS h FROM feed_appearances GROUP BY post_id
), ocr AS (
  SELECT post_id, bit_xor(hash(kind, seq, text)) AS h FROM ocr_text WHERE coalesce(text, '') <> '' GROUP BY post_id
), speech AS (
  SELECT post_id, bit_xor(hash(source, language, text, segments::VARCHAR)) AS h FROM transcripts WHERE coalesce(text, '') <> '' GROUP BY post_id
)
SELECT p.post_id,
       hash(p.post_id, p.description, p.author_id, p.author_unique_id, p.created_at, p.views, p.url,
            a.unique_id, a.nickname, tags.h, feeds.h, ocr.h, speech.h) AS doc_hash
FROM posts p
LEFT JOIN authors a ON a.author_id = p.author_id
LEFT JOIN tags ON tags.post_id = p.post_id
LEFT JOIN feeds ON feeds.post_id = p.post_id
LEFT JOIN ocr ON ocr.post_id = p.post_id
LEFT JOIN speech ON speech.post_id = p.post_id
"""

# One row per post to (re-)index (those in ``_search_changed``) with everything that is indexed,
# as the JSON document tantivy parses itself (no Python object per field: that was most of the build).
_DOCS_SQL = f"""
WITH todo AS (SELECT post_id FROM _search_changed),
tags AS (
  SELECT post_id, array_to_string(list_sort(list_distinct(list(hashtag))), ' ') AS hashtags FROM post_hashtags
  WHERE post_id IN (SELECT post_id FROM todo) GROUP BY post_id  -- = string_agg(DISTINCT .. ORDER BY ..), 3x faster
), feeds AS (
  SELECT post_id, array_to_string(list_sort(list_distinct(list(hashtag))), ' ') AS feeds FROM feed_appearances
  WHERE post_id IN (SELECT post_id FROM todo) GROUP BY post_id
), ocr AS (
  SELECT post_id, string_agg(text, chr(10) ORDER BY kind, seq) AS ocr FROM ocr_text
  WHERE coalesce(text, '') <> '' AND post_id IN (SELECT post_id FROM todo) GROUP BY post_id
), speech AS (
  SELECT post_id, string_agg(text, chr(10) ORDER BY source, language) AS speech,
         to_json(flatten(list(coalesce(
           (SELECT list([coalesce(s->>'start_s', 'null'), s->>'text']) FROM unnest(CAST(segments AS JSON[])) AS u(s)),
           [['null', text]]) ORDER BY source, language))) AS speech_segments
  FROM transcripts WHERE coalesce(text, '') <> '' AND post_id IN (SELECT post_id FROM todo) GROUP BY post_id
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
         coalesce(ocr.ocr, '') AS ocr,
         coalesce(speech.speech, '') AS speech,
         coalesce(speech.speech_segments::VARCHAR, '') AS speech_segments
  FROM posts p
  LEFT JOIN authors a ON a.author_id = p.author_id
  LEFT JOIN tags ON tags.post_id = p.post_id
  LEFT JOIN feeds ON feeds.post_id = p.post_id
  LEFT JOIN ocr ON ocr.post_id = p.post_id
  LEFT JOIN speech ON speech.post_id = p.post_id
  WHERE p.post_id IN (SELECT post_id FROM todo)
)
SELECT post_id,
       speech_segments,
       '{{"post_id":' || to_json(post_id)
       || ',"description":' || to_json(description) || ',"description_stored":' || to_json(description)
       || ',"hashtags":' || to_json(hashtags)
       || ',"author":' || to_json(concat_ws(' ', nullif(unique_id, ''), nullif(nickname, '')))
       || ',"ocr":' || to_json(ocr) || ',"ocr_stored":' || to_json(left(ocr, 20000))
       || ',"speech":' || to_json(speech)
       || ',"tag":' || to_json(list_distinct(list_filter(
              string_split_regex(hashtags, '\\s+') || string_split_regex(feeds, '\\s+'), x -> x <> '')))
       || ',"author_key":' || to_json(list_distinct(list_filter([lower(coalesce(unique_id, '')), coalesce(author_id, '')], x -> x <> '')))
       || CASE WHEN created_at IS NULL THEN '' ELSE ',"created_at":"' || strftime(created_at, '%Y-%m-%dT%H:%M:%S.%fZ') || '"' END
       || CASE WHEN views IS NULL THEN '' ELSE ',"views":' || greatest(views, 0)::VARCHAR END
       || ',"url":' || to_json(url)
       || CASE WHEN coalesce(unique_id, '') = '' THEN '' ELSE ',"author_name":' || to_json(unique_id) END
       || '}}' AS doc
FROM docs
ORDER BY post_id  -- tantivy breaks ties of score by the order documents came in: the same order on every store
"""


def _document(row: tuple) -> str:
    """``(post_id, speech_segments, doc)`` from :data:`_DOCS_SQL` -> the JSON document handed to tantivy
    (the speech segments, stored for :mod:`.where`, added here: only posts with speech have them)."""
    doc, segments = row[2], row[1]
    if not segments:
        return doc
    import json

    return doc[:-1] + ',"speech_stored":' + json.dumps(_segments(segments), ensure_ascii=False) + "}"


def _segments(value: str) -> str:
    """The transcripts' segments as stored for :mod:`.where`: ``[[start_s or null, text], ...]``."""
    if not value:
        return ""
    import json

    try:
        flat = json.loads(value)
    except ValueError:
        return ""
    pairs = []
    for pair in flat if isinstance(flat, list) else []:
        if isinstance(pair, list) and len(pair) == 2:
            start, text = pair
            try:
                at = None if start in (None, "null") else float(start)
            except (TypeError, ValueError):
                at = None
            pairs.append([at, str(text or "")])
    return json.dumps(pairs, ensure_ascii=False)[:50_000]


@dataclasses.dataclass(frozen=True)
class _Kind:
    """What one index holds: documents keyed by ``key`` (a column of :attr:`docs` and a raw field),
    with per-document hashes in the table ``docs`` and its state under ``state`` + name."""

    key: str
    docs: str
    state: str
    layout: str
    fingerprint_sql: str
    hash_sql: str  # CREATE ... TEMP TABLE _search_hashes (key, doc_hash)
    docs_sql: str  # (key, ..., doc) for the keys in _search_changed
    schema: Any
    document: Any  # a row of docs_sql -> the JSON document


_POSTS = _Kind(
    "post_id", "search_index_docs", "", LAYOUT, _FINGERPRINT_SQL, _HASH_SQL, _DOCS_SQL, lambda: _schema(), lambda row: _document(row)
)


def refresh_index(con: duckdb.DuckDBPyConnection, *, path: Path | None = None, rebuild: bool = False) -> int:
    """Bring the text index in step with the store; returns the number of posts (re-)indexed or removed.

    Call it after every ingest (and after OCR): when nothing changed it costs a few aggregate
    queries; when some posts changed, one hash per post finds them and only they are read and
    re-indexed (deleted by post id, added again). ``rebuild=True`` (or a missing / foreign index
    folder) indexes everything again, with several writer threads. The comments' index beside it
    (:func:`comment_index_dir`) is brought in step the same way (:func:`refresh_comment_index`).
    """
    path = Path(path) if path is not None else index_dir()
    changed = _refresh(con, _POSTS, path, rebuild)
    refresh_comment_index(con, path=comment_index_dir(path), rebuild=rebuild)
    return changed


def _refresh(con: duckdb.DuckDBPyConnection, kind: _Kind, path: Path, rebuild: bool) -> int:
    key, docs = kind.key, kind.docs
    state = _state(con)
    stored_id = (path / _ID_FILE).read_text() if (path / _ID_FILE).is_file() else None
    rebuild = (
        rebuild or stored_id is None or state.get(kind.state + "index_id") != stored_id or state.get(kind.state + "layout") != kind.layout
    )
    fingerprint = con.execute(kind.fingerprint_sql).fetchone()[0]
    if not rebuild and state.get(kind.state + "fingerprint") == fingerprint:
        return 0

    if rebuild:
        con.execute(f"DELETE FROM {docs}")  # fails first on a read-only connection
    try:
        index = _open_index(path, create=rebuild, schema=kind.schema)
    except (OSError, ValueError) as exc:  # a full disk, an unwritable folder
        raise _cannot_write(path, exc) from None
    con.execute(kind.hash_sql)
    try:
        gone = [
            r[0]
            for r in con.execute(
                f"SELECT {key} FROM {docs} d WHERE NOT EXISTS (SELECT 1 FROM _search_hashes s WHERE s.{key} = d.{key})"
            ).fetchall()
        ]
        con.execute(f"""CREATE OR REPLACE TEMP TABLE _search_changed AS
                       SELECT s.{key}, s.doc_hash FROM _search_hashes s LEFT JOIN {docs} d ON d.{key} = s.{key}
                       WHERE d.doc_hash IS DISTINCT FROM s.doc_hash""")
        changed = con.execute("SELECT count(*) FROM _search_changed").fetchone()[0]
        if changed or gone:
            writer = _writer(index, _BUILD_THREADS, _BUILD_HEAP) if changed > 50_000 else _writer(index)
            try:
                existing = not rebuild
                for doc_id in gone:
                    writer.delete_documents_by_term(key, doc_id)
                result = con.execute(kind.docs_sql)
                while rows := result.fetchmany(20_000):  # fetched to the end: no other statement meanwhile
                    for row in rows:
                        if existing:
                            writer.delete_documents_by_term(key, row[0])
                        writer.add_json(kind.document(row))
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
                con.execute(f"DELETE FROM {docs} WHERE {key} IN (SELECT unnest(?))", [gone])
            if not rebuild:
                con.execute(f"DELETE FROM {docs} WHERE {key} IN (SELECT {key} FROM _search_changed)")
            con.execute(f"INSERT INTO {docs} SELECT {key}, doc_hash, ? FROM _search_changed", [now])
            _set_state(
                con,
                **{
                    kind.state + "index_id": (path / _ID_FILE).read_text(),
                    kind.state + "layout": kind.layout,
                    kind.state + "fingerprint": fingerprint,
                },
            )
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
    finally:
        con.execute("DROP TABLE IF EXISTS _search_hashes")
        con.execute("DROP TABLE IF EXISTS _search_changed")
    return changed + len(gone)


# ------------------------------------------------------------------------------------------- comments

#: Bump when the comment index's fields or analysis change: it is then rebuilt on the next refresh.
COMMENT_LAYOUT = "1"


def comment_index_dir(path: Path | None = None) -> Path:
    """The comments' index beside the posts' index ``path`` (default :func:`index_dir`): ``<path>-comments``."""
    path = Path(path) if path is not None else index_dir()
    return path.with_name(path.name + "-comments")


def _comment_schema():
    tantivy = _tantivy()
    sb = tantivy.SchemaBuilder()
    sb.add_text_field("comment_id", stored=True, tokenizer_name="raw")
    sb.add_text_field("text", stored=False, tokenizer_name=TOKENIZER)  # the words searched
    sb.add_text_field("post_id", stored=True, tokenizer_name="raw", index_option="basic")
    sb.add_text_field("author", stored=True, tokenizer_name="raw", index_option="basic")
    sb.add_text_field("text_stored", stored=True, tokenizer_name="raw", index_option="basic")
    sb.add_integer_field("likes", stored=True, indexed=False)
    sb.add_date_field("created_at", stored=True, indexed=False)
    sb.add_text_field("url", stored=True, tokenizer_name="raw", index_option="basic")
    return sb.build()


# The comments' fingerprint also covers what their posts lend them (the post's link).
_COMMENT_FINGERPRINT_SQL = """
SELECT concat_ws('|',
  (SELECT count(*) || ':' || coalesce(sum(hash(comment_id, post_id, author_unique_id, text, likes, created_at)), 0) FROM comments),
  (SELECT count(*) || ':' || coalesce(sum(hash(post_id, url, author_unique_id)), 0) FROM posts))
"""

_COMMENT_HASH_SQL = """
CREATE OR REPLACE TEMP TABLE _search_hashes AS
SELECT c.comment_id, hash(c.comment_id, c.post_id, c.author_unique_id, c.text, c.likes, c.created_at, p.url, p.author_unique_id) AS doc_hash
FROM comments c LEFT JOIN posts p ON p.post_id = c.post_id
WHERE coalesce(c.text, '') <> ''
"""

_COMMENT_DOCS_SQL = f"""
SELECT c.comment_id,
       '{{"comment_id":' || to_json(c.comment_id)
       || ',"text":' || to_json(c.text) || ',"text_stored":' || to_json(c.text)
       || ',"post_id":' || to_json(coalesce(c.post_id, ''))
       || CASE WHEN coalesce(c.author_unique_id, '') = '' THEN '' ELSE ',"author":' || to_json(c.author_unique_id) END
       || CASE WHEN c.likes IS NULL THEN '' ELSE ',"likes":' || c.likes::VARCHAR END
       || CASE WHEN c.created_at IS NULL THEN '' ELSE ',"created_at":"' || strftime(c.created_at, '%Y-%m-%dT%H:%M:%S.%fZ') || '"' END
       || ',"url":' || to_json(coalesce({post_url_sql("p", "c.post_id")}, ''))
       || '}}' AS doc
FROM comments c LEFT JOIN posts p ON p.post_id = c.post_id
WHERE c.comment_id IN (SELECT comment_id FROM _search_changed) AND coalesce(c.text, '') <> ''
ORDER BY c.comment_id
"""

_COMMENTS = _Kind(
    "comment_id",
    "search_comment_docs",
    "comments_",
    COMMENT_LAYOUT,
    _COMMENT_FINGERPRINT_SQL,
    _COMMENT_HASH_SQL,
    _COMMENT_DOCS_SQL,
    _comment_schema,
    lambda row: row[1],
)


def refresh_comment_index(con: duckdb.DuckDBPyConnection, *, path: Path | None = None, rebuild: bool = False) -> int:
    """Bring the comments' index (:func:`comment_index_dir`) in step with the store's ``comments``, as
    :func:`refresh_index` does the posts' (which calls it); returns the number of comments (re-)indexed or removed."""
    return _refresh(con, _COMMENTS, Path(path) if path is not None else comment_index_dir(), rebuild)


def search_comment_index(
    con: duckdb.DuckDBPyConnection | None, query: str, *, limit: int = 20, refresh: bool = True, path: Path | None = None
) -> list[dict[str, Any]]:
    """The comments holding every word of ``query`` (BM25 over their text, stemmed as the posts are;
    ``"quoted phrases"`` in order), best first (equal scores: most liked first): dicts of
    ``comment_id, post_id, author, text, likes, created_at, url, score``. With ``refresh`` and a
    writable ``con``, the index is brought up to date first; ``path``: default :func:`comment_index_dir`."""
    words, phrases = query_terms(query or "")
    if not words and not phrases:
        raise QueryError('give words to find in comments, e.g. search "fejk" --in comments')
    if limit is None or int(limit) < 1:
        raise QueryError(f"--limit must be at least 1 (got {limit})")
    path = Path(path) if path is not None else comment_index_dir()
    if con is not None and refresh and not _read_only(con):
        refresh_comment_index(con, path=path)
    try:
        index = _open_index(path)
        index.reload()
        searcher = index.searcher()
        q = _words_query(index, words, phrases, {"text": 1.0})
        result = searcher.search(q, max(1, min(int(limit), searcher.num_docs)), count=False)
        hits = []
        for score, address in result.hits:
            doc = searcher.doc(address)
            created = doc.get_first("created_at")
            hits.append(
                {
                    "comment_id": doc.get_first("comment_id"),
                    "post_id": doc.get_first("post_id") or None,
                    "author": doc.get_first("author"),
                    "text": doc.get_first("text_stored") or "",
                    "likes": doc.get_first("likes"),
                    "created_at": created.replace(tzinfo=None) if isinstance(created, dt.datetime) else None,
                    "url": doc.get_first("url") or None,
                    "score": round(float(score), 4),
                }
            )
    except (OSError, ValueError) as exc:  # a segment file gone or unreadable
        raise _cannot_read(path, exc) from None
    return sorted(hits, key=lambda h: (-h["score"], -(h["likes"] or 0), h["comment_id"]))


# --------------------------------------------------------------------------------------------- search

_PHRASE = re.compile(r'"([^"]*)"')
_WORD = re.compile(r"[^\W_]+")


def query_terms(text: str) -> tuple[list[str], list[list[str]]]:
    """The words and the ``"quoted phrases"`` of a user's query, lower-cased; everything else dropped."""
    phrases = [[w.lower() for w in _WORD.findall(p)] for p in _PHRASE.findall(text)]
    words = [w.lower() for w in _WORD.findall(_PHRASE.sub(" ", text))]
    return words, [p for p in phrases if p]


def _words_query(index: Any, words: list[str], phrases: list[list[str]], boosts: dict[str, float]) -> Any:
    """Every word and phrase (from :func:`query_terms`: letters and digits only, so nothing of the
    user's reaches tantivy's query language) required, in the fields ``boosts`` names."""
    text = " ".join([f"+{w}" for w in words] + ['+"' + " ".join(p) + '"' for p in phrases])
    return index.parse_query(text, list(boosts), field_boosts=boosts)


def _as_time(value: Any, name: str, *, end: bool) -> dt.datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return clock.to_utc(value)
    if isinstance(value, dt.date):  # a day in the people's time zone (localtime)
        from ..localtime import day_bounds

        start, stop = day_bounds(value)
        return stop if end else start
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
    places: Sequence[str] | str | None = None,
) -> list[TextHit]:
    """Posts matching every word of ``query`` (BM25, best first), filtered.

    ``hashtag``: posts carrying it or collected from its feed (``#`` optional); an ``@account``: its
    posts; a ``"keyword"`` (double quotes): the posts its searches listed (both read from ``con``). ``since`` / ``until``:
    creation dates, inclusive (``date``, ``datetime`` or ``'YYYY-MM-DD'``). ``author``: unique id
    (``@`` optional, any case) or numeric id. ``min_views``: at least this many views. An empty
    query with filters lists the matching posts, newest first. With ``refresh`` and a writable
    ``con``, the index is brought up to date first. ``places``: only there (``search.where.IN_CHOICES``:
    caption, image, speech). Each hit's ``matches`` say where it matched, with a snippet.
    """
    tantivy = _tantivy()
    if limit is None or int(limit) < 1:
        raise QueryError(f"--limit must be at least 1 (got {limit})", key="err_limit", limit=limit)
    if min_views is not None and int(min_views) < 0:
        raise QueryError(f"--min-views must be 0 or more (got {min_views})", key="err_min_views", min_views=min_views)
    words, phrases = query_terms(query or "")
    fields = where.fields_for(places) or tuple(TEXT_FIELDS)
    start, end = _as_time(since, "--since", end=False), _as_time(until, "--until", end=True)
    if start and end and start >= end:
        raise QueryError("--since is after --until: swap them", key="err_since_after_until")
    item = tracked_item(hashtag)  # a hashtag (the index's tags), or an @account or a "keyword" (the store's listings)
    tag = item[1] if item and item[0] == "hashtag" else None
    who = (author or "").strip().lstrip("@").lower() or None
    if not words and not phrases and not any(x is not None for x in (item, who, start, end, min_views)):
        if (query or "").strip():
            raise QueryError(
                f"the query {query!r} has no words in it: search for words, #hashtags or author names", key="err_no_words", query=query
            )
        raise QueryError(
            "nothing to search for: give words, or at least one filter (--hashtag, --author, --since, ...)", key="err_nothing_to_search"
        )

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
        clauses.append((tantivy.Occur.Must, _words_query(index, words, phrases, {f: TEXT_FIELDS[f] for f in fields})))
    if tag:
        clauses.append((tantivy.Occur.Must, tantivy.Query.term_query(schema, "tag", tag)))
    elif item:
        listed = _posts_of(con, item)
        if not listed:
            return []
        clauses.append((tantivy.Occur.Must, tantivy.Query.term_set_query(schema, "post_id", listed)))
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
        stored: list[dict[str, str]] = []
        hits = _hits(index, q, limit, scored=bool(words or phrases), stored=stored)
    except (OSError, ValueError) as exc:  # a segment file gone or unreadable
        raise _cannot_read(path, exc) from None
    try:
        return _with_matches(hits, stored, words + [w for p in phrases for w in p], places)
    except (OSError, ValueError) as exc:  # a segment file gone or unreadable
        raise _cannot_read(path, exc) from None


def _posts_of(con: duckdb.DuckDBPyConnection | None, item: tuple[str, str]) -> list[str]:
    """The post ids of a tracked account or keyword (:func:`~tiktok_intel.conventions.tracked_posts_sql`), read from the store."""
    if con is None:
        shown = tracked_label(*item)
        raise QueryError(f"filtering by {shown} reads the store's listings: search with a connection (the command line opens one)")
    sql, params = tracked_posts_sql(item)
    return [r[0] for r in con.execute(sql, params).fetchall()]


def _with_matches(hits: list[TextHit], stored: list[dict[str, str]], words: list[str], places: Any) -> list[TextHit]:
    if not hits or not words:
        return hits
    analyzer = (
        _tantivy()
        .TextAnalyzerBuilder(_tantivy().Tokenizer.simple())
        .filter(_tantivy().Filter.lowercase())
        .filter(_tantivy().Filter.stemmer("swedish"))
        .build()
    )
    chosen = [places] if isinstance(places, str) else list(places or [])
    out = []
    for hit, texts in zip(hits, stored, strict=True):
        texts = {"caption": " ".join(x for x in (hit.description, hit.author or "") if x), **texts}
        out.append(dataclasses.replace(hit, matches=tuple(where.explain(analyzer, texts, words, chosen or None))))
    return out


def _hits(index: Any, q: Any, limit: int, *, scored: bool, stored: list | None = None) -> list[TextHit]:
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
        hit = TextHit(
            post_id=doc.get_first("post_id"),
            url=doc.get_first("url"),
            score=round(float(key), 4) if scored else 0.0,
            description=doc.get_first("description_stored") or "",
            author=doc.get_first("author_name"),
            created_at=created.replace(tzinfo=None) if isinstance(created, dt.datetime) else None,
            views=int(views) if views is not None else None,
        )
        if stored is not None:  # the text that says where it matched
            stored.append({"image": doc.get_first("ocr_stored") or "", "speech": doc.get_first("speech_stored") or ""})
        hits.append(hit)
    if scored:  # equal scores in post id order, whichever segment each came from
        order = sorted(range(len(hits)), key=lambda n: (-hits[n].score, hits[n].post_id))
        hits = [hits[n] for n in order]
        if stored is not None:
            stored[:] = [stored[n] for n in order]
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
