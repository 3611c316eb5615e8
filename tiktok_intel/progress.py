"""Progress bars that work in a terminal and in Jupyter (tqdm.auto), quiet when not a TTY in CI."""

from __future__ import annotations

import contextlib
import contextvars
import sys
from collections.abc import Iterator
from typing import Any

from .settings import live

_quiet = contextvars.ContextVar("tiktok_intel_progress_quiet", default=False)


@contextlib.contextmanager
def quiet() -> Iterator[None]:
    """No new bars inside the block, in this thread (the demo shows one bar for its whole replay)."""
    token = _quiet.set(True)
    try:
        yield
    finally:
        _quiet.reset(token)


def progress(**kwargs: Any):
    """A tqdm bar; off when the ``progress`` setting (``TIKTOK_INTEL_PROGRESS``) is false."""
    from tqdm.auto import tqdm

    if "disable" not in kwargs or not kwargs["disable"]:
        kwargs["disable"] = _quiet.get() or not live("progress")
    kwargs.setdefault("file", sys.stderr)
    kwargs.setdefault("leave", False)
    return tqdm(**kwargs)
