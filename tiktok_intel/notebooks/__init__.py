"""The notebooks shipped with the package, and running them with Papermill.

``NOTEBOOKS_DIR`` is the one place that says where they are: ``pipelines/`` (what the schedules
run), ``dashboards/`` (Voilà), ``exploratory/`` (examples to copy). They are package data, found
the same way in a checkout and in an installed package; :func:`copy_notebooks` gives a data
scientist editable copies (``tiktok-intel notebooks copy DIR``).
"""

from __future__ import annotations

from pathlib import Path

#: The folder holding the shipped notebooks (package data: found the same way in a checkout and an install).
NOTEBOOKS_DIR = Path(__file__).resolve().parent
PIPELINES_DIR = NOTEBOOKS_DIR / "pipelines"
DASHBOARDS_DIR = NOTEBOOKS_DIR / "dashboards"
EXPLORATORY_DIR = NOTEBOOKS_DIR / "exploratory"

from .runner import (  # noqa: E402
    NotebookCellError,
    NotebookError,
    NotebookRun,
    pipeline_names,
    resolve,
    run_notebook,
    use_database,
)

#: The folders of shipped notebooks, in the order they are listed and copied.
FOLDERS = ("exploratory", "pipelines", "dashboards")


def shipped() -> list[Path]:
    """Every shipped notebook, by folder (:data:`FOLDERS`) then name."""
    return [path for folder in FOLDERS for path in sorted((NOTEBOOKS_DIR / folder).glob("*.ipynb"))]


def copy_notebooks(target: str | Path, *, force: bool = False) -> list[Path]:
    """Copy every shipped notebook to ``target/<folder>/<name>.ipynb`` (and the notebooks' README
    to ``target/README.md``); returns the copies. Nothing is copied when one of them exists
    already, unless ``force`` (then they are overwritten)."""
    import shutil

    target = Path(target)
    pairs = [(path, target / path.relative_to(NOTEBOOKS_DIR)) for path in [*shipped(), NOTEBOOKS_DIR / "README.md"]]
    if target.exists() and not target.is_dir():
        raise NotebookError(f"{target} is a file: give a folder to copy the notebooks into")
    existing = [copy for _, copy in pairs if copy.exists()]
    if existing and not force:
        shown = ", ".join(str(p.relative_to(target)) for p in existing[:3]) + (
            f" and {len(existing) - 3} more" if len(existing) > 3 else ""
        )
        raise NotebookError(
            f"{len(existing)} of the copies exist already in {target} ({shown}): "
            f"nothing copied; give --force to overwrite them, or another folder"
        )
    for source, copy in pairs:
        copy.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, copy)
    return [copy for _, copy in pairs]


__all__ = [
    "DASHBOARDS_DIR",
    "EXPLORATORY_DIR",
    "FOLDERS",
    "NOTEBOOKS_DIR",
    "PIPELINES_DIR",
    "NotebookCellError",
    "NotebookError",
    "NotebookRun",
    "copy_notebooks",
    "pipeline_names",
    "resolve",
    "run_notebook",
    "shipped",
    "use_database",
]
