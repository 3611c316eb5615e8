"""Settings: declared once, read lazily from env / .env, secrets never shown, README in agreement."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import PROJECT

from tiktok_intel import settings as s
from tiktok_intel.errors import SettingsError


def test_defaults_env_and_dotenv(tmp_path):
    dotenv = tmp_path / ".env"
    dotenv.write_text("TIKTOK_INTEL_MAX_POSTS=50\nTIKTOK_INTEL_REGION=NO\n")
    got = s.load_settings(environ={"TIKTOK_INTEL_REGION": "DK", "TIKTOK_INTEL_KEYFRAMES": "yes"}, dotenv=dotenv)
    assert got.max_posts == 50  # from .env
    assert got.region == "DK"  # the environment wins over .env
    assert got.keyframes is True and got.language == "sv"  # parsed; default
    assert got.db_target == str(Path("data") / "tiktok.duckdb")


def test_bad_value_is_one_line_naming_the_variable():
    with pytest.raises(SettingsError, match=r"TIKTOK_INTEL_MAX_POSTS='lots' is not valid .*fix it in the environment or .env"):
        s.load_settings(environ={"TIKTOK_INTEL_MAX_POSTS": "lots"}, dotenv=None)


def test_secret_values_never_shown():
    got = s.load_settings(environ={"TIKTOK_INTEL_MS_TOKEN": "canary-ms", "TIKTOK_INTEL_RESEARCH_CLIENT_SECRET": "canary-rs"}, dotenv=None)
    assert "canary" not in repr(got) and "canary" not in str(got.public())
    assert sorted(got.secrets()) == ["canary-ms", "canary-rs"]
    with pytest.raises(SettingsError) as err:
        s.load_settings(environ={"TIKTOK_INTEL_PROXY": "x", "TIKTOK_INTEL_RETRIES": "canary-rs"}, dotenv=None)
    assert "canary-rs" in str(err.value)  # not a secret setting: shown to help fixing it
    with pytest.raises(SettingsError) as err:
        s.load_settings(environ={"TIKTOK_INTEL_REQUESTS_PER_SECOND": "fast"}, dotenv=None)


def test_nothing_is_read_at_import():
    import importlib

    import tiktok_intel.settings as module

    module = importlib.reload(module)
    assert module._current is None


def test_readme_settings_reference_matches_the_declaration():
    readme = (PROJECT / "README.md").read_text(encoding="utf-8")
    assert s.settings_table_markdown() in readme, "regenerate with: tiktok-intel settings --markdown"
    documented = set(re.findall(r"`(TIKTOK_INTEL_[A-Z0-9_]+)`", readme))
    assert {x.env for x in s.DECLARED} <= documented


def test_package_exports_resolve():
    import importlib
    import pkgutil

    import tiktok_intel as ti

    submodules = {m.name for m in pkgutil.iter_modules(ti.__path__) if not m.name.startswith("_")}
    assert not submodules & set(ti._EXPORTS), "an export named like a submodule is shadowed once the submodule is imported"
    for name in submodules:
        importlib.import_module(f"tiktok_intel.{name}")
    for name in ti._EXPORTS:
        assert callable(getattr(ti, name)) or isinstance(getattr(ti, name), type), name
