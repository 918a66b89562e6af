"""The event as both query languages see it: ``@message``, fields, pointers, value text.

This module is the Python statement of the semantics; the SQL renderers in
:mod:`logpond.query.sql` and the Arrow matcher in :mod:`logpond.query.matcher` implement
the same rules and the shared case suite checks that all three agree.

``@message`` is the event's ``message`` when ``fields`` is null. Otherwise it is the
record rebuilt as one JSON object: ``timestamp`` (ISO-8601 UTC with milliseconds and
``Z``), the promoted columns that are not null (``level, trace_id, span_id, tenant_id,
service``), ``message`` when not null, then the members of ``fields`` as stored.
Strings are written by :func:`json_string`.

JSON fields are read from ``fields`` when it is not null, else from ``message`` when that
text is a JSON object. A leaf keeps its JSON type for comparisons; its text is the string
itself, or the number or ``true``/``false`` as written.
"""

from __future__ import annotations

import base64
import binascii
import math
import re
from datetime import UTC, datetime, timedelta
from typing import Any

from logpond.model.errors import InvalidParameterError
from logpond.model.schema import PROMOTED_COLUMNS

__all__ = [
    "PROMOTED_COLUMNS",
    "SYSTEM_FIELDS",
    "decode_ptr",
    "encode_ptr",
    "format_number",
    "format_timestamp",
    "is_number_text",
    "iso_timestamp",
    "json_leaf_text",
    "json_string",
    "rebuild_message",
]

# The system fields of Logs Insights that logpond fills.
SYSTEM_FIELDS: tuple[str, ...] = (
    "@timestamp",
    "@message",
    "@logStream",
    "@log",
    "@ingestionTime",
    "@ptr",
)

# Text that is a number for comparisons and sorting: what JSON calls a number, plus a leading
# plus sign and a bare leading or trailing dot.
NUMBER_PATTERN = r"[-+]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?"
_NUMBER_RE = re.compile(NUMBER_PATTERN)

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f",
            "\r": "\\r", "\u2028": "\\u2028", "\u2029": "\\u2029"}  # fmt: skip
_ESCAPE_RE = re.compile('["\\\\\x00-\x1f\u2028\u2029]')


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    return _ESCAPES.get(char) or f"\\u{ord(char):04X}"


def json_string(text: str) -> str:
    """``text`` as a JSON string literal, escaped the way both SQL engines escape it.

    Quote, backslash and the C0 controls are escaped (``\\b \\t \\n \\f \\r`` short, the rest
    as ``\\u00XX`` in upper case), and so are U+2028 and U+2029; nothing else is.
    """
    return '"' + _ESCAPE_RE.sub(_escape, text) + '"'


def _utc(ms: int) -> datetime:
    return _EPOCH + timedelta(milliseconds=ms)


def iso_timestamp(ms: int) -> str:
    """``2024-01-31T12:00:00.123Z``: the ``timestamp`` member of a rebuilt ``@message``."""
    moment = _utc(ms)
    return f"{moment:%Y-%m-%dT%H:%M:%S}.{moment.microsecond // 1000:03d}Z"


def format_timestamp(ms: int) -> str:
    """``2024-01-31 12:00:00.123``: how Insights results show times (UTC)."""
    moment = _utc(ms)
    return f"{moment:%Y-%m-%d %H:%M:%S}.{moment.microsecond // 1000:03d}"


def format_number(value: float | int) -> str:
    """A number as result text: integral values without a fraction, others shortest form."""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(value)
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    if value == int(value) and abs(value) < 1e16:
        return str(int(value))
    return repr(value)


def is_number_text(text: str) -> bool:
    """Whether ``text`` counts as a number when compared or sorted."""
    return _NUMBER_RE.fullmatch(text) is not None


_FIELDS_TRIM = " \t\n\r"


def rebuild_message(
    ts: int,
    message: str | None,
    fields: str | None,
    promoted: tuple[str | None, ...],
) -> str | None:
    """``@message`` of one event; ``promoted`` holds the promoted columns in schema order."""
    if fields is None:
        return message
    parts = ['{"timestamp":"', iso_timestamp(ts), '"']
    for name, value in zip(PROMOTED_COLUMNS, promoted, strict=True):
        if value is not None:
            parts += [',"', name, '":', json_string(value)]
    if message is not None:
        parts += [',"message":', json_string(message)]
    inner = fields.strip(_FIELDS_TRIM)[1:-1].strip(_FIELDS_TRIM)
    if inner:
        parts += [",", inner]
    parts.append("}")
    return "".join(parts)


# --- @ptr -----------------------------------------------------------------------------------


def encode_ptr(group: str, seq: int) -> str:
    """The ``@ptr`` of an event: URL-safe base64 (no padding) of ``<group>:<seq>``.

    Group names cannot contain ``:``, so the last ``:`` separates the two.
    """
    raw = f"{group}:{seq}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_ptr(ptr: str) -> tuple[str, int]:
    """The group and event id an ``@ptr`` points at; ``InvalidParameterError`` if it is not one."""
    try:
        raw = base64.urlsafe_b64decode(ptr + "=" * (-len(ptr) % 4)).decode()
        group, _, seq = raw.rpartition(":")
        if not group or not seq.isdigit():
            raise ValueError(ptr)
        return group, int(seq)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise InvalidParameterError("invalid log record pointer", pointer=ptr[:100]) from None


def json_leaf_text(value: Any) -> str | None:
    """The text of a JSON leaf: strings as is, numbers and booleans as JSON writes them.

    Objects, arrays and null have no text (``None``).
    """
    if isinstance(value, str):
        return value
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    return None
