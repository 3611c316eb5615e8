"""`pytest --nbval-lax tiktok_intel/notebooks`: run every shipped notebook on an empty, fresh workspace.

Test set-up, not library code: the kernels nbval starts inherit the test process's environment,
so pytest's ``MonkeyPatch`` points the notebooks' default parameters (``db = ""``: the configured
database) at a temporary workspace, never at ``data/``, and undoes it at the end.
"""

import shutil
import tempfile
from pathlib import Path

import pytest

_patch = pytest.MonkeyPatch()
_folder: list[Path] = []


def pytest_configure(config):
    folder = Path(tempfile.mkdtemp(prefix="tiktok-intel-nbval-"))
    _folder.append(folder)
    for name, value in {"TIKTOK_INTEL_WORKSPACE": str(folder / "data"), "TIKTOK_INTEL_DB": "", "TIKTOK_INTEL_PROGRESS": "0"}.items():
        _patch.setenv(name, value)


def pytest_unconfigure(config):
    _patch.undo()
    for folder in _folder:
        shutil.rmtree(folder, ignore_errors=True)
