"""One Prefect test harness (temporary API server, ~12 s to start) shared by every test module
in this pytest process that runs flows: started on first use, stopped when the process exits."""

from __future__ import annotations

import atexit
import os

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")

_harness = None


def start() -> None:
    global _harness
    if _harness is not None:
        return
    from prefect.testing.utilities import prefect_test_harness

    _harness = prefect_test_harness(server_startup_timeout=90)
    _harness.__enter__()
    atexit.register(stop)


def stop() -> None:
    global _harness
    if _harness is not None:
        harness, _harness = _harness, None
        import logging

        logging.disable(logging.CRITICAL)  # at exit pytest has closed the streams Prefect logs to
        try:
            harness.__exit__(None, None, None)
        finally:
            logging.disable(logging.NOTSET)
