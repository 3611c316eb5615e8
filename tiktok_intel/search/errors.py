"""Errors a user can cause while searching or processing media; each message names the fix."""

from __future__ import annotations

from ..errors import TikTokIntelError


class SearchError(TikTokIntelError):
    """Base class of the search errors."""


class QueryError(SearchError):
    """A search query or filter that cannot be used."""


class ImageInputError(SearchError):
    """An image given to search by cannot be read: missing, not an image, too large."""


class HostNotAllowedError(ImageInputError):
    """A URL on a host outside ``media_hosts``."""


class DownloadError(SearchError):
    """A download from an allowed host failed."""


class IndexBusyError(SearchError):
    """Another process is writing the text index."""
