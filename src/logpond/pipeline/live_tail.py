"""Live tail: committed batches fanned out to the clients that follow some groups — the web
UI's Server-Sent Events and CloudWatch's StartLiveTail alike.

:meth:`LiveTail.publish` is an :class:`~logpond.pipeline.run.IngestPipeline` hook. For
each subscription it keeps the rows of the groups (and streams) it follows (vectorized)
and appends them to that subscription's buffer; it never waits and never runs the filter
pattern. The buffer is bounded: when a client reads slower than events arrive, the oldest
rows are dropped and counted, so a slow client loses events and never slows ingest.

The client's side (a streaming route) waits on :meth:`TailSubscription.wait` and takes rows
with :meth:`TailSubscription.drain`, which applies the filter pattern with
:class:`~logpond.query.FilterPatternMatcher` and turns the rows into dictionaries.
"""

from __future__ import annotations

import asyncio
import threading
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from logpond.model.clock import Clock, SystemClock
from logpond.model.errors import LimitExceededError
from logpond.query import FilterPatternMatcher
from logpond.store.base import AppendResult

__all__ = ["DEFAULT_TAIL_BUFFER_ROWS", "MAX_TAIL_SUBSCRIPTIONS", "LiveTail", "TailSubscription"]

# Rows one subscription buffers before the oldest are dropped.
DEFAULT_TAIL_BUFFER_ROWS = 5_000
# Live tails open at once on one server.
MAX_TAIL_SUBSCRIPTIONS = 100


@dataclass(frozen=True, slots=True)
class _Pending:
    batch: pa.RecordBatch
    seqs: pa.Array | None
    ingestion_ms: int


class TailSubscription:
    """One client's live tail: the groups it follows, its pattern and its bounded buffer."""

    def __init__(
        self,
        owner: LiveTail,
        groups: Iterable[str],
        pattern: str | None,
        buffer_rows: int,
        loop: asyncio.AbstractEventLoop,
        streams: Iterable[str] = (),
        stream_prefixes: Iterable[str] = (),
    ) -> None:
        self._owner = owner
        self.groups = frozenset(groups)
        self._group_set = pa.array(sorted(self.groups), pa.string())
        self._streams = pa.array(sorted(set(streams)), pa.string())
        self._prefixes = tuple(stream_prefixes)
        self.pattern = pattern or None
        self._matcher = FilterPatternMatcher(pattern) if pattern else None
        self._buffer_rows = buffer_rows
        self._pending: deque[_Pending] = deque()
        self._rows = 0
        self._dropped = 0
        self._closed = False
        self._lock = threading.Lock()
        self._loop = loop
        self._ready = asyncio.Event()

    @property
    def closed(self) -> bool:
        return self._closed

    def offer(self, batch: pa.RecordBatch, seqs: pa.Array | None, ingestion_ms: int) -> None:
        """Buffer the rows of ``batch`` in the followed groups; called by the hook."""
        keep = pc.is_in(batch.column("log_group"), value_set=self._group_set)
        if len(self._streams):
            keep = pc.and_(keep, pc.is_in(batch.column("log_stream"), value_set=self._streams))
        if self._prefixes:
            stream = batch.column("log_stream")
            by_prefix = pc.starts_with(stream, self._prefixes[0])
            for prefix in self._prefixes[1:]:
                by_prefix = pc.or_(by_prefix, pc.starts_with(stream, prefix))
            keep = pc.and_(keep, by_prefix)
        count = pc.sum(keep).as_py() or 0
        if not count:
            return
        if count < batch.num_rows:
            batch = batch.filter(keep)
            seqs = None if seqs is None else pc.filter(seqs, keep)
        with self._lock:
            if self._closed:
                return
            self._pending.append(_Pending(batch, seqs, ingestion_ms))
            self._rows += batch.num_rows
            while self._rows > self._buffer_rows:
                oldest = self._pending[0]
                excess = self._rows - self._buffer_rows
                if oldest.batch.num_rows <= excess:
                    self._pending.popleft()
                    self._rows -= oldest.batch.num_rows
                    self._dropped += oldest.batch.num_rows
                else:
                    seqs_left = None if oldest.seqs is None else oldest.seqs.slice(excess)
                    self._pending[0] = _Pending(oldest.batch.slice(excess), seqs_left, oldest.ingestion_ms)
                    self._rows -= excess
                    self._dropped += excess
        self._wake()

    def _wake(self) -> None:
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is self._loop:
            self._ready.set()
        elif not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._ready.set)

    async def wait(self, timeout: float) -> bool:
        """Wait until rows arrive (or the tail closes); False when ``timeout`` ran out first."""
        if self._pending or self._closed:
            return True
        try:
            await asyncio.wait_for(self._ready.wait(), timeout)
        except TimeoutError:
            return False
        finally:
            self._ready.clear()
        return True

    def drain(self, max_rows: int = 2_000) -> tuple[list[dict[str, Any]], int]:
        """Matching events buffered so far (oldest first, at most about ``max_rows`` looked
        at), and how many were dropped since the last drain."""
        taken: list[_Pending] = []
        with self._lock:
            rows = 0
            while self._pending and rows < max_rows:
                item = self._pending.popleft()
                taken.append(item)
                rows += item.batch.num_rows
                self._rows -= item.batch.num_rows
            dropped, self._dropped = self._dropped, 0
            if self._pending:
                self._ready.set()
        events: list[dict[str, Any]] = []
        for item in taken:
            batch, seqs = item.batch, item.seqs
            if self._matcher is not None:
                mask = self._matcher.mask(batch)
                batch = batch.filter(mask)
                seqs = None if seqs is None else pc.filter(seqs, mask)
            ids = seqs.to_pylist() if seqs is not None else [None] * batch.num_rows
            for seq, row in zip(ids, batch.to_pylist(), strict=True):
                events.append(
                    {
                        "id": None if seq is None else str(seq),
                        "timestamp": row["timestamp"],
                        "ingestion_time": item.ingestion_ms,
                        "group": row["log_group"],
                        "stream": row["log_stream"],
                        "message": row["message"],
                        "level": row["level"],
                        "trace_id": row["trace_id"],
                        "span_id": row["span_id"],
                        "tenant_id": row["tenant_id"],
                        "service": row["service"],
                        "fields": row["fields"],
                    }
                )
        return events, dropped

    def close(self) -> None:
        with self._lock:
            self._closed = True
            self._pending.clear()
        self._owner._remove(self)
        self._wake()


