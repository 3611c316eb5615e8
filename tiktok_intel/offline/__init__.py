"""An offline TikTok: a deterministic world and a local HTTP server answering TikTok's web API,
Research API, home page (msToken cookie + ``frontierSign``), video pages and cover images, with
fault switches. The collectors take their base URLs from settings, so the same code runs against
TikTok and against this server.

>>> from tiktok_intel.offline import OfflineTikTok
>>> with OfflineTikTok(seed=1) as tiktok:        # doctest: +SKIP
...     print(tiktok.base_url)
"""

from __future__ import annotations

from .faults import FAULT_KINDS, Faults
from .server import OfflineTikTok, serve_forever
from .world import DEFAULT_TOPICS, World

__all__ = ["OfflineTikTok", "World", "Faults", "FAULT_KINDS", "DEFAULT_TOPICS", "serve_forever"]
