"""Your own jobs (the jobs file): `tiktok-intel jobs list|add|remove|validate`, `schedules`, and
`run JOB` through the same flow body (papermill, `runs`, reports archive) as the built-in jobs.
Serving them beside the built-in deployments is in tests/test_serve.py."""

from __future__ import annotations

import json
import shutil
import tomllib
from pathlib import Path

import prefect_harness
import pytest

from tiktok_intel import jobs
from tiktok_intel.cli import main
from tiktok_intel.store import open_db

NOTEBOOKS = Path(__file__).resolve().parent / "fixtures" / "notebooks"


@pytest.fixture
def project(workspace, tmp_path, monkeypatch):
    """A project folder: the workspace (tmp/data) and the user's notebooks beside it (tmp/mine/)."""
    mine = tmp_path / "mine"
    mine.mkdir()
    for name in ("hello_job.ipynb", "no_parameters_cell.ipynb"):
        shutil.copy(NOTEBOOKS / name, mine / name)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_add_list_remove_round_trip_through_the_jobs_file(project, capsys):
    assert (
        main(
            [
                "jobs",
                "add",
                "weekly-hello",
                "mine/hello_job.ipynb",
                "--cron",
                "0 7 * * 1",
                "--timezone",
                "UTC",
                "--param",
                "greeting=hej",
                "--param",
                "times=3",
                "--publish",
            ]
        )
        == 0
    )
    path = project / "data" / "jobs.toml"
    document = tomllib.loads(path.read_text())
    assert document["jobs"]["weekly-hello"] == {
        "notebook": "../mine/hello_job.ipynb",
        "cron": "0 7 * * 1",
        "timezone": "UTC",
        "publish": True,
        "parameters": {"greeting": "hej", "times": 3},
    }
    [job] = jobs.load()
    assert job.notebook_path() == (project / "mine" / "hello_job.ipynb").resolve()

    capsys.readouterr()
    assert main(["jobs", "list"]) == 0
    line = capsys.readouterr().out.strip()
    assert line.startswith("weekly-hello  0 7 * * 1  UTC  ../mine/hello_job.ipynb") and "times=3" in line and line.endswith("ok")

    assert main(["jobs", "add", "weekly-hello", "mine/hello_job.ipynb", "--cron", "0 8 * * 1"]) == 1
    assert "already a job 'weekly-hello'" in capsys.readouterr().err
    assert main(["jobs", "add", "weekly-hello", "mine/hello_job.ipynb", "--cron", "0 8 * * 1", "--replace"]) == 0
    assert [j.cron for j in jobs.load()] == ["0 8 * * 1"]

    assert main(["jobs", "remove", "weekly-hello"]) == 0
    assert jobs.load() == []
    assert main(["jobs", "remove", "weekly-hello"]) == 1
    assert "no job 'weekly-hello'" in capsys.readouterr().err


def test_add_refuses_a_job_that_would_not_run_with_one_line_per_problem(project, capsys):
    assert main(["jobs", "add", "Bad Name", "mine/hello_job.ipynb", "--cron", "0 25 * * *", "--param", "colour=red"]) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("tiktok-intel: job 'Bad Name' not added:")
    assert "name 'Bad Name' is not valid" in err and "'0 25 * * *' is not valid" in err
    assert "has no parameter(s) colour (it takes greeting, times)" in err
    assert not (project / "data" / "jobs.toml").exists()
    assert main(["jobs", "add", "content", "mine/hello_job.ipynb", "--cron", "0 7 * * *"]) == 1
    assert "built-in job's" in capsys.readouterr().err


def write_jobs(project: Path, text: str) -> Path:
    path = project / "data" / "jobs.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


MIXED = """
[jobs.good]
notebook = "../mine/hello_job.ipynb"
cron = "*/15 * * * *"
parameters = { greeting = "hi" }

[jobs.unknown-parameter]
notebook = "../mine/hello_job.ipynb"
cron = "0 7 * * 1"
parameters = { colour = "red" }

[jobs.bad-cron]
notebook = "../mine/hello_job.ipynb"
cron = "every monday"

[jobs.bad-zone]
notebook = "../mine/hello_job.ipynb"
cron = "0 7 * * 1"
timezone = "Mars/Olympus"

[jobs.missing-notebook]
notebook = "../mine/gone.ipynb"
cron = "0 7 * * 1"

[jobs.no-parameters-cell]
notebook = "../mine/no_parameters_cell.ipynb"
cron = "0 7 * * 1"
"""


def test_validate_names_each_problem_in_one_line_and_fails(project, capsys):
    write_jobs(project, MIXED)
    assert main(["jobs", "validate"]) == 1
    captured = capsys.readouterr()
    lines = captured.out.strip().splitlines()
    by_job = {line.split(":", 1)[0]: line for line in lines}
    assert sorted(by_job) == ["bad-cron", "bad-zone", "missing-notebook", "no-parameters-cell", "unknown-parameter"]
    assert len(lines) == 5  # one problem each, and nothing about the good job
    assert "has no parameter(s) colour" in by_job["unknown-parameter"]
    assert "cron expression 'every monday' is not valid" in by_job["bad-cron"]
    assert "unknown time zone 'Mars/Olympus'" in by_job["bad-zone"]
    assert "not found" in by_job["missing-notebook"]
    assert "no cell tagged 'parameters'" in by_job["no-parameters-cell"]
    assert "1 of 6 jobs valid" in captured.err


