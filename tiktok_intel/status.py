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
    failed_pages: int = 0
    #: the latest failures: (path, reason, failed at, attempts)
    failures: list[tuple[str, str, dt.datetime, int]] = dataclasses.field(default_factory=list)

    def lines(self) -> list[str]:
        out = [f"schema version {self.schema_version}"]
        width = max(len(name) for name in self.counts)
        out += [f"  {name:<{width}}  {count:>12,}" for name, count in self.counts.items()]
        from .localtime import format_time

        out.append(
            f"last ingest: {format_time(self.last_ingest, seconds=True, zone_name=True)}" if self.last_ingest else "last ingest: never"
        )
        if self.reject_reasons:
            out.append("rejects by reason:")
            out += [f"  {count:>6,}  {reason}" for reason, count in self.reject_reasons]
        if self.failed_pages:
            out.append(
                f"failed pages: {self.failed_pages:,} (not retried by later runs; `tiktok-intel process --retry-failed` tries them again)"
            )
            out += [f"  {at:%Y-%m-%d %H:%M:%S}  {path}  ({attempts}x): {reason}" for path, reason, at, attempts in self.failures]
        else:
            out.append("failed pages: none")
        return out


def status(con: duckdb.DuckDBPyConnection) -> Status:
    counts = {name: con.execute(f"SELECT count(*) FROM {name}").fetchone()[0] for name in REPORTED_TABLES}
    last = con.execute("SELECT max(ingested_at) FROM raw_pages").fetchone()[0]
    reasons = con.execute(
        "SELECT regexp_replace(reason, '\\(.*\\)', '(…)') AS r, count(*) FROM rejects GROUP BY r ORDER BY 2 DESC, 1 LIMIT 10"
    ).fetchall()
    version = con.execute("SELECT max(version) FROM schema_version").fetchone()[0] or SCHEMA_VERSION
    failed, failures = 0, []
    if con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE table_name = 'failed_pages' AND database_name = current_database()"
    ).fetchone()[0]:
        failed = con.execute("SELECT count(*) FROM failed_pages").fetchone()[0]
        failures = con.execute(
            f"SELECT path, reason, failed_at, attempts FROM failed_pages ORDER BY failed_at DESC, path LIMIT {SHOWN_FAILURES}"
        ).fetchall()
    return Status(version, counts, last, [(r, n) for r, n in reasons], failed, [tuple(f) for f in failures])


#: The latest failed pages ``status`` lists.
SHOWN_FAILURES = 5
