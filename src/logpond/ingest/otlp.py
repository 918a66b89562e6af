"""OTLP/HTTP logs: ``ExportLogsServiceRequest`` as protobuf or as OTLP JSON.

Per log record: the time is ``time_unix_nano``, else ``observed_time_unix_nano``, else the
time of arrival; the level comes from ``severity_number`` (1-4 trace ... 21-24 fatal), else
from ``severity_text``; the message is the body (a string as is, a map's ``message``/``msg``/
``log`` member with the rest as fields, anything else as compact JSON); trace and span ids
are lowercase hex (all-zero ones dropped); the service is the resource's ``service.name``.

Fields: the record's attributes with dotted keys nested (``http.status_code`` ->
``{"http": {"status_code": ...}}``), and ``otel`` = ``{"resource": {...}, "scope": {"name",
"version"}, "severity_number", "severity_text", "flags", "observed_ns", "event_name"}`` (the
parts that are set). Kubernetes resource attributes (``k8s.namespace.name``, ``k8s.pod.name``,
``k8s.container.name``, ``k8s.node.name``, ``k8s.pod.uid``) are also given as
``kubernetes.{namespace_name,pod_name,container_name,host,pod_id}``, the names Fluent Bit
uses, so one query finds a container's logs whatever shipped them.

Group: ``service.namespace/service.name`` (or ``service.name``); stream:
``service.instance.id``, else ``k8s.pod.name``, else ``host.name``, else ``default``. Routes
see ``otel.resource`` and ``kubernetes``.

The JSON form is walked directly: ``traceId``/``spanId`` are hex there, not base64 as
protobuf's JSON mapping would read them.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import orjson

from logpond.model.errors import InvalidParameterError

from .base import Decoded, EventColumns, Rejection
from .records import normalize_level, unflatten
from .routing import Router

__all__ = ["OTLPDecoder", "encode_partial_success", "encode_status"]

_SEVERITY = (
    None,
    *("trace",) * 4,
    *("debug",) * 4,
    *("info",) * 4,
    *("warn",) * 4,
    *("error",) * 4,
    *("fatal",) * 4,
)
_SEVERITY_NAMES = {
    f"SEVERITY_NUMBER_{name}{suffix}": number
    for base, name in ((1, "TRACE"), (5, "DEBUG"), (9, "INFO"), (13, "WARN"), (17, "ERROR"), (21, "FATAL"))
    for number, suffix in ((base, ""), (base + 1, "2"), (base + 2, "3"), (base + 3, "4"))
}
_K8S = (
    ("k8s.namespace.name", "namespace_name"),
    ("k8s.pod.name", "pod_name"),
    ("k8s.container.name", "container_name"),
    ("k8s.node.name", "host"),
    ("k8s.pod.uid", "pod_id"),
)
_MESSAGE_MEMBERS = ("message", "msg", "log")
# Keys every stored record's document starts with (the event's time and message): an
# attribute of that name moves to ``otel.attributes`` rather than repeat a key in ``@message``
# (Fluent Bit's opentelemetry output sends a record's own ``timestamp`` as an attribute).
_HEAD_KEYS = ("timestamp", "message")


@dataclass(slots=True)
class _Resource:
    """What every record of one resource+scope shares, worked out once."""

    group: str
    stream: str
    service: str | None
    otel_head: bytes  # '"resource":{...},"scope":{...}'
    kubernetes: bytes | None


def _any_proto(value: Any) -> Any:
    kind = value.WhichOneof("value")
    if kind == "string_value":
        return value.string_value
    if kind is None:
        return None
    if kind == "int_value":
        return value.int_value
    if kind == "bool_value":
        return value.bool_value
    if kind == "double_value":
        return value.double_value
    if kind == "kvlist_value":
        return {kv.key: _any_proto(kv.value) for kv in value.kvlist_value.values}
    if kind == "array_value":
        return [_any_proto(v) for v in value.array_value.values]
    if kind == "bytes_value":
        return base64.b64encode(value.bytes_value).decode()
    return None


def _any_json(value: Any) -> Any:
    if type(value) is not dict or not value:
        return None
    ((kind, inner),) = list(value.items())[:1]
    if kind in ("stringValue", "string_value"):
        return inner if isinstance(inner, str) else str(inner)
    if kind in ("intValue", "int_value"):
        try:
            return int(inner)
        except (TypeError, ValueError):
            return inner
    if kind in ("boolValue", "bool_value", "doubleValue", "double_value"):
        return inner
    if kind in ("kvlistValue", "kvlist_value"):
        return _attrs_json((inner or {}).get("values") or [])
    if kind in ("arrayValue", "array_value"):
        return [_any_json(v) for v in (inner or {}).get("values") or []]
    if kind in ("bytesValue", "bytes_value"):
        return inner
    return None


def _attrs_proto(attributes: Iterable[Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for kv in attributes:
        value = kv.value
        # Strings are most attributes: read them without the general conversion.
        out[kv.key] = value.string_value if value.WhichOneof("value") == "string_value" else _any_proto(value)
    return out


def _attrs_json(attributes: Any) -> dict[str, Any]:
    if not isinstance(attributes, list):
        return {}
    return {
        kv["key"]: _any_json(kv.get("value"))
        for kv in attributes
        if type(kv) is dict and isinstance(kv.get("key"), str)
    }


def _hex(raw: bytes, size: int) -> str | None:
    if len(raw) != size or not any(raw):
        return None
    return raw.hex()


def _hex_json(value: Any, size: int) -> str | None:
    if not isinstance(value, str) or len(value) != size * 2:
        return None
    try:
        return _hex(bytes.fromhex(value), size)
    except ValueError:
        return None


def _int(value: Any) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return 0


class OTLPDecoder:
    """Decodes OTLP logs; see the module docstring."""

    def __init__(self, router: Router) -> None:
        self._router = router

    def _resource(self, attributes: dict[str, Any], scope: dict[str, Any]) -> _Resource:
        service = attributes.get("service.name")
        namespace = attributes.get("service.namespace")
        group = str(service) if service else "unknown_service"
        if namespace:
            group = f"{namespace}/{group}"
        stream = "default"
        for key in ("service.instance.id", "k8s.pod.name", "host.name"):
            if attributes.get(key):
                stream = str(attributes[key])
                break
        kubernetes = {name: attributes[key] for key, name in _K8S if key in attributes}
        nested = unflatten(attributes)
        if self._router.has_rules("otlp"):
            context: dict[str, Any] = {"otel": {"resource": nested}}
            if kubernetes:
                context["kubernetes"] = kubernetes
            group, stream = self._router.route("otlp", context, group, stream)
        else:
            group, stream = self._router.route("otlp", {}, group, stream)
        head = b'"resource":' + orjson.dumps(nested)
        if scope:
            head += b',"scope":' + orjson.dumps(scope)
        return _Resource(
            group,
            stream,
            service if isinstance(service, str) else None,
            head,
            orjson.dumps(kubernetes) if kubernetes else None,
        )

    def decode_protobuf(self, body: bytes, now_ms: int) -> Decoded:
        from google.protobuf.message import DecodeError  # noqa: PLC0415
        from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import (  # noqa: PLC0415
            ExportLogsServiceRequest,
        )

        request = ExportLogsServiceRequest()
        try:
            request.ParseFromString(body)
        except DecodeError as exc:
            raise InvalidParameterError(
                "body is not a valid ExportLogsServiceRequest", reason=str(exc)
            ) from None
        return self._decode(self._walk_proto(request), now_ms)

    def decode_json(self, body: bytes, now_ms: int) -> Decoded:
        try:
            document = orjson.loads(body) if body.strip() else {}
        except orjson.JSONDecodeError as exc:
            raise InvalidParameterError("body is not valid JSON", reason=str(exc)) from None
        if type(document) is not dict:
            raise InvalidParameterError("body must be an ExportLogsServiceRequest object")
        return self._decode(self._walk_json(document), now_ms)

    def _walk_proto(self, request: Any) -> Iterator[tuple[_Resource, Iterable[tuple[Any, ...]]]]:
        for resource_logs in request.resource_logs:
            attributes = _attrs_proto(resource_logs.resource.attributes)
            for scope_logs in resource_logs.scope_logs:
                scope = scope_logs.scope
                scope_info = {k: v for k, v in (("name", scope.name), ("version", scope.version)) if v}
                resource = self._resource(attributes, scope_info)
                yield (
                    resource,
                    (
                        (
                            r.time_unix_nano,
                            r.observed_time_unix_nano,
                            r.severity_number,
                            r.severity_text,
                            _any_proto(r.body) if r.HasField("body") else None,
                            _attrs_proto(r.attributes),
                            _hex(r.trace_id, 16),
                            _hex(r.span_id, 8),
                            r.flags,
                            r.event_name,
                        )
                        for r in scope_logs.log_records
                    ),
                )

    def _walk_json(self, document: dict[str, Any]) -> Iterator[tuple[_Resource, Iterable[tuple[Any, ...]]]]:
        for resource_logs in _list(document, "resourceLogs", "resource_logs"):
            resource_obj = resource_logs.get("resource") or {}
            attributes = _attrs_json(resource_obj.get("attributes") if type(resource_obj) is dict else [])
            for scope_logs in _list(resource_logs, "scopeLogs", "scope_logs"):
                scope = scope_logs.get("scope") or {}
                scope_info = (
                    {k: scope[k] for k in ("name", "version") if isinstance(scope.get(k), str) and scope[k]}
                    if type(scope) is dict
                    else {}
                )
                resource = self._resource(attributes, scope_info)
                records = []
                for r in _list(scope_logs, "logRecords", "log_records"):
                    severity = r.get("severityNumber", r.get("severity_number", 0))
                    if isinstance(severity, str):
                        severity = _SEVERITY_NAMES.get(severity, _int(severity))
                    records.append(
                        (
                            _int(r.get("timeUnixNano", r.get("time_unix_nano"))),
                            _int(r.get("observedTimeUnixNano", r.get("observed_time_unix_nano"))),
                            severity if isinstance(severity, int) else 0,
                            r.get("severityText", r.get("severity_text")) or "",
                            _any_json(r.get("body")),
                            _attrs_json(r.get("attributes")),
                            _hex_json(r.get("traceId", r.get("trace_id")), 16),
                            _hex_json(r.get("spanId", r.get("span_id")), 8),
                            _int(r.get("flags")),
                            r.get("eventName", r.get("event_name")) or "",
                        )
                    )
                yield resource, records

    def _decode(self, walk: Iterator[tuple[_Resource, Iterable[tuple[Any, ...]]]], now_ms: int) -> Decoded:
        columns = EventColumns()
        rejections: list[Rejection] = []
        add = columns.add_event
        dumps = orjson.dumps
        number = 0
        for resource, records in walk:
            group, stream, service, head, kubernetes = (
                resource.group,
                resource.stream,
                resource.service,
                resource.otel_head,
                resource.kubernetes,
            )
            for (
                time_ns,
                observed_ns,
                severity,
                severity_text,
                body,
                attributes,
                trace,
                span,
                flags,
                event,
            ) in records:
                number += 1
                ns = time_ns or observed_ns
                timestamp = ns // 1_000_000 if ns else now_ms
                if 0 < severity < 25:
                    level = _SEVERITY[severity]
                elif severity_text:
                    level = normalize_level(severity_text)
                else:
                    level = None
                if type(body) is str:
                    message = body
                elif type(body) is dict:
                    member = next((k for k in _MESSAGE_MEMBERS if type(body.get(k)) is str), None)
                    if member is None:
                        message = dumps(body).decode()
                    else:
                        # A map body with a message: the message, and the rest as fields.
                        message = body[member]
                        attributes.update(
                            {k: v for k, v in body.items() if k != member and k not in attributes}
                        )
                elif body is None:
                    message = event or ""
                else:
                    message = body if isinstance(body, str) else dumps(body).decode()
                extras = []
                if severity:
                    extras.append(b',"severity_number":' + str(severity).encode())
                if severity_text:
                    extras.append(b',"severity_text":' + dumps(severity_text))
                if flags & 0xFF:
                    extras.append(b',"trace_flags":' + str(flags & 0xFF).encode())
                if observed_ns and time_ns:
                    extras.append(b',"observed_ns":' + str(observed_ns).encode())
                if event:
                    extras.append(b',"event_name":' + dumps(event))
                clashing = [key for key in _HEAD_KEYS if key in attributes]
                if clashing:
                    moved = {key: attributes.pop(key) for key in clashing}
                    extras.append(b',"attributes":' + dumps(moved))
                otel = b'"otel":{' + head + b"".join(extras) + b"}"
                if kubernetes is not None:
                    otel += b',"kubernetes":' + kubernetes
                if attributes:
                    attributes.pop("otel", None)
                    if kubernetes is not None:
                        attributes.pop("kubernetes", None)
                    fields = dumps(unflatten(attributes))[:-1] + b"," + otel + b"}"
                else:
                    fields = b"{" + otel + b"}"
                add(number, group, stream, timestamp, message, level, trace, span, None, service, fields)
        return columns.build(rejections)


def _list(parent: Any, camel: str, snake: str) -> list[dict[str, Any]]:
    value = parent.get(camel, parent.get(snake)) if type(parent) is dict else None
    if not isinstance(value, list):
        return []
    return [item for item in value if type(item) is dict]


def _varint(value: int) -> bytes:
    out = bytearray()
    value &= (1 << 64) - 1
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def encode_status(code: int, message: str) -> bytes:
    """A ``google.rpc.Status`` with a code and message, in protobuf wire format."""
    text = message.encode()
    return b"\x08" + _varint(code) + b"\x12" + _varint(len(text)) + text


def encode_partial_success(rejected: int, message: str) -> bytes:
    """An ``ExportLogsServiceResponse`` with ``partial_success`` set, in protobuf wire format."""
    text = message.encode()
    inner = b"\x08" + _varint(rejected) + b"\x12" + _varint(len(text)) + text
    return b"\x0a" + _varint(len(inner)) + inner
