"""Events: PutLogEvents (through the ingest pipeline), GetLogEvents, FilterLogEvents."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from logpond.ingest.cloudwatch import EVENT_OVERHEAD_BYTES, decode_put_log_events
from logpond.model.errors import InvalidParameterError
from logpond.model.schema import PROMOTED_COLUMNS
from logpond.query import parse_filter_pattern, rebuild_message
from logpond.store.base import FilterRequest, SearchRequest, StoredEvent
from logpond.store.base import encode_token as store_token

from .protocol import Call, decode_token, encode_token, in_thread, operation

__all__ = ["event_message"]

MAX_EVENTS_PER_PAGE = 10_000
# A page of events holds at most this many bytes (messages + 26 each), like CloudWatch's.
MAX_PAGE_BYTES = 1_048_576
# FilterLogEvents may run newest first only for ranges that start after this (2024-01-01).
DESCENDING_FILTER_FROM_MS = 1_704_067_200_000
_TOKEN_RE = re.compile(r"([fb])/(-?\d{1,19})/(-?\d{1,19})")
_PROMOTED = tuple(PROMOTED_COLUMNS)


def event_message(event: StoredEvent) -> str:
    """The event's text as CloudWatch shows it (``@message``)."""
    if event.fields is None:
        return event.message or ""
    promoted = tuple(getattr(event, name) for name in _PROMOTED)
    return rebuild_message(event.timestamp, event.message, event.fields, promoted) or ""


def _capped(events: Sequence[StoredEvent]) -> tuple[list[tuple[StoredEvent, str]], bool]:
    """The events (with their text) that fit in one page's byte budget, and whether any did not."""
    out: list[tuple[StoredEvent, str]] = []
    size = 0
    for event in events:
        text = event_message(event)
        size += len(text.encode()) + EVENT_OVERHEAD_BYTES
        if out and size > MAX_PAGE_BYTES:
            return out, True
        out.append((event, text))
    return out, False


def _sequence_token(last_seq: int | None) -> str:
    return str(last_seq or 0).rjust(56, "4")


@operation("PutLogEvents")
async def put_log_events(call: Call) -> dict[str, Any]:
    group_name = call.required_group_name()
    stream_name = call.required_stream_name()
    call.string("sequenceToken")  # accepted and ignored, as CloudWatch does today
    call.access.group(group_name)
    svc = call.svc
    group = call.existing_group(group_name)
    call.existing_stream(group_name, stream_name)
    batch = decode_put_log_events(
        call.body.get("logEvents"),
        log_group=group_name,
        log_stream=stream_name,
        now_ms=svc.clock.now_ms(),
        retention_days=group.retention_days,
    )
    result = await svc.pipeline.ingest(batch.decoded, call.access.principal, create_streams=False)
    body: dict[str, Any] = {"nextSequenceToken": _sequence_token(result.last_seq)}
    rejected = batch.rejected.to_dict()
    if rejected is not None:
        body["rejectedLogEventsInfo"] = rejected
    return body


def _time(call: Call, name: str) -> int | None:
    return call.integer(name, minimum=0)


