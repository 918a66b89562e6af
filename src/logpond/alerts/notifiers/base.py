"""What every notifier shares: the notification it is given, the error it raises, and the
registry of channel kinds (name -> import path, imported on first use)."""

from __future__ import annotations

import difflib
import importlib
from collections.abc import Mapping
from typing import Any, Protocol

from logpond.model.errors import InvalidParameterError, LogpondError

__all__ = ["CHANNEL_KINDS", "DeliveryError", "Notifier", "notifier_class", "state_line", "value_line"]

# Channel kind -> "module:Class"; the module is imported when a channel of that kind is built.
CHANNEL_KINDS: dict[str, str] = {
    "slack": "logpond.alerts.notifiers.slack:SlackNotifier",
    "webhook": "logpond.alerts.notifiers.webhook:WebhookNotifier",
    "email": "logpond.alerts.notifiers.email:EmailNotifier",
}


class DeliveryError(LogpondError):
    """A delivery attempt failed; ``detail`` says why without naming any secret.

    ``retry`` is false when trying again cannot help (the receiver refused the message).
    """

    def __init__(self, detail: str, *, retry: bool = True) -> None:
        super().__init__("notification delivery failed", detail=detail)
        self.detail = detail
        self.retry = retry


class Notifier(Protocol):
    """Sends one notification; returns a short detail ("HTTP 200") or raises DeliveryError."""

    async def send(self, notification: Mapping[str, Any]) -> str: ...

    async def close(self) -> None: ...


def notifier_class(kind: str) -> type[Any]:
    """The notifier class of a channel kind; an unknown kind gets a "did you mean"."""
    path = CHANNEL_KINDS.get(kind)
    if path is None:
        close = difflib.get_close_matches(kind, CHANNEL_KINDS, n=1)
        raise InvalidParameterError(
            "unknown channel type",
            type=kind,
            types=sorted(CHANNEL_KINDS),
            **({"did_you_mean": close[0]} if close else {}),
        )
    module, name = path.split(":")
    found: type[Any] = getattr(importlib.import_module(module), name)
    return found


def state_line(notification: Mapping[str, Any]) -> str:
    """``OK -> ALARM`` (or the state alone for a test)."""
    previous = notification.get("previous_state")
    state = str(notification.get("state"))
    return f"{previous} -> {state}" if previous and previous != state else state


def value_line(notification: Mapping[str, Any]) -> str:
    """``15.0 > 10.0 (GreaterThanThreshold)``, or the threshold alone without a value."""
    value = notification.get("value")
    threshold = notification.get("threshold")
    symbol = notification.get("comparison_symbol", "")
    if value is None:
        return f"no value (threshold {symbol} {threshold})"
    return (
        f"{value:g} vs threshold {symbol} {threshold:g}"
        if isinstance(value, float | int) and isinstance(threshold, float | int)
        else f"{value} vs threshold {symbol} {threshold}"
    )
