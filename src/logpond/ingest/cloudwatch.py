"""PutLogEvents: CloudWatch Logs' batch rules, and the accepted events as a batch.

The rules, in the order CloudWatch applies them (the whole batch fails unless noted):

1. 1 to 10,000 events, each with a timestamp and a non-empty message;
2. each event's size (UTF-8 bytes of the message + 26) at most 1,048,576 bytes, and the
   sum of the sizes at most 1,048,576;
3. timestamps in non-decreasing order;
4. events more than 2 hours in the future (too new), more than 14 days old (too old), or
   older than the group's retention (expired) are refused one by one; the rest are stored;
5. the events that remain may not span more than 24 hours.

Because the batch is sorted, refused events form a prefix (too old, expired) and a suffix
(too new); :class:`Rejected` gives their bounds the way CloudWatch reports them.

Messages are stored verbatim: GetLogEvents returns what the client sent. A message that is a
JSON object also fills the promoted columns ``trace_id``, ``span_id``, ``tenant_id`` and
``service`` so filters on them are as cheap as for native ingest; its keys stay in the
message, where the query languages read them (``fields`` is null, so ``@message`` is the
message itself). ``level`` is not promoted: the store keeps levels in lower case, and
CloudWatch queries compare the level as written (``filter level = "ERROR"``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from logpond.model.errors import InvalidParameterError
from logpond.model.retention import DAY_MS

from .base import (
    SERVICE_KEYS,
    SPAN_ID_KEYS,
    TENANT_ID_KEYS,
    TRACE_ID_KEYS,
    Decoded,
    EventColumns,
)

__all__ = [
    "EVENT_OVERHEAD_BYTES",
    "MAX_BATCH_BYTES",
    "MAX_BATCH_EVENTS",
    "MAX_BATCH_SPAN_MS",
    "PutLogEventsBatch",
    "Rejected",
    "decode_put_log_events",
    "validation_error",
]

# CloudWatch's PutLogEvents quotas.
MAX_BATCH_EVENTS = 10_000
EVENT_OVERHEAD_BYTES = 26
MAX_BATCH_BYTES = 1_048_576
MAX_EVENT_SIZE_BYTES = 1_048_576
MAX_BATCH_SPAN_MS = DAY_MS
TOO_NEW_MS = 2 * 3_600_000
TOO_OLD_MS = 14 * DAY_MS

_PROMOTED = (TRACE_ID_KEYS, SPAN_ID_KEYS, TENANT_ID_KEYS, SERVICE_KEYS)
_SCALARS = (str, int, float)


def validation_error(value: object, where: str, constraint: str) -> InvalidParameterError:
    """CloudWatch's message for one failed constraint of a request member."""
    text = str(value)
    if len(text) > 256:
        text = text[:256] + "..."
    return InvalidParameterError(
        f"1 validation error detected: Value '{text}' at '{where}' failed to satisfy constraint: "
        f"Member must {constraint}"
    )


@dataclass(frozen=True, slots=True)
class Rejected:
    """CloudWatch's ``rejectedLogEventsInfo``: an inclusive start and two exclusive ends."""

    too_new_start: int | None = None
    too_old_end: int | None = None
    expired_end: int | None = None

    def to_dict(self) -> dict[str, int] | None:
        """The response member, or ``None`` when nothing was refused (then it is omitted)."""
        out: dict[str, int] = {}
        if self.too_new_start is not None:
            out["tooNewLogEventStartIndex"] = self.too_new_start
        if self.too_old_end is not None:
            out["tooOldLogEventEndIndex"] = self.too_old_end
        if self.expired_end is not None:
            out["expiredLogEventEndIndex"] = self.expired_end
        return out or None


@dataclass(frozen=True, slots=True)
class PutLogEventsBatch:
    """The accepted events as a decoded batch, and what was refused."""

    decoded: Decoded
    rejected: Rejected


