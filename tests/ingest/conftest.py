"""A logpond server with every shipper surface on: HTTP, forward and syslog listeners."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from ..conftest import LiveServer, free_port, start_server


@dataclass
class ShipperServer:
    """A running server and its listener ports."""

    server: LiveServer
    forward_port: int
    syslog_port: int

    @property
    def url(self) -> str:
        return self.server.url


def start_shipper_server(data_dir: Any, *args: str, env: dict[str, str] | None = None) -> ShipperServer:
    forward, syslog = free_port(), free_port()
    server = start_server(
        data_dir, "--forward-port", str(forward), "--syslog-port", str(syslog), *args, env=env
    )
    return ShipperServer(server, forward, syslog)


@pytest.fixture(scope="session")
def shipper_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ShipperServer]:
    """One server for the ingest tests; each test writes its own groups."""
    shipper = start_shipper_server(tmp_path_factory.mktemp("shippers") / "data")
    yield shipper
    if shipper.server.process and shipper.server.process.poll() is None:
        shipper.server.terminate()


def search(server: LiveServer, group: str, *, want: int = 1, timeout: float = 10) -> list[dict[str, Any]]:
    """The events of a group, oldest first, waiting until at least ``want`` are there."""
    deadline = time.monotonic() + timeout
    with server.client() as http:
        while True:
            response = http.post("/api/v1/events/search", json={"groups": [group], "limit": 1000, "start": 0})
            if response.status_code == 200:
                events: list[dict[str, Any]] = response.json()["events"]
                if len(events) >= want or time.monotonic() > deadline:
                    return events[::-1]
            elif response.status_code != 404 or time.monotonic() > deadline:
                raise AssertionError(response.text)
            time.sleep(0.1)


def insights(server: LiveServer, query: str, groups: list[str]) -> list[dict[str, str]]:
    """The records of a Logs Insights query over all time."""
    with server.client() as http:
        started = http.post("/api/v1/queries", json={"query": query, "groups": groups, "start": 0})
        assert started.status_code == 202, started.text
        query_id = started.json()["query_id"]
        deadline = time.monotonic() + 30
        while True:
            body = http.get(f"/api/v1/queries/{query_id}").json()
            if body["status"] not in ("Scheduled", "Running"):
                assert body["status"] == "Complete", body
                records: list[dict[str, str]] = body["records"]
                return records
            assert time.monotonic() < deadline
            time.sleep(0.1)


def healthy(server: LiveServer) -> bool:
    with server.anonymous() as http:
        return http.get("/healthz").status_code == 200
