"""Generic webhooks: the notification as JSON, signed with HMAC-SHA256.

Headers: ``X-Logpond-Timestamp`` (Unix seconds) and ``X-Logpond-Signature:
sha256=<hex>``, the HMAC-SHA256 under the channel's signing secret of
``<timestamp>.<body>``. A receiver recomputes it over the raw body, compares in constant
time, and refuses old timestamps (``docs/alerts.md`` shows the code).
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Mapping
from typing import Any

import httpx
import orjson

from ._http import post

__all__ = ["SIGNATURE_HEADER", "TIMESTAMP_HEADER", "WebhookNotifier", "sign"]

SIGNATURE_HEADER = "X-Logpond-Signature"
TIMESTAMP_HEADER = "X-Logpond-Timestamp"


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The signature header's value for a body sent at ``timestamp``."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


class WebhookNotifier:
    """Posts signed JSON to one URL."""

    def __init__(
        self,
        name: str,
        settings: Mapping[str, Any],
        secrets: Mapping[str, str],
        transport: httpx.AsyncBaseTransport,
    ) -> None:
        self.name = name
        self._url = secrets["url"]
        self._secret = secrets["secret"]
        self._transport = transport

    async def send(self, notification: Mapping[str, Any]) -> str:
        body = orjson.dumps({"version": "1", **notification})
        timestamp = str(int(time.time()))
        headers = {
            "content-type": "application/json",
            TIMESTAMP_HEADER: timestamp,
            SIGNATURE_HEADER: sign(self._secret, timestamp, body),
        }
        return await post(self._transport, self._url, body, headers)

    async def close(self) -> None:
        return None
