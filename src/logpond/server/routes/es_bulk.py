"""The Elasticsearch-compatible surface under ``/es``: what log shippers call, nothing more.

``POST /es/_bulk`` (and ``/es/{index}/_bulk``, ``/es/{index}/{type}/_bulk``) stores documents;
single-document writes (``/es/{index}/_doc``, ``_create``, legacy ``/es/{index}/{type}``)
too. The probes clients make before sending (``GET /es/``, ``/_license``, ``/_xpack``,
``/_cluster/health``, ``/_cat/health``, ``/_nodes``, template and ILM calls) get answers that
make them proceed. Every response, errors included, carries ``X-Elastic-Product:
Elasticsearch``: the official clients refuse a server without it.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

from logpond import __version__
from logpond.ingest.es_bulk import ESBulkDecoder, render_bulk_response
from logpond.model.errors import AuthenticationError, LogpondError, ServiceUnavailableError
from logpond.model.limits import MAX_ES_BODY_BYTES

from ..access import Access, RawRoute, raw_route
from ..body import read_body
from ..services import Services

__all__ = ["ROUTES"]

ES_VERSION = "8.17.0"
PREFIX = "/es"
_ACTION = "logs:PutLogEvents"
_CLUSTER_UUID = "bG9ncG9uZC1sb2dwb25kLQ"
_HEADERS = {"x-elastic-product": "Elasticsearch"}

_ERROR_TYPES = {
    400: "illegal_argument_exception",
    401: "security_exception",
    403: "security_exception",
    404: "resource_not_found_exception",
    413: "content_too_long_exception",
    415: "media_type_header_exception",
    429: "es_rejected_execution_exception",
    503: "unavailable_shards_exception",
}


def _json(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(
        orjson.dumps(body), status, headers={**_HEADERS, **(headers or {})}, media_type="application/json"
    )


def render_error(exc: LogpondError) -> Response:
    """Elasticsearch's error shape, with the product header."""
    kind = _ERROR_TYPES.get(exc.status, "exception")
    cause = {"type": kind, "reason": exc.message}
    headers: dict[str, str] = {}
    if isinstance(exc, ServiceUnavailableError):
        headers["Retry-After"] = str(exc.retry_after)
    if isinstance(exc, AuthenticationError):
        headers["WWW-Authenticate"] = 'Basic realm="logpond", ApiKey'
    return _json({"error": {"root_cause": [cause], **cause}, "status": exc.status}, exc.status, headers)


def _route(path: str, methods: list[str], openapi: dict[str, Any] | None = None) -> Any:
    return raw_route(
        PREFIX + path, action=_ACTION, methods=methods, openapi=openapi, render_error=render_error
    )


def _info() -> dict[str, Any]:
    return {
        "name": "logpond",
        "cluster_name": "logpond",
        "cluster_uuid": _CLUSTER_UUID,
        "version": {
            "number": ES_VERSION,
            "build_flavor": "default",
            "build_type": "docker",
            "build_hash": "0" * 40,
            "build_date": "2024-12-11T12:08:05.663969764Z",
            "build_snapshot": False,
            "lucene_version": "9.12.0",
            "minimum_wire_compatibility_version": "7.17.0",
            "minimum_index_compatibility_version": "7.0.0",
        },
        "tagline": "You Know, for Search",
        "logpond_version": __version__,
    }


async def _root(request: Request, access: Access, svc: Services) -> Response:
    if request.method == "HEAD":
        return Response(b"", 200, headers=_HEADERS, media_type="application/json")
    return _json(_info())


async def _license(request: Request, access: Access, svc: Services) -> Response:
    return _json(
        {
            "license": {
                "status": "active",
                "uid": str(uuid.UUID(int=0)),
                "type": "basic",
                "issue_date_in_millis": 1704067200000,
                "max_nodes": 1000,
                "issued_to": "logpond",
                "issuer": "elasticsearch",
                "start_date_in_millis": -1,
            }
        }
    )


async def _xpack(request: Request, access: Access, svc: Services) -> Response:
    return _json(
        {
            "license": {"uid": str(uuid.UUID(int=0)), "type": "basic", "mode": "basic", "status": "active"},
            "features": {"ilm": {"available": True, "enabled": True}},
        }
    )


async def _cluster_health(request: Request, access: Access, svc: Services) -> Response:
    return _json(
        {
            "cluster_name": "logpond",
            "status": "green",
            "timed_out": False,
            "number_of_nodes": 1,
            "number_of_data_nodes": 1,
            "active_primary_shards": 1,
            "active_shards": 1,
            "relocating_shards": 0,
            "initializing_shards": 0,
            "unassigned_shards": 0,
        }
    )


async def _cat_health(request: Request, access: Access, svc: Services) -> Response:
    now = time.time()
    line = (
        f"{int(now)} {time.strftime('%H:%M:%S', time.gmtime(now))} logpond green 1 1 1 1 0 0 0 0 - 100.0%\n"
    )
    return Response(line.encode(), 200, headers=_HEADERS, media_type="text/plain")


