"""One log event as a JSON object: the record schema, error rendering, serialization, size cap.

A record's keys, in order: ``timestamp`` (ISO-8601 UTC, milliseconds, ``Z``), ``level``,
``message``, ``trace_id``, ``tenant_id``, ``service``, ``environment``, ``logger``, the
optional ``span_id``/``request_id``/``trace_source``, the other context fields, the
caller's fields, ``error``. A caller's field whose name is one of these keys goes under
``fields`` instead, so nothing the SDK writes is ever overwritten.
"""

from __future__ import annotations

import datetime as _dt
import json
import logging
import math
import time
import traceback
import uuid
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from ._context import new_trace_id

__all__ = [
    "DEFAULT_MAX_RECORD_BYTES",
    "DEFAULT_MAX_STACK_CHARS",
    "RESERVED_KEYS",
    "RecordBuilder",
    "dumps",
    "format_timestamp",
    "level_name",
    "render_error",
]

# The server keeps a message of at most 256 KiB; a record is never larger than that.
DEFAULT_MAX_RECORD_BYTES = 256 * 1024
# The rendered traceback of an error, chains included, is cut at this many characters.
DEFAULT_MAX_STACK_CHARS = 32 * 1024
# A string field longer than this is the first thing cut when a record is too large.
_FIELD_CUT_CHARS = 8 * 1024
# How deep ``__cause__``/``__context__`` chains and exception groups are followed.
_MAX_ERROR_DEPTH = 8
_MAX_GROUP_MEMBERS = 32

# Keys the SDK writes itself; a caller's field of the same name lands under ``fields``.
RESERVED_KEYS: frozenset[str] = frozenset(
    {
        "timestamp", "level", "message", "trace_id", "tenant_id", "service", "environment",
        "logger", "span_id", "request_id", "trace_source", "error", "fields", "redacted",
        "truncated",
    }
)  # fmt: skip
# Context keys that have a fixed place in the record (and are never redacted).
_ID_KEYS = ("span_id", "request_id", "trace_source")
_PROMOTED = frozenset({"trace_id", "tenant_id"})

_LEVEL_NAMES = {
    logging.DEBUG: "debug",
    logging.INFO: "info",
    logging.WARNING: "warning",
    logging.ERROR: "error",
    logging.CRITICAL: "critical",
}


def level_name(levelno: int) -> str:
    """The record's level for a stdlib level number; custom levels round down to a name."""
    name = _LEVEL_NAMES.get(levelno)
    if name is not None:
        return name
    if levelno >= logging.CRITICAL:
        return "critical"
    if levelno >= logging.ERROR:
        return "error"
    if levelno >= logging.WARNING:
        return "warning"
    if levelno >= logging.INFO:
        return "info"
    return "debug"


class _SecondCache:
    """The ``YYYY-MM-DDTHH:MM:SS`` part of the last second formatted (one tuple, thread-safe)."""

    __slots__ = ("value",)

    def __init__(self) -> None:
        self.value: tuple[int, str] = (-1, "")


_second = _SecondCache()


def format_timestamp(created: float) -> str:
    """``created`` (seconds since the epoch) as ISO-8601 UTC with 3 fractional digits and ``Z``."""
    seconds, millis = divmod(round(created * 1000), 1000)  # to the nearest millisecond
    cached_second, prefix = _second.value
    if cached_second != seconds:
        prefix = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds))
        _second.value = (seconds, prefix)
    return f"{prefix}.{millis:03d}Z"


def render_error(error: BaseException, max_stack_chars: int = DEFAULT_MAX_STACK_CHARS) -> dict[str, Any]:
    """``{name, message, stack}`` with ``cause``, ``context`` and group ``exceptions`` nested.

    ``stack`` is the full traceback text (chains and group members included); past
    ``max_stack_chars`` its middle is cut, with a marker saying how much was left out.
    """
    try:
        stack = "".join(traceback.format_exception(error))
    except Exception:  # a broken __str__ or traceback object
        stack = f"{type(error).__name__}: <traceback unavailable>"
    if len(stack) > max_stack_chars:  # keep the start and the end, where the error is
        head = max_stack_chars // 4
        tail = max_stack_chars - head
        cut = len(stack) - max_stack_chars
        stack = f"{stack[:head]}\n... [stack truncated: {cut} characters] ...\n{stack[-tail:]}"
    out = _error_summary(error, 0, {id(error)})
    out["stack"] = stack
    return out


def _error_summary(error: BaseException, depth: int, seen: set[int]) -> dict[str, Any]:
    out: dict[str, Any] = {"name": type(error).__name__, "message": _safe_str(error)}
    if depth >= _MAX_ERROR_DEPTH:
        return out
    cause = error.__cause__
    if cause is not None and id(cause) not in seen:
        seen.add(id(cause))
        out["cause"] = _error_summary(cause, depth + 1, seen)
    context = error.__context__
    if context is not None and not error.__suppress_context__ and id(context) not in seen:
        seen.add(id(context))
        out["context"] = _error_summary(context, depth + 1, seen)
    if isinstance(error, BaseExceptionGroup):
        members = []
        for member in error.exceptions[:_MAX_GROUP_MEMBERS]:
            if id(member) not in seen:
                seen.add(id(member))
                members.append(_error_summary(member, depth + 1, seen))
        out["exceptions"] = members
    return out


def _safe_str(value: object) -> str:
    try:
        return str(value)
    except Exception:
        return f"<unprintable {type(value).__name__}>"


