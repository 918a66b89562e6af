"""Real parts for the alerting tests: a logpond app on uvicorn with a clock the test moves,
an HTTP receiver standing in for Slack and webhooks, and an SMTP server (aiosmtpd)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import orjson
import pytest
import uvicorn
import yaml
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from logpond.model.clock import ManualClock
from logpond.server.app import create_app
from logpond.server.services import Services
from logpond.server.settings import load_settings

from ..conftest import ROOT_KEY_ID, ROOT_SECRET, LiveServer, free_port, ndjson, wait_healthy

MINUTE = 60_000


@dataclass
class Received:
    """One request the receiver got."""

    path: str
    headers: dict[str, str]
    body: bytes
    at: float  # time.monotonic()

    def json(self) -> Any:
        return orjson.loads(self.body)


class Receiver:
    """A local HTTP server that records every POST and answers with ``status``."""

    def __init__(self) -> None:
        self.requests: list[Received] = []
        self.status = 200
        self._lock = threading.Lock()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length)
                with owner._lock:
                    owner.requests.append(
                        Received(
                            self.path, {k.lower(): v for k, v in self.headers.items()}, body, time.monotonic()
                        )
                    )
                    status = owner.status
                self.send_response(status)
                self.send_header("content-type", "text/plain")
                self.end_headers()
                self.wfile.write(b"ok" if status == 200 else b"no")

            def log_message(self, format: str, *args: Any) -> None:
                return None

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def received(self, path: str | None = None) -> list[Received]:
        with self._lock:
            return [r for r in self.requests if path is None or r.path == path]

    def wait_for(self, count: int, path: str | None = None, timeout: float = 15.0) -> list[Received]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.received(path)
            if len(found) >= count:
                return found
            time.sleep(0.05)
        return self.received(path)

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


class _Sink:
    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.content if isinstance(envelope.content, bytes) else str(envelope.content).encode()
        self.messages.append(message_from_bytes(content))
        return "250 OK"


class SmtpServer:
    """aiosmtpd on a free local port, keeping every message."""

    def __init__(self) -> None:
        self._sink = _Sink()
        self.port = free_port()
        self._controller = Controller(self._sink, hostname="127.0.0.1", port=self.port)
        self._controller.start()

    @property
    def messages(self) -> list[Message]:
        return list(self._sink.messages)

    def wait_for(self, count: int, timeout: float = 15.0) -> list[Message]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and len(self._sink.messages) < count:
            time.sleep(0.05)
        return self.messages

    def close(self) -> None:
        self._controller.stop()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    found = Receiver()
    yield found
    found.close()


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    found = SmtpServer()
    yield found
    found.close()


@dataclass
class AlertServer:
    """A running app, the clock it reads, and its parts."""

    server: LiveServer
    clock: ManualClock
    services: Services
    uv: uvicorn.Server
    thread: threading.Thread
    stopped: bool = False

    def client(self) -> Any:
        return self.server.client()

    def ingest(self, group: str, *records: dict[str, Any]) -> None:
        with self.server.client() as http:
            http.post("/api/v1/ingest", params={"group": group}, content=ndjson(*records)).raise_for_status()

    def move_to(self, ms: int) -> None:
        """Set the clock, then give the evaluator (it ticks twice a second) time to act."""
        self.clock.set(ms)
        evaluator = self.services.alerting.evaluator
        # Two completed ticks: the second one started after the clock moved.
        target = evaluator.ticks + 2
        deadline = time.monotonic() + 15
        while evaluator.ticks < target and time.monotonic() < deadline:
            time.sleep(0.05)

    def stop(self) -> None:
        if not self.stopped:
            self.uv.should_exit = True
            self.thread.join(30)
            self.stopped = True


@dataclass
class AlertServers:
    """Starts servers on a data directory (again, for restarts) and stops them all."""

    tmp_path: Path
    started: list[AlertServer] = field(default_factory=list)

    def start(
        self,
        config: dict[str, Any] | None = None,
        *,
        clock: ManualClock | None = None,
        data_dir: Path | None = None,
    ) -> AlertServer:
        settings_file = self.tmp_path / f"config-{len(self.started)}.yaml"
        settings_file.write_text(yaml.safe_dump(config or {}))
        data = data_dir or self.tmp_path / "data"
        settings = load_settings(
            settings_file,
            environ={
                "LOGPOND_ROOT_ACCESS_KEY_ID": ROOT_KEY_ID,
                "LOGPOND_ROOT_SECRET_ACCESS_KEY": ROOT_SECRET,
            },
            overrides={"server.data_dir": data},
        )
        clock = clock or ManualClock(first_minute() + 5_000)
        ready: list[Services] = []
        app = create_app(settings, clock=clock, on_ready=ready.append)
        port = free_port()
        uv = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
        )
        thread = threading.Thread(target=uv.run, daemon=True)
        thread.start()
        url = f"http://127.0.0.1:{port}"
        wait_healthy(url)
        found = AlertServer(LiveServer(url, port, data), clock, ready[0], uv, thread)
        self.started.append(found)
        return found

    def stop_all(self) -> None:
        for server in self.started:
            server.stop()


def first_minute() -> int:
    """The start of the current minute, as ms."""
    return int(time.time() * 1000) // MINUTE * MINUTE


@pytest.fixture
def alert_servers(tmp_path: Path) -> Iterator[AlertServers]:
    servers = AlertServers(tmp_path)
    yield servers
    servers.stop_all()


Factory = Callable[..., AlertServer]
