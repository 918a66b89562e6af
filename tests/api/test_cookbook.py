"""Every recipe of docs/queries.md runs on a real server seeded with the records it is
written for, and returns rows; some answers are checked exactly."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import pytest

from ..conftest import LiveServer, ndjson, unique_group

COOKBOOK = Path(__file__).parents[2] / "docs" / "queries.md"
NOW = int(time.time() * 1000) // 60_000 * 60_000
TENANTS = ("tenant_acme", "tenant_globex", "tenant_initech")
PATHS = ("/api/v1/test-cases", "/api/v1/test-runs", "/api/v1/reports/7")
TRACEBACK = (
    "Traceback (most recent call last):\n"
    '  File "/app/qualisys/api/routes.py", line 41, in start_run\n'
    "    run = runs.start(suite_id)\n"
    '  File "/app/qualisys/runs.py", line {line}, in start\n'
    "    raise RunError(f'suite {{suite_id}} has no test cases')\n"
    "qualisys.runs.RunError: suite {suite} has no test cases"
)


def recipes() -> list[tuple[str, str]]:
    """(heading, query) for every ``insights`` block of the cookbook, in order."""
    text = COOKBOOK.read_text(encoding="utf-8")
    found = []
    heading = ""
    for block in re.finditer(r"^(#+ [^\n]*)$|^```insights\n(.*?)^```$", text, re.MULTILINE | re.DOTALL):
        if block.group(1):
            heading = block.group(1).lstrip("# ").strip()
        else:
            found.append((heading, block.group(2).strip()))
    return found


def api_events() -> list[dict[str, Any]]:
    """120 requests over the last 40 minutes; trace abc-123-def is the first three."""
    events: list[dict[str, Any]] = []
    for i in range(120):
        status = 503 if i % 10 == 0 else 500 if i % 17 == 0 else 404 if i % 7 == 0 else 200
        events.append(
            {
                "timestamp": NOW - 2_400_000 + i * 20_000,
                "level": "error" if status >= 500 else "warn" if status >= 400 else "info",
                "message": "HTTP Request",
                "trace_id": "abc-123-def" if i < 3 else f"{i // 3:032x}",
                "tenant_id": TENANTS[i % 3],
                "service": "qualisys-api",
                "method": "POST" if i % 4 == 0 else "GET",
                "path": PATHS[i % 3],
                "status": status,
                "duration_ms": (i * 37) % 900 + (2500 if i % 25 == 0 else 0),
                "user_agent": "python-httpx/0.28.1",
            }
        )
    for i, line in enumerate((88, 88, 93)):
        events.append(
            {
                "timestamp": NOW - 1_200_000 + i * 60_000,
                "level": "error",
                "message": "run failed to start",
                "trace_id": f"run-{i}",
                "tenant_id": "tenant_acme",
                "service": "qualisys-api",
                "error": {
                    "name": "RunError",
                    "message": f"suite {40 + i} has no test cases",
                    "stack": TRACEBACK.format(line=line, suite=40 + i),
                },
            }
        )
    return events


def worker_events() -> list[dict[str, Any]]:
    """Steps of the AI-agent pipeline; abc-123-def continues here."""
    events = []
    messages = ("task started", "llm call", "retrying task", "tool call", "task finished")
    tasks = ("generate_test_cases", "run_suite", "triage_failure")
    for i in range(60):
        message = messages[i % 5]
        record: dict[str, Any] = {
            "timestamp": NOW - 2_390_000 + i * 40_000,
            "level": "warn" if message == "retrying task" else "info",
            "message": message,
            "trace_id": "abc-123-def" if i < 2 else f"w{i // 5}",
            "tenant_id": TENANTS[i % 3],
            "service": "qualisys-worker",
            "task": tasks[i % 3],
            "task_id": f"{i:016x}",
            "step": i % 12,
            "duration_ms": 1500 + i * 10 if i % 6 == 0 else 120,
        }
        if message == "llm call":
            record["tokens"] = 100 * (i + 1)
            record["model"] = "claude-sonnet" if i % 2 else "gpt-4o"
        events.append(record)
    for i in range(12):
        events.append(
            {
                "timestamp": NOW - 600_000 + i * 1_000,
                "level": "error",
                "message": f"task {1000 + i} failed after 3 retries",
                "trace_id": f"fail-{i}",
                "tenant_id": "tenant_globex",
                "service": "qualisys-worker",
                "task": "run_suite",
            }
        )
    return events


def kubernetes_events() -> list[dict[str, Any]]:
    """klog lines of kubelet and kube-proxy (errors among them) and scheduling events."""
    lines = [
        (
            "kubelet",
            'I0124 10:15:30.123456    4242 reconciler.go:224] "operationExecutor.MountVolume started"',
        ),
        ("kubelet", 'E0124 10:15:31.000001    4242 pod_workers.go:1298] "Error syncing pod, skipping"'),
        ("kubelet", 'E0124 10:15:32.000001    4242 pod_workers.go:1298] "Error syncing pod, skipping"'),
        ("kubelet", 'W0124 10:15:33.000001    4242 eviction_manager.go:337] "Eviction manager: attempting"'),
        (
            "kube-proxy",
            'I0124 10:15:34.000001       1 proxier.go:812] "SyncProxyRules complete" elapsed="41ms"',
        ),
        ("kube-proxy", 'E0124 10:15:35.000001       1 proxier.go:1521] "Failed to execute iptables-restore"'),
        ("k8s-events", "Successfully assigned qualisys/qualisys-api-7d9f to ip-10-0-1-11.ec2.internal"),
        ("k8s-events", "Successfully assigned qualisys/qualisys-worker-a1b2 to ip-10-0-1-11.ec2.internal"),
        ("k8s-events", "Successfully assigned qualisys/qualisys-api-c3d4 to ip-10-0-2-27.ec2.internal"),
    ]
    return [
        {
            "timestamp": NOW - 900_000 + i * 5_000,
            "level": "info",
            "message": text,
            "service": source,
            "node": "ip-10-0-1-11.ec2.internal",
        }
        for i, (source, text) in enumerate(lines)
    ]


@pytest.fixture(scope="module")
def groups(logpond_server: LiveServer) -> list[str]:
    base = unique_group("/cookbook")
    named = {
        f"{base}/api": api_events(),
        f"{base}/worker": worker_events(),
        f"{base}/kubernetes": kubernetes_events(),
    }
    with logpond_server.client() as http:
        for group, events in named.items():
            http.post("/api/v1/groups", json={"name": group}).raise_for_status()
            response = http.post("/api/v1/ingest", params={"group": group}, content=ndjson(*events))
            response.raise_for_status()
            assert response.json()["accepted"] == len(events)
    return list(named)


def run(server: LiveServer, query: str, groups: list[str]) -> dict[str, Any]:
    body = {"query": query, "groups": groups, "start": NOW - 3_600_000, "end": NOW + 60_000}
    with server.client() as http:
        response = http.post("/api/v1/query", json=body)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def test_cookbook_has_the_saved_queries_and_at_least_fifteen_more() -> None:
    """The cookbook holds the five source-story queries verbatim and 15 recipes besides."""
    queries = [" ".join(query.split()) for _, query in recipes()]
    saved = re.findall(
        r"query: \|\n((?:      .*\n)+)", (COOKBOOK.parents[1] / "examples" / "qualisys.yaml").read_text()
    )
    assert len(saved) == 5
    for text in saved:
        assert " ".join(text.split()) in queries
    assert len(queries) >= 20
    assert len(set(queries)) == len(queries)


@pytest.mark.parametrize(("heading", "query"), recipes(), ids=[h for h, _ in recipes()])
def test_recipe_runs_and_finds_rows(
    heading: str, query: str, logpond_server: LiveServer, groups: list[str]
) -> None:
    """The recipe parses, runs, and answers with at least one row on the seeded records."""
    result = run(logpond_server, query, groups)
    assert result["status"] == "Complete"
    assert result["records"], heading


def test_errors_by_tenant_counts_each_tenant(logpond_server: LiveServer, groups: list[str]) -> None:
    """The saved errors-by-tenant query counts API and worker errors per tenant."""
    query = dict(recipes())["Errors by tenant (`errors-by-tenant`)"]
    result = run(logpond_server, query, groups)
    api_errors = [e for e in api_events() if e["level"] == "error"]
    expected = {t: sum(1 for e in api_errors if e["tenant_id"] == t) for t in TENANTS}
    expected["tenant_globex"] += 12
    assert {r["tenant_id"]: int(r["error_count"]) for r in result["records"]} == expected


def test_trace_recipe_follows_the_request_through_both_services(
    logpond_server: LiveServer, groups: list[str]
) -> None:
    """One trace across services interleaves the API's three records and the worker's two in time."""
    result = run(logpond_server, dict(recipes())["One trace across services"], groups)
    api, worker = "qualisys-api", "qualisys-worker"
    assert [r["service"] for r in result["records"]] == [api, worker, api, api, worker]


def test_stack_trace_recipe_finds_the_raising_line(logpond_server: LiveServer, groups: list[str]) -> None:
    """The traceback parse names the innermost frame and the exception type."""
    result = run(logpond_server, dict(recipes())["Parse a Python stack trace"], groups)
    rows = [(r["exception"], r["file"], r["line"], r["function"], r["n"]) for r in result["records"]]
    assert rows == [
        ("qualisys.runs.RunError", "/app/qualisys/runs.py", "88", "start", "2"),
        ("qualisys.runs.RunError", "/app/qualisys/runs.py", "93", "start", "1"),
    ]


def test_5xx_ratio_per_path(logpond_server: LiveServer, groups: list[str]) -> None:
    """The 5xx ratio per path is the share of 500-599 responses among that path's requests."""
    result = run(logpond_server, dict(recipes())["5xx ratio per path"], groups)
    requests = [e for e in api_events() if "status" in e]
    for row in result["records"]:
        mine = [e for e in requests if e["path"] == row["path"]]
        share = 100 * sum(1 for e in mine if e["status"] >= 500) / len(mine)
        assert float(row["pct_5xx"]) == pytest.approx(share)
        assert int(row["requests"]) == len(mine)


def test_kubernetes_errors_by_source(logpond_server: LiveServer, groups: list[str]) -> None:
    """kubelet and kube-proxy warnings and errors are counted by klog source."""
    result = run(logpond_server, dict(recipes())["kubelet and kube-proxy errors"], groups)
    rows = {(r["service"], r["severity"], r["source"]): int(r["n"]) for r in result["records"]}
    assert rows == {
        ("kubelet", "E", "pod_workers.go:1298"): 2,
        ("kubelet", "W", "eviction_manager.go:337"): 1,
        ("kube-proxy", "E", "proxier.go:1521"): 1,
    }


def test_token_usage_adds_up(logpond_server: LiveServer, groups: list[str]) -> None:
    """LLM token usage per tenant and model sums the tokens of the llm call records."""
    result = run(logpond_server, dict(recipes())["LLM token usage per tenant"], groups)
    total = sum(e.get("tokens", 0) for e in worker_events())
    assert sum(int(r["tokens"]) for r in result["records"]) == total
