"""``tiktok-intel``: a thin command line over the library.

Each module in this package registers a few subcommands (``register(subparsers)``) and calls
library functions; errors a user can cause end as one line on stderr and exit code 1.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.metadata
import os
import sys
from collections.abc import Sequence

from ..errors import TikTokIntelError
from ..settings import configure, for_database, get_settings
from ..store import Workspace, no_room_is_a_store_error

#: Modules that add subcommands, in the order ``--help`` lists them.
COMMAND_MODULES = (
    "store",
    "collect",
    "analyses",
    "exports",
    "watch",
    "search",
    "follow",
    "orchestration",
    "dashboards",
    "notebooks",
    "jobs",
    "reference",
)
#: Exports (tables, networks) and watching (recheck, report removed, alerts) follow the analyses (whose `report` they extend).
#: Entry points of this group add commands from packages above the library (``flows``: ``run``,
#: ``serve``, ``demo``); one named after a module above registers its commands right after that
#: module's, the others after all of them.
PLUGIN_GROUP = "tiktok_intel.commands"


def version() -> str:
    """The installed package's version and the schema version it writes (``CHANGELOG.md`` has one entry each)."""
    from ..schema import SCHEMA_VERSION

    try:
        package = importlib.metadata.version("tiktok-intel")
    except importlib.metadata.PackageNotFoundError:
        package = "unknown (not installed)"
    return f"{package} (schema {SCHEMA_VERSION})"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tiktok-intel",
        description="TikTok research workbench: collect, store, analyse and show TikTok content for tracked hashtags.",
    )
    parser.add_argument("--db", metavar="PATH", help="database file (default: data/tiktok.duckdb; its folder becomes the workspace)")
    parser.add_argument(
        "--version", action="version", version=f"%(prog)s {version()}", help="show the version and the database schema version"
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    plugins = sorted(importlib.metadata.entry_points(group=PLUGIN_GROUP), key=lambda point: point.name)
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(f"{__name__}.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"{__name__}.{name}":
                raise
        else:
            module.register(subparsers)
        for point in [p for p in plugins if p.name == name]:
            point.load()(subparsers)
    for point in [p for p in plugins if p.name not in COMMAND_MODULES]:
        point.load()(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "handler", None):
        parser.print_help()
        return 2
    try:
        _check_text(args)
        settings = configure(**(for_database(args.db) if args.db else {})) or get_settings()
        args.workspace = Workspace.from_settings(settings)  # made here, passed down to every command
        with no_room_is_a_store_error():  # a full disk is one line naming the fix, whatever was writing
            result = args.handler(args)
        return int(result or 0)
    except TikTokIntelError as exc:
        print(f"tiktok-intel: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("tiktok-intel: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `tiktok-intel ... | head`: the reader has what it wanted
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


def _check_text(args: argparse.Namespace) -> None:
    """Refuse an argument that is not UTF-8 text (bytes Python gave as surrogate escapes) before
    anything is written: it could be neither stored nor recorded."""
    for name, value in vars(args).items():
        for text in value if isinstance(value, (list, tuple)) else [value]:
            if not isinstance(text, str):
                continue
            try:
                text.encode("utf-8")
            except UnicodeEncodeError:
                shown = text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
                option = name if name in ("paths", "names", "path") else "--" + name.replace("_", "-")
                raise TikTokIntelError(
                    f"{option} {shown!r} is not UTF-8 text: give it as UTF-8 (rename a file whose name is not)"
                ) from None


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
