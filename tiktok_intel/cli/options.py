"""Argument types shared by the command modules: values are checked where they are typed."""
from __future__ import annotations

import argparse
from typing import Callable


def whole_number(minimum: int = 0) -> Callable[[str], int]:
    """An argparse ``type`` for a whole number no smaller than ``minimum``."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum}, not {value}")
        return value

    return parse
