"""Fluent Bit's ``http`` output: its ``json``, ``json_stream``, ``json_lines`` and ``msgpack`` bodies.

``json`` is one array of records, ``json_stream`` records back to back, ``json_lines`` one per
line (all read by one loop); ``msgpack`` is the raw chunk, ``[[time, metadata], record]`` entries
(group markers skipped). The record time is Fluent Bit's ``json_date_key`` (default ``date``)
in any ``json_date_format`` (``double``, ``epoch``, ``epoch_ms``, ``iso8601``,
``java_sql_timestamp``), read like every other time key.

Group: the path's group; stream: the record's pod or host; the tag header (``X-Fluent-Tag``
by convention) is kept as ``fluent.tag`` and names the pod for container files.
"""

from __future__ import annotations

from typing import Any

import orjson

from logpond.model.errors import InvalidParameterError

from . import kubernetes
from .base import Decoded, EventColumns, Rejection
from .fluent_forward import EventTime, new_unpacker
from .records import add_shipped, default_stream
from .routing import Router

__all__ = ["FluentBitDecoder"]


def _json_records(body: bytes) -> list[Any]:
    """Records of a JSON array, concatenated objects, or JSON lines."""
    text = body.strip()
    if not text:
        return []
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError:
        value = None
    else:
        return value if isinstance(value, list) else [value]
    # Concatenated or line-separated objects: orjson reads one document, so split at the
    # boundaries the standard decoder finds.
    import json  # noqa: PLC0415 (only streams need the incremental decoder)

    decoder = json.JSONDecoder()
    source = text.decode("utf-8", "replace")
    records = []
    position = 0
    while position < len(source):
        while position < len(source) and source[position] in " \t\r\n,":
            position += 1
        if position >= len(source):
            break
        try:
            record, position = decoder.raw_decode(source, position)
        except ValueError as exc:
            raise InvalidParameterError("body is not JSON records", reason=str(exc)) from None
        records.append(record)
    return records


class FluentBitDecoder:
    """See the module docstring."""

    def __init__(self, router: Router) -> None:
        self._router = router

    def decode(self, body: bytes, media: str, group: str, tag: str | None, now_ms: int) -> Decoded:
        columns = EventColumns()
        rejections: list[Rejection] = []
        if media in ("application/msgpack", "application/x-msgpack"):
            entries = self._msgpack_records(body, now_ms)
        else:
            entries = [(record, None) for record in _json_records(body)]
        route = self._router.route if self._router.has_rules("fluentbit") else None
        joiner = kubernetes.LineJoiner()
        for number, (record, time_ms) in enumerate(entries, start=1):
            if type(record) is not dict:
                rejections.append(Rejection(number, "record is not a JSON object"))
                continue
            internal = record.pop("__internal__", None)
            if isinstance(internal, dict):
                record.setdefault("otel", internal)
            if tag:
                record.setdefault("fluent", {"tag": tag})
            hints = kubernetes.prepare(record, tag)
            if time_ms is not None and hints.timestamp_ms is None:
                hints.timestamp_ms = time_ms
            for done in joiner.feed((group, record.get("stream")), number, record, hints):
                self._add(columns, done, group, now_ms, route)
        for pending in joiner.drain():
            self._add(columns, pending, group, now_ms, route)
        return columns.build(rejections)

    def _add(
        self,
        columns: EventColumns,
        item: tuple[int, dict[str, Any], kubernetes.Hints],
        group: str,
        now_ms: int,
        route: Any,
    ) -> None:
        number, record, hints = item
        stream = hints.stream or default_stream(record)
        if route is not None:
            group, stream = route("fluentbit", record, group, stream)
        else:
            group, stream = self._router.route("fluentbit", {}, group, stream)
        add_shipped(
            columns,
            number,
            group,
            stream,
            record,
            now_ms if hints.timestamp_ms is None else hints.timestamp_ms,
            level=hints.level,
            service=hints.service,
        )

    @staticmethod
    def _msgpack_records(body: bytes, now_ms: int) -> list[tuple[Any, int | None]]:
        unpacker = new_unpacker(max(len(body), 1024))
        unpacker.feed(body)
        out: list[tuple[Any, int | None]] = []
        try:
            for entry in unpacker:
                if not isinstance(entry, list) or len(entry) < 2:
                    out.append((entry, None))
                    continue
                head, record = entry[0], entry[1]
                raw_time = head[0] if isinstance(head, list) and head else head
                if isinstance(raw_time, int | float) and raw_time < 0:
                    continue  # a group start or end marker
                if type(raw_time) is EventTime:
                    out.append((record, int(raw_time) or now_ms))
                elif isinstance(raw_time, int | float) and raw_time > 0:
                    out.append((record, int(raw_time * 1000)))
                else:
                    out.append((record, None))
        except ValueError as exc:
            raise InvalidParameterError("body is not a msgpack chunk", reason=str(exc)) from None
        return out
