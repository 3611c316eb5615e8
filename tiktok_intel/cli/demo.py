"""``tiktok-intel demo``: the workbench working, offline (what ``make demo`` runs)."""
from __future__ import annotations

import argparse

from .options import whole_number


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "demo", help="replay 14 days of the schedules against the offline TikTok, then serve the dashboards",
        description="Build the demo workspace (default data/; --db elsewhere): the offline TikTok, five tracked hashtags, "
                    "14 days of the built-in schedules in fast-forward, then each flow and a weekly job of your own as "
                    "real Prefect flows with reports. A second run reuses it. Then serves the dashboards until Ctrl-C.")
    p.add_argument("--rebuild", action="store_true", help="build the demo workspace again")
    p.add_argument("--no-serve", dest="serve", action="store_false", help="build (or reuse) only; do not serve the dashboards")
    p.add_argument("--port", type=whole_number(1), default=8866, help="dashboards port (default 8866)")
    p.set_defaults(handler=_demo)


def _demo(args: argparse.Namespace) -> int:
    from ..demo import run

    return run(rebuild=args.rebuild, serve=args.serve, port=args.port)