class LiveTail:
    """The open live tails of a server; :meth:`publish` is the pipeline hook."""

    def __init__(
        self,
        clock: Clock | None = None,
        *,
        buffer_rows: int = DEFAULT_TAIL_BUFFER_ROWS,
        max_subscriptions: int = MAX_TAIL_SUBSCRIPTIONS,
    ) -> None:
        self._clock = clock or SystemClock()
        self._buffer_rows = buffer_rows
        self._max = max_subscriptions
        self._subscriptions: tuple[TailSubscription, ...] = ()
        self._lock = threading.Lock()

    def subscribe(
        self,
        groups: Iterable[str],
        pattern: str | None = None,
        *,
        streams: Iterable[str] = (),
        stream_prefixes: Iterable[str] = (),
    ) -> TailSubscription:
        """Follow some groups (optionally only some streams) from now on; a bad pattern
        raises before anything is opened. Call it from the event loop that will read it."""
        subscription = TailSubscription(
            self, groups, pattern, self._buffer_rows, asyncio.get_running_loop(), streams, stream_prefixes
        )
        with self._lock:
            if len(self._subscriptions) >= self._max:
                raise LimitExceededError("too many live tails open", limit=self._max)
            self._subscriptions = (*self._subscriptions, subscription)
        return subscription

    def publish(self, batch: pa.RecordBatch, result: AppendResult) -> None:
        """The pipeline hook: offer a committed batch to every subscription."""
        subscriptions = self._subscriptions
        if not subscriptions or not batch.num_rows:
            return
        seqs = None
        if result.first_seq is not None and result.accepted == batch.num_rows:
            seqs = pa.array(np.arange(result.first_seq, result.first_seq + batch.num_rows, dtype=np.int64))
        now = self._clock.now_ms()
        for subscription in subscriptions:
            subscription.offer(batch, seqs, now)

    def __len__(self) -> int:
        return len(self._subscriptions)

    def close(self) -> None:
        """End every live tail (the server is stopping)."""
        for subscription in self._subscriptions:
            subscription.close()

    def _remove(self, subscription: TailSubscription) -> None:
        with self._lock:
            self._subscriptions = tuple(s for s in self._subscriptions if s is not subscription)
