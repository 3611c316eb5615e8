"""Collection commands: track add|remove|list, collect, monitor, offline-tiktok."""

from __future__ import annotations

import argparse
import datetime as dt
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from .. import clock, tracking
from ..errors import TikTokIntelError
from .options import INTEGER_MAX, whole_number
from .output import say

if TYPE_CHECKING:
    from ..collect import RunResult
    from ..store import Workspace


class BadArgumentError(TikTokIntelError):
    """A command-line value that cannot be used."""


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date: use YYYY-MM-DD") from None


def _time(text: str) -> dt.datetime:
    try:
        return clock.parse_time(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a time: use ISO 8601 such as 2026-11-24T08:00:00Z") from None


_positive = whole_number(1, INTEGER_MAX)  # --max-posts is stored with the run's cursor (INTEGER)


def register(subparsers: argparse._SubParsersAction) -> None:
    track = subparsers.add_parser(
        "track",
        help="the tracked list (hashtags, @accounts, keywords): add, remove, list",
        description="Manage the hashtags, accounts and keywords that collect follows.",
    )
    actions = track.add_subparsers(dest="track_command", metavar="ACTION")
    track.set_defaults(handler=lambda args: track.print_help() or 2)
    p = actions.add_parser(
        "add",
        help="track hashtags, @accounts and --keyword KEYWORD (each normalised and checked)",
        description="Track hashtags ('#SVTnyheter' and 'svtnyheter' are the same hashtag), accounts (@svtnyheter or a profile "
        'link) and keywords (--keyword "vattenbrist": TikTok search, for topics without a hashtag).',
    )
    p.add_argument("names", nargs="*", metavar="HASHTAG|@ACCOUNT")
    p.add_argument("--keyword", action="append", default=[], metavar="WORDS", help="track a search keyword (repeatable)")
    p.set_defaults(handler=cmd_track_add)
    p = actions.add_parser(
        "remove",
        help="stop tracking hashtags, @accounts, --keyword KEYWORD (what was collected is kept)",
        description="Deactivate tracked items; their history and collected posts stay in the store.",
    )
    p.add_argument("names", nargs="*", metavar="HASHTAG|@ACCOUNT")
    p.add_argument("--keyword", action="append", default=[], metavar="WORDS", help="stop tracking this keyword (repeatable)")
    p.set_defaults(handler=cmd_track_remove)
    p = actions.add_parser(
        "list",
        help="kind, name, active, last collected, posts",
        description="Show the tracked hashtags, accounts and keywords (removed ones too, marked inactive).",
    )
    p.add_argument("--active", action="store_true", help="only the hashtags being tracked now")
    p.set_defaults(handler=cmd_track_list)

    p = subparsers.add_parser(
        "collect",
        help="fetch posts for the tracked hashtags from TikTok (raw pages first, then ingest)",
        description="Collect posts for each tracked hashtag (or --hashtag NAME). Interrupted runs resume "
        "from the saved cursor; the run ends with a one-line summary.",
    )
    p.add_argument("--hashtag", action="append", metavar="NAME", help="collect this hashtag (repeatable) instead of the tracked list")
    p.add_argument("--max-posts", type=_positive, metavar="N", help="posts per hashtag (default: TIKTOK_INTEL_MAX_POSTS, 500)")
    p.add_argument("--source", choices=("web", "research"), default="web", help="web API (default) or Research API")
    p.add_argument("--since", type=_date, metavar="YYYY-MM-DD", help="research: first day (default: 6 days before --until)")
    p.add_argument("--until", type=_date, metavar="YYYY-MM-DD", help="research: last day (default: today, UTC)")
    p.add_argument("--region", action="append", metavar="CC", default=[], help="research: only videos from this region (repeatable)")
    p.add_argument("--no-covers", action="store_true", help="do not download cover images")
    p.add_argument(
        "--raw-only",
        action="store_true",
        help="web: only write the pages to raw (no database lock: collectors on several machines can share the raw "
        "folder); `tiktok-intel process` ingests them",
    )
    p.set_defaults(handler=cmd_collect)

    p = subparsers.add_parser(
        "monitor",
        help="snapshot each tracked hashtag's own stats (video and view counts)",
        description="Snapshot every tracked hashtag's video count and view count into hashtag_stats (the 30-minute job).",
    )
    p.add_argument("--hashtag", action="append", metavar="NAME", help="only this hashtag (repeatable)")
    p.set_defaults(handler=cmd_monitor)

    p = subparsers.add_parser(
        "offline-tiktok",
        help="serve the offline TikTok (web API, Research API, covers) until Ctrl-C",
        description="A local stand-in for TikTok, deterministic from --seed, for demos and tests.",
    )
    p.add_argument("--port", type=whole_number(0, 65535), default=8765, help="port on 127.0.0.1 (default 8765; 0: any free port)")
    p.add_argument("--seed", type=int, default=0, help="world seed (default 0)")
    p.add_argument("--hashtag", action="append", metavar="NAME", default=[], help="make sure this hashtag exists (repeatable)")
    p.add_argument("--start", type=_time, metavar="TIME", help="simulated time at start (ISO 8601, UTC; default: now)")
    p.add_argument("--speed", type=float, default=1.0, help="simulated seconds per real second (default 1)")
    p.add_argument("--require-signature", action="store_true", help="answer unsigned web API requests with an empty body")
    p.set_defaults(handler=cmd_offline)


def _items(args: argparse.Namespace) -> list[tuple[str | None, str]]:
    return [(None, n) for n in args.names] + [("keyword", k) for k in args.keyword]


def _shown(item: tuple[str, str]) -> str:
    kind, name = item
    return {"account": f"@{name}", "keyword": f'"{name}"'}.get(kind, name)


def cmd_track_add(args: argparse.Namespace) -> None:
    items = _items(args)
    with args.workspace.writing("track add", on_wait=say) as con:
        wanted = list(dict.fromkeys(tracking.parse_item(name, kind) for kind, name in items))  # each checked before any is written
        added = tracking.add_items(con, items)
    already = [i for i in wanted if i not in added]
    text = f"tracking {', '.join(map(_shown, added))}" if added else "nothing new"
    if already:
        text += f" (already tracked: {', '.join(map(_shown, already))})"
    print(text)


def cmd_track_remove(args: argparse.Namespace) -> None:
    items = _items(args)
    if not items:
        raise BadArgumentError("name what to stop tracking: a hashtag, an @account or --keyword WORDS")
    with args.workspace.writing("track remove", on_wait=say) as con:
        removed = tracking.remove_items(con, items)
    print(f"stopped tracking {', '.join(map(_shown, removed))} (collected data kept)")


def cmd_track_list(args: argparse.Namespace) -> None:
    with args.workspace.reading(say=say) as con:  # waits for a writer, or reads its read copy (and says so)
        has_items = con.execute("SELECT count(*) FROM tracked_items").fetchone()[0] > 0
        if has_items:
            print(tracking.format_items(tracking.list_items(con, include_inactive=not args.active)))
            return
        rows = tracking.list_tracked(con, include_inactive=not args.active)
    print(tracking.format_table(rows))


def cmd_collect(args: argparse.Namespace) -> int:
    from ..collect import collect

    if args.source == "web" and (args.since or args.until or args.region):
        raise BadArgumentError("--since, --until and --region are for --source research")
    ws = args.workspace
    if args.raw_only:  # writes nothing but raw pages: no write lock, no run recorded, the store only read for the tracked list
        result = collect(ws, args.hashtag, args.max_posts, args.source, raw_only=True)
    else:
        parameters = {
            "hashtags": args.hashtag,
            "max_posts": args.max_posts,
            "source": args.source,
            "since": args.since,
            "until": args.until,
            "regions": args.region,
            "covers": not args.no_covers,
        }
        result = recorded(
            "collect",
            parameters,
            lambda run_id: collect(
                ws,
                args.hashtag,
                args.max_posts,
                args.source,
                since=args.since,
                until=args.until,
                regions=args.region,
                covers=not args.no_covers,
                run_id=run_id,
            ),
            workspace=ws,
            on_wait=say,
        )
    print(result.summary())
    return 1 if result.failed else 0


def cmd_monitor(args: argparse.Namespace) -> int:
    from ..collect import monitor

    ws = args.workspace
    result = recorded(
        "monitor", {"hashtags": args.hashtag}, lambda run_id: monitor(ws, args.hashtag, run_id=run_id), workspace=ws, on_wait=say
    )
    print(result.summary())
    for o in result.outcomes:
        if o.ok:
            print(f"  #{o.hashtag}: {o.video_count:,} videos, {o.view_count:,} views")
    return 1 if result.failed else 0


def recorded(
    flow: str,
    parameters: Mapping[str, Any],
    run: Callable[[str], RunResult],
    *,
    workspace: Workspace,
    on_wait: Callable[[str], None] | None = None,
) -> RunResult:
    """``run(run_id)`` (a collection or a monitor run) as one recorded run: under the write lock, one
    row in ``runs`` with its step (the result's counts and summary), failed when the result is."""
    from ..orchestration.runs import flow_run

    with flow_run(flow, {k: v for k, v in parameters.items() if v not in (None, [])}, workspace=workspace, on_wait=on_wait) as record:
        result = run(record.run_id)
        result.record(record)
    return result


def cmd_offline(args: argparse.Namespace) -> None:
    from ..offline import serve_forever

    try:
        serve_forever(
            args.port,
            args.seed,
            start=args.start,
            speed=args.speed,
            hashtags=tuple(args.hashtag),
            require_signature=args.require_signature,
            announce=lambda text: print(text, flush=True),
        )
    except OSError as exc:
        raise BadArgumentError(f"cannot listen on 127.0.0.1:{args.port} ({exc.strerror}): choose another --port") from None
