"""The live-tail fan-out: group filtering, patterns, and the bounded buffer."""

from __future__ import annotations

import asyncio
import time

import pyarrow as pa
import pytest

from logpond.model.errors import LimitExceededError
from logpond.model.schema import EVENT_SCHEMA
from logpond.pipeline.live_tail import LiveTail
from logpond.store.base import AppendResult


def _batch(group: str, messages: list[str]) -> pa.RecordBatch:
    rows = [{"log_group": group, "log_stream": "s", "timestamp": 1_700_000_000_000 + i, "message": m}
            for i, m in enumerate(messages)]  # fmt: skip
    return pa.RecordBatch.from_pylist(rows, schema=EVENT_SCHEMA)


def test_a_subscription_sees_only_its_groups_and_pattern() -> None:
    """Rows of other groups and rows the pattern rejects never reach the client."""

    async def scenario() -> list[dict[str, object]]:
        tail = LiveTail()
        subscription = tail.subscribe(["/a"], "ERROR")
        tail.publish(_batch("/b", ["ERROR elsewhere"]), AppendResult(1, 1, 1))
        tail.publish(_batch("/a", ["INFO fine", "ERROR here"]), AppendResult(2, 10, 11))
        assert await subscription.wait(1)
        events, dropped = subscription.drain()
        assert dropped == 0
        return events

    (event,) = asyncio.run(scenario())
    assert event["message"] == "ERROR here" and event["group"] == "/a" and event["id"] == "11"


def test_a_slow_client_loses_the_oldest_events_and_never_slows_publishing() -> None:
    """Past the buffer, the oldest rows are dropped and counted; publishing stays cheap."""

    async def scenario() -> tuple[list[dict[str, object]], int, float]:
        tail = LiveTail(buffer_rows=1_000)
        subscription = tail.subscribe(["/a"])
        started = time.perf_counter()
        for n in range(200):
            tail.publish(
                _batch("/a", [f"m{n}-{i}" for i in range(100)]), AppendResult(100, n * 100, n * 100 + 99)
            )
        elapsed = time.perf_counter() - started
        events, dropped = subscription.drain(max_rows=100_000)
        return events, dropped, elapsed

    events, dropped, elapsed = asyncio.run(scenario())
    assert len(events) == 1_000 and dropped == 19_000
    assert events[0]["message"] == "m190-0" and events[-1]["message"] == "m199-99"
    assert elapsed < 1.0  # 20,000 rows offered to a client that never reads


def test_closing_ends_every_tail_and_limits_are_enforced() -> None:
    """close() wakes and ends subscriptions; more than the maximum is refused."""

    async def scenario() -> None:
        tail = LiveTail(max_subscriptions=1)
        subscription = tail.subscribe(["/a"])
        with pytest.raises(LimitExceededError):
            tail.subscribe(["/a"])
        tail.close()
        assert await subscription.wait(1) and subscription.closed and len(tail) == 0

    asyncio.run(scenario())


def test_publishing_from_another_thread_wakes_the_reader() -> None:
    """A hook called off the event loop still wakes the waiting client."""

    async def scenario() -> list[dict[str, object]]:
        tail = LiveTail()
        subscription = tail.subscribe(["/a"])
        await asyncio.to_thread(tail.publish, _batch("/a", ["from a thread"]), AppendResult(1, 5, 5))
        assert await subscription.wait(1)
        return subscription.drain()[0]

    assert [e["message"] for e in asyncio.run(scenario())] == ["from a thread"]
