"""Your own jobs: notebooks you wrote, run on your schedule beside the five built-in jobs.

They are listed in a jobs file in the workspace (``<workspace>/jobs.toml``, setting ``jobs_file``),
one table per job::

    [jobs.weekly-brief]
    notebook = "../notebooks/exploratory/weekly_hashtag_brief.ipynb"  # relative to this file
    cron = "0 7 * * 1"
    timezone = "Europe/Stockholm"  # optional: the schedules' time zone (setting timezone)
    publish = true                 # list its executed copies on the dashboards' Reports page
    parameters = { hashtag = "fyp", days = 7 }

``tiktok-intel jobs list|add|remove|validate`` manages the file; ``tiktok-intel serve`` deploys the
valid jobs (and re-reads the file while it runs); ``tiktok-intel run NAME`` runs one now. Each run
goes through the same runner, write lock, ``runs`` record and report archive as the built-in jobs.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import math
import os
import re
import tomllib
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from . import schedules
from .errors import TikTokIntelError
from .settings import get_settings

NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")


class JobsFileError(TikTokIntelError):
    """The jobs file cannot be read or written, or a job given on the command line is not valid."""


@dataclasses.dataclass(frozen=True)
class UserJob:
    name: str
    notebook: str  # as written in the jobs file: absolute, or relative to the jobs file's folder
    cron: str
    timezone: str | None = None
    parameters: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    publish: bool = False

    def notebook_path(self, jobs_file: Path | None = None) -> Path:
        path = Path(self.notebook).expanduser()
        if path.is_absolute():
            return path
        return (Path(jobs_file or jobs_path()).resolve().parent / path).resolve()

    @property
    def does(self) -> str:
        shown = ", ".join(f"{k}={v!r}" for k, v in self.parameters.items())
        return f"run {Path(self.notebook).name}" + (f" ({shown})" if shown else "") + (", published" if self.publish else "")


def jobs_path() -> Path:
    """The jobs file (setting ``jobs_file``; default ``<workspace>/jobs.toml``)."""
    return get_settings().jobs_path


def load(path: Path | None = None) -> list[UserJob]:
    """The jobs in the file, in file order; no file means no jobs. Raises :class:`JobsFileError`
    when the file is not TOML or a job's entry is not a table of the known keys."""
    path = Path(path or jobs_path())
    if not path.is_file():
        return []
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise JobsFileError(f"{path} is not valid TOML ({exc}): fix it, or list it with `tiktok-intel jobs validate`") from None
    except OSError as exc:
        raise JobsFileError(f"{path} cannot be read ({exc.strerror}): check its permissions") from None
    unknown_top = sorted(set(document) - {"jobs"})
    if unknown_top:
        raise JobsFileError(f"{path}: unknown section(s) {', '.join(unknown_top)}: each job is a [jobs.NAME] table")
    result = []
    for name, entry in (document.get("jobs") or {}).items():
        if not isinstance(entry, dict):
            raise JobsFileError(f"{path}: jobs.{name} is not a table: write it as [jobs.{name}] with notebook and cron")
        unknown = sorted(set(entry) - {"notebook", "cron", "timezone", "parameters", "publish"})
        if unknown:
            raise JobsFileError(
                f"{path}: job {name!r} has unknown key(s) {', '.join(unknown)}: use notebook, cron, timezone, parameters, publish"
            )
        parameters = entry.get("parameters", {})
        if not isinstance(parameters, dict):
            raise JobsFileError(f"{path}: job {name!r}: parameters must be a table, like parameters = {{ days = 7 }}")
        result.append(
            UserJob(
                name=str(name),
                notebook=str(entry.get("notebook", "")),
                cron=str(entry.get("cron", "")),
                timezone=entry.get("timezone") or None,
                parameters=dict(parameters),
                publish=bool(entry.get("publish", False)),
            )
        )
    return result


def _toml_value(value: Any, where: str) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise JobsFileError(f"{where}: {value} is not a number a jobs file can hold: use a finite number")
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)  # a JSON string is a TOML basic string
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml_value(v, where) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{_toml_key(k)} = {_toml_value(v, where)}" for k, v in value.items()) + " }"
    raise JobsFileError(f"{where}: {value!r} ({type(value).__name__}) cannot be a parameter: use text, a number, true/false or a list")


