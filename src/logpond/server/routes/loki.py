"""``POST /loki/api/v1/push`` (and the legacy ``/api/prom/push``): Grafana Loki's push API.

``application/json`` bodies are JSON; anything else, a missing Content-Type included, is a
raw-snappy ``PushRequest`` protobuf, as Loki itself reads it. Success is ``204 No Content``
(python-logging-loki accepts nothing else); errors are plain text: 400 for a bad payload
(clients drop it), 429/503 with ``Retry-After`` when the server is behind (clients retry).
``X-Scope-OrgID`` becomes the events' ``tenant_id`` when a line names none.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from logpond.ingest.loki import LokiDecoder, unsnappy
from logpond.model.errors import LogpondError, ServiceUnavailableError
from logpond.model.limits import MAX_SHIPPER_BODY_BYTES

from ..access import Access, RawRoute, raw_route
from ..body import read_body
from ..services import Services

__all__ = ["ROUTES"]

_ACTION = "logs:PutLogEvents"


def render_error(exc: LogpondError) -> Response:
    headers: dict[str, str] = {}
    status = exc.status
    if status >= 500 or isinstance(exc, ServiceUnavailableError):
        status = 503
        headers["Retry-After"] = str(getattr(exc, "retry_after", 1))
    if status == 401:
        headers["WWW-Authenticate"] = 'Basic realm="logpond"'
    return Response((exc.message + "\n").encode(), status, headers, "text/plain")


async def _push(request: Request, access: Access, svc: Services) -> Response:
    headers = request.headers
    media = headers.get("content-type", "").split(";", 1)[0].strip().lower()
    encoding = headers.get("content-encoding", "").strip().lower()
    # Some clients label the (already snappy) protobuf body "snappy"; it means nothing extra.
    body = await read_body(request, MAX_SHIPPER_BODY_BYTES, "" if encoding == "snappy" else None)
    tenant = headers.get("x-scope-orgid") if svc.settings.ingest.trust_scope_org_id else None
    decoder = LokiDecoder(svc.router)
    now = svc.clock.now_ms()
    if media == "application/json":
        decoded = decoder.decode_json(body, now, tenant or None)
    else:
        decoded = decoder.decode_protobuf(unsnappy(body, MAX_SHIPPER_BODY_BYTES), now, tenant or None)
    result = await svc.pipeline.ingest(decoded, access.principal)
    if result.rejected_count:
        reasons = "; ".join(sorted({r.reason for r in result.rejected}))
        return Response(
            f"{result.rejected_count} entries refused: {reasons}\n".encode(), 400, media_type="text/plain"
        )
    return Response(status_code=204)


async def _ready(request: Request, access: Access, svc: Services) -> Response:
    return Response(b"ready\n", 200, media_type="text/plain")


_OPENAPI = {
    "post": {
        "tags": ["ingest"],
        "summary": "Loki push",
        "description": (
            "Grafana Loki's push API: JSON (`streams` with `stream`/`values`, or the legacy "
            "`labels`/`entries`) or snappy-compressed protobuf. See docs/shippers/loki.md."
        ),
        "operationId": "lokiPush",
        "x-logpond-action": _ACTION,
        "responses": {"204": {"description": "stored"}, "400": {"description": "bad payload"}},
    }
}


def _route(path: str, handler: object, methods: list[str], openapi: dict[str, Any] | None) -> RawRoute:
    return raw_route(path, action=_ACTION, methods=methods, openapi=openapi, render_error=render_error)(
        handler  # type: ignore[arg-type]
    )


ROUTES = [
    _route("/loki/api/v1/push", _push, ["POST"], _OPENAPI),
    _route("/api/prom/push", _push, ["POST"], None),
    _route("/ready", _ready, ["GET"], None),
    _route("/loki/ready", _ready, ["GET"], None),
]
