"""Turning another library's event (a structlog event dict, a loguru record) into SDK input."""

from __future__ import annotations

import sys
from collections.abc import Mapping, MutableMapping
from typing import Any

from .._context import _CONTEXT

__all__ = ["ID_KEYS", "error_from", "levelno_for", "split_context"]

ID_KEYS = ("trace_id", "tenant_id", "span_id", "request_id", "trace_source")

_LEVELS = {
    "trace": 5, "debug": 10, "info": 20, "success": 25, "notice": 25, "warn": 30,
    "warning": 30, "error": 40, "exception": 40, "critical": 50, "fatal": 50,
}  # fmt: skip


def levelno_for(name: object, default: int = 20) -> int:
    """A stdlib level number for a level name or number."""
    if isinstance(name, int) and not isinstance(name, bool):
        return name
    return _LEVELS.get(str(name).lower(), default)


def error_from(value: object) -> BaseException | None:
    """The exception an ``exc_info``-style value names (True: the one being handled)."""
    if isinstance(value, BaseException):
        return value
    if isinstance(value, tuple) and len(value) == 3:
        error = value[1]
        return error if isinstance(error, BaseException) else None
    if value is True:
        return sys.exc_info()[1]
    return None


def split_context(fields: MutableMapping[str, Any]) -> Mapping[str, Any]:
    """The current context with any id keys ``fields`` carries moved into it (and out of fields)."""
    context = _CONTEXT.get()
    moved = {key: fields.pop(key) for key in ID_KEYS if key in fields}
    for key, value in context.items():  # context merged into the event by a processor
        if key in fields and fields[key] is value:
            del fields[key]
    return {**context, **moved} if moved else context
