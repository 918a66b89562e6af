"""The ASGI middleware on a real uvicorn server, with FastAPI and Starlette apps."""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from fastapi import BackgroundTasks, FastAPI, HTTPException, WebSocket
from fastapi.responses import StreamingResponse
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from websockets.sync.client import connect

import logpond.sdk as lp
from logpond.sdk.integrations.asgi import LogpondMiddleware
from logpond.sdk.testing import CapturedRecords

from .helpers import HEX32_RE, init_capture
from .servers import serve_asgi

log = lp.get_logger("app")


def make_app() -> tuple[Any, dict[str, Any]]:
    state: dict[str, Any] = {"started": False}

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        state["started"] = True
        yield

    app = FastAPI(lifespan=lifespan)

    @app.get("/items/{n}")
    async def item(n: int) -> dict[str, Any]:
        log.info("handling", n=n)
        await asyncio.sleep(random.random() / 50)
        log.info("done", n=n)
        return {"trace_id": lp.current_trace_id(), "tenant_id": lp.current_tenant_id()}

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("kaput")

    @app.get("/missing")
    async def missing() -> None:
        raise HTTPException(404)

    @app.get("/stream")
    async def stream() -> StreamingResponse:
        async def chunks() -> AsyncIterator[bytes]:
            for i in range(3):
                log.info("chunk", i=i)
                await asyncio.sleep(0.01)
                yield b"x" * 10

        return StreamingResponse(chunks())

    @app.post("/background")
    async def background(tasks: BackgroundTasks) -> dict[str, str]:
        async def later() -> None:
            await asyncio.sleep(0.8)
            log.info("background done")

        tasks.add_task(later)
        return {"queued": "yes"}

    @app.websocket("/ws")
    async def ws(socket: WebSocket) -> None:
        await socket.accept()
        log.info("websocket")
        await socket.send_text(lp.current_trace_id() or "")
        await socket.close()

    return LogpondMiddleware(app, record_query=True), state


def http_records(records: CapturedRecords) -> list[dict[str, Any]]:
    return records.where(message="HTTP Request")


def test_a_thousand_concurrent_requests_each_keep_their_own_ids(records: CapturedRecords) -> None:
    """1,000 concurrent requests with distinct ids: every record carries its own request's ids."""
    init_capture()
    app, _ = make_app()

    async def hammer(url: str) -> list[httpx.Response]:
        limits = httpx.Limits(max_connections=100, max_keepalive_connections=100)
        async with httpx.AsyncClient(base_url=url, limits=limits, timeout=60) as client:
            calls = [
                client.get(
                    f"/items/{i}",
                    headers={"X-Request-ID": f"req-{i}", "X-Tenant-ID": f"tenant-{i % 7}"},
                )
                for i in range(1000)
            ]
            return await asyncio.gather(*calls)

    with serve_asgi(app) as url:
        responses = asyncio.run(hammer(url))
    for i, response in enumerate(responses):
        assert response.headers["x-request-id"] == f"req-{i}"
        assert response.json() == {"trace_id": f"req-{i}", "tenant_id": f"tenant-{i % 7}"}
    app_records = records.where(logger="app")
    assert len(app_records) == 2000
    for record in app_records:
        assert record["trace_id"] == f"req-{record['n']}"
        assert record["tenant_id"] == f"tenant-{record['n'] % 7}"
    access = http_records(records)
    assert len(access) == 1000
    for record in access:
        n = int(record["path"].rsplit("/", 1)[1])
        assert record["trace_id"] == f"req-{n}"


def test_access_record_fields_and_level_by_status(records: CapturedRecords) -> None:
    """One ``HTTP Request`` record per request: method, path, status, float duration, user agent."""
    init_capture()
    app, state = make_app()
    with serve_asgi(app) as url, httpx.Client(base_url=url) as client:
        client.get("/items/1?token=abc123&page=2", headers={"User-Agent": "probe/1.0"})
        client.get("/missing")
    assert state["started"]  # lifespan went through the middleware
    ok, missing = http_records(records)
    assert (ok["method"], ok["path"], ok["status"], ok["user_agent"]) == ("GET", "/items/1", 200, "probe/1.0")
    assert isinstance(ok["duration_ms"], float)
    assert ok["level"] == "info"
    assert "abc123" not in ok["query"] and "page=2" in ok["query"]
    assert (missing["status"], missing["level"]) == (404, "warning")
    assert HEX32_RE.fullmatch(ok["trace_id"]) and ok["trace_source"] == "generated"


def test_unhandled_exception_gives_a_500_with_the_request_id(records: CapturedRecords) -> None:
    """An unhandled exception still answers 500 with X-Request-ID and logs an error record."""
    init_capture()
    app, _ = make_app()
    with serve_asgi(app) as url, httpx.Client(base_url=url) as client:
        response = client.get("/boom", headers={"X-Request-ID": "req-boom"})
    assert response.status_code == 500
    assert response.headers["x-request-id"] == "req-boom"
    (record,) = http_records(records)
    assert (record["status"], record["level"], record["trace_id"]) == (500, "error", "req-boom")
    assert record["error"]["name"] == "RuntimeError"


