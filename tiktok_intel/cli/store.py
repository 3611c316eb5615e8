"""Workspace commands: init, import, process, status, settings."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .. import clock
from .. import settings as settings_module
from ..errors import UnsupportedInputError
from ..imports import expand, import_paths
from ..ingest.pages import process_pending, rebuild
from ..status import status
from ..store import Workspace
from .output import say


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("init", help="create the workspace and its database (upgrades an older one)")
    p.set_defaults(handler=cmd_init)

    p = subparsers.add_parser("import", help="import TikTok files (any supported shape, auto-detected) into the store")
    p.add_argument("paths", nargs="+", metavar="FILE_OR_DIR")
    p.add_argument(
        "--collected-at",
        metavar="TIME",
        type=clock.parse_time,
        help="collection time (ISO 8601, UTC) for data that carries none; default: each file's modification time",
    )
    p.set_defaults(handler=cmd_import)

    p = subparsers.add_parser("process", help="ingest raw pages not yet in the store")
    p.add_argument(
        "--rebuild", action="store_true", help="ingest every raw page again into new tables, swapped in for the derived ones on success"
    )
    p.add_argument(
        "--retry-failed", action="store_true", help="also try again the pages marked failed (see status); later runs leave them alone"
    )
    p.set_defaults(handler=cmd_process)

    p = subparsers.add_parser("status", help="tables, row counts, last import, rejects")
    p.set_defaults(handler=cmd_status)

    p = subparsers.add_parser("settings", help="every setting: environment variable, value (secrets hidden), help")
    p.add_argument("--markdown", action="store_true", help="print the settings reference as a Markdown table")
    p.set_defaults(handler=cmd_settings)


def cmd_init(args: argparse.Namespace) -> None:
    ws = args.workspace
    for folder in (ws.raw_dir, ws.media_dir, ws.reports_dir):
        folder.mkdir(parents=True, exist_ok=True)
    with ws.connection() as con:
        version = con.execute("SELECT max(version) FROM schema_version").fetchone()[0]
    print(f"workspace {ws.root} ready: database {ws.db_target} (schema version {version})")


def cmd_import(args: argparse.Namespace) -> None:
    files, skipped = expand(args.paths)  # before the database is opened: a wrong folder is named at once
    if not files:
        note = f" (skipped {len(skipped)} other file(s), e.g. {skipped[0].name})" if skipped else ""
        raise UnsupportedInputError(
            f"nothing to import: no .json, .ndjson, .jsonl or .html file in {', '.join(args.paths)}{note}; "
            "give the export files or the folder holding them"
        )
    with args.workspace.writing("import", on_wait=say) as con:
        stats = import_paths(con, args.paths, collected_at=args.collected_at, raw_dir=args.workspace.raw_dir)
    if stats.skipped_files:
        shown = ", ".join(stats.skipped_files[:3]) + (" ..." if len(stats.skipped_files) > 3 else "")
        print(f"skipped {len(stats.skipped_files)} file(s) in folders that are not .json/.ndjson/.html: {shown}", file=sys.stderr)
    print(stats.summary())


def cmd_process(args: argparse.Namespace) -> None:
    with args.workspace.writing("process", on_wait=say) as con:
        raw_dir = args.workspace.raw_dir
        stats = rebuild(con, raw_dir) if args.rebuild else process_pending(con, raw_dir, retry_failed=args.retry_failed)
    print(f"{stats.pages} raw page(s) ingested; " + stats.summary())


def cmd_status(args: argparse.Namespace) -> None:
    with args.workspace.reading(say=say) as con:  # waits for a writer, or reads its read copy (and says so)
        print(f"database {args.workspace.db_target}")
        print("\n".join(status(con).lines()))


def _exists(ws: Workspace) -> bool:
    return Path(ws.db_target).exists()


def cmd_settings(args: argparse.Namespace) -> None:
    if args.markdown:
        print(settings_module.settings_table_markdown())
        return
    values = args.workspace.settings.public()
    for setting in settings_module.DECLARED:
        print(f"{setting.env}={values[setting.name]}\n    {setting.help}")
