"""The scheduled jobs (five from the original application, and the availability recheck), in one table: everything else (Prefect deployments, ``tiktok-intel
schedules``, docs, dashboards' "last refreshed" labels) reads them from here.

Each job has one name: its Prefect flow and deployment are called ``post-trends``, its pipeline
notebook, step function (:mod:`tiktok_intel.orchestration.steps`) and flow module ``post_trends``
(:attr:`Job.slug`). Cron expressions are in the configured time zone (setting ``timezone``,
default ``Europe/Stockholm``; the original application ran in UTC by accident of its containers).
Next run times come from ``cronsim`` (installed with Prefect, through its ``pydocket`` dependency),
which handles daylight-saving changes correctly; ``tests/test_serve.py`` checks they agree with the
runs a Prefect server schedules. This module is a leaf: it imports no other project module but
``settings`` and ``clock``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import zoneinfo

from . import clock
from .settings import SettingsError, get_settings


class ScheduleError(SettingsError):
    """An unknown job name or time zone."""


@dataclasses.dataclass(frozen=True)
class Job:
    name: str  # the Prefect flow and deployment name
    cron: str
    does: str

    @property
    def slug(self) -> str:
        """The same name as a Python identifier: the pipeline notebook, step function and flow module."""
        return self.name.replace("-", "_")

    @property
    def notebook(self) -> str:
        """The pipeline notebook the job runs (``notebooks/pipelines/<slug>.ipynb``)."""
        return self.slug


#: The schedules, from the original application (see docs/architecture.md).
JOBS: tuple[Job, ...] = (
    Job("hashtag-monitoring", "*/30 * * * *", "snapshot each tracked hashtag's stats, then refresh the hashtag trends"),
    Job("content", "1 0,8,16 * * *", "collect up to N posts per tracked hashtag (setting max_posts, default 500) and ingest them"),
    Job("post-trends", "0 1,9,17 * * *", "refresh the post trends"),
    Job("author-trends", "5 1,9,17 * * *", "refresh the author trends"),
    Job("association-rules", "30 1 * * *", "mine the association rules between hashtags"),
    Job("recheck", "20 */6 * * *", "ask TikTok whether the posts collected in the last N days (setting recheck_days) are still available"),
)

JOBS_BY_NAME = {job.name: job for job in JOBS}


def key(name: str) -> str:
    """A job name as written, with separators and case normalised: ``post_trends`` and ``Post Trends`` -> ``post-trends``."""
    return "-".join(name.strip().lower().replace("_", " ").replace("-", " ").split())


def job(name: str) -> Job:
    """A built-in job by name; ``post_trends``, ``post-trends`` and ``Post Trends`` all name the same one."""
    found = JOBS_BY_NAME.get(key(name))
    if found is None:
        raise ScheduleError(f"no flow {name!r}: use one of {', '.join(JOBS_BY_NAME)}")
    return found


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
        start = start.replace(tzinfo=dt.UTC)
    start = start.astimezone(zone)
    from cronsim import CronSim, CronSimError

    try:
        iterator = CronSim(expression, start)
    except CronSimError as exc:
        raise ScheduleError(
            f'cron expression {expression!r} is not valid ({exc}): write five fields, like "0 7 * * 1" (Mondays 07:00)'
        ) from None
    return [next(iterator) for _ in range(count)]


def table(count: int = 3, after: dt.datetime | None = None) -> list[dict]:
    """Each built-in job with its cron, time zone and next ``count`` run times (``tiktok-intel
    schedules``; :func:`tiktok_intel.jobs.table` adds the user's jobs)."""
    zone = timezone()
    return [
        {"flow": j.name, "cron": j.cron, "timezone": zone.key, "does": j.does, "kind": "built-in", "next": next_runs(j, count, after)}
        for j in JOBS
    ]
