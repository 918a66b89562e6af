"""Logs Insights over the native API: the source story's saved queries, background jobs,
exports beyond the row cap, saved queries, errors and permissions."""

from __future__ import annotations

import csv
import io
import time
from pathlib import Path
from typing import Any

import orjson
import pytest

from ..conftest import LiveServer, ndjson, start_server, unique_group

EXAMPLE = Path(__file__).parents[2] / "examples" / "qualisys.yaml"
NOW = int(time.time() * 1000)


def seed(server: LiveServer, api: str, worker: str) -> None:
    """An API and a worker group; trace abc-123-def crosses both."""
    api_events = [
        {"timestamp": NOW - 60_000 + i * 100, "level": "error" if i % 5 == 0 else "info",
         "message": "HTTP Request", "trace_id": "abc-123-def" if i < 3 else f"t{i}",
         "tenant_id": f"tenant_{'acme' if i % 2 else 'globex'}", "service": "qualisys-api",
         "method": "POST", "path": f"/api/v1/p{i % 3}", "status": 503 if i % 10 == 0 else 201,
         "duration_ms": i * 20}
        for i in range(40)
    ]  # fmt: skip
    worker_events = [
        {"timestamp": NOW - 59_000 + i * 100, "level": "error" if i == 1 else "info",
         "message": "agent step", "trace_id": "abc-123-def", "tenant_id": "tenant_acme",
         "service": "qualisys-worker", "step": i}
        for i in range(3)
    ]  # fmt: skip
    with server.client() as http:
        http.post("/api/v1/ingest", params={"group": api}, content=ndjson(*api_events)).raise_for_status()
        http.post(
            "/api/v1/ingest", params={"group": worker}, content=ndjson(*worker_events)
        ).raise_for_status()


def run(server: LiveServer, query: str, groups: list[str], **extra: Any) -> dict[str, Any]:
    with server.client() as http:
        response = http.post("/api/v1/query", json={"query": query, "groups": groups, **extra})
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


@pytest.fixture(scope="module")
def groups(logpond_server: LiveServer) -> tuple[str, str]:
    base = unique_group("/q")
    api, worker = base + "/api", base + "/worker"
    seed(logpond_server, api, worker)
    return api, worker


def test_source_story_queries_run_verbatim(logpond_server: LiveServer, groups: tuple[str, str]) -> None:
    """The five saved queries of the source story run unchanged and answer correctly."""
    api, worker = groups
    errors = run(logpond_server, 'fields @timestamp, @message, trace_id, tenant_id | filter level = "error" '
                 "| sort @timestamp desc | limit 100", [api, worker])  # fmt: skip
    assert len(errors["records"]) == 9
    assert errors["fields"] == ["@timestamp", "@message", "trace_id", "tenant_id", "@ptr"]
    trace = run(logpond_server, 'fields @timestamp, @message, level | filter trace_id = "abc-123-def" '
                "| sort @timestamp asc", [api, worker])  # fmt: skip
    messages = [orjson.loads(r["@message"])["service"] for r in trace["records"]]
    assert messages == ["qualisys-api"] * 3 + ["qualisys-worker"] * 3
    slow = run(logpond_server, "fields @timestamp, method, path, duration_ms | filter duration_ms > 500 "
               "| sort duration_ms desc | limit 50", [api])  # fmt: skip
    assert [r["duration_ms"] for r in slow["records"]][:3] == ["780", "760", "740"]
    assert len(slow["records"]) == 14
    by_tenant = run(
        logpond_server,
        'fields tenant_id | filter level = "error" | stats count() as error_count by tenant_id '
        "| sort error_count desc",
        [api, worker],
    )
    assert by_tenant["records"] == [
        {"tenant_id": "tenant_acme", "error_count": "5"},
        {"tenant_id": "tenant_globex", "error_count": "4"},
    ]
    fivexx = run(logpond_server, "fields @timestamp, method, path, status, trace_id | filter status >= 500 "
                 "| sort @timestamp desc | limit 100", [api])  # fmt: skip
    assert {r["status"] for r in fivexx["records"]} == {"503"} and len(fivexx["records"]) == 4
    assert fivexx["statistics"]["recordsScanned"] == 40


