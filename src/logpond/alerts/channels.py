"""Notification channels: checked settings, sealed secrets, and the notifiers built from them.

A channel has a name, a kind (``slack``, ``webhook``, ``email``), settings that may be shown
(SMTP host, recipients) and secrets that never are: the Slack or webhook URL, the webhook
signing secret, the SMTP password. Secrets are sealed (AES-GCM under the server's key)
before they reach the store, opened only to build a notifier, and left out of every API
answer and log line.
"""

from __future__ import annotations

import secrets as random_secrets
import threading
from collections.abc import Mapping
from typing import Any

import httpx
import orjson

from logpond.auth.keys import SecretBox
from logpond.model.clock import Clock
from logpond.model.errors import InvalidParameterError
from logpond.store.alerting import ChannelRecord
from logpond.store.base import Store

from .notifiers import CHANNEL_KINDS, Notifier, notifier_class

__all__ = [
    "SECRET_FIELDS",
    "ChannelRegistry",
    "channel_from_native",
    "channel_name_of_action",
    "channel_view",
]

# The secret fields of each kind; ``secret`` of a webhook is generated when not given.
SECRET_FIELDS: dict[str, tuple[str, ...]] = {
    "slack": ("url",),
    "webhook": ("url", "secret"),
    "email": ("password",),
}
_SETTING_FIELDS: dict[str, tuple[str, ...]] = {
    "slack": (),
    "webhook": (),
    "email": ("host", "port", "from_address", "to", "starttls", "username"),
}
_REQUIRED: dict[str, tuple[str, ...]] = {
    "slack": ("url",),
    "webhook": ("url",),
    "email": ("host", "from_address", "to"),
}
MAX_CHANNEL_NAME = 256


def _check_url(value: object, field: str) -> str:
    if not isinstance(value, str) or not value.startswith(("http://", "https://")) or len(value) > 2048:
        raise InvalidParameterError(f"channel {field} must be an http(s) URL")
    return value


def channel_from_native(spec: Mapping[str, Any]) -> tuple[str, str, dict[str, Any], dict[str, str], bool]:
    """Check a channel written the native way; returns (name, kind, settings, secrets,
    whether a signing secret was generated)."""
    name = spec.get("name")
    if not isinstance(name, str) or not 1 <= len(name) <= MAX_CHANNEL_NAME or ":" in name:
        raise InvalidParameterError("channel name must be 1-256 characters without ':'")
    kind = spec.get("type")
    if not isinstance(kind, str):
        raise InvalidParameterError("channel type is required", types=sorted(CHANNEL_KINDS))
    notifier_class(kind)  # unknown kinds fail here, with a suggestion
    allowed = {"name", "type", *SECRET_FIELDS[kind], *_SETTING_FIELDS[kind]}
    unknown = sorted(set(spec) - allowed)
    if unknown:
        raise InvalidParameterError("unknown channel setting", setting=unknown[0], channel_type=kind)
    for field in _REQUIRED[kind]:
        if spec.get(field) in (None, "", []):
            raise InvalidParameterError(f"channel {field} is required", channel_type=kind)
    settings = {k: spec[k] for k in _SETTING_FIELDS[kind] if spec.get(k) is not None}
    found = {k: spec[k] for k in SECRET_FIELDS[kind] if spec.get(k) is not None}
    if not all(isinstance(v, str) for v in found.values()):
        raise InvalidParameterError("channel secrets must be strings")
    secret_values: dict[str, str] = dict(found)
    if "url" in secret_values:
        _check_url(secret_values["url"], "url")
    generated = False
    if kind == "webhook" and "secret" not in secret_values:
        secret_values["secret"] = random_secrets.token_urlsafe(32)
        generated = True
    if kind == "email":
        to = settings.get("to")
        if isinstance(to, str):
            settings["to"] = [to]
        elif not isinstance(to, list) or not all(isinstance(t, str) and "@" in t for t in to):
            raise InvalidParameterError("channel to must be a list of email addresses")
        if not isinstance(settings.get("host"), str):
            raise InvalidParameterError("channel host must be a host name")
        port = settings.get("port", 25)
        if isinstance(port, bool) or not isinstance(port, int) or not 0 < port < 65536:
            raise InvalidParameterError("channel port must be a TCP port")
        if not isinstance(settings.get("starttls", False), bool):
            raise InvalidParameterError("channel starttls must be true or false")
    return name, kind, settings, secret_values, generated


def channel_view(record: ChannelRecord) -> dict[str, Any]:
    """What the API shows of a channel: never a secret, only which secrets are set."""
    return {
        "name": record.name,
        "type": record.kind,
        **dict(record.settings),
        "secrets": list(SECRET_FIELDS.get(record.kind, ())) if record.secrets is not None else [],
        "updated": record.updated_ms,
    }


def channel_name_of_action(action: str) -> str:
    """The channel an alarm action names: the action itself, or the last part of an ARN
    (``arn:aws:sns:us-east-1:000000000000:qualisys-alerts`` -> ``qualisys-alerts``)."""
    if action.startswith("arn:"):
        return action.rsplit(":", 1)[-1]
    return action


class ChannelRegistry:
    """Channels as the store has them; their notifiers are built on first use."""

    def __init__(self, store: Store, box: SecretBox, clock: Clock) -> None:
        self._store = store
        self._box = box
        self._clock = clock
        self._notifiers: dict[str, Notifier] = {}
        self._lock = threading.Lock()
        self._transport: httpx.AsyncHTTPTransport | None = None

    def put(self, spec: Mapping[str, Any], *, keep_secrets: bool = True) -> tuple[ChannelRecord, str | None]:
        """Create or replace a channel; secrets not given are kept from the stored channel
        (``keep_secrets``). Returns the record and a generated signing secret, if any."""
        name, kind, settings, secret_values, generated = channel_from_native(spec)
        if keep_secrets and generated:
            old = self.secrets_of(name, kind)
            if "secret" in old:
                secret_values["secret"] = old["secret"]
                generated = False
        record = ChannelRecord(
            name,
            kind,
            settings,
            self._box.seal(orjson.dumps(secret_values).decode(), f"channel:{name}"),
            self._clock.now_ms(),
        )
        self._store.put_channel(record)
        with self._lock:
            self._notifiers.pop(name, None)
        return record, secret_values["secret"] if generated else None

    def secrets_of(self, name: str, kind: str) -> dict[str, str]:
        for record in self._store.list_channels():
            if record.name == name and record.kind == kind and record.secrets is not None:
                loaded: dict[str, str] = orjson.loads(self._box.open(record.secrets, f"channel:{name}"))
                return loaded
        return {}

    def delete(self, name: str) -> None:
        self._store.delete_channel(name)
        with self._lock:
            self._notifiers.pop(name, None)

    def list(self) -> list[ChannelRecord]:
        return self._store.list_channels()

    def notifier(self, name: str) -> Notifier | None:
        """The channel's notifier, or ``None`` when there is no such channel."""
        with self._lock:
            found = self._notifiers.get(name)
        if found is not None:
            return found
        record = next((c for c in self._store.list_channels() if c.name == name), None)
        if record is None:
            return None
        opened: dict[str, str] = (
            orjson.loads(self._box.open(record.secrets, f"channel:{name}")) if record.secrets else {}
        )
        if self._transport is None:
            self._transport = httpx.AsyncHTTPTransport()
        notifier: Notifier = notifier_class(record.kind)(name, record.settings, opened, self._transport)
        with self._lock:
            self._notifiers[name] = notifier
        return notifier

    async def close(self) -> None:
        if self._transport is not None:
            await self._transport.aclose()
            self._transport = None
