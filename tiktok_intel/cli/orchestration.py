"""``tiktok-intel schedules``: the built-in flows and your jobs, with their next run times.

``run`` and ``serve`` need the Prefect flows, which live above the library: the ``flows`` package
adds them (an entry point plugin, see :func:`tiktok_intel.cli.build_parser`).
"""

from __future__ import annotations

import argparse
import sys

from .options import whole_number


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "schedules",
        help="each flow's cron, time zone and next three run times",
        description="List the five built-in flows and your valid jobs (`tiktok-intel jobs`): cron (in "
        "the configured time zone, setting TIKTOK_INTEL_TIMEZONE, or the job's own), what each "
        "does, and its next run times.",
    )
    p.add_argument("--count", type=whole_number(1, 100), default=3, metavar="N", help="next run times to show (1-100, default 3)")
    p.set_defaults(handler=_schedules)


def _schedules(args: argparse.Namespace) -> int:
    from .. import jobs

    rows = jobs.table(count=args.count)
    width = max(len(r["flow"]) for r in rows)
    cron_width = max(len(r["cron"]) for r in rows)
    for r in rows:
        times = ", ".join(t.strftime("%Y-%m-%d %H:%M") for t in r["next"])
        mine = "  (your job)" if r["kind"] == "yours" else ""
        print(f"{r['flow']:<{width}}  {r['cron']:<{cron_width}}  {r['timezone']}  next: {times}{mine}")
    for line in jobs.valid_jobs()[1]:
        print(line, file=sys.stderr)
    return 0
