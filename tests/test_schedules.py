"""The one table of schedules: the six jobs, their cron strings, the time zone setting, next run
times (daylight saving included), and `tiktok-intel schedules`."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from tiktok_intel import schedules
from tiktok_intel import settings as settings_module
from tiktok_intel.cli import main
from tiktok_intel.schedules import ScheduleError


def test_the_six_jobs_and_what_each_runs():
    assert [(j.name, j.cron) for j in schedules.JOBS] == [
        ("hashtag-monitoring", "*/30 * * * *"),
        ("content", "1 0,8,16 * * *"),
        ("post-trends", "0 1,9,17 * * *"),
        ("author-trends", "5 1,9,17 * * *"),
        ("association-rules", "30 1 * * *"),
        ("recheck", "20 */6 * * *"),
    ]
    assert {j.name: j.notebook for j in schedules.JOBS} == {
        "hashtag-monitoring": "hashtag_monitoring",
        "content": "content",
        "post-trends": "post_trends",
        "author-trends": "author_trends",
        "association-rules": "association_rules",
        "recheck": "recheck",
    }
    from tiktok_intel.notebooks import pipeline_names

    assert {j.notebook for j in schedules.JOBS} <= set(pipeline_names())


def test_each_job_has_one_name_for_its_flow_notebook_step_and_flow_module():
    import flows
    from tiktok_intel.orchestration import steps

    for job in schedules.JOBS:
        assert job.notebook == job.slug == job.name.replace("-", "_")
        assert getattr(steps, job.slug) is steps.STEPS[job.name]
        assert flows.load(job).name == job.name and flows.load(job).fn.__name__ == job.slug
    assert set(steps.STEPS) == set(schedules.JOBS_BY_NAME)


def test_the_schedules_table_is_a_leaf():
    import ast
    import inspect

    tree = ast.parse(inspect.getsource(schedules))
    project = {
        (node.module or "") + ":" + ",".join(a.name for a in node.names)
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.level
    }
    assert project == {":clock", "settings:SettingsError,get_settings"}


def test_jobs_are_found_by_any_spelling_and_unknown_ones_named():
    assert schedules.job("post_trends").name == schedules.job("Post Trends").name == "post-trends"
    assert schedules.job("hashtag_monitoring").name == schedules.job(" Hashtag-Monitoring ").name == "hashtag-monitoring"
    with pytest.raises(ScheduleError, match=r"no flow 'trending': use one of hashtag-monitoring, content"):
        schedules.job("trending")
    for other_name in ("monitoring", "process_content", "rules"):  # one name each: separators and case aside, no aliases
        with pytest.raises(ScheduleError, match="no flow"):
            schedules.job(other_name)


def test_next_runs_are_in_the_configured_time_zone(workspace):
    after = dt.datetime(2026, 11, 24, 12, 0)  # naive: UTC, 13:00 in Stockholm
    content = schedules.job("content")
    assert [t.isoformat() for t in schedules.next_runs(content, 3, after)] == [
        "2026-11-24T16:01:00+01:00",
        "2026-11-25T00:01:00+01:00",
        "2026-11-25T08:01:00+01:00",
    ]
    settings_module.configure(workspace, timezone="UTC")
    assert [t.isoformat() for t in schedules.next_runs(content, 2, after)] == ["2026-11-24T16:01:00+00:00", "2026-11-25T00:01:00+00:00"]


def test_daylight_saving_changes_keep_the_wall_clock_times(workspace):
    rules = schedules.job("association-rules")
    spring = schedules.next_runs(rules, 2, dt.datetime(2026, 3, 28, 12, 0))
    assert [t.isoformat() for t in spring] == ["2026-03-29T01:30:00+01:00", "2026-03-30T01:30:00+02:00"]
    monitoring = schedules.next_runs(schedules.job("hashtag-monitoring"), 3, dt.datetime(2026, 3, 29, 0, 10))  # 01:10 CET
    assert [t.strftime("%H:%M") for t in monitoring] == ["01:30", "03:00", "03:30"]  # 02:00-03:00 does not exist that night


def test_a_bad_time_zone_is_one_line_naming_the_setting(workspace):
    settings_module.configure(workspace, timezone="Mars/Olympus")
    with pytest.raises(ScheduleError, match=r"unknown time zone 'Mars/Olympus' in TIKTOK_INTEL_TIMEZONE: use an IANA name"):
        schedules.next_runs(schedules.JOBS[0])


def test_cli_schedules_prints_cron_time_zone_and_three_next_times(workspace, capsys, monkeypatch):
    assert main(["schedules"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == len(schedules.JOBS) == 6
    assert lines[1].split()[:6] == ["content", "1", "0,8,16", "*", "*", "*"] and "Europe/Stockholm" in lines[1]
    assert len(re.findall(r"\d{4}-\d\d-\d\d \d\d:\d\d", lines[1])) == 3  # three next times
    monkeypatch.setenv("TIKTOK_INTEL_TIMEZONE", "Mars/Olympus")
    assert main(["schedules"]) == 1
    assert "TIKTOK_INTEL_TIMEZONE" in capsys.readouterr().err