async def _nodes(request: Request, access: Access, svc: Services) -> Response:
    host = request.headers.get("host", f"{svc.settings.server.host}:{svc.settings.server.port}")
    name, _, _port = host.rpartition(":")
    return _json(
        {
            "_nodes": {"total": 1, "successful": 1, "failed": 0},
            "cluster_name": "logpond",
            "nodes": {
                "logpond": {
                    "name": "logpond",
                    "host": name or host,
                    "ip": name or host,
                    "version": ES_VERSION,
                    "roles": ["master", "data", "ingest"],
                    "http": {"publish_address": host},
                }
            },
        }
    )


async def _accept(request: Request, access: Access, svc: Services) -> Response:
    """Templates, ILM policies, pipelines, data streams, indices: accepted and ignored."""
    if request.method == "HEAD":
        return Response(b"", 200, headers=_HEADERS, media_type="application/json")
    if request.method == "GET":
        return _json({})
    name = request.path_params.get("index")
    if name is not None and request.method == "PUT":
        return _json({"acknowledged": True, "shards_acknowledged": True, "index": name})
    return _json({"acknowledged": True})


async def _bulk(request: Request, access: Access, svc: Services) -> Response:
    started = time.perf_counter()
    index = request.path_params.get("index")
    body = await read_body(request, MAX_ES_BODY_BYTES)
    bulk = ESBulkDecoder(svc.router).decode(body, index, svc.clock.now_ms())
    result = await svc.pipeline.ingest(bulk.decoded, access.principal)
    rejected = {r.line: r.reason for r in result.rejected}
    took = int((time.perf_counter() - started) * 1000)
    return Response(
        render_bulk_response(bulk.items, rejected, took), 200, headers=_HEADERS, media_type="application/json"
    )


async def _single(request: Request, access: Access, svc: Services) -> Response:
    """One document: ``/{index}/_doc[/{id}]``, ``/{index}/_create/{id}``, ``/{index}/{type}``."""
    index = request.path_params["index"]
    doc_id = request.path_params.get("id")
    body = await read_body(request, MAX_ES_BODY_BYTES)
    action = orjson.dumps({"index": {"_index": index, **({"_id": doc_id} if doc_id else {})}})
    bulk = ESBulkDecoder(svc.router).decode(
        action + b"\n" + body.replace(b"\n", b" ") + b"\n", index, svc.clock.now_ms()
    )
    result = await svc.pipeline.ingest(bulk.decoded, access.principal)
    (item,) = bulk.items
    if item.status != 201 or result.rejected:
        reason = result.rejected[0].reason if result.rejected else (item.error or ("", "rejected"))[1]
        cause = {"type": "document_parsing_exception", "reason": reason}
        return _json({"error": {"root_cause": [cause], **cause}, "status": 400}, 400)
    # No top-level "status" key: rsyslog takes its presence for a failed document.
    return _json(
        {
            "_index": index,
            "_id": item.id,
            "_version": 1,
            "result": "created",
            "_shards": {"total": 1, "successful": 1, "failed": 0},
            "_seq_no": 0,
            "_primary_term": 1,
        },
        201,
    )


_BULK_OPENAPI = {
    "post": {
        "tags": ["ingest"],
        "summary": "Elasticsearch-compatible bulk ingest",
        "description": (
            "Elasticsearch `_bulk` NDJSON (index/create/update/delete actions); the response is "
            "Elasticsearch's. The group is the index without a trailing date, unless a route "
            "says otherwise. See docs/shippers/elasticsearch.md."
        ),
        "operationId": "esBulk",
        "x-logpond-action": _ACTION,
        "responses": {"200": {"description": "one item per action, with its status"}},
    }
}

_TEMPLATE_PATHS = (
    "/_template/{name}",
    "/_index_template/{name}",
    "/_component_template/{name}",
    "/_ilm/policy/{name}",
    "/_ingest/pipeline/{name}",
    "/_data_stream/{name}",
)
_ANY = ["GET", "HEAD", "PUT", "POST", "DELETE"]


def _routes() -> list[RawRoute]:
    routes = [
        _route("", ["GET", "HEAD"])(_root),
        _route("/", ["GET", "HEAD"])(_root),
        _route("/_license", ["GET"])(_license),
        _route("/_xpack", ["GET"])(_xpack),
        _route("/_cluster/health", ["GET"])(_cluster_health),
        _route("/_cat/health", ["GET"])(_cat_health),
        _route("/_nodes", ["GET"])(_nodes),
        _route("/_nodes/http", ["GET"])(_nodes),
        _route("/_bulk", ["POST", "PUT"], _BULK_OPENAPI)(_bulk),
        *(_route(path, _ANY)(_accept) for path in _TEMPLATE_PATHS),
        _route("/{index}/_bulk", ["POST", "PUT"])(_bulk),
        _route("/{index}/{type}/_bulk", ["POST", "PUT"])(_bulk),
        _route("/{index}/_doc", ["POST"])(_single),
        _route("/{index}/_doc/{id}", ["POST", "PUT"])(_single),
        _route("/{index}/_create/{id}", ["POST", "PUT"])(_single),
        _route("/{index}", ["HEAD", "PUT", "GET"])(_accept),
        _route("/{index}/{type}", ["POST"])(_single),
    ]
    return routes


ROUTES = _routes()
