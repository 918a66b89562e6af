"""OTLP/HTTP logs from the OpenTelemetry SDK's exporter, OTLP JSON, and bad bodies."""

from __future__ import annotations

import gzip
import logging
import warnings

import httpx
import orjson
from opentelemetry.exporter.otlp.proto.http import Compression
from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
from opentelemetry.sdk._logs import LoggerProvider, LoggingHandler
from opentelemetry.sdk._logs.export import BatchLogRecordProcessor
from opentelemetry.sdk.resources import Resource

from ..conftest import unique_group
from .conftest import ShipperServer, healthy, insights, search


def test_sdk_exporter_delivers_records_with_resource(shipper_server: ShipperServer) -> None:
    """The SDK's OTLP/HTTP exporter (gzip) stores records under service.namespace/service.name."""
    server = shipper_server.server
    namespace = unique_group("otel").strip("/").replace("/", "-")
    provider = LoggerProvider(
        resource=Resource.create(
            {
                "service.name": "qualisys-api",
                "service.namespace": namespace,
                "service.instance.id": "api-7f9c",
                "deployment.environment": "production",
                "k8s.namespace.name": "qualisys",
                "k8s.pod.name": "api-7f9c",
                "k8s.container.name": "qualisys-api",
            }
        )
    )
    exporter = OTLPLogExporter(
        endpoint=f"{server.url}/v1/logs",
        headers={"authorization": server.auth_header},
        compression=Compression.Gzip,
    )
    provider.add_log_record_processor(BatchLogRecordProcessor(exporter))
    logger = logging.getLogger(f"otel.{namespace}")
    with warnings.catch_warnings():
        # The SDK's own handler is deprecated in favour of another package; it still works.
        warnings.simplefilter("ignore", DeprecationWarning)
        handler = LoggingHandler(logger_provider=provider)
    logger.addHandler(handler)
    logger.propagate = False
    logger.setLevel(logging.INFO)
    try:
        logger.warning("payment failed", extra={"order_id": "A-1009", "http.status_code": 502})
        logger.info("payment retried")
        assert provider.force_flush(10_000)
    finally:
        logger.removeHandler(handler)
        provider.shutdown()
    group = f"{namespace}/qualisys-api"
    first, second = search(server, group, want=2)
    assert (first["message"], first["level"], first["service"], first["stream"]) == (
        "payment failed",
        "warn",
        "qualisys-api",
        "api-7f9c",
    )
    assert second["level"] == "info"
    fields = first["fields"]
    assert fields["order_id"] == "A-1009" and fields["http"]["status_code"] == 502
    assert fields["otel"]["resource"]["deployment"]["environment"] == "production"
    assert fields["kubernetes"]["container_name"] == "qualisys-api"
    records = insights(
        server, 'filter kubernetes.container_name = "qualisys-api" | stats count() as n', [group]
    )
    assert records == [{"n": "2"}]


