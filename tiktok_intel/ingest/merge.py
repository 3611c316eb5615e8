"""Set-based, idempotent ingest of parsed batches into DuckDB.

One transaction per batch (one or many raw pages). Each table's rows go to a staging table in one
statement, are de-duplicated there, and reach the store through two set-based statements: an
``UPDATE ... FROM`` for keys the store has (only where something changes) and an ``INSERT ...
ANTI JOIN`` for the rest. So the same page ingested twice changes nothing:

* entities (posts, authors, music, hashtags) take the values of the latest collection, never
  replacing a known value by NULL;
* snapshots (post, author and hashtag stats, feed appearances) are keyed by (id, collected_at);
  links (post_hashtags, author_names) by their pair.

Keys are kept unique by these statements rather than by PRIMARY KEY constraints: that is 4x
cheaper, and DuckLake, the multi-writer form of the store, has no constraints.

Authors the Research API names only by ``username`` are keyed ``@username`` until a numeric id is
known; when one is (in this batch or the store, under this name now or before a rename), the
placeholder is replaced everywhere.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

import duckdb

from .. import clock
from ..parsing import Batch
from ..schema import INGEST_TABLES, TABLES_BY_NAME, Table
from ..store import transaction

if TYPE_CHECKING:
    from ..raw import RawPage


@dataclasses.dataclass
class IngestStats:
    items_read: int = 0
    items_rejected: int = 0
    pages: int = 0
    pages_skipped: int = 0
    pages_failed: int = 0  # pages that raised while parsed or ingested: marked failed (failed_pages), the run goes on
    new: dict[str, int] = dataclasses.field(default_factory=dict)
    updated: dict[str, int] = dataclasses.field(default_factory=dict)
    seen: dict[str, set] = dataclasses.field(default_factory=dict)  # distinct keys in the input, for the summary
    skipped_files: list[str] = dataclasses.field(default_factory=list)  # import: files in folders that are not data
    media_saved: dict[str, int] = dataclasses.field(default_factory=dict)  # downloads pages: the files recorded, by kind
    media_failed: int = 0  # downloads pages: the failures recorded (a file missing from the shared raw store among them)

    def add(self, other: IngestStats) -> IngestStats:
        self.items_read += other.items_read
        self.items_rejected += other.items_rejected
        self.pages += other.pages
        self.pages_skipped += other.pages_skipped
        self.pages_failed += other.pages_failed
        self.media_failed += other.media_failed
        for name in ("new", "updated", "media_saved"):
            mine, theirs = getattr(self, name), getattr(other, name)
            for key, value in theirs.items():
                mine[key] = mine.get(key, 0) + value
        for key, values in other.seen.items():
            self.seen.setdefault(key, set()).update(values)
        return self

    def distinct(self, table: str) -> int:
        return len(self.seen.get(table, ()))

    @property
    def items_ingested(self) -> int:
        return self.items_read - self.items_rejected

    def summary(self) -> str:
        """``96 items read: 94 posts (90 new, 4 updated), 94 post snapshots, 61 authors, 212 hashtags; 2 rejected (see rejects)``"""
        new, upd = self.new, self.updated
        text = (
            f"{self.items_read} items read: {self.distinct('posts')} posts ({new.get('posts', 0)} new, {upd.get('posts', 0)} updated), "
            f"{new.get('post_stats', 0)} post snapshots, {self.distinct('authors')} authors, {self.distinct('hashtags')} hashtags"
        )
        if new.get("author_stats"):
            text += f", {new['author_stats']} author snapshots"
        if new.get("hashtag_stats"):
            text += f", {new['hashtag_stats']} hashtag snapshots"
        text += f"; {self.items_rejected} rejected" + (" (see rejects)" if self.items_rejected else "")
        if self.media_saved or self.media_failed:
            saved = ", ".join(f"{kind} {n}" for kind, n in sorted(self.media_saved.items())) or "no files"
            text += f"; media downloaded by raw-only runs: {saved}" + (f" ({self.media_failed} failed)" if self.media_failed else "")
        if self.pages_skipped:
            text += f"; {self.pages_skipped} page(s) already ingested"
        if self.pages_failed:
            text += f"; {self.pages_failed} page(s) FAILED (see status; `tiktok-intel process --retry-failed` tries them again)"
        return text

    def as_dict(self) -> dict:
        """Counts only (for the ``runs`` table and flow logs)."""
        return {
            "items_read": self.items_read,
            "items_rejected": self.items_rejected,
            "pages": self.pages,
            "pages_skipped": self.pages_skipped,
            "pages_failed": self.pages_failed,
            "new": dict(self.new),
            "updated": dict(self.updated),
            "distinct": {k: len(v) for k, v in self.seen.items()},
            **({"media_saved": dict(self.media_saved), "media_failed": self.media_failed} if self.media_saved or self.media_failed else {}),
        }


SUMMARISED = ("posts", "authors", "hashtags")


def _key_match(table: Table, left: str, right: str) -> str:
    return " AND ".join(f"{left}.{k} = {right}.{k}" for k in table.key)


def _latest_values(table: Table) -> str:
    """Per value column: the latest non-null value; at equal times the greater one, so the
    result never depends on the order in which pages were ingested."""
    return ", ".join(f"arg_max({c}, (last_seen_at, {c})) FILTER (WHERE {c} IS NOT NULL) AS {c}" for c in table.value_columns)


def _stage(con: duckdb.DuckDBPyConnection, table: Table, source: str, *, may_repeat_keys: bool = True, keyed: bool = False) -> str:
    """The relation to merge ``table`` from, each key once: ``source`` itself when it is
    ``keyed`` (no NULL in its key, see :mod:`.sql_reader`) and no key repeats in it, else a temp table
    ``_stage_<table>`` made from it (see :func:`_mutable`)."""
    if keyed and not may_repeat_keys:
        return source
    stage = f"_stage_{table.name}"
    keys = ", ".join(table.key)
    if not may_repeat_keys:
        select = "SELECT * FROM typed"  # no key twice in the batch: nothing to merge
    elif table.kind == "entity":
        select = f"SELECT {keys}, {_latest_values(table)}, min(first_seen_at) AS first_seen_at, max(last_seen_at) AS last_seen_at FROM typed GROUP BY {keys}"
    else:
        others = [c for c in table.column_names if c not in table.key]
        # a post listed twice in one page keeps its first (best) rank; counts keep the highest
        values = ", ".join(f"{'min' if c == 'rank' else 'max'}({c}) AS {c}" for c in others)
        select = f"SELECT {keys}{', ' if others else ''}{values} FROM typed GROUP BY {keys}"
    not_null = " AND ".join(f"{k} IS NOT NULL" for k in table.key)
    con.execute(f"CREATE OR REPLACE TEMP TABLE {stage} AS WITH typed AS (SELECT * FROM {source} WHERE {not_null}) {select}")
    return stage


def _mutable(con: duckdb.DuckDBPyConnection, stages: dict[str, str], name: str) -> str:
    """``stages[name]`` as a temp table this transaction may change (a copy of the source when
    :func:`_stage` passed the source itself)."""
    stage = f"_stage_{name}"
    if stages[name] != stage:
        con.execute(f"CREATE OR REPLACE TEMP TABLE {stage} AS SELECT * FROM {stages[name]}")
        stages[name] = stage
    return stage


def _resolve_author_placeholders(con: duckdb.DuckDBPyConnection, stages: dict[str, str]) -> None:
    """Give ``@username`` authors their numeric id wherever one is known under that name, now or
    before a rename (``author_names``: this batch first, then the store)."""
    names = stages.get("author_names")
    batch_known = f"SELECT author_id, unique_id AS name, 1 AS batch FROM {names} UNION ALL " if names else ""
    batch_wanted = (
        (
            "UNION SELECT a.author_id FROM authors a WHERE a.author_id LIKE '@%' "
            f"AND substr(a.author_id, 2) IN (SELECT unique_id FROM {names})"
        )
        if names
        else ""
    )
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _author_map AS
        WITH wanted AS (
            SELECT author_id AS placeholder FROM {stages["authors"]} WHERE author_id LIKE '@%'
            {batch_wanted}
        ),
        known AS (
            {batch_known}
            SELECT author_id, unique_id AS name, 0 AS batch FROM author_names WHERE unique_id IN (SELECT substr(placeholder, 2) FROM wanted)
        )
        SELECT w.placeholder, arg_max(k.author_id, (k.batch, k.author_id)) AS author_id
          FROM wanted w JOIN known k ON k.name = substr(w.placeholder, 2)
         GROUP BY w.placeholder
    """)
    if not con.execute("SELECT count(*) FROM _author_map").fetchone()[0]:
        return
    _mutable(con, stages, "authors")
    spec = TABLES_BY_NAME["authors"]
    # merge this batch's placeholder rows into their numeric ids (regroup, keeping latest non-null values)
    con.execute("UPDATE _stage_authors SET author_id = m.author_id FROM _author_map m WHERE _stage_authors.author_id = m.placeholder")
    # the store's placeholder rows: fold into the staged numeric rows, then remove them
    con.execute(f"""INSERT INTO _stage_authors SELECT m.author_id AS author_id, {", ".join("a." + c for c in spec.column_names if c != "author_id")}
                    FROM authors a JOIN _author_map m ON a.author_id = m.placeholder""")
    con.execute(f"""CREATE OR REPLACE TEMP TABLE _stage_authors AS SELECT author_id, {_latest_values(spec)}, min(first_seen_at) AS first_seen_at,
                    max(last_seen_at) AS last_seen_at FROM _stage_authors GROUP BY author_id""")
    metrics = [c for c in TABLES_BY_NAME["author_stats"].column_names if c not in ("author_id", "collected_at")]
    con.execute(f"""INSERT INTO author_stats SELECT m.author_id, s.collected_at, {", ".join("s." + c for c in metrics)}
                    FROM author_stats s JOIN _author_map m ON s.author_id = m.placeholder
                    WHERE NOT EXISTS (SELECT 1 FROM author_stats x WHERE x.author_id = m.author_id AND x.collected_at = s.collected_at)""")
    con.execute("DELETE FROM author_stats WHERE author_id IN (SELECT placeholder FROM _author_map)")
    con.execute("UPDATE posts SET author_id = m.author_id FROM _author_map m WHERE posts.author_id = m.placeholder")
    con.execute("DELETE FROM authors WHERE author_id IN (SELECT placeholder FROM _author_map)")
    for name in ("posts", "author_stats"):
        if name in stages:
            stage = _mutable(con, stages, name)
            con.execute(f"UPDATE {stage} SET author_id = m.author_id FROM _author_map m WHERE {stage}.author_id = m.placeholder")
    if "author_stats" in stages:  # both forms of one author measured at one instant: one snapshot
        con.execute(f"""CREATE OR REPLACE TEMP TABLE _stage_author_stats AS SELECT author_id, collected_at,
                        {", ".join(f"max({c}) AS {c}" for c in metrics)} FROM _stage_author_stats GROUP BY author_id, collected_at""")


