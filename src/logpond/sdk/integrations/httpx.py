"""httpx: transports that add ``X-Request-ID``, ``traceparent`` (and the tenant) to requests.

::

    client = httpx.Client(transport=LogpondTransport())
    client = httpx.AsyncClient(transport=AsyncLogpondTransport(httpx.AsyncHTTPTransport(retries=2)))

Headers the caller set are never overwritten; see ``propagation_targets`` and
``tenant_targets`` in ``init`` for which hosts get what.
"""

from __future__ import annotations

import httpx

from .. import _diagnostics
from ._outbound import outbound_headers

__all__ = ["AsyncLogpondTransport", "LogpondTransport"]


def _add_headers(request: httpx.Request) -> None:
    try:
        host = request.url.host
        if request.url.port is not None:
            host = f"{host}:{request.url.port}"
        for name, value in outbound_headers(host, request.headers.keys()).items():
            request.headers[name] = value
    except Exception as exc:
        _diagnostics.report("httpx", "adding trace headers failed", exc)


class LogpondTransport(httpx.BaseTransport):
    """Wraps a sync transport (default ``httpx.HTTPTransport()``)."""

    def __init__(self, transport: httpx.BaseTransport | None = None) -> None:
        self._transport = transport or httpx.HTTPTransport()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        _add_headers(request)
        return self._transport.handle_request(request)

    def close(self) -> None:
        self._transport.close()


class AsyncLogpondTransport(httpx.AsyncBaseTransport):
    """Wraps an async transport (default ``httpx.AsyncHTTPTransport()``)."""

    def __init__(self, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self._transport = transport or httpx.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        _add_headers(request)
        return await self._transport.handle_async_request(request)

    async def aclose(self) -> None:
        await self._transport.aclose()
