"""``POST /api/v1/ingest``: the native ingest endpoint (NDJSON, JSON, plain text).

It is a raw route (``access.RawRoute``): on the hot path, FastAPI's per-request dependency
solving costs more than decoding a small batch.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from logpond.ingest.base import DecodeContext
from logpond.ingest.ndjson import NDJSONDecoder, PlainTextDecoder, is_json_type
from logpond.model.errors import InvalidParameterError, UnsupportedMediaTypeError
from logpond.model.names import LogGroupName, LogStreamName

from ..access import Access, raw_route
from ..body import read_body
from ..responses import JSONResponse
from ..services import Services

DEFAULT_STREAM = "default"

_NDJSON = NDJSONDecoder()
_TEXT = PlainTextDecoder()

_OPENAPI = {
    "post": {
        "tags": ["ingest"],
        "summary": "Ingest events",
        "description": (
            "Store events sent as NDJSON (one JSON object per line), a JSON array, or plain "
            "text (one message per line). `timestamp` may be ISO-8601 or epoch s/ms/ns; "
            "`level`, `message`, `trace_id`, `span_id`, `tenant_id` and `service` become "
            "columns, other keys are kept as fields. A line that is not JSON is stored as a "
            "plain message. Records that cannot be stored are listed with a reason; the "
            "rest are stored. `Content-Encoding: gzip`, `deflate` and `zstd` are accepted."
        ),
        "operationId": "ingest",
        "x-logpond-action": "logs:PutLogEvents",
        "parameters": [
            {
                "name": "group",
                "in": "query",
                "required": True,
                "schema": {"type": "string"},
                "description": "log group; created on first use if the key may create groups",
            },
            {
                "name": "stream",
                "in": "query",
                "required": False,
                "schema": {"type": "string", "default": DEFAULT_STREAM},
                "description": "log stream; created on first use",
            },
        ],
        "requestBody": {
            "required": True,
            "content": {
                "application/x-ndjson": {"schema": {"type": "string"}},
                "application/json": {"schema": {"type": "string"}},
                "text/plain": {"schema": {"type": "string"}},
            },
        },
        "responses": {
            "200": {
                "description": "accepted and rejected records",
                "content": {
                    "application/json": {
                        "schema": {
                            "type": "object",
                            "properties": {
                                "accepted": {"type": "integer"},
                                "rejected": {
                                    "type": "array",
                                    "items": {
                                        "type": "object",
                                        "properties": {
                                            "line": {"type": "integer"},
                                            "reason": {"type": "string"},
                                        },
                                    },
                                },
                                "rejected_count": {
                                    "type": "integer",
                                    "description": "present when more were rejected than listed",
                                },
                            },
                        }
                    }
                },
            },
            "401": {"description": "no or invalid credential"},
            "403": {"description": "the key may not write to this group"},
            "404": {"description": "unknown group, and the key may not create groups"},
            "413": {"description": "body (or decompressed body) over the limit"},
            "415": {"description": "unsupported content type or encoding"},
            "503": {"description": "overloaded or shutting down; retry after Retry-After"},
        },
    }
}


@raw_route("/api/v1/ingest", action="logs:PutLogEvents", methods=["POST"], openapi=_OPENAPI)
async def ingest(request: Request, access: Access, svc: Services) -> Response:
    """Store NDJSON or plain-text events; bad records are listed, the rest are stored."""
    params = request.query_params
    group = params.get("group")
    if not group:
        raise InvalidParameterError("the group query parameter is required")
    group_name = LogGroupName(group)
    stream_name = LogStreamName(params.get("stream") or DEFAULT_STREAM)
    access.group(group_name)
    body = await read_body(request, svc.settings.ingest.max_body_bytes)
    content_type = request.headers.get("content-type", "").lower()
    if content_type.startswith("text/plain"):
        decoder: NDJSONDecoder | PlainTextDecoder = _TEXT
    elif not content_type or is_json_type(content_type):
        decoder = _NDJSON
    else:
        raise UnsupportedMediaTypeError(
            "send application/x-ndjson, application/json or text/plain",
            content_type=content_type,
        )
    context = DecodeContext(group_name, stream_name, svc.clock.now_ms(), content_type)
    decoded = decoder.decode(body, context)
    result = await svc.pipeline.ingest(decoded, access.principal)
    return JSONResponse(result.to_dict())
