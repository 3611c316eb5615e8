"""Operator basics: a changelog entry per schema migration, ``--version``, ``py.typed`` shipped, the
dependency bounds and constraints file, the systemd units."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib

from conftest import PROJECT

from tiktok_intel import schema
from tiktok_intel.cli import main


def test_every_schema_migration_has_its_changelog_entry():
    changelog = (PROJECT / "CHANGELOG.md").read_text()
    files = sorted((PROJECT / "tiktok_intel" / "migrations").glob("[0-9][0-9][0-9]_*.sql"))
    assert len(files) == schema.SCHEMA_VERSION - 1
    for path in files:
        topic = path.stem.split("_", 1)[1]  # by topic: the integrator renumbers migrations at merge
        assert re.search(rf"^## Schema \d+: `\d{{3}}_{re.escape(topic)}`", changelog, re.M), f"CHANGELOG.md has no entry for {path.name}"
    assert "## Schema 1:" in changelog


def test_version_names_the_package_and_the_schema(capsys):
    try:
        main(["--version"])
    except SystemExit as exit:
        assert exit.code == 0
    out = capsys.readouterr().out
    assert re.fullmatch(rf"tiktok-intel \d+\.\d+\S* \(schema {schema.SCHEMA_VERSION}\)\n", out), out


def test_py_typed_is_package_data():
    data = tomllib.loads((PROJECT / "pyproject.toml").read_text())
    assert "py.typed" in data["tool"]["setuptools"]["package-data"]["tiktok_intel"]
    assert (PROJECT / "tiktok_intel" / "py.typed").is_file()


def test_internals_used_have_upper_bounds_and_setup_installs_with_the_constraints():
    deps = tomllib.loads((PROJECT / "pyproject.toml").read_text())["project"]["dependencies"]
    for name in ("prefect", "voila"):
        [spec] = [d for d in deps if re.match(rf"{name}\b", d)]
        assert "<" in spec, spec
    assert any(d.startswith("socksio") for d in deps) and any(d.startswith("h2") for d in deps)
    constraints = (PROJECT / "constraints.txt").read_text()
    pins = dict(re.findall(r"^([A-Za-z0-9_.\-]+)==(\S+)", constraints, re.M))
    for name in ("prefect", "voila", "duckdb", "httpx", "socksio", "h2", "babel"):
        assert name in {k.lower() for k in pins}, name
    makefile = (PROJECT / "Makefile").read_text()
    assert re.search(r"pip install .*-c constraints\.txt", makefile.replace("$(PIP)", "pip"))
    assert "constraints.txt" in makefile.split("$(STAMP):", 1)[1].split("\n", 1)[0]  # a changed pin reinstalls


def test_a_socks_proxy_is_accepted_and_http2_is_on(monkeypatch):
    """``TIKTOK_INTEL_PROXY=socks5://...`` builds a client (httpx needs socksio for it), speaking HTTP/2 (h2)."""
    import asyncio

    from tiktok_intel import settings as settings_module
    from tiktok_intel.sources.http import HttpClient

    settings = settings_module.load_settings(environ={"TIKTOK_INTEL_PROXY": "socks5://127.0.0.1:1"}, dotenv=None)
    client = HttpClient(settings)
    try:
        pool = client._client._transport_for_url(__import__("httpx").URL("https://www.tiktok.com/"))._pool
        assert type(pool).__name__ == "AsyncSOCKSProxy" and pool._http2
    finally:
        asyncio.run(client._client.aclose())


def test_systemd_units_for_serve_and_dashboards():
    for name in ("tiktok-intel-serve", "tiktok-intel-dashboards"):
        unit = (PROJECT / "docs" / "systemd" / f"{name}.service").read_text()
        assert "ExecStart=" in unit and "Restart=" in unit and "WantedBy=" in unit, name
        assert "--token" not in unit  # the token comes from an EnvironmentFile, never the command line
    assert "JUPYTER_TOKEN" in (PROJECT / "docs" / "systemd" / "tiktok-intel-dashboards.service").read_text()


def test_the_cli_runs_as_a_module_with_version():
    done = subprocess.run([sys.executable, "-m", "tiktok_intel", "--version"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and "schema" in done.stdout
