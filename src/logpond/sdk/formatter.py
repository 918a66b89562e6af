"""The stdlib ``logging`` side: a root handler and a formatter that produce logpond records.

:class:`LogpondHandler` hands every ``LogRecord`` to the SDK pipeline on the calling thread,
capturing the context there (never later, never on another thread). ``extra`` fields become
record fields; the ``LogRecord``'s own attributes are recognized from a blank record, so no
attribute added by a newer Python (``taskName``) leaks into the output.
:class:`LogpondFormatter` renders the same JSON line for handlers you keep yourself.
"""

from __future__ import annotations

import logging
from typing import Any

from . import _diagnostics, _runtime
from ._context import _CONTEXT

__all__ = [
    "RESERVED_ATTRS",
    "LogpondFormatter",
    "LogpondHandler",
    "install_root_handler",
    "remove_root_handlers",
]

# The attributes every LogRecord has; anything else on a record came from ``extra``.
RESERVED_ATTRS: frozenset[str] = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
    "taskName",
}


def _extra(record: logging.LogRecord) -> dict[str, Any] | None:
    attrs = record.__dict__
    keys = attrs.keys() - RESERVED_ATTRS
    if not keys and not record.stack_info:
        return None
    fields = {key: attrs[key] for key in keys}
    if record.stack_info:
        fields["stack_info"] = record.stack_info
    return fields


def _message(record: logging.LogRecord) -> str:
    try:
        return record.getMessage()
    except Exception:  # bad %-args: keep the template and the arguments
        return f"{record.msg} {record.args!r}"


class LogpondHandler(logging.Handler):
    """Sends stdlib records through the logpond pipeline (stdout and/or the shipper).

    ``flush()`` and ``close()``, which ``logging`` calls itself (``dictConfig``, exit),
    wait at most ``flush_timeout`` and never shut the pipeline down: ``shutdown()`` does.
    """

    def handle(self, record: logging.LogRecord) -> bool:
        # No handler lock: the pipeline is thread-safe, and a lock here would serialize
        # every thread's logging behind one another.
        if self.filters:
            result: object = self.filter(record)  # 3.12+ filters may return a new record
            if isinstance(result, logging.LogRecord):
                record = result
            elif not result:
                return False
        self.emit(record)
        return True

    def emit(self, record: logging.LogRecord) -> None:
        try:
            error = record.exc_info[1] if record.exc_info else None
            _runtime._pipeline.emit(
                record.levelno,
                _message(record),
                record.name,
                _extra(record),
                error,
                _CONTEXT.get(),
                record.created,
            )
        except Exception as exc:
            _diagnostics.report("handler", "a stdlib record could not be handled", exc)

    def flush(self) -> None:
        pipeline = _runtime._pipeline
        if not pipeline.closed:
            pipeline.flush(pipeline.config.flush_timeout)

    def close(self) -> None:
        try:
            self.flush()
        finally:
            super().close()


class LogpondFormatter(logging.Formatter):
    """A ``logging.Formatter`` whose output is the logpond record as one JSON line."""

    def format(self, record: logging.LogRecord) -> str:
        pipeline = _runtime._pipeline
        error = record.exc_info[1] if record.exc_info else None
        line = pipeline.render(
            record.levelno, _message(record), record.name, _extra(record), error,
            _CONTEXT.get(), record.created,
        )  # fmt: skip
        return line.decode("utf-8", "replace")


def remove_root_handlers() -> None:
    """Take every logpond handler off the root logger."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if isinstance(handler, LogpondHandler):
            root.removeHandler(handler)


def install_root_handler(level: int) -> LogpondHandler:
    """Exactly one logpond handler on the root logger, and the root level set to ``level``."""
    root = logging.getLogger()
    remove_root_handlers()
    handler = LogpondHandler()
    root.addHandler(handler)
    root.setLevel(level)
    return handler
