"""Group commit: one writer thread, one transaction for many requests' batches.

Requests hand the writer an Arrow batch and wait on a future. The writer takes every batch
waiting (up to ``WRITER_MAX_BATCH_ROWS`` rows / ``WRITER_MAX_BATCH_BYTES`` bytes), asks the
engine to write them in one transaction, and completes the futures only after the commit
returned: an acknowledged batch is durable. If the shared transaction fails, each batch is
retried alone, so one bad batch fails only its own request.

Catalog changes (create a group, revoke a key, ...) are operations run on the same thread,
in arrival order with the batches, so the engine never sees two writers.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

import pyarrow as pa

from logpond.model.errors import ServiceUnavailableError
from logpond.model.limits import (
    WRITER_MAX_BATCH_BYTES,
    WRITER_MAX_BATCH_ROWS,
    WRITER_MAX_PENDING_BYTES,
)

from .base import AppendResult

__all__ = ["CommitTarget", "GroupCommitWriter", "PendingBatch"]

log = logging.getLogger("logpond.store.writer")

T = TypeVar("T")


@dataclass(slots=True)
class PendingBatch:
    """A batch waiting for the writer, with the future its request awaits."""

    batch: pa.RecordBatch
    create_streams: bool
    future: Future[AppendResult]
    nbytes: int


@dataclass(slots=True)
class _Operation(Generic[T]):
    fn: Callable[[], T]
    future: Future[T]


class CommitTarget(Protocol):
    """The engine side of the writer: runs on the writer thread only."""

    def commit_batches(self, items: list[PendingBatch]) -> list[AppendResult | Exception]:
        """Write all items in one transaction; a per-item exception fails only that item.

        Raising means the whole transaction was rolled back.
        """
        ...


_STOP = object()


class GroupCommitWriter:
    """Owns the writer thread; see the module docstring."""

    def __init__(
        self,
        target: CommitTarget,
        *,
        max_batch_rows: int = WRITER_MAX_BATCH_ROWS,
        max_batch_bytes: int = WRITER_MAX_BATCH_BYTES,
        max_pending_bytes: int = WRITER_MAX_PENDING_BYTES,
        name: str = "logpond-writer",
    ) -> None:
        self._target = target
        self._max_rows = max_batch_rows
        self._max_bytes = max_batch_bytes
        self._max_pending = max_pending_bytes
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._held: deque[Any] = deque()
        self._pending_bytes = 0
        self._lock = threading.Lock()
        self._accepting = True
        self.commits = 0
        self.committed_batches = 0
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    # Producers (any thread)

    def submit_batch(self, batch: pa.RecordBatch, *, create_streams: bool) -> Future[AppendResult]:
        """Queue a batch; the future completes after its commit, or fails with the reason."""
        nbytes = batch.nbytes
        future: Future[AppendResult] = Future()
        with self._lock:
            if not self._accepting:
                raise ServiceUnavailableError("server is shutting down")
            if self._pending_bytes and self._pending_bytes + nbytes > self._max_pending:
                raise ServiceUnavailableError(
                    "writer is behind; retry later", pending_bytes=self._pending_bytes
                )
            self._pending_bytes += nbytes
        self._queue.put(PendingBatch(batch, create_streams, future, nbytes))
        return future

    def submit(self, fn: Callable[[], T]) -> Future[T]:
        """Run ``fn`` on the writer thread, in order with the batches; returns its result."""
        future: Future[T] = Future()
        with self._lock:
            if not self._accepting:
                raise ServiceUnavailableError("server is shutting down")
        self._queue.put(_Operation(fn, future))
        return future

    def call(self, fn: Callable[[], T]) -> T:
        """``submit`` and wait for the result."""
        return self.submit(fn).result()

    def close(self, timeout: float | None = None) -> None:
        """Stop accepting, commit everything already queued, stop the thread."""
        with self._lock:
            if not self._accepting:
                return
            self._accepting = False
        self._queue.put(_STOP)
        self._thread.join(timeout)

    @property
    def accepting(self) -> bool:
        return self._accepting

    @property
    def pending_bytes(self) -> int:
        return self._pending_bytes

    # The writer thread

    def _next(self, block: bool) -> Any:
        if self._held:
            return self._held.popleft()
        if block:
            return self._queue.get()
        try:
            return self._queue.get_nowait()
        except queue.Empty:
            return None

    def _run(self) -> None:
        while True:
            item = self._next(block=True)
            if item is _STOP:
                return
            if isinstance(item, _Operation):
                self._run_operation(item)
                continue
            group = [item]
            rows, size = item.batch.num_rows, item.nbytes
            while rows < self._max_rows and size < self._max_bytes:
                more = self._next(block=False)
                if more is None:
                    break
                if not isinstance(more, PendingBatch):
                    self._held.append(more)
                    break
                group.append(more)
                rows += more.batch.num_rows
                size += more.nbytes
            self._commit(group)

    def _run_operation(self, op: _Operation[Any]) -> None:
        if not op.future.set_running_or_notify_cancel():
            return
        try:
            result = op.fn()
        except BaseException as exc:
            op.future.set_exception(exc)
        else:
            op.future.set_result(result)

    def _commit(self, group: list[PendingBatch]) -> None:
        try:
            results = self._target.commit_batches(group)
        except Exception as exc:
            if len(group) == 1:
                results = [exc]
            else:
                log.warning("group commit failed, retrying batches alone", exc_info=True)
                results = []
                for item in group:
                    try:
                        results.extend(self._target.commit_batches([item]))
                    except Exception as single:
                        results.append(single)
        self.commits += 1
        self.committed_batches += len(group)
        with self._lock:
            self._pending_bytes -= sum(item.nbytes for item in group)
        for item, result in zip(group, results, strict=True):
            if isinstance(result, Exception):
                item.future.set_exception(result)
            else:
                item.future.set_result(result)