def _probe_column(table: Table) -> str:
    """The key column that best narrows the store down to the stage's keys: an id (a feed's few
    hashtags and a batch's one collection time would select most of the table)."""
    return next((k for k in table.key if k.endswith("_id")), table.key[0])


def _existing_keys(table: Table, stage: str) -> str:
    """The store's keys that the stage also has, found by a semi-join on the probe column
    (cheap: hashes the small stage, prunes the big table), to anti-join against."""
    k1 = _probe_column(table)
    return f"(SELECT {', '.join(table.key)} FROM {table.name} WHERE {k1} IN (SELECT {k1} FROM {stage}))"


def _any_existing(con: duckdb.DuckDBPyConnection, table: Table, stage: str) -> bool:
    """Might the store have any of the stage's keys? (False: certainly none, as when a batch
    brings only new posts, or a new collection's snapshots.) One scan of the probe column."""
    k1 = _probe_column(table)
    return con.execute(f"SELECT EXISTS (SELECT 1 FROM {table.name} WHERE {k1} IN (SELECT {k1} FROM {stage}))").fetchone()[0]


def _merged_values(table: Table) -> dict[str, str]:
    """How a stored row (t) and a staged row (s) with the same key combine, per column.

    Entities take the latest collection's values, never replacing a known value by NULL;
    snapshots measured at the same instant keep the greatest counts and the best rank. At equal
    times the greater value wins, so the result never depends on ingest order.
    """
    others = [c for c in table.column_names if c not in table.key]
    if table.kind != "entity":
        return {c: f"{'least' if c == 'rank' else 'greatest'}(t.{c}, s.{c})" for c in others}
    merged = {
        c: f"CASE WHEN s.last_seen_at > t.last_seen_at THEN coalesce(s.{c}, t.{c}) "
        f"WHEN s.last_seen_at < t.last_seen_at THEN coalesce(t.{c}, s.{c}) ELSE greatest(s.{c}, t.{c}) END"
        for c in table.value_columns
    }
    merged["first_seen_at"] = "least(t.first_seen_at, s.first_seen_at)"
    merged["last_seen_at"] = "greatest(t.last_seen_at, s.last_seen_at)"
    return merged