def test_background_query_and_group_prefix(logpond_server: LiveServer, groups: tuple[str, str]) -> None:
    """A started query is polled to completion; group_prefix picks both groups."""
    api, _worker = groups
    prefix = api.rsplit("/", 1)[0] + "/"
    with logpond_server.client() as http:
        job = http.post("/api/v1/queries", json={"query": "stats count(*) as n", "group_prefix": prefix})
        assert job.status_code == 202
        query_id = job.json()["query_id"]
        for _ in range(200):
            state = http.get(f"/api/v1/queries/{query_id}").json()
            if state["status"] == "Complete":
                break
            time.sleep(0.05)
        listed = [q["query_id"] for q in http.get("/api/v1/queries").json()]
    assert state["records"] == [{"n": "43"}]
    assert sorted(state["groups"]) == sorted(groups)
    assert query_id in listed


def test_source_command_selects_groups(logpond_server: LiveServer, groups: tuple[str, str]) -> None:
    """SOURCE logGroups(namePrefix: [...]) chooses the groups when none are named."""
    api, _ = groups
    prefix = api.rsplit("/", 1)[0]
    result = run(logpond_server, f"SOURCE logGroups(namePrefix: ['{prefix}']) | stats count(*) as n", [])
    assert result["records"] == [{"n": "43"}]


def test_malformed_query_says_where(logpond_server: LiveServer, groups: tuple[str, str]) -> None:
    """A parse error is a 400 with line, column and what was expected."""
    with logpond_server.client() as http:
        response = http.post(
            "/api/v1/query", json={"query": "fields a\n| filter level = ", "groups": [groups[0]]}
        )
    assert response.status_code == 400
    body = response.json()
    assert body["error"] == "MalformedQueryException"
    assert (body["line"], body["column"]) == (2, 18)  # just past "= ", where a value is due


def test_time_range_limits_results(logpond_server: LiveServer, groups: tuple[str, str]) -> None:
    """start and end bound the events a query sees."""
    result = run(logpond_server, "stats count(*) as n", [groups[0]], start=NOW - 60_000, end=NOW - 59_000)
    assert result["records"] == [{"n": "10"}]


def test_export_streams_every_row_beyond_the_cap(logpond_server: LiveServer) -> None:
    """The export returns all 12,000 matching rows as NDJSON and CSV; queries stop at 10,000."""
    group = unique_group("/export")
    events = [{"timestamp": NOW - 100_000 + i, "message": f"m{i}", "n": i} for i in range(12_000)]
    with logpond_server.client() as http:
        http.post("/api/v1/ingest", params={"group": group}, content=ndjson(*events)).raise_for_status()
        capped = http.post("/api/v1/query", json={"query": "fields n", "groups": [group]}).json()
        exported = http.post("/api/v1/query/export", json={"query": "fields n", "groups": [group]})
        as_csv = http.post("/api/v1/query/export", params={"format": "csv"},
                           json={"query": "fields n | filter n < 5", "groups": [group]})  # fmt: skip
    assert len(capped["records"]) == 10_000
    lines = exported.text.splitlines()
    assert len(lines) == 12_000
    assert {int(orjson.loads(line)["n"]) for line in lines} == set(range(12_000))
    assert exported.headers["content-type"].startswith("application/x-ndjson")
    rows = list(csv.DictReader(io.StringIO(as_csv.text)))
    assert sorted(int(r["n"]) for r in rows) == [0, 1, 2, 3, 4]