def _promoted(message: str) -> list[Any] | None:
    """The promoted values of a message that is a JSON object, else ``None``."""
    try:
        record = orjson.loads(message)
    except orjson.JSONDecodeError:
        return None
    if type(record) is not dict:
        return None
    values: list[Any] = []
    for aliases in _PROMOTED:
        found = None
        for key in aliases:
            value = record.get(key)
            if type(value) in _SCALARS:
                found = value if type(value) is str else str(value)
                break
        values.append(found)
    return values


def decode_put_log_events(
    events: object,
    *,
    log_group: str,
    log_stream: str,
    now_ms: int,
    retention_days: int | None,
) -> PutLogEventsBatch:
    """Check a PutLogEvents ``logEvents`` list and build the batch of accepted events."""
    if not isinstance(events, list):
        raise validation_error(events, "logEvents", "not be null")
    count = len(events)
    if count < 1:
        raise validation_error("[]", "logEvents", "have length greater than or equal to 1")
    if count > MAX_BATCH_EVENTS:
        raise validation_error(
            f"[{count} events]", "logEvents", f"have length less than or equal to {MAX_BATCH_EVENTS}"
        )
    timestamps: list[int] = []
    messages: list[str] = []
    total = 0
    previous = -1
    for index, event in enumerate(events):
        if type(event) is not dict:
            raise validation_error(event, f"logEvents.{index + 1}.member", "be an object")
        timestamp = event.get("timestamp")
        message = event.get("message")
        if type(timestamp) is not int or timestamp < 0:
            raise validation_error(
                timestamp, f"logEvents.{index + 1}.member.timestamp", "be a number of milliseconds"
            )
        if type(message) is not str:
            raise validation_error(message, f"logEvents.{index + 1}.member.message", "not be null")
        if not message:
            raise validation_error(
                message, f"logEvents.{index + 1}.member.message", "have length greater than or equal to 1"
            )
        size = (len(message) if message.isascii() else len(message.encode())) + EVENT_OVERHEAD_BYTES
        if size > MAX_EVENT_SIZE_BYTES:
            raise InvalidParameterError(
                f"Log event too large: {size} bytes exceeds limit of {MAX_EVENT_SIZE_BYTES}"
            )
        total += size
        if timestamp < previous:
            raise InvalidParameterError(
                "Log events in a single PutLogEvents request must be in chronological order."
            )
        previous = timestamp
        timestamps.append(timestamp)
        messages.append(message)
    if total > MAX_BATCH_BYTES:
        raise InvalidParameterError(f"Upload too large: {total} bytes exceeds limit of {MAX_BATCH_BYTES}")

    # Sorted: refused events are a prefix (too old / expired) and a suffix (too new).
    too_old_before = now_ms - TOO_OLD_MS
    expired_before = now_ms - retention_days * DAY_MS if retention_days is not None else None
    too_new_after = now_ms + TOO_NEW_MS
    first = 0
    too_old_end = expired_end = None
    while first < count and (
        timestamps[first] < too_old_before
        or (expired_before is not None and timestamps[first] < expired_before)
    ):
        if timestamps[first] < too_old_before:
            too_old_end = first + 1
        else:
            expired_end = first + 1
        first += 1
    end = count
    while end > first and timestamps[end - 1] > too_new_after:
        end -= 1
    too_new_start = end if end < count else None
    if end > first and timestamps[end - 1] - timestamps[first] > MAX_BATCH_SPAN_MS:
        raise InvalidParameterError(
            "The batch of log events in a single PutLogEvents request cannot span more than 24 hours."
        )

    columns = EventColumns()
    add = columns.add_text
    for index in range(first, end):
        message = messages[index]
        promoted = _promoted(message) if message[0] == "{" else None
        if promoted is None:
            add(index + 1, log_group, log_stream, timestamps[index], message)
        else:
            trace_id, span_id, tenant_id, service = promoted
            add(
                index + 1, log_group, log_stream, timestamps[index], message,
                trace_id=trace_id, span_id=span_id, tenant_id=tenant_id, service=service,
            )  # fmt: skip
    return PutLogEventsBatch(columns.build([]), Rejected(too_new_start, too_old_end, expired_end))
