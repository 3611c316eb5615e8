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


def _optional_int(text: str) -> int | None:
    if not text.strip():
        return None
    value = int(text)
    if value < 0:
        raise ValueError("not a number of days (0 or more)")
    return value


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
    Setting(
        "timezone",
        str,
        "Europe/Stockholm",
        "Time zone for people: the schedules are written in it, every time shown (dashboards, CLI tables, reports, "
        "exports' local columns) is in it and labelled, and days named or grouped (--since/--until, From/To, day/week/month "
        "buckets) are its days. The store stays UTC.",
    ),
    Setting(
        "ui_language",
        str,
        "sv",
        "Language of the dashboards' labels, messages, numbers and dates: sv or en (a page's ?lang=en overrides it for that view).",
    ),
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
    Setting("download_videos", _bool, True, "Download each collected post's video (and slides and captions) while collecting."),
    Setting("video_max_bytes", int, 100_000_000, "Largest video download, in bytes (a larger one is a counted failure, not retried)."),
    Setting(
        "keep_videos_days",
        _optional_int,
        None,
        "Days a downloaded video is kept (its key frames, transcript and hashes stay); empty: kept for good; 0: removed once processed.",
    ),
    Setting(
        "whisper_model",
        str,
        "",
        "Local speech-to-text for videos TikTok has no captions for (pip install 'tiktok-intel[speech]'): a faster-whisper "
        "model size (tiny, base, small, ...; fetched on first use into <workspace>/models/) or a model folder; empty: off.",
    ),
    Setting(
        "clip_model",
        str,
        "",
        "Folder of a CLIP model copy for search by meaning (visual/, textual/, config.json). Empty: <workspace>/models/, "
        "where `tiktok-intel models fetch` puts the default.",
    ),
    Setting("embed_batch", int, 16, "Images the media step embeds at once for search by meaning."),
    Setting(
        "embed_max_per_run",
        int,
        5000,
        "Most images one media step embeds (a new model re-embeds the rest over the next runs); 0: no limit.",
    ),
    Setting(
        "semantic_exact_max",
        int,
        200_000,
        "Up to this many image vectors, search by meaning compares with every one (exact); above, it uses a PQ fast-scan index (faiss) and re-ranks exactly.",
    ),
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
        "dashboard_table_library",
        str,
        "",
        "Set by `tiktok-intel dashboards` for its kernels, not by hand: the path (under the server's base URL) where it "
        "serves the interactive tables' library, which each page then loads once; empty: every table carries its own copy.",
    ),
    Setting(
        "frozen_at",
        str,
        "",
        "A fixed time (ISO 8601, UTC) the clock reports instead of now: set by the demo and the tests "
        "for the processes they start (notebook kernels), so a replayed schedule runs at its simulated time.",
    ),
    Setting("comments_per_post", int, 100, "Top comments to collect per post of a tracked item each collection (0: no comments)."),
    Setting("comment_replies_above", int, 5, "Collect the replies of comments with more replies than this (-1: never)."),
    Setting("recheck_days", int, 7, "`recheck` asks TikTok about the posts collected in the last N days."),
    Setting("recheck_max_posts", int, 500, "Most posts one `recheck` asks about (most recently active first)."),
    Setting("alerts_file", str, "", "Your alert rules and channels (`tiktok-intel alerts list`). Empty: <workspace>/alerts.toml."),
    Setting(
        "alert_webhooks",
        _list,
        (),
        "Webhook URLs of the alert channels, as name=URL pairs separated by commas (they carry tokens).",
        secret=True,
    ),
    Setting("smtp_host", str, "", "SMTP server for email alerts (empty: no email)."),
    Setting("smtp_port", int, 587, "SMTP server port."),
    Setting("smtp_starttls", _bool, True, "Upgrade the SMTP connection with STARTTLS (refuse to send without it)."),
    Setting("smtp_user", str, "", "SMTP user name (empty: no login).", secret=True),
    Setting("smtp_password", str, "", "SMTP password.", secret=True),
    Setting("smtp_from", str, "", "Sender address of email alerts."),
    Setting("smtp_ca_file", str, "", "CA certificate(s) to verify the SMTP server with (empty: the system's)."),
    # scaling out (docs/scaling.md): a shared raw store, DuckLake data in object storage, several writers
    Setting(
        "raw_url",
        str,
        "",
        "Shared raw store every collector and writer sees (an fsspec URL: s3://bucket/raw, or a folder): each raw page "
        "written is also put there, and ingest first fetches the pages others put there. Empty: the workspace's raw/ only.",
    ),
    Setting(
        "ducklake_data_path",
        str,
        "",
        "Where a DuckLake store created now keeps its Parquet files (s3://bucket/lake/ or a folder); needed for a "
        "PostgreSQL catalog. Empty: beside a file catalog.",
    ),
    Setting("s3_endpoint", str, "", "S3-compatible endpoint (http://host:port for MinIO and the like). Empty: AWS."),
    Setting("s3_region", str, "us-east-1", "S3 region of the raw store and the DuckLake data."),
    Setting("s3_key_id", str, "", "S3 access key id for the raw store and the DuckLake data.", secret=True),
    Setting("s3_secret", str, "", "S3 secret access key for the raw store and the DuckLake data.", secret=True),
    Setting(
        "lake_conflict_retries",
        int,
        20,
        "Times a write that lost a DuckLake transaction conflict to another writer is tried again (exponential backoff with jitter).",
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
        found = []
        for s in DECLARED:
            value = self._values[s.name]
            if s.secret and value:
                if isinstance(value, tuple):  # a list of name=value pairs (alert_webhooks): each value, and each pair
                    found += [str(v) for part in value for v in (part, part.split("=", 1)[-1]) if v]
                else:
                    found.append(str(value))
        return found

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


def env_name(name: str) -> str:
    """The environment variable of the declared setting ``name`` (``TIKTOK_INTEL_<NAME>``)."""
    return _BY_NAME[name].env


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
