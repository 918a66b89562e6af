"""Ingest throughput per shipper protocol against native NDJSON, on the same corpus, in one run.

    python bench/ingest_protocols.py                  # 300,000 events per protocol
    python bench/ingest_protocols.py --events 100000  # quicker

Each protocol gets a fresh server and data directory and the same events, 1,000 per request
(a Fluent Bit chunk or a collector batch), over 4 connections, acknowledged after commit:
native NDJSON (`/api/v1/ingest`), Elasticsearch `_bulk`, OTLP protobuf, Loki JSON (the
records as JSON lines, as Promtail ships container logs), Fluentd forward PackedForward
(with `chunk` acks) and syslog over TCP (RFC 5424, octet counting; syslog has no
acknowledgement, so its time runs until a count query sees every event).

Target: every HTTP protocol >= 50 % of native NDJSON's events/s. ``--no-redaction`` runs
every server with a PII policy without rules, to separate the protocols' own cost from the
redaction stage's (which depends on the keys a protocol's fields hold).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import msgpack
import orjson
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.logs.v1.logs_pb2 import LogRecord

sys.path.insert(0, str(Path(__file__).parent))

from _harness import AUTH, free_port, post_request, run_load, run_server
from corpus import GROUPS, generate
from logpond.model.timestamps import parse_timestamp

PER_REQUEST = 1000
SERVER_ARGS: list[str] = []
CONNECTIONS = 4
SEVERITY = {"trace": 1, "debug": 5, "info": 9, "warn": 13, "error": 17, "fatal": 21}


def _chunks(records: dict[str, list[dict[str, Any]]]) -> list[tuple[str, list[dict[str, Any]]]]:
    out = []
    for kind, items in records.items():
        for start in range(0, len(items), PER_REQUEST):
            out.append((kind, items[start : start + PER_REQUEST]))
    out.sort(key=lambda item: hash((item[0], item[1][0]["timestamp"])))
    return out


def ndjson(port: int, chunks: list[tuple[str, list[dict[str, Any]]]]) -> list[bytes]:
    return [
        post_request(
            port,
            f"/api/v1/ingest?group={GROUPS[kind]}&stream={kind}",
            b"\n".join(orjson.dumps(r) for r in items),
        )
        for kind, items in chunks
    ]


def es_bulk(port: int, chunks: list[tuple[str, list[dict[str, Any]]]]) -> list[bytes]:
    out = []
    for kind, items in chunks:
        action = orjson.dumps({"create": {"_index": f"bench-{kind}-2026.01.24"}})
        body = b"".join(action + b"\n" + orjson.dumps(r) + b"\n" for r in items)
        out.append(post_request(port, "/es/_bulk", body))
    return out


def otlp(port: int, chunks: list[tuple[str, list[dict[str, Any]]]]) -> list[bytes]:
    def value(v: Any) -> AnyValue:
        if isinstance(v, bool):
            return AnyValue(bool_value=v)
        if isinstance(v, int):
            return AnyValue(int_value=v)
        if isinstance(v, float):
            return AnyValue(double_value=v)
        return AnyValue(string_value=str(v))

    out = []
    for kind, items in chunks:
        request = ExportLogsServiceRequest()
        resource_logs = request.resource_logs.add()
        resource_logs.resource.attributes.append(KeyValue(key="service.name", value=value(f"bench-{kind}")))
        resource_logs.resource.attributes.append(KeyValue(key="service.instance.id", value=value(kind)))
        scope = resource_logs.scope_logs.add()
        scope.scope.name = "bench"
        for r in items:
            record = dict(r)
            ms = _ms(record.pop("timestamp"))
            level = record.pop("level")
            trace = record.pop("trace_id", None)
            record.pop("service", None)
            log = LogRecord(
                time_unix_nano=ms * 1_000_000,
                severity_number=SEVERITY[level],  # type: ignore[arg-type]
                severity_text=level.upper(),
                body=AnyValue(string_value=record.pop("message")),
                trace_id=bytes.fromhex(trace) if trace else b"",
            )
            for key, v in record.items():
                log.attributes.append(KeyValue(key=key, value=value(v)))
            scope.log_records.append(log)
        out.append(post_request(port, "/v1/logs", request.SerializeToString(), "application/x-protobuf"))
    return out


def loki(port: int, chunks: list[tuple[str, list[dict[str, Any]]]]) -> list[bytes]:
    out = []
    for kind, items in chunks:
        values = [[str(_ms(r["timestamp"]) * 1_000_000), orjson.dumps(r).decode()] for r in items]
        body = orjson.dumps(
            {"streams": [{"stream": {"job": f"bench-{kind}", "namespace": "qualisys"}, "values": values}]}
        )
        out.append(post_request(port, "/loki/api/v1/push", body, "application/json"))
    return out


_TIMES: dict[str, int] = {}


def _ms(text: str) -> int:
    found = _TIMES.get(text)
    if found is None:
        found = _TIMES[text] = parse_timestamp(text) or 0
    return found


def http_run(
    name: str,
    workdir: Path,
    chunks: list[tuple[str, list[dict[str, Any]]]],
    build: Callable[..., list[bytes]],
) -> dict[str, float]:
    events = sum(len(items) for _, items in chunks)
    with run_server(workdir / name, *SERVER_ARGS) as server:
        requests = build(server.port, chunks)
        load = run_load(server.port, requests, CONNECTIONS)
    failures = {k: v for k, v in load.statuses.items() if k not in (200, 204)}
    if failures:
        raise SystemExit(f"{name}: answers {load.statuses}")
    return {"events": events, "seconds": load.seconds, "events_per_s": events / load.seconds}


def forward_run(workdir: Path, chunks: list[tuple[str, list[dict[str, Any]]]]) -> dict[str, float]:
    events = sum(len(items) for _, items in chunks)
    port = free_port()
    messages = []
    for number, (kind, items) in enumerate(chunks):
        packed = b"".join(
            msgpack.packb([msgpack.ExtType(0, _event_time(_ms(r["timestamp"]))), r]) for r in items
        )
        messages.append(msgpack.packb([f"bench.{kind}", packed, {"chunk": f"c{number}", "size": len(items)}]))

    async def one(share: list[bytes]) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        unpacker = msgpack.Unpacker(raw=False)
        for message in share:
            writer.write(message)
            await writer.drain()
            while True:
                acks = list(unpacker)
                if acks:
                    break
                unpacker.feed(await reader.read(4096))
        writer.close()

    async def main() -> None:
        await asyncio.gather(*(one(messages[i::CONNECTIONS]) for i in range(CONNECTIONS)))

    with run_server(workdir / "forward", "--forward-port", str(port), *SERVER_ARGS):
        started = time.perf_counter()
        asyncio.run(main())
        seconds = time.perf_counter() - started
    return {"events": events, "seconds": seconds, "events_per_s": events / seconds}


def _event_time(ms: int) -> bytes:
    return (ms // 1000).to_bytes(4) + ((ms % 1000) * 1_000_000).to_bytes(4)


def syslog_run(workdir: Path, chunks: list[tuple[str, list[dict[str, Any]]]]) -> dict[str, float]:
    events = sum(len(items) for _, items in chunks)
    port = free_port()
    streams: list[bytes] = []
    for kind, items in chunks:
        frames = []
        for r in items:
            text = f"<14>1 {r['timestamp']} node-{kind} {kind} - - - {r['message']}".encode()
            frames.append(b"%d %s" % (len(text), text))
        streams.append(b"".join(frames))

    async def one(share: list[bytes]) -> None:
        _reader, writer = await asyncio.open_connection("127.0.0.1", port)
        for data in share:
            writer.write(data)
            await writer.drain()
        writer.close()
        await writer.wait_closed()

    with run_server(workdir / "syslog", "--syslog-port", str(port), *SERVER_ARGS) as server:
        started = time.perf_counter()
        asyncio.run(_gather(one, streams))
        with server.client() as http:
            while True:
                body = http.post(
                    "/api/v1/queries",
                    json={"query": "stats count() as n", "groups": ["syslog"], "start": 0},
                ).json()
                while body["status"] in ("Scheduled", "Running"):
                    time.sleep(0.05)
                    body = http.get(f"/api/v1/queries/{body['query_id']}").json()
                stored = int(body["records"][0]["n"]) if body.get("records") else 0
                if stored >= events:
                    break
                time.sleep(0.05)
        seconds = time.perf_counter() - started
    return {"events": events, "seconds": seconds, "events_per_s": events / seconds}


async def _gather(one: Callable[[list[bytes]], Any], items: list[bytes]) -> None:
    await asyncio.gather(*(one(items[i::CONNECTIONS]) for i in range(CONNECTIONS)))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=300_000)
    parser.add_argument("--seed", type=int, default=20260124)
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--json", type=Path, default=None, help="also write results here")
    parser.add_argument("--no-redaction", action="store_true", help="a PII policy without rules")
    args = parser.parse_args()
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="logpond-bench-protocols-"))
    workdir.mkdir(parents=True, exist_ok=True)
    if args.no_redaction:
        config = workdir / "no-pii.yaml"
        config.write_text("data_protection:\n  default: {rules: []}\n")
        SERVER_ARGS.extend(["--config", str(config)])
    start_ms = (int(time.time()) // 60 - 60) * 60_000
    records: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for event in generate(args.events, args.seed, start_ms):
        records[event.kind].append(orjson.loads(event.line))
    chunks = _chunks(records)
    assert AUTH
    results: dict[str, dict[str, float]] = {}
    for name, build in (
        ("ndjson", ndjson),
        ("es_bulk", es_bulk),
        ("otlp_protobuf", otlp),
        ("loki_json", loki),
    ):
        print(f"{name} ...", flush=True)
        results[name] = http_run(name, workdir, chunks, build)
    print("forward_packed ...", flush=True)
    results["forward_packed"] = forward_run(workdir, chunks)
    print("syslog_tcp ...", flush=True)
    results["syslog_tcp"] = syslog_run(workdir, chunks)
    native = results["ndjson"]["events_per_s"]
    print()
    print(f"{'protocol':18} {'events/s':>12} {'vs NDJSON':>10}  target")
    for name, result in results.items():
        ratio = result["events_per_s"] / native
        http = name in ("es_bulk", "otlp_protobuf", "loki_json")
        target = (">= 0.50 " + ("yes" if ratio >= 0.5 else "NO")) if http else ""
        print(f"{name:18} {result['events_per_s']:>12,.0f} {ratio:>10.2f}  {target}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
