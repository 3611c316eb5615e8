"""Dashboards: the panels Voilà shows, one function each, and the launcher.

Every panel function takes ``db`` (a database path; empty: the configured workspace) and a few
defaults, reads through short read-only connections (:mod:`.data`) and returns an ipywidgets
widget. On an empty workspace, a busy database or a bad input a panel shows one clear message,
never a traceback. The notebooks in ``notebooks/dashboards/`` hold one call per panel, their
headings and introductions ``title(...)`` / ``section(...)`` (:mod:`.page`: in the page's language).
"""

from __future__ import annotations

from .accounts import accounts_panel
from .archive import report_archive_panel
from .data import BusyError, DashboardError, EmptyWorkspaceError
from .hashtags import add_hashtags, deactivate_hashtag, hashtag_trending_panel, popularity_panel, tracked_panel
from .index import DASHBOARDS, index_panel
from .overview import counts_panel, growth_panel, runs_panel
from .page import note, section, title
from .preheat import ready
from .related import filter_rules, network_figure, related_hashtags_panel
from .reports import report_frame, reports_panel
from .search import duplicates_panel, image_results, search_panel, text_results
from .trends import trending_authors_panel, trending_posts_panel
from .ui import download_link, downloads, to_csv_bytes, to_excel_bytes
from .views import from_url, share_link
from .watch import alerts_panel, removed_posts_panel

__all__ = [
    "alerts_panel",
    "removed_posts_panel",
    "BusyError",
    "accounts_panel",
    "DASHBOARDS",
    "DashboardError",
    "EmptyWorkspaceError",
    "add_hashtags",
    "counts_panel",
    "deactivate_hashtag",
    "download_link",
    "downloads",
    "duplicates_panel",
    "filter_rules",
    "from_url",
    "share_link",
    "growth_panel",
    "hashtag_trending_panel",
    "image_results",
    "index_panel",
    "network_figure",
    "note",
    "ready",
    "popularity_panel",
    "related_hashtags_panel",
    "report_archive_panel",
    "report_frame",
    "reports_panel",
    "runs_panel",
    "search_panel",
    "section",
    "text_results",
    "title",
    "to_csv_bytes",
    "to_excel_bytes",
    "tracked_panel",
    "trending_authors_panel",
    "trending_posts_panel",
]
