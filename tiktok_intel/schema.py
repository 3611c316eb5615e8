"""The database schema, in one place, with its migrations.

``MIGRATIONS[n]`` takes a database from version ``n`` to ``n + 1``: the first is generated from the
table declarations below, later ones are the numbered files in ``migrations/``.
:data:`SCHEMA_VERSION` is the version this code writes. :mod:`tiktok_intel.store` applies what is missing when a file is opened
and refuses a file written by a newer version. Later issues add tables by appending a migration,
never by editing an applied one.

All times are UTC ``TIMESTAMP`` (naive). Ids are ``VARCHAR`` (TikTok ids do not fit 32 bits, and
the Research API sometimes sends them as JSON integers: we normalise to decimal text). Counts are
``BIGINT``. Hashtags are keyed by their normalised name (lower case, no ``#``), because that is how
people name them and how every source gives them; TikTok's numeric challenge id is an attribute.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path


@dataclasses.dataclass(frozen=True)
class Table:
    """What ingest needs to know about a table it writes from parsed records."""

    name: str
    key: tuple[str, ...]
    columns: tuple[tuple[str, str], ...]  # (name, DuckDB type), key columns included
    kind: str  # "entity": upsert to the latest values; "snapshot" / "link": insert once

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.columns)

    @property
    def value_columns(self) -> tuple[str, ...]:
        skip = set(self.key) | {"first_seen_at", "last_seen_at"}
        return tuple(name for name in self.column_names if name not in skip)

    def arrow_schema(self):
        import pyarrow as pa

        types = {
            "VARCHAR": pa.string(),
            "BIGINT": pa.int64(),
            "INTEGER": pa.int32(),
            "BOOLEAN": pa.bool_(),
            "TIMESTAMP": pa.timestamp("us"),
        }
        return pa.schema([(name, types[kind]) for name, kind in self.columns])

    def arrow(self, rows: list[dict]):
        """Records (dicts named by column) -> a typed pyarrow Table in column order."""
        import pyarrow as pa

        return pa.Table.from_pylist(rows, schema=self.arrow_schema())

    def ddl(self) -> str:
        # No PRIMARY KEY constraint: ingest keeps keys unique with set-based anti-joins, which is 4x
        # cheaper than maintaining the index, and DuckLake (the multi-writer store) has no constraints.
        cols = ",\n  ".join(f"{n} {t}{' NOT NULL' if n in self.key else ''}" for n, t in self.columns)
        return f"CREATE TABLE IF NOT EXISTS {self.name} (\n  {cols}\n);"


_ENTITY_TIMES = (("first_seen_at", "TIMESTAMP"), ("last_seen_at", "TIMESTAMP"))

#: The tables of version 1 (migration 1 is generated from them).
_V1_TABLES: tuple[Table, ...] = (
    Table(
        "authors",
        ("author_id",),
        (
            ("author_id", "VARCHAR"),  # numeric id, or '@' + unique_id where only the name is known
            ("unique_id", "VARCHAR"),
            ("nickname", "VARCHAR"),
            ("signature", "VARCHAR"),
            ("verified", "BOOLEAN"),
            ("sec_uid", "VARCHAR"),
            ("avatar_url", "VARCHAR"),
            ("followers", "BIGINT"),
            ("following", "BIGINT"),
            ("hearts", "BIGINT"),
            ("videos", "BIGINT"),
            ("likes_given", "BIGINT"),
            *_ENTITY_TIMES,
        ),
        "entity",
    ),
    # every unique id an author has had (lower case): Research API posts name authors by username only
    Table("author_names", ("author_id", "unique_id"), (("author_id", "VARCHAR"), ("unique_id", "VARCHAR")), "link"),
    Table(
        "music",
        ("music_id",),
        (
            ("music_id", "VARCHAR"),
            ("title", "VARCHAR"),
            ("author_name", "VARCHAR"),
            ("original", "BOOLEAN"),
            ("duration_s", "INTEGER"),
            ("play_url", "VARCHAR"),
            *_ENTITY_TIMES,
        ),
        "entity",
    ),
    Table(
        "hashtags",
        ("name",),
        (
            ("name", "VARCHAR"),
            ("challenge_id", "VARCHAR"),
            ("title", "VARCHAR"),
            ("description", "VARCHAR"),
            ("video_count", "BIGINT"),
            ("view_count", "BIGINT"),
            *_ENTITY_TIMES,
        ),
        "entity",
    ),
    Table(
        "posts",
        ("post_id",),
        (
            ("post_id", "VARCHAR"),
            ("author_id", "VARCHAR"),
            ("author_unique_id", "VARCHAR"),
            ("description", "VARCHAR"),
            ("created_at", "TIMESTAMP"),
            ("music_id", "VARCHAR"),
            ("duration_s", "INTEGER"),
            ("cover_url", "VARCHAR"),
            ("video_url", "VARCHAR"),
            ("region", "VARCHAR"),
            ("is_ad", "BOOLEAN"),
            ("url", "VARCHAR"),
            ("source", "VARCHAR"),
            ("views", "BIGINT"),
            ("likes", "BIGINT"),
            ("comments", "BIGINT"),
            ("shares", "BIGINT"),
            ("saves", "BIGINT"),
            *_ENTITY_TIMES,
        ),
        "entity",
    ),
    Table("post_hashtags", ("post_id", "hashtag"), (("post_id", "VARCHAR"), ("hashtag", "VARCHAR")), "link"),
    Table(
        "post_stats",
        ("post_id", "collected_at"),
        (
            ("post_id", "VARCHAR"),
            ("collected_at", "TIMESTAMP"),
            ("views", "BIGINT"),
            ("likes", "BIGINT"),
            ("comments", "BIGINT"),
            ("shares", "BIGINT"),
            ("saves", "BIGINT"),
        ),
        "snapshot",
    ),
    Table(
        "author_stats",
        ("author_id", "collected_at"),
        (
            ("author_id", "VARCHAR"),
            ("collected_at", "TIMESTAMP"),
            ("followers", "BIGINT"),
            ("following", "BIGINT"),
            ("hearts", "BIGINT"),
            ("videos", "BIGINT"),
            ("likes_given", "BIGINT"),
        ),
        "snapshot",
    ),
    Table(
        "hashtag_stats",
        ("hashtag", "collected_at"),
        (("hashtag", "VARCHAR"), ("collected_at", "TIMESTAMP"), ("video_count", "BIGINT"), ("view_count", "BIGINT")),
        "snapshot",
    ),
    Table(
        "feed_appearances",
        ("hashtag", "post_id", "collected_at"),
        (("hashtag", "VARCHAR"), ("post_id", "VARCHAR"), ("collected_at", "TIMESTAMP"), ("rank", "INTEGER"), ("run_id", "VARCHAR")),
        "snapshot",
    ),
)

#: Tables added by migration 007 (tracked accounts and keywords, comments): their DDL is written out
#: in ``migrations/007_tracked_kinds_comments.sql`` (``tests/test_comments.py`` checks it agrees).
TRACKED_KINDS_TABLES: tuple[Table, ...] = (
    Table(
        "comments",
        ("comment_id",),
        (
            ("comment_id", "VARCHAR"),
            ("post_id", "VARCHAR"),
            ("parent_id", "VARCHAR"),  # the comment replied to; NULL for a top-level comment
            ("author_id", "VARCHAR"),
            ("author_unique_id", "VARCHAR"),
            ("author_nickname", "VARCHAR"),
            ("text", "VARCHAR"),
            ("language", "VARCHAR"),
            ("created_at", "TIMESTAMP"),
            ("likes", "BIGINT"),
            ("replies", "BIGINT"),
            ("source", "VARCHAR"),
            *_ENTITY_TIMES,
        ),
        "entity",
    ),
    Table(
        "comment_stats",
        ("comment_id", "collected_at"),
        (("comment_id", "VARCHAR"), ("collected_at", "TIMESTAMP"), ("likes", "BIGINT"), ("replies", "BIGINT")),
        "snapshot",
    ),
    # every listing of a post under a tracked account or keyword (hashtags: feed_appearances)
    Table(
        "listings",
        ("kind", "tracked", "post_id", "collected_at"),
        (
            ("kind", "VARCHAR"),
            ("tracked", "VARCHAR"),
            ("post_id", "VARCHAR"),
            ("collected_at", "TIMESTAMP"),
            ("rank", "INTEGER"),
            ("run_id", "VARCHAR"),
        ),
        "snapshot",
    ),
)

#: Tables that parsed records are ingested into, in the order ingest writes them.
INGEST_TABLES: tuple[Table, ...] = _V1_TABLES + TRACKED_KINDS_TABLES

TABLES_BY_NAME = {t.name: t for t in INGEST_TABLES}

#: Snapshot tables: the measured values, by what they measure.
SNAPSHOT_METRICS = {
    "post_stats": ("views", "likes", "comments", "shares", "saves"),
    "author_stats": ("followers", "hearts", "videos", "likes_given", "following"),
    "hashtag_stats": ("video_count", "view_count"),
    "comment_stats": ("likes", "replies"),
}

_V1_OTHER = """
CREATE TABLE IF NOT EXISTS tracked_hashtags (
  name VARCHAR NOT NULL,  -- unique: kept so by the code
  active BOOLEAN NOT NULL DEFAULT TRUE,
  added_at TIMESTAMP NOT NULL,
  removed_at TIMESTAMP,
  last_collected_at TIMESTAMP
);
CREATE TABLE IF NOT EXISTS raw_pages (
  sha256 VARCHAR NOT NULL,        -- unique: ingest never records a checksum twice
  path VARCHAR NOT NULL,
  source VARCHAR,
  shape VARCHAR,
  fetched_at TIMESTAMP,
  hashtag VARCHAR,
  run_id VARCHAR,
  items_read BIGINT,
  items_ingested BIGINT,
  items_rejected BIGINT,
  ingested_at TIMESTAMP NOT NULL
);
CREATE TABLE IF NOT EXISTS rejects (
  raw_sha256 VARCHAR NOT NULL,
  raw_path VARCHAR NOT NULL,
  item_index BIGINT NOT NULL,   -- position in the page (line number - 1 for NDJSON); -1: the whole page
  reason VARCHAR NOT NULL,
  excerpt VARCHAR,
  rejected_at TIMESTAMP NOT NULL  -- unique on (raw_sha256, item_index): kept so by ingest
);
CREATE TABLE IF NOT EXISTS runs (
  run_id VARCHAR NOT NULL,  -- unique: kept so by the code
  flow VARCHAR NOT NULL,
  started_at TIMESTAMP NOT NULL,
  ended_at TIMESTAMP,
  status VARCHAR NOT NULL,        -- running | completed | failed
  counts JSON,
  notebook_path VARCHAR,
  error VARCHAR
);
"""


def _load_migrations() -> tuple[str, ...]:
    """Migration 1 is generated from the tables above; later ones are ``migrations/NNN_name.sql``."""
    files = sorted(Path(__file__).with_name("migrations").glob("[0-9][0-9][0-9]_*.sql"))
    numbers = [int(f.name.split("_", 1)[0]) for f in files]
    if numbers != list(range(2, 2 + len(files))):
        raise RuntimeError(f"migration files must be numbered 002, 003, ... without gaps; found {numbers}")
    return ("\n".join(t.ddl() for t in _V1_TABLES) + _V1_OTHER,) + tuple(f.read_text(encoding="utf-8") for f in files)


#: ``MIGRATIONS[n]`` takes a database from version n to n + 1.
MIGRATIONS: tuple[str, ...] = _load_migrations()

SCHEMA_VERSION = len(MIGRATIONS)
