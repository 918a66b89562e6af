"""Retention on a running server with a clock the test moves."""

from __future__ import annotations

from ..conftest import ClockedServer, ndjson

DAY = 86_400_000


def test_expired_events_are_hidden_then_removed(clocked_server: ClockedServer) -> None:
    """Events past retention disappear from search at once, and the sweep removes them."""
    server, clock = clocked_server.server, clocked_server.clock
    now = clock.now_ms()
    with server.client() as http:
        http.post("/api/v1/groups", json={"name": "/short", "retention_days": 1}).raise_for_status()
        http.post("/api/v1/groups", json={"name": "/long", "retention_days": 30}).raise_for_status()
        for group in ("/short", "/long"):
            http.post(
                "/api/v1/ingest",
                params={"group": group},
                content=ndjson({"message": "then", "timestamp": now - 1000}),
            ).raise_for_status()
        clock.advance(2 * DAY)
        hidden = http.post("/api/v1/events/search", json={"groups": ["/short"]}).json()["events"]
        kept = http.post("/api/v1/events/search", json={"groups": ["/long"]}).json()["events"]
        assert hidden == [] and len(kept) == 1
        store = clocked_server.app.state.services.store
        report = store.sweep_expired()
        assert report.deleted_rows == 1 and report.dropped_partitions == 0
        assert http.get("/api/v1/groups/%2Fshort").json()["stored_bytes"] == 0
        clock.advance(40 * DAY)
        report = store.sweep_expired()
        assert report.dropped_partitions == 1
        assert http.post("/api/v1/events/search", json={"groups": ["/long"]}).json()["events"] == []


def test_raising_retention_brings_nothing_back_that_was_deleted(clocked_server: ClockedServer) -> None:
    """Hidden-but-not-swept events become visible again when retention grows, like CloudWatch."""
    server, clock = clocked_server.server, clocked_server.clock
    now = clock.now_ms()
    with server.client() as http:
        http.post("/api/v1/groups", json={"name": "/grow", "retention_days": 1}).raise_for_status()
        http.post(
            "/api/v1/ingest", params={"group": "/grow"}, content=ndjson({"message": "m", "timestamp": now})
        ).raise_for_status()
        clock.advance(2 * DAY)
        assert http.post("/api/v1/events/search", json={"groups": ["/grow"]}).json()["events"] == []
        http.patch("/api/v1/groups/%2Fgrow", json={"retention_days": 7}).raise_for_status()
        assert len(http.post("/api/v1/events/search", json={"groups": ["/grow"]}).json()["events"]) == 1
