"""Starting Voilà on the dashboards folder: `tiktok-intel dashboards`.

Voilà (:mod:`.voila_app`: ``/`` opens the index dashboard, no file list; a closed page's kernel
shut down at once; at most ``dashboard_max_kernels`` page kernels, a busy page beyond; on loopback
only local Host and Origin) serves the package's dashboard notebooks (``DASHBOARDS_DIR``) with
sources hidden and tracebacks off; kernels whose page vanished without closing are culled (each page
view has its own kernel of 55-250 MB, docs/architecture.md); one kernel per dashboard is pre-heated with
the imports done, and waits for its page request before reading data (:mod:`.preheat`), so what
it shows is current. Bound to the loopback interface no token is needed; bound to any other
interface a token is required (Jupyter server token authentication): the one given, or a random
one printed with the address, and editing the tracked list is off unless set explicitly
(:func:`editing_allowed`). Its websocket takes messages of twice the largest image upload
(:func:`websocket_max_message_size`), so an oversized upload is answered, not dropped.
"""

from __future__ import annotations

import importlib.util
import ipaddress
import os
import secrets
import signal
import subprocess
import sys
import threading
from pathlib import Path

from ..errors import TikTokIntelError
from ..notebooks import DASHBOARDS_DIR
from ..settings import PREFIX, env_name, get_settings

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8866
#: Tornado's own limit on one websocket message (10 MiB). An upload travels to the kernel in one
#: message; a larger one makes Tornado close the page's connection (code 1009, "message too big"):
#: the page reconnects, and the upload is gone without a word (measured with Voilà 0.5.13).
TORNADO_DEFAULT_MESSAGE_BYTES = 10 * 1024 * 1024
#: Room for the rest of an upload's message (its JSON part and the other widgets' state).
MESSAGE_OVERHEAD_BYTES = 1024 * 1024
#: Kernel culling: a kernel idle this long with no page connected is shut down; checked this often.
#: A closed page's kernel is shut down at once by the page's unload (:mod:`.voila_app`); culling is
#: for the pages whose unload never arrived (a crashed tab, a killed browser, a lost network), so
#: two minutes, not Jupyter's hours: each such kernel holds 250-480 MB. Pre-heated kernels waiting
#: in the pool are never culled (Voilà), an open page keeps its websocket connected.
CULL_IDLE_SECONDS = 120
CULL_INTERVAL_SECONDS = 15
#: With pre-heating, how long after a page took its dashboard's kernel Voilà starts heating the
#: next one. Voilà's default, 1 s, heats it (imports, about 2 s of CPU) while the page is still
#: rendering, on the same cores: Hashtags took 6.3 s instead of 4.4 s at 1,000,000 posts.
REFILL_DELAY_SECONDS = 10


class LauncherError(TikTokIntelError):
    """The dashboards cannot be started as asked."""


def is_loopback(host: str) -> bool:
    if host in ("localhost", ""):
        return host == "localhost"
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


#: Voilà less its file list (``/`` opens the index dashboard), run as a script: ``-P`` keeps its
#: folder off ``sys.path``, where the panel modules' names would shadow others.
VOILA_APP = Path(__file__).resolve().with_name("voila_app.py")

#: Where the server serves itables' widget.js and widget.css (under its base URL), once for every
#: table of a page; the kernels learn it in the setting ``dashboard_table_library`` (:mod:`.table_library`).
TABLE_LIBRARY = "tiktok-intel/table-library/"


def table_library_folder() -> Path | None:
    """itables' widget files, found without importing itables (which imports pandas); None if absent."""
    spec = importlib.util.find_spec("itables")
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(list(spec.submodule_search_locations)[0]) / "widget" / "static"
    return folder if (folder / "widget.js").is_file() else None


def websocket_max_message_size(upload_max_bytes: int | None = None) -> int:
    """The websocket message limit Voilà is started with: twice the largest accepted upload (setting
    ``dashboard_upload_max_bytes``) plus overhead, never below Tornado's default. An upload up to
    twice the limit reaches the kernel and is refused there with a message; only a larger one
    still loses the connection, which is why the panel states the limit next to the button."""
    limit = int(get_settings().dashboard_upload_max_bytes if upload_max_bytes is None else upload_max_bytes)
    return max(TORNADO_DEFAULT_MESSAGE_BYTES, 2 * limit + MESSAGE_OVERHEAD_BYTES)


