"""Serving the five deployments on their schedules, and running one flow now.

Prefect's temporary server (what a flow starts when no server is configured) stores schedules
but never fires them (DESIGN.md), so :func:`serve` starts a real ``prefect server start`` with its
state under ``<workspace>/prefect/`` and stops it when serving ends, unless ``PREFECT_API_URL``
names a server to use.
"""
from __future__ import annotations

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
from ..schedules import JOBS, job as find_job, timezone
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
    settings = get_settings()
    os.environ["TIKTOK_INTEL_WORKSPACE"] = str(settings.workspace_path.resolve())
    target = absolute_target(settings.db_target)
    if target != settings.db_target:  # notebooks run in notebooks/pipelines/: relative paths would point there
        configure(settings, db=target)
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


def serve(port: int = 4200, host: str = "127.0.0.1", limit: int | None = None, on_ready=None) -> None:
    """Register the five deployments and run their flows on schedule until Ctrl-C (or SIGTERM)."""
    timezone()  # a bad time zone is one clear line, before anything starts
    prepare_environment()
    previous = signal.getsignal(signal.SIGTERM)

    def _terminate(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _terminate)
    try:
        with api_server(port, host) as url:
            from prefect import serve as prefect_serve
            from prefect.settings import PREFECT_API_URL, temporary_settings

            with temporary_settings(updates={PREFECT_API_URL: url}):
                deployed = deployments()
                print(f"serving {len(deployed)} deployments on {url} (time zone {timezone().key}); Ctrl-C stops", flush=True)
                if on_ready:
                    on_ready(url)
                prefect_serve(*deployed, limit=limit, print_starting_message=False)
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


def run_now(flow_name: str, params: Mapping[str, Any] | None = None) -> str:
    """Run one flow now, in this process (reported to ``PREFECT_API_URL``, or Prefect's temporary
    server). Returns its one-line summary; raises what the flow raised."""
    job = find_job(flow_name)
    prepare_environment()
    import flows

    flow = flows.load(job.flow)
    return flow(**split_parameters(job.name, params or {}))


def parse_param(text: str) -> tuple[str, Any]:
    """``k=v`` -> (k, value): JSON when it parses (``7``, ``true``, ``["a"]``), else the text."""
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise OrchestrationError(f"--param {text!r} is not KEY=VALUE: write it like --param max_posts=100")
    try:
        return key.strip(), json.loads(value)
    except ValueError:
        return key.strip(), value
