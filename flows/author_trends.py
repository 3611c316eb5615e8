"""author-trends: run the ``author_trends`` pipeline notebook, whose compute cell calls
``tiktok_intel.orchestration.steps.author_trends`` (schedule in ``tiktok_intel.schedules``)."""

from __future__ import annotations

from typing import Any

from prefect import flow

from ._common import notebook_flow


@flow(name="author-trends", description="Run the author_trends notebook.")
def author_trends(notebook: dict[str, Any] | None = None) -> str:
    return notebook_flow("author-trends", "author_trends", notebook)