@operation("GetLogEvents")
async def get_log_events(call: Call) -> dict[str, Any]:
    group = call.group()
    stream = call.required_stream_name()
    start, end = _time(call, "startTime"), _time(call, "endTime")
    limit = call.integer("limit", minimum=1, maximum=MAX_EVENTS_PER_PAGE) or MAX_EVENTS_PER_PAGE
    from_head = call.boolean("startFromHead") or False
    token = call.string("nextToken")
    call.boolean("unmask")
    call.access.group(group)
    call.existing_group(group)
    call.existing_stream(group, stream)
    cursor: tuple[str, int, int] | None = None
    if token is not None:
        match = _TOKEN_RE.fullmatch(token)
        if match is None:
            raise InvalidParameterError("The specified nextToken is invalid.")
        cursor = (match.group(1), int(match.group(2)), int(match.group(3)))
    ascending = cursor[0] == "f" if cursor is not None else from_head
    request = SearchRequest(
        groups=[group],
        start_ms=start,
        end_ms=end,
        streams=[stream],
        limit=limit,
        ascending=ascending,
        cursor=store_token([cursor[1], cursor[2]]) if cursor is not None and cursor[1] >= 0 else None,
    )
    if cursor is not None and cursor[0] == "b" and cursor[1] < 0:
        found: list[StoredEvent] = []
    else:
        found = (await in_thread(call.svc.store.search, request)).events
    page, _ = _capped(found)
    if not ascending:
        page.reverse()
    events = [
        {"timestamp": e.timestamp, "message": text, "ingestionTime": e.ingestion_time} for e, text in page
    ]
    if page:
        first, last = page[0][0], page[-1][0]
        forward, backward = f"f/{last.timestamp}/{last.seq}", f"b/{first.timestamp}/{first.seq}"
    elif cursor is not None:
        # The end in this direction: hand the caller's token back, so it knows to stop.
        assert token is not None
        forward = token if cursor[0] == "f" else f"f/{cursor[1]}/{cursor[2]}"
        backward = token if cursor[0] == "b" else f"b/{cursor[1]}/{cursor[2]}"
    else:
        forward, backward = "f/-1/-1", "b/-1/-1"
    return {"events": events, "nextForwardToken": forward, "nextBackwardToken": backward}


@operation("FilterLogEvents")
async def filter_log_events(call: Call) -> dict[str, Any]:
    group = call.group()
    streams = call.strings("logStreamNames", min_items=1, max_items=100, item_max=512)
    prefix = call.stream_name("logStreamNamePrefix", required=False)
    start, end = _time(call, "startTime"), _time(call, "endTime")
    text = call.string("filterPattern", min_len=0, max_len=1024)
    limit = call.integer("limit", minimum=1, maximum=MAX_EVENTS_PER_PAGE) or MAX_EVENTS_PER_PAGE
    from_head = call.boolean("startFromHead")
    call.boolean("interleaved")
    call.boolean("unmask")
    after = decode_token(call.string("nextToken"))
    if streams is not None and prefix is not None:
        raise InvalidParameterError("logStreamNames and logStreamNamePrefix are mutually exclusive.")
    if from_head is False and (start is None or start < DESCENDING_FILTER_FROM_MS):
        raise InvalidParameterError(
            "startFromHead=false is only supported with a startTime on or after 2024-01-01."
        )
    try:
        pattern = parse_filter_pattern(text or "")
    except InvalidParameterError as exc:
        raise InvalidParameterError(f"Invalid filter pattern: {exc}") from None
    descending = from_head is False
    position: tuple[int, int] | None = None
    if after is not None:
        if (
            not isinstance(after, list)
            or len(after) != 3
            or after[0] not in ("a", "d")
            or not all(isinstance(v, int) for v in after[1:])
        ):
            raise InvalidParameterError("The specified nextToken is invalid.")
        descending = after[0] == "d"
        position = (after[1], after[2])
    call.access.group(group)
    call.existing_group(group)
    request = FilterRequest(
        groups=[group],
        pattern=pattern,
        start_ms=start,
        end_ms=None if end is None else end + 1,
        streams=streams or (),
        stream_prefix=prefix,
        limit=limit,
        descending=descending,
        after=position,
    )
    result = await in_thread(call.svc.store.filter_events, request)
    page, cut = _capped(result.events)
    body: dict[str, Any] = {
        "events": [
            {
                "logStreamName": e.stream,
                "timestamp": e.timestamp,
                "message": text,
                "ingestionTime": e.ingestion_time,
                "eventId": str(e.seq),
            }
            for e, text in page
        ],
        "searchedLogStreams": [],
    }
    if (result.more or cut) and page:
        last = page[-1][0]
        body["nextToken"] = encode_token(["d" if descending else "a", last.timestamp, last.seq])
    return body