def _merge(con: duckdb.DuckDBPyConnection, table: Table, stage: str, stats: IngestStats) -> None:
    """Update the stored rows the stage also has (where something changes), insert the rest."""
    columns = ", ".join(table.column_names)
    if not _any_existing(con, table, stage):  # all new: nothing to update, nothing to anti-join
        inserted = con.execute(f"INSERT INTO {table.name} ({columns}) SELECT {columns} FROM {stage}").fetchone()[0]
        stats.new[table.name] = stats.new.get(table.name, 0) + inserted
        if table.kind == "entity":
            stats.updated[table.name] = stats.updated.get(table.name, 0)
        return
    merged = _merged_values(table)
    if merged:
        changed = " OR ".join(f"({expr}) IS DISTINCT FROM t.{c}" for c, expr in merged.items())
        assignments = ", ".join(f"{c} = {expr}" for c, expr in merged.items())
        updated = con.execute(
            f"UPDATE {table.name} AS t SET {assignments} FROM {stage} AS s WHERE {_key_match(table, 't', 's')} AND ({changed})"
        ).fetchone()[0]
        if table.kind == "entity":
            stats.updated[table.name] = stats.updated.get(table.name, 0) + updated
    inserted = con.execute(
        f"INSERT INTO {table.name} ({columns}) SELECT {columns} FROM {stage} "
        f"ANTI JOIN {_existing_keys(table, stage)} AS e USING ({', '.join(table.key)})"
    ).fetchone()[0]
    stats.new[table.name] = stats.new.get(table.name, 0) + inserted


