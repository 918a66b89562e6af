"""``POST /v1/logs``: OTLP/HTTP logs, protobuf or JSON (also ``/v1/logs/`` and ``/otlp/v1/logs``).

Answers follow the OTLP specification and what exporters do with them: 200 with an empty
``ExportLogsServiceResponse`` (or ``partial_success`` listing refused records, which
clients do not retry); 400 for a body that cannot be decoded; 413/415; 429 or 503 with
``Retry-After`` when the server is behind. Never 500 for a transient fault: OpenTelemetry
SDKs and Fluent Bit drop data on 500. Error bodies are ``google.rpc.Status`` in the
request's encoding.
"""

from __future__ import annotations

from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

from logpond.ingest.otlp import OTLPDecoder, encode_partial_success, encode_status
from logpond.model.errors import (
    LogpondError,
    ServiceUnavailableError,
    UnsupportedMediaTypeError,
)
from logpond.model.limits import MAX_OTLP_BODY_BYTES

from ..access import Access, RawRoute, raw_route
from ..body import read_body
from ..services import Services

__all__ = ["ROUTES"]

_PROTOBUF = "application/x-protobuf"
_JSON = "application/json"
_PROTOBUF_TYPES = (_PROTOBUF, "application/protobuf")
# gRPC status codes for the HTTP statuses logpond answers with.
_GRPC_CODES = {400: 3, 401: 16, 403: 7, 404: 5, 413: 8, 415: 3, 429: 8, 503: 14}


def _media(request: Request) -> str:
    return request.headers.get("content-type", "").split(";", 1)[0].strip().lower()


def render_error(exc: LogpondError, media: str = _PROTOBUF) -> Response:
    status = exc.status
    headers: dict[str, str] = {}
    if status >= 500 or isinstance(exc, ServiceUnavailableError):
        # A store fault is transient from the client's side: ask it to come back.
        status = 503
        headers["Retry-After"] = str(getattr(exc, "retry_after", 1))
    elif status == 429:
        headers["Retry-After"] = "1"
    code = _GRPC_CODES.get(status, 2)
    if media == _JSON:
        return Response(orjson.dumps({"code": code, "message": exc.message}), status, headers, _JSON)
    return Response(encode_status(code, exc.message), status, headers, _PROTOBUF)


async def _export(request: Request, access: Access, svc: Services) -> Response:
    media = _media(request)
    try:
        decoder = OTLPDecoder(svc.router)
        if media in _PROTOBUF_TYPES:
            body = await read_body(request, MAX_OTLP_BODY_BYTES)
            decoded = decoder.decode_protobuf(body, svc.clock.now_ms())
        elif media == _JSON:
            body = await read_body(request, MAX_OTLP_BODY_BYTES)
            decoded = decoder.decode_json(body, svc.clock.now_ms())
        else:
            raise UnsupportedMediaTypeError(
                "send application/x-protobuf or application/json", content_type=media
            )
        result = await svc.pipeline.ingest(decoded, access.principal)
    except LogpondError as exc:
        return render_error(exc, _JSON if media == _JSON else _PROTOBUF)
    rejected = result.rejected_count
    if media == _JSON:
        if not rejected:
            return Response(b"{}", 200, media_type=_JSON)
        message = "; ".join(sorted({r.reason for r in result.rejected}))
        body_out = {"partialSuccess": {"rejectedLogRecords": str(rejected), "errorMessage": message}}
        return Response(orjson.dumps(body_out), 200, media_type=_JSON)
    if not rejected:
        return Response(b"", 200, media_type=_PROTOBUF)
    message = "; ".join(sorted({r.reason for r in result.rejected}))
    return Response(encode_partial_success(rejected, message), 200, media_type=_PROTOBUF)


_OPENAPI = {
    "post": {
        "tags": ["ingest"],
        "summary": "OTLP/HTTP logs",
        "description": (
            "An OpenTelemetry `ExportLogsServiceRequest` as `application/x-protobuf` or "
            "`application/json`; gzip, deflate and zstd bodies. See docs/shippers/opentelemetry.md."
        ),
        "operationId": "otlpLogs",
        "x-logpond-action": "logs:PutLogEvents",
        "responses": {
            "200": {"description": "stored; `partial_success` lists refused records"},
            "400": {"description": "the body cannot be decoded"},
            "503": {"description": "the server is behind; retry after Retry-After"},
        },
    }
}


def _route(path: str, openapi: dict[str, Any] | None) -> RawRoute:
    return raw_route(
        path, action="logs:PutLogEvents", methods=["POST"], openapi=openapi, render_error=render_error
    )(_export)


ROUTES = [_route("/v1/logs", _OPENAPI), _route("/v1/logs/", None), _route("/otlp/v1/logs", None)]
