"""One root for every error tiktok-intel raises on purpose.

Each error carries a one-line message that names the fix; the edges (CLI, flows, dashboards)
print ``str(err)`` and nothing else.
"""


class TikTokIntelError(Exception):
    """Base class: anything a user can cause or fix."""


class SettingsError(TikTokIntelError):
    """A setting has a value that cannot be used."""


class StoreError(TikTokIntelError):
    """The DuckDB workspace cannot be opened or written."""


class SchemaVersionError(StoreError):
    """The database was written by a newer tiktok-intel."""


class UnsupportedInputError(TikTokIntelError):
    """A file is not TikTok data in any shape we accept."""


class RawZoneError(TikTokIntelError):
    """The raw landing zone cannot be written."""


class HashtagError(TikTokIntelError):
    """A hashtag name is invalid."""
