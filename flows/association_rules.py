"""association-rules: run the ``association_rules`` pipeline notebook, whose compute cell calls
``tiktok_intel.orchestration.steps.association_rules`` (schedule in ``tiktok_intel.schedules``)."""

from __future__ import annotations

from typing import Any

from prefect import flow

from ._common import notebook_flow


@flow(name="association-rules", description="Run the association_rules notebook.")
def association_rules(notebook: dict[str, Any] | None = None) -> str:
    return notebook_flow("association-rules", "association_rules", notebook)