def test_query_permissions(logpond_server: LiveServer, groups: tuple[str, str]) -> None:
    """A shipper may not query; a reader scoped elsewhere is refused these groups."""
    with logpond_server.client() as http:
        shipper = http.post("/api/v1/keys", json={"role": "shipper"}).json()
        reader = http.post("/api/v1/keys", json={"role": "reader", "groups": "/elsewhere/*"}).json()
    for key in (shipper, reader):
        with logpond_server.client(key["access_key_id"], key["secret_access_key"]) as http:
            response = http.post("/api/v1/query", json={"query": "stats count(*)", "groups": [groups[0]]})
        assert response.status_code == 403


def test_another_keys_query_is_not_visible(logpond_server: LiveServer, groups: tuple[str, str]) -> None:
    """Polling someone else's query id is a 404."""
    with logpond_server.client() as http:
        job = http.post("/api/v1/queries", json={"query": "stats count(*)", "groups": [groups[0]]}).json()
        other = http.post("/api/v1/keys", json={"role": "admin"}).json()
    with logpond_server.client(other["access_key_id"], other["secret_access_key"]) as http:
        assert http.get(f"/api/v1/queries/{job['query_id']}").status_code == 404


def test_saved_queries_crud(logpond_server: LiveServer) -> None:
    """Saved queries are created, listed, replaced and deleted; a bad one is refused."""
    with logpond_server.client() as http:
        created = http.post("/api/v1/saved-queries", json={"name": "mine", "query": "stats count(*)"})
        assert created.status_code == 201
        saved_id = created.json()["id"]
        spec = {"name": "mine", "query": "filter level = 'error'", "groups": ["/a"]}
        replaced = http.put(f"/api/v1/saved-queries/{saved_id}", json=spec)
        assert replaced.json()["groups"] == ["/a"]
        assert "mine" in [s["name"] for s in http.get("/api/v1/saved-queries").json()]
        bad = http.post("/api/v1/saved-queries", json={"name": "bad", "query": "filter ("})
        assert bad.status_code == 400 and bad.json()["error"] == "MalformedQueryException"
        assert http.delete(f"/api/v1/saved-queries/{saved_id}").status_code == 204
        assert http.delete(f"/api/v1/saved-queries/{saved_id}").status_code == 404


def test_timeout_stops_a_query(tmp_path: Path) -> None:
    """A query over its time limit ends as Timeout with an error, and the server carries on."""
    config = tmp_path / "c.yaml"
    config.write_text("queries:\n  timeout_seconds: 0.05\n")
    server = start_server(tmp_path / "data", "--config", str(config))
    try:
        events = [{"message": f"event {i} " + "x" * 200, "n": i} for i in range(200_000)]
        with server.client() as http:
            http.post("/api/v1/ingest", params={"group": "/slow"}, content=ndjson(*events)).raise_for_status()
            heavy = ("parse @message /event (?<a>\\d+) (?<b>x+)/ | stats count_distinct(b), pct(n, 50), "
                     "stddev(n) by a | sort a desc | limit 5")  # fmt: skip
            response = http.post("/api/v1/query", json={"query": heavy, "groups": ["/slow"]})
            assert response.status_code == 409, response.text
            assert response.json()["error"] == "QueryCancelledException"
            assert http.post("/api/v1/query", json={"query": "stats count(*) as n", "groups": ["/slow"],
                                                    "start": 0}).status_code in (200, 409)  # fmt: skip
            assert http.get("/healthz").status_code == 200
    finally:
        server.terminate()


def test_example_config_saved_queries(tmp_path: Path) -> None:
    """examples/qualisys.yaml installs its five saved queries, runnable by name."""
    server = start_server(tmp_path / "data", "--config", str(EXAMPLE))
    try:
        with server.client() as http:
            names = {s["name"] for s in http.get("/api/v1/saved-queries").json()}
        assert names == {"errors-last-hour", "trace", "slow-requests", "errors-by-tenant", "5xx-responses"}
    finally:
        server.terminate()
