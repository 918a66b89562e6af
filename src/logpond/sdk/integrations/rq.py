"""RQ: the carrier travels in ``job.meta``; :class:`LogpondJob` binds it around ``perform``.

::

    job = enqueue(queue, send_invoice, order_id)          # publisher
    Worker([queue], connection=redis, job_class=LogpondJob).work()   # worker

RQ's work horse ends with ``os._exit``, which skips ``atexit``: the job flushes queued
records itself when it ends.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rq.job import Job
from rq.queue import Queue

from .. import _runtime
from .._context import _CONTEXT
from ._jobs import carrier, enter_job

__all__ = ["META_KEY", "RETRY_KEY", "LogpondJob", "enqueue"]

META_KEY = "logpond"
RETRY_KEY = "logpond_retry"


def enqueue(queue: Queue, f: Callable[..., Any], *args: Any, **kwargs: Any) -> Job:
    """``queue.enqueue`` with the current ids in ``meta``."""
    meta = dict(kwargs.pop("meta", None) or {})
    meta[META_KEY] = carrier()
    return queue.enqueue(f, *args, meta=meta, **kwargs)


class LogpondJob(Job):
    """A ``Job`` whose ``perform`` runs in the publisher's trace, then flushes."""

    def perform(self) -> Any:
        meta = self.meta or {}
        retry = int(meta.get(RETRY_KEY, 0) or 0)
        token = enter_job(meta.get(META_KEY), retry=retry, job_id=self.id, job_name=self.func_name)
        try:
            return super().perform()
        except BaseException:
            if getattr(self, "retries_left", None):
                self.meta[RETRY_KEY] = retry + 1
                self.save_meta()  # type: ignore[no-untyped-call]
            raise
        finally:
            _CONTEXT.reset(token)
            _runtime.flush(_runtime._pipeline.config.flush_timeout)
