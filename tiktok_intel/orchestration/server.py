"""Serving the five deployments and your jobs on their schedules, and running one flow now.

Prefect's temporary server (what a flow starts when no server is configured) stores schedules
but never fires them (DESIGN.md), so :func:`serve` starts a real ``prefect server start`` with its
state under ``<workspace>/prefect/`` and stops it when serving ends, unless ``PREFECT_API_URL``
names a server to use.
"""
from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, Iterator, Mapping

from ..errors import TikTokIntelError
from ..jobs import UserJob, find as find_user_job, valid_jobs
from ..schedules import JOBS, ScheduleError, job as find_job, timezone
from ..settings import configure, get_settings

logger = logging.getLogger(__name__)

#: The repository root, where the ``flows`` package lives beside ``tiktok_intel``.
PROJECT_ROOT = Path(__file__).resolve().parents[2]
SERVER_START_TIMEOUT = 90.0


class OrchestrationError(TikTokIntelError):
    """The Prefect server or a deployment cannot be started."""


def prefect_home(workspace: Path | None = None) -> Path:
    return Path(workspace if workspace is not None else get_settings().workspace_path).resolve() / "prefect"


def prepare_environment(workspace: Path | None = None) -> None:
    """Environment Prefect reads when first imported: offline, state under the workspace, and
    the flows' processes see the same settings (``--db``) as this one."""
    home = prefect_home(workspace)
    home.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("PREFECT_HOME", str(home))
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("PREFECT_RUNNER_POLL_FREQUENCY", "2")
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "INFO")
    # `run` without a server starts Prefect's temporary one: its 20 s start timeout is too short on
    # a busy 2-core machine (measured: timed out at load 5)
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "90")
    settings = get_settings()
    os.environ["TIKTOK_INTEL_WORKSPACE"] = str(settings.workspace_path.resolve())
    target = absolute_target(settings.db_target)
    workspace = settings.workspace_path.resolve()
    if target != settings.db_target or workspace != settings.workspace_path:  # notebooks run in notebooks/pipelines/,
        configure(settings, db=target, workspace=workspace)                  # dashboards elsewhere: no relative paths
    os.environ["TIKTOK_INTEL_DB"] = target
    root = str(PROJECT_ROOT)
    if root not in sys.path:
        sys.path.insert(0, root)
    paths = os.environ.get("PYTHONPATH", "")
    if root not in paths.split(os.pathsep):
        os.environ["PYTHONPATH"] = root + (os.pathsep + paths if paths else "")


def absolute_target(target: str) -> str:
    """A database target with its file path made absolute (``ducklake:sqlite:rel/x`` too)."""
    if target == ":memory:":
        return target
    if not target.startswith("ducklake:"):
        return str(Path(target).resolve())
    rest = target[len("ducklake:"):]
    for kind in ("sqlite:", "duckdb:", ""):
        if kind and rest.startswith(kind):
            return f"ducklake:{kind}{Path(rest[len(kind):]).resolve()}"
        if not kind and ":" not in rest.split("/")[0]:
            return f"ducklake:{Path(rest).resolve()}"
    return target  # postgres:...: no file


def _port_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        return s.connect_ex((host, port)) != 0


def healthy(api_url: str, timeout: float = 2.0) -> bool:
    try:
        with urllib.request.urlopen(api_url.rstrip("/") + "/health", timeout=timeout) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError, ValueError):
        return False


class PrefectServer:
    """``prefect server start`` as a child process, state under ``home``; bound to 127.0.0.1."""

    def __init__(self, home: Path, host: str = "127.0.0.1", port: int = 4200):
        self.home, self.host, self.port = Path(home), host, port
        self.process: subprocess.Popen | None = None

    @property
    def api_url(self) -> str:
        return f"http://{self.host}:{self.port}/api"

    @property
    def log_path(self) -> Path:
        return self.home / "server.log"

    def start(self, timeout: float = SERVER_START_TIMEOUT) -> "PrefectServer":
        if not _port_free(self.host, self.port):
            raise OrchestrationError(f"port {self.port} on {self.host} is in use: pass --port N, or set PREFECT_API_URL to use the server running there")
        self.home.mkdir(parents=True, exist_ok=True)
        env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
        env.update({"PREFECT_HOME": str(self.home), "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
                    "PREFECT_SERVER_API_HOST": self.host, "PREFECT_SERVER_API_PORT": str(self.port),
                    "PREFECT_UI_ENABLED": os.environ.get("PREFECT_UI_ENABLED", "true"),
                    "PREFECT_LOGGING_LEVEL": "WARNING"})
        log = open(self.log_path, "ab")
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "prefect", "server", "start", "--host", self.host, "--port", str(self.port)],
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env, cwd=str(self.home),
                start_new_session=True)  # Ctrl-C reaches us, and we stop the server after the runner
        finally:
            log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                tail = self.log_path.read_text(errors="replace").strip().splitlines()[-1:] or [""]
                raise OrchestrationError(f"the Prefect server stopped at start ({tail[0][:200]}): see {self.log_path}")
            if healthy(self.api_url, 1.0):
                return self
            time.sleep(0.3)
        self.stop()
        raise OrchestrationError(f"the Prefect server did not answer within {timeout:.0f} s: see {self.log_path}")

    def stop(self, timeout: float = 15.0) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(5)

    def __enter__(self) -> "PrefectServer":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()


