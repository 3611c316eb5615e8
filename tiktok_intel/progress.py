"""Progress bars that work in a terminal and in Jupyter (tqdm.auto), quiet when not a TTY in CI."""
from __future__ import annotations

import os
import sys
from typing import Any


def progress(**kwargs: Any):
    from tqdm.auto import tqdm

    if "disable" not in kwargs or not kwargs["disable"]:
        kwargs["disable"] = os.environ.get("TIKTOK_INTEL_PROGRESS", "").lower() in {"0", "false", "off"}
    kwargs.setdefault("file", sys.stderr)
    kwargs.setdefault("leave", False)
    return tqdm(**kwargs)
