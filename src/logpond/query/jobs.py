"""Queries that run in the background: start, poll, cancel, with a time limit and a cap on
how many run at once (CloudWatch's StartQuery / GetQueryResults / StopQuery model).

The runner is given the plan and a ``bind`` callback through which it hands over what can
be interrupted (a database cursor); cancelling or timing out interrupts it. Finished
results are kept for ``keep_seconds`` and then forgotten.
"""

from __future__ import annotations

import enum
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from logpond.model.errors import LimitExceededError, LogpondError, QueryCancelledError, ResourceNotFoundError

from .execute import QueryResult
from .plan import Plan

__all__ = ["QueryJob", "QueryJobs", "QueryStatus"]

# The runner: (plan, bind) -> result; bind(interruptible) hands over what cancel stops.
Runner = Callable[[Plan, Callable[[Any], None]], QueryResult]


class QueryStatus(enum.Enum):
    """CloudWatch's query statuses."""

    SCHEDULED = "Scheduled"
    RUNNING = "Running"
    COMPLETE = "Complete"
    FAILED = "Failed"
    CANCELLED = "Cancelled"
    TIMEOUT = "Timeout"


@dataclass
class QueryJob:
    """One query: what was asked, its state, and its result once done."""

    id: str
    query: str
    groups: list[str]
    start_ms: int | None
    end_ms: int | None
    owner: str
    created_ms: int
    status: QueryStatus = QueryStatus.SCHEDULED
    result: QueryResult | None = None
    error: LogpondError | None = None
    finished_ms: int | None = None
    _target: Any = field(default=None, repr=False)
    _stop: QueryStatus | None = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _callbacks: list[Callable[[], None]] = field(default_factory=list, repr=False)

    def when_done(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` (on any thread) once the query is done; now if it already is."""
        with self._lock:
            if not self.done:
                self._callbacks.append(callback)
                return
        callback()

    def stop_reason(self) -> QueryStatus | None:
        """Why the query is being stopped (cancelled, timed out), if it is."""
        with self._lock:
            return self._stop

    @property
    def done(self) -> bool:
        return self.status not in (QueryStatus.SCHEDULED, QueryStatus.RUNNING)


class QueryJobs:
    """The registry of background queries; see the module docstring."""

    def __init__(
        self,
        *,
        max_running: int = 4,
        timeout_seconds: float = 900.0,
        keep_seconds: float = 3600.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._pool = ThreadPoolExecutor(max_workers=max_running, thread_name_prefix="logpond-query")
        self._max_running = max_running
        self._timeout = timeout_seconds
        self._keep = keep_seconds
        self._clock = clock
        self._jobs: dict[str, QueryJob] = {}
        self._lock = threading.Lock()

    def start(
        self,
        plan: Plan,
        runner: Runner,
        *,
        query: str,
        groups: list[str],
        start_ms: int | None,
        end_ms: int | None,
        owner: str,
    ) -> QueryJob:
        """Schedule a query; refuses with LimitExceededError when too many are running."""
        self._forget_old()
        with self._lock:
            active = sum(1 for j in self._jobs.values() if not j.done)
            if active >= self._max_running:
                raise LimitExceededError("too many queries running", limit=self._max_running)
            job = QueryJob(
                uuid.uuid4().hex, query, groups, start_ms, end_ms, owner, int(self._clock() * 1000)
            )
            self._jobs[job.id] = job
        self._pool.submit(self._run, job, plan, runner)
        return job

    def get(self, job_id: str, owner: str | None = None) -> QueryJob:
        """A job by id; another key's jobs are not found (``owner`` None: any)."""
        job = self._jobs.get(job_id)
        if job is None or (owner is not None and job.owner != owner):
            raise ResourceNotFoundError("query not found", query_id=job_id)
        return job

    def cancel(self, job_id: str, owner: str | None = None) -> QueryJob:
        """Stop a scheduled or running query."""
        job = self.get(job_id, owner)
        self._stop_job(job, QueryStatus.CANCELLED)
        return job

    def list(self, owner: str | None = None) -> list[QueryJob]:
        self._forget_old()
        jobs = [j for j in self._jobs.values() if owner is None or j.owner == owner]
        return sorted(jobs, key=lambda j: j.created_ms, reverse=True)

    def close(self) -> None:
        for job in list(self._jobs.values()):
            self._stop_job(job, QueryStatus.CANCELLED)
        self._pool.shutdown(wait=True, cancel_futures=True)

    # internals

    def _stop_job(self, job: QueryJob, why: QueryStatus) -> None:
        with job._lock:
            if job.done:
                return
            job._stop = why
            target = job._target
        if target is not None:
            target.interrupt()

    def _run(self, job: QueryJob, plan: Plan, runner: Runner) -> None:
        with job._lock:
            if job._stop is not None:
                self._finish(job, job._stop, None, QueryCancelledError("query cancelled"))
                return
            job.status = QueryStatus.RUNNING
        timer = threading.Timer(self._timeout, self._stop_job, (job, QueryStatus.TIMEOUT))
        timer.daemon = True
        timer.start()

        def bind(target: Any) -> None:
            with job._lock:
                job._target = target
                stop = job._stop
            if stop is not None:
                target.interrupt()

        try:
            result = runner(plan, bind)
        except QueryCancelledError as exc:
            self._finish(job, job.stop_reason() or QueryStatus.CANCELLED, None, exc)
        except LogpondError as exc:
            self._finish(job, QueryStatus.FAILED, None, exc)
        except Exception as exc:  # an engine error: reported, not raised into the pool
            self._finish(job, QueryStatus.FAILED, None, LogpondError("query failed", reason=str(exc)))
        else:
            stop = job.stop_reason()
            if stop is not None:
                self._finish(job, stop, None, QueryCancelledError("query cancelled"))
            else:
                self._finish(job, QueryStatus.COMPLETE, result, None)
        finally:
            timer.cancel()

    def _finish(
        self, job: QueryJob, status: QueryStatus, result: QueryResult | None, error: LogpondError | None
    ) -> None:
        with job._lock:
            job.status, job.result, job.error = status, result, error
            job.finished_ms = int(self._clock() * 1000)
            job._target = None
            callbacks, job._callbacks = job._callbacks, []
        for callback in callbacks:
            callback()

    def _forget_old(self) -> None:
        cutoff = (self._clock() - self._keep) * 1000
        with self._lock:
            for job_id in [
                j.id for j in self._jobs.values() if j.finished_ms is not None and j.finished_ms < cutoff
            ]:
                del self._jobs[job_id]