def test_json_body_with_hex_ids(shipper_server: ShipperServer) -> None:
    """OTLP JSON: hex trace ids, string nanoseconds and a kvlist body are read as the spec says."""
    server = shipper_server.server
    service = unique_group("svc").strip("/").replace("/", "-")
    body = {
        "resourceLogs": [
            {
                "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": service}}]},
                "scopeLogs": [
                    {
                        "scope": {"name": "checkout"},
                        "logRecords": [
                            {
                                "timeUnixNano": "1706004930123456789",
                                "severityNumber": 17,
                                "severityText": "ERROR",
                                "body": {"stringValue": "payment failed"},
                                "attributes": [{"key": "http.status_code", "value": {"intValue": "502"}}],
                                "traceId": "4BF92F3577B34DA6A3CE929D0E0E4736",
                                "spanId": "00f067aa0ba902b7",
                                "flags": 1,
                            },
                            {
                                "observedTimeUnixNano": "1706004931000000000",
                                "severityText": "Information",
                                "body": {
                                    "kvlistValue": {
                                        "values": [
                                            {"key": "msg", "value": {"stringValue": "structured"}},
                                            {"key": "cart", "value": {"intValue": 3}},
                                        ]
                                    }
                                },
                                "traceId": "00000000000000000000000000000000",
                            },
                        ],
                    }
                ],
            }
        ]
    }
    with server.client() as http:
        response = http.post(
            "/v1/logs", content=orjson.dumps(body), headers={"content-type": "application/json"}
        )
    assert (response.status_code, response.json()) == (200, {})
    first, second = search(server, service, want=2)
    assert (first["time"], first["level"], first["trace_id"], first["span_id"]) == (
        "2024-01-23T10:15:30.123Z",
        "error",
        "4bf92f3577b34da6a3ce929d0e0e4736",
        "00f067aa0ba902b7",
    )
    assert first["fields"]["otel"]["trace_flags"] == 1 and first["fields"]["otel"]["scope"] == {
        "name": "checkout"
    }
    assert (second["message"], second["level"], second["trace_id"]) == ("structured", "info", None)
    assert second["fields"]["cart"] == 3


def test_attributes_named_like_the_record_head_move_under_otel(shipper_server: ShipperServer) -> None:
    """Fluent Bit's opentelemetry output (``logs_body_key_attributes``) sends the message as the
    body and the record's other keys, its own ``timestamp`` among them, as attributes."""
    server = shipper_server.server
    service = unique_group("fb").strip("/").replace("/", "-")
    attributes = {"timestamp": "2026-11-29T00:00:00Z", "message": "shadow", "level": "error", "status": 502}
    record = {
        "timeUnixNano": "1706004930123456789",
        "body": {"stringValue": "payment failed"},
        "attributes": [
            {
                "key": key,
                "value": {"intValue": str(value)} if isinstance(value, int) else {"stringValue": value},
            }
            for key, value in attributes.items()
        ],
    }
    body = {
        "resourceLogs": [
            {
                "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": service}}]},
                "scopeLogs": [{"logRecords": [record]}],
            }
        ]
    }
    with server.client() as http:
        response = http.post(
            "/v1/logs", content=orjson.dumps(body), headers={"content-type": "application/json"}
        )
        assert response.status_code == 200, response.text
        (event,) = search(server, service, want=1)
        assert (event["time"], event["message"], event["fields"]["status"]) == (
            "2024-01-23T10:15:30.123Z",
            "payment failed",
            502,
        )
        assert event["fields"]["otel"]["attributes"] == {
            "timestamp": "2026-11-29T00:00:00Z",
            "message": "shadow",
        }
    (row,) = insights(server, "fields @message", [service])
    text = row["@message"]
    document = orjson.loads(text)
    assert text.count('"timestamp"') == 2  # the record's head and otel.attributes.timestamp
    assert document["message"] == "payment failed" and document["otel"]["attributes"]["message"] == "shadow"


def test_bad_bodies_get_client_errors_and_server_stays_up(shipper_server: ShipperServer) -> None:
    """Malformed protobuf is 400, an unknown type 415, a gzip bomb 413; never 500."""
    server = shipper_server.server
    with server.client() as http:
        bad = http.post(
            "/v1/logs", content=b"\x0a\xff\xff\xff\x0f", headers={"content-type": "application/x-protobuf"}
        )
        assert bad.status_code == 400
        assert http.post("/v1/logs", content=b"x", headers={"content-type": "text/plain"}).status_code == 415
        bomb = gzip.compress(b"\x00" * (70 << 20))
        too_big = http.post(
            "/v1/logs",
            content=bomb,
            headers={"content-type": "application/x-protobuf", "content-encoding": "gzip"},
        )
        assert too_big.status_code == 413
        empty = http.post("/v1/logs", content=b"", headers={"content-type": "application/x-protobuf"})
        assert empty.status_code == 200
    assert healthy(server)
    assert isinstance(httpx.__version__, str)
