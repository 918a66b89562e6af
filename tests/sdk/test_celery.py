"""Celery with a real Redis broker: the trace goes from publisher to worker and back out."""

from __future__ import annotations

import types
from collections.abc import Iterator
from typing import Any

import pytest
from celery import Celery, signals  # type: ignore[import-untyped]
from celery.contrib.testing.worker import start_worker  # type: ignore[import-untyped]

import logpond.sdk as lp
from logpond.sdk.integrations import celery as lp_celery
from logpond.sdk.testing import CapturedRecords

from .conftest import ScriptedServer
from .helpers import HEX32_RE, init_capture

log = lp.get_logger("worker")
TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"


def make_app(broker: str, backend: str | None = None, **conf: Any) -> Celery:
    app = Celery("sdk-tests", broker=broker, backend=backend or broker, set_as_current=False)
    app.conf.update(broker_connection_retry_on_startup=True, task_default_queue="sdk-tests", **conf)

    @app.task(bind=True, name="sdk.work", shared=False)  # type: ignore[untyped-decorator]
    def work(self: Any, n: int) -> str | None:
        log.info("task running", n=n)
        return lp.current_trace_id()

    @app.task(bind=True, name="sdk.flaky", max_retries=3, shared=False)  # type: ignore[untyped-decorator]
    def flaky(self: Any) -> str | None:
        log.info("attempt", attempt=self.request.retries)
        if self.request.retries < 2:
            raise self.retry(countdown=0.05)
        return lp.current_trace_id()

    @app.task(name="sdk.fail", shared=False)  # type: ignore[untyped-decorator]
    def fail() -> None:
        log.info("failing")
        raise ValueError("task failed")

    lp_celery.install(app)
    return app


@pytest.fixture
def celery_app(redis_url: str) -> Iterator[Celery]:
    """A Celery app on the test Redis with a real worker (solo pool) running in a thread."""
    init_capture()
    app = make_app(redis_url)
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=20):
        yield app


def test_the_worker_runs_the_task_in_the_publishers_trace(
    celery_app: Celery, records: CapturedRecords
) -> None:
    """A task published inside a trace runs with its trace_id, tenant_id, task_id and task_name."""
    with lp.context_scope(trace_id=TRACE, tenant_id="tenant_acme"):
        result = celery_app.tasks["sdk.work"].delay(1)
    assert result.get(timeout=30) == TRACE
    record = records.find(message="task running")
    assert (record["trace_id"], record["tenant_id"]) == (TRACE, "tenant_acme")
    assert (record["task_id"], record["task_name"]) == (result.id, "sdk.work")
    assert record["trace_source"] == "job"


def test_tasks_without_context_get_new_ids_and_nothing_leaks(
    celery_app: Celery, records: CapturedRecords
) -> None:
    """A task published outside a trace gets a new trace id, not the previous task's."""
    with lp.context_scope(trace_id=TRACE):
        celery_app.tasks["sdk.work"].delay(1).get(timeout=30)
    second = celery_app.tasks["sdk.work"].delay(2).get(timeout=30)
    third = celery_app.tasks["sdk.work"].delay(3).get(timeout=30)
    assert len({TRACE, second, third}) == 3
    assert HEX32_RE.fullmatch(second) and HEX32_RE.fullmatch(third)
    assert records.find(message="task running", n=2)["tenant_id"] is None


def test_a_failing_task_still_resets_the_context(celery_app: Celery, records: CapturedRecords) -> None:
    """After a task raises, the next task does not inherit its trace."""
    with lp.context_scope(trace_id=TRACE):
        failed = celery_app.tasks["sdk.fail"].delay()
    with pytest.raises(ValueError, match="task failed"):
        failed.get(timeout=30)
    after = celery_app.tasks["sdk.work"].delay(9).get(timeout=30)
    assert after != TRACE
    assert records.find(message="failing")["trace_id"] == TRACE


def test_retries_keep_the_trace_and_add_retry(celery_app: Celery, records: CapturedRecords) -> None:
    """Each retry runs in the original trace and says which retry it is."""
    with lp.context_scope(trace_id=TRACE, tenant_id="acme"):
        result = celery_app.tasks["sdk.flaky"].delay()
    assert result.get(timeout=30) == TRACE
    attempts = records.where(message="attempt")
    assert [a["attempt"] for a in attempts] == [0, 1, 2]
    assert {a["trace_id"] for a in attempts} == {TRACE}
    assert [a.get("retry") for a in attempts] == [None, 1, 2]
    assert {a["tenant_id"] for a in attempts} == {"acme"}


def test_eager_tasks_run_in_the_callers_trace(records: CapturedRecords) -> None:
    """With ``task_always_eager`` the task runs in the caller's trace and restores it after."""
    init_capture()
    app = make_app("memory://", "cache+memory://", task_always_eager=True)
    with lp.context_scope(trace_id=TRACE, tenant_id="acme", user_id=3):
        result = app.tasks["sdk.work"].delay(5)
        after = dict(lp.get_context())
    assert result.get() == TRACE
    record = records.find(message="task running")
    assert (record["trace_id"], record["tenant_id"], record["user_id"]) == (TRACE, "acme", 3)
    assert record["task_name"] == "sdk.work"
    assert "task_id" not in after


def test_publish_writes_the_carrier_in_both_header_locations() -> None:
    """``before_task_publish`` puts the carrier in ``headers`` and in ``headers["headers"]``."""
    headers: dict[str, Any] = {"id": "x"}
    with lp.context_scope(trace_id=TRACE, tenant_id="acme"):
        lp_celery._on_publish(headers=headers)
    assert headers["X-Request-ID"] == TRACE
    assert headers["headers"]["X-Tenant-ID"] == "acme"
    assert headers["headers"]["traceparent"].startswith(f"00-{TRACE}-")


@pytest.mark.parametrize("signal_name", ["worker_process_shutdown", "worker_shutdown"])
def test_worker_shutdown_signals_flush_the_queue(scripted: ScriptedServer, signal_name: str) -> None:
    """Celery's shutdown signals ship what is queued, long before the flush interval."""
    lp.init("svc", "test", endpoint=scripted.url, flush_interval=60)
    lp_celery.install()
    lp.get_logger("worker").info("last words")
    getattr(signals, signal_name).send(sender=None)
    assert [line["message"] for line in scripted.lines()] == ["last words"]


@pytest.mark.parametrize("where", ["top", "nested"])
def test_prerun_reads_the_carrier_from_either_header_location(where: str) -> None:
    """The worker finds the ids on the request itself or under ``request.headers``."""
    ids = {"X-Request-ID": TRACE, "X-Tenant-ID": "acme"}
    request = types.SimpleNamespace(**ids) if where == "top" else types.SimpleNamespace(headers=ids)
    assert lp_celery._carrier_of(request) == ids
