"""``GET /api/v1/tail``: live tail as Server-Sent Events.

Each ``message`` event carries ``{"events": [...], "dropped": n}``: the events committed
to the followed groups that match the filter pattern, oldest first, and how many the
bounded buffer dropped because this client read too slowly. A comment line is sent every
few seconds when nothing happens, so proxies keep the connection open. The credential
(key or session) is checked again every few seconds: a revoked key or a signed-out
session ends the stream with an ``end`` event (so does the server stopping).
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Annotated

import orjson
from fastapi import APIRouter, Depends, Query, Request
from starlette.responses import StreamingResponse

from logpond.model.errors import InvalidParameterError, LogpondError
from logpond.model.names import LogGroupName
from logpond.pipeline.live_tail import TailSubscription
from logpond.query import MAX_FILTER_PATTERN_CHARS

from ..access import Access, authenticate, require, services
from ..services import Services

__all__ = ["router"]

router = APIRouter(prefix="/api/v1", tags=["live tail"])

# Groups one live tail may follow (CloudWatch's StartLiveTail allows 10).
MAX_TAIL_GROUPS = 10
# Idle keep-alive and re-authentication period, in seconds.
KEEPALIVE_SECONDS = 5.0
# Events in one SSE message at most; more wait for the next one.
MAX_EVENTS_PER_MESSAGE = 2_000


def _sse(event: str, data: object) -> bytes:
    return b"event: " + event.encode() + b"\ndata: " + orjson.dumps(data) + b"\n\n"


async def _stream(
    request: Request, access: Access, subscription: TailSubscription, groups: list[str]
) -> AsyncIterator[bytes]:
    yield b"retry: 2000\n" + _sse("open", {"groups": groups, "pattern": subscription.pattern})
    last_check = time.monotonic()
    try:
        while not subscription.closed:
            await subscription.wait(KEEPALIVE_SECONDS)
            events, dropped = subscription.drain(MAX_EVENTS_PER_MESSAGE)
            if events or dropped:
                yield _sse("message", {"events": events, "dropped": dropped})
            if time.monotonic() - last_check >= KEEPALIVE_SECONDS:
                last_check = time.monotonic()
                try:
                    again = authenticate(request, access.action)
                    for group in groups:
                        again.group(group)
                except LogpondError as exc:
                    yield _sse("end", exc.to_dict())
                    return
                if not events:
                    yield b": keep-alive\n\n"
        yield _sse("end", {"error": "ServiceUnavailableException", "message": "live tail closed"})
    finally:
        subscription.close()


@router.get(
    "/tail",
    summary="Live tail: events as they are committed, as Server-Sent Events",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}}},
)
async def live_tail(
    request: Request,
    group: Annotated[list[str], Query(description="log group (repeatable, at most 10)")],
    pattern: Annotated[str | None, Query(max_length=MAX_FILTER_PATTERN_CHARS)] = None,
    access: Access = require("logs:StartLiveTail"),
    svc: Services = Depends(services),
) -> StreamingResponse:
    """Follow groups from now on, keeping events that match a filter pattern."""
    groups = list(dict.fromkeys(group))
    if not groups or len(groups) > MAX_TAIL_GROUPS:
        raise InvalidParameterError("follow 1 to 10 log groups", limit=MAX_TAIL_GROUPS)
    for name in groups:
        access.group(LogGroupName(name))
        svc.store.get_group(name)
    subscription = svc.live_tail.subscribe(groups, pattern)
    return StreamingResponse(
        _stream(request, access, subscription, groups),
        media_type="text/event-stream",
        headers={"cache-control": "no-cache", "x-accel-buffering": "no"},
    )