@contextlib.contextmanager
def api_server(port: int = 4200, host: str = "127.0.0.1") -> Iterator[str]:
    """The Prefect API to use: ``PREFECT_API_URL`` when set, else our own server (stopped at the end)."""
    url = os.environ.get("PREFECT_API_URL")
    if url:
        if not healthy(url, 5.0):
            raise OrchestrationError(f"no Prefect server answers at PREFECT_API_URL={url}: start it (prefect server start) or unset PREFECT_API_URL")
        yield url
        return
    with PrefectServer(prefect_home(), host, port) as server:
        os.environ["PREFECT_API_URL"] = server.api_url
        try:
            yield server.api_url
        finally:
            os.environ.pop("PREFECT_API_URL", None)


#: How often ``serve`` looks at the jobs file for changes, in seconds.
JOBS_POLL_SECONDS = 5.0


def deployments() -> list:
    """The five deployments, each with its job's cron schedule in the configured time zone."""
    from prefect.schedules import Cron

    import flows

    zone = timezone().key
    result = []
    for job in JOBS:
        flow = flows.load(job.flow)
        result.append(flow.to_deployment(name=job.name, schedules=[Cron(job.cron, timezone=zone)], paused=False,
                                         description=job.does, tags=["tiktok-intel"]))
    return result


def _user_deployment(job: UserJob):
    """A deployment of the ``user-job`` flow for one job of the jobs file (async: built inside the runner's loop)."""
    from prefect.schedules import Cron

    from flows.user_job import user_job

    return user_job.ato_deployment(name=job.name, schedules=[Cron(job.cron, timezone=timezone(job.timezone).key)], paused=False,
                                   parameters={"job": job.name}, description=job.does, tags=["tiktok-intel", "user-job"])


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
            except Exception as exc:  # one bad job must not stop the others
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
                except Exception as exc:  # keep serving what is deployed
                    self.say(f"the jobs file could not be applied ({type(exc).__name__}: {exc}); the jobs deployed before keep running")


async def _run_runner(built_in: list, limit: int | None, on_ready=None) -> None:
    from prefect.runner import Runner

    runner = Runner(pause_on_shutdown=True, limit=limit)
    for deployment in built_in:
        await runner.aadd_deployment(deployment)
    watcher = JobsWatcher(runner)
    await watcher.forget_stale()
    await watcher.sync()
    print(f"serving {len(built_in)} built-in deployments and {len(watcher.deployed)} of your jobs on {os.environ['PREFECT_API_URL']} "
          f"(time zone {timezone().key}; jobs file {watcher.path}, re-read every {JOBS_POLL_SECONDS:.0f} s); Ctrl-C stops", flush=True)
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

    import flows

    flow = flows.load(find_job(flow_name).flow)
    own = set(inspect.signature(flow.fn).parameters) - {"notebook"}
    kwargs: dict[str, Any] = {k: v for k, v in params.items() if k in own}
    rest = {k: v for k, v in params.items() if k not in own}
    if rest:
        kwargs["notebook"] = rest
    return kwargs


def job_named(name: str):
    """The built-in :class:`~tiktok_intel.schedules.Job` or the jobs file's
    :class:`~tiktok_intel.jobs.UserJob` called ``name``; one clear error when there is none."""
    try:
        return find_job(name)
    except ScheduleError as exc:
        user = find_user_job(name.strip())
        if user is None:
            raise ScheduleError(f"{exc}, or one of your jobs (`tiktok-intel jobs list`)") from None
        return user


def run_now(flow_name: str, params: Mapping[str, Any] | None = None) -> str:
    """Run one flow (a built-in job, or one of the jobs file's) now, in this process (reported to
    ``PREFECT_API_URL``, or Prefect's temporary server). Returns its one-line summary; raises what
    the flow raised."""
    job = job_named(flow_name)
    if isinstance(job, UserJob):
        if params:
            raise OrchestrationError(f"--param is for built-in flows: set {job.name}'s parameters in the jobs file "
                                     f"(`tiktok-intel jobs add {job.name} ... --replace`)")
        prepare_environment()
        from flows.user_job import user_job

        return user_job(job.name)
    prepare_environment()
    import flows
    from prefect.exceptions import ParameterTypeError

    flow = flows.load(job.flow)
    try:
        return flow(**split_parameters(job.name, params or {}))
    except ParameterTypeError as exc:
        shown = " ".join(str(exc).split())[:300]
        raise OrchestrationError(f"a --param value does not fit {job.name}'s parameters ({shown}): see `tiktok-intel run --help`") from None


def parse_param(text: str) -> tuple[str, Any]:
    """``k=v`` -> (k, value): JSON when it parses (``7``, ``true``, ``["a"]``), else the text."""
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise OrchestrationError(f"--param {text!r} is not KEY=VALUE: write it like --param max_posts=100")
    try:
        return key.strip(), json.loads(value)
    except ValueError:
        return key.strip(), value
