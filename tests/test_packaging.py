"""environment.yml (conda-forge) and pyproject.toml declare the same dependencies; the package
works installed, outside a checkout (its notebooks are package data)."""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import sysconfig
import time
import tomllib
import urllib.request
import zipfile
from pathlib import Path

import pytest
from conftest import PROJECT

from tiktok_intel.notebooks import NOTEBOOKS_DIR, shipped
from tiktok_intel.texts import t

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


# ------------------------------------------------------------------ installed outside a checkout

#: What a copy of the checkout to build from leaves out (the workspace, venvs, build leftovers).
NOT_SOURCE = shutil.ignore_patterns(".git", ".venv", "data", "build", "*.egg-info", "__pycache__", ".pytest_cache", "out")


def _source(tmp_path: Path) -> Path:
    """A clean copy of the checkout: setuptools' build/ folder would carry files removed since."""
    source = tmp_path / "source"
    shutil.copytree(PROJECT, source, ignore=NOT_SOURCE)
    return source


def _clean_environment() -> dict[str, str]:
    return {
        k: v for k, v in os.environ.items() if not k.startswith("TIKTOK_INTEL_") and k not in ("VIRTUAL_ENV", "PYTHONPATH", "JUPYTER_PATH")
    }


def _fresh_venv(tmp_path: Path, source: Path) -> Path:
    """A new venv with the package installed from ``source`` (``pip install --no-deps``); its
    dependencies are this venv's (their site-packages, less the editable checkout, through a .pth,
    and their Jupyter data files, less its kernel spec: Jupyter falls back to the venv's own Python)."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    site = Path(
        subprocess.run(
            [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], check=True, capture_output=True, text=True
        ).stdout.strip()
    )
    deps = tmp_path / "dependencies"
    deps.mkdir()
    for entry in Path(sysconfig.get_paths()["purelib"]).iterdir():
        if not entry.name.startswith(("tiktok_intel", "__editable__", "flows")) and entry.suffix != ".pth":
            (deps / entry.name).symlink_to(entry)
    (site / "dependencies.pth").write_text(f"{deps}\n")
    share = venv / "share" / "jupyter"
    share.mkdir(parents=True)
    for entry in (Path(sys.prefix) / "share" / "jupyter").iterdir():
        if entry.name != "kernels":
            (share / entry.name).symlink_to(entry)
    subprocess.run([python, "-m", "pip", "install", "--no-deps", "--quiet", str(source)], check=True, env=_clean_environment())
    return venv


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str, timeout: float = 90) -> tuple[str, str]:
    """(final address, body) once the server answers."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=30) as answer:
                return answer.geturl(), answer.read().decode("utf-8", errors="replace")
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def test_the_notebooks_are_package_data(tmp_path):
    wheels = tmp_path / "wheels"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(wheels), str(_source(tmp_path))],
        check=True,
        env=_clean_environment(),
    )
    (wheel,) = wheels.glob("tiktok_intel-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = {f"tiktok_intel/notebooks/{p.relative_to(NOTEBOOKS_DIR)}" for p in [*shipped(), NOTEBOOKS_DIR / "README.md"]}
    assert {n for n in expected if "/pipelines/" in n} and {n for n in expected if "/dashboards/" in n}
    assert expected <= names, expected - names
    assert "tiktok_intel/dashboards/voila_app.py" in names and "tiktok_intel/migrations/002_collection.sql" in names


def test_nothing_in_the_package_finds_files_through_the_checkout():
    """Notebooks and the project folder are found through NOTEBOOKS_DIR, never ``Path(__file__).parents[...]``."""
    package = PROJECT / "tiktok_intel"
    found = [
        f"{p.relative_to(PROJECT)}:{n}"
        for p in package.rglob("*.py")
        for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
        if "parents[" in line
    ]
    assert not found, found


@pytest.mark.slow
def test_installed_outside_a_checkout_it_serves_the_dashboards_and_copies_the_notebooks(tmp_path):
    venv = _fresh_venv(tmp_path, _source(tmp_path))
    elsewhere = tmp_path / "elsewhere"  # an empty folder, no checkout above it
    elsewhere.mkdir()
    env = _clean_environment()
    where = subprocess.run(
        [venv / "bin" / "python", "-c", "import tiktok_intel.notebooks as n; print(n.NOTEBOOKS_DIR)"],
        cwd=elsewhere,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    assert Path(where).is_relative_to(venv) and (Path(where) / "dashboards" / "index.ipynb").is_file()

    done = subprocess.run(
        [venv / "bin" / "tiktok-intel", "notebooks", "copy", "mine"],
        cwd=elsewhere,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    from tiktok_intel.notebooks import shipped

    # every notebook the checkout ships reached the installed copy (its count, said in one line)
    assert len(done.stdout.strip().splitlines()) == 1 and f"copied {len(shipped())} notebooks" in done.stdout
    assert {p.relative_to(elsewhere / "mine").as_posix() for p in (elsewhere / "mine").rglob("*.ipynb")} == {
        f"{p.parent.name}/{p.name}" for p in shipped()
    }
    assert (elsewhere / "mine" / "exploratory" / "weekly_hashtag_brief.ipynb").is_file()
    assert (elsewhere / "mine" / "pipelines" / "post_trends.ipynb").is_file() and (elsewhere / "mine" / "README.md").is_file()
    again = subprocess.run(
        [venv / "bin" / "tiktok-intel", "notebooks", "copy", "mine"],
        cwd=elsewhere,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert again.returncode == 1 and "--force" in again.stderr

    port = _free_port()
    log = tmp_path / "dashboards.log"
    with log.open("wb") as out:
        server = subprocess.Popen(
            [venv / "bin" / "tiktok-intel", "dashboards", "--port", str(port), "--no-preheat"],
            cwd=elsewhere,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        address, body = _get(f"http://127.0.0.1:{port}/")
        assert address == f"http://127.0.0.1:{port}/voila/render/index.ipynb"
        # the index dashboard, rendered by the kernel, in the setting's default language (the environment is
        # clean); its heading is in the widgets' state, a JSON string
        assert json.dumps(t("dash_index", "sv"))[1:-1] in body and "ti-freshness" in body
        assert "Select items" not in body and "Traceback" not in body
    finally:
        server.terminate()  # SIGTERM stops Voilà with the command
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
    assert "dashboards: http://127.0.0.1:" in log.read_text(errors="replace")
    deadline = time.monotonic() + 10
    while True:  # nothing listens on the port any more: Voilà did not outlive the command
        try:
            socket.create_connection(("127.0.0.1", port), timeout=2).close()
        except ConnectionRefusedError:
            break
        assert time.monotonic() < deadline, "Voilà still listens after `tiktok-intel dashboards` was stopped"
        time.sleep(0.3)
