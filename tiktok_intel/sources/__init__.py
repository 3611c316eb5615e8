"""Sources: talk to TikTok (web API, browser session, Research API) and write every response page
to the raw zone before anything else. Sources know nothing of the store's tables except the
Research API quota ledger, so many collectors can run at once.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Mapping
from typing import Any

from .. import clock, raw
from ..raw import RawPage
from ..settings import get_settings


@dataclasses.dataclass
class RawSink:
    """Writes a run's pages to ``raw/<source>/<day>/<run_id>-<n>.json``; ``counter`` is shared by a run's sinks."""

    source: str
    run_id: str
    hashtag: str | None = None
    counter: Any = dataclasses.field(default_factory=lambda: itertools.count(1))
    secrets: list[str] = dataclasses.field(default_factory=list)
    written: list[RawPage] = dataclasses.field(default_factory=list)

    def for_hashtag(self, hashtag: str | None) -> RawSink:
        return dataclasses.replace(self, hashtag=hashtag, written=[])

    def write(self, body: bytes, *, request: Any, content_type: str = "", extra: Mapping[str, Any] | None = None) -> RawPage:
        suffix = ".html" if (b"<" == body.lstrip()[:1] or "text/html" in content_type) else ".json"
        request = raw.redact(request, [*get_settings().secrets(), *self.secrets])
        page = raw.write_page(
            body,
            source=self.source,
            run_id=self.run_id,
            page=next(self.counter),
            request=request,
            fetched_at=clock.now(),
            hashtag=self.hashtag,
            suffix=suffix,
            extra=extra,
        )
        self.written.append(page)
        return page


__all__ = ["RawSink"]
