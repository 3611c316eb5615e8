"""What is in a workspace: tables, row counts, last import, rejects."""

from __future__ import annotations

import dataclasses
import datetime as dt

import duckdb

from .schema import INGEST_TABLES, SCHEMA_VERSION

REPORTED_TABLES = tuple(t.name for t in INGEST_TABLES) + ("tracked_hashtags", "raw_pages", "rejects", "runs")


@dataclasses.dataclass
class Status:
    schema_version: int
    counts: dict[str, int]
    last_ingest: dt.datetime | None
    reject_reasons: list[tuple[str, int]]

    def lines(self) -> list[str]:
        out = [f"schema version {self.schema_version}"]
        width = max(len(name) for name in self.counts)
        out += [f"  {name:<{width}}  {count:>12,}" for name, count in self.counts.items()]
        out.append(f"last ingest: {self.last_ingest:%Y-%m-%d %H:%M:%S} UTC" if self.last_ingest else "last ingest: never")
        if self.reject_reasons:
            out.append("rejects by reason:")
            out += [f"  {count:>6,}  {reason}" for reason, count in self.reject_reasons]
        return out


def status(con: duckdb.DuckDBPyConnection) -> Status:
    counts = {name: con.execute(f"SELECT count(*) FROM {name}").fetchone()[0] for name in REPORTED_TABLES}
    last = con.execute("SELECT max(ingested_at) FROM raw_pages").fetchone()[0]
    reasons = con.execute(
        "SELECT regexp_replace(reason, '\\(.*\\)', '(…)') AS r, count(*) FROM rejects GROUP BY r ORDER BY 2 DESC, 1 LIMIT 10"
    ).fetchall()
    version = con.execute("SELECT max(version) FROM schema_version").fetchone()[0] or SCHEMA_VERSION
    return Status(version, counts, last, [(r, n) for r, n in reasons])
