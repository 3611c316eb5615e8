"""The ``tiktok-intel`` commands that need the flows: ``run``, ``serve``, ``deploy`` and ``demo``.

Registered through the ``tiktok_intel.commands`` entry points (pyproject.toml): an entry point
named after a built-in command module adds its commands right after that module's in ``--help``
(``orchestration``: ``run``, ``serve`` and ``deploy`` after ``schedules``; ``jobs``: ``demo`` after ``jobs``).
The library's CLI never imports this package.
"""

from __future__ import annotations

import argparse
import os
import sys

from tiktok_intel import schedules
from tiktok_intel.cli.options import whole_number


def register(subparsers: argparse._SubParsersAction) -> None:
    """``run FLOW``, ``serve`` and ``deploy``."""
    names = ", ".join(job.name for job in schedules.JOBS)
    p = subparsers.add_parser(
        "run",
        help="run one flow or one of your jobs now (recorded in runs, like a scheduled run)",
        description=f"Run one flow now, in this process: {names}, or one of your jobs "
        "(`tiktok-intel jobs list`). --param KEY=VALUE sets a flow "
        "parameter (content: max_posts, hashtags) or else a parameter of its notebook "
        "(e.g. --param window=7d). Waits while another run is writing.",
    )
    p.add_argument("flow", metavar="FLOW", help=f"{names}, or your job's name")
    p.add_argument("--param", action="append", default=[], metavar="KEY=VALUE", help="a parameter (repeatable); VALUE as JSON or text")
    p.set_defaults(handler=_run)

    p = subparsers.add_parser(
        "serve",
        help="run the built-in flows and your jobs on their schedules until Ctrl-C",
        description="Register the built-in deployments and your valid jobs (`tiktok-intel jobs`) with their "
        "cron schedules and run them until Ctrl-C; changes to the jobs file are deployed while "
        "it runs, and invalid jobs are skipped with a message. Starts its own Prefect server "
        "(state under <workspace>/prefect/, UI at http://127.0.0.1:PORT) unless "
        "PREFECT_API_URL names one.",
    )
    p.add_argument("--port", type=int, default=4200, help="port of the Prefect server it starts (default 4200)")
    p.add_argument("--limit", type=int, default=None, metavar="N", help="flow runs at once (default: no limit; writers take turns anyway)")
    p.set_defaults(handler=_serve)

    p = subparsers.add_parser(
        "deploy",
        help="create the Prefect work pools and deploy the flows to them, for workers on several machines",
        description="Create the process work pools named by --pool (writer: concurrency limit 1) on the "
        "Prefect server in PREFECT_API_URL and deploy the built-in flows and your valid jobs to them, on "
        "their cron schedules (`tiktok-intel schedules`). With --pool collectors too, content's fetching "
        "(into raw, nothing written to the store) runs on collectors and starts its ingest on writer; "
        "everything else runs on writer. Then start a worker per machine: "
        "prefect worker start --pool collectors (or --pool writer). See docs/scaling.md.",
    )
    p.add_argument(
        "--pool",
        action="append",
        required=True,
        choices=("collectors", "writer"),
        help="a pool to deploy to (repeatable; writer is needed)",
    )
    p.set_defaults(handler=_deploy)


def register_demo(subparsers: argparse._SubParsersAction) -> None:
    """``demo``: it ends by running each flow for real."""
    p = subparsers.add_parser(
        "demo",
        help="replay 14 days of the schedules against the offline TikTok, then serve the dashboards",
        description="Build the demo workspace (default data/; --db elsewhere): the offline TikTok, five tracked hashtags, "
        "14 days of the built-in schedules in fast-forward, then each flow and a weekly job of your own as "
        "real Prefect flows with reports. A second run reuses it. Then serves the dashboards until Ctrl-C.",
    )
    p.add_argument("--rebuild", action="store_true", help="build the demo workspace again")
    p.add_argument("--no-serve", dest="serve", action="store_false", help="build (or reuse) only; do not serve the dashboards")
    p.add_argument("--port", type=whole_number(1), default=8866, help="dashboards port (default 8866)")
    p.set_defaults(handler=_demo)


def _run(args: argparse.Namespace) -> int:
    from tiktok_intel.jobs import named, parse_param

    from .deploy import run_now

    job = named(args.flow)
    params = dict(parse_param(p) for p in args.param)
    print(f"running {job.name} ...", file=sys.stderr, flush=True)
    print(run_now(job.name, params))
    return 0


def _serve(args: argparse.Namespace) -> int:
    from .deploy import serve

    serve(port=args.port, limit=args.limit)
    return 0


def _deploy(args: argparse.Namespace) -> int:
    from .pools import POOLS, deploy

    placed = deploy(args.pool)
    pools = [n for n in POOLS if any(p.pool == n for p in placed)]
    starts = "; ".join(f"prefect worker start --pool {n}" for n in pools)
    print(f"{len(placed)} deployments on {' and '.join(pools)}: start each machine's worker ({starts})")
    return 0


def run_flow_in_place(name: str) -> str:
    """One flow (or your job) by name, as ``tiktok-intel run`` runs it, with this process's
    environment put back afterwards (running a flow points it at the flow's workspace). Returns its
    one-line summary. What ``tiktok-intel demo`` hands the demo to run its real flows with."""
    from .deploy import run_now

    saved = dict(os.environ)
    try:
        return run_now(name)
    finally:
        os.environ.clear()
        os.environ.update(saved)


def _demo(args: argparse.Namespace) -> int:
    from tiktok_intel.demo import run

    return run(rebuild=args.rebuild, serve=args.serve, port=args.port, run_flow=run_flow_in_place)
