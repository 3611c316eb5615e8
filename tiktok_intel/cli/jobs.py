"""``tiktok-intel jobs list|add|remove|validate``: your own notebooks as scheduled jobs (the jobs file)."""

from __future__ import annotations

import argparse
import sys

from .. import jobs


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "jobs",
        help="your own notebooks as scheduled jobs (the jobs file)",
        description="Manage the jobs file (setting TIKTOK_INTEL_JOBS_FILE, default <workspace>/jobs.toml): "
        "your notebooks, each with a cron, optional time zone, parameters, and whether its "
        "executed copies are published on the dashboards' Reports page. `tiktok-intel serve` "
        "runs them beside the built-in jobs and picks up changes while it runs; "
        "`tiktok-intel run NAME` runs one now.",
    )
    commands = p.add_subparsers(dest="jobs_command", metavar="ACTION", required=True)

    q = commands.add_parser(
        "list",
        help="the jobs, with their cron, notebook and state",
        description="List the jobs in the jobs file: name, cron, time zone, notebook, parameters, "
        "published or not, and whether it is valid.",
    )
    q.set_defaults(handler=_list)

    q = commands.add_parser(
        "add",
        help="add a notebook as a scheduled job (checked first)",
        description="Add a job to the jobs file. It is validated first (the notebook exists, has a "
        "'parameters' cell taking the given parameters, the cron parses) and refused with "
        "one line per problem.",
    )
    q.add_argument("name", metavar="NAME", help="job name: lower-case letters, digits, hyphens (e.g. weekly-brief)")
    q.add_argument("notebook", metavar="NOTEBOOK", help="path to the .ipynb file (relative to the current folder)")
    q.add_argument("--cron", required=True, help='when it runs, five cron fields, e.g. "0 7 * * 1" (Mondays 07:00)')
    q.add_argument("--timezone", default=None, help="time zone of the cron (default: setting TIKTOK_INTEL_TIMEZONE)")
    q.add_argument(
        "--param", action="append", default=[], metavar="KEY=VALUE", help="a parameter of the notebook (repeatable); VALUE as JSON or text"
    )
    q.add_argument("--publish", action="store_true", help="list its executed copies on the dashboards' Reports page")
    q.add_argument("--replace", action="store_true", help="replace the job of that name if there is one")
    q.set_defaults(handler=_add)

    q = commands.add_parser("remove", help="remove a job", description="Remove a job from the jobs file.")
    q.add_argument("name", metavar="NAME")
    q.set_defaults(handler=_remove)

    q = commands.add_parser(
        "validate",
        help="check every job; one line per problem",
        description="Check each job of the jobs file: the notebook exists and has a 'parameters' cell "
        "accepting the job's parameters, the cron and time zone parse. Exit code 1 when any "
        "job has a problem (`serve` skips those jobs).",
    )
    q.set_defaults(handler=_validate)


def _list(args: argparse.Namespace) -> int:
    path = jobs.jobs_path()
    found = jobs.load(path)
    if not found:
        print(f'no jobs in {path}: add one with `tiktok-intel jobs add NAME NOTEBOOK --cron "0 7 * * 1"`', file=sys.stderr)
        return 0
    problems = jobs.validate(path)
    width = max(len(j.name) for j in found)
    cron_width = max(len(j.cron) for j in found)
    for job in found:
        state = "ok" if not problems[job.name] else "INVALID (`tiktok-intel jobs validate`)"
        zone = job.timezone or "default time zone"
        params = " ".join(f"{k}={v!r}" for k, v in job.parameters.items())
        print(
            f"{job.name:<{width}}  {job.cron:<{cron_width}}  {zone}  {job.notebook}"
            f"{'  ' + params if params else ''}{'  published' if job.publish else ''}  {state}"
        )
    return 0


def _add(args: argparse.Namespace) -> int:
    path = jobs.jobs_path()
    job = jobs.UserJob(
        name=args.name,
        notebook=jobs.relative_notebook(args.notebook, path),
        cron=args.cron,
        timezone=args.timezone,
        parameters=dict(jobs.parse_param(p) for p in args.param),
        publish=args.publish,
    )
    jobs.add(job, path, replace=args.replace)
    print(f"added job {job.name} to {path}: {job.cron}; a running `tiktok-intel serve` deploys it within a few seconds")
    return 0


def _remove(args: argparse.Namespace) -> int:
    path = jobs.jobs_path()
    job = jobs.remove(args.name, path)
    print(f"removed job {job.name} from {path}")
    return 0


def _validate(args: argparse.Namespace) -> int:
    path = jobs.jobs_path()
    result = jobs.validate(path)
    if not result:
        print(f"no jobs in {path}")
        return 0
    bad = 0
    for name, problems in result.items():
        for problem in problems:
            print(f"{name}: {problem}")
        bad += bool(problems)
    print(f"{len(result) - bad} of {len(result)} jobs valid in {path}", file=sys.stderr if bad else sys.stdout)
    return 1 if bad else 0
