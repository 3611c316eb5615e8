"""A batch of parsed records, one list of column dicts per table, plus its rejects."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Callable
from typing import Any

import orjson

from ..schema import INGEST_TABLES, TABLES_BY_NAME
from ..settings import get_settings
from .fields import BadValue, plausible_times


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
    #: the tracked account or keyword whose listing this is, as (kind, name) (hashtags: ``hashtag``)
    tracked: tuple[str, str] | None = None
    run_id: str | None = None
    rank_offset: int = 0
    request: Any = None
    #: the plausible range of creation and collection times (:func:`.fields.plausible_times`), fixed for the page
    bounds: tuple[dt.datetime, dt.datetime] = dataclasses.field(default_factory=plausible_times)


class Batch:
    def __init__(self) -> None:
        self.rows: dict[str, list[dict[str, Any]]] = {t.name: [] for t in INGEST_TABLES}
        self.rejects: list[Reject] = []
        self.items_read = 0
        self.items_ok = 0
        self.shape: str | None = None
        self.max_text_chars = get_settings().max_text_chars

    def add(self, table: str, **values: Any) -> None:
        """Add one record; a text value longer than ``max_text_chars`` is :class:`.fields.BadValue`
        (inside :meth:`item`: the item becomes a reject naming the field and the limit)."""
        limit = self.max_text_chars
        for column, value in values.items():
            if isinstance(value, str) and len(value) > limit:
                raise BadValue(f"{table}.{column} is {len(value)} characters long, over max_text_chars ({limit})")
        self.rows[table].append(values)

    def reject(self, index: int, reason: str, raw: Any = None) -> None:
        """Record a reject; a whole-page reject (index -1) counts as one item read, and a page has
        one: a second whole-page reason is added to the first (the store keeps one reject an index)."""
        if index == -1:
            earlier = next((r for r in self.rejects if r.item_index == -1), None)
            if earlier is not None:
                earlier.reason += "; " + reason
                return
            self.items_read += 1
        self.rejects.append(Reject(index, reason, _excerpt(raw)))

    def item(self, index: int, raw: Any, parse: Callable[[Batch], None]) -> bool:
        """Parse one item with ``parse(scratch)``: keep its records if it succeeds, else reject it.

        An item is all or nothing: a bad count halfway through leaves no half-added post behind.
        """
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

    def problem(self, reason: str, raw: Any = None) -> None:
        """A part of the page of the wrong type (``ItemModule`` a list, ...): one whole-page reject
        naming it; the rest of the page is read."""
        self.reject(-1, reason, raw)

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


def _excerpt(raw: Any) -> str:
    """The first 300 characters of what was rejected, as text (never raising: a reject must be recordable)."""
    if raw is None:
        return ""
    if isinstance(raw, (bytes, bytearray)):
        excerpt = bytes(raw[:300]).decode("utf-8", "replace")
    elif isinstance(raw, str):
        excerpt = raw[:300]
    else:
        try:
            excerpt = orjson.dumps(raw, default=str, option=orjson.OPT_NON_STR_KEYS)[:1200].decode("utf-8", "replace")[:300]
        except (TypeError, orjson.JSONEncodeError):  # nested too deep, or an integer past 64 bits
            try:
                excerpt = json.dumps(raw, ensure_ascii=False, default=str)[:300]
            except (TypeError, ValueError, RecursionError):
                excerpt = f"<{type(raw).__name__} that cannot be shown>"
    return excerpt.replace("\x00", "")
