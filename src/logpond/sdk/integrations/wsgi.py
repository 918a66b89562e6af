"""WSGI middleware (Flask, Django WSGI, any WSGI app): request context and one access record.

::

    application = LogpondWSGIMiddleware(application)

The request runs in a context of its own (a copy made per request), so nothing it binds
is left on the server's thread for the next request. Each response chunk and ``close()``
run in that context again, since a WSGI server iterates the response after the app has
returned. The ``"HTTP Request"`` record is emitted when the response is exhausted or
closed, whichever comes first. An unhandled exception becomes a 500 that still carries
``X-Request-ID``.
"""

from __future__ import annotations

import contextvars
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from types import TracebackType
from typing import Any

from .. import _diagnostics
from .._context import _CONTEXT, replace_context
from ._http import RequestSettings, TenantResolver, emit_request_record

__all__ = ["LogpondWSGIMiddleware"]

ExcInfo = tuple[type[BaseException], BaseException, TracebackType | None]
StartResponse = Callable[..., Callable[[bytes], object]]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]

_INTERNAL_ERROR_BODY = b"Internal Server Error"


def _headers(environ: dict[str, Any]) -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in environ.items():
        if key.startswith("HTTP_") and isinstance(value, str):
            out[key[5:].replace("_", "-").lower()] = value
    return out


class _Response:
    """The app's response iterable, iterated and closed in the request's context."""

    def __init__(
        self,
        result: Iterable[bytes],
        context: contextvars.Context,
        finish: Callable[[BaseException | None], None],
    ) -> None:
        self._result = result
        self._context = context
        self._finish = finish
        self._iterator: Iterator[bytes] | None = None
        self._done = False

    def __iter__(self) -> _Response:
        return self

    def __next__(self) -> bytes:
        if self._iterator is None:
            self._iterator = self._context.run(iter, self._result)
        try:
            return self._context.run(next, self._iterator)
        except StopIteration:
            self._complete(None)
            raise
        except Exception as exc:
            self._complete(exc)
            raise

    def close(self) -> None:
        try:
            close = getattr(self._result, "close", None)
            if close is not None:
                self._context.run(close)
        finally:
            self._complete(None)

    def _complete(self, error: BaseException | None) -> None:
        if not self._done:
            self._done = True
            self._context.run(self._finish, error)


class LogpondWSGIMiddleware:
    """WSGI middleware: ``LogpondWSGIMiddleware(app, tenant_resolver=..., trust_inbound_ids=...)``.

    ``tenant_resolver(environ) -> str | None`` overrides the tenant header.
    """

    def __init__(
        self,
        app: WSGIApp,
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

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        context = contextvars.copy_context()
        return context.run(self._call, context, environ, start_response)

    def _call(
        self, context: contextvars.Context, environ: dict[str, Any], start_response: StartResponse
    ) -> Iterable[bytes]:
        start = time.perf_counter()
        headers = _headers(environ)
        try:
            ids = self.settings.resolve(headers, environ)
        except Exception as exc:
            _diagnostics.report("wsgi", "reading request ids failed", exc)
            return self.app(environ, start_response)
        replace_context({**_CONTEXT.get(), **ids.context()})  # in this request's own copy
        echo = ids.response_id
        state: dict[str, Any] = {"status": None}

        def start_wrapper(
            status: str, response_headers: list[tuple[str, str]], exc_info: ExcInfo | None = None
        ) -> Callable[[bytes], object]:
            try:
                state["status"] = int(status.split(" ", 1)[0])
            except ValueError:
                state["status"] = None
            if not any(name.lower() == "x-request-id" for name, _ in response_headers):
                response_headers = [*response_headers, ("X-Request-ID", echo)]
            if exc_info is not None:
                return start_response(status, response_headers, exc_info)
            return start_response(status, response_headers)

        def finish(error: BaseException | None) -> None:
            try:
                emit_request_record(
                    self.settings,
                    method=str(environ.get("REQUEST_METHOD", "")),
                    path=str(environ.get("SCRIPT_NAME", "")) + str(environ.get("PATH_INFO", "")),
                    query=str(environ.get("QUERY_STRING", "")),
                    status=500 if error is not None else state["status"],
                    duration_ms=(time.perf_counter() - start) * 1000.0,
                    user_agent=headers.get("user-agent"),
                    error=error,
                )
            except Exception as exc:
                _diagnostics.report("wsgi", "the access record failed", exc)

        try:
            result = self.app(environ, start_wrapper)
        except Exception as exc:
            finish(exc)
            start_response(
                "500 Internal Server Error",
                [
                    ("Content-Type", "text/plain; charset=utf-8"),
                    ("Content-Length", str(len(_INTERNAL_ERROR_BODY))),
                    ("X-Request-ID", echo),
                ],
                sys.exc_info(),
            )
            return [_INTERNAL_ERROR_BODY]
        return _Response(result, context, finish)
