"""The alerts file: rules (what to watch) and channels (where to say it), validated like the jobs
file, one line per problem. ``<workspace>/alerts.toml`` (setting ``alerts_file``)::

    [channels.slack-desk]
    kind = "slack"            # slack | teams | webhook (any URL taking JSON) | email
    # url: from the alert_webhooks setting (slack-desk=https://hooks.slack.com/...), or written here
    [channels.desk-mail]
    kind = "email"
    to = ["desk@example.org"]  # the SMTP server and login come from the smtp_* settings

    [rules.valet-spike]
    kind = "growth"           # growth | removed | duplicates | related | keyword
    entity = "hashtag"        # post | author | hashtag
    metric = "view_count"     # a trend metric of that entity
    window = "1d"             # 1d | 7d | 30d
    by = "change"             # change (default) | growth (%)
    threshold = 1000000
    hashtags = ["valet2026"]  # optional: only these (posts: collected under or tagged with them; "@account", '"keyword"' too)
    channels = ["slack-desk"]

    [rules.gone]
    kind = "removed"          # statuses = ["removed", "private", "region_blocked"] by default
    channels = ["desk-mail"]

    [rules.copies]
    kind = "duplicates"       # a near-identical image posted by min_accounts accounts or more
    min_accounts = 3
    channels = ["slack-desk"]

    [rules.valet-related]
    kind = "related"          # a new rule above min_lift that involves a tracked hashtag
    hashtag = "valet2026"
    min_lift = 2.0
    channels = ["slack-desk"]

    [rules.valfusk]
    kind = "keyword"          # new posts (first collected in the last within_days) whose text matches
    query = "valfusk"
    channels = ["desk-mail"]

Each rule runs after the flow whose data it reads (:data:`AFTER`).
"""

from __future__ import annotations

import dataclasses
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..errors import TikTokIntelError
from ..settings import get_settings

NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
RULE_KINDS = ("growth", "removed", "duplicates", "related", "keyword")
CHANNEL_KINDS = ("slack", "teams", "webhook", "email")
ENTITIES = {"post": "posts", "author": "authors", "hashtag": "hashtags"}
WINDOWS = ("1d", "7d", "30d")
STATUSES = ("removed", "private", "region_blocked")
#: The keys each rule kind takes (besides kind and channels).
RULE_KEYS: dict[str, dict[str, Any]] = {
    "growth": {"entity": "post", "metric": None, "window": "1d", "by": "change", "threshold": None, "hashtags": []},
    "removed": {"statuses": list(STATUSES), "hashtags": []},
    "duplicates": {"min_accounts": 3, "max_distance": 8},
    "related": {"hashtag": None, "min_lift": 2.0},
    "keyword": {"query": None, "within_days": 1},
}
CHANNEL_KEYS = {"slack": {"url"}, "teams": {"url"}, "webhook": {"url"}, "email": {"to", "subject_prefix"}}


class AlertsFileError(TikTokIntelError):
    """The alerts file cannot be read, or names something that does not exist."""


@dataclasses.dataclass(frozen=True)
class Channel:
    name: str
    kind: str
    options: Mapping[str, Any] = dataclasses.field(default_factory=dict)

    def url(self) -> str:
        """The webhook's URL: written in the file, else the ``alert_webhooks`` setting's ``name=URL``."""
        if self.options.get("url"):
            return str(self.options["url"])
        for pair in get_settings().alert_webhooks:
            name, _, url = pair.partition("=")
            if name.strip() == self.name:
                return url.strip()
        return ""

    def describe(self) -> str:
        if self.kind == "email":
            return f"email to {', '.join(self.options.get('to') or []) or '(nobody)'}"
        return f"{self.kind} webhook" + (" (URL from alert_webhooks)" if not self.options.get("url") else " (URL in the file)")


