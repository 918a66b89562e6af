"""What every decoder shares: the result shape, the column builder, record promotion.

A decoder turns one request body into a :class:`Decoded`: an Arrow batch with
``EVENT_SCHEMA`` and the records it refused, each with a reason. Decoders fill an
:class:`EventColumns` record by record and build the batch once.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Protocol

import orjson
import pyarrow as pa
import pyarrow.compute as pc

from logpond.model.limits import MAX_EVENT_BYTES
from logpond.model.schema import EVENT_SCHEMA, empty_batch
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
        (TIMESTAMP_KEYS, MESSAGE_KEYS, LEVEL_KEYS, TRACE_ID_KEYS, SPAN_ID_KEYS, TENANT_ID_KEYS, SERVICE_KEYS),
        start=3,  # row positions 0-2 hold the line number, group and stream
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


_STRING = pa.string()

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
    """pino's numeric levels by name; other values as text (lower-cased with the column)."""
    if type(value) is str:
        return value
    return _NUMERIC_LEVELS.get(int(value), str(value))  # type: ignore[call-overload]


class EventColumns:
    """Accumulates events as row tuples and builds one Arrow batch from them.

    Each event costs one tuple append; ``build`` transposes the rows in C (``zip``) and
    converts each column once. Values that are not strings (a numeric trace id, pino's
    numeric levels) are converted only when a column holds any.
    """

    __slots__ = ("_rows",)

    def __init__(self) -> None:
        # (line, group, stream, timestamp, message, level, trace_id, span_id, tenant_id,
        #  service, fields)
        self._rows: list[tuple[Any, ...]] = []

    def __len__(self) -> int:
        return len(self._rows)

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
        self._rows.append(
            (
                line, log_group, log_stream, timestamp_ms, message, level, trace_id, span_id,
                tenant_id, service, orjson.dumps(fields) if fields else None,
            )
        )  # fmt: skip

    def add_event(
        self,
        line: int,
        log_group: str,
        log_stream: str,
        timestamp_ms: int,
        message: str,
        level: str | None,
        trace_id: str | None,
        span_id: str | None,
        tenant_id: str | None,
        service: str | None,
        fields_json: bytes | None,
    ) -> None:
        """Add one event whose columns a protocol decoder worked out, fields already JSON."""
        self._rows.append(
            (line, log_group, log_stream, timestamp_ms, message, level, trace_id, span_id, tenant_id,
             service, fields_json)
        )  # fmt: skip

    def add_record(
        self, line: int, log_group: str, log_stream: str, record: dict[str, Any], default_ms: int
    ) -> str | None:
        """Add one structured record, promoting its well-known keys.

        For each promoted column the first alias present wins, if its value is a string or
        a number; the promoted key leaves ``record`` (which is consumed), the rest becomes
        ``fields``. Returns the reason the record is refused, or ``None`` once it is added.
        This runs once per event: it is written for speed.
        """
        found: list[Any] = [line, log_group, log_stream, None, None, None, None, None, None, None, None]
        for key, slot in _promotion_plan(tuple(record)):
            value = record[key]
            if type(value) in _SCALARS:
                found[slot] = value
                del record[key]
        raw_time = found[3]
        if raw_time is None:
            found[3] = default_ms
        else:
            parsed = parse_timestamp(raw_time)
            if parsed is None:
                return f"invalid timestamp {str(raw_time)[:64]!r}"
            found[3] = parsed
        # Even with every key promoted a record keeps its fields ("{}"): that is what marks
        # the event as structured, so @message is rebuilt as JSON for filter patterns.
        found[10] = orjson.dumps(record)
        self._rows.append(tuple(found))
        return None

    def build(self, rejections: list[Rejection]) -> Decoded:
        """The accumulated events as one batch with ``EVENT_SCHEMA``, and the rejections."""
        if not self._rows:
            return Decoded(empty_batch(), pa.array([], pa.int32()), rejections)
        (line, group, stream, timestamp, message, level, trace_id, span_id, tenant_id, service,
         fields) = zip(*self._rows, strict=True)  # fmt: skip
        levels = _text_column(level, _as_level)
        batch = pa.RecordBatch.from_arrays(
            [
                _text_column(group),
                _text_column(stream),
                pa.array(timestamp, pa.int64()),
                _text_column(message),
                pc.utf8_lower(levels) if levels.null_count < len(levels) else levels,
                _text_column(trace_id),
                _text_column(span_id),
                _text_column(tenant_id),
                _text_column(service),
                pa.array(fields, pa.string()),
            ],
            schema=EVENT_SCHEMA,
        )
        return Decoded(batch, pa.array(line, pa.int32()), rejections)


def _as_text(value: object) -> str:
    return value if type(value) is str else str(value)


def _text_column(values: Sequence[Any], convert: Callable[[Any], str] = _as_text) -> pa.Array:
    """A string column; numbers among the values are converted (rare, so only on demand)."""
    try:
        return pa.array(values, _STRING)
    except (pa.ArrowTypeError, pa.ArrowInvalid):
        return pa.array([None if v is None else convert(v) for v in values], _STRING)


def too_large(size: int) -> str | None:
    """The rejection reason for a record of ``size`` bytes, if it is over the event limit."""
    if size > MAX_EVENT_BYTES:
        return f"record is {size} bytes, over the {MAX_EVENT_BYTES} byte limit"
    return None
