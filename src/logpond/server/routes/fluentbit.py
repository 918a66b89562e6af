"""``POST /api/v1/fluentbit/{group}``: Fluent Bit's ``http`` output, every ``format`` it has.

Answers follow what Fluent Bit does with them: 200 ``{"accepted": N, ...}`` on success;
400 for a body that cannot be read (Fluent Bit drops it, as it should); 503 with
``Retry-After`` when the server is behind (retried). gzip, zstd and snappy bodies.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from logpond.ingest.fluentbit import FluentBitDecoder
from logpond.model.limits import MAX_SHIPPER_BODY_BYTES

from ..access import Access, raw_route
from ..body import read_body
from ..responses import JSONResponse
from ..services import Services

__all__ = ["ROUTES"]

_OPENAPI = {
    "post": {
        "tags": ["ingest"],
        "summary": "Fluent Bit http output",
        "description": (
            "Records from Fluent Bit's `http` output in any `format` (json, json_stream, "
            "json_lines, msgpack) into the group named by the path. The `X-Fluent-Tag` header "
            "(Fluent Bit `header_tag`) is kept as `fluent.tag`. See docs/shippers/fluent-bit.md."
        ),
        "operationId": "fluentBit",
        "x-logpond-action": "logs:PutLogEvents",
        "responses": {"200": {"description": "accepted and rejected records"}},
    }
}


@raw_route("/api/v1/fluentbit/{group:path}", action="logs:PutLogEvents", methods=["POST"], openapi=_OPENAPI)
async def fluentbit(request: Request, access: Access, svc: Services) -> Response:
    group = request.path_params["group"]
    if not group.startswith("/") and "/" in group:
        group = "/" + group
    body = await read_body(request, MAX_SHIPPER_BODY_BYTES)
    media = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    tag = request.headers.get("x-fluent-tag")
    decoded = FluentBitDecoder(svc.router).decode(body, media, group or "fluentbit", tag, svc.clock.now_ms())
    result = await svc.pipeline.ingest(decoded, access.principal)
    return JSONResponse(result.to_dict())


ROUTES = [fluentbit]
