"""Fluentd forward protocol v1 messages, as msgpack decoded them, into events.

Modes, told apart by the second element: Message ``[tag, time, record, option?]``, Forward
``[tag, [[time, record], ...], option?]``, PackedForward ``[tag, <msgpack entries>, option?]``
and CompressedPackedForward (the same, gzip, ``option.compressed == "gzip"``). An entry's
time may be ``[time, metadata]`` (Fluent Bit); times -1/-2 mark group starts and ends and are
skipped. Times are integer seconds, float seconds, EventTime (ext 0: seconds and
nanoseconds) or msgpack timestamps.

Group: the tag; stream: the record's pod or host; fields: the record, with ``fluent.tag``
(and ``fluent.metadata`` when Fluent Bit sends some). A tag naming a
``/var/log/containers`` file gives the pod's Kubernetes metadata.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterator
from typing import Any

import msgpack

from logpond.model.errors import InvalidParameterError, PayloadTooLargeError
from logpond.model.limits import MAX_FORWARD_MESSAGE_BYTES

from . import kubernetes
from .base import EventColumns, Rejection
from .records import add_shipped, default_stream
from .routing import Router

__all__ = ["EventTime", "ForwardDecoder", "ext_hook", "new_unpacker"]


class EventTime(int):
    """An EventTime (msgpack ext type 0), held as milliseconds since the epoch."""


def ext_hook(code: int, data: bytes) -> Any:
    if code == 0 and len(data) == 8:
        seconds, nanos = struct.unpack(">II", data)
        return EventTime(seconds * 1000 + nanos // 1_000_000)
    return msgpack.ExtType(code, data)


def new_unpacker(
    max_buffer: int = MAX_FORWARD_MESSAGE_BYTES, *, exact_text: bool = False
) -> msgpack.Unpacker:
    """An unpacker for forward data: EventTime read, msgpack timestamps as objects, text that
    is not UTF-8 repaired (U+FFFD); ``exact_text`` keeps such text byte-exact instead (the
    handshake's PING salt is random bytes in a str)."""
    return msgpack.Unpacker(
        raw=False,
        unicode_errors="surrogateescape" if exact_text else "replace",
        max_buffer_size=max_buffer,
        ext_hook=ext_hook,
        strict_map_key=False,
    )


def _time_ms(value: Any, now_ms: int) -> int | None:
    """An entry time in ms; None for a group marker; ``now_ms`` when missing or zero."""
    kind = type(value)
    if kind is EventTime:
        return int(value) if value else now_ms
    if kind is int:
        if value < 0:
            return None
        return value * 1000 if value else now_ms
    if kind is float:
        return int(value * 1000) if value > 0 else (None if value < 0 else now_ms)
    if isinstance(value, msgpack.Timestamp):
        return value.to_unix_nano() // 1_000_000
    return now_ms


def _gunzip(data: bytes) -> bytes:
    out: list[bytes] = []
    size = 0
    while data:
        inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
        try:
            chunk = inflater.decompress(data, MAX_FORWARD_MESSAGE_BYTES + 1 - size)
        except zlib.error as exc:
            raise InvalidParameterError("compressed entries are not valid gzip", reason=str(exc)) from None
        size += len(chunk)
        out.append(chunk)
        if size > MAX_FORWARD_MESSAGE_BYTES or inflater.unconsumed_tail:
            raise PayloadTooLargeError("compressed entries expand past the limit")
        if not inflater.eof:
            raise InvalidParameterError("compressed entries are truncated")
        data = inflater.unused_data
    return b"".join(out)


def _entries(message: list[Any]) -> tuple[str, Iterator[Any], dict[str, Any]]:
    """(tag, entries, option) of one message; entries are [time, record] pairs."""
    if len(message) < 2 or not isinstance(message[0], str):
        raise InvalidParameterError("a forward message is [tag, ...]")
    tag = message[0]
    second = message[1]
    if isinstance(second, int | float | EventTime | msgpack.Timestamp | msgpack.ExtType):
        if len(message) < 3:
            raise InvalidParameterError("a message-mode event is [tag, time, record]")
        option = message[3] if len(message) > 3 and isinstance(message[3], dict) else {}
        return tag, iter(((second, message[2]),)), option
    option = message[2] if len(message) > 2 and isinstance(message[2], dict) else {}
    if isinstance(second, list):
        return tag, iter(second), option
    if isinstance(second, bytes | str):
        packed = second if isinstance(second, bytes) else second.encode("utf-8", "surrogateescape")
        if option.get("compressed") == "gzip":
            packed = _gunzip(packed)
        unpacker = new_unpacker(max(len(packed), 1024))
        unpacker.feed(packed)
        return tag, iter(unpacker), option
    raise InvalidParameterError("unknown forward message mode")


class ForwardDecoder:
    """Adds the events of forward messages to one column set; see the module docstring."""

    def __init__(self, router: Router) -> None:
        self._router = router
        self.columns = EventColumns()
        self.rejections: list[Rejection] = []
        self._number = 0

    def add_message(self, message: Any, now_ms: int) -> str | None:
        """Add one message's events; returns its ``chunk`` option (the ack id) if any.

        A message that is not a forward message raises ``InvalidParameterError``; entries that
        are not ``[time, record]`` are skipped (and still acknowledged: a chunk never acked
        would be resent forever).
        """
        if not isinstance(message, list):
            raise InvalidParameterError("a forward message is an array")
        tag, entries, option = _entries(message)
        chunk = option.get("chunk")
        if option.get("fluent_signal", 0) not in (0, None):
            return chunk if isinstance(chunk, str) else None
        route = self._router.route if self._router.has_rules("forward") else None
        joiner = kubernetes.LineJoiner()
        for entry in entries:
            self._number += 1
            if not isinstance(entry, list | tuple) or len(entry) < 2 or not isinstance(entry[1], dict):
                self.rejections.append(Rejection(self._number, "entry is not [time, record]"))
                continue
            raw_time, record = entry[0], entry[1]
            metadata = None
            if isinstance(raw_time, list | tuple):
                metadata = raw_time[1] if len(raw_time) > 1 else None
                raw_time = raw_time[0] if raw_time else 0
            timestamp = _time_ms(raw_time, now_ms)
            if timestamp is None:
                continue  # a group start or end marker
            fluent: dict[str, Any] = {"tag": tag}
            if isinstance(metadata, dict) and metadata:
                fluent["metadata"] = metadata
            record.setdefault("fluent", fluent)
            hints = kubernetes.prepare(record, tag)
            if hints.timestamp_ms is None:
                hints.timestamp_ms = timestamp
            for done in joiner.feed((tag, record.get("stream")), self._number, record, hints):
                self._add(done, tag, now_ms, route)
        for pending in joiner.drain():
            self._add(pending, tag, now_ms, route)
        return chunk if isinstance(chunk, str) else None

    def _add(
        self, item: tuple[int, dict[str, Any], kubernetes.Hints], tag: str, timestamp: int, route: Any
    ) -> None:
        number, record, hints = item
        group, stream = tag, hints.stream or default_stream(record)
        if route is not None:
            group, stream = route("forward", record, group, stream)
        else:
            group, stream = self._router.route("forward", {}, group, stream)
        add_shipped(
            self.columns,
            number,
            group,
            stream,
            record,
            timestamp if hints.timestamp_ms is None else hints.timestamp_ms,
            level=hints.level,
            service=hints.service,
        )
