"""``tiktok-intel dashboards``: serve the dashboards with Voilà."""

from __future__ import annotations

import argparse

from .options import whole_number


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "dashboards",
        help="serve the dashboards (Voilà): http://127.0.0.1:8866/ opens the index dashboard",
        description="Serve the dashboards (the package's tiktok_intel/notebooks/dashboards) with Voilà: the address opens the index "
        "dashboard (every dashboard, what it shows, how fresh the data is; no file list), sources hidden, tracebacks off, "
        "idle kernels culled. "
        "On an interface other than 127.0.0.1 a token is required (a random one is printed when --token is not given). "
        "On 127.0.0.1 only requests to localhost/127.0.0.1 are answered (no DNS rebinding). "
        "Each page has its own kernel, shut down when the page is closed; beyond TIKTOK_INTEL_DASHBOARD_MAX_KERNELS open pages "
        "a page says the dashboards are busy. "
        "Editing the tracked list from the dashboards follows TIKTOK_INTEL_DASHBOARD_EDITING (default on) on 127.0.0.1; "
        "on any other interface it is off unless that variable is set to true explicitly.",
    )
    p.add_argument("--host", default="127.0.0.1", help="interface to listen on (default 127.0.0.1; others require a token)")
    p.add_argument("--port", type=whole_number(1), default=8866, help="port (default 8866)")
    p.add_argument(
        "--token",
        default=None,
        help="token visitors must give (?token=...); required off 127.0.0.1. Better in the environment, JUPYTER_TOKEN "
        "(a service's EnvironmentFile): an option is visible to every user of the machine in ps",
    )
    p.add_argument(
        "--no-preheat",
        dest="preheat",
        action="store_false",
        help="start each page's kernel when the page is opened, instead of keeping one pre-heated kernel per dashboard "
        "(imports done, waiting for its page before reading data): saves ~250 MB a dashboard, "
        "first render ~2x slower",
    )
    p.set_defaults(handler=_dashboards)


def _dashboards(args: argparse.Namespace) -> int:
    from ..dashboards.launcher import environment_token, run

    return run(host=args.host, port=args.port, token=args.token or environment_token(), preheat=args.preheat)
