"""structlog: processors that put the event through the SDK pipeline, not through ``logging``.

::

    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,   # optional, structlog's own context
            structlog.processors.add_log_level,
            LogpondRenderer(),                         # terminal: the SDK writes the record
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.INFO),
    )

For records from other libraries that go through ``logging``, use
``structlog.stdlib.ProcessorFormatter(processors=[LogpondJSONRenderer()])`` (``processors``,
not ``processor``, which strips the record the renderer reads). The record a
``LogpondRenderer`` writes equals what the stdlib path writes for the same call.
"""

from __future__ import annotations

import logging
from collections.abc import MutableMapping
from typing import Any

import structlog

from .. import _runtime
from .._context import _CONTEXT
from ..formatter import _extra
from ._events import error_from, levelno_for, split_context

__all__ = ["LogpondJSONRenderer", "LogpondRenderer", "add_logpond_context", "redact"]

EventDict = MutableMapping[str, Any]
_STRUCTLOG_INTERNAL = ("_record", "_from_structlog", "timestamp")


def add_logpond_context(logger: Any, method_name: str, event_dict: EventDict) -> EventDict:
    """Add the SDK context (``trace_id``, ``tenant_id``…) to the event, for other renderers."""
    for key, value in _CONTEXT.get().items():
        event_dict.setdefault(key, value)
    return event_dict


def redact(logger: Any, method_name: str, event_dict: EventDict) -> EventDict:
    """Mask PII in the event with the SDK's redaction policy (for renderers other than ours)."""
    masker = _runtime._pipeline.redact
    if masker is None:
        return event_dict
    body = {k: v for k, v in event_dict.items() if not k.startswith("_")}
    if "event" in body:
        body["message"] = body.pop("event")
    masked = masker(body)
    if "message" in masked:
        masked["event"] = masked.pop("message")
    event_dict.update(masked)
    return event_dict


def _arguments(logger: Any, method_name: str, event_dict: EventDict) -> tuple[Any, ...]:
    fields = dict(event_dict)
    for key in _STRUCTLOG_INTERNAL:
        fields.pop(key, None)
    message = fields.pop("event", "")
    levelno = levelno_for(fields.pop("level", method_name))
    name = fields.pop("logger", None) or fields.pop("logger_name", None)
    name = name or getattr(logger, "name", None) or "root"
    error = error_from(fields.pop("exc_info", None))
    if error is None and method_name == "exception":
        error = error_from(True)
    context = split_context(fields)
    return levelno, str(message), str(name), fields, error, context


def _foreign(event_dict: EventDict) -> logging.LogRecord | None:
    record = event_dict.get("_record")
    if isinstance(record, logging.LogRecord) and not event_dict.get("_from_structlog"):
        return record
    return None


class LogpondRenderer:
    """Terminal processor: hands the event to the SDK (stdout and/or shipping), then drops it."""

    def __call__(self, logger: Any, method_name: str, event_dict: EventDict) -> Any:
        levelno, message, name, fields, error, context = _arguments(logger, method_name, event_dict)
        _runtime._pipeline.emit(levelno, message, name, fields, error, context)
        raise structlog.DropEvent


class LogpondJSONRenderer:
    """Renders the event as the SDK's JSON line (a string), e.g. inside ``ProcessorFormatter``.

    A foreign stdlib record (``_record`` without ``_from_structlog``) renders as
    :class:`~logpond.sdk.formatter.LogpondFormatter` renders the original record.
    """

    def __call__(self, logger: Any, method_name: str, event_dict: EventDict) -> str:
        pipeline = _runtime._pipeline
        record = _foreign(event_dict)
        if record is not None:
            # ProcessorFormatter hands over a copy whose args are cleared: the message is
            # the event; the level, logger, time and extra fields come from the record.
            extra = _extra(record) or {}
            for key in ("_logger", "_name"):
                extra.pop(key, None)
            error = error_from(event_dict.get("exc_info")) or (
                record.exc_info[1] if record.exc_info else None
            )
            line = pipeline.render(
                record.levelno, str(event_dict.get("event", "")), record.name, extra, error,
                _CONTEXT.get(), record.created,
            )  # fmt: skip
        else:
            levelno, message, name, fields, error, context = _arguments(logger, method_name, event_dict)
            line = pipeline.render(levelno, message, name, fields, error, context)
        return line.decode("utf-8", "replace")
