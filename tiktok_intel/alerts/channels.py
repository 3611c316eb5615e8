"""Sending a digest: email over SMTP with STARTTLS (server and login from the ``smtp_*`` settings)
and webhooks (Slack, Teams, or any URL taking JSON). A failure is one line, with every secret
(the settings' and the webhook's URL) removed."""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from typing import Any

from ..errors import TikTokIntelError
from ..raw import redact
from ..settings import get_settings
from .rules import Channel

TIMEOUT_SECONDS = 15.0


class DeliveryError(TikTokIntelError):
    """A channel could not take the message (its one line says why, secrets removed)."""


def secrets(channel: Channel | None = None) -> list[str]:
    found = [s for s in get_settings().secrets() if s]
    if channel is not None and channel.kind != "email" and channel.url():
        found.append(channel.url())
    return found


def text(digest: dict[str, Any]) -> str:
    """The digest as plain text: its subject, one line per item with its link."""
    lines = [digest["subject"], ""]
    for item in digest["items"]:
        lines.append(f"• {item['line']}" + (f"\n  {item['link']}" if item.get("link") else ""))
    if digest.get("more"):
        lines.append(f"… and {digest['more']:,} more")
    return "\n".join(lines)


def payload(channel: Channel, digest: dict[str, Any]) -> dict[str, Any]:
    """What the webhook gets: Slack's ``text`` (with ``<link|label>`` links), a Teams MessageCard,
    or for any other URL the digest itself as JSON."""
    if channel.kind == "slack":
        lines = [f"*{digest['subject']}*"] + [
            f"• {item['line']}" + (f" <{item['link']}|open on TikTok>" if item.get("link") else "") for item in digest["items"]
        ]
        if digest.get("more"):
            lines.append(f"… and {digest['more']:,} more")
        return {"text": "\n".join(lines)}
    if channel.kind == "teams":
        body = "\n\n".join(
            f"- {item['line']}" + (f" [open on TikTok]({item['link']})" if item.get("link") else "") for item in digest["items"]
        )
        return {
            "@type": "MessageCard",
            "@context": "https://schema.org/extensions",
            "summary": digest["subject"],
            "title": digest["subject"],
            "text": body,
        }
    return digest


def _one_line(exc: BaseException, hidden: list[str]) -> str:
    return redact(" ".join(str(exc).split()) or type(exc).__name__, hidden)[:300]


def send_webhook(channel: Channel, digest: dict[str, Any]) -> None:
    import httpx

    url = channel.url()
    hidden = secrets(channel)
    if not url:
        raise DeliveryError(f"channel {channel.name} has no URL: add {channel.name}=https://... to TIKTOK_INTEL_ALERT_WEBHOOKS")
    try:
        response = httpx.post(url, json=payload(channel, digest), timeout=TIMEOUT_SECONDS, follow_redirects=False)
    except httpx.HTTPError as exc:
        raise DeliveryError(f"{channel.kind} webhook {channel.name} unreachable: {_one_line(exc, hidden)}") from None
    if response.status_code >= 300:
        raise DeliveryError(
            f"{channel.kind} webhook {channel.name} answered HTTP {response.status_code}: {_one_line(Exception(response.text[:200]), hidden)}"
        )


def send_email(channel: Channel, digest: dict[str, Any]) -> None:
    settings = get_settings()
    hidden = secrets()
    if not settings.smtp_host or not settings.smtp_from:
        raise DeliveryError("no SMTP server or sender: set TIKTOK_INTEL_SMTP_HOST and TIKTOK_INTEL_SMTP_FROM")
    message = EmailMessage()
    prefix = channel.options.get("subject_prefix", "[tiktok-intel] ")
    message["Subject"] = prefix + digest["subject"]
    message["From"] = settings.smtp_from
    message["To"] = ", ".join(channel.options.get("to") or [])
    message.set_content(text(digest))
    try:
        with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=TIMEOUT_SECONDS) as smtp:
            smtp.ehlo()
            if settings.smtp_starttls:
                if not smtp.has_extn("starttls"):
                    raise DeliveryError(
                        f"the SMTP server {settings.smtp_host} offers no STARTTLS: use one that does "
                        "(or set TIKTOK_INTEL_SMTP_STARTTLS=false on a trusted local relay)"
                    )
                context = ssl.create_default_context(cafile=settings.smtp_ca_file or None)
                smtp.starttls(context=context)
                smtp.ehlo()
            if settings.smtp_user:
                smtp.login(settings.smtp_user, settings.smtp_password)
            smtp.send_message(message)
    except DeliveryError:
        raise
    except (OSError, smtplib.SMTPException, ssl.SSLError) as exc:
        raise DeliveryError(f"email to {message['To']} not sent ({type(exc).__name__}: {_one_line(exc, hidden)})") from None


def send(channel: Channel, digest: dict[str, Any]) -> None:
    """Deliver ``digest`` through ``channel`` (:class:`DeliveryError` when it cannot)."""
    (send_email if channel.kind == "email" else send_webhook)(channel, digest)
