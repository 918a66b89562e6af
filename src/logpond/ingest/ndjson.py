"""Native ingest bodies: NDJSON (one JSON object per line), a JSON array, or plain text.

A line that is not a JSON object is kept as a plain-text message, not dropped. A record is
refused only when it cannot be stored faithfully: over the size limit, not UTF-8, or with a
timestamp that cannot be read.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import orjson

from .base import DecodeContext, Decoded, EventColumns, Rejection, too_large

__all__ = ["NDJSONDecoder", "PlainTextDecoder"]

_JSON_TYPES = (
    "application/json",
    "application/x-ndjson",
    "application/jsonl",
    "application/x-jsonlines",
    "application/ndjson",
    "application/json-seq",
)


def _body_lines(body: bytes) -> Iterator[tuple[int, bytes]]:
    """The non-blank lines of a body with their 1-based numbers, line endings removed."""
    for number, line in enumerate(body.split(b"\n"), start=1):
        text = line[:-1] if line.endswith(b"\r") else line
        if text and not text.isspace():
            yield number, text


class NDJSONDecoder:
    """One JSON object per line; also a single JSON array or object for ``application/json``."""

    def decode(self, body: bytes, context: DecodeContext) -> Decoded:
        columns = EventColumns()
        rejections: list[Rejection] = []
        group, stream, now = context.log_group, context.log_stream, context.now_ms
        stripped = body.lstrip()
        if stripped[:1] in (b"[", b"{") and context.content_type.startswith("application/json"):
            whole = _try_whole_document(stripped)
            if whole is not None:
                for number, item in enumerate(whole, start=1):
                    self._add_value(columns, rejections, number, item, group, stream, now)
                return columns.build(rejections)
        loads = orjson.loads
        add_record = columns.add_record
        for number, line in _body_lines(body):
            reason = too_large(len(line))
            if reason is not None:
                rejections.append(Rejection(number, reason))
                continue
            try:
                value = loads(line)
            except orjson.JSONDecodeError:
                _add_plain_line(columns, rejections, number, line, group, stream, now)
                continue
            if type(value) is dict:
                reason = add_record(number, group, stream, value, now)
                if reason is not None:
                    rejections.append(Rejection(number, reason))
            else:
                _add_plain_line(columns, rejections, number, line, group, stream, now)
        return columns.build(rejections)

    @staticmethod
    def _add_value(
        columns: EventColumns,
        rejections: list[Rejection],
        number: int,
        value: Any,
        group: str,
        stream: str,
        now: int,
    ) -> None:
        if type(value) is dict:
            reason = too_large(len(orjson.dumps(value))) or columns.add_record(
                number, group, stream, value, now
            )
        else:
            text = value if isinstance(value, str) else orjson.dumps(value).decode()
            reason = too_large(len(text.encode()))
            if reason is None:
                columns.add_text(number, group, stream, now, text)
        if reason is not None:
            rejections.append(Rejection(number, reason))


def _try_whole_document(body: bytes) -> list[Any] | None:
    """A body that is one JSON array (records) or one object (a record), else ``None``."""
    try:
        value = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    if isinstance(value, list):
        return value
    if isinstance(value, dict):
        return [value]
    return None


def _add_plain_line(
    columns: EventColumns,
    rejections: list[Rejection],
    number: int,
    line: bytes,
    group: str,
    stream: str,
    now: int,
) -> None:
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError as exc:
        rejections.append(Rejection(number, f"not valid UTF-8 at byte {exc.start}"))
        return
    columns.add_text(number, group, stream, now, text)


class PlainTextDecoder:
    """One message per line, stamped with the ingestion time."""

    def decode(self, body: bytes, context: DecodeContext) -> Decoded:
        columns = EventColumns()
        rejections: list[Rejection] = []
        group, stream, now = context.log_group, context.log_stream, context.now_ms
        for number, line in _body_lines(body):
            reason = too_large(len(line))
            if reason is not None:
                rejections.append(Rejection(number, reason))
                continue
            _add_plain_line(columns, rejections, number, line, group, stream, now)
        return columns.build(rejections)


def is_json_type(content_type: str) -> bool:
    """Whether a Content-Type names one of the JSON forms the NDJSON decoder reads."""
    return content_type.split(";", 1)[0].strip().lower() in _JSON_TYPES
