"""What every decoder shares: the result shape, the column builder, record promotion.

A decoder turns one request body into a :class:`Decoded`: an Arrow batch with
``EVENT_SCHEMA`` and the records it refused, each with a reason. Decoders fill an
:class:`EventColumns` record by record and build the batch once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Protocol

import orjson
import pyarrow as pa

from logpond.model.limits import MAX_EVENT_BYTES
from logpond.model.schema import EVENT_SCHEMA
from logpond.model.timestamps import parse_timestamp

__all__ = [
    "DecodeContext",
    "Decoded",
    "Decoder",
    "EventColumns",
    "Rejection",
]

# Keys read as the event time, message and promoted columns, first match wins. Aliases cover
# the common JSON loggers (pino's msg, Docker's log and time, ECS's @timestamp).
TIMESTAMP_KEYS = ("timestamp", "@timestamp", "time")
MESSAGE_KEYS = ("message", "msg", "log")
LEVEL_KEYS = ("level", "severity", "levelname")
TRACE_ID_KEYS = ("trace_id", "traceId")
SPAN_ID_KEYS = ("span_id", "spanId")
TENANT_ID_KEYS = ("tenant_id", "tenantId")
SERVICE_KEYS = ("service",)

# Every alias with the slot it fills, in priority order.
_ALIAS_ORDER: tuple[tuple[str, int], ...] = tuple(
    (key, slot)
    for slot, keys in enumerate(
        (TIMESTAMP_KEYS, MESSAGE_KEYS, LEVEL_KEYS, TRACE_ID_KEYS, SPAN_ID_KEYS, TENANT_ID_KEYS, SERVICE_KEYS)
    )
    for key in keys
)

_ALIAS_KEYS = frozenset(key for key, _ in _ALIAS_ORDER)


@lru_cache(maxsize=1024)
def _promotion_plan(keys: tuple[str, ...]) -> tuple[tuple[str, int], ...]:
    """For a record's keys, the alias that wins each slot. Records of one logger share their
    keys, so this is computed once per shape."""
    present = _ALIAS_KEYS.intersection(keys)
    plan: dict[int, str] = {}
    for key, slot in _ALIAS_ORDER:
        if key in present and slot not in plan:
            plan[slot] = key
    return tuple((key, slot) for slot, key in plan.items())


# pino and bunyan write numeric levels.
_NUMERIC_LEVELS = {10: "trace", 20: "debug", 30: "info", 40: "warn", 50: "error", 60: "fatal"}


@dataclass(frozen=True, slots=True)
class Rejection:
    """A record refused, by its 1-based position in the request, with the reason."""

    line: int
    reason: str


@dataclass(slots=True)
class Decoded:
    """A decoded request: the events, the position of each in the request, the rejections.

    ``lines[i]`` is the 1-based record number of row ``i`` in the request body, so later
    stages can refuse single rows and still say which record it was.
    """

    batch: pa.RecordBatch
    lines: pa.Array
    rejections: list[Rejection] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class DecodeContext:
    """What a decoder knows besides the body: target names, time, headers."""

    log_group: str
    log_stream: str
    now_ms: int
    content_type: str = ""
    headers: dict[str, str] = field(default_factory=dict)


class Decoder(Protocol):
    """Turns a request body into events; never touches the store."""

    def decode(self, body: bytes, context: DecodeContext) -> Decoded: ...


_SCALARS = (str, int, float)


def _as_level(value: object) -> str:
    if type(value) is str:
        return value.lower()
    return _NUMERIC_LEVELS.get(int(value), str(value))  # type: ignore[call-overload]


class EventColumns:
    """Accumulates events column by column and builds one Arrow batch.

    One Python list per column: decoders append scalars, never build per-event objects
    that outlive the call.
    """

    __slots__ = (
        "fields",
        "level",
        "line",
        "log_group",
        "log_stream",
        "message",
        "service",
        "span_id",
        "tenant_id",
        "timestamp",
        "trace_id",
    )

    def __init__(self) -> None:
        self.log_group: list[str] = []
        self.log_stream: list[str] = []
        self.timestamp: list[int] = []
        self.message: list[str | None] = []
        self.level: list[str | None] = []
        self.trace_id: list[str | None] = []
        self.span_id: list[str | None] = []
        self.tenant_id: list[str | None] = []
        self.service: list[str | None] = []
        self.fields: list[bytes | None] = []
        self.line: list[int] = []

    def __len__(self) -> int:
        return len(self.timestamp)

    def add_text(
        self,
        line: int,
        log_group: str,
        log_stream: str,
        timestamp_ms: int,
        message: str,
        *,
        level: str | None = None,
        trace_id: str | None = None,
        span_id: str | None = None,
        tenant_id: str | None = None,
        service: str | None = None,
        fields: dict[str, Any] | None = None,
    ) -> None:
        """Add one event whose parts the decoder already knows."""
        self.line.append(line)
        self.log_group.append(log_group)
        self.log_stream.append(log_stream)
        self.timestamp.append(timestamp_ms)
        self.message.append(message)
        self.level.append(level)
        self.trace_id.append(trace_id)
        self.span_id.append(span_id)
        self.tenant_id.append(tenant_id)
        self.service.append(service)
        self.fields.append(orjson.dumps(fields) if fields else None)

    def add_record(
        self, line: int, log_group: str, log_stream: str, record: dict[str, Any], default_ms: int
    ) -> str | None:
        """Add one structured record, promoting its well-known keys.

        For each promoted column the first alias present wins, if its value is a string or
        a number; the promoted key leaves ``record`` (which is consumed), the rest becomes
        ``fields``. Returns the reason the record is refused, or ``None`` once it is added.
        This runs once per event: it is written for speed, one pass over the aliases.
        """
        found: list[object] = [None, None, None, None, None, None, None]
        for key, slot in _promotion_plan(tuple(record)):
            value = record[key]
            if type(value) in _SCALARS:
                found[slot] = value
                del record[key]
        raw_time, message, level, trace_id, span_id, tenant_id, service = found
        if raw_time is None:
            timestamp_ms = default_ms
        else:
            parsed = parse_timestamp(raw_time)
            if parsed is None:
                return f"invalid timestamp {str(raw_time)[:64]!r}"
            timestamp_ms = parsed
        self.line.append(line)
        self.log_group.append(log_group)
        self.log_stream.append(log_stream)
        self.timestamp.append(timestamp_ms)
        self.message.append(message if message is None or type(message) is str else str(message))
        self.level.append(None if level is None else _as_level(level))
        self.trace_id.append(trace_id if trace_id is None or type(trace_id) is str else str(trace_id))
        self.span_id.append(span_id if span_id is None or type(span_id) is str else str(span_id))
        self.tenant_id.append(tenant_id if tenant_id is None or type(tenant_id) is str else str(tenant_id))
        self.service.append(service if service is None or type(service) is str else str(service))
        self.fields.append(orjson.dumps(record) if record else None)
        return None

    def build(self, rejections: list[Rejection]) -> Decoded:
        """The accumulated events as one batch with ``EVENT_SCHEMA``, and the rejections."""
        string = pa.string()
        batch = pa.RecordBatch.from_arrays(
            [
                pa.array(self.log_group, string),
                pa.array(self.log_stream, string),
                pa.array(self.timestamp, pa.int64()),
                pa.array(self.message, string),
                pa.array(self.level, string),
                pa.array(self.trace_id, string),
                pa.array(self.span_id, string),
                pa.array(self.tenant_id, string),
                pa.array(self.service, string),
                pa.array(self.fields, string),
            ],
            schema=EVENT_SCHEMA,
        )
        return Decoded(batch, pa.array(self.line, pa.int32()), rejections)


def too_large(size: int) -> str | None:
    """The rejection reason for a record of ``size`` bytes, if it is over the event limit."""
    if size > MAX_EVENT_BYTES:
        return f"record is {size} bytes, over the {MAX_EVENT_BYTES} byte limit"
    return None
