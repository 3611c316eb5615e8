"""Analysis commands: ``trends``, ``rules``, ``report top-posts|top-authors|feed|overview``.

Rows go to stdout (a table, or ``--format csv|json`` for scripts); progress and one-line summaries
go to stderr, so machine-readable output stays clean.
"""

from __future__ import annotations

import argparse
import sys

import duckdb
import pandas as pd

from ..analyses import reports, rules, trends
from .options import add_tracked_filter, tracked_filter, whole_number
from .output import add_format_argument, print_frame, say

_non_negative = whole_number(0)
#: A window longer than TikTok has existed is "all posts"; days beyond this overflow the date arithmetic.
MAX_WINDOW_DAYS = 36_500
#: mlxtend's fpgrowth loops up to ``max_len`` for every path of its tree, whatever the hashtags: a
#: length of 2**31 did not finish in 5 minutes here. No rule has anywhere near 100 hashtags (0 = no limit).
MAX_RULE_LENGTH = 100


def _add_range(p: argparse.ArgumentParser, what: str = "published") -> None:
    p.add_argument("--start", metavar="DATE", help=f"only posts {what} on or after DATE (YYYY-MM-DD or ISO time, UTC)")
    p.add_argument("--end", metavar="DATE", help=f"only posts {what} before DATE's end (a bare date includes that day)")


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "trends",
        help="post / author / hashtag trends over 1, 7 and 30 days (change and growth %%)",
        description="List stored trends: the latest value of each metric, its change against the latest snapshot at least "
        "1, 7 and 30 days older, and that change as a growth %% (empty where no snapshot is that old). "
        "The first listing refreshes them; --refresh brings them up to date with new snapshots.",
    )
    p.add_argument("--refresh", action="store_true", help="recompute trends for entities with new snapshots first")
    p.add_argument("--full", action="store_true", help="with --refresh: recompute every entity, not only the changed ones")
    p.add_argument("--kind", choices=trends.KINDS, default="posts", help="what to list (default: posts)")
    p.add_argument("--window", choices=tuple(trends.WINDOWS), help="sort by the change over this window (default: by the current value)")
    p.add_argument(
        "--metric",
        help="metric to sort by: posts views|likes|comments|shares; authors followers|hearts|videos|likes_given; "
        "hashtags video_count|view_count|post_views (default: the first)",
    )
    p.add_argument("--by", choices=("change", "growth"), default="change", help="with --window: sort by change (default) or growth %%")
    add_tracked_filter(p, "only posts (--kind posts)")
    p.add_argument("--limit", type=_non_negative, default=0, metavar="N", help="at most N rows (default: all)")
    add_format_argument(p)
    p.set_defaults(handler=cmd_trends)

    p = subparsers.add_parser(
        "rules",
        help="association rules between hashtags of recent posts (mlxtend fpgrowth)",
        description="Recompute association rules over the hashtag sets of the posts collected in the window, store the run, "
        "and print its rules (strongest lift first). With --related or --runs, print stored results instead.",
    )
    p.add_argument(
        "--min-support",
        type=float,
        default=0.01,
        metavar="F",
        help="minimum support: a fraction of posts below 1 (0.01), or a number of posts from 1 up (20); default 0.01",
    )
    p.add_argument(
        "--min-confidence", type=float, default=0.5, metavar="F", help="minimum confidence, 0-1 (default 0.5; a rule exactly at it is kept)"
    )
    p.add_argument(
        "--window-days",
        type=whole_number(0, MAX_WINDOW_DAYS),
        default=30,
        metavar="N",
        help=f"posts collected in the last N days, at most {MAX_WINDOW_DAYS} (0 = all posts; default 30)",
    )
    p.add_argument(
        "--max-len",
        type=whole_number(0, MAX_RULE_LENGTH),
        default=3,
        metavar="N",
        help=f"most hashtags in a rule (antecedents + consequents; default 3, at most {MAX_RULE_LENGTH}); 0 = no limit",
    )
    p.add_argument("--include-tracked", action="store_true", help="allow tracked hashtags as consequents (excluded by default)")
    add_tracked_filter(p, "mine only posts")
    p.add_argument(
        "--related",
        metavar="NAME",
        help="do not recompute: print the latest run's rules that involve hashtag NAME (with --hashtag / --keyword: the latest run over that item's posts)",
    )
    p.add_argument("--runs", action="store_true", help="do not recompute: list the stored runs")
    p.add_argument("--limit", type=_non_negative, default=0, metavar="N", help="at most N rules (default: all)")
    add_format_argument(p)
    p.set_defaults(handler=cmd_rules)

    p = subparsers.add_parser("report", help="reports: top-posts, top-authors, feed, overview")
    sub = p.add_subparsers(dest="report", metavar="REPORT", required=True)

    r = sub.add_parser("top-posts", help="posts with the most views (or --metric) published in a date range")
    r.add_argument("--metric", choices=reports.POST_METRICS, default="views", help="rank by (default: views)")
    _add_range(r)
    add_tracked_filter(r)
    r.add_argument("--limit", type=_non_negative, default=20, metavar="N", help="rows (default 20)")
    add_format_argument(r)
    r.set_defaults(handler=cmd_report_top_posts)

    r = sub.add_parser("top-authors", help="authors by followers (or --metric) among those who published in a date range")
    r.add_argument(
        "--metric",
        choices=reports.AUTHOR_METRICS + reports.POST_METRICS,
        default="followers",
        help="an author count (followers, hearts, videos, likes_given) or a post count summed over their posts",
    )
    _add_range(r)
    add_tracked_filter(r, "only authors of posts")
    r.add_argument("--limit", type=_non_negative, default=20, metavar="N", help="rows (default 20)")
    add_format_argument(r)
    r.set_defaults(handler=cmd_report_top_authors)

    r = sub.add_parser("feed", help="top posts in feed: how many collections of a hashtag's feed listed each post")
    group = r.add_mutually_exclusive_group()
    group.add_argument("--hashtag", metavar="NAME", help="one feed (default: every tracked hashtag's); @ACCOUNT: its profile's listings")
    group.add_argument("--keyword", metavar="WORDS", help="a tracked keyword's search listings")
    _add_range(r, "listed")
    r.add_argument("--limit", type=_non_negative, default=20, metavar="N", help="rows (default 20)")
    add_format_argument(r)
    r.set_defaults(handler=cmd_report_feed)

    r = sub.add_parser("overview", help="posts, authors and hashtags collected per day / week / month / year, and their growth")
    r.add_argument("--period", choices=reports.PERIODS, default="day", help="default: day")
    r.add_argument("--start", metavar="DATE", help="first period to show (YYYY-MM-DD)")
    r.add_argument("--end", metavar="DATE", help="last period to show (a bare date includes that day)")
    add_format_argument(r)
    r.set_defaults(handler=cmd_report_overview)
    from .follow import register_reports  # report accounts, report discussed (issue 17)

    register_reports(sub)


