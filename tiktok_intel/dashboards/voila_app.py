"""The Voilà server `tiktok-intel dashboards` starts: Voilà serving the dashboards folder, less its file list.

Voilà serving a folder answers ``/`` with its tree ("Select items to open with Voilà", every file
name) and lists the folder at ``/voila/tree`` and ``/voila/api/contents``. Here ``/`` and the tree
send the visitor to the index dashboard (``/voila/render/index.ipynb``, query string kept, so
``/?token=...`` works), and the contents listing is not served. Each dashboard is still rendered
at ``/voila/render/<name>.ipynb``, so the relative links between dashboards keep working.

Started by the launcher as a script (``python -P voila_app.py FOLDER --option ...``), not
imported: importing :mod:`tiktok_intel.dashboards` would load pandas and DuckDB into the server
process (about 110 MB); this file imports Voilà, Tornado and nothing of the project.
"""

from __future__ import annotations

import sys
import warnings

from jupyter_server.utils import url_path_join
from tornado import web
from voila.app import Voila
from voila.tornado.contentshandler import VoilaContentsHandler
from voila.tornado.treehandler import TornadoVoilaTreeHandler

#: The dashboard ``/`` opens (relative to the dashboards folder).
INDEX = "index.ipynb"


class DashboardsVoila(Voila):
    """Voilà on a folder, with ``/`` and the tree redirected to the index dashboard and no contents listing."""

    def init_handlers(self) -> list:
        index = url_path_join(self.server_url, "voila/render", INDEX)
        replaced = {
            TornadoVoilaTreeHandler: (web.RedirectHandler, {"url": index, "permanent": False}),
            VoilaContentsHandler: (web.ErrorHandler, {"status_code": 404}),
        }
        return [
            (handler[0], *replaced[handler[1]]) if len(handler) > 1 and handler[1] in replaced else handler
            for handler in super().init_handlers()
        ]


def main() -> int:
    # the websocket limit goes in as a dict literal (traitlets' key=value form would hand Tornado the
    # number as a string), which traitlets 5 calls deprecated on every start; Voilà re-enables
    # traitlets' deprecation warnings on import, so the filter comes after it
    warnings.filterwarnings("ignore", message="--tornado_settings", category=DeprecationWarning)
    return DashboardsVoila.launch_instance() or 0


if __name__ == "__main__":
    sys.exit(main())
