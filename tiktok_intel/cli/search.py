"""Search commands: search (text or image), duplicates, media."""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path
from typing import Any

from ..search import find_duplicates, process_media, search_image, search_text
from ..search import text as text_index
from ..search.errors import QueryError
from ..search.images import DEFAULT_DUPLICATE_DISTANCE, DEFAULT_MAX_DISTANCE
from ..store import Workspace
from .output import say


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "search",
        help="find posts by text (captions, hashtags, authors, words in images) or by image",
        description='Ranked text search, e.g. `search "valet 2026" --hashtag svtnyheter --since 2026-11-01`, '
        "or image search: `search --image cover.jpg|URL|POST_ID`.",
    )
    p.add_argument("query", nargs="?", default="", help='words to find (all required); "quoted phrase" for exact order')
    p.add_argument("--image", metavar="FILE|URL|POST_ID", help="find images like this one instead of text")
    p.add_argument(
        "--max-distance",
        type=int,
        default=DEFAULT_MAX_DISTANCE,
        metavar="N",
        help=f"image search: largest Hamming distance in bits, 0-32 (default {DEFAULT_MAX_DISTANCE})",
    )
    p.add_argument("--hashtag", metavar="NAME", help="only posts with this hashtag or collected from its feed")
    p.add_argument("--since", metavar="DATE", help="only posts created on or after DATE (YYYY-MM-DD)")
    p.add_argument("--until", metavar="DATE", help="only posts created on or before DATE (YYYY-MM-DD)")
    p.add_argument("--author", metavar="NAME", help="only posts by this account (unique id, @ optional)")
    p.add_argument("--min-views", type=int, metavar="N", help="only posts with at least N views")
    p.add_argument("--limit", type=int, default=20, metavar="N", help="hits to show (default 20)")
    p.add_argument("--format", choices=("table", "json"), default="table", help="output format (default table)")
    p.set_defaults(handler=cmd_search)

    p = subparsers.add_parser("duplicates", help="groups of near-identical images posted by different accounts")
    p.add_argument(
        "--max-distance",
        type=int,
        default=DEFAULT_DUPLICATE_DISTANCE,
        metavar="N",
        help=f"largest Hamming distance in bits (default {DEFAULT_DUPLICATE_DISTANCE})",
    )
    p.add_argument("--min-accounts", type=int, default=2, metavar="N", help="accounts a group must span (default 2)")
    p.add_argument("--limit", type=int, default=50, metavar="N", help="groups to show (default 50)")
    p.add_argument("--format", choices=("table", "json"), default="table", help="output format (default table)")
    p.set_defaults(handler=cmd_duplicates)

    p = subparsers.add_parser("media", help="hash and OCR new covers and frames (key frames when enabled), update the search index")
    p.set_defaults(handler=cmd_media)


def _cut(text: str, width: int) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= width else text[: max(0, width - 1)] + "…"


def _table(rows: list[list[Any]], headers: list[str]) -> str:
    cells = [[str(c) for c in headers]] + [["" if c is None else str(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def cmd_search(args: argparse.Namespace) -> int:
    if args.image and args.query:
        raise QueryError("give either words or --image, not both")
    if args.limit < 1:
        raise QueryError(f"--limit must be at least 1 (got {args.limit})")
    if args.image:
        with args.workspace.reading(say=say) as con:  # the image hashes are in the store
            image_hits = search_image(con, args.image, max_distance=args.max_distance, limit=args.limit)
        if args.format == "json":
            print(json.dumps([h.as_dict() for h in image_hits], ensure_ascii=False, indent=1))
        elif not image_hits:
            print(f"no images within {args.max_distance} bits", file=sys.stderr)
        else:
            print(
                _table(
                    [[h.distance, h.post_id, h.kind if h.kind == "cover" else f"{h.kind} {h.seq}", h.author, h.url] for h in image_hits],
                    ["distance", "post", "image", "author", "url"],
                )
            )
        return 0
    path = _text_index(args.workspace)
    hits = search_text(
        None,  # the index only: it is the writers' to bring up to date (after every ingest and `media`)
        args.query,
        hashtag=args.hashtag,
        since=args.since,
        until=args.until,
        author=args.author,
        min_views=args.min_views,
        limit=args.limit,
        refresh=False,
        path=path,
    )
    if args.format == "json":
        print(json.dumps([h.as_dict() for h in hits], ensure_ascii=False, indent=1))
    elif not hits:
        print("no posts found", file=sys.stderr)
    else:
        width = max(30, shutil.get_terminal_size((140, 20)).columns - 110)
        print(
            _table(
                [
                    [
                        f"{h.score:.2f}",
                        h.post_id,
                        h.author,
                        h.created_at.date() if h.created_at else "",
                        h.views,
                        _cut(h.description, width),
                        h.url,
                    ]
                    for h in hits
                ],
                ["score", "post", "author", "created", "views", "description", "url"],
            )
        )
    return 0


def _text_index(ws: Workspace) -> Path:
    """The workspace's text index. A text search reads only it, never the store, so it neither waits
    for a writer nor keeps one from opening the store; the writers (import, process, collect,
    media) refresh it. Only an index never built (or lost) is built here, as a writer: under the
    write lock, waiting for another writer's turn."""
    path = text_index.index_dir(ws.root)
    if not text_index.index_exists(path):
        with ws.writing("search index", on_wait=say) as con:
            text_index.refresh_index(con, path=path)
    return path


def cmd_duplicates(args: argparse.Namespace) -> int:
    with args.workspace.reading(say=say) as con:
        groups = find_duplicates(con, max_distance=args.max_distance, min_accounts=args.min_accounts)
    shown = groups[: max(args.limit, 0)]
    if args.format == "json":
        print(json.dumps([g.as_dict() for g in shown], ensure_ascii=False, indent=1))
        return 0
    if not groups:
        print("no near-duplicate images across accounts", file=sys.stderr)
        return 0
    for n, group in enumerate(shown, start=1):
        print(f"group {n}: {group.size} posts from {group.accounts} accounts")
        for post in group.posts:
            created = post.created_at.strftime("%Y-%m-%d %H:%M") if post.created_at else ""
            print(f"  {created:<16}  @{post.author or '?':<24} {post.url}")
    if len(groups) > len(shown):
        print(f"... {len(groups) - len(shown)} more group(s): use --limit", file=sys.stderr)
    return 0


def cmd_media(args: argparse.Namespace) -> int:
    with args.workspace.writing("media", on_wait=say) as con:
        summary = process_media(con)
    print(summary.summary())
    return 0
