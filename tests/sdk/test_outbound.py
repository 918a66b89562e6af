"""Outbound calls with httpx and requests carry the trace to a local echo server."""

from __future__ import annotations

import asyncio
import re

import httpx
import requests

import logpond.sdk as lp
from logpond.sdk.integrations.httpx import AsyncLogpondTransport, LogpondTransport
from logpond.sdk.integrations.requests import LogpondSession, instrument_session

from .conftest import EchoServer
from .helpers import init_capture

TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
TRACEPARENT = re.compile(rf"00-{TRACE}-[0-9a-f]{{16}}-01")


def test_httpx_sync_sends_request_id_and_traceparent(echo: EchoServer) -> None:
    """A sync httpx client sends X-Request-ID and a fresh traceparent; no tenant by default."""
    init_capture()
    with (
        httpx.Client(transport=LogpondTransport()) as client,
        lp.context_scope(trace_id=TRACE, tenant_id="acme"),
    ):
        client.get(echo.url)
        client.get(echo.url)
    first, second = echo.seen
    assert first["x-request-id"] == TRACE
    assert TRACEPARENT.fullmatch(first["traceparent"])
    assert first["traceparent"] != second["traceparent"]
    assert "x-tenant-id" not in first


def test_httpx_async_sends_the_ids_and_tenant_to_allowed_hosts(echo: EchoServer) -> None:
    """An async httpx client sends the tenant only to hosts in ``tenant_targets``."""
    init_capture(tenant_targets=["127.0.0.1:*"])

    async def call() -> None:
        async with httpx.AsyncClient(transport=AsyncLogpondTransport()) as client:
            with lp.context_scope(trace_id=TRACE, tenant_id="acme"):
                await client.get(echo.url)

    asyncio.run(call())
    (seen,) = echo.seen
    assert (seen["x-request-id"], seen["x-tenant-id"]) == (TRACE, "acme")


def test_caller_headers_are_never_overwritten(echo: EchoServer) -> None:
    """Headers the caller set (any case) win over the propagated ones."""
    init_capture(tenant_targets=["*"])
    with (
        httpx.Client(transport=LogpondTransport()) as client,
        lp.context_scope(trace_id=TRACE, tenant_id="acme"),
    ):
        client.get(
            echo.url, headers={"x-request-id": "mine", "TraceParent": "custom", "X-Tenant-ID": "other"}
        )
    (seen,) = echo.seen
    assert (seen["x-request-id"], seen["traceparent"], seen["x-tenant-id"]) == ("mine", "custom", "other")


def test_hosts_outside_propagation_targets_get_nothing(echo: EchoServer) -> None:
    """A host not matching ``propagation_targets`` receives no id headers."""
    init_capture(propagation_targets=["*.internal"])
    with httpx.Client(transport=LogpondTransport()) as client, lp.context_scope(trace_id=TRACE):
        client.get(echo.url)
    assert "x-request-id" not in echo.seen[0]
    assert "traceparent" not in echo.seen[0]


def test_non_hex_trace_ids_send_only_the_request_id(echo: EchoServer) -> None:
    """A trace id that is not 32-hex travels as X-Request-ID without a traceparent."""
    init_capture()
    with httpx.Client(transport=LogpondTransport()) as client, lp.context_scope(trace_id="abc-123"):
        client.get(echo.url)
    assert echo.seen[0]["x-request-id"] == "abc-123"
    assert "traceparent" not in echo.seen[0]


def test_requests_session_and_instrumented_session(echo: EchoServer) -> None:
    """``LogpondSession`` and ``instrument_session`` both add the ids; instrumenting twice is harmless."""
    init_capture()
    plain = instrument_session(instrument_session(requests.Session()))
    with LogpondSession() as session, plain, lp.context_scope(trace_id=TRACE):
        session.get(echo.url, timeout=10)
        plain.get(echo.url, timeout=10, headers={"X-Request-ID": "kept"})
    first, second = echo.seen
    assert first["x-request-id"] == TRACE and TRACEPARENT.fullmatch(first["traceparent"])
    assert second["x-request-id"] == "kept"


def test_no_trace_no_headers(echo: EchoServer) -> None:
    """Outside any trace, outbound requests are left untouched."""
    init_capture()
    with httpx.Client(transport=LogpondTransport()) as client:
        client.get(echo.url)
    assert "x-request-id" not in echo.seen[0]