def _toml_key(key: str) -> str:
    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else json.dumps(key, ensure_ascii=False)


def dumps(jobs: Iterable[UserJob]) -> str:
    """The jobs file's text for ``jobs``."""
    parts = ["# Your own scheduled notebooks: `tiktok-intel jobs --help`. Notebook paths are relative to this file.\n"]
    for job in jobs:
        lines = [
            f"[jobs.{_toml_key(job.name)}]",
            f"notebook = {_toml_value(job.notebook, job.name)}",
            f"cron = {_toml_value(job.cron, job.name)}",
        ]
        if job.timezone:
            lines.append(f"timezone = {_toml_value(job.timezone, job.name)}")
        lines.append(f"publish = {_toml_value(job.publish, job.name)}")
        if job.parameters:
            lines.append(f"parameters = {_toml_value(dict(job.parameters), job.name)}")
        parts.append("\n".join(lines) + "\n")
    return "\n".join(parts)


def save(jobs: Iterable[UserJob], path: Path | None = None) -> Path:
    """Write the jobs file atomically (a running ``serve`` never reads half a file)."""
    path = Path(path or jobs_path())
    text = dumps(jobs)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
        partial.write_text(text, encoding="utf-8")
        os.replace(partial, path)
    except OSError as exc:
        raise JobsFileError(f"{path} cannot be written ({exc.strerror}): check the workspace's permissions and free space") from None
    return path


def relative_notebook(notebook: str | Path, path: Path | None = None) -> str:
    """A notebook path given on the command line (relative to the current folder) -> as the jobs
    file holds it: relative to the jobs file's folder when the notebook is in the project around
    it (``../notebooks/...`` from ``data/jobs.toml``), else absolute."""
    absolute = Path(notebook).expanduser().resolve()
    folder = Path(path or jobs_path()).resolve().parent
    relative = os.path.relpath(absolute, folder)
    return str(absolute) if relative.startswith(os.path.join(os.pardir, os.pardir)) else relative


def add(job: UserJob, path: Path | None = None, *, replace: bool = False) -> None:
    """Add ``job`` to the jobs file (or replace the job of that name when ``replace``). It must
    validate: else :class:`JobsFileError` lists its problems."""
    path = Path(path or jobs_path())
    jobs = load(path)
    names = [j.name for j in jobs]
    if job.name in names and not replace:
        raise JobsFileError(f"there is already a job {job.name!r}: pick another name, or pass --replace")
    found = problems(job, path)
    if found:
        raise JobsFileError(f"job {job.name!r} not added: " + "; ".join(found))
    jobs = [job if j.name == job.name else j for j in jobs] if job.name in names else [*jobs, job]
    save(jobs, path)


def remove(name: str, path: Path | None = None) -> UserJob:
    """Remove the job ``name`` from the jobs file; returns it."""
    path = Path(path or jobs_path())
    jobs = load(path)
    match = [j for j in jobs if j.name == name]
    if not match:
        known = ", ".join(j.name for j in jobs) or "none"
        raise JobsFileError(f"no job {name!r} in {path}: the jobs are {known} (`tiktok-intel jobs list`)")
    save([j for j in jobs if j.name != name], path)
    return match[0]


def _notebook_problems(job: UserJob, path: Path) -> list[str]:
    import nbformat
    import papermill

    notebook = job.notebook_path(path)
    if not job.notebook:
        return ['no notebook: set notebook = "path/to/notebook.ipynb"']
    if notebook.suffix != ".ipynb":
        return [f"notebook {job.notebook!r} is not an .ipynb file"]
    if not notebook.is_file():
        return [f"notebook {job.notebook!r} not found (looked at {notebook}; relative paths start at the jobs file's folder)"]
    try:
        nb = nbformat.read(str(notebook), as_version=4)
    except Exception as exc:  # noqa: BLE001 - not JSON, not a notebook
        return [f"notebook {job.notebook!r} cannot be read ({type(exc).__name__}): open and save it in JupyterLab"]
    tagged = [c for c in nb.cells if c.cell_type == "code" and "parameters" in (c.metadata.get("tags") or [])]
    if not tagged:
        return [f"notebook {job.notebook!r} has no cell tagged 'parameters': tag its first code cell 'parameters' in JupyterLab"]
    declared = papermill.inspect_notebook(str(notebook))
    unknown = sorted(set(job.parameters) - set(declared))
    if unknown:
        takes = ", ".join(sorted(declared)) or "none"
        return [
            f"notebook {Path(job.notebook).name} has no parameter(s) {', '.join(unknown)} (it takes {takes}): "
            "add them to its parameters cell, or remove them from the job"
        ]
    return []


