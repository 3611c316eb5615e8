"""A dashboard kernel's first step: warm up, then wait for the page request (pre-heating).

`tiktok-intel dashboards` keeps one pre-heated kernel per dashboard (Voilà's ``preheat_kernel``):
Voilà starts it and runs its notebook before anyone asks. Every dashboard calls :func:`ready`
before its first panel. In a pre-heated kernel that does the slow, data-free work (imports, the
first plotly figure, the first Excel workbook: about 2 s together on this machine), then blocks
in Voilà's ``wait_for_request()`` until a page takes the kernel; only then do the panels read the
store, so a page always shows the data of when it was opened. Outside pre-heating (a kernel
started for the request, JupyterLab, nbval) ``wait_for_request()`` returns at once.
"""

from __future__ import annotations


def warm_up() -> None:
    """Import what the panels use and build one tiny chart and workbook, so that their first real
    use in this process is not also the first ever (plotly's validators, openpyxl's import)."""
    import ipywidgets  # noqa: F401
    import pandas as pd
    import plotly.express as px
    import plotly.graph_objects  # noqa: F401

    from . import ui

    frame = pd.DataFrame({"x": [0, 1], "y": [1, 2], "kind": ["a", "b"]})
    ui.figure(px.line(frame, x="x", y="y", color="kind", markers=True))
    ui.figure(px.bar(frame, x="x", y="y"))
    ui.to_excel_bytes(frame)


#: What a pre-heated kernel writes to Voilà's log when it starts waiting for its page.
WAITING = "tiktok-intel: dashboard kernel pre-heated"


def ready() -> None:
    """Called by every dashboard before it reads data (see the module's docstring)."""
    import os
    import sys
    import time

    if os.environ.get("VOILA_PREHEAT") != "True":  # a kernel started for its request: nothing to wait for
        return
    started = time.perf_counter()
    warm_up()
    # to the server's log (the kernel's own stderr), never to the page
    print(f"{WAITING} in {time.perf_counter() - started:.1f} s; waiting for its page", file=sys.__stderr__, flush=True)
    from voila.utils import wait_for_request

    wait_for_request()
