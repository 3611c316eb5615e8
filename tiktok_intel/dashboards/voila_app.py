"""The Voilà server `tiktok-intel dashboards` starts: Voilà serving the dashboards folder, less its file list.

Voilà serving a folder answers ``/`` with its tree ("Select items to open with Voilà", every file
name) and lists the folder at ``/voila/tree`` and ``/voila/api/contents``. Here ``/`` and the tree
send the visitor to the index dashboard (``/voila/render/index.ipynb``, query string kept, so
``/?token=...`` works), and the contents listing is not served. Each dashboard is still rendered
at ``/voila/render/<name>.ipynb``, so the relative links between dashboards keep working.

Beyond Voilà's own behaviour (measured with Voilà 0.5.13, jupyter_server 2):

- **A closed page's kernel goes at once.** The page's ``beforeunload`` sends
  ``POST /voila/api/shutdown/<kernel>`` with the ``_xsrf`` cookie's value, but Voilà never sets that
  cookie, so jupyter_server refused it (``403 '_xsrf' argument missing``) and the kernel lived
  until culled. The render handler here sets the cookie (Tornado's double-submit XSRF token).
- **A cap on page kernels** (``max_kernels``, from the setting ``dashboard_max_kernels``): a page
  view beyond it gets a short "busy, try again in a minute" page (HTTP 503), not a new kernel.
  Pre-heated pool kernels are not page views and are not counted.
- **Loopback means loopback.** Bound to a loopback address, a request whose ``Host`` is not
  ``localhost``/a loopback IP (with any port), or whose ``Origin`` is not such an ``http://``
  address, is refused (403) before any handler runs: a web page whose name was rebound to
  127.0.0.1 (DNS rebinding) can neither read the dashboards nor open a kernel websocket.

- **One copy of the tables' library a page.** itables' JavaScript and CSS are served at the path
  ``table_library`` (static files from ``table_library_folder``, cached by the browser; both given by
  the launcher, which also hands the path to the kernels in the setting ``dashboard_table_library``):
  each table imports the library from there instead of carrying its 750 kB in its state
  (:mod:`tiktok_intel.dashboards.table_library`).

Started by the launcher as a script (``python -P voila_app.py FOLDER --option ...``), not
imported: importing :mod:`tiktok_intel.dashboards` would load pandas and DuckDB into the server
process (about 110 MB); this file imports Voilà, Tornado and nothing of the project.
"""

from __future__ import annotations

import contextvars
import ipaddress
import os
import re
import sys
import warnings
from urllib.parse import urlsplit

from jupyter_server.utils import url_path_join
from tornado import web
from tornado.routing import Matcher, Rule
from traitlets import Int, Unicode
from voila.app import Voila
from voila.tornado.contentshandler import VoilaContentsHandler
from voila.tornado.handler import TornadoVoilaHandler
from voila.tornado.treehandler import TornadoVoilaTreeHandler

#: The dashboard ``/`` opens (relative to the dashboards folder).
INDEX = "index.ipynb"