def problems(job: UserJob, path: Path | None = None, *, notebooks: bool = True) -> list[str]:
    """What is wrong with ``job``, one line each (empty: it can run). ``notebooks=False`` skips
    opening the notebook (papermill's import alone costs ~1 s): name, cron and time zone only."""
    path = Path(path or jobs_path())
    found = []
    if not NAME.match(job.name):
        found.append(f"name {job.name!r} is not valid: use lower-case letters, digits and hyphens, like weekly-brief")
    if job.name in schedules.JOBS_BY_NAME:
        found.append(f"name {job.name!r} is a built-in job's: pick another")
    try:
        schedules.next_runs(job.cron, 1, tz=job.timezone)
    except schedules.ScheduleError as exc:
        found.append(str(exc))
    if notebooks:
        found += _notebook_problems(job, path)
    try:
        _toml_value(dict(job.parameters), job.name)
    except JobsFileError as exc:
        found.append(str(exc))
    return found


def validate(path: Path | None = None) -> dict[str, list[str]]:
    """Each job's problems, by name (an empty list: it is valid)."""
    path = Path(path or jobs_path())
    return {job.name: problems(job, path) for job in load(path)}


def valid_jobs(path: Path | None = None, *, notebooks: bool = True) -> tuple[list[UserJob], list[str]]:
    """The jobs that can run, and one line for each that cannot (``skipped NAME: why``); a file
    that cannot be read at all gives no jobs and its one line."""
    path = Path(path or jobs_path())
    try:
        jobs = load(path)
    except JobsFileError as exc:
        return [], [str(exc)]
    good, skipped = [], []
    for job in jobs:
        found = problems(job, path, notebooks=notebooks)
        if found:
            skipped.append(f"skipped job {job.name}: {'; '.join(found)}")
        else:
            good.append(job)
    return good, skipped


def find(name: str, path: Path | None = None) -> UserJob | None:
    """The user job called ``name``, if the jobs file has one."""
    return next((j for j in load(path) if j.name == name), None)


def named(name: str, path: Path | None = None) -> schedules.Job | UserJob:
    """The built-in :class:`~tiktok_intel.schedules.Job` or the jobs file's :class:`UserJob` called
    ``name``; one clear error when there is none."""
    try:
        return schedules.job(name)
    except schedules.ScheduleError as exc:
        user = find(name.strip(), path)
        if user is None:
            raise schedules.ScheduleError(f"{exc}, or one of your jobs (`tiktok-intel jobs list`)") from None
        return user


def table(count: int = 3, after: dt.datetime | None = None, *, path: Path | None = None, check_notebooks: bool = True) -> list[dict]:
    """The schedules table (:func:`tiktok_intel.schedules.table`: the five built-in jobs), then the
    valid jobs of the jobs file (``check_notebooks=False``: those whose cron and time zone are valid,
    without opening their notebooks), each with its cron, time zone and next ``count`` run times."""
    rows = schedules.table(count, after)
    for j in valid_jobs(path, notebooks=check_notebooks)[0]:
        rows.append(
            {
                "flow": j.name,
                "cron": j.cron,
                "timezone": schedules.timezone(j.timezone).key,
                "does": j.does,
                "kind": "yours",
                "next": schedules.next_runs(j.cron, count, after, tz=j.timezone),
            }
        )
    return rows


def parse_param(text: str) -> tuple[str, Any]:
    """``--param k=v`` -> (k, value): JSON when it parses (``7``, ``true``, ``["a"]``), else the text."""
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise JobsFileError(f"--param {text!r} is not KEY=VALUE: write it like --param max_posts=100")
    try:
        return key.strip(), json.loads(value)
    except ValueError:
        return key.strip(), value
