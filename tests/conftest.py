"""Shared test fixtures: an isolated workspace per test, and the real samples in ../shared/fixtures."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import threading
from pathlib import Path

import pytest

from tiktok_intel import settings as settings_module
from tiktok_intel.store import open_db

PROJECT = Path(__file__).resolve().parents[1]
SHARED_FIXTURES = PROJECT.parent / "shared" / "fixtures"
OWN_FIXTURES = Path(__file__).resolve().parent / "fixtures"


@pytest.fixture(autouse=True, scope="session")
def away_from_the_users_workspace(tmp_path_factory):
    """The tests never read or write the user's workspace: they run in an empty folder (the default
    workspace ``data/``, ``.env`` and the jobs file are relative to it), with no ``TIKTOK_INTEL_*``
    variable of the caller's shell. So `make demo` and `make test` pass in either order."""
    folder = tmp_path_factory.mktemp("cwd")
    before, saved = os.getcwd(), dict(os.environ)
    for name in [n for n in os.environ if n.startswith("TIKTOK_INTEL_")]:
        del os.environ[name]
    os.chdir(folder)
    yield folder
    os.chdir(before)
    os.environ.clear()
    os.environ.update(saved)


@pytest.fixture(autouse=True)
def environment_restored():
    """Every test leaves the environment as it found it: running a flow in-process points
    ``TIKTOK_INTEL_WORKSPACE`` / ``_DB`` (and Prefect's settings) at its workspace, for the notebook
    kernels it starts, and the next test must not inherit that."""
    saved = dict(os.environ)
    yield
    if os.environ != saved:
        os.environ.clear()
        os.environ.update(saved)


@pytest.fixture
def workspace(tmp_path, monkeypatch):
    """Settings pointing at an empty workspace under tmp_path, ignoring the caller's env and .env."""
    monkeypatch.setenv("TIKTOK_INTEL_PROGRESS", "0")
    base = settings_module.load_settings(environ={}, dotenv=None)
    settings = settings_module.configure(base, workspace=tmp_path / "data")
    yield settings
    settings_module.configure(None)


@pytest.fixture
def con(workspace):
    """A fresh, migrated database in the workspace; closed after the test."""
    connection = open_db(workspace.db_target)
    yield connection
    connection.close()


@pytest.fixture(scope="session")
def shared_fixtures() -> Path:
    """``../shared/fixtures``: real TikTok responses (skips only where the folder is absent)."""
    if not SHARED_FIXTURES.is_dir():
        pytest.skip("../shared/fixtures not found")
    return SHARED_FIXTURES


@pytest.fixture
def own_fixtures() -> Path:
    return OWN_FIXTURES


def load_json(path: Path):
    return json.loads(Path(path).read_text(encoding="utf-8"))


T0 = dt.datetime(2026, 11, 1, 8, 1)


@contextlib.contextmanager
def write_lock_held_by_another_run(flow: str = "content", *, workspace: Path | None = None):
    """Inside the block, another thread holds the workspace write lock, as a flow writing would."""
    from tiktok_intel.store import Workspace

    holding, release = threading.Event(), threading.Event()
    ws = Workspace.current() if workspace is None else Workspace.current().replace(workspace=workspace)

    def a_run_writing() -> None:
        with ws.write_lock(flow):
            holding.set()
            release.wait(60)

    run = threading.Thread(target=a_run_writing)
    run.start()
    try:
        assert holding.wait(30), "the other run never got the write lock"
        yield
    finally:
        release.set()
        run.join()
