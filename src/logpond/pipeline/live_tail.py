"""Live tail: committed events fanned out to the sessions that follow their groups.

:class:`LiveTail` is a commit hook of the ingest pipeline. Each open :class:`TailSession`
names its groups, optionally streams (by name or prefix) and a filter pattern; every
committed batch is matched against each session (columnar: group and stream membership and
the pattern as Arrow masks) and the matching events are queued in the session's bounded
buffer, oldest dropped first when a reader falls behind. With no session open the hook
costs one check.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from logpond.model.clock import Clock
from logpond.model.schema import PROMOTED_COLUMNS
from logpond.query import FilterPattern, FilterPatternMatcher, rebuild_message
from logpond.store.base import AppendResult

__all__ = ["MAX_BUFFERED_EVENTS", "LiveTail", "TailEvent", "TailSession"]

# Events a session holds for a slow reader before the oldest are dropped.
MAX_BUFFERED_EVENTS = 5000


@dataclass(frozen=True, slots=True)
class TailEvent:
    """One event as a tail session sees it."""

    group: str
    stream: str
    timestamp: int
    ingestion_time: int
    message: str


@dataclass(eq=False)
class TailSession:
    """What one follower wants, and the events waiting for it."""

    groups: frozenset[str]
    streams: frozenset[str] = frozenset()
    stream_prefixes: tuple[str, ...] = ()
    pattern: FilterPattern | None = None
    buffer: deque[TailEvent] = field(default_factory=lambda: deque(maxlen=MAX_BUFFERED_EVENTS))
    dropped: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _matcher: FilterPatternMatcher | None = None

    def __post_init__(self) -> None:
        if self.pattern is not None:
            self._matcher = FilterPatternMatcher(self.pattern)

    def offer(self, batch: pa.RecordBatch, now_ms: int) -> None:
        """Queue the events of ``batch`` this session follows."""
        mask = pc.is_in(batch.column("log_group"), value_set=pa.array(sorted(self.groups), pa.string()))
        if self.streams:
            mask = pc.and_(
                mask,
                pc.is_in(batch.column("log_stream"), value_set=pa.array(sorted(self.streams), pa.string())),
            )
        if self.stream_prefixes:
            by_prefix = None
            for prefix in self.stream_prefixes:
                hit = pc.starts_with(batch.column("log_stream"), prefix)
                by_prefix = hit if by_prefix is None else pc.or_(by_prefix, hit)
            assert by_prefix is not None
            mask = pc.and_(mask, by_prefix)
        if not pc.any(mask).as_py():
            return
        chosen = batch.filter(mask)
        if self._matcher is not None:
            chosen = chosen.filter(self._matcher.mask(chosen))
        rows = chosen.to_pydict()
        events = []
        for index in range(chosen.num_rows):
            fields = rows["fields"][index]
            message = rows["message"][index]
            if fields is not None:
                promoted = tuple(rows[name][index] for name in PROMOTED_COLUMNS)
                message = rebuild_message(rows["timestamp"][index], message, fields, promoted)
            events.append(
                TailEvent(rows["log_group"][index], rows["log_stream"][index], rows["timestamp"][index],
                          now_ms, message or "")
            )  # fmt: skip
        with self._lock:
            overflow = len(self.buffer) + len(events) - MAX_BUFFERED_EVENTS
            if overflow > 0:
                self.dropped += overflow
            self.buffer.extend(events)

    def drain(self) -> tuple[list[TailEvent], int]:
        """The queued events and how many were dropped since the last drain."""
        with self._lock:
            events, dropped = list(self.buffer), self.dropped
            self.buffer.clear()
            self.dropped = 0
        return events, dropped


class LiveTail:
    """The commit hook and the registry of open sessions."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._sessions: set[TailSession] = set()
        self._lock = threading.Lock()

    def open(
        self,
        groups: Sequence[str],
        *,
        streams: Sequence[str] = (),
        stream_prefixes: Sequence[str] = (),
        pattern: FilterPattern | None = None,
    ) -> TailSession:
        session = TailSession(frozenset(groups), frozenset(streams), tuple(stream_prefixes), pattern)
        with self._lock:
            self._sessions.add(session)
        return session

    def close(self, session: TailSession) -> None:
        with self._lock:
            self._sessions.discard(session)

    @property
    def session_count(self) -> int:
        return len(self._sessions)

    def __call__(self, batch: pa.RecordBatch, result: AppendResult, *_: Any) -> None:
        if not self._sessions:
            return
        with self._lock:
            sessions = list(self._sessions)
        now = self._clock.now_ms()
        for session in sessions:
            session.offer(batch, now)
