"""Each flow end to end against the offline TikTok, on Prefect's test harness: recorded in
``runs``, one-line summary, executed notebooks kept; a failing notebook fails its run."""

from __future__ import annotations

import json
import os

import prefect_harness
import pytest

from tiktok_intel import settings as settings_module
from tiktok_intel import tracking
from tiktok_intel.notebooks import NotebookCellError
from tiktok_intel.offline import OfflineTikTok
from tiktok_intel.sources import http as http_module
from tiktok_intel.store import connection

pytestmark = pytest.mark.slow
CANARY = "msTokenCANARY-flows-91c2"


@pytest.fixture(scope="module", autouse=True)
def prefect_api():
    prefect_harness.start()
    yield


@pytest.fixture
def tiktok(workspace, monkeypatch):
    monkeypatch.setattr(http_module, "BACKOFF_BASE_SECONDS", 0.01)
    with OfflineTikTok(seed=11) as server:
        settings_module.configure(
            workspace, ms_token=CANARY, requests_per_second=0, retries=1, timeout_seconds=5, **server.settings_overrides()
        )
        with connection() as con:
            tracking.add(con, ["valet2026", "klimat"])
        yield server


def runs(flow: str) -> list[dict]:
    with connection(read_only=True) as con:
        rows = con.execute(
            "SELECT run_id, flow, started_at, ended_at, status, counts, notebook_path, error FROM runs WHERE flow = ? ORDER BY started_at",
            [flow],
        ).fetchall()
    keys = ("run_id", "flow", "started_at", "ended_at", "status", "counts", "notebook_path", "error")
    return [dict(zip(keys, r), counts=json.loads(r[5]) if r[5] else {}) for r in rows]


def everything_written(workspace) -> str:
    texts = []
    for path in workspace.reports_dir.rglob("*"):
        if path.is_file():
            texts.append(path.read_text(errors="replace"))
    with connection(read_only=True) as con:
        texts.append(json.dumps(con.execute("SELECT * FROM runs").fetchall(), default=str))
    return "\n".join(texts)


def test_content_then_the_three_notebook_flows_run_end_to_end(tiktok, workspace):
    from flows.association_rules import association_rules
    from flows.author_trends import author_trends
    from flows.content import content
    from flows.post_trends import post_trends

    summary = content(max_posts=40)
    assert summary.startswith("content ") and "completed" in summary and "\n" not in summary
    [run] = runs("content")
    assert run["status"] == "completed" and run["error"] is None and run["ended_at"] >= run["started_at"]
    assert run["counts"]["posts"] == 80 and run["counts"]["hashtags"] == 2 and run["counts"]["parameters"]["max_posts"] == 40
    assert run["notebook_path"].endswith("content.ipynb")
    assert (workspace.reports_dir / "content").is_dir()
    from pathlib import Path

    assert Path(run["notebook_path"]).is_file()
    with connection(read_only=True) as con:
        assert con.execute("SELECT count(*) FROM posts").fetchone()[0] == run["counts"]["new_posts"] > 70
        assert con.execute("SELECT count(*) FROM runs").fetchone()[0] == 1  # the collection is a step of the run, not a run of its own
        steps = json.loads(con.execute("SELECT steps FROM runs WHERE flow = 'content'").fetchone()[0])
    assert [s["name"] for s in steps] == ["content", "notebook content"]
    assert steps[0]["counts"]["posts"] == 80 and "2 of 2 hashtag" in steps[0]["note"] and steps[1]["note"].endswith("content.ipynb")

    for flow, name, notebook in (
        (post_trends, "post-trends", "post_trends"),
        (author_trends, "author-trends", "author_trends"),
        (association_rules, "association-rules", "association_rules"),
    ):
        line = flow()
        assert line.startswith(f"{name} ") and "completed" in line, line
        [run] = runs(name)
        assert run["status"] == "completed" and run["notebook_path"].endswith(f"{notebook}.ipynb")
        assert Path(run["notebook_path"]).is_file()
    assert CANARY not in everything_written(workspace)


def test_monitoring_snapshots_each_tracked_hashtag(tiktok, workspace):
    from flows.hashtag_monitoring import hashtag_monitoring

    line = hashtag_monitoring()
    assert "completed" in line and "2 of 2 hashtag(s) snapshotted" in line
    [run] = runs("hashtag-monitoring")
    assert run["status"] == "completed" and run["counts"]["hashtags"] == 2 and run["counts"]["failed"] == 0
    assert run["notebook_path"].endswith("hashtag_monitoring.ipynb")
    with connection(read_only=True) as con:
        assert con.execute("SELECT count(DISTINCT hashtag) FROM hashtag_stats").fetchone()[0] == 2
        assert con.execute("SELECT flow FROM runs").fetchall() == [("hashtag-monitoring",)]  # one run, its snapshots a step