class RecordBuilder:
    """Builds records for one configuration (service, environment, caps), decided once."""

    __slots__ = ("environment", "max_stack_chars", "service")

    def __init__(self, service: str, environment: str, max_stack_chars: int) -> None:
        self.service = service
        self.environment = environment
        self.max_stack_chars = max_stack_chars

    def build(
        self,
        created: float,
        levelno: int,
        message: str,
        logger: str,
        context: Mapping[str, Any],
        fields: Mapping[str, Any] | None,
        error: BaseException | None,
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """The SDK's part of a record and the caller's part (message, context extras, fields).

        The caller's part is what redaction scans; the two are joined by :func:`join`.
        """
        trace_id = context.get("trace_id")
        head: dict[str, Any] = {
            "timestamp": format_timestamp(created),
            "level": level_name(levelno),
            "message": None,
            "trace_id": trace_id if isinstance(trace_id, str) else new_trace_id(),
            "tenant_id": context.get("tenant_id"),
            "service": self.service,
            "environment": self.environment,
            "logger": logger,
        }
        body: dict[str, Any] = {"message": message}
        collisions: dict[str, Any] | None = None
        for key, value in context.items():
            if key in _PROMOTED:
                continue
            if key in _ID_KEYS:
                head[key] = value
            elif key in RESERVED_KEYS:
                if collisions is None:
                    collisions = {}
                collisions[key] = value
            else:
                body[key] = value
        if fields:
            for key, value in fields.items():
                if key in RESERVED_KEYS:
                    if collisions is None:
                        collisions = {}
                    collisions[key] = value
                else:
                    body[key] = value
        if collisions is not None:
            body["fields"] = collisions
        if error is not None:
            body["error"] = render_error(error, self.max_stack_chars)
        return head, body


def join(head: dict[str, Any], body: Mapping[str, Any]) -> dict[str, Any]:
    """The record: the SDK's keys first (``message`` in its place), then the caller's."""
    head.update(body)
    return head


# --- serialization ----------------------------------------------------------------------------


def _default(value: Any) -> Any:
    """JSON for what the encoder does not know: times as ISO text, sets as lists, else str."""
    if isinstance(value, _dt.datetime | _dt.date | _dt.time):
        return value.isoformat()
    if isinstance(value, uuid.UUID | Decimal):
        return str(value)
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).decode("utf-8", "replace")
    if isinstance(value, Mapping):
        return dict(value)
    if isinstance(value, BaseException):
        return render_error(value)
    return _safe_str(value)


def _stdlib_dumps(record: Mapping[str, Any]) -> bytes:
    return json.dumps(
        record, ensure_ascii=False, separators=(",", ":"), default=_default, allow_nan=False
    ).encode("utf-8", "surrogatepass")


def _load_encoder() -> Callable[[Mapping[str, Any]], bytes]:
    try:
        import orjson  # noqa: PLC0415 - optional extra, looked up once
    except ImportError:
        return _stdlib_dumps
    option = orjson.OPT_NON_STR_KEYS
    orjson_dumps = orjson.dumps

    def _orjson_dumps(record: Mapping[str, Any]) -> bytes:
        return orjson_dumps(record, default=_default, option=option)

    return _orjson_dumps


_encoder: list[Callable[[Mapping[str, Any]], bytes]] = []  # chosen on first use: orjson is lazy


def _first_encoder() -> Callable[[Mapping[str, Any]], bytes]:
    encode = _load_encoder()
    _encoder[:] = [encode]
    return encode


def _plain(value: Any, depth: int = 0) -> Any:
    """A copy of ``value`` that any JSON encoder takes: str keys, finite floats, no cycles."""
    if depth > 32:
        return _safe_str(value)
    if isinstance(value, str | int | bool) or value is None:
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, Mapping):
        return {_safe_str(k): _plain(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_plain(v, depth + 1) for v in value]
    converted = _default(value)
    return converted if isinstance(converted, str) else _plain(converted, depth + 1)


def dumps(record: Mapping[str, Any]) -> bytes:
    """One record as UTF-8 JSON without a newline; whatever it holds, this returns bytes."""
    try:
        encode = _encoder[0] if _encoder else _first_encoder()
        return encode(record)
    except Exception:
        return _stdlib_dumps(_plain(record))


def cap_size(record: dict[str, Any], line: bytes, limit: int) -> bytes:
    """``line`` if it fits ``limit`` bytes, else the record cut down and marked ``truncated``.

    Long strings are cut first (the message keeps the most), then the error's stack, then
    the caller's fields are replaced by a count; the SDK's own keys always stay.
    """
    if len(line) <= limit:
        return line
    record["truncated"] = True
    for key, value in list(record.items()):
        if key != "message" and isinstance(value, str) and len(value) > _FIELD_CUT_CHARS:
            record[key] = value[:_FIELD_CUT_CHARS] + "...[truncated]"
    error = record.get("error")
    if isinstance(error, dict) and isinstance(error.get("stack"), str):
        error["stack"] = error["stack"][:_FIELD_CUT_CHARS] + "...[truncated]"
    message = record.get("message")
    if isinstance(message, str) and len(message) > limit // 8:
        record["message"] = message[: limit // 8] + "...[truncated]"
    line = dumps(record)
    if len(line) <= limit:
        return line
    keep = ("timestamp", "level", "message", "trace_id", "tenant_id", "service", "environment",
            "logger", "span_id", "request_id", "trace_source", "redacted")  # fmt: skip
    slim: dict[str, Any] = {k: record[k] for k in keep if k in record}
    slim["truncated"] = True
    slim["dropped_fields"] = [k for k in record if k not in slim][:100]
    if isinstance(error, dict):
        slim["error"] = {
            "name": str(error.get("name"))[:256],
            "message": str(error.get("message"))[:_FIELD_CUT_CHARS],
        }
    line = dumps(slim)
    if len(line) <= limit:
        return line
    slim["dropped_fields"] = []
    slim["message"] = str(slim.get("message"))[:1024] + "...[truncated]"
    return dumps(slim)