@dataclasses.dataclass
class PageDone:
    """A raw page all of whose items are in the batch being ingested."""

    page: RawPage
    shape: str | None
    items_read: int
    items_rejected: int


def ingest_batch(con: duckdb.DuckDBPyConnection, batch: Batch, pages_done: list[PageDone] = ()) -> IngestStats:
    """Ingest one parsed batch (of one or many pages) in one transaction.

    Rejects are recorded with a reference to their raw page (``Reject.page``); the pages in
    ``pages_done`` are recorded in ``raw_pages`` in the same transaction, so a page is marked done
    exactly when all of it is in.
    """
    stats = IngestStats(items_read=batch.items_read, items_rejected=len(batch.rejects), pages=len(pages_done))
    for name in SUMMARISED:
        key = TABLES_BY_NAME[name].key[0]
        stats.seen[name] = {row[key] for row in batch.rows[name]}
    sources = {}
    for table in INGEST_TABLES:
        rows = batch.rows[table.name]
        if rows:
            con.register(f"_in_{table.name}", batch.arrow(table.name))
            repeats = len(table.key) > 1 or len({row[table.key[0]] for row in rows}) < len(rows)
            sources[table.name] = (f"_in_{table.name}", repeats)
    try:
        _ingest(con, sources, stats, pages_done, batch)
    finally:
        for table in INGEST_TABLES:
            if table.name in sources:
                con.unregister(f"_in_{table.name}")
    return stats


