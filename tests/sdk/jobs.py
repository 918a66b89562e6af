"""Job functions the RQ test imports by name (RQ stores the dotted path)."""

from __future__ import annotations

import logpond.sdk as lp

log = lp.get_logger("rq-job")


def rq_work(n: int) -> str | None:
    log.info("rq job", n=n)
    return lp.current_trace_id()


def rq_fail() -> None:
    log.info("rq failing")
    raise ValueError("rq job failed")
