"""Our own Prefect server, and the environment Prefect and the flows' processes read.

Prefect's temporary server (what a flow starts when no server is configured) stores schedules
but never fires them (docs/architecture.md), so ``serve`` (:mod:`flows.deploy`) starts a real ``prefect
server start`` with its state under ``<workspace>/prefect/`` and stops it when serving ends,
unless ``PREFECT_API_URL`` names a server to use. This module sits above the library: it is where
the process environment is set for Prefect and the notebook kernels the flows start.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tiktok_intel.errors import TikTokIntelError
from tiktok_intel.settings import configure, get_settings
from tiktok_intel.store import absolute_target

logger = logging.getLogger(__name__)

SERVER_START_TIMEOUT = 90.0


class OrchestrationError(TikTokIntelError):
    """The Prefect server or a deployment cannot be started."""


def prefect_home(workspace: Path | None = None) -> Path:
    return Path(workspace if workspace is not None else get_settings().workspace_path).resolve() / "prefect"


def prepare_environment(workspace: Path | None = None) -> None:
    """Environment Prefect reads when first imported: offline, state under the workspace, and
    the flows' processes (notebook kernels) see the same settings (``--db``) as this one."""
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
    if target != settings.db_target or workspace != settings.workspace_path:  # notebooks run in their own folder,
        configure(settings, db=target, workspace=workspace)  # dashboards elsewhere: no relative paths
    os.environ["TIKTOK_INTEL_DB"] = target


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

    def start(self, timeout: float = SERVER_START_TIMEOUT) -> PrefectServer:
        if not _port_free(self.host, self.port):
            raise OrchestrationError(
                f"port {self.port} on {self.host} is in use: pass --port N, or set PREFECT_API_URL to use the server running there"
            )
        self.home.mkdir(parents=True, exist_ok=True)
        env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
        env.update(
            {
                "PREFECT_HOME": str(self.home),
                "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
                "PREFECT_SERVER_API_HOST": self.host,
                "PREFECT_SERVER_API_PORT": str(self.port),
                "PREFECT_UI_ENABLED": os.environ.get("PREFECT_UI_ENABLED", "true"),
                "PREFECT_LOGGING_LEVEL": "WARNING",
            }
        )
        log = open(self.log_path, "ab")
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "prefect", "server", "start", "--host", self.host, "--port", str(self.port)],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=env,
                cwd=str(self.home),
                start_new_session=True,
            )  # Ctrl-C reaches us, and we stop the server after the runner
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

    def __enter__(self) -> PrefectServer:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()


@contextlib.contextmanager
def api_server(port: int = 4200, host: str = "127.0.0.1") -> Iterator[str]:
    """The Prefect API to use: ``PREFECT_API_URL`` when set, else our own server (stopped at the end)."""
    url = os.environ.get("PREFECT_API_URL")
    if url:
        if not healthy(url, 5.0):
            raise OrchestrationError(
                f"no Prefect server answers at PREFECT_API_URL={url}: start it (prefect server start) or unset PREFECT_API_URL"
            )
        yield url
        return
    with PrefectServer(prefect_home(), host, port) as server:
        os.environ["PREFECT_API_URL"] = server.api_url
        try:
            yield server.api_url
        finally:
            os.environ.pop("PREFECT_API_URL", None)