#: The page a view beyond the kernel cap gets (HTTP 503, Retry-After).
BUSY_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Dashboards busy</title></head>
<body style="font-family: sans-serif; max-width: 40em; margin: 4em auto">
<h1 class="ti-busy">The dashboards are busy: try again in a minute.</h1>
<p>{pages} dashboard pages are open, the most this server runs at once (setting dashboard_max_kernels).
Closing a dashboard tab frees its place at once.</p>
</body></html>
"""
BUSY_RETRY_SECONDS = 60

#: The page view being rendered in the current asyncio task (set by the render handler, read where
#: the kernel manager hands the page its kernel).
_VIEW: contextvars.ContextVar[dict | None] = contextvars.ContextVar("tiktok_intel_view", default=None)


def local_name(host: str) -> bool:
    """``localhost`` or a loopback IP (IPv6 in brackets or bare), without the port."""
    host = host.strip().lower()
    if host.startswith("["):
        host = host[1:].split("]", 1)[0]
    elif host.count(":") == 1:
        host = host.split(":", 1)[0]
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


_PORT = re.compile(r":\d{1,5}$")


def foreign(request) -> str | None:
    """Why a request to a loopback-bound server is refused (a foreign Host or Origin), or None."""
    host = request.host or ""
    if not local_name(host if host.startswith("[") or not _PORT.search(host) else _PORT.sub("", host)):
        return f"Host {host!r}"
    origin = request.headers.get("Origin")
    if origin is not None:
        parts = urlsplit(origin)
        if parts.scheme not in ("http", "https") or not local_name(parts.netloc):
            return f"Origin {origin!r}"
    return None


class _Foreign(Matcher):
    """Matches the requests :func:`foreign` refuses."""

    def match(self, request) -> dict | None:
        return {} if foreign(request) else None


class RefusedHandler(web.RequestHandler):
    """A request to the loopback-only server from another name or origin: 403, one line."""

    def prepare(self) -> None:
        why = foreign(self.request) or "request"
        self.set_status(403)
        self.set_header("Content-Type", "text/plain; charset=utf-8")
        self.finish("403: this dashboards server answers only at localhost or 127.0.0.1 (refused: " + why[:200] + ")\n")


class DashboardsRenderHandler(TornadoVoilaHandler):
    """Voilà's render handler, setting the XSRF cookie the page's unload needs, and capping page kernels."""

    #: Page views being rendered now (each a dict; ``kernel`` once it has its kernel).
    rendering_views: list = []

    @web.authenticated  # before the busy page: off loopback, no token, no figures
    async def get(self, path=None):
        self.xsrf_token  # noqa: B018 - sets the _xsrf cookie, sent back by the page's kernel shutdown on unload
        app = self.settings["voila"]
        pages = app.page_kernels()
        waiting = sum(1 for view in DashboardsRenderHandler.rendering_views if "kernel" not in view)
        if app.max_kernels > 0 and pages + waiting >= app.max_kernels:
            app.log.warning("dashboards busy: %d page kernels, %d starting; refused %s", pages, waiting, self.request.path)
            self.set_status(503)
            self.set_header("Retry-After", str(BUSY_RETRY_SECONDS))
            self.set_header("Content-Type", "text/html; charset=utf-8")
            self.set_header("Cache-Control", "no-store")
            self.finish(BUSY_PAGE.format(pages=pages))
            return
        view: dict = {}
        token = _VIEW.set(view)
        DashboardsRenderHandler.rendering_views.append(view)
        try:
            return await super().get(path)
        finally:
            DashboardsRenderHandler.rendering_views.remove(view)
            _VIEW.reset(token)


class DashboardsVoila(Voila):
    """Voilà on a folder, with ``/`` and the tree redirected to the index dashboard and no contents listing,
    a cap on page kernels, unload shutdown working, and on loopback only local Host and Origin."""

    max_kernels = Int(0, config=True, help="Most page kernels at once (0: no cap); beyond it the busy page.")
    table_library = Unicode("", config=True, help="Path (under the base URL) to serve itables' widget files at; empty: none.")
    table_library_folder = Unicode("", config=True, help="The folder holding itables' widget.js and widget.css.")

    def init_settings(self) -> dict:
        settings = super().init_settings()
        settings["voila"] = self
        self._page_kernels: set[str] = set()
        manager = self.kernel_manager
        start_kernel = manager.start_kernel
        get_rendered = getattr(manager, "get_rendered_notebook", None)

        def taken(kernel_id: str) -> str:
            self._page_kernels.add(kernel_id)
            view = _VIEW.get()
            if view is not None:
                view["kernel"] = kernel_id
            return kernel_id

        async def start_page_kernel(*args, **kwargs):  # a page's own kernel (no pre-heated one free)
            return taken(await start_kernel(*args, **kwargs))

        manager.start_kernel = start_page_kernel
        if get_rendered is not None:  # pre-heating: the page takes a pool kernel

            async def take_pool_kernel(*args, **kwargs):
                task, cache, kernel_id = await get_rendered(*args, **kwargs)
                return task, cache, taken(kernel_id)

            manager.get_rendered_notebook = take_pool_kernel
        return settings

    def page_kernels(self) -> int:
        """Live kernels a page took (not the pre-heated ones waiting in the pool)."""
        live = set(self.kernel_manager.list_kernel_ids())
        self._page_kernels &= live
        return len(self._page_kernels)

    def init_handlers(self) -> list:
        index = url_path_join(self.server_url, "voila/render", INDEX)
        replaced = {
            TornadoVoilaTreeHandler: (web.RedirectHandler, {"url": index, "permanent": False}),
            VoilaContentsHandler: (web.ErrorHandler, {"status_code": 404}),
        }
        handlers = []
        for handler in super().init_handlers():
            if len(handler) > 1 and handler[1] in replaced:
                handler = (handler[0], *replaced[handler[1]])
            elif len(handler) > 1 and handler[1] is TornadoVoilaHandler:
                handler = (handler[0], DashboardsRenderHandler, *handler[2:])
            handlers.append(handler)
        if self.table_library and self.table_library_folder:
            route = url_path_join(self.server_url, self.table_library, r"(widget\.(?:js|css))")
            handlers.insert(0, (route, web.StaticFileHandler, {"path": self.table_library_folder}))
        return handlers

    def listen(self) -> None:
        if local_name(self.ip):
            # before every other rule, static files and websockets included
            self.app.default_router.rules.insert(0, Rule(_Foreign(), RefusedHandler))
        super().listen()


#: Where the launcher puts the token (never on the command line, where ``ps`` shows it).
TOKEN_ENV = "JUPYTER_TOKEN"


def take_token(environ=os.environ) -> str:
    """The token from the environment, removed from it so that no kernel (started with this
    process's environment) inherits it; empty: no token (loopback)."""
    return environ.pop(TOKEN_ENV, "") or ""


def main() -> int:
    token = take_token()
    # the websocket limit goes in as a dict literal (traitlets' key=value form would hand Tornado the
    # number as a string), which traitlets 5 calls deprecated on every start; Voilà re-enables
    # traitlets' deprecation warnings on import, so the filter comes after it
    warnings.filterwarnings("ignore", message="--tornado_settings", category=DeprecationWarning)
    return DashboardsVoila.launch_instance(token=token) or 0


if __name__ == "__main__":
    sys.exit(main())
