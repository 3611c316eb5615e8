"""Alerts: the rules of the alerts file (:mod:`.rules`) checked after the flow whose data each
reads, one digest per rule and run through its channels (:mod:`.channels`).

- An item alerts once per rule until its state changes (``alert_state``): a post that stays removed
  is said once; one that falls back under a growth threshold and rises again is said again.
- Every digest is a row in ``alert_deliveries`` per channel before it is sent; a delivery that
  fails stays ``failed`` with its one-line reason (secrets removed), is tried again at the start of
  the next run (up to :data:`MAX_ATTEMPTS`), and shows on the Overview dashboard.
- The store is closed while messages are sent (a slow SMTP server holds no lock).

:func:`after_flow` is what the flows (``flows/_common``), ``tiktok-intel recheck`` and the demo's
replay call; :func:`send_sample` is ``tiktok-intel alerts test``.
"""

from __future__ import annotations

import dataclasses
import json
import uuid
from typing import Any

import duckdb
import pandas as pd

from .. import clock
from ..raw import redact
from .channels import DeliveryError, secrets, send
from .evaluate import Item, evaluate
from .rules import AlertsFile, AlertsFileError, Channel, Rule, alerts_path, channel_problems, load

__all__ = ["AlertsFile", "AlertsFileError", "AlertsRun", "Channel", "DeliveryError", "Rule", "after_flow", "alerts_path", "load"]

#: Items listed in one digest (the rest are counted).
DIGEST_ITEMS = 50
#: Tries of a delivery before it is left failed.
MAX_ATTEMPTS = 10


@dataclasses.dataclass
class AlertsRun:
    flow: str
    rules: int = 0
    digests: int = 0
    items: int = 0
    sent: int = 0
    failed: int = 0
    retried: int = 0
    notes: list[str] = dataclasses.field(default_factory=list)

    def counts(self) -> dict[str, int]:
        return {"rules": self.rules, "digests": self.digests, "items": self.items, "sent": self.sent, "failed": self.failed}

    def summary(self) -> str:
        if not self.rules and not self.retried:
            return "; ".join(self.notes) or f"no alert rule reads {self.flow}'s data"
        line = f"alerts after {self.flow}: {self.rules} rule{'s' if self.rules != 1 else ''}, {self.digests} digest(s) with {self.items} item(s)"
        line += f", {self.sent} sent" + (f", {self.failed} failed (tried again next run)" if self.failed else "")
        if self.retried:
            line += f", {self.retried} earlier failure(s) retried"
        return "; ".join([line, *self.notes])


def _digest(rule: Rule, items: list[Item], flow: str) -> dict[str, Any]:
    shown = items[:DIGEST_ITEMS]
    noun = "item" if len(items) == 1 else "items"
    return {
        "rule": rule.name,
        "kind": rule.kind,
        "flow": flow,
        "at": clock.now().replace(microsecond=0).isoformat(),
        "subject": f"{rule.name}: {len(items)} new {noun} ({rule.describe()})",
        "items": [{"key": i.key, "state": i.state, "line": i.line, "link": i.link, "numbers": i.numbers} for i in shown],
        "more": len(items) - len(shown),
    }


def _new_items(con: duckdb.DuckDBPyConnection, rule: Rule, items: list[Item]) -> list[Item]:
    """The items whose state is new for the rule; the state table updated (items no longer found
    become ``clear``, so they alert again when they come back)."""
    now = clock.now()
    stored = dict(con.execute("SELECT item, state FROM alert_state WHERE rule = ?", [rule.name]).fetchall())
    current = {i.key: i for i in items}
    new = [i for i in current.values() if stored.get(i.key) != i.state]
    cleared = [k for k, s in stored.items() if k not in current and s != "clear"]
    changed = [(i.key, i.state) for i in new] + [(k, "clear") for k in cleared]
    if changed:
        con.executemany("DELETE FROM alert_state WHERE rule = ? AND item = ?", [(rule.name, k) for k, _ in changed])
        con.executemany("INSERT INTO alert_state VALUES (?, ?, ?, ?)", [(rule.name, k, s, now) for k, s in changed])
    return new


def _queue(con: duckdb.DuckDBPyConnection, rule: Rule, digest: dict[str, Any]) -> list[str]:
    now = clock.now()
    body = json.dumps(redact(digest, secrets()), ensure_ascii=False, default=str)
    ids = []
    for channel in rule.channels:
        delivery = uuid.uuid4().hex
        con.execute(
            "INSERT INTO alert_deliveries VALUES (?, ?, ?, ?, ?, ?, ?, 'pending', 0, NULL, NULL)",
            [delivery, rule.name, channel, now, redact(digest["subject"], secrets()), body, len(digest["items"]) + digest["more"]],
        )
        ids.append(delivery)
    return ids


def _deliver(workspace, file: AlertsFile, ids: list[str], run: AlertsRun) -> None:
    """Send the deliveries ``ids`` with the store closed, then record how each went."""
    if not ids:
        return
    with workspace.connection() as con:
        rows = con.execute(
            "SELECT delivery_id, channel, body FROM alert_deliveries WHERE delivery_id IN (SELECT unnest(?))", [ids]
        ).fetchall()
    outcomes = []
    for delivery, name, body in rows:
        channel = file.channels.get(name)
        try:
            if channel is None:
                raise DeliveryError(f"channel {name!r} is no longer in {file.path}: add it back, or drop it from the rule")
            send(channel, json.loads(body))
        except DeliveryError as exc:
            outcomes.append((delivery, "failed", redact(str(exc), secrets(channel))))
            run.failed += 1
        except Exception as exc:  # noqa: BLE001 - a channel's surprise must not fail the flow that ran
            outcomes.append((delivery, "failed", redact(f"{type(exc).__name__}: {exc}", secrets(channel))[:300]))
            run.failed += 1
        else:
            outcomes.append((delivery, "sent", None))
            run.sent += 1
    now = clock.now()
    with workspace.connection() as con:
        for delivery, status, error in outcomes:
            con.execute(
                """UPDATE alert_deliveries SET status = ?, attempts = attempts + 1, last_error = ?,
                   sent_at = CASE WHEN ? = 'sent' THEN ? END WHERE delivery_id = ?""",
                [status, error, status, now, delivery],
            )


