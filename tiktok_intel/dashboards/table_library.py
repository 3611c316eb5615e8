"""One copy of the interactive tables' library a page, not one a table.

An itables ``ITable`` is an anywidget whose state carries the whole DataTables bundle (itables 2.9.1:
619 kB of JavaScript and 107 kB of CSS), so every table on a dashboard sent about 750 kB over the
kernel's websocket and the browser parsed the module again for each. Under ``tiktok-intel
dashboards`` the server serves itables' two files at one path (:mod:`.voila_app`; the launcher
gives it the path and hands it to the kernels in the setting ``dashboard_table_library``), and each
table's module is a loader
of a few lines that imports the library from there: the browser fetches and parses it once per page
(and caches it between pages), and a table's state is its rows. Elsewhere (JupyterLab, Voilà started
by hand) the setting is empty and the tables are itables' own, each with its copy.
"""

from __future__ import annotations

import functools
import json

from .. import settings

#: The module each table's state carries instead of the library: it adds the library's stylesheet to
#: the page once, imports the library from the server (the module map keeps one instance a page) and
#: hands it the table. ``__LIBRARY__`` is the served path, as a JSON string.
LOADER = """
const LIBRARY = __LIBRARY__;
function root() {
  let base = "/";
  try {
    base = JSON.parse(document.getElementById("jupyter-config-data").textContent).baseUrl || "/";
  } catch (error) {}
  return new URL(LIBRARY, new URL(base.endsWith("/") ? base : base + "/", location.href));
}
async function library() {
  const at = root();
  if (!document.querySelector("link[data-ti-table-library]")) {
    const link = Object.assign(document.createElement("link"), { rel: "stylesheet", href: new URL("widget.css", at).href });
    link.dataset.tiTableLibrary = "";
    document.head.append(link);
  }
  return (await import(new URL("widget.js", at).href)).default;
}
export default {
  async render(context) {
    return (await library()).render(context);
  },
};
"""


def served_path() -> str:
    """The path (under the server's base URL) the dashboards server serves the library at, or ""
    when not running under it."""
    return str(settings.live("dashboard_table_library") or "")


@functools.cache
def _shared_table(library: str):
    from itables.widget import ITable

    class SharedTable(ITable):
        """itables' table widget whose library comes from the server, once a page."""

        _esm = LOADER.replace("__LIBRARY__", json.dumps(library))
        _css = ""

    return SharedTable


def table_class():
    """The table widget class for this kernel: the shared-library one under the dashboards server,
    itables' own elsewhere."""
    library = served_path()
    if not library:
        from itables.widget import ITable

        return ITable
    return _shared_table(library)
