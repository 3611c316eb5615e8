"""Every setting, declared once: name, type, default, help.

Values come from the environment (``TIKTOK_INTEL_<NAME>``) or a ``.env`` file in the current
folder, read when :func:`get_settings` is first called (never at import). The README's settings
reference is generated from :data:`DECLARED`, and a test keeps the two in agreement.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from .errors import SettingsError

PREFIX = "TIKTOK_INTEL_"


@dataclasses.dataclass(frozen=True)
class Setting:
    name: str
    type: Callable[[str], Any]
    default: Any
    help: str
    secret: bool = False

    @property
    def env(self) -> str:
        return PREFIX + self.name.upper()


def _bool(text: str) -> bool:
    lowered = text.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off", ""}:
        return False
    raise ValueError(f"not a boolean: {text!r} (use true or false)")


def _list(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.split(",") if part.strip())


DECLARED: tuple[Setting, ...] = (
    Setting("workspace", Path, Path("data"), "Folder for the database, raw pages, media and reports."),
    Setting(
        "db",
        str,
        "",
        "Database: a DuckDB file path, or a DuckLake catalog (ducklake:sqlite:PATH, ducklake:postgres:CONNINFO; "
        "docs/scaling.md). Empty: <workspace>/tiktok.duckdb.",
    ),
    Setting("timezone", str, "Europe/Stockholm", "Time zone the schedules are written in."),
    Setting("jobs_file", str, "", "Your own scheduled notebooks (`tiktok-intel jobs`). Empty: <workspace>/jobs.toml."),
    Setting("max_posts", int, 500, "Posts to collect per tracked hashtag per collection."),
    Setting("language", str, "sv", "Language TikTok's web client announces (language=)."),
    Setting("region", str, "SE", "Region TikTok's web client announces (region=)."),
    Setting("web_base_url", str, "https://www.tiktok.com", "Base URL of TikTok's web site and web API."),
    Setting("research_base_url", str, "https://open.tiktokapis.com", "Base URL of TikTok's Research API."),
    Setting("ms_token", str, "", "msToken cookie for the web API; when set, no browser session is needed.", secret=True),
    Setting("research_client_key", str, "", "Research API client key.", secret=True),
    Setting("research_client_secret", str, "", "Research API client secret.", secret=True),
    Setting("chromium_path", str, "/usr/bin/chromium", "Chromium executable for the Playwright session."),
    Setting("proxy", str, "", "Proxy URL for all requests to TikTok (http://, socks5://).", secret=True),
    Setting("requests_per_second", float, 2.0, "Rate limit for requests to TikTok."),
    Setting("concurrency", int, 2, "Requests to TikTok in flight at once."),
    Setting("retries", int, 4, "Retries on 429, 5xx and timeouts, with exponential backoff and jitter."),
    Setting("timeout_seconds", float, 20.0, "Timeout of one request to TikTok."),
    Setting(
        "media_hosts",
        _list,
        ("tiktokcdn.com", "tiktokcdn-us.com", "tiktokcdn-eu.com", "ibyteimg.com", "tiktokv.com", "muscdn.com"),
        "Hosts (and their subdomains) covers and videos may be downloaded from, comma separated.",
    ),
    Setting("media_max_bytes", int, 10_000_000, "Largest cover or video download, in bytes."),
    Setting("ocr_languages", str, "swe+eng", "Tesseract languages for OCR of covers and frames."),
    Setting("keyframes", _bool, False, "Download videos and extract key frames for OCR and image search."),
    Setting("keep_videos", _bool, False, "Keep downloaded videos after key frames are extracted."),
    Setting(
        "ingest_batch_items",
        int,
        40_000,
        "Items per ingest transaction (many raw pages, or part of a large file); "
        "fewer, larger transactions ingest faster and take more memory.",
    ),
    Setting("ingest_memory_limit", str, "1GB", "DuckDB memory limit while ingesting (it streams in batches; empty: DuckDB's default)."),
    Setting(
        "dashboard_editing",
        _bool,
        True,
        "Allow editing the tracked hashtag list from the dashboards (served on another interface than 127.0.0.1: only when set explicitly).",
    ),
    Setting(
        "dashboard_upload_max_bytes",
        int,
        10_000_000,
        "Largest image file the search dashboard takes for search by image, "
        "in bytes; `tiktok-intel dashboards` lets Voilà's websocket carry twice this, so a file up to that size is refused "
        "with a message instead of a lost connection.",
    ),
    Setting("lock_timeout_seconds", float, 600.0, "How long a writer waits for another writer before giving up."),
    Setting("read_wait_seconds", float, 15.0, "How long a read-only open retries while another process holds the database file."),
    Setting(
        "write_wait_seconds",
        float,
        15.0,  # was 0: a command's read (`search --image`, `report`, `status`) holds the file for a moment; a writer outwaits it
        "How long an open for writing retries while a reader holds the database file "
        "(scheduled runs wait 60 s, for themselves and the notebooks they run).",
    ),
    Setting("progress", _bool, True, "Show progress bars (tqdm) for long work; false: quiet."),
    # limits on what comes in, checked before the work; each breach is one reject (or one line) naming the limit
    Setting("max_file_bytes", int, 2_000_000_000, "Largest file `import` reads, in bytes (a larger one is refused with one line)."),
    Setting(
        "max_inflated_bytes",
        int,
        2_000_000_000,
        "Largest a gzip file (a raw page, an import) may inflate to, in bytes; inflated as a stream and stopped at the limit.",
    ),
    Setting("max_nesting_depth", int, 64, "Deepest nesting of JSON arrays and objects a page may have."),
    Setting("max_items_per_page", int, 200_000, "Most items one page (or one file's JSON document) may hold; NDJSON lines count one each."),
    Setting("max_text_chars", int, 100_000, "Longest text field (a description, a name, a hashtag) an item may carry."),
    Setting(
        "plausible_since",
        str,
        "2014-01-01",
        "Earliest plausible creation or collection time (ISO date, UTC); an earlier one is a reject naming the field.",
    ),
    Setting("plausible_ahead_days", float, 2.0, "How far past now a creation or collection time may lie (days); a later one is a reject."),
    Setting(
        "dashboard_max_kernels",
        int,
        12,
        'Most live dashboard kernels (page views) at once; beyond it a page says "busy, try again in a minute".',
    ),
    Setting(
        "frozen_at",
        str,
        "",
        "A fixed time (ISO 8601, UTC) the clock reports instead of now: set by the demo and the tests "
        "for the processes they start (notebook kernels), so a replayed schedule runs at its simulated time.",
    ),
)

_BY_NAME = {s.name: s for s in DECLARED}


class Settings:
    """The resolved values. Attribute access by setting name; ``repr`` hides secrets."""

    def __init__(self, values: Mapping[str, Any]):
        self._values = dict(values)

    def __getattr__(self, name: str) -> Any:
        try:
            return self._values[name]
        except KeyError:
            raise AttributeError(name) from None

    def replace(self, **changes: Any) -> Settings:
        unknown = set(changes) - set(_BY_NAME)
        if unknown:
            raise SettingsError(f"unknown setting(s) {sorted(unknown)}: see `tiktok-intel settings`")
        return Settings({**self._values, **changes})

    @property
    def workspace_path(self) -> Path:
        return Path(self._values["workspace"])

    @property
    def db_target(self) -> str:
        return self._values["db"] or str(self.workspace_path / "tiktok.duckdb")

    @property
    def raw_dir(self) -> Path:
        return self.workspace_path / "raw"

    @property
    def media_dir(self) -> Path:
        return self.workspace_path / "media"

    @property
    def reports_dir(self) -> Path:
        return self.workspace_path / "reports"

    @property
    def jobs_path(self) -> Path:
        return Path(self._values["jobs_file"]) if self._values["jobs_file"] else self.workspace_path / "jobs.toml"

    def secrets(self) -> list[str]:
        """Values of secret settings that are set (for redaction)."""
        return [str(self._values[s.name]) for s in DECLARED if s.secret and self._values[s.name]]

    def public(self) -> dict[str, Any]:
        """Every value, with secrets shown as ``***`` when set."""
        return {s.name: ("***" if s.secret and self._values[s.name] else self._values[s.name]) for s in DECLARED}

    def __repr__(self) -> str:
        return f"Settings({self.public()!r})"


def _read_dotenv(path: Path) -> dict[str, str]:
    if not path.is_file():
        return {}
    from dotenv import dotenv_values

    return {k: v for k, v in dotenv_values(path).items() if v is not None}


def load_settings(environ: Mapping[str, str] | None = None, dotenv: Path | None = Path(".env"), **overrides: Any) -> Settings:
    """Resolve every declared setting: overrides > environment > ``.env`` > default."""
    env = dict(_read_dotenv(dotenv) if dotenv else {})
    env.update(os.environ if environ is None else environ)
    values: dict[str, Any] = {}
    for setting in DECLARED:
        if setting.name in overrides and overrides[setting.name] is not None:
            values[setting.name] = overrides.pop(setting.name)
            continue
        raw = env.get(setting.env)
        if raw is None:
            values[setting.name] = setting.default
            continue
        try:
            values[setting.name] = setting.type(raw)
        except (TypeError, ValueError) as exc:
            shown = "***" if setting.secret else repr(raw)
            raise SettingsError(f"{setting.env}={shown} is not valid ({exc}): fix it in the environment or .env") from None
    if overrides:
        raise SettingsError(f"unknown setting(s) {sorted(overrides)}: see `tiktok-intel settings`")
    return Settings(values)


def live(name: str, environ: Mapping[str, str] | None = None) -> Any:
    """One declared setting read from the environment now (not the cached settings): for the few
    values a parent process hands its children (``progress``, ``frozen_at``). Unset or unreadable:
    the default."""
    setting = _BY_NAME[name]
    raw = (os.environ if environ is None else environ).get(setting.env)
    if raw is None:
        return setting.default
    try:
        return setting.type(raw)
    except (TypeError, ValueError):
        return setting.default


_current: Settings | None = None


def get_settings() -> Settings:
    """The process-wide settings, read on first use."""
    global _current
    if _current is None:
        _current = load_settings()
    return _current


def configure(settings: Settings | None = None, **overrides: Any) -> Settings:
    """Replace the process-wide settings (``None`` and no overrides: read them again on next use)."""
    global _current
    _current = settings.replace(**overrides) if settings is not None else (load_settings(**overrides) if overrides else None)
    return _current  # type: ignore[return-value]


def for_database(db: str | Path) -> dict[str, Any]:
    """Overrides for ``--db PATH``: the database, and, unless a workspace is set explicitly, its folder as workspace."""
    overrides: dict[str, Any] = {"db": str(db)}
    if PREFIX + "WORKSPACE" not in os.environ and not str(db).startswith("ducklake:"):
        overrides["workspace"] = Path(db).parent
    return overrides


def settings_table_markdown() -> str:
    """The settings reference as a Markdown table (README and `tiktok-intel settings --markdown`)."""
    lines = ["| variable | default | what it does |", "|---|---|---|"]
    for s in DECLARED:
        default = ",".join(s.default) if isinstance(s.default, tuple) else s.default
        default = "" if default == "" else f"`{default}`"
        lines.append(f"| `{s.env}` | {default} | {s.help}{' (secret)' if s.secret else ''} |")
    return "\n".join(lines)
