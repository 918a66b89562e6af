"""Flooding a server whose writer takes less than is sent: every protocol answers the way its
clients retry, nothing is acknowledged that is not stored, and memory stays bounded."""

from __future__ import annotations

import socket
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import msgpack
import orjson
import psutil

from .conftest import ShipperServer, healthy, insights, start_shipper_server

RECORD = {"message": "x" * 400, "level": "info", "status": 200, "path": "/api/v1/test-cases"}


def _flood_server(tmp_path: Path) -> ShipperServer:
    config = tmp_path / "small-writer.yaml"
    config.write_text("storage:\n  writer_max_pending_bytes: 65536\n")
    return start_shipper_server(tmp_path / "data", "--config", str(config))


def test_http_protocols_answer_503_with_retry_after(tmp_path: Path) -> None:
    """Concurrent large batches get 503 + Retry-After from ES, OTLP JSON and Loki, never 500."""
    shipper = _flood_server(tmp_path)
    server = shipper.server
    bulk = b"".join(b'{"create":{"_index":"flood"}}\n' + orjson.dumps(RECORD) + b"\n" for _ in range(3000))
    loki = orjson.dumps(
        {"streams": [{"stream": {"job": "flood"}, "values": [["1706004930000000000", "y" * 400]] * 3000}]}
    )
    otlp = orjson.dumps(
        {
            "resourceLogs": [
                {
                    "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "flood"}}]},
                    "scopeLogs": [{"logRecords": [{"body": {"stringValue": "z" * 400}}] * 3000}],
                }
            ]
        }
    )
    requests = [
        ("/es/_bulk", bulk, "application/x-ndjson"),
        ("/loki/api/v1/push", loki, "application/json"),
        ("/v1/logs", otlp, "application/json"),
    ] * 12
    try:
        with server.client() as http:

            def send(item: tuple[str, bytes, str]) -> tuple[str, int, str | None, str | None]:
                path, body, content_type = item
                response = http.post(path, content=body, headers={"content-type": content_type})
                return (
                    path,
                    response.status_code,
                    response.headers.get("retry-after"),
                    response.headers.get("x-elastic-product"),
                )

            with ThreadPoolExecutor(12) as pool:
                answers = list(pool.map(send, requests))
        statuses = {status for _, status, _, _ in answers}
        assert statuses <= {200, 204, 503}, answers
        refused = [a for a in answers if a[1] == 503]
        assert refused, "the writer never fell behind"
        assert all(retry is not None for _, _, retry, _ in refused)
        assert all(product == "Elasticsearch" for path, _, _, product in answers if path == "/es/_bulk")
        assert healthy(server)
        rss = psutil.Process(server.process.pid if server.process else 0).memory_info().rss
        assert rss < 1_000_000_000
    finally:
        server.kill()


def test_forward_acks_only_what_is_stored_under_flood(tmp_path: Path) -> None:
    """Forward chunks sent faster than the writer takes are all acked, each after its commit."""
    shipper = _flood_server(tmp_path)
    chunk = b"".join(msgpack.packb([1706004930, RECORD]) for _ in range(2000))

    def connection(number: int) -> list[object]:
        acks: list[object] = []
        with socket.create_connection(("127.0.0.1", shipper.forward_port), timeout=120) as sock:
            for n in range(5):
                sock.sendall(
                    msgpack.packb(["flood.forward", chunk, {"chunk": f"{number}-{n}", "size": 2000}])
                )
            unpacker = msgpack.Unpacker(raw=False)
            while len(acks) < 5:
                data = sock.recv(4096)
                assert data, "connection closed before every chunk was acked"
                unpacker.feed(data)
                acks.extend(unpacker)
        return acks

    try:
        with ThreadPoolExecutor(6) as pool:
            results = list(pool.map(connection, range(6)))
        assert sorted(a["ack"] for acks in results for a in acks) == sorted(  # type: ignore[index]
            f"{c}-{n}" for c in range(6) for n in range(5)
        )
        counted = insights(shipper.server, "stats count() as n", ["flood.forward"])
        assert counted == [{"n": str(6 * 5 * 2000)}]
        assert healthy(shipper.server)
    finally:
        shipper.server.kill()
