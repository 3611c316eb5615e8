"""Alerts: the rules file validated one line per problem; each kind; one digest per rule and run;
an item alerts once until its state changes; webhooks (a local HTTP listener) and email (a local
SMTP server with STARTTLS and a self-signed certificate made here); failures retried next run;
secrets never in messages, records or errors."""

from __future__ import annotations

import datetime as dt
import json
import socket
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from test_search_images import add_image
from test_search_text import add_posts

from tiktok_intel import alerts, clock
from tiktok_intel import settings as settings_module
from tiktok_intel.analyses import trends
from tiktok_intel.cli import main
from tiktok_intel.collect.recheck import record
from tiktok_intel.search.samples import make_cover, near_duplicate
from tiktok_intel.store import Workspace

T = dt.datetime(2026, 11, 20, 8, 0)
TOKEN = "T0KEN-hooks-9f8e7d"
PASSWORD = "smtp-pa55-word-31"


class Listener:
    """A local HTTP endpoint taking JSON posts; answers ``status`` (a list: one per request, then 200)."""

    def __init__(self):
        self.received: list[tuple[str, dict]] = []
        self.statuses: list[int] = []
        listener = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                listener.received.append((self.path, json.loads(body)))
                status = listener.statuses.pop(0) if listener.statuses else 200
                self.send_response(status)
                self.end_headers()
                self.wfile.write(b"ok" if status == 200 else b"nope")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def hook():
    listener = Listener()
    yield listener
    listener.close()


@pytest.fixture
def ws(workspace, hook):
    settings_module.configure(workspace, alert_webhooks=(f"slack-desk={hook.url}/services/{TOKEN}",))
    return Workspace.current()


def write_alerts(ws, text: str) -> None:
    ws.settings.workspace_path.mkdir(parents=True, exist_ok=True)
    (ws.settings.workspace_path / "alerts.toml").write_text(text, encoding="utf-8")


CHANNELS = """
[channels.slack-desk]
kind = "slack"
[channels.any-json]
kind = "webhook"
url = "{url}/json"
"""


