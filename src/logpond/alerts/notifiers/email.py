"""Email over SMTP: one plain-text message per notification, STARTTLS when asked.

Settings: ``host``, ``port`` (25), ``from_address``, ``to`` (a list), ``starttls``
(false), ``username``; the password is a secret. ``smtplib`` runs in a thread.
"""

from __future__ import annotations

import asyncio
import smtplib
import ssl
from collections.abc import Mapping
from email.message import EmailMessage
from typing import Any

import httpx

from .base import DeliveryError, state_line, value_line

__all__ = ["EmailNotifier", "email_message"]

SMTP_TIMEOUT_SECONDS = 15.0


def email_message(notification: Mapping[str, Any], sender: str, to: list[str]) -> EmailMessage:
    """The message for one notification."""
    state = notification.get("state")
    name = notification.get("alarm")
    prefix = "[test] " if notification.get("test") else ""
    message = EmailMessage()
    message["Subject"] = f"[logpond] {prefix}{state}: {name}"
    message["From"] = sender
    message["To"] = ", ".join(to)
    lines = [
        f"Alarm: {name}",
        f"State: {state_line(notification)}",
        f"Value: {value_line(notification)}",
        f"Metric: {notification.get('metric', '')}",
        f"When: {notification.get('timestamp', '')}",
        "",
        f"Reason: {notification.get('reason', '')}",
    ]
    if notification.get("description"):
        lines[1:1] = [f"Description: {notification['description']}"]
    if notification.get("link"):
        lines += ["", f"Matching logs: {notification['link']}"]
    message.set_content("\n".join(lines) + "\n")
    return message


class EmailNotifier:
    """Sends through one SMTP server."""

    def __init__(
        self,
        name: str,
        settings: Mapping[str, Any],
        secrets: Mapping[str, str],
        transport: httpx.AsyncBaseTransport,
    ) -> None:
        self.name = name
        self._host = str(settings["host"])
        self._port = int(settings.get("port") or 25)
        self._sender = str(settings["from_address"])
        self._to = [str(t) for t in settings["to"]]
        self._starttls = bool(settings.get("starttls", False))
        self._username = settings.get("username")
        self._password = secrets.get("password")

    def _send(self, notification: Mapping[str, Any]) -> str:
        message = email_message(notification, self._sender, self._to)
        try:
            with smtplib.SMTP(self._host, self._port, timeout=SMTP_TIMEOUT_SECONDS) as smtp:
                if self._starttls:
                    smtp.starttls(context=ssl.create_default_context())
                if self._username:
                    smtp.login(str(self._username), self._password or "")
                refused = smtp.send_message(message)
        except smtplib.SMTPAuthenticationError:
            raise DeliveryError("SMTP authentication failed", retry=False) from None
        except smtplib.SMTPRecipientsRefused:
            raise DeliveryError("SMTP server refused every recipient", retry=False) from None
        except smtplib.SMTPResponseException as exc:
            raise DeliveryError(
                f"SMTP {exc.smtp_code}", retry=exc.smtp_code >= 400 and exc.smtp_code < 500
            ) from None
        except (smtplib.SMTPException, OSError) as exc:
            raise DeliveryError(f"SMTP failed ({type(exc).__name__})") from None
        if refused:
            return f"sent; refused by {len(refused)} recipient(s)"
        return "sent"

    async def send(self, notification: Mapping[str, Any]) -> str:
        return await asyncio.to_thread(self._send, notification)

    async def close(self) -> None:
        return None
