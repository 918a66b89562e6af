"""Durability: acknowledged events survive kill -9; SIGTERM commits what is in flight."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import httpx
import orjson
import pytest

from ..conftest import LiveServer, restart, start_server

CLIENTS = 40


def _all_messages(server: LiveServer, group: str) -> list[str]:
    messages: list[str] = []
    cursor = None
    with server.client() as http:
        while True:
            spec = {
                "groups": [group],
                "limit": 10_000,
                "order": "asc",
                **({"cursor": cursor} if cursor else {}),
            }
            page = http.post("/api/v1/events/search", json=spec).json()
            messages.extend(e["message"] for e in page["events"])
            cursor = page["next_cursor"]
            if not cursor:
                return messages


@pytest.mark.slow
def test_kill_9_loses_no_acknowledged_event(tmp_path: Path) -> None:
    """40 concurrent clients ingest; kill -9; after restart every acknowledged event is there once."""
    server = start_server(tmp_path / "data")
    group = "/crash/test"
    with server.client() as http:
        http.post("/api/v1/groups", json={"name": group}).raise_for_status()
    acknowledged: list[list[str]] = [[] for _ in range(CLIENTS)]
    stop = threading.Event()

    def client(number: int) -> None:
        with server.client() as http:
            batch = 0
            while not stop.is_set():
                messages = [f"c{number}-b{batch}-e{i}" for i in range(20)]
                body = b"\n".join(orjson.dumps({"message": m}) for m in messages)
                try:
                    response = http.post(
                        "/api/v1/ingest",
                        params={"group": group, "stream": f"c{number}"},
                        content=body,
                        timeout=10,
                    )
                except httpx.HTTPError:
                    return
                if response.status_code == 200 and response.json()["accepted"] == 20:
                    acknowledged[number].extend(messages)
                batch += 1

    threads = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 30
    while sum(map(len, acknowledged)) < 20_000 and time.monotonic() < deadline:
        time.sleep(0.05)
    server.kill()
    stop.set()
    for thread in threads:
        thread.join(30)
    acked = [m for per_client in acknowledged for m in per_client]
    assert len(acked) >= 5_000, "the clients did not get far enough to make the test meaningful"

    revived = restart(server)
    try:
        stored = _all_messages(revived, group)
        assert len(stored) == len(set(stored)), "an event was stored twice"
        missing = set(acked) - set(stored)
        assert not missing, f"{len(missing)} acknowledged events lost, e.g. {sorted(missing)[:3]}"
        with revived.client() as http:
            streams = http.get("/api/v1/streams", params={"group": group, "limit": 100}).json()["streams"]
        assert len(streams) == CLIENTS
        assert all(s["last_ingestion"] is not None for s in streams)
    finally:
        revived.terminate()


@pytest.mark.slow
def test_sigterm_commits_in_flight_requests_and_closes_cleanly(tmp_path: Path) -> None:
    """On SIGTERM the server finishes the requests it accepted, checkpoints and exits."""
    server = start_server(tmp_path / "data")
    group = "/sigterm/test"
    results: list[int] = []
    body = b"\n".join(orjson.dumps({"message": f"m{i}"}) for i in range(20_000))

    def send() -> None:
        # A request that reaches a server already shutting down is refused (503) or never
        # connects; only answered requests count, and each must be whole.
        with server.client() as http:
            try:
                response = http.post("/api/v1/ingest", params={"group": group}, content=body)
            except httpx.HTTPError:
                return
            if response.status_code == 200:
                results.append(response.json()["accepted"])

    threads = [threading.Thread(target=send) for _ in range(4)]
    for thread in threads:
        thread.start()
    time.sleep(0.3)
    # uvicorn re-raises the signal after its graceful shutdown, as a process should.
    assert server.terminate() in (0, -15)
    for thread in threads:
        thread.join(30)
    assert "Application shutdown complete" in server.log()
    wal = server.data_dir / "logpond.duckdb.wal"
    assert not wal.exists() or wal.stat().st_size == 0, "shutdown left a write-ahead log behind"
    revived = restart(server)
    try:
        assert len(_all_messages(revived, group)) == sum(results) * 1
        assert sum(results) == 20_000 * len(results)
    finally:
        revived.terminate()
