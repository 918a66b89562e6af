"""The source story end to end: API request -> Celery task -> asyncio step -> outbound call.

One test runs it in process (eager Celery and a real in-process worker on the memory
transport); the other runs the example app (``examples/sdk-app``) as real processes, with
a real Redis broker, shipping into a real logpond server, and finds every record of the
request with one search by trace_id across the api and worker log groups.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from celery import Celery  # type: ignore[import-untyped]
from celery.contrib.testing.worker import start_worker  # type: ignore[import-untyped]
from fastapi import FastAPI

import logpond.sdk as lp
from logpond.sdk.integrations import celery as lp_celery
from logpond.sdk.integrations.asgi import LogpondMiddleware
from logpond.sdk.integrations.httpx import AsyncLogpondTransport
from logpond.sdk.testing import CapturedRecords
from tests.conftest import LiveServer

from .conftest import EchoServer, RedisServer, free_port
from .helpers import init_capture
from .servers import serve_asgi
from .test_real_server import api_key, search

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "sdk-app"
TENANT = "tenant_acme"


def story_app(echo_url: str, eager: bool) -> tuple[Any, Celery]:
    log = lp.get_logger("story")
    celery_app = Celery("story", broker="memory://", backend="cache+memory://", set_as_current=False)
    celery_app.conf.update(task_always_eager=eager, broker_connection_retry_on_startup=True)
    lp_celery.install(celery_app)

    def fingerprint(title: str) -> str:
        log.info("fingerprinting")
        return hashlib.sha256(title.encode()).hexdigest()[:12]

    async def agent_step(title: str) -> int:
        digest = await lp.to_thread(fingerprint, title)
        async with httpx.AsyncClient(transport=AsyncLogpondTransport()) as client:
            response = await client.post(echo_url, json={"fingerprint": digest})
        log.info("agent answered", status=response.status_code)
        return response.status_code

    @celery_app.task(name="story.run", shared=False)  # type: ignore[untyped-decorator]
    def run(title: str) -> int:
        log.info("task started", title=title)
        return asyncio.run(agent_step(title))

    api = FastAPI()

    @api.post("/test-cases", status_code=201)
    def create() -> dict[str, str]:  # sync: FastAPI runs it on a thread, context included
        log.info("test case created")
        result = run.delay("login works")
        if eager:
            result.get()
        return {"task_id": result.id}

    return LogpondMiddleware(api), celery_app


@pytest.mark.parametrize("mode", ["eager", "worker"])
def test_one_trace_through_request_task_thread_and_outbound_call(
    mode: str, echo: EchoServer, records: CapturedRecords
) -> None:
    """Every record, the echo server's headers and the response carry the request's trace and tenant."""
    init_capture(tenant_targets=["127.0.0.1:*"])
    trace = uuid.uuid4().hex
    app, celery_app = story_app(echo.url, eager=mode == "eager")
    with ExitStack() as stack:
        if mode == "worker":
            stack.enter_context(start_worker(celery_app, pool="solo", perform_ping_check=False))
        url = stack.enter_context(serve_asgi(app))
        with httpx.Client(base_url=url) as client:
            response = client.post("/test-cases", headers={"X-Request-ID": trace, "X-Tenant-ID": TENANT})
        assert response.status_code == 201
        deadline = time.monotonic() + 20
        while not records.where(message="agent answered") and time.monotonic() < deadline:
            time.sleep(0.05)
    assert response.headers["x-request-id"] == trace
    ours = [r for r in records.records if r["logger"] in {"story", "logpond.http"}]
    assert [r["message"] for r in ours if r["logger"] == "story"] == [
        "test case created", "task started", "fingerprinting", "agent answered",
    ]  # fmt: skip
    assert len(ours) == 5
    for record in ours:
        assert (record["trace_id"], record["tenant_id"]) == (trace, TENANT), record
    (seen,) = echo.seen
    assert seen["x-request-id"] == trace
    assert seen["traceparent"].startswith(f"00-{trace}-")
    assert seen["x-tenant-id"] == TENANT


@contextmanager
def process(command: list[str], env: dict[str, str], log_path: Path) -> Iterator[subprocess.Popen[bytes]]:
    with open(log_path, "wb") as log, subprocess.Popen(command, cwd=EXAMPLE, env=env, stdout=log,
                                                        stderr=subprocess.STDOUT) as proc:  # fmt: skip
        try:
            yield proc
        finally:
            proc.terminate()
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(10)


def test_the_example_app_ships_the_whole_story_into_logpond(
    logpond_server: LiveServer, redis_server: RedisServer, echo: EchoServer, tmp_path: Path
) -> None:
    """API and worker processes ship to logpond; one search by trace_id returns every record in order."""
    environment = f"e2e{uuid.uuid4().hex[:8]}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("LOGPOND_")}
    env.update(
        LOGPOND_ENDPOINT=logpond_server.url,
        LOGPOND_API_KEY=api_key(logpond_server),
        QUALISYS_ENVIRONMENT=environment,
        REDIS_URL=redis_server.url,
        AGENT_URL=f"{echo.url}/agent",
        PYTHONPATH=str(EXAMPLE),
    )
    port = free_port()
    trace = uuid.uuid4().hex
    worker_cmd = [sys.executable, "-m", "celery", "-A", "qualisys.worker", "worker", "--pool=solo",
                  "--without-gossip", "--without-mingle", "--without-heartbeat",
                  "-Q", "qualisys"]  # fmt: skip
    api_cmd = [sys.executable, "-m", "uvicorn", "qualisys.api:app", "--port", str(port), "--no-access-log",
               "--log-config", "logging.json"]  # fmt: skip
    with process(worker_cmd, env, tmp_path / "worker.log"), \
            process(api_cmd, env, tmp_path / "api.log"):  # fmt: skip
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(f"{url}/healthz", timeout=2)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise AssertionError((tmp_path / "api.log").read_text()) from None
                time.sleep(0.2)
        response = httpx.post(
            f"{url}/api/v1/test-cases",
            json={"title": "login works", "owner_email": "jane.doe@acme.com"},
            headers={"X-Request-ID": trace, "X-Tenant-ID": TENANT},
            timeout=30,
        )
        assert response.status_code == 201, response.text
        assert response.headers["x-request-id"] == trace
        groups = [f"/qualisys/{environment}/api", f"/qualisys/{environment}/worker"]
        expected = {"test case created", "test run queued", "HTTP Request", "test run started",
                    "fingerprinting", "agent answered", "test run finished"}  # fmt: skip
        deadline = time.monotonic() + 60
        while True:
            events = search(logpond_server, groups, 1, timeout=1, trace_id=trace)
            if expected <= {e["message"] for e in events} or time.monotonic() > deadline:
                break
            time.sleep(0.5)
    logs = (tmp_path / "api.log").read_text() + (tmp_path / "worker.log").read_text()
    assert expected <= {e["message"] for e in events}, logs
    assert {e["tenant_id"] for e in events} == {TENANT}
    assert {e["group"] for e in events} == set(groups)
    assert [e["timestamp"] for e in events] == sorted(e["timestamp"] for e in events)
    api = [e["message"] for e in events if e["group"] == groups[0] and e["message"] in expected]
    worker = [e["message"] for e in events if e["group"] == groups[1] and e["message"] in expected]
    assert api == ["test case created", "test run queued", "HTTP Request"]
    assert worker == ["test run started", "fingerprinting", "agent answered", "test run finished"]
    created = next(e for e in events if e["message"] == "test case created")
    assert created["fields"]["owner_email"] == "j***@***.com"
    (seen,) = echo.seen
    assert (seen["x-request-id"], seen["x-tenant-id"]) == (trace, TENANT)
    assert seen["traceparent"].startswith(f"00-{trace}-")
