"""requests: sessions that add ``X-Request-ID``, ``traceparent`` (and the tenant) to requests.

::

    session = LogpondSession()                  # a requests.Session
    session = instrument_session(requests.Session())   # or instrument one you have

Headers the caller set are never overwritten.
"""

from __future__ import annotations

import urllib.parse
from typing import Any

import requests

from .. import _diagnostics
from ._outbound import outbound_headers

__all__ = ["LogpondSession", "instrument_session"]

_MARK = "_logpond_instrumented"


def _add_headers(request: requests.PreparedRequest) -> None:
    try:
        url = urllib.parse.urlsplit(request.url or "")
        host = url.hostname or ""
        if url.port is not None:
            host = f"{host}:{url.port}"
        for name, value in outbound_headers(host, request.headers.keys()).items():
            request.headers[name] = value
    except Exception as exc:
        _diagnostics.report("requests", "adding trace headers failed", exc)


class LogpondSession(requests.Session):
    """A ``requests.Session`` whose every request carries the current trace ids."""

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        _add_headers(request)
        return super().send(request, **kwargs)


def instrument_session(session: requests.Session) -> requests.Session:
    """Make an existing session add the trace headers (idempotent); returns it."""
    if getattr(session, _MARK, False):
        return session
    original = session.send

    def send(request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        _add_headers(request)
        return original(request, **kwargs)

    session.send = send  # type: ignore[method-assign]
    setattr(session, _MARK, True)
    return session