def voila_command(
    *,
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    token: str | None = None,
    root: Path | None = None,
    preheat: bool = True,
    open_browser: bool = False,
) -> tuple[list[str], str | None]:
    """The Voilà command line, and the token it requires (None on loopback without ``--token``).

    The token is never on the command line (``ps`` shows it to every user of the machine): it goes
    to Voilà in the environment, ``JUPYTER_TOKEN`` (:func:`voila_environment`), which
    :mod:`.voila_app` reads and removes before any kernel starts."""
    root = Path(root) if root is not None else DASHBOARDS_DIR
    if not (root / "index.ipynb").is_file():
        raise LauncherError(f"no dashboards at {root}: no index.ipynb there (the package's are in {DASHBOARDS_DIR})")
    if not 0 < int(port) < 65536:
        raise LauncherError(f"port {port} is out of range: use 1-65535, e.g. --port 8866")
    if token is not None and not token.strip():
        raise LauncherError("--token is empty: give a long random token, or leave --token out on 127.0.0.1")
    if not is_loopback(host) and not token:
        token = secrets.token_urlsafe(24)
    args = [
        sys.executable,
        "-P",
        str(VOILA_APP),
        str(root),
        f"--Voila.ip={host}",
        f"--port={int(port)}",
        "--Voila.port_retries=0",
        "--strip_sources=True",
        "--show_tracebacks=False",
        f"--MappingKernelManager.cull_idle_timeout={CULL_IDLE_SECONDS}",
        f"--MappingKernelManager.cull_interval={CULL_INTERVAL_SECONDS}",
        "--MappingKernelManager.cull_connected=False",
        f"--DashboardsVoila.max_kernels={max(0, int(get_settings().dashboard_max_kernels))}",
        f"--Voila.tornado_settings={{'websocket_max_message_size': {websocket_max_message_size()}}}",
    ]
    library = table_library_folder()
    if library is not None:
        args += [f"--DashboardsVoila.table_library={TABLE_LIBRARY}", f"--DashboardsVoila.table_library_folder={library}"]
    if preheat:
        args += ["--preheat_kernel=True", "--pool_size=1", f"--VoilaKernelManager.fill_delay={REFILL_DELAY_SECONDS}"]
    if not open_browser:
        args.append("--no-browser")
    return args, token


def editing_allowed(host: str) -> bool:
    """Whether the dashboards may edit the tracked list. On loopback: the setting ``dashboard_editing``
    (default true), as always. Bound to any other interface: only when ``TIKTOK_INTEL_DASHBOARD_EDITING``
    is set explicitly (in the environment or ``.env``) to true; its default does not count there,
    since everyone with the token (shared with a team, in a link) could otherwise change what is
    collected."""
    editing = bool(get_settings().dashboard_editing)
    if is_loopback(host):
        return editing
    name = PREFIX + "DASHBOARD_EDITING"
    return editing and (name in os.environ or name in _dotenv())


def _dotenv() -> dict[str, str]:
    from ..settings import _read_dotenv

    return _read_dotenv(Path(".env"))


#: The environment variable the token reaches Voilà in (jupyter_server's own name for it); also
#: where `tiktok-intel dashboards` takes it from when ``--token`` is not given (a service's
#: EnvironmentFile: docs/systemd/), so it is never on any command line.
TOKEN_ENV = "JUPYTER_TOKEN"


def environment_token() -> str | None:
    """The token set in the environment (``JUPYTER_TOKEN``), or None."""
    return os.environ.get(TOKEN_ENV) or None


def voila_environment(host: str = DEFAULT_HOST, token: str | None = None) -> dict[str, str]:
    """The environment for Voilà and its kernels: the current settings' workspace and database, whether
    editing is allowed (:func:`editing_allowed`), secrets not added; the token, if any, as
    ``JUPYTER_TOKEN`` (empty: none), which the server takes out before its kernels start."""
    settings = get_settings()
    env = dict(os.environ)
    env[TOKEN_ENV] = token or ""
    env.pop("JUPYTER_TOKEN_FILE", None)
    env[PREFIX + "DASHBOARD_EDITING"] = "true" if editing_allowed(host) else "false"
    env[PREFIX + "WORKSPACE"] = str(Path(settings.workspace_path).resolve())
    env[PREFIX + "DB"] = settings.db if settings.db.startswith("ducklake:") else str(Path(settings.db_target).resolve())
    env.setdefault(PREFIX + "PROGRESS", "0")
    env[PREFIX + "UI_LANGUAGE"] = str(settings.ui_language)  # the kernels speak the configured language
    env[PREFIX + "TIMEZONE"] = str(settings.timezone)  # and show its time zone
    # the tables load the library the server serves (voila_command), or carry their own copy
    env[env_name("dashboard_table_library")] = TABLE_LIBRARY if table_library_folder() is not None else ""
    return env


def url(host: str, port: int, token: str | None) -> str:
    shown = host if ":" not in host else f"[{host}]"
    return f"http://{shown}:{port}/" + (f"?token={token}" if token else "")


def launch(
    *,
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    token: str | None = None,
    preheat: bool = True,
    root: Path | None = None,
    quiet: bool = False,
    **popen: object,
) -> tuple[subprocess.Popen, str]:
    """Start Voilà in the background; returns the process and the address to open (with the token)."""
    args, token = voila_command(host=host, port=port, token=token, root=root, preheat=preheat)
    kwargs = {"env": voila_environment(host, token), **popen}
    if quiet:
        kwargs.setdefault("stdout", subprocess.DEVNULL)
        kwargs.setdefault("stderr", subprocess.DEVNULL)
    process = subprocess.Popen(args, **kwargs)  # noqa: S603 - our own interpreter and arguments
    return process, url(host, port, token)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def run(*, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT, token: str | None = None, preheat: bool = True) -> int:
    """Start Voilà in the foreground until interrupted (the CLI). Ctrl-C or a SIGTERM (``kill``, a
    service manager, a test) stops Voilà with it: left running, it would keep the port."""
    process, address = launch(host=host, port=port, token=token, preheat=preheat)
    print(f"dashboards: {address}  (Ctrl-C stops)", flush=True)
    in_main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _interrupt) if in_main_thread else None
    try:
        return process.wait()
    except KeyboardInterrupt:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        return 0
    finally:
        if in_main_thread:
            signal.signal(signal.SIGTERM, previous)
