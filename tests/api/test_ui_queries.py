"""The small query routes behind the web UI: histogram, top values, group summaries."""

from __future__ import annotations

import time

from ..conftest import LiveServer, ndjson, unique_group


def _seed(server: LiveServer) -> tuple[str, int]:
    group = unique_group()
    now = int(time.time() * 1000)
    records = [
        {"timestamp": now - 50 * 60_000 + i * 60_000, "level": "error" if i % 5 == 0 else "info",
         "message": f"m|{i}", "tenant_id": f"t{i % 3}"}
        for i in range(50)
    ]  # fmt: skip
    with server.client() as http:
        http.post(f"/api/v1/ingest?group={group}", content=ndjson(*records)).raise_for_status()
    return group, now


def test_histogram_counts_what_the_query_matches(logpond_server: LiveServer) -> None:
    """Bars count the events that pass the query's filters; sort, limit and stats do not cut them."""
    group, now = _seed(logpond_server)
    body = {
        "query": 'filter level = "error" and message like "|" | stats count(*) by tenant_id | limit 1',
        "groups": [group], "start": now - 3_600_000, "end": now, "bins": 60,
    }  # fmt: skip
    with logpond_server.client() as http:
        response = http.post("/api/v1/query/histogram", json=body)
    assert response.status_code == 200, response.text
    data = response.json()
    assert data["bin_ms"] == 60_000 and data["total"] == 10
    assert data["query"].startswith('filter level = "error" and message like "|" | stats count(*) as events')
    assert all(n == 1 and t % 60_000 == 0 for t, n in data["buckets"])


def test_histogram_reports_parse_errors_with_their_position(logpond_server: LiveServer) -> None:
    """A query that does not parse is a 400 with the position of the error."""
    group, _now = _seed(logpond_server)
    with logpond_server.client() as http:
        response = http.post("/api/v1/query/histogram", json={"query": "filter a >", "groups": [group]})
    assert response.status_code == 400
    assert response.json()["error"] == "MalformedQueryException" and response.json()["column"] > 0


def test_top_values_of_a_field(logpond_server: LiveServer) -> None:
    """Top values are counted among the matching events, most common first."""
    group, now = _seed(logpond_server)
    with logpond_server.client() as http:
        response = http.post(
            "/api/v1/query/top-values",
            json={"query": 'filter level = "error"', "groups": [group], "field": "tenant_id",
                  "start": now - 3_600_000, "end": now},
        )  # fmt: skip
    assert response.status_code == 200, response.text
    values = response.json()["values"]
    assert sum(v["count"] for v in values) == 10
    assert values == sorted(values, key=lambda v: -v["count"])


def test_group_summaries_show_streams_and_policy(logpond_server: LiveServer) -> None:
    """Each summary counts streams, knows the last event and names the PII policy in force."""
    group = unique_group()
    with logpond_server.client() as http:
        for stream in ("a", "b"):
            body = ndjson({"timestamp": 1_700_000_000_000, "message": "x"})
            http.post(f"/api/v1/ingest?group={group}&stream={stream}", content=body).raise_for_status()
        summaries = http.get("/api/v1/group-summaries", params={"prefix": group}).json()["groups"]
    (summary,) = summaries
    assert summary["stream_count"] == 2 and summary["last_event"] == 1_700_000_000_000
    assert (
        summary["data_protection"]["source"] == "default" and "email" in summary["data_protection"]["rules"]
    )
