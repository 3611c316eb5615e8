"""Serving the five deployments and your jobs on their schedules, and running one flow now.

:func:`deployments` builds the five built-in deployments from the schedules table
(``tiktok_intel.schedules``), :class:`JobsWatcher` keeps one ``user-job`` deployment per valid job
of the jobs file, :func:`serve` runs them all (on our own Prefect server, :mod:`.server`, unless
``PREFECT_API_URL`` names one) and :func:`run_now` runs one flow in this process.
"""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import Mapping
from typing import Any

from tiktok_intel.jobs import UserJob, named, valid_jobs
from tiktok_intel.schedules import JOBS, timezone
from tiktok_intel.settings import get_settings

from . import load
from .server import OrchestrationError, api_server, prepare_environment

#: How often ``serve`` looks at the jobs file for changes, in seconds.
JOBS_POLL_SECONDS = 5.0


def deployments() -> list:
    """The five deployments, each with its job's cron schedule in the configured time zone."""
    from prefect.schedules import Cron

    zone = timezone().key
    result = []
    for job in JOBS:
        flow = load(job)
        result.append(
            flow.to_deployment(
                name=job.name, schedules=[Cron(job.cron, timezone=zone)], paused=False, description=job.does, tags=["tiktok-intel"]
            )
        )
    return result


def _user_deployment(job: UserJob):
    """A deployment of the ``user-job`` flow for one job of the jobs file (async: built inside the runner's loop)."""
    from prefect.schedules import Cron

    from .user_job import user_job

    return user_job.ato_deployment(
        name=job.name,
        schedules=[Cron(job.cron, timezone=timezone(job.timezone).key)],
        paused=False,
        parameters={"job": job.name},
        description=job.does,
        tags=["tiktok-intel", "user-job"],
    )


class JobsWatcher:
    """Keeps the runner's user-job deployments in step with the jobs file: deploys new and changed
    jobs, deletes removed ones, and says what it did (or skipped, and why) in one line each."""

    def __init__(self, runner: Any, say=print):
        self.runner, self.say = runner, say
        self.path = get_settings().jobs_path
        self.deployed: dict[str, tuple[str, str]] = {}  # name -> (cron, time zone key)
        self.stamp: tuple[float, int] | None = None
        self.reported: set[str] = set()

    def _stamp(self) -> tuple[float, int] | None:
        try:
            stat = self.path.stat()
        except OSError:
            return None
        return stat.st_mtime, stat.st_size

    async def sync(self) -> None:
        """Read the jobs file and bring the deployments in line with it."""
        self.stamp = self._stamp()
        good, skipped = valid_jobs(self.path)
        for line in skipped:
            if line not in self.reported:
                self.say(line)
        self.reported = set(skipped)
        wanted = {job.name: job for job in good}
        for name, job in wanted.items():
            key = (job.cron, timezone(job.timezone).key)
            if self.deployed.get(name) == key:
                continue
            try:
                await self.runner.aadd_deployment(await _user_deployment(job))
            except Exception as exc:  # noqa: BLE001 - one bad job must not stop the others
                self.say(f"skipped job {name}: Prefect refused it ({type(exc).__name__}: {str(exc).splitlines()[0][:200]})")
                continue
            self.say(f"{'redeployed' if name in self.deployed else 'deployed'} your job {name}: {job.cron} ({key[1]})")
            self.deployed[name] = key
        for name in sorted(set(self.deployed) - set(wanted)):
            # paused, not deleted: the runner pauses every deployment it served when it stops, and
            # a deleted one would fail that; the next `serve` deletes it (forget_stale)
            await self._deployment(name, pause=True)
            self.say(f"removed your job {name} from the schedule")
            del self.deployed[name]

    async def _deployment(self, name: str, *, pause: bool = False, delete: bool = False) -> None:
        from prefect.client.orchestration import get_client
        from prefect.exceptions import ObjectNotFound

        async with get_client() as client:
            try:
                deployment = await client.read_deployment_by_name(f"user-job/{name}")
            except ObjectNotFound:
                return
            if pause:
                await client.pause_deployment(deployment.id)
            if delete:
                await client.delete_deployment(deployment.id)

    async def forget_stale(self) -> None:
        """Delete user-job deployments a previous ``serve`` left for jobs no longer in the file."""
        from prefect.client.orchestration import get_client
        from prefect.client.schemas.filters import FlowFilter, FlowFilterName

        async with get_client() as client:
            existing = await client.read_deployments(flow_filter=FlowFilter(name=FlowFilterName(any_=["user-job"])))
        wanted = {job.name for job in valid_jobs(self.path)[0]}
        for deployment in existing:
            if deployment.name not in wanted:
                await self._deployment(deployment.name, delete=True)

    async def watch(self, every: float = JOBS_POLL_SECONDS) -> None:
        while True:
            await asyncio.sleep(every)
            if self._stamp() != self.stamp:
                try:
                    await self.sync()
                except Exception as exc:  # noqa: BLE001 - keep serving what is deployed
                    self.say(f"the jobs file could not be applied ({type(exc).__name__}: {exc}); the jobs deployed before keep running")


