"""One place turns errors into responses: ``LogpondError`` by its status and code, request
validation as 400, anything unexpected as a logged 500 that reveals nothing.

The CloudWatch Logs surface (``POST /`` with ``X-Amz-Target``) has its own error shape,
rendered by :func:`render_cloudwatch`: ``{"__type": code, "message": text}`` plus any
members the service model defines for that error, the ``x-amzn-ErrorType`` and
``x-amzn-RequestId`` headers, and 400 for every client error (5xx for server faults).
"""

from __future__ import annotations

import logging
import uuid

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.responses import Response

from logpond.model.errors import (
    AccessDeniedError,
    AuthenticationError,
    LogpondError,
    MalformedQueryError,
    PayloadTooLargeError,
    ServiceUnavailableError,
)

from .responses import JSONResponse

__all__ = ["CLOUDWATCH_CONTENT_TYPE", "install_error_handlers", "render_cloudwatch", "unexpected_cloudwatch"]

CLOUDWATCH_CONTENT_TYPE = "application/x-amz-json-1.1"

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


def render_cloudwatch(exc: LogpondError, request_id: str) -> Response:
    """A CloudWatch Logs (JSON 1.1) error response."""
    status = 400
    if isinstance(exc, ServiceUnavailableError):
        status = 503
    elif isinstance(exc, PayloadTooLargeError):
        status = 413
    elif type(exc) is LogpondError:
        status = 500
    message = exc.message
    body: dict[str, object] = {"__type": exc.code}
    if isinstance(exc, AccessDeniedError) and "action" in exc.details:
        details = exc.details
        message = (
            f"User: {details.get('access_key_id', '')} is not authorized to perform: "
            f"{details['action']} on resource: {details.get('resource', '*')}"
        )
    if isinstance(exc, MalformedQueryError):
        body["queryCompileError"] = {
            "location": {"startCharOffset": exc.offset, "endCharOffset": exc.end_offset},
            "message": str(exc),
        }
    body.update(exc.details.get("members", {}))
    body["message"] = message
    headers = {"x-amzn-RequestId": request_id, "x-amzn-ErrorType": exc.code}
    if isinstance(exc, ServiceUnavailableError):
        headers["Retry-After"] = str(exc.retry_after)
    return JSONResponse(body, status_code=status, headers=headers, media_type=CLOUDWATCH_CONTENT_TYPE)


def unexpected_cloudwatch(request: Request, exc: Exception, request_id: str) -> Response:
    """An unexpected error on the CloudWatch surface: logged, answered as InternalFailure."""
    log.error(
        "unhandled error",
        exc_info=exc,
        extra={"incident": request_id, "path": request.url.path, "method": request.method},
    )
    return render_cloudwatch(LogpondError("internal error"), request_id)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(LogpondError, _logpond_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)