@dataclasses.dataclass(frozen=True)
class Rule:
    name: str
    kind: str
    channels: tuple[str, ...]
    options: Mapping[str, Any] = dataclasses.field(default_factory=dict)

    def get(self, key: str) -> Any:
        return self.options.get(key, RULE_KEYS[self.kind].get(key)) if self.kind in RULE_KEYS else self.options.get(key)

    @property
    def after(self) -> str:
        """The flow whose data the rule reads: it runs after that flow."""
        if self.kind == "growth":
            return {"post": "post-trends", "author": "author-trends", "hashtag": "hashtag-monitoring"}.get(
                self.get("entity"), "post-trends"
            )
        return {"removed": "recheck", "duplicates": "content", "related": "association-rules", "keyword": "content"}.get(self.kind, "")

    def describe(self) -> str:
        o = self.get
        if self.kind == "growth":
            unit = "%" if o("by") == "growth" else ""
            return f"{o('entity')} {o('metric')} {o('by')} over {o('window')} ≥ {o('threshold')}{unit}"
        if self.kind == "removed":
            return "posts that became " + " / ".join(s.replace("_", "-") for s in o("statuses"))
        if self.kind == "duplicates":
            return f"a near-identical image posted by {o('min_accounts')}+ accounts"
        if self.kind == "related":
            return f"a new rule with #{o('hashtag')} at lift ≥ {o('min_lift')}"
        if self.kind == "keyword":
            return f"new posts matching {o('query')!r}"
        return self.kind


@dataclasses.dataclass
class AlertsFile:
    path: Path
    rules: list[Rule]
    channels: dict[str, Channel]

    def problems(self) -> dict[str, list[str]]:
        """Each rule's and channel's problems, one line each (``rule NAME`` / ``channel NAME``)."""
        found: dict[str, list[str]] = {}
        for channel in self.channels.values():
            found[f"channel {channel.name}"] = channel_problems(channel)
        for rule in self.rules:
            found[f"rule {rule.name}"] = rule_problems(rule, self.channels)
        return found

    def valid_rules(self) -> list[Rule]:
        problems = self.problems()
        return [r for r in self.rules if not problems[f"rule {r.name}"] and not any(problems[f"channel {c}"] for c in r.channels)]


def alerts_path(settings=None) -> Path:
    """The alerts file (setting ``alerts_file``; default ``<workspace>/alerts.toml``)."""
    settings = settings or get_settings()
    return Path(settings.alerts_file) if settings.alerts_file else settings.workspace_path / "alerts.toml"


def load(path: Path | None = None) -> AlertsFile:
    """The rules and channels in the file (none when there is no file); :class:`AlertsFileError`
    when it is not TOML or its sections are not tables."""
    path = Path(path or alerts_path())
    if not path.is_file():
        return AlertsFile(path, [], {})
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise AlertsFileError(f"{path} is not valid TOML ({exc}): fix it, then check it with `tiktok-intel alerts list`") from None
    except OSError as exc:
        raise AlertsFileError(f"{path} cannot be read ({exc.strerror}): check its permissions") from None
    unknown = sorted(set(document) - {"rules", "channels"})
    if unknown:
        raise AlertsFileError(f"{path}: unknown section(s) {', '.join(unknown)}: write [rules.NAME] and [channels.NAME] tables")
    channels: dict[str, Channel] = {}
    for name, entry in (document.get("channels") or {}).items():
        if not isinstance(entry, dict):
            raise AlertsFileError(f"{path}: channels.{name} is not a table: write it as [channels.{name}] with kind")
        channels[str(name)] = Channel(str(name), str(entry.get("kind", "")), {k: v for k, v in entry.items() if k != "kind"})
    rules: list[Rule] = []
    for name, entry in (document.get("rules") or {}).items():
        if not isinstance(entry, dict):
            raise AlertsFileError(f"{path}: rules.{name} is not a table: write it as [rules.{name}] with kind and channels")
        wanted = entry.get("channels", [])
        wanted = [wanted] if isinstance(wanted, str) else wanted
        rules.append(
            Rule(
                str(name),
                str(entry.get("kind", "")),
                tuple(str(c) for c in (wanted if isinstance(wanted, list) else [])),
                {k: v for k, v in entry.items() if k not in ("kind", "channels")},
            )
        )
    return AlertsFile(path, rules, channels)


