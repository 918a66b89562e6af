"""RQ (real Redis), Dramatiq (its stub broker and a real worker) and arq job helpers."""

from __future__ import annotations

import asyncio
from typing import Any

import dramatiq
import redis
from dramatiq.brokers.stub import StubBroker
from rq import Queue, Retry, SimpleWorker

import logpond.sdk as lp
from logpond.sdk.integrations import arq as lp_arq
from logpond.sdk.integrations import rq as lp_rq
from logpond.sdk.integrations.dramatiq import LogpondMiddleware
from logpond.sdk.testing import CapturedRecords

from . import jobs
from .conftest import ScriptedServer
from .helpers import HEX32_RE, init_capture

TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"


def test_rq_jobs_run_in_the_publishers_trace_and_reset(redis_url: str, records: CapturedRecords) -> None:
    """An RQ job runs with the ids from ``job.meta``; a job without them gets a new trace."""
    init_capture()
    connection = redis.Redis.from_url(redis_url)
    queue = Queue("sdk", connection=connection, job_class=lp_rq.LogpondJob)
    with lp.context_scope(trace_id=TRACE, tenant_id="acme"):
        traced = lp_rq.enqueue(queue, jobs.rq_work, 1)
    plain = lp_rq.enqueue(queue, jobs.rq_work, 2)
    SimpleWorker([queue], connection=connection, job_class=lp_rq.LogpondJob).work(burst=True)
    first = records.find(message="rq job", n=1)
    second = records.find(message="rq job", n=2)
    assert (first["trace_id"], first["tenant_id"], first["job_id"]) == (TRACE, "acme", traced.id)
    assert HEX32_RE.fullmatch(second["trace_id"]) and second["job_id"] == plain.id
    assert lp.current_trace_id() is None
    connection.close()


def test_rq_jobs_flush_when_they_end(redis_url: str, scripted: ScriptedServer) -> None:
    """An RQ job ships its records when it ends (the work horse skips atexit)."""
    lp.init("svc", "test", endpoint=scripted.url, flush_interval=60)
    connection = redis.Redis.from_url(redis_url)
    queue = Queue("sdk-flush", connection=connection, job_class=lp_rq.LogpondJob)
    lp_rq.enqueue(queue, jobs.rq_work, 3)
    SimpleWorker([queue], connection=connection, job_class=lp_rq.LogpondJob).work(burst=True)
    assert [line["n"] for line in scripted.lines() if line["message"] == "rq job"] == [3]
    connection.close()


def test_rq_retries_keep_the_trace(redis_url: str, records: CapturedRecords) -> None:
    """A failing RQ job retried keeps its trace and counts its retries."""
    init_capture()
    connection = redis.Redis.from_url(redis_url)
    queue = Queue("sdk-retry", connection=connection, job_class=lp_rq.LogpondJob)
    with lp.context_scope(trace_id=TRACE):
        lp_rq.enqueue(queue, jobs.rq_fail, retry=Retry(max=2))
    SimpleWorker([queue], connection=connection, job_class=lp_rq.LogpondJob).work(burst=True)
    attempts = records.where(message="rq failing")
    assert [a["trace_id"] for a in attempts] == [TRACE] * 3
    assert [a.get("retry") for a in attempts] == [None, 1, 2]
    connection.close()


def test_dramatiq_middleware_carries_the_trace_through_retries(records: CapturedRecords) -> None:
    """Dramatiq messages carry the ids in their options; retries keep them and add ``retry``."""
    init_capture()
    broker = StubBroker()
    broker.add_middleware(LogpondMiddleware())
    dramatiq.set_broker(broker)
    log = lp.get_logger("dramatiq-job")
    seen: list[str | None] = []

    @dramatiq.actor(broker=broker, max_retries=2, min_backoff=10, max_backoff=20)
    def charge(order_id: int) -> None:
        seen.append(lp.current_trace_id())
        log.info("charging", order_id=order_id)
        if len(seen) < 3:
            raise RuntimeError("card declined")

    with lp.context_scope(trace_id=TRACE, tenant_id="acme"):
        charge.send(7)
    worker = dramatiq.Worker(broker, worker_timeout=50)
    worker.start()
    try:
        broker.join(charge.queue_name, timeout=10_000)
        worker.join()
    finally:
        worker.stop()
    assert seen == [TRACE] * 3
    attempts = records.where(message="charging")
    assert [a.get("retry") for a in attempts] == [None, 1, 2]
    assert {a["tenant_id"] for a in attempts} == {"acme"}


class ArqRedisStandIn:
    """Holds enqueued jobs like ``ArqRedis.enqueue_job``; the test then runs them as arq would."""

    def __init__(self) -> None:
        self.jobs: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = []

    async def enqueue_job(self, function: str, *args: Any, **kwargs: Any) -> str:
        self.jobs.append((function, args, kwargs))
        return f"job-{len(self.jobs)}"


def test_arq_carrier_kwarg_and_traced_function(records: CapturedRecords) -> None:
    """``enqueue_job`` adds the ``_logpond`` carrier; ``traced`` binds it and hides it from the job."""
    init_capture()
    log = lp.get_logger("arq-job")

    @lp_arq.traced
    async def charge(ctx: dict[str, Any], order_id: int) -> str | None:
        log.info("arq charge", order_id=order_id)
        return lp.current_trace_id()

    async def main() -> list[str | None]:
        redis_like = ArqRedisStandIn()
        with lp.context_scope(trace_id=TRACE, tenant_id="acme"):
            await lp_arq.enqueue_job(redis_like, "charge", 5)
        await lp_arq.enqueue_job(redis_like, "charge", 6)
        results = []
        for n, (_, args, kwargs) in enumerate(redis_like.jobs, start=1):
            results.append(await charge({"job_id": f"job-{n}", "job_try": n}, *args, **kwargs))
        return results

    first, second = asyncio.run(main())
    assert first == TRACE and second != TRACE
    one, two = records.where(message="arq charge")
    assert (one["tenant_id"], one["job_id"], one["job_name"]) == ("acme", "job-1", "charge")
    assert two.get("retry") == 1
