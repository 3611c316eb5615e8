"""The dashboards server cannot be exhausted or steered from outside (issue 22).

Against a real Voilà (as `tiktok-intel dashboards` starts it) on a free loopback port: a foreign
Host or Origin is refused (DNS rebinding), a closed page's kernel is shut down at once, page
kernels are capped with a "busy" page beyond the cap, SIGTERM to the CLI leaves no process, and
editing the tracked list is opt-in off loopback.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psutil
import pytest

from tiktok_intel import settings as settings_module
from tiktok_intel.dashboards import launcher

RENDER_TIMEOUT = 90


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_http(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            httpx.get(url, timeout=2)
            return
        except httpx.HTTPError:
            time.sleep(0.3)
    raise RuntimeError(f"Voilà did not answer at {url}")


def kernels(pid: int) -> list[psutil.Process]:
    """The kernel processes under the Voilà (or CLI) process ``pid``."""
    try:
        children = psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []
    found = []
    for child in children:
        try:
            if "ipykernel" in " ".join(child.cmdline()):
                found.append(child)
        except psutil.Error:
            pass
    return found


def wait_kernels(pid: int, count: int, timeout: float) -> float:
    """Seconds until ``pid`` has ``count`` kernels (fails after ``timeout``)."""
    started = time.monotonic()
    while len(kernels(pid)) != count:
        assert time.monotonic() - started < timeout, f"{len(kernels(pid))} kernels, not {count}, after {timeout} s"
        time.sleep(0.2)
    return time.monotonic() - started


def kernel_id(html: str) -> str:
    match = re.search(r'"kernelId": "([0-9a-f-]{36})"', html)
    assert match, html[:500]
    return match.group(1)


@pytest.fixture(scope="module")
def voila(tmp_path_factory):
    """Voilà on loopback, kernels started per page (no pool), at most 2 page kernels."""
    folder = tmp_path_factory.mktemp("guard")
    previous = settings_module.get_settings()
    settings_module.configure(settings_module.load_settings(environ={}, dotenv=None), workspace=folder / "data", dashboard_max_kernels=2)
    port = _free_port()
    with (folder / "voila.log").open("wb") as log:
        process, address = launcher.launch(port=port, preheat=False, stdout=log, stderr=subprocess.STDOUT)
        settings_module.configure(previous)
        try:
            _wait_http(address)
            yield {"process": process, "port": port, "base": f"http://127.0.0.1:{port}/", "log": folder / "voila.log"}
        finally:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()


@pytest.mark.slow
def test_on_loopback_only_local_host_and_origin_are_served(voila):
    base, port = voila["base"], voila["port"]
    for host in (f"evil.example:{port}", "evil.example", f"127.0.0.1.evil.example:{port}", f"localhost.evil:{port}"):
        for path in ("", "voila/render/index.ipynb", "voila/static/voila.js", "voila/api/shutdown/x"):
            response = httpx.get(base + path, headers={"Host": host})
            assert response.status_code == 403, (host, path)
            assert "only at localhost or 127.0.0.1" in response.text
        # the rebinding case: the page's own name in both Host and Origin
        assert httpx.get(base, headers={"Host": host, "Origin": f"http://{host}"}).status_code == 403
    for origin in ("http://evil.example", f"http://evil.example:{port}", "null", f"file://localhost:{port}"):
        assert httpx.get(base, headers={"Origin": origin}).status_code == 403, origin
    for host in (f"localhost:{port}", f"127.0.0.1:{port}", "localhost"):
        assert httpx.get(base, headers={"Host": host, "Origin": f"http://{host}"}).status_code == 302, host

    with httpx.Client(timeout=RENDER_TIMEOUT) as client:
        page = client.get(base + "voila/render/index.ipynb")
        assert page.status_code == 200
        kernel = kernel_id(page.text)
        channels = f"ws://127.0.0.1:{port}/api/kernels/{kernel}/channels"
        assert _websocket(channels, origin=f"http://evil.example:{port}", host=f"evil.example:{port}") == 403
        assert _websocket(channels, origin="http://evil.example") == 403
        assert _websocket(channels, origin=f"http://127.0.0.1:{port}") == 101
        assert _websocket(channels, origin=f"http://localhost:{port}", host=f"localhost:{port}") == 101
        assert client.post(base + f"voila/api/shutdown/{kernel}", data={"_xsrf": client.cookies["_xsrf"]}).status_code == 204
    wait_kernels(voila["process"].pid, 0, 10)


def _websocket(url: str, *, origin: str, host: str | None = None) -> int:
    """The status a websocket handshake to ``url`` gets (101: connected)."""
    import asyncio

    from tornado import httpclient, websocket

    async def connect() -> int:
        headers = {"Origin": origin, **({"Host": host} if host else {})}
        try:
            conn = await websocket.websocket_connect(httpclient.HTTPRequest(url, headers=headers, connect_timeout=10))
        except httpclient.HTTPClientError as exc:
            return exc.code
        conn.close()
        return 101

    return asyncio.run(connect())


@pytest.mark.slow
def test_beyond_the_cap_a_busy_page_and_a_closed_page_frees_its_kernel(voila):
    base, pid = voila["base"], voila["process"].pid
    wait_kernels(pid, 0, 10)
    with httpx.Client(timeout=RENDER_TIMEOUT) as first, httpx.Client(timeout=RENDER_TIMEOUT) as second:
        ids = [kernel_id(client.get(base + "voila/render/index.ipynb").text) for client in (first, second)]
        assert len(kernels(pid)) == 2
        started = time.monotonic()
        busy = httpx.get(base + "voila/render/overview.ipynb", timeout=RENDER_TIMEOUT)
        assert time.monotonic() - started < 5  # refused at once, not a hang
        assert busy.status_code == 503 and busy.headers["Retry-After"] == "60"
        assert "The dashboards are busy: try again in a minute." in busy.text and "Traceback" not in busy.text
        assert len(kernels(pid)) == 2  # no kernel started for it
        # the page's unload: the _xsrf cookie the render set, sent back in the form (Voilà's widget manager)
        assert first.cookies.get("_xsrf")
        refused = httpx.post(base + f"voila/api/shutdown/{ids[0]}", data={"_xsrf": "forged"}, cookies={"_xsrf": "other"})
        assert refused.status_code == 403  # the XSRF check still holds
        assert first.post(base + f"voila/api/shutdown/{ids[0]}", data={"_xsrf": first.cookies["_xsrf"]}).status_code == 204
        wait_kernels(pid, 1, 10)
        again = httpx.get(base + "voila/render/index.ipynb", timeout=RENDER_TIMEOUT)
        assert again.status_code == 200 and "dashboards are busy" not in again.text
        for client, kernel in ((second, ids[1]), (second, kernel_id(again.text))):
            assert client.post(base + f"voila/api/shutdown/{kernel}", data={"_xsrf": client.cookies["_xsrf"]}).status_code == 204
    wait_kernels(pid, 0, 10)


@pytest.mark.slow
def test_sigterm_to_the_cli_stops_voila_and_every_kernel(tmp_path):
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(settings_module.PREFIX)}
    env[settings_module.PREFIX + "WORKSPACE"] = str(tmp_path / "data")
    cli = subprocess.Popen(
        [sys.executable, "-m", "tiktok_intel", "dashboards", "--port", str(port), "--no-preheat"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_http(f"http://127.0.0.1:{port}/", timeout=90)
        page = httpx.get(f"http://127.0.0.1:{port}/voila/render/index.ipynb", timeout=RENDER_TIMEOUT)
        assert page.status_code == 200
        wait_kernels(cli.pid, 1, 30)  # the page's kernel
        family = psutil.Process(cli.pid).children(recursive=True)
        cli.send_signal(signal.SIGTERM)
        assert cli.wait(timeout=30) == 0
        gone, alive = psutil.wait_procs(family, timeout=15)
        assert not alive, [p.cmdline() for p in alive]
        with socket.socket() as s:  # the port is free again
            s.bind(("127.0.0.1", port))
    finally:
        if cli.poll() is None:
            cli.kill()


def test_editing_is_opt_in_off_loopback(tmp_path, monkeypatch):
    name = settings_module.PREFIX + "DASHBOARD_EDITING"
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv(name, raising=False)
    previous = settings_module.get_settings()
    try:
        settings_module.configure(settings_module.load_settings(environ={}, dotenv=None), workspace=tmp_path / "data")
        assert launcher.editing_allowed("127.0.0.1") and launcher.editing_allowed("localhost")  # as always
        assert not launcher.editing_allowed("0.0.0.0") and not launcher.editing_allowed("192.168.1.5")  # default: off
        assert launcher.voila_environment("0.0.0.0")[name] == "false"
        assert launcher.voila_environment("127.0.0.1")[name] == "true"
        monkeypatch.setenv(name, "true")  # set explicitly: on
        settings_module.configure(settings_module.load_settings(dotenv=None), workspace=tmp_path / "data")
        assert launcher.editing_allowed("0.0.0.0") and launcher.voila_environment("0.0.0.0")[name] == "true"
        monkeypatch.delenv(name)
        (tmp_path / ".env").write_text(f"{name}=yes\n", encoding="utf-8")  # or in .env
        settings_module.configure(settings_module.load_settings(dotenv=Path(".env")), workspace=tmp_path / "data")
        assert launcher.editing_allowed("0.0.0.0")
        (tmp_path / ".env").write_text(f"{name}=false\n", encoding="utf-8")  # off stays off, on loopback too
        settings_module.configure(settings_module.load_settings(dotenv=Path(".env")), workspace=tmp_path / "data")
        assert not launcher.editing_allowed("0.0.0.0") and not launcher.editing_allowed("127.0.0.1")
    finally:
        settings_module.configure(previous)
