"""Live tail over SSE against a real server: delivery, filter patterns, authorization."""

from __future__ import annotations

import queue
import threading
import time
from typing import Any

import orjson

from ..conftest import LiveServer, ndjson, unique_group


def _follow(server: LiveServer, params: dict[str, Any], out: queue.Queue[tuple[float, str, Any]]) -> None:
    """Read the SSE stream into ``out`` as (arrival time, event name, data) until it ends."""
    with (
        server.client() as http,
        http.stream("GET", "/api/v1/tail", params=params, timeout=30) as response,
    ):
        assert response.status_code == 200, response.read()
        event = "message"
        for line in response.iter_lines():
            if line.startswith("event: "):
                event = line[7:]
            elif line.startswith("data: "):
                out.put((time.monotonic(), event, orjson.loads(line[6:])))
                if event == "end":
                    return


def _next(out: queue.Queue[tuple[float, str, Any]], event: str, timeout: float = 5) -> tuple[float, Any]:
    deadline = time.monotonic() + timeout
    while True:
        arrived, name, data = out.get(timeout=max(0.01, deadline - time.monotonic()))
        if name == event:
            return arrived, data


def test_tail_delivers_matching_events_within_a_second(logpond_server: LiveServer) -> None:
    """Events committed to a followed group arrive within 1 s, filtered by the pattern."""
    group, other = unique_group(), unique_group()
    with logpond_server.client() as http:
        for name in (group, other):
            http.post("/api/v1/groups", json={"name": name}).raise_for_status()
    out: queue.Queue[tuple[float, str, Any]] = queue.Queue()
    reader = threading.Thread(
        target=_follow, args=(logpond_server, {"group": [group], "pattern": "{ $.status >= 500 }"}, out)
    )
    reader.daemon = True
    reader.start()
    _next(out, "open")
    with logpond_server.client() as http:
        sent = time.monotonic()
        body = ndjson({"message": "ok", "status": 200}, {"message": "boom", "status": 503, "trace_id": "t-9"})
        http.post(f"/api/v1/ingest?group={group}", content=body).raise_for_status()
        http.post(f"/api/v1/ingest?group={other}", content=ndjson({"message": "x", "status": 500}))
    arrived, data = _next(out, "message")
    assert arrived - sent < 1.0
    assert data["dropped"] == 0
    (event,) = data["events"]
    assert event["group"] == group and event["message"] == "boom" and event["trace_id"] == "t-9"
    assert orjson.loads(event["fields"]) == {"status": 503}
    assert event["id"].isdigit()


def test_tail_needs_start_live_tail_on_every_group(logpond_server: LiveServer) -> None:
    """A shipper key may not tail; a reader scoped to one group may not tail another."""
    mine, other = unique_group("/tailmine"), unique_group("/tailother")
    with logpond_server.client() as http:
        for name in (mine, other):
            http.post("/api/v1/groups", json={"name": name}).raise_for_status()
        shipper = http.post("/api/v1/keys", json={"role": "shipper"}).json()
        reader = http.post("/api/v1/keys", json={"role": "reader", "groups": "/tailmine/*"}).json()
    with logpond_server.client(shipper["access_key_id"], shipper["secret_access_key"]) as http:
        denied = http.get("/api/v1/tail", params={"group": mine})
        assert denied.status_code == 403 and denied.json()["action"] == "logs:StartLiveTail"
    with logpond_server.client(reader["access_key_id"], reader["secret_access_key"]) as http:
        assert http.get("/api/v1/tail", params={"group": [mine, other]}).status_code == 403


def test_tail_refuses_bad_requests(logpond_server: LiveServer) -> None:
    """An unknown group, a pattern that does not parse, or no group at all is refused up front."""
    group = unique_group()
    with logpond_server.client() as http:
        http.post("/api/v1/groups", json={"name": group}).raise_for_status()
        assert http.get("/api/v1/tail", params={"group": unique_group()}).status_code == 404
        bad = http.get("/api/v1/tail", params={"group": group, "pattern": "{ $.a = "})
        assert bad.status_code == 400 and bad.json()["column"] == 9
        assert http.get("/api/v1/tail").status_code == 400
        many = [unique_group() for _ in range(11)]
        assert http.get("/api/v1/tail", params={"group": many}).status_code == 400
