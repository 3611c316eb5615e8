"""``process``: raw pages -> the store, one module a stage. (``import``, files -> raw, is
:mod:`tiktok_intel.imports`; collectors, TikTok -> raw, are :mod:`tiktok_intel.collect`.)

- :mod:`.pages`: raw pages -> parsed batches -> the store (the pending pages, or a rebuild beside the
  store, swapped in on success); a page that fails is marked failed (``failed_pages``) and the rest go on;
- :mod:`.sql_reader`: DuckDB's own read of web feed pages (the same records as the Python parser);
- :mod:`.merge`: the set-based, idempotent merge of a batch into the store's tables.
"""

from __future__ import annotations

from .merge import IngestStats, ingest_batch
from .pages import failed_shas, ingest_page, ingest_pages, pending_pages, process_pending, rebuild, refresh_derived

__all__ = [
    "IngestStats",
    "failed_shas",
    "ingest_batch",
    "ingest_page",
    "ingest_pages",
    "pending_pages",
    "process_pending",
    "rebuild",
    "refresh_derived",
]
