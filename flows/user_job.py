"""user-job: one of your own jobs from the jobs file (``tiktok_intel.jobs``), one deployment each.

The run reads the job from the jobs file when it starts, so a changed parameter takes effect on
the next run; ``tiktok-intel serve`` redeploys a job whose cron or time zone changed.
"""

from __future__ import annotations

from prefect import flow

from tiktok_intel.jobs import JobsFileError, find, problems
from tiktok_intel.store import Workspace

from ._common import flow_body


@flow(name="user-job", flow_run_name="{job}", description="Run one of your notebooks from the jobs file.")
def user_job(job: str) -> str:
    path = Workspace.current().jobs_path
    found = find(job, path)
    if found is None:
        raise JobsFileError(f"no job {job!r} in the jobs file any more: it was removed (`tiktok-intel jobs list`)")
    wrong = problems(found, path)
    if wrong:
        raise JobsFileError(f"job {job!r} cannot run: {'; '.join(wrong)}")
    parameters = dict(found.parameters)
    return flow_body(
        found.name,
        {"notebook": found.notebook, "publish": found.publish, **parameters},
        str(found.notebook_path(path)),
        parameters,
        report_name=found.name,
    )
