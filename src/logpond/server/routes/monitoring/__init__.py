"""The CloudWatch metrics API (service ``monitoring``): alarms and metrics for boto3's
``cloudwatch`` client, Terraform and scripts, on ``POST /`` of the server's one port.

Requests are told from the CloudWatch Logs API by their target
(``X-Amz-Target: GraniteServiceVersion20100801.<Op>``), so this route is matched first and
only for them. Per request: the raw body is read once (SigV4 hashes it), the caller is
authenticated (SigV4 for service ``monitoring``, or the native credentials), the operation
is looked up, and its handler authorizes ``cloudwatch:<Op>`` on the alarm's ARN (or ``*``).
"""

from __future__ import annotations

import logging
import uuid

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Match, Route
from starlette.types import Scope

from logpond.auth.credentials import authenticate_request
from logpond.auth.policy import Arns
from logpond.auth.sigv4 import SignedRequest
from logpond.model.errors import InvalidParameterError, LogpondError

from ...access import Access
from ...body import read_raw_body
from ...services import Services
from . import alarms, metrics  # noqa: F401 (registers)
from .protocol import OPERATIONS, TARGET_PREFIX, Call, error_code

__all__ = ["SERVICE", "monitoring_route"]

log = logging.getLogger("logpond.server")

SERVICE = "monitoring"
CONTENT_TYPE = "application/x-amz-json-1.0"


def _headers(request: Request) -> dict[str, str]:
    out: dict[str, str] = {}
    for raw_name, raw_value in request.headers.raw:
        name, value = raw_name.decode("latin-1").lower(), raw_value.decode("latin-1")
        out[name] = f"{out[name]},{value}" if name in out else value
    return out


def _error(exc: LogpondError, request_id: str) -> Response:
    code, status, fault = error_code(exc)
    message = exc.message
    if exc.details and code == "InvalidParameterValue":
        extra = {k: v for k, v in exc.details.items() if k != "cloudwatch_code"}
        if extra:
            message = f"{message} ({', '.join(f'{k}={v}' for k, v in extra.items())})"
    return Response(
        orjson.dumps({"__type": code, "message": message}),
        status_code=status,
        media_type=CONTENT_TYPE,
        headers={"x-amzn-RequestId": request_id, "x-amzn-query-error": f"{code};{fault}"},
    )


async def _handle(request: Request) -> Response:
    svc: Services = request.app.state.services
    raw = await read_raw_body(request, svc.settings.ingest.max_body_bytes)
    headers = _headers(request)
    signed = SignedRequest(
        request.method,
        request.scope.get("raw_path", b"/").decode("latin-1") or "/",
        request.scope.get("query_string", b"").decode("latin-1"),
        headers,
        raw,
    )
    principal, scope = authenticate_request(
        signed, svc.keyring, svc.anonymous, svc.clock.now_ms(), service=SERVICE
    )
    name = headers.get("x-amz-target", "")[len(TARGET_PREFIX) :]
    found = OPERATIONS.get(name)
    if found is None:
        raise InvalidParameterError(f"Unknown operation {name}", cloudwatch_code="InvalidAction")
    try:
        body = orjson.loads(raw) if raw.strip() else {}
    except orjson.JSONDecodeError:
        raise InvalidParameterError(
            "the request body is not valid JSON", cloudwatch_code="SerializationException"
        ) from None
    if not isinstance(body, dict):
        raise InvalidParameterError("the request body must be a JSON object")
    region = scope.region if scope is not None else svc.settings.auth.region
    access = Access(principal, found.action, Arns(region, svc.settings.auth.account_id))
    result = await found.handler(Call(body, access, svc))
    return Response(orjson.dumps(result), media_type=CONTENT_TYPE)


async def endpoint(request: Request) -> Response:
    request_id = str(uuid.uuid4())
    try:
        response = await _handle(request)
    except LogpondError as exc:
        return _error(exc, request_id)
    except Exception:
        log.exception("unhandled error", extra={"incident": request_id, "path": "/", "service": SERVICE})
        return _error(LogpondError("internal error"), request_id)
    response.headers["x-amzn-RequestId"] = request_id
    return response


class MonitoringRoute(Route):
    """``POST /`` with a CloudWatch metrics target; other ``POST /`` requests pass on to the
    CloudWatch Logs route. The IAM action is ``cloudwatch:<Operation>``."""

    logpond_action = "cloudwatch:*"

    def __init__(self) -> None:
        super().__init__("/", endpoint, methods=["POST"], include_in_schema=False)

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] == "http":
            for name, value in scope.get("headers", []):
                if name == b"x-amz-target":
                    if value.startswith(TARGET_PREFIX.encode()):
                        return super().matches(scope)
                    break
        return Match.NONE, {}


monitoring_route = MonitoringRoute()