def channel_problems(channel: Channel) -> list[str]:
    found = []
    if not NAME.match(channel.name):
        found.append(f"name {channel.name!r} is not valid: use lower-case letters, digits and hyphens, like slack-desk")
    if channel.kind not in CHANNEL_KINDS:
        found.append(f"kind {channel.kind!r} is not one of {', '.join(CHANNEL_KINDS)}")
        return found
    unknown = sorted(set(channel.options) - CHANNEL_KEYS[channel.kind])
    if unknown:
        found.append(f"unknown key(s) {', '.join(unknown)}: a {channel.kind} channel takes {', '.join(sorted(CHANNEL_KEYS[channel.kind]))}")
    if channel.kind == "email":
        to = channel.options.get("to")
        if not isinstance(to, list) or not to or not all(isinstance(t, str) and "@" in t for t in to):
            found.append('to must list the addresses, like to = ["desk@example.org"]')
        settings = get_settings()
        if not settings.smtp_host:
            found.append("no SMTP server: set TIKTOK_INTEL_SMTP_HOST (and _PORT, _USER, _PASSWORD, _FROM) in the environment or .env")
        elif not settings.smtp_from:
            found.append("no sender: set TIKTOK_INTEL_SMTP_FROM")
    else:
        url = channel.url()
        if not url:
            found.append(f"no URL: add {channel.name}=https://... to TIKTOK_INTEL_ALERT_WEBHOOKS (or url = ... here)")
        elif not re.match(r"^https?://[^/\s]+", url):
            found.append("its URL is not an http(s) address")
    return found


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def rule_problems(rule: Rule, channels: Mapping[str, Channel]) -> list[str]:
    from ..analyses import trends

    found = []
    if not NAME.match(rule.name):
        found.append(f"name {rule.name!r} is not valid: use lower-case letters, digits and hyphens, like valet-spike")
    if rule.kind not in RULE_KINDS:
        found.append(f"kind {rule.kind!r} is not one of {', '.join(RULE_KINDS)}")
        return found
    unknown = sorted(set(rule.options) - set(RULE_KEYS[rule.kind]))
    if unknown:
        found.append(f"unknown key(s) {', '.join(unknown)}: a {rule.kind} rule takes {', '.join(RULE_KEYS[rule.kind]) or 'only channels'}")
    if not rule.channels:
        found.append('no channels: add channels = ["NAME"], naming [channels.NAME] tables')
    for name in rule.channels:
        if name not in channels:
            found.append(f"channel {name!r} is not defined: add a [channels.{name}] table")
    o = rule.get
    if rule.kind == "growth":
        entity = o("entity")
        if entity not in ENTITIES:
            found.append(f"entity {entity!r} is not one of {', '.join(ENTITIES)}")
        else:
            metrics = trends.METRICS[ENTITIES[entity]]
            if o("metric") is None:
                found.append(f"no metric: use one of {', '.join(metrics)}")
            elif o("metric") not in metrics:
                found.append(f"metric {o('metric')!r} is not a {entity} metric: use one of {', '.join(metrics)}")
        if o("window") not in WINDOWS:
            found.append(f"window {o('window')!r} is not one of {', '.join(WINDOWS)}")
        if o("by") not in ("change", "growth"):
            found.append(f"by {o('by')!r} is not change or growth")
        if not _number(o("threshold")):
            found.append('threshold must be a number, like threshold = 10000 (or 50 for 50 % with by = "growth")')
    if rule.kind in ("growth", "removed") and not (isinstance(o("hashtags"), list) and all(isinstance(h, str) for h in o("hashtags"))):
        found.append('hashtags must be a list of names, like hashtags = ["valet2026"]')
    if rule.kind == "removed":
        statuses = o("statuses")
        if not isinstance(statuses, list) or not statuses or set(statuses) - set(STATUSES):
            found.append(f"statuses must list some of {', '.join(STATUSES)}")
    if rule.kind == "duplicates":
        if not isinstance(o("min_accounts"), int) or o("min_accounts") < 2:
            found.append("min_accounts must be a whole number from 2 up")
        if not isinstance(o("max_distance"), int) or not 0 <= o("max_distance") <= 32:
            found.append("max_distance must be a whole number of bits from 0 to 32")
    if rule.kind == "related":
        if not isinstance(o("hashtag"), str) or not o("hashtag").strip("# "):
            found.append('hashtag must name a tracked hashtag, like hashtag = "valet2026"')
        if not _number(o("min_lift")) or o("min_lift") <= 0:
            found.append("min_lift must be a positive number, like min_lift = 2.0")
    if rule.kind == "keyword":
        if not isinstance(o("query"), str) or not o("query").strip():
            found.append('query must be the words to find, like query = "valfusk"')
        if not _number(o("within_days")) or o("within_days") <= 0:
            found.append("within_days must be a positive number of days")
    return found
