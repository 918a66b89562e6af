"""One place turns errors into responses: ``LogpondError`` by its status and code, request
validation as 400, anything unexpected as a logged 500 that reveals nothing."""

from __future__ import annotations

import logging
import uuid

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.responses import Response

from logpond.model.errors import (
    AuthenticationError,
    LogpondError,
    ServiceUnavailableError,
)

from .responses import JSONResponse

__all__ = ["install_error_handlers"]

log = logging.getLogger("logpond.server")


def render(exc: LogpondError) -> Response:
    headers: dict[str, str] = {}
    if isinstance(exc, ServiceUnavailableError):
        headers["Retry-After"] = str(exc.retry_after)
    if isinstance(exc, AuthenticationError):
        headers["WWW-Authenticate"] = 'Bearer realm="logpond", Basic realm="logpond"'
    return JSONResponse(exc.to_dict(), status_code=exc.status, headers=headers)


async def _logpond_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, LogpondError)
    response = render(exc)
    if "www-authenticate" in response.headers and request.headers.get("x-requested-with") == "XMLHttpRequest":
        # The web UI handles 401 itself; a challenge would make the browser prompt.
        del response.headers["www-authenticate"]
    return response


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    problems = [
        {"where": ".".join(str(p) for p in e.get("loc", ())), "problem": e.get("msg", "")}
        for e in exc.errors()
    ]
    body = {"error": "InvalidParameterException", "message": "invalid request", "problems": problems}
    return JSONResponse(body, status_code=400)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    code = {404: "NotFound", 405: "MethodNotAllowed"}.get(exc.status_code, "HTTPError")
    return JSONResponse(
        {"error": code, "message": str(exc.detail).lower()},
        status_code=exc.status_code,
        headers=exc.headers,
    )


async def _unexpected(request: Request, exc: Exception) -> Response:
    incident = uuid.uuid4().hex
    log.error(
        "unhandled error",
        exc_info=exc,
        extra={"incident": incident, "path": request.url.path, "method": request.method},
    )
    return JSONResponse(
        {"error": "InternalFailure", "message": "internal error", "incident": incident},
        status_code=500,
    )


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(LogpondError, _logpond_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)
