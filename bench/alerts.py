"""Alerting benchmark: what 20 metric filters cost ingest, and how soon an alarm reaches a webhook.

    python bench/alerts.py                 # 1,000,000 events per run, 2 rounds
    python bench/alerts.py --events 300000 --rounds 1 --skip-latency   # quicker

Throughput: the seeded corpus (bench/corpus.py) is sent in ~1 MiB NDJSON batches over 8
connections, acknowledged after commit, to a fresh server without metric filters and to one
with 20 (JSON, term and numeric-value patterns, some with dimensions, over the three
groups), alternating, ``--rounds`` times each; the ratio of the medians is printed.

Latency: a server with the source story's error alarm (more than 10 errors in a 60 s
period) and a webhook channel pointing at a local HTTP receiver. Just after a minute
starts, 15 errors are sent; the time from the acknowledgement of the last one to the
receiver's receipt of the ALARM notification is measured on the real clock. The minute
must end and settle (3 s by default) before it is evaluated, so about a period is the floor.

Targets: ingest with filters / without >= 0.80; latency <= period + 5 s.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import threading
import time
from collections import defaultdict
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import yaml

sys.path.insert(0, str(Path(__file__).parent))

from _harness import post_request, run_load, run_server
from corpus import GROUPS, generate
from ingest import MIB, bodies

API, WORKER, K8S = GROUPS["api"], GROUPS["worker"], GROUPS["k8s"]
NAMESPACE = "Bench/App"
PERIOD_SECONDS = 60


def _filter(group: str, name: str, pattern: str, value: str = "1", **extra: Any) -> dict[str, Any]:
    return {
        "group": group,
        "name": name,
        "pattern": pattern,
        "metric_name": name,
        "namespace": NAMESPACE,
        "value": value,
        **extra,
    }


# Twenty filters of the kinds teams write: counts by level and status, latencies as values,
# per-tenant and per-path dimensions, terms in messages.
FILTERS = [
    _filter(API, "ApiErrors", '{ $.level = "error" }'),
    _filter(API, "Http5xx", "{ $.status >= 500 }"),
    _filter(API, "Http4xx", "{ $.status >= 400 && $.status < 500 }"),
    _filter(API, "Requests", "{ $.status = * }"),
    _filter(API, "Latency", "{ $.duration_ms = * }", "$.duration_ms", unit="Milliseconds"),
    _filter(API, "SlowRequests", "{ $.duration_ms > 500 }"),
    _filter(API, "RequestsByTenant", "{ $.status = * }", dimensions={"tenant": "$.tenant_id"}),
    _filter(API, "PostRequests", '{ $.method = "POST" }'),
    _filter(API, "TestCaseCalls", '{ $.path = "/api/v1/test-cases*" }'),
    _filter(API, "Warnings", '{ $.level = "warn" }'),
    _filter(WORKER, "WorkerErrors", '{ $.level = "error" }'),
    _filter(WORKER, "TaskRetries", '"retrying task"'),
    _filter(WORKER, "TaskDuration", '{ $.message = "task finished" }', "$.duration_ms", unit="Milliseconds"),
    _filter(WORKER, "TasksByType", '{ $.message = "task finished" }', dimensions={"task": "$.task"}),
    _filter(WORKER, "ToolCalls", '"tool call"'),
    _filter(WORKER, "WorkerWarnings", '{ $.level = "warn" }'),
    _filter(K8S, "BackOff", "BackOff"),
    _filter(K8S, "OOMKilled", "OOMKilled"),
    _filter(K8S, "K8sErrors", '{ $.level = "error" }'),
    _filter(K8S, "Scheduled", '"Successfully assigned"'),
]
assert len(FILTERS) == 20


def throughput(workdir: Path, name: str, chunks: list[tuple[str, str, bytes, int]], config: Path) -> float:
    events = sum(c[3] for c in chunks)
    with run_server(workdir / name, "--config", str(config)) as server:
        with server.client() as http:
            for group in GROUPS.values():
                created = http.post("/api/v1/groups", json={"name": group, "retention_days": 90})
                if created.status_code != 409:  # the metric filters' groups exist from the config
                    created.raise_for_status()
        requests = [
            post_request(server.port, f"/api/v1/ingest?group={g}&stream={s}", body)
            for g, s, body, _ in chunks
        ]
        load = run_load(server.port, requests, 8)
        if name.startswith("filters"):
            with server.client() as http:
                found = http.get("/api/v1/metrics", params={"namespace": NAMESPACE}).json()["metrics"]
            if len(found) < 10:
                raise SystemExit(f"{name}: the filters made only {len(found)} metrics")
    failures = {k: v for k, v in load.statuses.items() if k != 200}
    if failures or load.accepted != events:
        raise SystemExit(f"{name}: {failures} non-200 answers, {load.accepted}/{events} accepted")
    return events / load.seconds


class Receiver:
    """A local webhook endpoint that notes when each POST arrives."""

    def __init__(self) -> None:
        self.received: list[tuple[float, dict[str, Any]]] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                owner.received.append((time.time(), json.loads(body)))
                self.send_response(200)
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"


def alarm_latency(workdir: Path) -> tuple[float, float]:
    """(seconds from the last breaching event's acknowledgement to the webhook's receipt,
    seconds from that event to the end of its period)."""
    receiver = Receiver()
    (workdir / "hook-url").write_text(receiver.url)
    (workdir / "hook-secret").write_text("bench-signing-secret")
    config = {
        "alerts": {
            "channels": [
                {
                    "name": "hook",
                    "type": "webhook",
                    "url_file": str(workdir / "hook-url"),
                    "secret_file": str(workdir / "hook-secret"),
                }
            ],
            "metric_filters": [_filter(API, "ErrorCount", '{ $.level = "error" }')],
            "alarms": [
                {
                    "name": "error-rate-spike",
                    "namespace": NAMESPACE,
                    "metric_name": "ErrorCount",
                    "statistic": "Sum",
                    "period": PERIOD_SECONDS,
                    "evaluation_periods": 1,
                    "comparison": ">",
                    "threshold": 10,
                    "treat_missing_data": "notBreaching",
                    "alarm_actions": ["hook"],
                }
            ],
        },
        "log_groups": [{"name": API, "retention_days": 90}],
    }
    config_path = workdir / "latency.yaml"
    config_path.write_text(yaml.safe_dump(config))
    try:
        with run_server(workdir / "latency", "--config", str(config_path)) as server:
            # Start just after a minute begins: the worst case, a whole period to wait.
            time.sleep(PERIOD_SECONDS - time.time() % PERIOD_SECONDS + 1.0)
            now_ms = int(time.time() * 1000)
            lines = [
                json.dumps({"timestamp": now_ms + i, "level": "error", "message": "payment failed"})
                for i in range(15)
            ]
            with server.client() as http:
                http.post(
                    "/api/v1/ingest", params={"group": API}, content="\n".join(lines)
                ).raise_for_status()
            acked = time.time()
            period_end = (now_ms // 1000 // PERIOD_SECONDS + 1) * PERIOD_SECONDS
            deadline = time.time() + 2 * PERIOD_SECONDS + 30
            while not any(body.get("state") == "ALARM" for _, body in receiver.received):
                if time.time() > deadline:
                    raise SystemExit("no ALARM notification arrived")
                time.sleep(0.05)
            arrived = next(t for t, body in receiver.received if body.get("state") == "ALARM")
            return arrived - acked, period_end - acked
    finally:
        receiver.server.shutdown()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--seed", type=int, default=20260124)
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--skip-latency", action="store_true")
    args = parser.parse_args()

    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="logpond-alertbench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    start_ms = (int(time.time()) // 60 - 60) * 60_000
    lines_by_kind: dict[str, list[bytes]] = defaultdict(list)
    for event in generate(args.events, args.seed, start_ms):
        lines_by_kind[event.kind].append(event.line)
    chunks = bodies(lines_by_kind, MIB)
    plain = workdir / "plain.yaml"
    plain.write_text("{}\n")
    filtered = workdir / "filters.yaml"
    filtered.write_text(yaml.safe_dump({"alerts": {"metric_filters": FILTERS}}))

    rates: dict[str, list[float]] = {"none": [], "filters": []}
    for round_number in range(args.rounds):
        for name, config in (("none", plain), ("filters", filtered)):
            print(f"round {round_number + 1}: {name} ...", flush=True)
            rates[name].append(throughput(workdir, f"{name}-{round_number}", chunks, config))
    none, filters = statistics.median(rates["none"]), statistics.median(rates["filters"])
    ratio = filters / none
    print()
    print(f"{'measure':<52} {'value':>12}  target")
    print(f"{'ingest events/s, no metric filters':<52} {none:>12,.0f}")
    print(f"{'ingest events/s, 20 metric filters':<52} {filters:>12,.0f}")
    print(f"{'with filters / without':<52} {ratio:>12.2f}  >= 0.80 {'yes' if ratio >= 0.8 else 'NO'}")
    if not args.skip_latency:
        print("alarm latency (waits for a minute to end) ...", flush=True)
        latency, to_period_end = alarm_latency(workdir)
        limit = PERIOD_SECONDS + 5
        verdict = "yes" if latency <= limit else "NO"
        print(f"{'last breaching event -> webhook received, s':<52} {latency:>12.1f}  <= {limit} {verdict}")
        print(f"{'  of which waiting for the period to end, s':<52} {to_period_end:>12.1f}")
        print(f"{'  after the period ended, s':<52} {latency - to_period_end:>12.1f}")


if __name__ == "__main__":
    main()
