"""Search commands: search (text or image), duplicates, media (and --status), transcripts."""

from __future__ import annotations

import argparse
import dataclasses
import json
import shutil
import sys
from pathlib import Path
from typing import Any

from .. import downloads, transcripts
from ..conventions import tracked_item
from ..search import find_duplicates, process_media, search_image, search_text
from ..search import text as text_index
from ..search.comments import SEARCH_IN, search_comments
from ..search.errors import QueryError
from ..search.images import DEFAULT_DUPLICATE_DISTANCE, DEFAULT_MAX_DISTANCE
from ..search.where import IN_CHOICES
from ..store import Workspace
from .options import add_tracked_filter, tracked_filter
from .output import say


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "search",
        help="find posts by text (captions, hashtags, authors, words in images) or by image",
        description='Ranked text search, e.g. `search "valet 2026" --hashtag svtnyheter --since 2026-11-01`, '
        "or image search: `search --image cover.jpg|URL|POST_ID`.",
    )
    p.add_argument("query", nargs="?", default="", help='words to find (all required); "quoted phrase" for exact order')
    p.add_argument("--image", metavar="FILE|URL|POST_ID", help="find near-identical copies of this image (perceptual hashes)")
    p.add_argument(
        "--meaning",
        metavar="TEXT",
        help='find posts whose pictures show this, in Swedish or English (e.g. "brinnande bil"); with words: both, fused',
    )
    p.add_argument("--similar", metavar="FILE|URL|POST_ID", help="find posts whose pictures show similar content, not only copies")
    p.add_argument(
        "--max-distance",
        type=int,
        default=DEFAULT_MAX_DISTANCE,
        metavar="N",
        help=f"image search: largest Hamming distance in bits, 0-32 (default {DEFAULT_MAX_DISTANCE})",
    )
    add_tracked_filter(p)
    p.add_argument("--since", metavar="DATE", help="only posts created on or after DATE (YYYY-MM-DD)")
    p.add_argument("--until", metavar="DATE", help="only posts created on or before DATE (YYYY-MM-DD)")
    p.add_argument("--author", metavar="NAME", help="only posts by this account (unique id, @ optional)")
    p.add_argument("--min-views", type=int, metavar="N", help="only posts with at least N views")
    p.add_argument("--limit", type=int, default=20, metavar="N", help="hits to show (default 20)")
    p.add_argument(
        "--in",
        dest="places",
        action="append",
        choices=IN_CHOICES + SEARCH_IN,
        metavar="PLACE",
        help=f"only words found there: {', '.join(IN_CHOICES)} (repeat for several; default all); or {' / '.join(SEARCH_IN)} (alone): the comments instead of the posts",
    )
    p.add_argument("--format", choices=("table", "json"), default="table", help="output format (default table)")
    p.set_defaults(handler=cmd_search)

    from . import models as models_cli

    models_cli.register(subparsers)

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

    p = subparsers.add_parser(
        "media",
        help="catch up the media step by hand: key frames, hashes, OCR, transcripts, the search index; --status: what is kept",
    )
    p.add_argument("--status", action="store_true", help="per kind: downloaded, removed, expired, refused, failed by reason, pending")
    p.add_argument("--format", choices=("table", "json"), default="table", help="output format of --status (default table)")
    p.set_defaults(handler=cmd_media)

    p = subparsers.add_parser("transcripts", help="what is said in a post: its transcripts with timestamps, language and source")
    p.add_argument("post_id", metavar="POST_ID", help="the post's id (the number in its URL)")
    p.add_argument("--format", choices=("table", "json"), default="table", help="output format (default table)")
    p.set_defaults(handler=cmd_transcripts)


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
    if set(args.places or ()) & set(SEARCH_IN):
        if len(set(args.places)) > 1:
            raise QueryError("--in comments searches the comments instead of the posts: give it alone")
        return _search_comments(args)
    if getattr(args, "meaning", None) or getattr(args, "similar", None):
        return _search_by_meaning(args)
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
    item = tracked_filter(args)

    def search(con: Any) -> list:
        return search_text(
            con,  # not refreshed: the index is the writers' to bring up to date (after every ingest and `media`)
            args.query,
            hashtag=item,
            since=args.since,
            until=args.until,
            author=args.author,
            min_views=args.min_views,
            limit=args.limit,
            refresh=False,
            path=path,
            places=args.places,
        )

    if (tracked_item(item) or ("hashtag",))[0] == "hashtag":
        hits = search(None)  # the index alone
    else:
        with args.workspace.reading(say=say) as con:  # an account's or keyword's listings are in the store
            hits = search(con)
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
                        _cut(", ".join(m.label for m in h.matches), 28),
                        _cut(h.matches[0].snippet if h.matches else h.description, width),
                        h.url,
                    ]
                    for h in hits
                ],
                ["score", "post", "author", "created", "views", "where", "snippet", "url"],
            )
        )
    return 0


def _search_comments(args: argparse.Namespace) -> int:
    path = text_index.comment_index_dir(_text_index(args.workspace))
    df = search_comments(None, args.query, limit=args.limit, refresh=False, path=path)  # the index alone, as a text search
    if args.format == "json":
        print(df.to_json(orient="records", date_format="iso", force_ascii=False))
    elif df.empty:
        print("no comments found", file=sys.stderr)
    else:
        width = max(30, shutil.get_terminal_size((140, 20)).columns - 90)
        rows = [[r.likes, r.post_id, r.author, _cut(r.text, width), r.url] for r in df.itertuples()]
        print(_table(rows, ["likes", "post", "author", "comment", "url"]))
    return 0


