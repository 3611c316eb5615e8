"""``tiktok-intel notebooks list|copy``: the notebooks shipped with the package, and editable copies of them."""

from __future__ import annotations

import argparse
import json
import shlex
from pathlib import Path

from ..notebooks import NOTEBOOKS_DIR, copy_notebooks, shipped


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "notebooks",
        help="the shipped notebooks; copy them to edit",
        description="The notebooks that come with the package (exploratory examples, the pipelines the "
        "schedules run, the dashboards), wherever it is installed. Copy them to a folder "
        "of yours to edit and run them in JupyterLab.",
    )
    commands = p.add_subparsers(dest="notebooks_command", metavar="ACTION", required=True)

    q = commands.add_parser(
        "list",
        help="every shipped notebook, by folder, with its title",
        description=f"List the shipped notebooks (in {NOTEBOOKS_DIR}): folder, name and title.",
    )
    q.set_defaults(handler=_list)

    q = commands.add_parser(
        "copy",
        help="copy every notebook into a folder of yours, to edit",
        description="Copy the exploratory, pipeline and dashboard notebooks into DIR (DIR/exploratory/, "
        "DIR/pipelines/, DIR/dashboards/, and their README.md) as editable copies: they read "
        "the workspace of the settings (TIKTOK_INTEL_WORKSPACE) or the `db` parameter. "
        "Nothing is copied when a copy exists already, unless --force.",
    )
    q.add_argument("folder", metavar="DIR", help="folder to copy into (made when missing)")
    q.add_argument("--force", action="store_true", help="overwrite copies that exist already")
    q.set_defaults(handler=_copy)


def title(path: Path) -> str:
    """The first Markdown heading of a notebook (empty when it has none or cannot be read)."""
    try:
        cells = json.loads(path.read_text(encoding="utf-8")).get("cells", [])
    except (OSError, ValueError):
        return ""
    for cell in cells:
        if cell.get("cell_type") == "markdown":
            for line in "".join(cell.get("source", "")).splitlines():
                if line.startswith("#"):
                    return line.lstrip("#").strip()
    return ""


def _list(args: argparse.Namespace) -> int:
    rows = [(path.parent.name, path.stem, title(path)) for path in shipped()]
    widths = [max(len(row[i]) for row in rows) for i in range(2)]
    for folder, name, text in rows:
        print(f"{folder:<{widths[0]}}  {name:<{widths[1]}}  {text}".rstrip())
    return 0


def _copy(args: argparse.Namespace) -> int:
    copies = copy_notebooks(args.folder, force=args.force)
    notebooks = [c for c in copies if c.suffix == ".ipynb"]
    counts = ", ".join(f"{sum(c.parent.name == f for c in notebooks)} {f}" for f in dict.fromkeys(c.parent.name for c in notebooks))
    print(
        f"copied {len(notebooks)} notebooks ({counts}) to {Path(args.folder).resolve()}: "
        f"open them with `jupyter lab {shlex.quote(args.folder)}`"
    )
    return 0
