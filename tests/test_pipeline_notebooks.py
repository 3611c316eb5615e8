"""Pipeline notebooks executed by Papermill into tmp_path against a small store; failures named and kept."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import papermill
import pytest

from tiktok_intel import settings as settings_module
from tiktok_intel.notebooks import PIPELINES_DIR, NotebookCellError, NotebookError, run_notebook
from tiktok_intel.store import open_db

PROJECT = Path(__file__).resolve().parents[1]
NOW = dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)
DAY = dt.timedelta(days=1)


@pytest.fixture
def small_db(workspace):
    con = open_db(workspace.db_target)
    con.execute("INSERT INTO tracked_hashtags (name, added_at) VALUES ('val2026', ?)", [NOW - 40 * DAY])
    for i in range(12):
        pid, author = f"p{i}", f"a{i % 3}"
        tags = ["val2026", "sverige"] + (["politik"] if i % 2 else ["mat"])
        con.execute(
            "INSERT INTO posts (post_id, author_id, author_unique_id, description, created_at, views, first_seen_at, last_seen_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [pid, author, f"user{i % 3}", f"post number {i}", NOW - (i + 1) * DAY, 1000 * (i + 5), NOW - 9 * DAY, NOW],
        )
        for tag in tags:
            con.execute("INSERT INTO post_hashtags VALUES (?, ?)", [pid, tag])
        for days_ago, factor in [(9, 1), (2, 3), (1, 4), (0, 5)]:
            con.execute(
                "INSERT INTO post_stats VALUES (?, ?, ?, ?, 1, 1, 0)", [pid, NOW - days_ago * DAY, 200 * (i + 1) * factor, 10 * factor]
            )
        con.execute("INSERT INTO feed_appearances VALUES ('val2026', ?, ?, ?, 'r1')", [pid, NOW, i + 1])
    for a in range(3):
        con.execute("INSERT INTO authors (author_id, unique_id, nickname) VALUES (?, ?, ?)", [f"a{a}", f"user{a}", f"User {a}"])
        for days_ago, followers in [(8, 100), (1, 150 + a), (0, 200 + 50 * a)]:
            con.execute("INSERT INTO author_stats VALUES (?, ?, ?, 1, 5, 2, 0)", [f"a{a}", NOW - days_ago * DAY, followers])
    for days_ago, videos in [(2, 100), (1, 120), (0, 150)]:
        con.execute("INSERT INTO hashtag_stats VALUES ('val2026', ?, ?, ?)", [NOW - days_ago * DAY, videos, videos * 1000])
    con.close()
    return workspace


def _outputs(ipynb: Path) -> list[dict]:
    book = nbformat.read(str(ipynb), as_version=4)
    return [o for c in book.cells if c.cell_type == "code" for o in c.get("outputs", [])]


def _has_plotly(ipynb: Path) -> bool:
    return any("application/vnd.plotly.v1+json" in o.get("data", {}) for o in _outputs(ipynb))


def _count(workspace, sql):
    con = open_db(workspace.db_target, read_only=True)
    try:
        return con.execute(sql).fetchone()[0]
    finally:
        con.close()


@pytest.mark.parametrize(
    "name, parameters, table, expected_rows",
    [
        ("post_trends", {"window": "7d"}, "post_trends", 12),
        ("author_trends", {"window": "7d"}, "author_trends", 3),
        ("hashtag_monitoring", {"metric": "video_count"}, "hashtag_trends", 4),
        ("association_rules", {"min_support": 0.3, "hashtag": "politik"}, "rules", None),
    ],
)
def test_pipeline_notebook_writes_its_tables_and_keeps_the_report(small_db, tmp_path, name, parameters, table, expected_rows):
    run = run_notebook(name, parameters, reports_dir=tmp_path / "reports")
    assert run.ipynb.parent.parent == tmp_path / "reports" / name and run.ipynb.name == f"{name}.ipynb"
    assert run.html is not None and run.html.is_file() and run.html.suffix == ".html"
    assert run.parameters["db"] == str(Path(small_db.db_target).resolve())  # the caller's store, passed to the kernel
    assert _has_plotly(run.ipynb)
    rows = _count(small_db, f"SELECT count(*) FROM {table}")
    if expected_rows is None:
        assert rows > 0 and _count(small_db, "SELECT count(*) FROM rule_runs") == 1
        assert _count(small_db, "SELECT count(*) FROM rules WHERE list_contains(consequents, 'val2026')") == 0
        text = json.dumps([o for o in _outputs(run.ipynb)])
        assert "politik" in text
    else:
        assert rows == expected_rows
    assert not any(o.get("output_type") == "error" for o in _outputs(run.ipynb))


def test_post_trends_notebook_shows_the_top_posts(small_db, tmp_path):
    run = run_notebook("post_trends", {"window": "1d", "limit": 3}, reports_dir=tmp_path)
    html = run.html.read_text(encoding="utf-8")
    assert "post number 11" in html  # the biggest gainer is in the summary table
    # the chart is drawn in the HTML copy too, with plotly.js inlined once (offline, self-contained)
    assert html.count("Plotly.newPlot") >= 1 and html.count("window.PlotlyConfig") == 1 and not re.search(r"<script[^>]+src=", html)
    assert _count(small_db, "SELECT views_change_7d FROM post_trends WHERE post_id = 'p0'") == 800


def test_content_ingests_pending_raw_pages(workspace, shared_fixtures, tmp_path):
    from tiktok_intel.imports import copy_to_raw

    copy_to_raw(
        shared_fixtures / "zeeschuimer" / "tiktok_search_2023.ndjson", run_id="test", page=1, collected_at=NOW, raw_dir=workspace.raw_dir
    )
    run = run_notebook("content", {"period": "week"})
    assert run.ipynb.is_relative_to(workspace.reports_dir / "content")
    assert _count(workspace, "SELECT count(*) FROM raw_pages") == 1
    assert _count(workspace, "SELECT count(*) FROM posts") > 90
    assert _has_plotly(run.ipynb)


def test_failing_cell_is_named_and_the_executed_copy_kept(workspace, tmp_path):
    book = nbformat.v4.new_notebook()
    book.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    params = nbformat.v4.new_code_cell("divisor: int = 1  # what to divide by")
    params.metadata["tags"] = ["parameters"]
    book.cells = [
        nbformat.v4.new_markdown_cell("# Fails"),
        params,
        nbformat.v4.new_code_cell("x = 1 / divisor"),
        nbformat.v4.new_code_cell("raise ValueError(f'boom {x}')"),
    ]
    path = tmp_path / "failing.ipynb"
    nbformat.write(book, str(path))
    with pytest.raises(NotebookCellError) as caught:
        run_notebook(path, {"divisor": 0}, reports_dir=tmp_path / "out")
    err = caught.value
    assert err.cell == 3 and err.ename == "ZeroDivisionError"  # In [3]: after the parameters and injected cells
    assert "cell 3 failed with ZeroDivisionError: division by zero" in str(err)
    assert err.ipynb.is_file() and err.html is not None and err.html.is_file()
    assert any(o.get("output_type") == "error" and o.get("ename") == "ZeroDivisionError" for o in _outputs(err.ipynb))
    assert "ZeroDivisionError" in err.html.read_text(encoding="utf-8")


def test_secrets_and_unknown_parameters_are_refused(workspace, tmp_path):
    settings_module.configure(workspace, ms_token="s3cr3t-token-value")
    with pytest.raises(NotebookError, match="secret"):
        run_notebook("post_trends", {"hashtag": "s3cr3t-token-value"}, reports_dir=tmp_path)
    with pytest.raises(NotebookError, match="no parameter"):
        run_notebook("post_trends", {"colour": "red"}, reports_dir=tmp_path)
    with pytest.raises(NotebookError, match="pipeline name"):
        run_notebook("no_such_notebook")
    assert not (tmp_path / "post_trends").exists()


def test_notebooks_are_committed_clean_with_a_parameters_cell():
    names = sorted(p.stem for p in PIPELINES_DIR.glob("*.ipynb"))
    from tiktok_intel.schedules import JOBS

    assert {job.notebook for job in JOBS} == set(names)  # one pipeline notebook per job, named as the job
    for name in names:
        book = nbformat.read(str(PIPELINES_DIR / f"{name}.ipynb"), as_version=4)
        code = [c for c in book.cells if c.cell_type == "code"]
        assert code[0].metadata.get("tags") == ["parameters"], name
        lines = code[0].source.splitlines()
        for line in lines:
            assert ":" in line and line.count("=") == 1 and "  # " in line, f"{name}: {line!r} is not `name: type = default  # help`"
        assert len(papermill.inspect_notebook(str(PIPELINES_DIR / f"{name}.ipynb"))) == len(lines), (
            f"{name}: papermill cannot parse a parameter"
        )
        assert all(not c.get("outputs") and c.get("execution_count") is None for c in code), f"{name} has outputs"
        assert book.cells[0].cell_type == "markdown"


def test_nbval_lax_passes_on_an_empty_workspace(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("TIKTOK_INTEL_")}
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "--nbval-lax", "-p", "no:cacheprovider", str(PIPELINES_DIR)],
        cwd=PROJECT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "passed" in done.stdout and not (PIPELINES_DIR / "data").exists()
