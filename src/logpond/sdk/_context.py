"""The one ``ContextVar`` behind every record's trace and tenant fields.

It holds an immutable mapping; binding builds a new mapping (copy on write) and sets it, so
a task or thread that binds never changes what another one sees. Each request, job or task
binds on entry and resets by token in ``finally``.
"""

from __future__ import annotations

import os
import types
from collections.abc import Mapping
from contextvars import ContextVar, Token
from typing import Any

__all__ = [
    "EMPTY_CONTEXT",
    "bind_context",
    "context_scope",
    "current_tenant_id",
    "current_trace_id",
    "get_context",
    "new_span_id",
    "new_trace_id",
    "reset_context",
]

EMPTY_CONTEXT: Mapping[str, Any] = types.MappingProxyType({})

_CONTEXT: ContextVar[Mapping[str, Any]] = ContextVar("logpond_context", default=EMPTY_CONTEXT)

ContextToken = Token[Mapping[str, Any]]


def new_trace_id() -> str:
    """A new random 128-bit trace id as 32 lowercase hex characters (never all zeros)."""
    while True:
        value = os.urandom(16).hex()
        if value != "0" * 32:
            return value


def new_span_id() -> str:
    """A new random 64-bit span id as 16 lowercase hex characters (never all zeros)."""
    while True:
        value = os.urandom(8).hex()
        if value != "0" * 16:
            return value


def get_context() -> Mapping[str, Any]:
    """The current context: a read-only mapping (assigning to it raises ``TypeError``)."""
    return _CONTEXT.get()


def bind_context(**fields: Any) -> ContextToken:
    """Add ``fields`` to the current context; returns the token that undoes it."""
    current = _CONTEXT.get()
    return _CONTEXT.set(types.MappingProxyType({**current, **fields}))


def replace_context(fields: Mapping[str, Any]) -> ContextToken:
    """Make ``fields`` the whole context (what a request or job starts from)."""
    return _CONTEXT.set(types.MappingProxyType(dict(fields)))


def reset_context(token: ContextToken) -> None:
    """Restore the context that was current before the ``bind_context`` that gave ``token``."""
    _CONTEXT.reset(token)


def current_trace_id() -> str | None:
    """The trace id of the current context, or None outside any request, job or scope."""
    value = _CONTEXT.get().get("trace_id")
    return value if isinstance(value, str) else None


def current_tenant_id() -> str | None:
    """The tenant id of the current context, or None."""
    value = _CONTEXT.get().get("tenant_id")
    return value if isinstance(value, str) else None


class context_scope:
    """Bind fields for a ``with`` or ``async with`` block, reset on exit (even on error).

    ``with context_scope(trace_id=new_trace_id()): ...`` starts a trace for a script or job.
    """

    __slots__ = ("_fields", "_tokens")

    def __init__(self, **fields: Any) -> None:
        self._fields = fields
        self._tokens: list[ContextToken] = []

    def __enter__(self) -> Mapping[str, Any]:
        self._tokens.append(bind_context(**self._fields))
        return _CONTEXT.get()

    def __exit__(self, *exc: object) -> None:
        _CONTEXT.reset(self._tokens.pop())

    async def __aenter__(self) -> Mapping[str, Any]:
        return self.__enter__()

    async def __aexit__(self, *exc: object) -> None:
        self.__exit__(*exc)
