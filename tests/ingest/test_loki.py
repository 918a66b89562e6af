"""Loki push from python-logging-loki, a protobuf+snappy payload as Promtail sends it, bad labels."""

from __future__ import annotations

import logging

import cramjam
import logging_loki

from logpond.ingest.loki import parse_labels

from ..conftest import unique_group
from .conftest import ShipperServer, healthy, search


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def _field(number: int, payload: bytes) -> bytes:
    return _varint(number << 3 | 2) + _varint(len(payload)) + payload


def _push_request(labels: str, entries: list[tuple[int, str, dict[str, str]]]) -> bytes:
    """A logproto.PushRequest in protobuf wire format, built from push.proto's field numbers."""
    stream = _field(1, labels.encode())
    for ns, line, metadata in entries:
        timestamp = (
            _varint(1 << 3) + _varint(ns // 1_000_000_000) + _varint(2 << 3) + _varint(ns % 1_000_000_000)
        )
        entry = _field(1, timestamp) + _field(2, line.encode())
        for name, value in metadata.items():
            entry += _field(3, _field(1, name.encode()) + _field(2, value.encode()))
        stream += _field(2, entry)
    return _field(1, stream)


def test_python_logging_loki_both_shapes(shipper_server: ShipperServer) -> None:
    """python-logging-loki's legacy and current emitters both get 204 and are stored."""
    server = shipper_server.server
    job = unique_group("loki").strip("/").replace("/", "-")
    for version in ("0", "1"):
        handler = logging_loki.LokiHandler(
            url=f"{server.url}/loki/api/v1/push",
            tags={"job": job, "namespace": "qualisys", "pod": "worker-1", "container": "qualisys-worker"},
            auth=(server.access_key_id, server.secret_access_key),
            version=version,
        )
        logger = logging.getLogger(f"loki.{job}.{version}")
        logger.propagate = False
        logger.addHandler(handler)
        logger.error("task failed (emitter %s)", version)
        logger.removeHandler(handler)
    events = search(server, job, want=2)
    assert sorted(e["message"] for e in events) == ["task failed (emitter 0)", "task failed (emitter 1)"]
    event = events[0]
    assert event["level"] == "error"
    assert event["fields"]["loki"]["labels"]["job"] == job
    assert event["fields"]["kubernetes"] == {
        "namespace_name": "qualisys",
        "pod_name": "worker-1",
        "container_name": "qualisys-worker",
    }
    assert event["stream"].startswith("{container=")


def test_protobuf_snappy_push_with_structured_metadata(shipper_server: ShipperServer) -> None:
    """A raw-snappy PushRequest is stored with its metadata, tenant from X-Scope-OrgID."""
    server = shipper_server.server
    job = unique_group("promtail").strip("/").replace("/", "-")
    body = _push_request(
        f'{{job="{job}", level="warn", filename="/var/log/app.log"}}',
        [
            (1706004930123456789, "GET /cart 502 13ms", {"trace_id": "4bf92f3577b34da6a3ce929d0e0e4736"}),
            (1706004930223456789, '{"msg": "cart snapshot", "items": 3}', {}),
        ],
    )
    with server.client() as http:
        response = http.post(
            "/loki/api/v1/push",
            content=bytes(cramjam.snappy.compress_raw(body)),
            headers={"content-type": "application/x-protobuf", "x-scope-orgid": "tenant_acme"},
        )
    assert response.status_code == 204, response.text
    first, second = search(server, job, want=2)
    assert (first["time"], first["level"], first["tenant_id"]) == (
        "2024-01-23T10:15:30.123Z",
        "warn",
        "tenant_acme",
    )
    assert first["trace_id"] == "4bf92f3577b34da6a3ce929d0e0e4736"
    assert first["fields"]["loki"]["metadata"] == {"trace_id": "4bf92f3577b34da6a3ce929d0e0e4736"}
    assert (second["message"], second["fields"]["items"]) == ("cart snapshot", 3)


def test_bad_payloads_are_400(shipper_server: ShipperServer) -> None:
    """Bad labels, bad JSON and bad snappy are 400 text answers; the server stays healthy."""
    server = shipper_server.server
    with server.client() as http:
        for body, content_type in (
            (b'{"streams":[{"labels":"{job=}","entries":[]}]}', "application/json"),
            (b"{nope", "application/json"),
            (b"\x08\xff\xff not snappy", "application/x-protobuf"),
        ):
            response = http.post("/loki/api/v1/push", content=body, headers={"content-type": content_type})
            assert response.status_code == 400, (body, response.text)
            assert response.headers["content-type"].startswith("text/plain")
    assert healthy(server)


def test_label_parser_reads_go_escapes() -> None:
    """Label values keep escaped quotes, backslashes and newlines."""
    assert parse_labels(r'{a="x\"y", b="c\\d", c="e\nf"}') == {"a": 'x"y', "b": "c\\d", "c": "e\nf"}