def ingest_relations(
    con: duckdb.DuckDBPyConnection, relations: dict[str, str], repeats: dict[str, bool], items: int, pages_done: list[PageDone]
) -> IngestStats:
    """Ingest rows that already sit in DuckDB tables (one per table, no NULL in any key;
    ``repeats``: whether a key occurs twice in it; see :mod:`.sql_reader`). The tables
    are only read: a table with no repeated key is merged from directly."""
    stats = IngestStats(items_read=items, pages=len(pages_done))
    for name in SUMMARISED:
        if name in relations:
            key = TABLES_BY_NAME[name].key[0]
            stats.seen[name] = {row[0] for row in con.execute(f"SELECT DISTINCT {key} FROM {relations[name]}").fetchall()}
    _ingest(con, {name: (relation, repeats.get(name, True)) for name, relation in relations.items()}, stats, pages_done, None, keyed=True)
    return stats


def _ingest(
    con: duckdb.DuckDBPyConnection,
    sources: dict[str, tuple[str, bool]],
    stats: IngestStats,
    pages_done: list[PageDone],
    batch: Batch | None,
    *,
    keyed: bool = False,
) -> None:
    with transaction(con):
        stages = {
            t.name: _stage(con, t, sources[t.name][0], may_repeat_keys=sources[t.name][1], keyed=keyed)
            for t in INGEST_TABLES
            if t.name in sources
        }
        if "authors" in stages:
            _resolve_author_placeholders(con, stages)
        for table in INGEST_TABLES:
            if table.name in stages:
                _merge(con, table, stages[table.name], stats)
                if stages[table.name] == f"_stage_{table.name}":  # ours; a source is the caller's to drop
                    con.execute(f"DROP TABLE {stages[table.name]}")
        if batch is not None:
            _record_rejects(con, batch)
        if pages_done:
            record_pages(con, pages_done)


def record_pages(con: duckdb.DuckDBPyConnection, pages_done: list[PageDone]) -> None:
    import pyarrow as pa

    pages = [d.page for d in pages_done]
    table = pa.table(
        {
            "sha256": pa.array([p.sha256 for p in pages], pa.string()),
            "path": pa.array([str(p.body_path) for p in pages], pa.string()),
            "source": pa.array([p.source for p in pages], pa.string()),
            "shape": pa.array([d.shape for d in pages_done], pa.string()),
            "fetched_at": pa.array([p.fetched_at for p in pages], pa.timestamp("us")),
            "hashtag": pa.array([p.hashtag for p in pages], pa.string()),
            "run_id": pa.array([p.run_id for p in pages], pa.string()),
            "items_read": pa.array([d.items_read for d in pages_done], pa.int64()),
            "items_ingested": pa.array([d.items_read - d.items_rejected for d in pages_done], pa.int64()),
            "items_rejected": pa.array([d.items_rejected for d in pages_done], pa.int64()),
        }
    )
    con.register("_in_pages", table)
    con.execute(
        "INSERT INTO raw_pages SELECT DISTINCT ON (sha256) *, ? AS ingested_at FROM _in_pages ANTI JOIN raw_pages USING (sha256)",
        [clock.now()],
    )
    con.unregister("_in_pages")


def _record_rejects(con: duckdb.DuckDBPyConnection, batch: Batch) -> None:
    rejects = [r for r in batch.rejects if r.page is not None]
    if not rejects:
        return
    import pyarrow as pa

    table = pa.table(
        {
            "raw_sha256": [r.page.sha256 for r in rejects],
            "raw_path": [str(r.page.body_path) for r in rejects],
            "item_index": [r.item_index for r in rejects],
            "reason": [r.reason for r in rejects],
            "excerpt": [r.excerpt for r in rejects],
        }
    )
    con.register("_in_rejects", table)
    con.execute(
        "INSERT INTO rejects SELECT DISTINCT ON (raw_sha256, item_index) raw_sha256, raw_path, item_index, reason, excerpt, ? "
        "FROM _in_rejects r ANTI JOIN rejects x USING (raw_sha256, item_index)",
        [clock.now()],
    )
    con.unregister("_in_rejects")