async def _run_runner(built_in: list, limit: int | None, on_ready=None) -> None:
    from prefect.runner import Runner

    runner = Runner(pause_on_shutdown=True, limit=limit)
    for deployment in built_in:
        await runner.aadd_deployment(deployment)
    watcher = JobsWatcher(runner)
    await watcher.forget_stale()
    await watcher.sync()
    print(
        f"serving {len(built_in)} built-in deployments and {len(watcher.deployed)} of your jobs on {os.environ['PREFECT_API_URL']} "
        f"(time zone {timezone().key}; jobs file {watcher.path}, re-read every {JOBS_POLL_SECONDS:.0f} s); Ctrl-C stops",
        flush=True,
    )
    if on_ready:
        on_ready(os.environ["PREFECT_API_URL"])
    watching = asyncio.create_task(watcher.watch())
    try:
        await runner.start()
    finally:
        watching.cancel()


def serve(port: int = 4200, host: str = "127.0.0.1", limit: int | None = None, on_ready=None) -> None:
    """Register the five deployments and the jobs file's jobs, and run their flows on schedule
    until Ctrl-C (or SIGTERM); changes to the jobs file are deployed while serving."""
    timezone()  # a bad time zone is one clear line, before anything starts
    prepare_environment()
    previous = signal.getsignal(signal.SIGTERM)

    def _terminate(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _terminate)
    try:
        with api_server(port, host) as url:
            from prefect.settings import PREFECT_API_URL, temporary_settings

            with temporary_settings(updates={PREFECT_API_URL: url}):
                asyncio.run(_run_runner(deployments(), limit, on_ready))
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
    print("stopped", flush=True)


def split_parameters(flow_name: str, params: Mapping[str, Any]) -> dict[str, Any]:
    """``--param k=v`` values -> the flow's keyword arguments: its own parameters by name, the rest
    for its notebook (``notebook={...}``)."""
    import inspect

    flow = load(flow_name)
    own = set(inspect.signature(flow.fn).parameters) - {"notebook"}
    kwargs: dict[str, Any] = {k: v for k, v in params.items() if k in own}
    rest = {k: v for k, v in params.items() if k not in own}
    if rest:
        kwargs["notebook"] = rest
    return kwargs


def run_now(flow_name: str, params: Mapping[str, Any] | None = None) -> str:
    """Run one flow (a built-in job, or one of the jobs file's) now, in this process (reported to
    ``PREFECT_API_URL``, or Prefect's temporary server). Returns its one-line summary; raises what
    the flow raised."""
    job = named(flow_name)
    if isinstance(job, UserJob):
        if params:
            raise OrchestrationError(
                f"--param is for built-in flows: set {job.name}'s parameters in the jobs file "
                f"(`tiktok-intel jobs add {job.name} ... --replace`)"
            )
        prepare_environment()
        from .user_job import user_job

        return user_job(job.name)
    prepare_environment()
    from prefect.exceptions import ParameterTypeError

    flow = load(job)
    try:
        return flow(**split_parameters(job.name, params or {}))
    except ParameterTypeError as exc:
        shown = " ".join(str(exc).split())[:300]
        raise OrchestrationError(f"a --param value does not fit {job.name}'s parameters ({shown}): see `tiktok-intel run --help`") from None
