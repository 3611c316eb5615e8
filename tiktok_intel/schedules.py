"""The five scheduled jobs, in one table: everything else (Prefect deployments, ``tiktok-intel
schedules``, docs, dashboards' "last refreshed" labels) reads them from here.

Cron expressions are in the configured time zone (setting ``timezone``, default
``Europe/Stockholm``; the original application ran in UTC by accident of its containers).
Next run times come from ``cronsim`` (installed with Prefect, through its ``pydocket`` dependency),
which handles daylight-saving changes correctly; ``tests/test_serve.py`` checks they agree with the
runs a Prefect server schedules.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import zoneinfo

from . import clock
from .errors import TikTokIntelError
from .settings import get_settings


class ScheduleError(TikTokIntelError):
    """An unknown job name or time zone."""


@dataclasses.dataclass(frozen=True)
class Job:
    name: str  # the Prefect flow and deployment name
    cron: str
    does: str
    flow: str  # "module:function" of the Prefect flow, relative to the repository root
    notebook: str | None = None  # the pipeline notebook it runs, if any
    function: str | None = None  # the package function it calls, if any


#: The schedules, from the original application (see DESIGN.md).
JOBS: tuple[Job, ...] = (
    Job("hashtag-monitoring", "*/30 * * * *", "refresh the tracked list, snapshot each tracked hashtag's stats",
        "flows.monitoring:hashtag_monitoring", notebook="hashtag_monitor", function="tiktok_intel.collect.monitor"),
    Job("content", "1 0,8,16 * * *",
        "collect up to N posts per tracked hashtag (setting max_posts, default 500), then run process_content",
        "flows.content:content", notebook="process_content", function="tiktok_intel.collect.collect"),
    Job("post-trends", "0 1,9,17 * * *", "run post_trends", "flows.post_trends:post_trends", notebook="post_trends"),
    Job("author-trends", "5 1,9,17 * * *", "run author_trends", "flows.author_trends:author_trends", notebook="author_trends"),
    Job("association-rules", "30 1 * * *", "run association_rules", "flows.association_rules:association_rules",
        notebook="association_rules"),
)

JOBS_BY_NAME = {job.name: job for job in JOBS}


def job(name: str) -> Job:
    """A job by name; ``post_trends``, ``post-trends`` and ``Post Trends`` all name the same one."""
    key = "-".join(name.strip().lower().replace("_", " ").replace("-", " ").split())
    aliases = {"monitoring": "hashtag-monitoring", "monitor": "hashtag-monitoring", "hashtag-monitor": "hashtag-monitoring",
               "rules": "association-rules", "process-content": "content"}
    key = aliases.get(key, key)
    if key not in JOBS_BY_NAME:
        raise ScheduleError(f"no flow {name!r}: use one of {', '.join(JOBS_BY_NAME)}")
    return JOBS_BY_NAME[key]


def timezone(name: str | None = None) -> zoneinfo.ZoneInfo:
    """The time zone the schedules are written in (setting ``timezone``)."""
    where = "" if name else " in TIKTOK_INTEL_TIMEZONE"
    name = name or get_settings().timezone
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ScheduleError(f"unknown time zone {name!r}{where}: use an IANA name such as Europe/Stockholm or UTC") from None


def next_runs(cron: str | Job, count: int = 3, after: dt.datetime | None = None, tz: str | None = None) -> list[dt.datetime]:
    """The next ``count`` times the cron expression fires after ``after`` (default: now), as aware
    datetimes in the schedules' time zone. A naive ``after`` is taken as UTC (like everything in the DB)."""
    expression = cron.cron if isinstance(cron, Job) else cron
    zone = timezone(tz)
    start = after if after is not None else clock.now()
    if start.tzinfo is None:
        start = start.replace(tzinfo=dt.timezone.utc)
    start = start.astimezone(zone)
    from cronsim import CronSim, CronSimError

    try:
        iterator = CronSim(expression, start)
    except CronSimError as exc:
        raise ScheduleError(f"cron expression {expression!r} is not valid ({exc}): write five fields, "
                            "like \"0 7 * * 1\" (Mondays 07:00)") from None
    return [next(iterator) for _ in range(count)]


def table(count: int = 3, after: dt.datetime | None = None, *, user_jobs: bool = True, check_notebooks: bool = True) -> list[dict]:
    """Each job with its cron, time zone and next ``count`` run times (for ``tiktok-intel
    schedules``): the five built-in jobs, then the valid jobs of the user's jobs file
    (``check_notebooks=False``: those whose cron and time zone are valid, without opening their notebooks)."""
    zone = timezone()
    rows = [{"flow": j.name, "cron": j.cron, "timezone": zone.key, "does": j.does, "kind": "built-in",
             "next": next_runs(j, count, after)} for j in JOBS]
    if user_jobs:
        from . import jobs

        for j in jobs.valid_jobs(notebooks=check_notebooks)[0]:
            rows.append({"flow": j.name, "cron": j.cron, "timezone": timezone(j.timezone).key, "does": j.does, "kind": "yours",
                         "next": next_runs(j.cron, count, after, tz=j.timezone)})
    return rows