def test_a_bad_file_gives_one_line_per_problem(ws, capsys):
    write_alerts(
        ws,
        """
[channels.Bad_Name]
kind = "pigeon"
[channels.mail]
kind = "email"
to = "desk"
[rules.spike]
kind = "growth"
entity = "hashtag"
metric = "likes"
window = "2d"
threshold = "lots"
channels = ["nowhere"]
[rules.ok]
kind = "removed"
channels = ["mail"]
""",
    )
    problems = alerts.load().problems()
    assert problems["channel Bad_Name"] == [
        "name 'Bad_Name' is not valid: use lower-case letters, digits and hyphens, like slack-desk",
        "kind 'pigeon' is not one of slack, teams, webhook, email",
    ]
    assert any("to must list the addresses" in p for p in problems["channel mail"])
    assert any("TIKTOK_INTEL_SMTP_HOST" in p for p in problems["channel mail"])
    spike = problems["rule spike"]
    assert len(spike) == 4 and any("not a hashtag metric" in p for p in spike) and any("window '2d'" in p for p in spike)
    assert any("channel 'nowhere' is not defined" in p for p in spike) and any("threshold must be a number" in p for p in spike)
    assert problems["rule ok"] == [] and alerts.load().valid_rules() == []  # its channel has problems
    assert main(["--db", ws.db_target, "alerts", "list"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 8 and all(line.startswith("tiktok-intel: ") and "\n" not in line for line in err)
    write_alerts(ws, "[rules\n")
    assert main(["--db", ws.db_target, "alerts", "list"]) == 1
    assert "is not valid TOML" in capsys.readouterr().err
    assert alerts.after_flow(ws, "recheck").notes[0].startswith("alerts skipped:")


def _gone(ws, answers, at):
    with ws.connection() as con:
        record(con, answers, at=at)


def test_removed_alerts_once_until_the_state_changes(ws, hook, con):
    add_posts(con, [{"post_id": p, "author": "svt", "views": 1000 * int(p), "description": f"Post {p}"} for p in ("1", "2", "3")])
    con.close()
    write_alerts(ws, CHANNELS.format(url=hook.url) + '[rules.gone]\nkind = "removed"\nchannels = ["slack-desk", "any-json"]\n')
    _gone(ws, [("1", "available", ""), ("2", "removed", "statusCode 10204"), ("3", "available", "")], T)
    with clock.frozen(T):
        run = alerts.after_flow(ws, "recheck")
    assert (run.rules, run.digests, run.items, run.sent, run.failed) == (1, 1, 1, 2, 0), run.summary()
    assert alerts.after_flow(ws, "content").rules == 0  # the rule reads the recheck's data only
    (slack_path, slack), (json_path, digest) = hook.received
    assert slack_path == f"/services/{TOKEN}" and json_path == "/json"
    assert "https://www.tiktok.com/@svt/video/2" in slack["text"] and "2,000 views" in slack["text"]
    assert digest["rule"] == "gone" and [i["key"] for i in digest["items"]] == ["2"]
    assert digest["items"][0]["numbers"]["status"] == "removed" and digest["items"][0]["link"].endswith("/video/2")
    with clock.frozen(T + dt.timedelta(hours=6)):
        again = alerts.after_flow(ws, "recheck")
    assert again.digests == 0 and len(hook.received) == 2  # still removed: said once
    _gone(ws, [("2", "private", "statusCode 10216"), ("3", "region_blocked", "statusCode 10219")], T + dt.timedelta(hours=12))
    with clock.frozen(T + dt.timedelta(hours=12)):
        third = alerts.after_flow(ws, "recheck")
    assert third.digests == 1 and third.items == 2  # one digest for the rule and run, both changes in it
    assert sorted(i["key"] for i in hook.received[-1][1]["items"]) == ["2", "3"]
    with ws.connection() as con:
        rows = con.execute("SELECT body, subject, last_error FROM alert_deliveries").fetchall()
    assert len(rows) == 4 and not any(TOKEN in str(r) for r in rows)


def test_growth_above_a_threshold_alerts_with_the_numbers(ws, hook, con):
    add_posts(con, [{"post_id": "7", "author": "ana", "views": 100}, {"post_id": "8", "author": "bo", "views": 100}])
    for day, views in ((0, 100), (1, 5000)):
        con.execute("INSERT INTO post_stats VALUES ('7', ?, ?, 1, 1, 1, 1)", [T + dt.timedelta(days=day), views])
        con.execute("INSERT INTO post_stats VALUES ('8', ?, ?, 1, 1, 1, 1)", [T + dt.timedelta(days=day), 150])
    trends.refresh_post_trends(con, full=True)
    con.close()
    write_alerts(
        ws,
        CHANNELS.format(url=hook.url)
        + '[rules.spike]\nkind = "growth"\nentity = "post"\nmetric = "views"\nwindow = "1d"\nthreshold = 1000\nchannels = ["any-json"]\n',
    )
    run = alerts.after_flow(ws, "post-trends")
    assert run.items == 1
    [(_, digest)] = hook.received
    [item] = digest["items"]
    assert item["key"] == "7" and item["numbers"]["views_change_1d"] == 4900 and "+4,900 in 1d" in item["line"]
    assert item["link"] == "https://www.tiktok.com/@ana/video/7"
    assert alerts.after_flow(ws, "post-trends").items == 0


def test_duplicates_and_keyword_rules(ws, hook, con):
    original = make_cover(3, "Valfusk?")
    add_posts(
        con,
        [
            {"post_id": "1", "author": "a1", "description": "Valfusk i Malmö? #val2026", "created_at": T},
            {"post_id": "2", "author": "a2", "description": "kopia", "created_at": T},
            {"post_id": "3", "author": "a3", "description": "kopia", "created_at": T},
        ],
        collected_at=T,
    )
    for post_id, how in (("1", None), ("2", "jpeg"), ("3", "resize")):
        add_image(con, ws.settings, post_id, original if how is None else near_duplicate(original, how))
    con.close()
    write_alerts(
        ws,
        CHANNELS.format(url=hook.url)
        + '[rules.copies]\nkind = "duplicates"\nmin_accounts = 3\nchannels = ["any-json"]\n'
        + '[rules.fusk]\nkind = "keyword"\nquery = "valfusk #val2026"\nchannels = ["any-json"]\n',
    )
    with clock.frozen(T + dt.timedelta(hours=2)):
        run = alerts.after_flow(ws, "content")  # covers are hashed by the rule itself
    assert run.digests == 2, run.summary()
    digests = {d["rule"]: d for _, d in hook.received}
    assert digests["copies"]["items"][0]["numbers"] == {"posts": 3, "accounts": 3}
    assert "posted 3 times by 3 accounts" in digests["copies"]["items"][0]["line"]
    assert [i["key"] for i in digests["fusk"]["items"]] == ["1"]


def test_a_failed_delivery_is_shown_and_retried_next_run(ws, hook, con):
    add_posts(con, [{"post_id": "5", "author": "x"}])
    con.close()
    write_alerts(ws, CHANNELS.format(url=hook.url) + '[rules.gone]\nkind = "removed"\nchannels = ["slack-desk"]\n')
    _gone(ws, [("5", "removed", "statusCode 10204")], T)
    hook.statuses = [500]
    first = alerts.after_flow(ws, "recheck")
    assert first.failed == 1 and "tried again next run" in first.summary()
    with ws.connection() as con:
        failed = alerts.deliveries(con, failed_only=True)
    assert failed["last_error"].tolist() == ["slack webhook slack-desk answered HTTP 500: nope"]
    assert TOKEN not in str(failed.to_dict())
    second = alerts.after_flow(ws, "post-trends")  # any later run retries it
    assert second.retried == 1 and second.sent == 1
    assert len(hook.received) == 2 and hook.received[0][1] == hook.received[1][1]  # the same digest
    with ws.connection() as con:
        assert alerts.deliveries(con, failed_only=True).empty


def test_an_unreachable_webhook_fails_in_one_line_without_its_token(ws, con):
    add_posts(con, [{"post_id": "5", "author": "x"}])
    con.close()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead = s.getsockname()[1]
    settings_module.configure(settings_module.get_settings(), alert_webhooks=(f"slack-desk=http://127.0.0.1:{dead}/services/{TOKEN}",))
    ws = Workspace.current()
    write_alerts(ws, '[channels.slack-desk]\nkind = "slack"\n[rules.gone]\nkind = "removed"\nchannels = ["slack-desk"]\n')
    _gone(ws, [("5", "removed", "")], T)
    run = alerts.after_flow(ws, "recheck")
    assert run.failed == 1
    with ws.connection() as con:
        [(error,)] = con.execute("SELECT last_error FROM alert_deliveries").fetchall()
    assert error.startswith("slack webhook slack-desk unreachable") and TOKEN not in error and "\n" not in error


def test_alerts_test_sends_a_sample_through_one_channel(ws, hook, capsys, monkeypatch):
    monkeypatch.setenv("TIKTOK_INTEL_ALERT_WEBHOOKS", f"slack-desk={hook.url}/services/{TOKEN}")
    write_alerts(ws, CHANNELS.format(url=hook.url) + '[channels.teams]\nkind = "teams"\nurl = "' + hook.url + '/teams"\n')
    assert main(["--db", ws.db_target, "alerts", "test", "slack-desk"]) == 0
    assert "sent a test message through slack-desk" in capsys.readouterr().err
    assert main(["--db", ws.db_target, "alerts", "test", "teams"]) == 0
    (_, slack), (_, teams) = hook.received
    assert "tiktok-intel test message" in slack["text"] and teams["@type"] == "MessageCard" and "tiktok.com/tag" in teams["text"]
    assert main(["--db", ws.db_target, "alerts", "test", "nope"]) == 1
    assert "no channel or rule 'nope'" in capsys.readouterr().err


# ------------------------------------------------------------------------------------ email


def self_signed(tmp_path):
    """A certificate for 127.0.0.1 signed by itself, made here (and its key)."""
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    return cert_path, key_path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp(tmp_path):
    """A local SMTP server that requires STARTTLS and a login; what it received."""
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult, LoginPassword

    cert, key = self_signed(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    received = []

    class Handler:
        async def handle_DATA(self, server, session, envelope):
            received.append({"to": envelope.rcpt_tos, "data": envelope.content.decode("utf-8"), "tls": session.ssl is not None})
            return "250 OK"

    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = isinstance(auth_data, LoginPassword) and auth_data.login == b"desk" and auth_data.password == PASSWORD.encode()
        return AuthResult(success=ok)

    controller = Controller(
        Handler(),
        hostname="127.0.0.1",
        port=free_port(),
        tls_context=context,
        require_starttls=True,
        authenticator=authenticator,
        auth_require_tls=True,
    )
    controller.start()
    yield {"port": controller.port, "cert": cert, "received": received}
    controller.stop()


def test_email_goes_out_over_starttls_with_a_login_from_the_environment(ws, smtp, con):
    add_posts(con, [{"post_id": "9", "author": "svt", "views": 42, "description": "Borttaget klipp"}])
    con.close()
    settings_module.configure(
        settings_module.get_settings(),
        smtp_host="127.0.0.1",
        smtp_port=smtp["port"],
        smtp_user="desk",
        smtp_password=PASSWORD,
        smtp_from="tiktok-intel@example.org",
        smtp_ca_file=str(smtp["cert"]),
    )
    ws = Workspace.current()
    write_alerts(ws, '[channels.mail]\nkind = "email"\nto = ["desk@example.org"]\n[rules.gone]\nkind = "removed"\nchannels = ["mail"]\n')
    assert alerts.load().problems() == {"channel mail": [], "rule gone": []}
    _gone(ws, [("9", "removed", "statusCode 10204")], T)
    run = alerts.after_flow(ws, "recheck")
    assert run.sent == 1, run.summary()
    [mail] = smtp["received"]
    assert mail["tls"] and mail["to"] == ["desk@example.org"]
    assert "Subject: [tiktok-intel] gone: 1 new item" in mail["data"]
    assert "https://www.tiktok.com/@svt/video/9" in mail["data"] and "42 views" in mail["data"]
    assert PASSWORD not in mail["data"]
    # a wrong password: the delivery fails in one line that does not show it, and is retried next run
    settings_module.configure(settings_module.get_settings(), smtp_password="wrong-" + PASSWORD)
    ws = Workspace.current()
    with pytest.raises(alerts.DeliveryError) as failed:
        alerts.send_sample("mail")
    assert "not sent" in str(failed.value) and PASSWORD not in str(failed.value)


def test_email_refuses_a_server_without_starttls(ws, tmp_path):
    from aiosmtpd.controller import Controller

    class Handler:
        async def handle_DATA(self, server, session, envelope):
            return "250 OK"

    controller = Controller(Handler(), hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        settings_module.configure(
            settings_module.get_settings(), smtp_host="127.0.0.1", smtp_port=controller.port, smtp_from="x@example.org"
        )
        write_alerts(Workspace.current(), '[channels.mail]\nkind = "email"\nto = ["desk@example.org"]\n')
        with pytest.raises(alerts.DeliveryError, match="offers no STARTTLS"):
            alerts.send_sample("mail")
    finally:
        controller.stop()


def test_related_alerts_a_new_rule_above_the_lift_once(ws, hook, con):
    from tiktok_intel.analyses import rules

    posts = [
        {"post_id": str(n), "author": f"a{n}", "hashtags": ["valet2026", "riksdagen"] if n < 4 else ["fika", "kaffe"]} for n in range(8)
    ]
    add_posts(con, posts)
    rules.run_rules(con, min_support=2, min_confidence=0.5, window_days=0, exclude_tracked=False)
    con.close()
    write_alerts(
        ws,
        CHANNELS.format(url=hook.url)
        + '[rules.valet]\nkind = "related"\nhashtag = "#Valet2026"\nmin_lift = 1.5\nchannels = ["any-json"]\n',
    )
    run = alerts.after_flow(ws, "association-rules")
    assert run.items == 2, run.summary()  # valet2026 -> riksdagen and back; fika's rules are not about it
    [(_, digest)] = hook.received
    assert {i["key"] for i in digest["items"]} == {"valet2026->riksdagen", "riksdagen->valet2026"}
    assert all(i["numbers"]["lift"] == 2.0 and i["link"].startswith("https://www.tiktok.com/tag/") for i in digest["items"])
    assert alerts.after_flow(ws, "association-rules").items == 0
