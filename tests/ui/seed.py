"""Seeded data for the browser tests: the source story's services, its five saved queries,
and the answers each query must give, computed from the same records."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

import httpx

from ..conftest import ndjson

API = "/qualisys/production/api"
WORKER = "/qualisys/production/worker"
STAGING = "/qualisys/staging/api"
BULK = "/perf/bulk"
TRACE_ID = "abc-123-def"
TENANTS = ["tenant_acme", "tenant_globex", "tenant_initech", "tenant_umbrella"]
PATHS = ["/api/v1/test-cases", "/api/v1/runs", "/api/v1/projects", "/api/v1/reports"]
BULK_EVENTS = 10_500

# The source story's saved queries, by name.
SAVED_QUERIES: dict[str, tuple[str, list[str]]] = {
    "Errors in the last hour": (
        'fields @timestamp, @message, trace_id, tenant_id\n| filter level = "error"\n'
        "| sort @timestamp desc\n| limit 100",
        [API],
    ),
    "Requests of one trace": (
        f'fields @timestamp, @message, level\n| filter trace_id = "{TRACE_ID}"\n| sort @timestamp asc',
        [API, WORKER],
    ),
    "Slow requests": (
        "fields @timestamp, method, path, duration_ms\n| filter duration_ms > 500\n"
        "| sort duration_ms desc\n| limit 50",
        [API],
    ),
    "Errors by tenant": (
        'fields tenant_id\n| filter level = "error"\n| stats count() as error_count by tenant_id\n'
        "| sort error_count desc",
        [API],
    ),
    "5xx responses": (
        "fields @timestamp, method, path, status, trace_id\n| filter status >= 500\n"
        "| sort @timestamp desc\n| limit 100",
        [API],
    ),
}


@dataclass
class Seeded:
    """What was stored, and what the saved queries must answer."""

    now_ms: int
    api: list[dict[str, Any]] = field(default_factory=list)
    worker: list[dict[str, Any]] = field(default_factory=list)

    def errors(self) -> list[dict[str, Any]]:
        return [r for r in self.api if r["level"] == "error"]

    def trace(self) -> list[dict[str, Any]]:
        return [r for r in self.api + self.worker if r.get("trace_id") == TRACE_ID]

    def slow(self) -> list[dict[str, Any]]:
        return sorted((r for r in self.api if r["duration_ms"] > 500), key=lambda r: -r["duration_ms"])[:50]

    def errors_by_tenant(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for r in self.errors():
            counts[r["tenant_id"]] = counts.get(r["tenant_id"], 0) + 1
        return counts

    def server_errors(self) -> list[dict[str, Any]]:
        return [r for r in self.api if r["status"] >= 500]


def _iso(ms: int) -> str:
    from logpond.model.timestamps import format_iso  # noqa: PLC0415

    return format_iso(ms)


def seed(http: httpx.Client, now_ms: int) -> Seeded:
    """Store the story's traffic of the last 50 minutes, and its saved queries."""
    rng = random.Random(20260124)
    out = Seeded(now_ms)
    for i in range(240):
        ts = now_ms - 50 * 60_000 + i * 12_000 + rng.randrange(0, 1000)
        status = rng.choice([200] * 12 + [201, 204, 404, 500, 502, 503])
        level = "error" if status >= 500 and i % 2 == 0 else ("warn" if status == 404 else "info")
        trace = TRACE_ID if i == 200 else f"trace-{i:04d}"
        out.api.append(
            {
                "timestamp": _iso(ts), "level": level, "message": "HTTP Request",
                "trace_id": trace, "tenant_id": TENANTS[i % len(TENANTS)], "service": "qualisys-api",
                "environment": "production", "method": rng.choice(["GET", "POST", "PUT"]),
                "path": rng.choice(PATHS), "status": status,
                "duration_ms": rng.choice([12, 45, 80, 145, 230, 380, 520, 760, 1430]) + i % 7,
            }
        )  # fmt: skip
        if i % 3 == 0 or i == 200:
            worker_level = "error" if i == 200 else "info"
            out.worker.append(
                {
                    "timestamp": _iso(ts + 40), "level": worker_level,
                    "message": "job failed: report render timeout" if i == 200 else "job done",
                    "trace_id": trace, "tenant_id": TENANTS[i % len(TENANTS)],
                    "service": "qualisys-worker", "job": "render-report", "attempt": 1,
                }
            )  # fmt: skip
    for group, records in ((API, out.api), (WORKER, out.worker)):
        response = http.post(f"/api/v1/ingest?group={group}&stream=pod-1", content=ndjson(*records))
        assert response.status_code == 200 and response.json()["accepted"] == len(records), response.text
    http.post(
        f"/api/v1/ingest?group={STAGING}&stream=pod-1",
        content=ndjson({"timestamp": _iso(now_ms - 60_000), "level": "info", "message": "staging up"}),
    ).raise_for_status()
    bulk = [
        {"timestamp": _iso(now_ms - 40 * 60_000 + i * 200), "level": "info",
         "message": f"bulk event {i} " + "x" * (i % 40), "n": i}
        for i in range(BULK_EVENTS)
    ]  # fmt: skip
    http.post(f"/api/v1/ingest?group={BULK}&stream=load", content=ndjson(*bulk)).raise_for_status()
    for name, (query, groups) in SAVED_QUERIES.items():
        response = http.post("/api/v1/saved-queries", json={"name": name, "query": query, "groups": groups})
        assert response.status_code == 201, response.text
    return out
