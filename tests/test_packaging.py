"""environment.yml (conda-forge) and pyproject.toml declare the same dependencies."""
from __future__ import annotations

import re
import tomllib

from conftest import PROJECT

CONDA_NAMES = {"python-duckdb": "duckdb"}  # conda-forge name -> PyPI name


def _split(spec: str) -> tuple[str, str]:
    match = re.match(r"^\s*([A-Za-z0-9_.\-]+)\s*(.*)$", spec)
    return match.group(1).lower().replace("_", "-"), match.group(2).replace(" ", "")


def pyproject_deps() -> dict[str, str]:
    data = tomllib.loads((PROJECT / "pyproject.toml").read_text())
    specs = data["project"]["dependencies"] + data["project"]["optional-dependencies"]["test"]
    return dict(_split(s) for s in specs)


def environment_deps() -> dict[str, str]:
    deps = {}
    for line in (PROJECT / "environment.yml").read_text().splitlines():
        match = re.match(r"^\s+- ([^\s#:][^#]*)$", line)
        if not match or match.group(1).strip() in ("pip", "pip:", "conda-forge"):
            continue
        name, spec = _split(match.group(1).strip())
        if name == "python":
            continue
        deps[CONDA_NAMES.get(name, name)] = spec
    return deps


def test_environment_and_pyproject_agree():
    assert environment_deps() == pyproject_deps()


def test_duckdb_pinned_with_its_offline_extensions():
    deps = pyproject_deps()
    assert deps["duckdb"] == "==1.5.5" and deps["duckdb-extension-fts"] == "==1.5.5"


def test_ci_runs_the_readme_test_command():
    readme = (PROJECT / "README.md").read_text()
    assert "make test" in readme and "make demo" in readme
    assert "make test" in (PROJECT / ".ci" / "run").read_text()
