"""The SDK's own logger: ``get_logger(name).info("order placed", order_id=42)``.

A :class:`Logger` is immutable: ``bind`` returns a new one. Its level is the stdlib logger's
of the same name (so ``logging`` configuration applies), checked first, so a call below the
level costs one method call. Records go straight to the pipeline, not through ``logging``.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from . import _diagnostics, _runtime

__all__ = ["Logger", "get_logger"]

DEBUG = logging.DEBUG
INFO = logging.INFO
WARNING = logging.WARNING
ERROR = logging.ERROR
CRITICAL = logging.CRITICAL

_NO_FIELDS: Mapping[str, Any] = MappingProxyType({})


class Logger:
    """``debug/info/warning/error/critical/exception(msg, *args, **fields)`` and ``bind``.

    ``msg % args`` is applied when ``args`` are given. Any field name works; one that the
    record schema uses itself (``message``, ``level``, ``trace_id``…) lands under ``fields``.
    ``exc_info=True`` (or an exception) adds ``error``; ``exception()`` does it for you.
    """

    __slots__ = ("_bound", "_std", "name")

    def __init__(self, name: str, bound: Mapping[str, Any] | None = None) -> None:
        self.name = name
        self._std = logging.getLogger(name)
        self._bound: Mapping[str, Any] = MappingProxyType(dict(bound)) if bound else _NO_FIELDS

    def __repr__(self) -> str:
        return f"<logpond Logger {self.name!r} {dict(self._bound)!r}>"

    @property
    def bound(self) -> Mapping[str, Any]:
        """The fields this logger adds to each record (read-only)."""
        return self._bound

    def bind(self, **fields: Any) -> Logger:
        """A new logger that adds ``fields`` to every record; this one is unchanged."""
        return Logger(self.name, {**self._bound, **fields})

    def is_enabled_for(self, level: int) -> bool:
        return self._std.isEnabledFor(level)

    def debug(self, msg: object, /, *args: object, **fields: Any) -> None:
        if self._std.isEnabledFor(DEBUG):
            self._log(DEBUG, msg, args, fields)

    def info(self, msg: object, /, *args: object, **fields: Any) -> None:
        if self._std.isEnabledFor(INFO):
            self._log(INFO, msg, args, fields)

    def warning(self, msg: object, /, *args: object, **fields: Any) -> None:
        if self._std.isEnabledFor(WARNING):
            self._log(WARNING, msg, args, fields)

    def error(self, msg: object, /, *args: object, **fields: Any) -> None:
        if self._std.isEnabledFor(ERROR):
            self._log(ERROR, msg, args, fields)

    def critical(self, msg: object, /, *args: object, **fields: Any) -> None:
        if self._std.isEnabledFor(CRITICAL):
            self._log(CRITICAL, msg, args, fields)

    def exception(self, msg: object, /, *args: object, **fields: Any) -> None:
        """An ``error`` record carrying the exception being handled."""
        if self._std.isEnabledFor(ERROR):
            fields.setdefault("exc_info", True)
            self._log(ERROR, msg, args, fields)

    def log(self, level: int, msg: object, /, *args: object, **fields: Any) -> None:
        if self._std.isEnabledFor(level):
            self._log(level, msg, args, fields)

    def _log(self, levelno: int, msg: object, args: tuple[object, ...], fields: dict[str, Any]) -> None:
        try:
            message = msg if isinstance(msg, str) else str(msg)
            if args:
                try:
                    message = message % args
                except Exception:  # a wrong format must not lose the record
                    message = f"{message} {args!r}"
            error: BaseException | None = None
            if "exc_info" in fields:
                exc_info = fields.pop("exc_info")
                if isinstance(exc_info, BaseException):
                    error = exc_info
                elif isinstance(exc_info, tuple) and len(exc_info) == 3:
                    error = exc_info[1]
                elif exc_info:
                    error = sys.exc_info()[1]
            bound = self._bound
            merged = {**bound, **fields} if bound else fields
            _runtime._pipeline.emit(levelno, message, self.name, merged, error)
        except Exception as exc:
            _diagnostics.report("logger", "a logging call failed", exc)


def get_logger(name: str | None = None) -> Logger:
    """The logger called ``name`` (the caller's module name is a good choice)."""
    return Logger(name or "root")