def test_a_jobs_file_that_is_not_toml_is_one_clear_line(project, capsys):
    write_jobs(project, "[jobs.x\nnotebook = ")
    assert main(["jobs", "validate"]) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "is not valid TOML" in err
    good, skipped = jobs.valid_jobs()
    assert good == [] and "is not valid TOML" in skipped[0]


def test_schedules_lists_valid_jobs_with_their_cron_and_says_which_are_skipped(project, capsys):
    write_jobs(project, MIXED)
    assert main(["schedules"]) == 0
    captured = capsys.readouterr()
    lines = captured.out.strip().splitlines()
    assert len(lines) == 7  # six built-in + the one valid job
    assert lines[-1].split()[:6] == ["good", "*/15", "*", "*", "*", "*"] and lines[-1].endswith("(your job)")
    skipped = captured.err.strip().splitlines()
    assert len(skipped) == 5 and all(line.startswith("skipped job ") for line in skipped)


def test_parameters_that_toml_cannot_hold_are_refused():
    job = jobs.UserJob("x", "n.ipynb", "0 7 * * 1", parameters={"limit": float("inf")})
    with pytest.raises(jobs.JobsFileError, match="finite number"):
        jobs.dumps([job])
    text = jobs.dumps([jobs.UserJob("x", "n.ipynb", "0 7 * * 1", parameters={"quote": 'say "hi"\n', "tags": ["a", "b"], "ok": True})])
    assert tomllib.loads(text)["jobs"]["x"]["parameters"] == {"quote": 'say "hi"\n', "tags": ["a", "b"], "ok": True}


@pytest.fixture
def harness():
    prefect_harness.start()


def runs(where: str = "") -> list[tuple]:
    con = open_db()
    try:
        return con.execute(f"SELECT flow, status, notebook_path, counts FROM runs {where} ORDER BY started_at").fetchall()
    finally:
        con.close()


def test_run_job_goes_through_papermill_with_its_parameters_and_is_recorded_and_published(project, harness, capsys):
    write_jobs(project, MIXED)
    assert main(["jobs", "add", "hidden", "mine/hello_job.ipynb", "--cron", "0 7 * * 1"]) == 0
    capsys.readouterr()
    assert main(["run", "good"]) == 0
    summary = capsys.readouterr().out.strip()
    assert summary.startswith("good ") and ": completed" in summary

    [(flow, status, notebook_path, counts)] = runs()
    assert (flow, status) == ("good", "completed")
    report = Path(notebook_path).resolve()
    assert report.parent.parent == project / "data" / "reports" / "good"  # archived under the job's name
    import nbformat

    outputs = nbformat.read(str(report), as_version=4).cells[-1].outputs
    assert "job says: hi" in "".join(o.get("text", "") for o in outputs)  # the job's parameter reached the notebook
    assert report.with_suffix(".html").is_file()
    assert json.loads(counts)["parameters"] == {"notebook": "../mine/hello_job.ipynb", "publish": False, "greeting": "hi"}

    # a job that is not valid does not run, and says why
    assert main(["run", "bad-cron"]) == 1
    assert "job 'bad-cron' cannot run: cron expression 'every monday' is not valid" in capsys.readouterr().err
    assert main(["run", "no-such-job"]) == 1
    assert "or one of your jobs" in capsys.readouterr().err

    # the Reports page lists built-in runs and published jobs' runs, not unpublished ones
    from tiktok_intel.dashboards import data

    assert main(["jobs", "add", "shown", "mine/hello_job.ipynb", "--cron", "0 7 * * 1", "--publish", "--param", "times=2"]) == 0
    assert main(["run", "shown"]) == 0
    assert main(["run", "hidden"]) == 0
    listed = data.read(data.executed_reports, flows=["post-trends"])
    assert list(listed["flow"]) == ["shown"]
    assert main(["run", "post-trends"]) == 0
    listed = data.read(data.executed_reports, flows=["post-trends"])
    assert list(listed["flow"]) == ["post-trends", "shown"]  # newest first


def test_the_dashboards_list_jobs_without_opening_their_notebooks(project):
    write_jobs(project, MIXED)
    cheap = {row["flow"] for row in jobs.table(count=1, check_notebooks=False) if row["kind"] == "yours"}
    full = {row["flow"] for row in jobs.table(count=1) if row["kind"] == "yours"}
    assert full == {"good"}
    # cron and time zone still checked; the notebook problems are only found by opening them
    assert cheap == {"good", "unknown-parameter", "missing-notebook", "no-parameters-cell"}