def test_a_failing_notebook_fails_its_flow_and_keeps_the_executed_copy(tiktok, workspace):
    from flows.post_trends import post_trends

    with pytest.raises(NotebookCellError) as err:
        post_trends(notebook={"window": "13d"})
    message = str(err.value)
    assert "post_trends: cell" in message and "executed copy kept" in message
    [run] = runs("post-trends")
    assert run["status"] == "failed" and run["ended_at"] is not None
    assert "cell" in run["error"] and run["error"] in message.replace("\n", " ")
    from pathlib import Path

    kept = Path(run["notebook_path"])
    assert kept.is_file() and kept.parent.parent == workspace.reports_dir / "post_trends"
    book = json.loads(kept.read_text())
    assert any(o.get("output_type") == "error" for c in book["cells"] for o in c.get("outputs", []))


def test_flow_parameters_from_the_command_line_are_split_between_flow_and_notebook():
    from flows.deploy import split_parameters
    from tiktok_intel.jobs import parse_param

    params = dict(parse_param(p) for p in ["max_posts=100", "period=week", 'hashtags=["a"]'])
    assert split_parameters("content", params) == {"max_posts": 100, "hashtags": ["a"], "notebook": {"period": "week"}}
    assert split_parameters("post_trends", {"window": "7d"}) == {"notebook": {"window": "7d"}}


def test_cli_run_runs_one_flow_now_and_records_it(workspace, monkeypatch, capsys):
    from tiktok_intel.cli import main

    # `run` exports the settings for the flow's processes: let monkeypatch restore them afterwards
    for name in ("TIKTOK_INTEL_WORKSPACE", "TIKTOK_INTEL_DB", "PYTHONPATH", "PREFECT_HOME"):
        monkeypatch.setenv(name, os.environ.get(name, ""))
    monkeypatch.setenv("TIKTOK_INTEL_WORKSPACE", str(workspace.workspace_path))
    assert main(["run", "author_trends", "--param", "limit=5"]) == 0
    out = capsys.readouterr().out.strip()
    assert out.startswith("author-trends ") and "completed" in out and len(out.splitlines()) == 1
    [run] = runs("author-trends")
    assert run["status"] == "completed" and run["counts"]["parameters"] == {"notebook": "author_trends", "limit": 5}


def test_cli_run_refuses_unknown_flows_and_bad_params_in_one_line(workspace, capsys):
    from tiktok_intel.cli import main

    assert main(["run", "trending"]) == 1
    assert capsys.readouterr().err.strip().startswith("tiktok-intel: no flow 'trending': use one of hashtag-monitoring")
    assert main(["run", "content", "--param", "max_posts"]) == 1
    assert "write it like --param max_posts=100" in capsys.readouterr().err


def test_relative_database_paths_are_made_absolute_for_the_flows_processes(tmp_path, monkeypatch):
    from tiktok_intel.store import absolute_target

    monkeypatch.chdir(tmp_path)
    assert absolute_target("data/tiktok.duckdb") == str(tmp_path / "data" / "tiktok.duckdb")
    assert absolute_target("ducklake:sqlite:lake/meta.sqlite") == f"ducklake:sqlite:{tmp_path / 'lake' / 'meta.sqlite'}"
    assert absolute_target("ducklake:postgres:dbname=lake host=db") == "ducklake:postgres:dbname=lake host=db"


def test_the_library_never_reaches_up_to_the_flows():
    """``tiktok_intel`` imports no ``flows`` (not even by name through importlib) and leaves
    ``sys.path`` / ``PYTHONPATH`` alone; the commands that need the flows come from their entry points."""
    import ast
    from pathlib import Path

    import tiktok_intel
    from tiktok_intel.cli import PLUGIN_GROUP, build_parser

    for path in Path(tiktok_intel.__file__).parent.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                assert not any(a.name.split(".")[0] == "flows" for a in node.names), path
            elif isinstance(node, ast.ImportFrom):
                assert node.level or (node.module or "").split(".")[0] != "flows", path
            elif isinstance(node, ast.Constant) and isinstance(node.value, str):
                assert not node.value.startswith("flows."), f"{path}: {node.value!r}"
            elif isinstance(node, ast.Attribute) and node.attr == "path" and getattr(node.value, "id", "") == "sys":
                raise AssertionError(f"{path} touches sys.path")
        assert "PYTHONPATH" not in path.read_text(encoding="utf-8"), path
    import importlib.metadata

    points = {p.name: p.value for p in importlib.metadata.entry_points(group=PLUGIN_GROUP)}
    assert points == {"orchestration": "flows.cli:register", "jobs": "flows.cli:register_demo"}
    names = list(build_parser()._subparsers._group_actions[0].choices)
    assert names.index("schedules") + 1 == names.index("run") == names.index("serve") - 1 and names.index("jobs") + 1 == names.index("demo")
