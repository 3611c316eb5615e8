"""One root for every error tiktok-intel raises on purpose.

Each error carries a one-line message that names the fix; the edges (CLI, flows, dashboards)
print ``str(err)`` and nothing else. An error a dashboard can show may also carry a catalogue key
(``raise QueryError("--since is after --until: swap them", key="err_since_after_until")``): the
command line prints its English message (which names the command's options), a dashboard says
``texts.t(err.key, **err.fields)`` in the page's language, naming the page's own fields.
"""

from __future__ import annotations

from typing import Any


class TikTokIntelError(Exception):
    """Base class: anything a user can cause or fix."""

    #: The :data:`tiktok_intel.texts.CATALOGUE` key of the message as a dashboard says it; None: ``str(err)``.
    key: str | None = None
    #: The key's ``{fields}``.
    fields: dict[str, Any] = {}  # noqa: RUF012 - replaced per instance, never changed in place

    def __init__(self, *args: object, key: str | None = None, **fields: Any) -> None:
        super().__init__(*args)
        if key is not None:
            self.key, self.fields = key, fields


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
