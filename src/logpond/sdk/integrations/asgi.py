"""Pure ASGI middleware (FastAPI, Starlette, Django ASGI): request context and one access record.

::

    app = FastAPI()
    app = LogpondMiddleware(app)          # outermost: also tags unhandled 500s
    # or: app.add_middleware(LogpondMiddleware)

For ``http`` and ``websocket`` scopes it binds ``trace_id``, ``tenant_id`` (and
``request_id``, ``trace_source``) for the whole request, background tasks included, and
adds ``X-Request-ID`` to the response. For each HTTP request it emits one ``"HTTP Request"``
record with ``method``, ``path``, ``status``, ``duration_ms`` (measured when the last body
chunk is sent, so background work is not counted) and ``user_agent``. ``lifespan`` passes
through untouched. No ``BaseHTTPMiddleware``: streaming responses stream.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from .. import _diagnostics
from .._context import _CONTEXT, replace_context
from ._http import RequestSettings, TenantResolver, emit_request_record

__all__ = ["LogpondMiddleware"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

_INTERNAL_ERROR_BODY = b"Internal Server Error"


def _headers(scope: Scope) -> dict[str, str]:
    out: dict[str, str] = {}
    for name, value in scope.get("headers") or ():
        try:
            out[name.decode("latin-1").lower()] = value.decode("latin-1")
        except (AttributeError, UnicodeDecodeError):
            continue
    return out


class LogpondMiddleware:
    """ASGI middleware: ``LogpondMiddleware(app, tenant_resolver=..., trust_inbound_ids=...)``.

    ``tenant_resolver(scope) -> str | None`` overrides the tenant header; ``record_query``
    adds the (redacted) query string to the access record.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        trust_inbound_ids: bool | None = None,
        tenant_header: str | None = None,
        tenant_resolver: TenantResolver | None = None,
        record_query: bool = False,
        access_logger: str = "logpond.http",
    ) -> None:
        self.app = app
        self.settings = RequestSettings(
            trust_inbound_ids=trust_inbound_ids,
            tenant_header=tenant_header,
            tenant_resolver=tenant_resolver,
            record_query=record_query,
            logger=access_logger,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope.get("type")
        if kind not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        try:
            headers = _headers(scope)
            ids = self.settings.resolve(headers, scope)
        except Exception as exc:
            _diagnostics.report("asgi", "reading request ids failed", exc)
            await self.app(scope, receive, send)
            return
        token = replace_context({**_CONTEXT.get(), **ids.context()})
        try:
            if kind == "websocket":
                await self.app(scope, receive, send)
            else:
                await self._http(scope, receive, send, headers, ids.response_id)
        finally:
            _CONTEXT.reset(token)

    async def _http(
        self, scope: Scope, receive: Receive, send: Send, headers: dict[str, str], echo: str
    ) -> None:
        start = time.perf_counter()
        state: dict[str, Any] = {"status": None, "end": None, "started": False}
        echo_header = (b"x-request-id", echo.encode("latin-1"))

        async def send_wrapper(message: Message) -> None:
            kind = message.get("type")
            if kind == "http.response.start":
                state["status"] = message.get("status")
                state["started"] = True
                names = {bytes(name).lower() for name, _ in message.get("headers") or ()}
                if b"x-request-id" not in names:
                    message = dict(message)
                    message["headers"] = [*(message.get("headers") or ()), echo_header]
            elif (
                kind == "http.response.body" and not message.get("more_body", False) and state["end"] is None
            ):
                state["end"] = time.perf_counter()
            await send(message)

        error: BaseException | None = None
        try:
            await self.app(scope, receive, send_wrapper)
        except Exception as exc:
            error = exc
            if not state["started"]:
                await self._internal_error(send_wrapper)
            state["status"] = 500
        finally:
            end = state["end"] or time.perf_counter()
            try:
                emit_request_record(
                    self.settings,
                    method=str(scope.get("method", "")),
                    path=str(scope.get("path", "")),
                    query=(scope.get("query_string") or b"").decode("latin-1"),
                    status=state["status"],
                    duration_ms=(end - start) * 1000.0,
                    user_agent=headers.get("user-agent"),
                    error=error,
                )
            except Exception as exc:
                _diagnostics.report("asgi", "the access record failed", exc)

    @staticmethod
    async def _internal_error(send: Send) -> None:
        await send(
            {
                "type": "http.response.start",
                "status": 500,
                "headers": [
                    (b"content-type", b"text/plain; charset=utf-8"),
                    (b"content-length", str(len(_INTERNAL_ERROR_BODY)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": _INTERNAL_ERROR_BODY})
