"""post-trends: run the ``post_trends`` pipeline notebook, whose compute cell calls
``tiktok_intel.orchestration.steps.post_trends`` (schedule in ``tiktok_intel.schedules``)."""

from __future__ import annotations

from typing import Any

from prefect import flow

from ._common import notebook_flow


@flow(name="post-trends", description="Run the post_trends notebook.")
def post_trends(notebook: dict[str, Any] | None = None) -> str:
    return notebook_flow("post-trends", "post_trends", notebook)
