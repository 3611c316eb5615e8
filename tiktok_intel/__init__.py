"""tiktok-intel: a TikTok research workbench.

``import tiktok_intel as ti`` gives the functions a notebook needs; each lives in a small module
named for what it does, imported on first use so that ``import tiktok_intel`` stays fast. (An
exported name never equals a submodule's name: importing the submodule would shadow it.)
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

#: public name -> module that defines it
_EXPORTS = {
    "Workspace": "store:Workspace",
    "connect": "store:open_db",
    "connection": "store:connection",
    "get_settings": "settings:get_settings",
    "configure": "settings:configure",
    "import_paths": "imports:import_paths",
    "process_pending": "ingest.pages:process_pending",
    "rebuild": "ingest.pages:rebuild",
    "workspace_status": "status:status",
    "TikTokIntelError": "errors:TikTokIntelError",
    "track": "tracking:add",
    "untrack": "tracking:remove",
    "tracked": "tracking:list_tracked",
    "collect_posts": "collect:collect",
    "monitor": "collect:monitor",
    "refresh_trends": "analyses.trends:refresh_trends",
    "top_trending_posts": "analyses.trends:top_trending_posts",
    "run_rules": "analyses.rules:run_rules",
    "related_hashtags": "analyses.rules:related_hashtags",
    "top_posts": "analyses.reports:top_posts",
    "overview": "analyses.reports:overview",
    "search_text": "search:search_text",
    "search_image": "search:search_image",
    "find_duplicates": "search:find_duplicates",
    "run_notebook": "notebooks:run_notebook",
    "read_only": "store:read_only",
    "hashtag_growth": "analyses.hashtags:hashtag_growth",
    "weekly_brief": "analyses.briefs:weekly_brief",
    "compare_hashtags": "analyses.briefs:compare_hashtags",
    "growth_chart": "analyses.charts:growth_chart",
    "export_selection": "analyses.exports:export_selection",
}


def __getattr__(name: str) -> Any:
    target = _EXPORTS.get(name)
    if target is None:
        raise AttributeError(f"module 'tiktok_intel' has no attribute {name!r}")
    module, attr = target.split(":")
    return getattr(importlib.import_module(f"{__name__}.{module}"), attr)


def __dir__() -> list[str]:
    return sorted(list(globals()) + list(_EXPORTS))
