"""Django: the ASGI or WSGI wrapper around the application, or a middleware class.

The wrappers are the complete choice (they see unhandled exceptions and streaming)::

    # wsgi.py
    application = LogpondWSGIMiddleware(get_wsgi_application())
    # asgi.py
    application = LogpondMiddleware(get_asgi_application())

Where the entry point cannot be changed, put :class:`LogpondDjangoMiddleware` first in
``MIDDLEWARE``: it binds the request context, adds ``X-Request-ID`` (Django has already
turned exceptions into 500 responses by then) and emits the ``"HTTP Request"`` record when
the view returns. Options come from the ``LOGPOND_MIDDLEWARE`` setting (a dict of the
wrappers' keyword arguments).
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any

from .. import _diagnostics
from .._context import _CONTEXT, replace_context
from ._http import RequestSettings, emit_request_record

__all__ = ["LogpondDjangoMiddleware"]

_ERROR_ATTR = "_logpond_error"


class LogpondDjangoMiddleware:
    """Django middleware (sync and async) binding the request context and logging the request."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Callable[[Any], Any]) -> None:
        from asgiref.sync import iscoroutinefunction, markcoroutinefunction  # noqa: PLC0415
        from django.conf import settings  # type: ignore[import-untyped]  # noqa: PLC0415

        self.get_response = get_response
        self.settings = RequestSettings(**getattr(settings, "LOGPOND_MIDDLEWARE", {}))
        self._async = iscoroutinefunction(get_response)
        if self._async:
            markcoroutinefunction(self)

    def __call__(self, request: Any) -> Any:
        if self._async:
            return self._acall(request)
        token, echo, start = self._enter(request)
        try:
            response = self.get_response(request)
            self._leave(request, response, echo, start)
            return response
        finally:
            _CONTEXT.reset(token)

    async def _acall(self, request: Any) -> Any:
        token, echo, start = self._enter(request)
        try:
            get_response: Callable[[Any], Awaitable[Any]] = self.get_response
            response = await get_response(request)
            self._leave(request, response, echo, start)
            return response
        finally:
            _CONTEXT.reset(token)

    def process_exception(self, request: Any, exception: Exception) -> None:
        """Keep the exception for the access record; Django goes on to build the 500."""
        setattr(request, _ERROR_ATTR, exception)

    def _enter(self, request: Any) -> tuple[Any, str, float]:
        headers = {str(k).lower(): str(v) for k, v in request.headers.items()}
        ids = self.settings.resolve(headers, request)
        token = replace_context({**_CONTEXT.get(), **ids.context()})
        return token, ids.response_id, time.perf_counter()

    def _leave(self, request: Any, response: Any, echo: str, start: float) -> None:
        try:
            if not response.has_header("X-Request-ID"):
                response["X-Request-ID"] = echo
            emit_request_record(
                self.settings,
                method=request.method or "",
                path=request.path,
                query=request.META.get("QUERY_STRING", ""),
                status=response.status_code,
                duration_ms=(time.perf_counter() - start) * 1000.0,
                user_agent=request.headers.get("User-Agent"),
                error=getattr(request, _ERROR_ATTR, None),
            )
        except Exception as exc:
            _diagnostics.report("django", "the access record failed", exc)
