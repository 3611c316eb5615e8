"""Workspace commands: init, import, process, status, settings."""
from __future__ import annotations

import argparse
import sys

from .. import clock, settings as settings_module
from ..errors import UnsupportedInputError
from ..importing import expand, import_paths
from ..processing import process_pending, rebuild
from ..settings import get_settings
from ..status import status
from ..store import connection
from .writing import writing


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("init", help="create the workspace and its database (upgrades an older one)")
    p.set_defaults(handler=cmd_init)

    p = subparsers.add_parser("import", help="import TikTok files (any supported shape, auto-detected) into the store")
    p.add_argument("paths", nargs="+", metavar="FILE_OR_DIR")
    p.add_argument("--collected-at", metavar="TIME", type=clock.parse_time,
                   help="collection time (ISO 8601, UTC) for data that carries none; default: each file's modification time")
    p.set_defaults(handler=cmd_import)

    p = subparsers.add_parser("process", help="ingest raw pages not yet in the store")
    p.add_argument("--rebuild", action="store_true", help="empty the derived tables and ingest every raw page again")
    p.set_defaults(handler=cmd_process)

    p = subparsers.add_parser("status", help="tables, row counts, last import, rejects")
    p.set_defaults(handler=cmd_status)

    p = subparsers.add_parser("settings", help="every setting: environment variable, value (secrets hidden), help")
    p.add_argument("--markdown", action="store_true", help="print the settings reference as a Markdown table")
    p.set_defaults(handler=cmd_settings)


def cmd_init(args: argparse.Namespace) -> None:
    settings = get_settings()
    for folder in (settings.raw_dir, settings.media_dir, settings.reports_dir):
        folder.mkdir(parents=True, exist_ok=True)
    with connection() as con:
        version = con.execute("SELECT max(version) FROM schema_version").fetchone()[0]
    print(f"workspace {settings.workspace_path} ready: database {settings.db_target} (schema version {version})")


def cmd_import(args: argparse.Namespace) -> None:
    files, skipped = expand(args.paths)  # before the database is opened: a wrong folder is named at once
    if not files:
        note = f" (skipped {len(skipped)} other file(s), e.g. {skipped[0].name})" if skipped else ""
        raise UnsupportedInputError(f"nothing to import: no .json, .ndjson, .jsonl or .html file in {', '.join(args.paths)}{note}; "
                                    "give the export files or the folder holding them")
    with writing("import") as con:
        stats = import_paths(con, args.paths, collected_at=args.collected_at)
    if stats.skipped_files:
        shown = ", ".join(stats.skipped_files[:3]) + (" ..." if len(stats.skipped_files) > 3 else "")
        print(f"skipped {len(stats.skipped_files)} file(s) in folders that are not .json/.ndjson/.html: {shown}", file=sys.stderr)
    print(stats.summary())


def cmd_process(args: argparse.Namespace) -> None:
    with writing("process") as con:
        stats = rebuild(con) if args.rebuild else process_pending(con)
    print(f"{stats.pages} raw page(s) ingested; " + stats.summary())


def cmd_status(args: argparse.Namespace) -> None:
    with connection(read_only=_exists()) as con:
        print(f"database {get_settings().db_target}")
        print("\n".join(status(con).lines()))


def _exists() -> bool:
    from pathlib import Path

    return Path(get_settings().db_target).exists()


def cmd_settings(args: argparse.Namespace) -> None:
    if args.markdown:
        print(settings_module.settings_table_markdown())
        return
    values = get_settings().public()
    for setting in settings_module.DECLARED:
        print(f"{setting.env}={values[setting.name]}\n    {setting.help}")
