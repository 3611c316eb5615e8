"""A batch of parsed records, one list of column dicts per table, plus its rejects."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Callable
from typing import Any

from ..schema import INGEST_TABLES, TABLES_BY_NAME


@dataclasses.dataclass
class Reject:
    item_index: int  # -1: the whole page
    reason: str
    excerpt: str = ""
    page: Any = None  # the raw page it came from, set when batches of several pages are combined


@dataclasses.dataclass
class Context:
    """What a parser knows besides the item: when and why it was collected."""

    collected_at: dt.datetime
    source: str = "import"
    hashtag: str | None = None  # the tracked hashtag whose feed listed these items
    run_id: str | None = None
    rank_offset: int = 0
    request: Any = None


class Batch:
    def __init__(self) -> None:
        self.rows: dict[str, list[dict[str, Any]]] = {t.name: [] for t in INGEST_TABLES}
        self.rejects: list[Reject] = []
        self.items_read = 0
        self.items_ok = 0
        self.shape: str | None = None

    def add(self, table: str, **values: Any) -> None:
        self.rows[table].append(values)

    def reject(self, index: int, reason: str, raw: Any = None) -> None:
        """Record a reject; a whole-page reject (index -1) counts as one item read."""
        if index == -1:
            self.items_read += 1
        if raw is None:
            excerpt = ""
        elif isinstance(raw, (bytes, bytearray)):
            excerpt = bytes(raw[:300]).decode("utf-8", "replace")
        elif isinstance(raw, str):
            excerpt = raw[:300]
        else:
            excerpt = json.dumps(raw, ensure_ascii=False, default=str)[:300]
        self.rejects.append(Reject(index, reason, excerpt.replace("\x00", "")))

    def item(self, index: int, raw: Any, parse: Callable[[Batch], None]) -> bool:
        """Parse one item with ``parse(scratch)``: keep its records if it succeeds, else reject it.

        An item is all or nothing: a bad count halfway through leaves no half-added post behind.
        """
        from .fields import BadValue

        self.items_read += 1
        marks = [len(rows) for rows in self.rows.values()]
        try:
            parse(self)
        except Exception as exc:  # noqa: BLE001 - whatever a parser raised, the item becomes a reject with the reason
            for rows, mark in zip(self.rows.values(), marks):  # roll back what the item added
                del rows[mark:]
            if isinstance(exc, BadValue):
                self.reject(index, str(exc), raw)
            else:  # a shape we did not foresee must not stop the other items
                self.reject(index, f"cannot parse item: {type(exc).__name__}: {exc}", raw)
            return False
        self.items_ok += 1
        return True

    def extend(self, other: Batch) -> None:
        for name, rows in other.rows.items():
            self.rows[name].extend(rows)
        self.rejects.extend(other.rejects)
        self.items_read += other.items_read
        self.items_ok += other.items_ok
        self.shape = self.shape or other.shape

    def __len__(self) -> int:
        return sum(len(rows) for rows in self.rows.values())

    def arrow(self, table: str):
        """The rows of ``table`` as a pyarrow Table with the store's column order."""
        return TABLES_BY_NAME[table].arrow(self.rows[table])