def after_flow(workspace, flow: str, *, path=None) -> AlertsRun:
    """Retry the deliveries that failed before, then check the valid rules that read ``flow``'s
    data and send one digest per rule with new items. Never raises for a bad file or a channel
    that fails: the returned run says so in one line."""
    run = AlertsRun(flow)
    try:
        file = load(path or alerts_path(getattr(workspace, "settings", None)))
    except AlertsFileError as exc:
        run.notes.append(f"alerts skipped: {exc}")
        return run
    if not file.rules:
        return run
    problems = file.problems()
    broken = [k for k, v in problems.items() if v]
    if broken:
        run.notes.append(f"alerts skip {', '.join(broken)} (see `tiktok-intel alerts list`)")
    rules = [r for r in file.valid_rules() if r.after == flow]
    ids: list[str] = []
    with workspace.connection() as con:
        retry = [
            r[0]
            for r in con.execute(
                "SELECT delivery_id FROM alert_deliveries WHERE status IN ('failed', 'pending') AND attempts < ? ORDER BY created_at",
                [MAX_ATTEMPTS],
            ).fetchall()
        ]
        run.retried = len(retry)
        for rule in rules:
            run.rules += 1
            try:
                new = _new_items(con, rule, evaluate(con, rule))
            except Exception as exc:  # noqa: BLE001 - one rule's failure must not stop the others, nor the flow
                run.notes.append(f"rule {rule.name} failed: {redact(' '.join(str(exc).split()), secrets())[:200]}")
                continue
            if new:
                run.digests += 1
                run.items += len(new)
                ids += _queue(con, rule, _digest(rule, new, flow))
    _deliver(workspace, file, retry + ids, run)
    return run


def send_sample(name: str, path=None) -> list[str]:
    """Send a sample digest through the channel ``name`` (or through each channel of the rule
    ``name``); one line per channel. Raises :class:`DeliveryError` for the first that fails."""
    file = load(path)
    if name in file.channels:
        channels = [file.channels[name]]
    elif any(r.name == name for r in file.rules):
        rule = next(r for r in file.rules if r.name == name)
        missing = [c for c in rule.channels if c not in file.channels]
        if missing:
            raise AlertsFileError(f"rule {name} names channel(s) {', '.join(missing)} that {file.path} does not define")
        channels = [file.channels[c] for c in rule.channels]
    else:
        known = ", ".join([*file.channels, *(r.name for r in file.rules)]) or "none yet"
        raise AlertsFileError(f"no channel or rule {name!r} in {file.path} (known: {known}): see `tiktok-intel alerts list`")
    lines = []
    for channel in channels:
        problems = channel_problems(channel)
        if problems:
            raise AlertsFileError(f"channel {channel.name}: {'; '.join(problems)}")
        digest = {
            "rule": "sample",
            "kind": "test",
            "flow": "alerts test",
            "at": clock.now().replace(microsecond=0).isoformat(),
            "subject": f"tiktok-intel test message for {channel.name}",
            "items": [
                {
                    "key": "sample",
                    "state": "test",
                    "line": "#valet2026: view_count 12,345,678 (+1,234,567 in 1d, +11.1%) — a sample, no real data",
                    "link": "https://www.tiktok.com/tag/valet2026",
                    "numbers": {"view_count": 12345678, "view_count_change_1d": 1234567},
                }
            ],
            "more": 0,
        }
        send(channel, digest)
        lines.append(f"sent a test message through {channel.name} ({channel.describe()})")
    return lines


def table(path=None) -> pd.DataFrame:
    """The channels and rules of the alerts file with what each does and its problems."""
    file = load(path)
    problems = file.problems()
    rows = [
        {
            "name": c.name,
            "what": "channel",
            "kind": c.kind,
            "does": c.describe(),
            "after": "",
            "problems": "; ".join(problems[f"channel {c.name}"]),
        }
        for c in file.channels.values()
    ]
    rows += [
        {
            "name": r.name,
            "what": "rule",
            "kind": r.kind,
            "does": f"{r.describe()} -> {', '.join(r.channels) or '(no channel)'}",
            "after": r.after,
            "problems": "; ".join(problems[f"rule {r.name}"]),
        }
        for r in file.rules
    ]
    return pd.DataFrame(rows, columns=["name", "what", "kind", "does", "after", "problems"])


def deliveries(con: duckdb.DuckDBPyConnection, *, failed_only: bool = False, limit: int = 20) -> pd.DataFrame:
    """The latest deliveries (or those not sent), newest first."""
    where = "WHERE status <> 'sent'" if failed_only else ""
    return con.execute(
        f"""SELECT created_at, rule, channel, subject, items, status, attempts, last_error, sent_at
            FROM alert_deliveries {where} ORDER BY created_at DESC, delivery_id LIMIT ?""",
        [int(limit)],
    ).df()
