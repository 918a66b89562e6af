"""Background queries: callbacks when a query is done."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from logpond.query import PlanOptions, QueryResult, plan_query
from logpond.query.jobs import QueryJobs, QueryStatus


def test_when_done_runs_once_the_query_finishes_or_at_once_after() -> None:
    """A callback registered while a query runs fires when it ends; one registered later fires at once."""
    release = threading.Event()

    def runner(plan: Any, bind: Callable[[Any], None]) -> QueryResult:
        release.wait(10)
        return QueryResult(["n"], [[{"field": "n", "value": "1"}]])

    jobs = QueryJobs(max_running=1)
    try:
        job = jobs.start(
            plan_query("stats count(*) as n", PlanOptions(now_ms=1)), runner,
            query="q", groups=["/g"], start_ms=None, end_ms=None, owner="k",
        )  # fmt: skip
        fired = threading.Event()
        job.when_done(fired.set)
        assert not fired.wait(0.05)
        release.set()
        assert fired.wait(10)
        assert job.status is QueryStatus.COMPLETE
        late: list[str] = []
        job.when_done(lambda: late.append("now"))
        assert late == ["now"]
    finally:
        jobs.close()