def _has_table(con, name: str) -> bool:
    return bool(con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [name]).fetchone()[0])


def cmd_transcripts(args: argparse.Namespace) -> int:
    post_id = str(args.post_id).strip()
    if not post_id.isdigit():
        raise QueryError(f"{post_id[:40]!r} is not a post id: give the number in the post's URL (tiktok.com/@name/video/NUMBER)")
    with args.workspace.reading(say=say) as con:
        found = transcripts.for_post(con, post_id) if _has_table(con, "transcripts") else []
    if args.format == "json":
        print(json.dumps([dataclasses.asdict(t) | {"fetched_at": str(t.fetched_at)} for t in found], ensure_ascii=False, indent=1))
        return 0
    if not found:
        print(
            f"no transcript for post {post_id}: TikTok published no captions for it, or its media were not downloaded "
            "(`tiktok-intel media --status`); local speech-to-text: TIKTOK_INTEL_WHISPER_MODEL",
            file=sys.stderr,
        )
        return 0
    for t in found:
        print(f"{t.source} ({t.language or 'language not given'}), {len(t.segments or [])} segments, fetched {str(t.fetched_at)[:16]}")
        for line in t.lines():
            print("  " + line)
    return 0


def _text_index(ws: Workspace) -> Path:
    """The workspace's text index. A text search reads only it, never the store, so it neither waits
    for a writer nor keeps one from opening the store; the writers (import, process, collect,
    media) refresh it (and the comments' beside it). Only an index never built (or lost) is built here, as a writer: under the
    write lock, waiting for another writer's turn."""
    path = text_index.index_dir(ws.root)
    if not (text_index.index_exists(path) and text_index.index_exists(text_index.comment_index_dir(path))):
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
    if args.status:
        with args.workspace.reading(say=say) as con:
            rows = downloads.status(con) if _has_table(con, "media_sources") else []
        if args.format == "json":
            print(json.dumps(rows, ensure_ascii=False, indent=1))
        elif not rows:
            print("no media yet: `tiktok-intel collect` downloads covers, videos, slides and captions", file=sys.stderr)
        else:
            table = [
                [
                    r["kind"],
                    r["downloaded"],
                    f"{r['bytes'] / 1e6:.1f}",
                    r["removed"],
                    r["expired"],
                    r["refused"],
                    ", ".join(f"{n} {k}" for k, n in r["failed"].items()) or "",
                    r["retryable"],
                    r["pending"],
                ]
                for r in rows
            ]
            print(
                _table(
                    table,
                    ["kind", "downloaded", "MB", "removed", "expired", "refused", "failed (by reason)", "retried next run", "pending"],
                )
            )
        return 0
    with args.workspace.writing("media", on_wait=say) as con:
        summary = process_media(con)
    print(summary.summary())
    return 0


def _search_by_meaning(args: argparse.Namespace) -> int:
    """``--meaning TEXT`` / ``--similar IMAGE``, alone or with words (fused by reciprocal rank)."""
    from ..search import clip, semantic

    if args.image:
        raise QueryError("--image (copies) goes alone: use --similar for similar content")
    if args.meaning and args.similar:
        raise QueryError("give either --meaning or --similar, not both")
    filters = {
        "hashtag": tracked_filter(args),
        "since": args.since,
        "until": args.until,
        "author": args.author,
        "min_views": args.min_views,
    }
    model = clip.load()  # no model or a damaged one: one line naming `tiktok-intel models fetch`
    with args.workspace.reading(say=say) as con:
        vectors = semantic.vectors_for(con, model)
        done, images = semantic.coverage(con, model.model_id)
        want = args.limit * 3 if args.query else args.limit
        if args.meaning:
            hits = semantic.search_meaning(con, args.meaning, limit=want, model=model, vectors=vectors, **filters)
        else:
            hits = semantic.search_similar(con, args.similar, limit=want, model=model, vectors=vectors, **filters)
    if done < images:
        say(f"{done} of {images} images are embedded so far: `tiktok-intel media` embeds the rest")
    if args.query:
        text_hits = search_text(None, args.query, limit=want, refresh=False, path=_text_index(args.workspace), **filters)
        fused = semantic.fuse(text_hits, hits, limit=args.limit)
        if args.format == "json":
            print(json.dumps([h.as_dict() for h in fused], ensure_ascii=False, indent=1))
        elif not fused:
            print("no posts found", file=sys.stderr)
        else:
            rank = lambda r: "" if r is None else r  # noqa: E731
            print(
                _table(
                    [
                        [f"{h.score:.4f}", rank(h.text_rank), rank(h.meaning_rank), h.post_id, h.author, _cut(h.description, 40), h.url]
                        for h in fused
                    ],
                    ["rrf", "words", "meaning", "post", "author", "description", "url"],
                )
            )
        return 0
    if args.format == "json":
        print(json.dumps([h.as_dict() for h in hits], ensure_ascii=False, indent=1))
    elif not hits:
        print("no posts found", file=sys.stderr)
    else:
        print(
            _table(
                [
                    [
                        f"{h.score:.3f}",
                        h.post_id,
                        h.kind if h.kind == "cover" else f"{h.kind} {h.seq}",
                        h.author,
                        _cut(h.description, 40),
                        h.url,
                    ]
                    for h in hits
                ],
                ["cosine", "post", "image", "author", "description", "url"],
            )
        )
    return 0
