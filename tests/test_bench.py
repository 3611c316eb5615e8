"""bench/run.py's one table, on fake figures and fake benchmarks (the real benchmarks are not run)."""

from __future__ import annotations

import importlib.util
import sys
import textwrap
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench"


@pytest.fixture(scope="module")
def run():
    path, had_common = list(sys.path), "common" in sys.modules
    spec = importlib.util.spec_from_file_location("bench_run", BENCH / "run.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_run"] = module  # dataclasses look their module up
    spec.loader.exec_module(module)  # puts bench/ on sys.path and imports bench/common.py
    module.common = sys.modules["common"]
    yield module
    sys.path[:] = path  # leave no bench/ modules behind for other tests
    sys.modules.pop("bench_run", None)
    if not had_common:
        sys.modules.pop("common", None)


@pytest.fixture(scope="module")
def common(run):
    return run.common


def columns(line: str) -> list[str]:
    return line.split()


def test_targets(common):
    met = common.target_met
    assert met("< 5 s", 4.9, "s", None) is True
    assert met("< 5 s", 5.1, "s", None) is False
    assert met("< 2 GB", 2100, "MB", None) is False  # 2 GB = 2048 MB
    assert met("< 2 GB", 2000, "MB", None) is True
    assert met("< 5 s", 4900, "ms", None) is True
    assert met(">= 30,000 items/s and >= 300x", 31_000, "items/s", 338) is True
    assert met(">= 30,000 items/s and >= 300x", 31_000, "items/s", 250) is False
    assert met(">= 30,000 items/s and >= 300x", 18_305, "items/s", 338) is False
    assert met("< 50", 49, "ms", None) is True  # no unit: the figure's
    assert met("< 5 s", 1, "MB", None) is None  # units that do not compare
    assert met("the speed limit", 1, "s", None) is None
    assert met("< 5 s", None, "s", None) is None
    assert met("", 1, "s", None) is None


def test_combined_table_from_figure_files(run, common, tmp_path, monkeypatch):
    # one file written the way a benchmark writes it, through print_table under run.py
    fast = tmp_path / "fast.jsonl"
    monkeypatch.setenv(common.FIGURES_FILE_ENV, str(fast))
    common.print_table(
        "fast thing",
        [
            common.Figure("rate", 10_000, "items/s", 5_000, ">= 30,000 items/s and >= 2x"),
            common.Figure("wall", 1.5, "s", target="< 2 s"),
        ],
    )
    common.print_table("fast thing, part two", [common.Figure("ocr", None, "images/s", note="no tesseract")])
    # one written by hand, as JSON lines
    slow = tmp_path / "slow.jsonl"
    slow.write_text('{"title": "slow", "figure": "memory", "value": 3072, "unit": "MB", "baseline": 1024, "target": "< 2 GB"}\n')
    results = [
        run.Result("fast", 0, run.read_figures(fast)),
        run.Result("slow", 0, run.read_figures(slow)),
        run.Result("broken", 3, run.read_figures(tmp_path / "never-written.jsonl")),
        run.Result("silent", 0, []),
    ]
    lines = run.combined_table(results)
    assert columns(lines[0]) == ["benchmark", "figure", "value", "baseline", "ratio", "target", "met", "note"]
    assert set(lines[1]) == {"-", " "}
    body = lines[2:]
    assert len(body) == 6
    rate, wall, ocr, memory, broken, silent = body
    assert columns(rate)[:8] == ["fast", "rate", "10,000", "items/s", "5,000", "items/s", "2x", ">="]
    assert rate.rstrip().endswith("NO")  # 2x the baseline but not 30,000 items/s
    assert columns(wall)[:4] == ["fast", "wall", "1.5", "s"] and wall.rstrip().endswith("yes")
    assert columns(ocr)[:3] == ["fast", "ocr", "n/a"] and ocr.rstrip().endswith("no tesseract")
    assert columns(memory) == ["slow", "memory", "3,072", "MB", "1,024", "MB", "3x", "<", "2", "GB", "NO"]
    assert columns(broken) == ["broken", "FAILED", "(exit", "3)"]
    assert columns(silent) == ["silent", "FAILED", "(no", "figures", "reported)"]
    assert [r.failed for r in results] == [False, False, True, True]


def test_main_runs_the_discovered_benchmarks(run, tmp_path, capfd):
    ok = f"""
        import sys
        sys.path.insert(0, {str(BENCH)!r})
        from common import Figure, print_table
        print("progress of ok")
        scale = float(sys.argv[sys.argv.index("--scale") + 1])
        print_table("ok", [Figure("scaled", scale * 100, "s", 25, "< 60 s")])
    """
    (tmp_path / "ok.py").write_text(textwrap.dedent(ok))
    (tmp_path / "bad.py").write_text("import sys\nprint('progress of bad')\nsys.exit(3)\n")
    for helper in ("common.py", "synthetic.py", "run.py", "_private.py"):  # not benchmarks: would fail if run
        (tmp_path / helper).write_text("raise SystemExit(9)\n")
    assert [p.name for p in run.discover(tmp_path)] == ["bad.py", "ok.py"]

    assert run.main(["--scale", "0.5"], bench_dir=tmp_path) == 1
    out = capfd.readouterr().out
    assert "progress of ok" in out and "progress of bad" in out  # their own output shows
    assert "ok: 1 figures handed to bench/run.py" in out
    table = out.rstrip().splitlines()[-4:]  # the table is the last thing printed
    assert columns(table[0]) == ["benchmark", "figure", "value", "baseline", "ratio", "target", "met"]
    assert columns(table[2]) == ["bad", "FAILED", "(exit", "3)"]
    assert columns(table[3]) == ["ok", "scaled", "50", "s", "25", "s", "2x", "<", "60", "s", "yes"]
    assert "FAILED: bad" in out and "checkable targets met: 1 of 1" in out

    assert run.main(["--scale", "1", "ok"], bench_dir=tmp_path) == 0  # only the one named
    out = capfd.readouterr().out
    assert "progress of bad" not in out
    assert columns(out.rstrip().splitlines()[-1])[:3] == ["ok", "scaled", "100"]


def test_every_benchmark_is_discovered_and_hands_over_figures(run):
    names = [p.name for p in run.discover()]
    assert {"ingest.py", "trends.py", "rules.py", "search.py", "dashboards.py"} <= set(names)
    for name in names:
        source = (BENCH / name).read_text()
        assert "print_table(" in source and '"--scale"' in source, name
