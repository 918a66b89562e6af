"""Celery: the trace follows a task from the publisher to the worker, and retries keep it.

::

    from logpond.sdk.integrations.celery import install
    app = Celery("worker", broker=...)
    install(app)

``before_task_publish`` writes the carrier into the message ``headers`` (and
``headers["headers"]``, where some paths look); ``task_prerun`` reads either, binds
``trace_id``, ``tenant_id``, ``task_id``, ``task_name`` (and ``retry`` on a retry);
``task_postrun`` resets. Eager tasks (``task_always_eager``) run in the caller's trace.
Queued records are flushed on ``worker_process_shutdown`` and ``worker_shutdown``. With
``configure_logging=True`` (the default) Celery keeps its hands off the root logger, so
the SDK's handler stays the one that writes.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

from celery import signals  # type: ignore[import-untyped]

from .. import _diagnostics, _runtime
from .._context import _CONTEXT, ContextToken
from ._jobs import carrier, enter_job

__all__ = ["install"]

_tokens: dict[str, ContextToken] = {}
_tokens_lock = threading.Lock()
_UID = "logpond.sdk"


def _on_publish(headers: dict[str, Any] | None = None, **_: Any) -> None:
    try:
        if headers is None:
            return
        ids = carrier()
        if not ids:
            return
        nested = headers.get("headers")
        if not isinstance(nested, dict):
            nested = {}
            headers["headers"] = nested
        for key, value in ids.items():
            headers.setdefault(key, value)
            nested.setdefault(key, value)
    except Exception as exc:
        _diagnostics.report("celery", "writing the task carrier failed", exc)


def _carrier_of(request: Any) -> dict[str, Any]:
    """The carrier from ``request.headers`` (nested) or the request's own header keys."""
    found: dict[str, Any] = {}
    nested = getattr(request, "headers", None)
    if isinstance(nested, Mapping):
        found.update(nested)
    for key in ("X-Request-ID", "traceparent", "X-Tenant-ID"):
        value = getattr(request, key, None)
        if value is not None:
            found[key] = value
    return found


def _on_prerun(task_id: str | None = None, task: Any = None, **_: Any) -> None:
    try:
        request = getattr(task, "request", None)
        retries = int(getattr(request, "retries", 0) or 0)
        token = enter_job(
            _carrier_of(request) if request is not None else None,
            retry=retries,
            task_id=task_id,
            task_name=getattr(task, "name", None),
        )
        if task_id is not None:
            with _tokens_lock:
                _tokens[task_id] = token
    except Exception as exc:
        _diagnostics.report("celery", "binding the task context failed", exc)


def _on_postrun(task_id: str | None = None, **_: Any) -> None:
    if task_id is None:
        return
    with _tokens_lock:
        token = _tokens.pop(task_id, None)
    if token is None:
        return
    try:
        _CONTEXT.reset(token)
    except ValueError:  # reset from another context: fall back to clearing what we set
        _diagnostics.report("celery", "task context reset from another context")


def _on_shutdown(**_: Any) -> None:
    pipeline = _runtime._pipeline
    _runtime.flush(pipeline.config.shutdown_timeout)


def _keep_logging(**_: Any) -> None:
    """Connected to ``setup_logging``: Celery then leaves the root logger as ``init`` set it."""


def install(app: Any = None, *, configure_logging: bool = True) -> None:
    """Connect the signal handlers (idempotent). ``app`` is accepted for symmetry; signals are global."""
    signals.before_task_publish.connect(_on_publish, weak=False, dispatch_uid=_UID)
    signals.task_prerun.connect(_on_prerun, weak=False, dispatch_uid=_UID)
    signals.task_postrun.connect(_on_postrun, weak=False, dispatch_uid=_UID)
    signals.worker_process_shutdown.connect(_on_shutdown, weak=False, dispatch_uid=_UID)
    signals.worker_shutdown.connect(_on_shutdown, weak=False, dispatch_uid=_UID)
    if configure_logging:
        signals.setup_logging.connect(_keep_logging, weak=False, dispatch_uid=_UID)
