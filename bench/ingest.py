"""Ingest benchmark: end to end over HTTP with durable acknowledgements, beside the engine's
own limit (raw DuckDB inserts of the same events from Arrow), in one run.

    python bench/ingest.py                 # 2,000,000 events
    python bench/ingest.py --events 500000 # quicker

Scenario A: 8 connections sending ~1 MiB NDJSON batches, with the default PII policy
and again with redaction off. Scenario B: 64 connections sending
10-event batches. Each runs on a fresh server and data directory. Printed: events/s, MB/s,
acknowledgement latency p50/p99, server peak RSS, bytes on disk per event, and the ratio to
the engine limit. Targets (2-core machine): A >= 200,000 events/s, B >= 20,000 events/s,
RSS <= 400 MB, <= 40 bytes on disk per event.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import duckdb
import pyarrow as pa

sys.path.insert(0, str(Path(__file__).parent))

from _harness import (
    RssSampler,
    dir_bytes,
    percentile,
    post_request,
    run_load,
    run_server,
)
from corpus import GROUPS, generate
from logpond.ingest.base import DecodeContext
from logpond.ingest.ndjson import NDJSONDecoder
from logpond.store.duckdb.connection import partition_ddl

MIB = 1 << 20


def bodies(lines_by_kind: dict[str, list[bytes]], target: int) -> list[tuple[str, str, bytes, int]]:
    """(group, stream, body, events) chunks of about ``target`` bytes, one group each."""
    out = []
    for kind, lines in lines_by_kind.items():
        chunk: list[bytes] = []
        size = 0
        number = 0
        for line in lines:
            chunk.append(line)
            size += len(line) + 1
            if size >= target:
                out.append((GROUPS[kind], f"{kind}-pod-{number % 4}", b"\n".join(chunk), len(chunk)))
                chunk, size = [], 0
                number += 1
        if chunk:
            out.append((GROUPS[kind], f"{kind}-pod-{number % 4}", b"\n".join(chunk), len(chunk)))
    # Interleave groups as concurrent shippers would.
    out.sort(key=lambda item: hash((item[0], item[1], len(item[2]))))
    return out


def by_count(lines_by_kind: dict[str, list[bytes]], per_body: int) -> list[tuple[str, str, bytes, int]]:
    out = []
    for kind, lines in lines_by_kind.items():
        for start in range(0, len(lines), per_body):
            part = lines[start : start + per_body]
            out.append((GROUPS[kind], f"{kind}-pod-{(start // per_body) % 4}", b"\n".join(part), len(part)))
    out.sort(key=lambda item: hash((item[1], item[2][:64])))
    return out


def scenario(
    name: str,
    workdir: Path,
    chunks: list[tuple[str, str, bytes, int]],
    connections: int,
    *server_args: str,
) -> dict[str, float]:
    data_dir = workdir / name
    events = sum(c[3] for c in chunks)
    payload = sum(len(c[2]) for c in chunks)
    with run_server(data_dir, *server_args) as server:
        with server.client() as http:
            for group in GROUPS.values():
                http.post("/api/v1/groups", json={"name": group, "retention_days": 90}).raise_for_status()
        requests = [
            post_request(server.port, f"/api/v1/ingest?group={g}&stream={s}", body)
            for g, s, body, _ in chunks
        ]
        with RssSampler(server.pid) as rss:
            load = run_load(server.port, requests, connections)
        server.stop()
        on_disk = dir_bytes(data_dir)
    failures = {k: v for k, v in load.statuses.items() if k != 200}
    if failures or load.accepted != events:
        raise SystemExit(f"{name}: {failures} non-200 answers, {load.accepted}/{events} accepted")
    return {
        "events": events,
        "seconds": load.seconds,
        "events_per_s": events / load.seconds,
        "mb_per_s": payload / load.seconds / 1e6,
        "p50_ms": percentile(load.latencies, 50) * 1000,
        "p99_ms": percentile(load.latencies, 99) * 1000,
        "peak_rss_mb": rss.peak / 1e6,
        "bytes_per_event": on_disk / events,
        "requests": len(requests),
    }


def engine_limit(workdir: Path, chunks: list[tuple[str, str, bytes, int]]) -> dict[str, float]:
    """Raw DuckDB: the same events, decoded to Arrow beforehand, inserted batch by batch."""
    decoder = NDJSONDecoder()
    tables = []
    for seq_base, (group, stream, body, _) in enumerate(chunks):
        batch = decoder.decode(body, DecodeContext(group, stream, 0)).batch
        n = batch.num_rows
        tables.append(
            pa.table(
                {
                    "seq": pa.array(range(seq_base * 100_000, seq_base * 100_000 + n), pa.int64()),
                    "ts": batch.column("timestamp"),
                    "ingest_ts": pa.array([0] * n, pa.int64()),
                    "group_id": pa.array([hash(group) % 7] * n, pa.int32()),
                    "stream_id": pa.array([hash(stream) % 97] * n, pa.int32()),
                    **{
                        c: batch.column(c)
                        for c in ("level", "message", "trace_id", "span_id", "tenant_id", "service", "fields")
                    },
                }
            )
        )
    path = workdir / "engine.duckdb"
    con = duckdb.connect(":memory:")
    con.execute(f"ATTACH '{path}' AS e (STORAGE_VERSION 'v1.5.0')")
    con.execute("USE e")
    con.execute(partition_ddl("events_20260124"))
    events = sum(t.num_rows for t in tables)
    started = time.perf_counter()
    for table in tables:
        con.register("t", table)
        con.execute("BEGIN")
        con.execute("INSERT INTO events_20260124 SELECT * FROM t")
        con.execute("COMMIT")
        con.unregister("t")
    con.execute("CHECKPOINT")
    seconds = time.perf_counter() - started
    con.close()
    return {
        "events": events,
        "seconds": seconds,
        "events_per_s": events / seconds,
        "bytes_per_event": path.stat().st_size / events,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=2_000_000, help="events in scenario A")
    parser.add_argument("--small-events", type=int, default=300_000, help="events in scenario B")
    parser.add_argument("--seed", type=int, default=20260124)
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--json", type=Path, default=None, help="also write results here")
    args = parser.parse_args()

    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="logpond-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    print(f"generating {args.events:,} events (seed {args.seed}) ...", flush=True)
    # Recent events (an hour ago), so the groups' 90-day retention keeps them all.
    start_ms = (int(time.time()) // 60 - 60) * 60_000
    lines_by_kind: dict[str, list[bytes]] = defaultdict(list)
    for event in generate(args.events, args.seed, start_ms):
        lines_by_kind[event.kind].append(event.line)
    big = bodies(lines_by_kind, MIB)
    small_lines: dict[str, list[bytes]] = defaultdict(list)
    for event in generate(args.small_events, args.seed + 1, start_ms):
        small_lines[event.kind].append(event.line)
    small = by_count(small_lines, 10)

    print("A: 8 connections x 1 MiB batches ...", flush=True)
    a = scenario("a-1mib", workdir, big, 8)
    print("A without PII redaction (a policy with no rules) ...", flush=True)
    no_pii = workdir / "no-pii.yaml"
    no_pii.write_text("data_protection:\n  default: {rules: []}\n")
    a_raw = scenario("a-no-pii", workdir, big, 8, "--config", str(no_pii))
    print("B: 64 connections x 10-event batches ...", flush=True)
    b = scenario("b-10ev", workdir, small, 64)
    print("engine limit: raw DuckDB inserts of the same events from Arrow ...", flush=True)
    engine = engine_limit(workdir, big)

    rows = [
        ("A events/s (8 x 1 MiB)", a["events_per_s"], ">= 200,000", a["events_per_s"] >= 200_000),
        ("A MB/s", a["mb_per_s"], "", None),
        ("A without redaction events/s", a_raw["events_per_s"], "", None),
        (
            "A with / without redaction",
            a["events_per_s"] / a_raw["events_per_s"],
            ">= 0.70",
            a["events_per_s"] / a_raw["events_per_s"] >= 0.70,
        ),
        ("A ack latency p50 / p99 ms", f"{a['p50_ms']:.1f} / {a['p99_ms']:.1f}", "", None),
        ("A server peak RSS MB", a["peak_rss_mb"], "<= 400", a["peak_rss_mb"] <= 400),
        ("A bytes on disk / event", a["bytes_per_event"], "<= 40", a["bytes_per_event"] <= 40),
        ("B events/s (64 x 10 events)", b["events_per_s"], ">= 20,000", b["events_per_s"] >= 20_000),
        ("B ack latency p50 / p99 ms", f"{b['p50_ms']:.1f} / {b['p99_ms']:.1f}", "", None),
        ("B server peak RSS MB", b["peak_rss_mb"], "<= 400", b["peak_rss_mb"] <= 400),
        ("engine limit events/s (raw DuckDB)", engine["events_per_s"], "", None),
        ("A / engine limit", a["events_per_s"] / engine["events_per_s"], "", None),
        ("B / engine limit", b["events_per_s"] / engine["events_per_s"], "", None),
    ]
    print()
    print(f"{'measure':38} {'value':>16}  {'target':>12}  ok")
    for label, value, target, ok in rows:
        shown = f"{value:,.2f}" if isinstance(value, float) else str(value)
        mark = "" if ok is None else ("yes" if ok else "NO")
        print(f"{label:38} {shown:>16}  {target:>12}  {mark}")
    if args.json:
        args.json.write_text(json.dumps({"a": a, "a_no_pii": a_raw, "b": b, "engine": engine}, indent=2))


if __name__ == "__main__":
    main()
