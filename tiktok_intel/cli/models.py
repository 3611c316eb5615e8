"""Model commands: models fetch (once, where there is internet), models status."""

from __future__ import annotations

import argparse

from ..search import models
from ..settings import get_settings


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "models",
        help="the model for search by meaning: fetch it (once, where there is internet) or show where it is",
        description="`models fetch` downloads the default CLIP model pair (ONNX) into <workspace>/models/ with checksums; "
        "TIKTOK_INTEL_CLIP_MODEL=/path uses a copy you put there by hand.",
    )
    sub = p.add_subparsers(dest="models_command", metavar="ACTION")
    fetch = sub.add_parser("fetch", help="download the default model (about 2.6 GB) into <workspace>/models/")
    fetch.add_argument("--model", choices=sorted(models.MODELS), default=models.DEFAULT.name, help="which model (default: %(default)s)")
    fetch.set_defaults(handler=cmd_fetch)
    status = sub.add_parser("status", help="which model search by meaning uses, and whether its files are whole")
    status.add_argument("--full", action="store_true", help="also compare every file's sha256 (reads the whole model)")
    status.set_defaults(handler=cmd_status)
    p.set_defaults(handler=cmd_status, full=False)


def cmd_fetch(args: argparse.Namespace) -> int:
    spec = models.spec(args.model)
    print(f"fetching {spec.describe()}")
    folder = models.fetch(spec, settings=get_settings())
    print(f"{spec.name}: {models.check_files(folder)} files checked, in {folder}")
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    settings = get_settings()
    folder = models.model_path(settings)  # none: one line naming `models fetch` and the setting
    checked = models.check_files(folder, full=bool(getattr(args, "full", False)))
    how = "sha256 and sizes" if getattr(args, "full", False) else "sizes"
    print(
        f"model for search by meaning: {folder} ({checked} files, {how} match)"
        if checked
        else f"model: {folder} (no checksums.json: a copy made by hand)"
    )
    return 0
