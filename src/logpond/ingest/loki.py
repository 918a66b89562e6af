"""Grafana Loki push bodies: JSON (current and legacy shapes) and snappy-compressed protobuf.

A stream's labels (``{job="api", namespace="shop"}``) name where its lines go: the group is
the ``job`` label, else ``service_name``, else ``namespace``, else ``loki``; the stream is the
label set itself, sorted (Loki's stream identity). Per line: the entry's time, the line as
the message (a line holding a JSON object is read as a structured record), the level from
the labels or structured metadata (``level``, ``detected_level``, ``severity``, ``lvl``), else
sniffed from the line; ``trace_id``/``span_id`` from structured metadata or labels.

Fields: ``loki.labels`` (object), ``loki.metadata`` (structured metadata, when sent), and
``kubernetes.{namespace_name,pod_name,container_name,host}`` from the usual labels
(``namespace``, ``pod``, ``container``, ``node_name``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from logpond.model.errors import InvalidParameterError, PayloadTooLargeError
from logpond.model.timestamps import parse_timestamp

from .base import Decoded, EventColumns, Rejection, too_large
from .records import add_shipped, normalize_level, sniff_level
from .routing import Router

__all__ = ["LokiDecoder", "parse_labels", "read_push_request", "unsnappy"]

_LEVEL_LABELS = ("level", "detected_level", "severity", "lvl")
_SERVICE_LABELS = (
    "service_name",
    "service",
    "app",
    "application",
    "name",
    "app_kubernetes_io_name",
    "container",
    "container_name",
    "component",
    "workload",
    "job",
)
_K8S_LABELS = (
    ("namespace", "namespace_name"),
    ("pod", "pod_name"),
    ("container", "container_name"),
    ("node_name", "host"),
)
_Entry = tuple[int | None, Any, dict[str, Any] | None]
_ESCAPES = {"n": "\n", "t": "\t", "\\": "\\", '"': '"', "r": "\r"}


def parse_labels(text: str) -> dict[str, str]:
    """Prometheus label-set text (``{a="x", b="y"}``) as a dict; 400 if it is not one."""
    source = text.strip()
    if len(source) < 2 or source[0] != "{" or source[-1] != "}":
        raise InvalidParameterError("invalid labels", labels=text[:200])
    labels: dict[str, str] = {}
    position, end = 1, len(source) - 1
    while True:
        while position < end and source[position] in " ,\t":
            position += 1
        if position >= end:
            break
        start = position
        while position < end and (source[position].isalnum() or source[position] == "_"):
            position += 1
        name = source[start:position]
        if not name or name[0].isdigit():
            raise InvalidParameterError("invalid label name", labels=text[:200])
        while position < end and source[position] == " ":
            position += 1
        if source[position : position + 2] != '="':
            raise InvalidParameterError("invalid labels", labels=text[:200])
        position += 2
        value: list[str] = []
        while True:
            if position >= end:
                raise InvalidParameterError("unterminated label value", labels=text[:200])
            char = source[position]
            if char == "\\" and position + 1 < end:
                value.append(_ESCAPES.get(source[position + 1], source[position + 1]))
                position += 2
                continue
            position += 1
            if char == '"':
                break
            value.append(char)
        labels[name] = "".join(value)
    if not labels:
        raise InvalidParameterError("a stream needs at least one label")
    return labels


def _canonical(labels: dict[str, str]) -> str:
    return "{" + ", ".join(f"{k}={orjson.dumps(v).decode()}" for k, v in sorted(labels.items())) + "}"


# --- protobuf wire format (only varint and length-delimited fields occur) -------------------


def _varint(data: bytes, position: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if position >= len(data):
            raise InvalidParameterError("truncated protobuf")
        byte = data[position]
        position += 1
        result |= (byte & 0x7F) << shift
        if byte < 0x80:
            return result, position
        shift += 7
        if shift > 63:
            raise InvalidParameterError("malformed protobuf varint")


def _fields(data: bytes) -> list[tuple[int, int | bytes]]:
    """The (field number, value) pairs of one message; unknown wire types are refused."""
    out: list[tuple[int, int | bytes]] = []
    position, size = 0, len(data)
    while position < size:
        key, position = _varint(data, position)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, position = _varint(data, position)
            out.append((number, value))
        elif wire == 2:
            length, position = _varint(data, position)
            if position + length > size:
                raise InvalidParameterError("truncated protobuf")
            out.append((number, data[position : position + length]))
            position += length
        elif wire == 1:
            position += 8
        elif wire == 5:
            position += 4
        else:
            raise InvalidParameterError("malformed protobuf", wire_type=wire)
        if position > size:
            raise InvalidParameterError("truncated protobuf")
    return out


def read_push_request(data: bytes) -> list[tuple[str, list[tuple[int, str, dict[str, str]]]]]:
    """A ``logproto.PushRequest``: [(labels, [(time ns, line, structured metadata)])]."""
    streams = []
    for number, stream in _fields(data):
        if number != 1 or not isinstance(stream, bytes):
            continue
        labels = ""
        entries = []
        for field, value in _fields(stream):
            if field == 1 and isinstance(value, bytes):
                labels = value.decode("utf-8", "replace")
            elif field == 2 and isinstance(value, bytes):
                ns = 0
                line = ""
                metadata: dict[str, str] = {}
                for part, inner in _fields(value):
                    if part == 1 and isinstance(inner, bytes):
                        seconds = nanos = 0
                        for t_field, t_value in _fields(inner):
                            if t_field == 1 and isinstance(t_value, int):
                                seconds = t_value
                            elif t_field == 2 and isinstance(t_value, int):
                                nanos = t_value
                        ns = seconds * 1_000_000_000 + nanos
                    elif part == 2 and isinstance(inner, bytes):
                        line = inner.decode("utf-8", "replace")
                    elif part == 3 and isinstance(inner, bytes):
                        pair = dict(_fields(inner))
                        name, text = pair.get(1, b""), pair.get(2, b"")
                        if isinstance(name, bytes) and isinstance(text, bytes):
                            metadata[name.decode("utf-8", "replace")] = text.decode("utf-8", "replace")
                entries.append((ns, line, metadata))
        streams.append((labels, entries))
    return streams


def unsnappy(data: bytes, limit: int) -> bytes:
    """Raw (block) snappy, its stated length checked against ``limit`` before inflating."""
    import cramjam  # noqa: PLC0415 (only Loki's protobuf bodies need it)

    length, _ = _varint(data, 0) if data else (0, 0)
    if length > limit:
        raise PayloadTooLargeError("decompressed body is too large", limit=limit)
    try:
        return bytes(cramjam.snappy.decompress_raw(data))
    except cramjam.DecompressionError as exc:
        raise InvalidParameterError("body is not valid snappy data", reason=str(exc)) from None


@dataclass(slots=True)
class _Stream:
    group: str
    stream: str
    level: str | None
    service: str | None
    trace_id: str | None
    fields_head: bytes  # '"loki":{"labels":{...}' (unclosed) and more
    kubernetes: dict[str, str] | None
    labels_json: bytes


class LokiDecoder:
    """Decodes push requests; see the module docstring."""

    def __init__(self, router: Router) -> None:
        self._router = router

    def _stream(self, labels: dict[str, str]) -> _Stream:
        group = labels.get("job") or labels.get("service_name") or labels.get("namespace") or "loki"
        stream = _canonical(labels)
        kubernetes = {name: labels[key] for key, name in _K8S_LABELS if key in labels} or None
        if self._router.has_rules("loki"):
            context: dict[str, Any] = {"loki": {"labels": labels}}
            if kubernetes:
                context["kubernetes"] = kubernetes
            group, stream = self._router.route("loki", context, group, stream)
        else:
            group, stream = self._router.route("loki", {}, group, stream)
        level = next((normalize_level(labels[k]) for k in _LEVEL_LABELS if k in labels), None)
        service = next((labels[k] for k in _SERVICE_LABELS if labels.get(k)), None)
        labels_json = orjson.dumps(labels)
        head = b'"loki":{"labels":' + labels_json
        return _Stream(group, stream, level, service, labels.get("trace_id"), head, kubernetes, labels_json)

    def decode_json(self, body: bytes, now_ms: int, tenant_id: str | None) -> Decoded:
        try:
            document = orjson.loads(body)
        except orjson.JSONDecodeError as exc:
            raise InvalidParameterError("body is not valid JSON", reason=str(exc)) from None
        if type(document) is not dict or not isinstance(document.get("streams"), list):
            raise InvalidParameterError("body must be an object with a streams array")
        streams: list[tuple[dict[str, str], list[_Entry]]] = []
        for item in document["streams"]:
            if type(item) is not dict:
                raise InvalidParameterError("each stream must be an object")
            if "entries" in item or isinstance(item.get("labels"), str):
                labels = parse_labels(str(item.get("labels", "")))
                entries: list[_Entry] = [
                    (_ns(entry.get("ts")), entry.get("line"), None)
                    for entry in item.get("entries") or []
                    if type(entry) is dict
                ]
            else:
                raw_labels = item.get("stream")
                if type(raw_labels) is not dict or not raw_labels:
                    raise InvalidParameterError("a stream needs at least one label")
                labels = {str(k): str(v) for k, v in raw_labels.items()}
                entries = []
                for value in item.get("values") or []:
                    if not isinstance(value, list) or len(value) < 2:
                        raise InvalidParameterError("each value must be [time, line]")
                    metadata = value[2] if len(value) > 2 and type(value[2]) is dict else None
                    entries.append((_ns(value[0]), value[1], metadata))
            streams.append((labels, entries))
        return self._decode(streams, now_ms, tenant_id)

    def decode_protobuf(self, body: bytes, now_ms: int, tenant_id: str | None) -> Decoded:
        streams: list[tuple[dict[str, str], list[_Entry]]] = [
            (parse_labels(labels), list(entries)) for labels, entries in read_push_request(body)
        ]
        return self._decode(streams, now_ms, tenant_id)

    def _decode(
        self,
        streams: list[tuple[dict[str, str], list[_Entry]]],
        now_ms: int,
        tenant_id: str | None,
    ) -> Decoded:
        columns = EventColumns()
        rejections: list[Rejection] = []
        add = columns.add_event
        dumps = orjson.dumps
        number = 0
        for labels, entries in streams:
            info = self._stream(labels)
            kubernetes_json = b',"kubernetes":' + dumps(info.kubernetes) if info.kubernetes else b""
            plain_fields = b"{" + info.fields_head + b"}" + kubernetes_json + b"}"
            for ns, line, metadata in entries:
                number += 1
                if not isinstance(line, str):
                    rejections.append(Rejection(number, "line must be a string"))
                    continue
                reason = too_large(len(line))
                if reason is not None:
                    rejections.append(Rejection(number, reason))
                    continue
                if ns is None:
                    rejections.append(Rejection(number, "invalid timestamp"))
                    continue
                timestamp = ns // 1_000_000 if ns else now_ms
                level, trace_id, span_id = info.level, info.trace_id, None
                fields = plain_fields
                if metadata:
                    metadata = {str(k): str(v) for k, v in metadata.items()}  # noqa: PLW2901 (as text)
                    trace_id = metadata.get("trace_id", trace_id)
                    span_id = metadata.get("span_id")
                    if level is None:
                        found = next((metadata[k] for k in _LEVEL_LABELS if k in metadata), None)
                        level = normalize_level(found) if found is not None else None
                    fields = (
                        b"{"
                        + info.fields_head
                        + b',"metadata":'
                        + dumps(metadata)
                        + b"}"
                        + kubernetes_json
                        + b"}"
                    )
                if line[:1] == "{" and line[-1:] == "}":
                    try:
                        record = orjson.loads(line)
                    except orjson.JSONDecodeError:
                        record = None
                    if type(record) is dict:
                        loki: dict[str, Any] = {"labels": labels}
                        if metadata:
                            loki["metadata"] = metadata
                        record.setdefault("loki", loki)
                        if info.kubernetes:
                            record.setdefault("kubernetes", info.kubernetes)
                        if trace_id and "trace_id" not in record:
                            record["trace_id"] = trace_id
                        add_shipped(
                            columns,
                            number,
                            info.group,
                            info.stream,
                            record,
                            timestamp,
                            tenant_id=tenant_id,
                            level=level,
                            service=info.service,
                        )
                        continue
                if level is None:
                    level = sniff_level(line)
                add(
                    number,
                    info.group,
                    info.stream,
                    timestamp,
                    line,
                    level,
                    trace_id,
                    span_id,
                    tenant_id,
                    info.service,
                    fields,
                )
        return columns.build(rejections)


def _ns(value: Any) -> int | None:
    """An entry time: decimal ns (string or number), or RFC 3339 text (legacy shape)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str):
        if value.isdigit():
            return int(value)
        ms = parse_timestamp(value)
        return None if ms is None else ms * 1_000_000
    if isinstance(value, float):
        return int(value)
    return None
