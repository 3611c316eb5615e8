"""Collection from TikTok, one module a concern:

- :mod:`.run`: the runs, :func:`collect` (posts of each tracked hashtag), :func:`monitor` (their
  stats) and :func:`ingest_raw_run` (a raw-only collection into the store), :func:`fetch_ingested_covers`
  (the covers of pages another process fetched);
- :mod:`.web`: the web API's hashtag pages and feeds, and the covers of the posts a run fetched;
- :mod:`.research`: the Research API's video queries, in date windows;
- :mod:`.cursors`: where each hashtag's collection stopped, for the next run to resume;
- :mod:`.outcomes`: what a run returns (:class:`RunResult`), its errors, and its shared state.

The tracked list and its ``last_collected_at`` belong to :mod:`tiktok_intel.tracking`.
"""

from __future__ import annotations

from .cursors import SavedCursor, save_cursor, saved_cursor
from .outcomes import CollectError, HashtagOutcome, NothingToCollectError, RunResult, RunState, UnknownSourceError
from .research import RESEARCH_DEFAULT_DAYS
from .run import MAX_POSTS_LIMIT, SOURCES, collect, ensure_tables, fetch_ingested_covers, ingest_raw_run, monitor, run_async

__all__ = [
    "MAX_POSTS_LIMIT",
    "RESEARCH_DEFAULT_DAYS",
    "SOURCES",
    "CollectError",
    "HashtagOutcome",
    "NothingToCollectError",
    "RunResult",
    "RunState",
    "SavedCursor",
    "UnknownSourceError",
    "collect",
    "ensure_tables",
    "fetch_ingested_covers",
    "ingest_raw_run",
    "monitor",
    "run_async",
    "save_cursor",
    "saved_cursor",
]
