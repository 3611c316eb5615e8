"""Knowing when something changes: ``recheck`` (are recent posts still available?), ``report
removed`` (the posts TikTok no longer shows, with their last stored copy), ``alerts list`` and
``alerts test NAME``."""

from __future__ import annotations

import argparse
import sys

from .. import alerts
from ..analyses import availability
from ..collect.recheck import GONE
from .options import whole_number
from .output import add_format_argument, print_frame, say


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "recheck",
        help="ask TikTok whether recent posts are still available (removed / private / region-blocked)",
        description="Ask TikTok about the posts collected in the last N days (setting recheck_days), most recently "
        "active first, within the rate limits; record each status change once, then run the alert rules that read it.",
    )
    p.add_argument("--days", type=whole_number(0, 36_500), metavar="N", help="posts collected in the last N days (default: recheck_days)")
    p.add_argument("--max-posts", type=whole_number(0), metavar="N", help="ask about at most N posts (default: recheck_max_posts)")
    p.add_argument("--no-alerts", action="store_true", help="do not run the alert rules afterwards")
    p.set_defaults(handler=cmd_recheck)

    report = subparsers.choices.get("report")
    if report is not None:
        sub = next(a for a in report._actions if isinstance(a, argparse._SubParsersAction))
        r = sub.add_parser("removed", help="removed, private and region-blocked posts with their last stored copy")
        r.add_argument("--since", metavar="DATE", help="only posts first seen gone on or after DATE (YYYY-MM-DD or ISO time, UTC)")
        r.add_argument("--until", metavar="DATE", help="only posts first seen gone before DATE's end")
        r.add_argument("--status", action="append", choices=GONE, help="only this status (repeat for more; default: all three)")
        r.add_argument("--limit", type=whole_number(0), default=0, metavar="N", help="at most N posts (default: all)")
        add_format_argument(r)
        r.set_defaults(handler=cmd_report_removed)

    p = subparsers.add_parser("alerts", help="alert rules and channels: list them, send a test message")
    sub = p.add_subparsers(dest="alerts", metavar="ACTION", required=True)
    r = sub.add_parser(
        "list",
        help="the rules and channels of the alerts file, with their problems",
        description="List the alerts file's channels and rules (file: TIKTOK_INTEL_ALERTS_FILE, default <workspace>/alerts.toml), "
        "each with what it does, the flow after which it runs, and its problems, one line each. Exits 1 when any has a problem.",
    )
    add_format_argument(r)
    r.set_defaults(handler=cmd_alerts_list)
    r = sub.add_parser("test", help="send a sample message through a channel (or each channel of a rule)")
    r.add_argument("name", metavar="NAME", help="a channel's (or a rule's) name in the alerts file")
    r.set_defaults(handler=cmd_alerts_test)
    r = sub.add_parser("deliveries", help="the latest alert deliveries, failed ones included")
    r.add_argument("--failed", action="store_true", help="only those not sent")
    r.add_argument("--limit", type=whole_number(1), default=20, metavar="N", help="rows (default 20)")
    add_format_argument(r)
    r.set_defaults(handler=cmd_alerts_deliveries)


def cmd_recheck(args: argparse.Namespace) -> None:
    from ..orchestration import steps
    from ..orchestration.runs import flow_run

    ws = args.workspace
    with flow_run("recheck", {"days": args.days, "max_posts": args.max_posts}, workspace=ws, on_wait=say) as run:
        result = steps.recheck(run.workspace, days=args.days, max_posts=args.max_posts)
        run.step("recheck", result.counts, result.note)
        if not args.no_alerts:
            done = alerts.after_flow(run.workspace, "recheck")
            run.step("alerts", done.counts(), done.summary())
    say(run.summary())


def cmd_report_removed(args: argparse.Namespace) -> None:
    with args.workspace.reading(say=say) as con:
        df = availability.removed_posts(
            con, since=args.since, until=args.until, statuses=tuple(args.status or GONE), limit=args.limit or None
        )
    print_frame(df, args.format, empty="no removed, private or region-blocked post found: run `tiktok-intel recheck` first")


def cmd_alerts_list(args: argparse.Namespace) -> int:
    df = alerts.table()
    if df.empty:
        say(f"no alert rules: write them in {alerts.alerts_path()} (see `tiktok-intel alerts --help` and the README)")
        return 0
    print_frame(df, args.format)
    bad = [f"{what}: {problem}" for what, problems in alerts.load().problems().items() for problem in problems]
    for line in bad:  # one line per problem
        print(f"tiktok-intel: {line}", file=sys.stderr)
    return 1 if bad else 0


def cmd_alerts_test(args: argparse.Namespace) -> None:
    for line in alerts.send_sample(args.name):
        say(line)


def cmd_alerts_deliveries(args: argparse.Namespace) -> None:
    with args.workspace.reading(say=say) as con:
        df = alerts.deliveries(con, failed_only=args.failed, limit=args.limit)
    print_frame(df, args.format, empty="no alert deliveries yet")
