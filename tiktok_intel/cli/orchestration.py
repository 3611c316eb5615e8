"""Orchestration commands: ``schedules``, ``run FLOW``, ``serve`` (built-in flows and your jobs)."""
from __future__ import annotations

import argparse
import sys

from .. import schedules
from .options import whole_number


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("schedules", help="each flow's cron, time zone and next three run times",
                              description="List the five built-in flows and your valid jobs (`tiktok-intel jobs`): cron (in "
                                          "the configured time zone, setting TIKTOK_INTEL_TIMEZONE, or the job's own), what each "
                                          "does, and its next run times.")
    p.add_argument("--count", type=whole_number(1, 100), default=3, metavar="N", help="next run times to show (1-100, default 3)")
    p.set_defaults(handler=_schedules)

    names = ", ".join(job.name for job in schedules.JOBS)
    p = subparsers.add_parser("run", help="run one flow or one of your jobs now (recorded in runs, like a scheduled run)",
                              description=f"Run one flow now, in this process: {names}, or one of your jobs "
                                          "(`tiktok-intel jobs list`). --param KEY=VALUE sets a flow "
                                          "parameter (content: max_posts, hashtags) or else a parameter of its notebook "
                                          "(e.g. --param window=7d). Waits while another run is writing.")
    p.add_argument("flow", metavar="FLOW", help=f"{names}, or your job's name")
    p.add_argument("--param", action="append", default=[], metavar="KEY=VALUE", help="a parameter (repeatable); VALUE as JSON or text")
    p.set_defaults(handler=_run)

    p = subparsers.add_parser("serve", help="run the five flows and your jobs on their schedules until Ctrl-C",
                              description="Register the five deployments and your valid jobs (`tiktok-intel jobs`) with their "
                                          "cron schedules and run them until Ctrl-C; changes to the jobs file are deployed while "
                                          "it runs, and invalid jobs are skipped with a message. Starts its own Prefect server "
                                          "(state under <workspace>/prefect/, UI at http://127.0.0.1:PORT) unless "
                                          "PREFECT_API_URL names one.")
    p.add_argument("--port", type=int, default=4200, help="port of the Prefect server it starts (default 4200)")
    p.add_argument("--limit", type=int, default=None, metavar="N", help="flow runs at once (default: no limit; writers take turns anyway)")
    p.set_defaults(handler=_serve)


def _schedules(args: argparse.Namespace) -> int:
    from .. import jobs

    rows = schedules.table(count=args.count)
    width = max(len(r["flow"]) for r in rows)
    cron_width = max(len(r["cron"]) for r in rows)
    for r in rows:
        times = ", ".join(t.strftime("%Y-%m-%d %H:%M") for t in r["next"])
        mine = "  (your job)" if r["kind"] == "yours" else ""
        print(f"{r['flow']:<{width}}  {r['cron']:<{cron_width}}  {r['timezone']}  next: {times}{mine}")
    for line in jobs.valid_jobs()[1]:
        print(line, file=sys.stderr)
    return 0


def _run(args: argparse.Namespace) -> int:
    from ..orchestration.server import job_named, parse_param, run_now

    job = job_named(args.flow)
    params = dict(parse_param(p) for p in args.param)
    print(f"running {job.name} ...", file=sys.stderr, flush=True)
    summary = run_now(job.name, params)
    print(summary)
    return 0


def _serve(args: argparse.Namespace) -> int:
    from ..orchestration.server import serve

    serve(port=args.port, limit=args.limit)
    return 0
