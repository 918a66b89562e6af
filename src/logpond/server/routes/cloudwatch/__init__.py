"""The CloudWatch Logs API: JSON 1.1 over ``POST /`` with ``X-Amz-Target: Logs_20140328.<Op>``.

One raw route serves every operation on the server's one port (HTTP or HTTPS). Per
request: the body is read once (its raw bytes are what SigV4 hashes), the caller is
authenticated (SigV4, or the native credentials), the operation is looked up, and its
handler authorizes the action on the resource before doing anything. Every response, error
or not, carries ``x-amzn-RequestId`` (Fluent Bit counts a 200 without it as a failure).
"""

from __future__ import annotations

import uuid

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from logpond.auth.credentials import authenticate_request
from logpond.auth.policy import Arns
from logpond.auth.sigv4 import SignedRequest
from logpond.model.errors import LogpondError

from ...access import Access
from ...body import decompress, read_raw_body
from ...errors import CLOUDWATCH_CONTENT_TYPE, render_cloudwatch, unexpected_cloudwatch
from ...services import Services
from . import (  # noqa: F401 (registers)
    events,
    groups,
    live_tail,
    metric_filters,
    policies,
    queries,
    tags,
)
from .protocol import OPERATIONS, TARGET_PREFIX, Call, SerializationError, UnknownOperationError

__all__ = ["SERVICE", "cloudwatch_route"]

# The SigV4 service name of CloudWatch Logs.
SERVICE = "logs"


def _headers(request: Request) -> dict[str, str]:
    """Header names in lower case; a repeated header's values joined with commas."""
    out: dict[str, str] = {}
    for raw_name, raw_value in request.headers.raw:
        name, value = raw_name.decode("latin-1").lower(), raw_value.decode("latin-1")
        out[name] = f"{out[name]},{value}" if name in out else value
    return out


async def _handle(request: Request, request_id: str) -> Response:
    svc: Services = request.app.state.services
    limit = svc.settings.ingest.max_body_bytes
    raw = await read_raw_body(request, limit)
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
    target = headers.get("x-amz-target", "")
    name = target[len(TARGET_PREFIX) :] if target.startswith(TARGET_PREFIX) else ""
    found = OPERATIONS.get(name)
    if found is None:
        raise UnknownOperationError(f"Unknown operation: {target or 'none'}")
    body_bytes = decompress(raw, headers.get("content-encoding", ""), limit)
    try:
        body = orjson.loads(body_bytes) if body_bytes.strip() else {}
    except orjson.JSONDecodeError:
        raise SerializationError("the request body is not valid JSON") from None
    if not isinstance(body, dict):
        raise SerializationError("the request body must be a JSON object")
    region = scope.region if scope is not None else svc.settings.auth.region
    access = Access(principal, found.action, Arns(region, svc.settings.auth.account_id))
    result = await found.handler(Call(body, access, svc, request_id))
    if isinstance(result, Response):
        result.headers["x-amzn-RequestId"] = request_id
        return result
    return Response(
        orjson.dumps(result),
        media_type=CLOUDWATCH_CONTENT_TYPE,
        headers={"x-amzn-RequestId": request_id},
    )


async def endpoint(request: Request) -> Response:
    request_id = str(uuid.uuid4())
    try:
        return await _handle(request, request_id)
    except LogpondError as exc:
        return render_cloudwatch(exc, request_id)
    except Exception as exc:
        return unexpected_cloudwatch(request, exc, request_id)


class CloudWatchRoute(Route):
    """``POST /``: the CloudWatch Logs API. Each operation's handler names its resource
    (``call.access.group(...)``) before it acts; the IAM action is ``logs:<Operation>``."""

    logpond_action = "logs:*"

    def __init__(self) -> None:
        super().__init__("/", endpoint, methods=["POST"], include_in_schema=False)


cloudwatch_route = CloudWatchRoute()
