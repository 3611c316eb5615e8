"""`pytest --nbval-lax notebooks`: run every pipeline and dashboard notebook on an empty, fresh workspace.

The kernels nbval starts inherit this environment, so the notebooks' default parameters
(``db = ""``: the configured database) point at a temporary workspace, never at ``data/``.
"""
import os
import shutil
import tempfile

_saved: dict[str, str | None] = {}
_folder: list[str] = []


def pytest_configure(config):
    folder = tempfile.mkdtemp(prefix="tiktok-intel-nbval-")
    _folder.append(folder)
    for name, value in {"TIKTOK_INTEL_WORKSPACE": os.path.join(folder, "data"), "TIKTOK_INTEL_DB": "",
                        "TIKTOK_INTEL_PROGRESS": "0"}.items():
        _saved[name] = os.environ.get(name)
        os.environ[name] = value


def pytest_unconfigure(config):
    for name, value in _saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
    for folder in _folder:
        shutil.rmtree(folder, ignore_errors=True)
