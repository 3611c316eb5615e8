"""Argument types shared by the command modules: values are checked where they are typed."""

from __future__ import annotations

import argparse
from collections.abc import Callable

#: The largest whole number DuckDB stores (BIGINT): the default upper bound of every number option.
BIGINT_MAX = 2**63 - 1
#: The largest value of an INTEGER column (run parameters stored with the run).
INTEGER_MAX = 2**31 - 1


def whole_number(minimum: int = 0, maximum: int = BIGINT_MAX) -> Callable[[str], int]:
    """An argparse ``type`` for a whole number from ``minimum`` to ``maximum``."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum}, not {value}")
        if value > maximum:
            raise argparse.ArgumentTypeError(f"must be at most {maximum}, not {value}")
        return value

    return parse


def add_tracked_filter(p: argparse.ArgumentParser, what: str = "only posts") -> None:
    """``--hashtag NAME`` (or ``@account``) and ``--keyword WORDS``: the posts of one tracked item
    (:func:`tracked_filter` reads them back)."""
    group = p.add_mutually_exclusive_group()
    group.add_argument(
        "--hashtag",
        metavar="NAME",
        help=f"{what} collected under or tagged with this hashtag; or @ACCOUNT: {what} of a tracked account (its own and its profile's)",
    )
    group.add_argument("--keyword", metavar="WORDS", help=f"{what} a tracked keyword's searches listed")


def tracked_filter(args: argparse.Namespace) -> str | tuple[str, str] | None:
    """The tracked item ``--hashtag`` / ``--keyword`` name (see :func:`add_tracked_filter`), as the analyses and search take it."""
    keyword = getattr(args, "keyword", None)
    return ("keyword", keyword) if keyword else getattr(args, "hashtag", None)
