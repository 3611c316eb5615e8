"""Commands for what is followed besides hashtags: ``comments POST_ID``, ``report accounts``,
``report discussed`` (registered into ``report`` by :mod:`.analyses`), and ``search --in comments``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..analyses import following
from ..analyses.exports import to_csv_bytes, to_excel_bytes
from ..errors import TikTokIntelError
from .output import add_format_argument, print_frame, say


class CommentsArgumentError(TikTokIntelError):
    """A comments command that cannot run as given."""


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "comments",
        help="a post's comments and replies (table, csv, json, or --output FILE.csv or FILE.xlsx)",
        description="A post's collected comments, most liked first, each followed by its replies. CSV and Excel cells that a "
        "spreadsheet would run as a formula are neutralised.",
    )
    p.add_argument("post_id", metavar="POST_ID")
    p.add_argument("--limit", type=int, metavar="N", help="top-level comments to show (default: all)")
    p.add_argument("--format", choices=("table", "csv", "json"), default="table", help="on stdout (default table)")
    p.add_argument("--output", metavar="FILE", help="write a .csv or .xlsx file instead")
    p.set_defaults(handler=cmd_comments)


def register_reports(sub: argparse._SubParsersAction) -> None:
    """``report accounts`` and ``report discussed`` (called from :func:`.analyses.register`)."""
    r = sub.add_parser("accounts", help="watched accounts over time: followers (or --metric) with the 1/7/30-day change")
    r.add_argument("--metric", choices=following.ACCOUNT_METRICS, default="followers", help="default: followers")
    r.add_argument("--all", action="store_true", help="removed accounts too")
    add_format_argument(r)
    r.set_defaults(handler=cmd_report_accounts)
    r = sub.add_parser("discussed", help="most discussed posts: comments, replies and comment likes collected")
    r.add_argument("--since", metavar="DATE", help="only posts published on or after DATE (YYYY-MM-DD)")
    r.add_argument("--until", metavar="DATE", help="only posts published on or before DATE")
    r.add_argument("--limit", type=int, default=20, metavar="N", help="rows (default 20)")
    add_format_argument(r)
    r.set_defaults(handler=cmd_report_discussed)


def cmd_comments(args: argparse.Namespace) -> None:
    if args.limit is not None and args.limit < 1:
        raise CommentsArgumentError(f"--limit must be at least 1 (got {args.limit})")
    with args.workspace.reading(say=say) as con:
        df = following.post_comments(con, args.post_id, limit=args.limit)
        known = con.execute("SELECT count(*) FROM posts WHERE post_id = ?", [args.post_id]).fetchone()[0]
    empty = (
        f"no comments collected for post {args.post_id}: track its account or a hashtag it is in, then `tiktok-intel collect`"
        if known
        else f"no post {args.post_id} in the store: check the id (`tiktok-intel search`)"
    )
    if args.output:
        path = Path(args.output)
        if path.suffix.lower() not in (".csv", ".xlsx"):
            raise CommentsArgumentError(f"--output {args.output}: name a .csv or .xlsx file")
        path.write_bytes(to_excel_bytes(df, sheet="comments") if path.suffix.lower() == ".xlsx" else to_csv_bytes(df))
        print(f"{len(df):,} comments of post {args.post_id} -> {path}")
        return
    if args.format == "csv":
        sys.stdout.write(to_csv_bytes(df).decode("utf-8-sig"))
        return
    print_frame(df, args.format, empty=empty)


def cmd_report_accounts(args: argparse.Namespace) -> None:
    with args.workspace.reading(say=say) as con:
        df = following.account_report(con, args.metric, include_inactive=args.all)
    print_frame(df, args.format, empty="no accounts tracked: `tiktok-intel track add @svtnyheter`, then `tiktok-intel collect`")


def cmd_report_discussed(args: argparse.Namespace) -> None:
    with args.workspace.reading(say=say) as con:
        df = following.most_discussed(con, since=args.since, until=args.until, limit=args.limit)
    print_frame(df, args.format, empty="no comments collected in that range: track accounts or keywords, then `tiktok-intel collect`")