def test_bare_app_exception_before_the_response_gets_a_500_from_the_middleware(
    records: CapturedRecords,
) -> None:
    """An app that raises before starting a response gets the middleware's own 500, tagged."""
    init_capture()

    async def broken(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            await receive()
            await send({"type": "lifespan.startup.complete"})
            await receive()
            await send({"type": "lifespan.shutdown.complete"})
            return
        raise ValueError("before response")

    with serve_asgi(LogpondMiddleware(broken)) as url, httpx.Client(base_url=url) as client:
        response = client.get("/", headers={"X-Request-ID": "req-bare"})
    assert (response.status_code, response.headers["x-request-id"]) == (500, "req-bare")
    assert http_records(records)[0]["error"]["message"] == "before response"


def test_streaming_response_chunks_log_in_the_request_context(records: CapturedRecords) -> None:
    """Records logged while a streaming body is produced carry the request's trace id."""
    init_capture()
    app, _ = make_app()
    with serve_asgi(app) as url, httpx.Client(base_url=url) as client:
        response = client.get("/stream", headers={"X-Request-ID": "req-stream"})
    assert response.content == b"x" * 30
    assert [r["trace_id"] for r in records.where(message="chunk")] == ["req-stream"] * 3
    (access,) = http_records(records)
    assert access["duration_ms"] >= 20


def test_background_tasks_see_the_context_and_are_not_timed(records: CapturedRecords) -> None:
    """A background task logs with the request's ids; ``duration_ms`` excludes its 0.8 s."""
    init_capture()
    app, _ = make_app()
    with serve_asgi(app) as url, httpx.Client(base_url=url) as client:
        client.post("/background", headers={"X-Request-ID": "req-bg"})
        deadline = time.monotonic() + 5
        while not records.where(message="background done") and time.monotonic() < deadline:
            time.sleep(0.05)
    (done,) = records.where(message="background done")
    assert done["trace_id"] == "req-bg"
    (access,) = http_records(records)
    assert access["duration_ms"] < 500


def test_websocket_connections_get_the_context(records: CapturedRecords) -> None:
    """A websocket handler sees the trace id from the handshake's X-Request-ID."""
    init_capture()
    app, _ = make_app()
    with (
        serve_asgi(app) as url,
        connect(url.replace("http", "ws") + "/ws", additional_headers={"X-Request-ID": "req-ws"}) as ws,
    ):
        assert ws.recv() == "req-ws"
    assert records.find(message="websocket")["trace_id"] == "req-ws"
    assert not http_records(records)


def test_starlette_app_and_add_middleware(records: CapturedRecords) -> None:
    """The middleware works installed with ``add_middleware`` on a plain Starlette app."""
    init_capture()

    async def hello(request: Request) -> PlainTextResponse:
        log.info("hello")
        return PlainTextResponse(lp.current_trace_id() or "")

    app = Starlette(routes=[Route("/", hello)])
    app.add_middleware(LogpondMiddleware, tenant_resolver=lambda scope: "resolved-tenant")
    with serve_asgi(app) as url, httpx.Client(base_url=url) as client:
        response = client.get(
            "/", headers={"traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}
        )
    assert response.text == "4bf92f3577b34da6a3ce929d0e0e4736"
    assert response.headers["x-request-id"] == "4bf92f3577b34da6a3ce929d0e0e4736"
    record = records.find(message="hello")
    assert (record["tenant_id"], record["trace_source"]) == ("resolved-tenant", "traceparent")


@pytest.mark.parametrize("trust", [True, False])
def test_trust_inbound_ids_setting(records: CapturedRecords, trust: bool) -> None:
    """With ``trust_inbound_ids=False`` the caller's X-Request-ID is not used (but a new id is echoed)."""
    init_capture(trust_inbound_ids=trust)
    app, _ = make_app()
    with serve_asgi(app) as url, httpx.Client(base_url=url) as client:
        response = client.get("/items/1", headers={"X-Request-ID": "from-client"})
    echoed = response.headers["x-request-id"]
    assert (echoed == "from-client") is trust
    assert http_records(records)[0]["trace_id"] == echoed


def test_access_logger_level_filters_the_access_records(records: CapturedRecords) -> None:
    """With ``logpond.http`` at WARNING, only 4xx and 5xx requests are recorded."""
    init_capture()
    app, _ = make_app()
    logging.getLogger("logpond.http").setLevel(logging.WARNING)
    try:
        with serve_asgi(app) as url, httpx.Client(base_url=url) as client:
            client.get("/items/1")
            client.get("/missing")
    finally:
        logging.getLogger("logpond.http").setLevel(logging.NOTSET)
    assert [r["status"] for r in http_records(records)] == [404]
