"""Export commands: ``export tables`` (every table as Parquet or CSV, with a README of the columns)
and ``export network`` (cotag, author-hashtag or duplicates networks as GEXF, GraphML or CSV)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..analyses import networks, tables
from ..errors import TikTokIntelError
from .options import whole_number
from .output import say


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("export", help="export tables (Parquet / CSV) and networks (GEXF / GraphML / CSV)")
    sub = p.add_subparsers(dest="export", metavar="WHAT", required=True)

    r = sub.add_parser(
        "tables",
        help="every table as Parquet (or CSV) files with a README of the columns",
        description="Write every table of the store to DIR as <table>.parquet (or .csv) and a README.md naming each "
        "table's columns and types, for DuckDB, pandas, Spark or R.",
    )
    r.add_argument("dir", metavar="DIR", help="folder to write (created if missing; existing files of the same names are replaced)")
    r.add_argument("--format", choices=tables.FORMATS, default="parquet", help="parquet (default) or csv")
    r.add_argument("--table", action="append", metavar="NAME", help="only this table (repeat for more)")
    r.set_defaults(handler=cmd_export_tables)

    r = sub.add_parser(
        "network",
        help="a network for Gephi: cotag, author-hashtag or duplicates, as GEXF, GraphML or a CSV edge list",
        description="Build a network of the posts published in the window and write it to stdout (or --output): "
        "cotag (hashtags linked by the posts carrying both), author-hashtag (accounts and the hashtags they use) or "
        "duplicates (accounts linked by posting near-identical images). Nodes carry posts, views and first seen; "
        "edges a weight.",
    )
    r.add_argument("--kind", choices=networks.KINDS, default="cotag", help="which network (default: cotag)")
    r.add_argument("--format", choices=networks.FORMATS, default="gexf", help="gexf (Gephi, default), graphml or csv (edge list)")
    r.add_argument("--since", metavar="DATE", help="only posts published on or after DATE (YYYY-MM-DD or ISO time, UTC)")
    r.add_argument("--until", metavar="DATE", help="only posts published before DATE's end (a bare date includes that day)")
    r.add_argument("--min-weight", type=whole_number(1), default=1, metavar="N", help="only edges of at least N posts (default 1)")
    r.add_argument("--output", "-o", metavar="PATH", help="write to PATH instead of stdout")
    r.set_defaults(handler=cmd_export_network)


def cmd_export_tables(args: argparse.Namespace) -> None:
    with args.workspace.reading(say=say) as con:
        result = tables.export_tables(con, args.dir, fmt=args.format, tables=args.table)
    say(result.summary())


def cmd_export_network(args: argparse.Namespace) -> None:
    with args.workspace.reading(say=say) as con:
        net = networks.build(con, args.kind, since=args.since, until=args.until, min_weight=args.min_weight)
    data = networks.encode(net, args.format)
    if args.output:
        try:
            Path(args.output).write_bytes(data)
        except OSError as exc:
            raise TikTokIntelError(f"cannot write {args.output} ({exc.strerror or exc}): give a path you can write") from None
        say(f"{net.summary()} -> {args.output}")
    else:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
        say(net.summary())
