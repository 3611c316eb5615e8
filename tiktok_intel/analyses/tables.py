"""Every table out of the store, as Parquet (or CSV) files with a README of their columns, so
DuckDB, pandas, Spark or R read the data without this package (``tiktok-intel export tables``).

Tables are streamed in record batches (a table larger than memory still goes out). Parquet keeps
the types; CSV cells are made safe for spreadsheets (:func:`~tiktok_intel.analyses.exports.frame_for_export`:
formulas neutralised, lists joined, secrets removed). The README names each table's rows and
columns with their types and the comment its migration gives the column.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import duckdb

from .. import clock, schema
from ..errors import TikTokIntelError
from ..progress import progress
from . import choose
from .exports import frame_for_export

FORMATS = ("parquet", "csv")
BATCH_ROWS = 100_000


class ExportError(TikTokIntelError):
    """The export folder cannot be written (the message names the fix)."""


@dataclasses.dataclass
class TablesExport:
    folder: Path
    fmt: str
    tables: dict[str, int]  # table -> rows written

    def summary(self) -> str:
        rows = sum(self.tables.values())
        return f"{len(self.tables)} tables, {rows:,} rows as {self.fmt} -> {self.folder} (README.md lists the columns)"


def table_names(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The store's tables (its current database and schema: a DuckDB file or a DuckLake catalog)."""
    rows = con.execute(
        """SELECT table_name FROM duckdb_tables()
           WHERE database_name = current_database() AND schema_name = current_schema() AND NOT temporary
           ORDER BY table_name"""
    ).fetchall()
    return [r[0] for r in rows]


def column_comments() -> dict[tuple[str, str], str]:
    """``(table, column) -> comment`` from the ``-- comment`` beside a column in the migrations."""
    comments: dict[tuple[str, str], str] = {}
    table = None
    for script in schema.MIGRATIONS:
        for line in script.splitlines():
            start = re.match(r"\s*CREATE TABLE IF NOT EXISTS (\w+)", line)
            if start:
                table = start.group(1)
                continue
            if table is None:
                continue
            if line.strip().startswith(")"):
                table = None
                continue
            column = re.match(r"\s*(\w+)\s+[A-Z][^-]*--\s*(.+)$", line)
            if column and "," not in line.split("--")[0].strip().rstrip(","):  # one column on the line
                comments[(table, column.group(1))] = column.group(2).strip()
    return comments


def _readme(con: duckdb.DuckDBPyConnection, written: dict[str, int], fmt: str) -> str:
    comments = column_comments()
    lines = [
        "# tiktok-intel tables",
        "",
        f"Exported {clock.now():%Y-%m-%d %H:%M} UTC, schema version {schema.SCHEMA_VERSION}: one {fmt} file per table. "
        "All times are UTC without a time zone; ids are text; counts are whole numbers.",
        "",
    ]
    for name, rows in written.items():
        lines += [f"## {name}", "", f"`{name}.{fmt}`: {rows:,} rows.", "", "| column | type | note |", "|---|---|---|"]
        for column, kind in con.execute(
            "SELECT column_name, data_type FROM duckdb_columns() WHERE database_name = current_database() "
            "AND schema_name = current_schema() AND table_name = ? ORDER BY column_index",
            [name],
        ).fetchall():
            note = comments.get((name, column), "").replace("|", "\\|")
            lines.append(f"| {column} | {kind} | {note} |")
        lines.append("")
    return "\n".join(lines)


def export_tables(
    con: duckdb.DuckDBPyConnection, folder: str | Path, *, fmt: str = "parquet", tables: list[str] | None = None
) -> TablesExport:
    """Write every table (or ``tables``) to ``folder`` as ``<table>.parquet`` (or ``.csv``) and a README.md."""
    import pyarrow.parquet as pq

    fmt = choose(fmt, FORMATS, "table format", "--format")
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ExportError(f"cannot create {folder} ({exc.strerror or exc}): give a folder you can write") from None
    names = table_names(con)
    if tables:
        unknown = sorted(set(tables) - set(names))
        if unknown:
            raise ExportError(f"no table {', '.join(unknown)}: use some of {', '.join(names)}")
        names = [n for n in names if n in tables]
    written: dict[str, int] = {}
    try:
        for name in progress(iterable=names, desc="tables", unit="table"):
            target = folder / f"{name}.{fmt}"
            partial = target.with_name(target.name + ".part")
            reader = con.execute(f'SELECT * FROM "{name}"').to_arrow_reader(BATCH_ROWS)
            rows = 0
            if fmt == "parquet":
                with pq.ParquetWriter(partial, reader.schema) as writer:
                    for batch in reader:
                        writer.write_batch(batch)
                        rows += batch.num_rows
            else:
                with open(partial, "w", encoding="utf-8", newline="") as out:
                    header = True
                    for batch in reader:
                        frame_for_export(batch.to_pandas()).to_csv(out, index=False, header=header)
                        header = False
                        rows += batch.num_rows
                    if header:  # an empty table: the header alone
                        out.write(",".join(reader.schema.names) + "\n")
            partial.replace(target)
            written[name] = rows
        (folder / "README.md").write_text(_readme(con, written, fmt), encoding="utf-8")
    except OSError as exc:
        raise ExportError(f"cannot write to {folder} ({exc.strerror or exc}): free some space or give another folder") from None
    return TablesExport(folder, fmt, written)