def cmd_trends(args: argparse.Namespace) -> None:
    ws = args.workspace
    df = None
    if not args.refresh:  # a listing reads (waiting for a writer, or its read copy); only the first one refreshes
        with ws.reading(say=say) as con:
            if trends.last_refresh(con, args.kind) is not None:
                df = _trend_table(con, args)
    if df is None:
        with ws.writing("trends", on_wait=say) as con:  # waits for another writer, then refreshes
            if args.refresh or trends.last_refresh(con, args.kind) is None:
                for result in trends.refresh_trends(con, args.kind, full=args.full):
                    print(result.summary(), file=sys.stderr)
            df = _trend_table(con, args)
    print_frame(
        df, args.format, empty=f"no {args.kind} with snapshots yet: import or collect some, then run `tiktok-intel trends --refresh`"
    )


def _trend_table(con: duckdb.DuckDBPyConnection, args: argparse.Namespace) -> pd.DataFrame:
    return trends.trend_table(
        con, args.kind, metric=args.metric, window=args.window, by=args.by, hashtag=tracked_filter(args), limit=args.limit or None
    )


def cmd_rules(args: argparse.Namespace) -> None:
    if args.runs or args.related:  # stored results: a read
        with args.workspace.reading(say=say) as con:
            _print_stored_rules(con, args)
        return
    with args.workspace.writing("rules", on_wait=say) as con:  # a run is stored: waits for another writer
        run = rules.run_rules(
            con,
            min_support=args.min_support,
            min_confidence=args.min_confidence,
            window_days=args.window_days,
            max_len=args.max_len or None,
            exclude_tracked=not args.include_tracked,
            hashtag=tracked_filter(args),
        )
    print(run.summary(), file=sys.stderr)
    df = run.rules.head(args.limit) if args.limit else run.rules
    hint = (
        "no posts in the window: widen it (--window-days 0 = all posts)"
        if run.posts == 0
        else "no rules at these thresholds: lower --min-support or --min-confidence"
    )
    print_frame(df, args.format, empty=hint)


def _print_stored_rules(con: duckdb.DuckDBPyConnection, args: argparse.Namespace) -> None:
    if args.runs:
        print_frame(rules.rule_runs(con, limit=args.limit or 20), args.format, empty="no rules runs yet: run `tiktok-intel rules`")
        return
    df = rules.related_hashtags(con, args.related, hashtag=tracked_filter(args), limit=args.limit or None)
    print_frame(
        df, args.format, empty=f"no stored rule involves #{args.related}: run `tiktok-intel rules` (perhaps with a lower --min-support)"
    )


def cmd_report_top_posts(args: argparse.Namespace) -> None:
    with args.workspace.reading(say=say) as con:
        df = reports.top_posts(con, args.metric, start=args.start, end=args.end, hashtag=tracked_filter(args), limit=args.limit)
    print_frame(df, args.format, empty="no posts in that range")


def cmd_report_top_authors(args: argparse.Namespace) -> None:
    with args.workspace.reading(say=say) as con:
        df = reports.top_authors(con, args.metric, start=args.start, end=args.end, hashtag=tracked_filter(args), limit=args.limit)
    print_frame(df, args.format, empty="no authors in that range")


def cmd_report_feed(args: argparse.Namespace) -> None:
    with args.workspace.reading(say=say) as con:
        df = reports.top_feed_posts(con, tracked_filter(args), start=args.start, end=args.end, limit=args.limit)
    print_frame(df, args.format, empty="no feed collections in that range: collect a tracked hashtag first (`tiktok-intel collect`)")


def cmd_report_overview(args: argparse.Namespace) -> None:
    with args.workspace.reading(say=say) as con:
        df = reports.overview(con, args.period, start=args.start, end=args.end)
    print_frame(df, args.format, empty="nothing collected yet: import or collect some posts first")
