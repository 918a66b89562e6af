"""StartLiveTail: events as they are committed, streamed in AWS event-stream framing.

The response is ``application/vnd.amazon.eventstream``: an ``initial-response`` event
(botocore requires it for JSON protocols), a ``sessionStart`` event, then a
``sessionUpdate`` every second with the events committed since (at most 500; beyond that a
sample, with ``sampled`` true), until the client leaves or the session reaches 3 hours
(``SessionTimeoutException``). Each message is framed as AWS specifies: total length,
headers length, prelude CRC32, headers (string-typed), payload, message CRC32.

botocore puts the operation's host prefix (``stream-``) in front of a custom endpoint's
host; clients set ``inject_host_prefix=False`` (or reach logpond under that name).
"""

from __future__ import annotations

import asyncio
import random
import struct
import time
import uuid
import zlib
from collections.abc import AsyncIterator
from typing import Any

import orjson
from starlette.responses import Response, StreamingResponse

from logpond.model.errors import InvalidParameterError
from logpond.model.schema import PROMOTED_COLUMNS
from logpond.pipeline.live_tail import DEFAULT_TAIL_BUFFER_ROWS
from logpond.query import rebuild_message

from .protocol import STREAM_NAME_RE, Call, operation

__all__ = ["encode_event", "encode_message"]

EVENT_STREAM_TYPE = "application/vnd.amazon.eventstream"
MAX_TAIL_GROUPS = 10
MAX_EVENTS_PER_UPDATE = 500
UPDATE_SECONDS = 1.0
SESSION_SECONDS = 3 * 3600
_STRING = 7


def encode_message(headers: dict[str, str], payload: bytes) -> bytes:
    """One event-stream message: prelude, its CRC, string headers, payload, message CRC."""
    encoded = b"".join(
        bytes([len(name)]) + name.encode() + bytes([_STRING]) + struct.pack(">H", len(value.encode()))
        + value.encode()
        for name, value in headers.items()
    )  # fmt: skip
    total = 12 + len(encoded) + len(payload) + 4
    prelude = struct.pack(">II", total, len(encoded))
    message = prelude + struct.pack(">I", zlib.crc32(prelude)) + encoded + payload
    return message + struct.pack(">I", zlib.crc32(message))


def encode_event(event_type: str, body: dict[str, Any]) -> bytes:
    return encode_message(
        {":message-type": "event", ":event-type": event_type, ":content-type": "application/json"},
        orjson.dumps(body),
    )


def encode_exception(kind: str, message: str) -> bytes:
    return encode_message(
        {":message-type": "exception", ":exception-type": kind, ":content-type": "application/json"},
        orjson.dumps({"message": message}),
    )


def _raw_message(event: dict[str, Any]) -> str:
    """The event's text as CloudWatch shows it (a structured record rebuilt as JSON)."""
    if event["fields"] is None:
        return str(event["message"] or "")
    promoted = tuple(event[name] for name in PROMOTED_COLUMNS)
    return rebuild_message(event["timestamp"], event["message"], event["fields"], promoted) or ""


@operation("StartLiveTail")
async def start_live_tail(call: Call) -> Response:
    identifiers = call.strings("logGroupIdentifiers", required=True, min_items=1, max_items=MAX_TAIL_GROUPS)
    streams = call.strings(
        "logStreamNames", min_items=1, max_items=100, item_max=512, item_pattern=STREAM_NAME_RE
    )
    prefixes = call.strings(
        "logStreamNamePrefixes", min_items=1, max_items=100, item_max=512, item_pattern=STREAM_NAME_RE
    )
    text = call.string("logEventFilterPattern", min_len=0, max_len=1024)
    if streams is not None and prefixes is not None:
        raise InvalidParameterError("logStreamNames and logStreamNamePrefixes are mutually exclusive.")
    assert identifiers is not None
    if (streams is not None or prefixes is not None) and len(identifiers) != 1:
        raise InvalidParameterError("Stream filters need exactly one log group identifier.")
    groups = [call.identifier_to_name(i.removesuffix(":*")) for i in identifiers]
    for group in groups:
        call.access.group(group)
        call.existing_group(group)
    try:
        session = call.svc.live_tail.subscribe(
            groups, text or None, streams=streams or (), stream_prefixes=prefixes or ()
        )
    except InvalidParameterError as exc:
        raise InvalidParameterError(f"Invalid filter pattern: {exc}") from None
    session_id = str(uuid.uuid4())
    by_name = {g: identifiers[i] for i, g in enumerate(groups)}
    start = {
        "requestId": call.request_id,
        "sessionId": session_id,
        "logGroupIdentifiers": identifiers,
        "logStreamNames": streams or [],
        "logStreamNamePrefixes": prefixes or [],
        "logEventFilterPattern": text or "",
    }

    async def frames() -> AsyncIterator[bytes]:
        try:
            yield encode_message({":message-type": "event", ":event-type": "initial-response"}, b"{}")
            yield encode_event("sessionStart", start)
            deadline = time.monotonic() + SESSION_SECONDS
            while time.monotonic() < deadline:
                await asyncio.sleep(UPDATE_SECONDS)
                events, dropped = session.drain(max_rows=DEFAULT_TAIL_BUFFER_ROWS)
                sampled = dropped > 0 or len(events) > MAX_EVENTS_PER_UPDATE
                if len(events) > MAX_EVENTS_PER_UPDATE:
                    keep = sorted(random.sample(range(len(events)), MAX_EVENTS_PER_UPDATE))
                    events = [events[i] for i in keep]
                yield encode_event(
                    "sessionUpdate",
                    {
                        "sessionMetadata": {"sampled": sampled},
                        "sessionResults": [
                            {
                                "logStreamName": e["stream"],
                                "logGroupIdentifier": by_name.get(e["group"], e["group"]),
                                "message": _raw_message(e),
                                "timestamp": e["timestamp"],
                                "ingestionTime": e["ingestion_time"],
                            }
                            for e in events
                        ],
                    },
                )
            yield encode_exception("SessionTimeoutException", "Session timed out after 3 hours.")
        finally:
            session.close()

    return StreamingResponse(frames(), media_type=EVENT_STREAM_TYPE)
