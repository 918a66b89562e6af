"""Dramatiq: a middleware puts the carrier in ``message.options`` and binds it around the actor.

::

    broker.add_middleware(LogpondMiddleware())

Retries re-enqueue the same message, carrier included, so they keep the trace and get
``retry`` from ``message.options["retries"]``.
"""

from __future__ import annotations

import threading
from typing import Any

import dramatiq

from .._context import _CONTEXT, ContextToken
from ._jobs import carrier, enter_job

__all__ = ["OPTION_KEY", "LogpondMiddleware"]

OPTION_KEY = "logpond"


class LogpondMiddleware(dramatiq.Middleware):
    """Writes the carrier on enqueue; binds it before the actor runs and resets after."""

    def __init__(self) -> None:
        self._local = threading.local()

    def before_enqueue(self, broker: Any, message: Any, delay: Any) -> None:
        if OPTION_KEY not in message.options:
            ids = carrier()
            if ids:
                message.options[OPTION_KEY] = ids

    def before_process_message(self, broker: Any, message: Any) -> None:
        token = enter_job(
            message.options.get(OPTION_KEY),
            retry=int(message.options.get("retries", 0) or 0),
            message_id=message.message_id,
            actor_name=message.actor_name,
        )
        tokens: dict[str, ContextToken] = self._local.__dict__.setdefault("tokens", {})
        tokens[message.message_id] = token

    def after_process_message(
        self, broker: Any, message: Any, *, result: Any = None, exception: Any = None
    ) -> None:
        tokens: dict[str, ContextToken] = self._local.__dict__.setdefault("tokens", {})
        token = tokens.pop(message.message_id, None)
        if token is not None:
            _CONTEXT.reset(token)

    def after_skip_message(self, broker: Any, message: Any) -> None:
        self.after_process_message(broker, message)
