"""A seeded corpus shaped like the traffic logpond is built for.

Three kinds of lines, in the proportions of a small Kubernetes deployment: HTTP request
logs of the API (the source story's sample entry), background-worker logs of an AI-agent
pipeline, and Kubernetes node lines (kubelet, kube-proxy, events). A trace id spans a few
consecutive events, as one request does across services. Everything derives from the seed:
the same seed gives the same bytes.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import orjson

__all__ = ["GROUPS", "CorpusEvent", "generate"]

START_MS = 1_769_249_730_123  # 2026-01-24T10:15:30.123Z, the sample entry's time

GROUPS = {
    "api": "/qualisys/production/api",
    "worker": "/qualisys/production/worker",
    "k8s": "/qualisys/production/kubernetes",
}

_TENANTS = [
    f"tenant_{n}"
    for n in (
        "acme",
        "globex",
        "initech",
        "umbrella",
        "hooli",
        "stark",
        "wayne",
        "wonka",
        "tyrell",
        "cyberdyne",
        "soylent",
        "aperture",
    )
]
_PATHS = [
    "/api/v1/test-cases",
    "/api/v1/test-cases/{id}",
    "/api/v1/test-runs",
    "/api/v1/projects",
    "/api/v1/users/me",
    "/api/v1/reports/{id}",
    "/api/v1/agents/run",
    "/api/v1/integrations",
]
_METHODS = ["GET", "GET", "GET", "GET", "POST", "POST", "PUT", "DELETE"]
_AGENTS = [
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_1) AppleWebKit/605.1.15 Safari/605.1.15",
    "python-httpx/0.28.1",
    "qualisys-cli/2.4.0",
    "curl/8.5.0",
]
_STATUS = [200] * 70 + [201] * 10 + [204] * 5 + [400] * 5 + [404] * 5 + [422] * 2 + [500, 503, 502]
_TASKS = ["generate_test_cases", "run_suite", "summarize_run", "embed_documents", "triage_failure"]
_WORKER_MESSAGES = [
    "task started",
    "task finished",
    "agent step completed",
    "llm call",
    "tool call",
    "retrying task",
    "cache miss",
]
_NODES = [f"ip-10-0-{n}-{m}.ec2.internal" for n in (1, 2, 3) for m in (11, 27, 142)]


@dataclass(frozen=True, slots=True)
class CorpusEvent:
    """One generated line and the group it belongs to."""

    kind: str
    line: bytes


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms // 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def generate(
    count: int, seed: int = 20260124, start_ms: int = START_MS, mean_gap_ms: int = 1
) -> Iterator[CorpusEvent]:
    """``count`` events, about 60 % API, 25 % worker and 15 % Kubernetes lines.

    Consecutive events are 0 to ``2 * mean_gap_ms`` milliseconds apart: the default packs a
    million events into about 17 minutes; 50 spreads them at about 20 events a second.
    """
    rng = random.Random(seed)
    now = start_ms
    trace = ""
    tenant = ""
    left = 0
    for _ in range(count):
        now += rng.randint(0, 2 * mean_gap_ms)
        if left == 0:
            trace = f"{rng.getrandbits(128):032x}"
            tenant = rng.choice(_TENANTS)
            left = rng.randint(1, 6)
        left -= 1
        roll = rng.random()
        if roll < 0.60:
            status = rng.choice(_STATUS)
            path = rng.choice(_PATHS).replace("{id}", str(rng.randint(1, 50_000)))
            record = {
                "timestamp": _iso(now),
                "level": "error" if status >= 500 else "warn" if status >= 400 else "info",
                "message": "HTTP Request",
                "trace_id": trace,
                "tenant_id": tenant,
                "service": "qualisys-api",
                "environment": "production",
                "method": rng.choice(_METHODS),
                "path": path,
                "status": status,
                "duration_ms": int(rng.expovariate(1 / 90)) + 1,
                "user_agent": rng.choice(_AGENTS),
            }
            yield CorpusEvent("api", orjson.dumps(record))
        elif roll < 0.85:
            record = {
                "timestamp": _iso(now),
                "level": rng.choice(["info", "info", "info", "debug", "warn"]),
                "message": rng.choice(_WORKER_MESSAGES),
                "trace_id": trace,
                "tenant_id": tenant,
                "service": "qualisys-worker",
                "environment": "production",
                "task": rng.choice(_TASKS),
                "task_id": f"{rng.getrandbits(64):016x}",
                "step": rng.randint(1, 12),
                "duration_ms": int(rng.expovariate(1 / 400)) + 1,
            }
            if record["message"] == "llm call":
                record["tokens"] = rng.randint(50, 4000)
                record["model"] = rng.choice(["gpt-4o", "claude-sonnet", "llama-3-70b"])
            yield CorpusEvent("worker", orjson.dumps(record))
        else:
            node = rng.choice(_NODES)
            source = rng.choice(["kubelet", "kube-proxy", "k8s-events"])
            if source == "kubelet":
                text = (
                    f"I0124 10:15:30.123456    {rng.randint(1000, 9999)} reconciler.go:"
                    f'{rng.randint(100, 400)}] "operationExecutor.MountVolume started" '
                    f'volume="pvc-{rng.getrandbits(32):08x}" pod="qualisys/'
                    f'qualisys-worker-{rng.getrandbits(20):05x}"'
                )
            elif source == "kube-proxy":
                line = rng.randint(700, 900)
                text = (
                    f"I0124 10:15:30.123456       1 proxier.go:{line}] "
                    f'"SyncProxyRules complete" elapsed="{rng.randint(5, 300)}ms"'
                )
            else:
                text = f"Successfully assigned qualisys/qualisys-api-{rng.getrandbits(24):06x} to {node}"
            record = {
                "timestamp": _iso(now),
                "level": "info",
                "message": text,
                "service": source,
                "node": node,
                "namespace": "kube-system" if source != "k8s-events" else "qualisys",
            }
            yield CorpusEvent("k8s", orjson.dumps(record))
