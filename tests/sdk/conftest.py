"""Fixtures for the SDK tests: a clean SDK per test, local HTTP servers, a real Redis.

Every test starts with the SDK unconfigured and ends by resetting it; an internal error the
SDK swallowed fails the test unless the test allowed that kind (``sdk_errors.allow``).
"""

from __future__ import annotations

import gzip
import json
import logging
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from logpond.sdk import _diagnostics, _runtime
from logpond.sdk.testing import CapturedRecords, InternalErrors, capture_records, internal_errors


@pytest.fixture(autouse=True)
def sdk_errors() -> Iterator[InternalErrors]:
    """The SDK's swallowed errors during the test; unexpected ones fail it."""
    _diagnostics._reset()
    root = logging.getLogger()
    level = root.level
    with internal_errors() as errors:
        try:
            yield errors
        finally:
            _runtime._reset_for_tests()
            root.setLevel(level)
    unexpected = errors.unexpected()
    assert not unexpected, f"the SDK swallowed errors: {unexpected!r}"


@pytest.fixture
def records() -> Iterator[CapturedRecords]:
    """Every record written during the test, as the outputs received it."""
    with capture_records() as captured:
        yield captured


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# --- a scripted HTTP server for the shipper's failure modes ----------------------------------


@dataclass
class Reply:
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b'{"accepted": 0, "rejected": []}'
    delay: float = 0.0


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    raw: bytes
    status: int

    @property
    def lines(self) -> list[dict[str, Any]]:
        data = self.raw
        if self.headers.get("content-encoding") == "gzip":
            data = gzip.decompress(data)
        return [json.loads(line) for line in data.split(b"\n") if line]


class ScriptedServer:
    """A local HTTP server answering each POST with the next scripted reply (then ``default``)."""

    def __init__(self) -> None:
        self.replies: list[Reply] = []
        self.default = Reply()
        self.received: list[Received] = []
        self.lock = threading.Lock()
        self.arrived = threading.Condition(self.lock)
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length", "0"))
                raw = self.rfile.read(length)
                with server.lock:
                    reply = server.replies.pop(0) if server.replies else server.default
                if reply.delay:
                    time.sleep(reply.delay)
                with server.lock:
                    server.received.append(
                        Received(
                            self.path,
                            {k.lower(): v for k, v in self.headers.items()},
                            raw,
                            reply.status,
                        )
                    )
                    server.arrived.notify_all()
                self.send_response(reply.status)
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.send_header("content-length", str(len(reply.body)))
                self.end_headers()
                self.wfile.write(reply.body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def lines(self) -> list[dict[str, Any]]:
        """The records of every request that was answered with a 2xx."""
        with self.lock:
            received = list(self.received)
        return [line for r in received if 200 <= r.status < 300 for line in r.lines]

    def wait_for(self, count: int, timeout: float = 10.0) -> list[Received]:
        """Wait until ``count`` requests arrived; returns them."""
        deadline = time.monotonic() + timeout
        with self.arrived:
            while len(self.received) < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"{len(self.received)} requests arrived, wanted {count}")
                self.arrived.wait(remaining)
            return list(self.received)

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def scripted() -> Iterator[ScriptedServer]:
    """A local HTTP server whose answers the test scripts (413, 503, slow…)."""
    server = ScriptedServer()
    yield server
    server.close()


# --- an echo server for outbound propagation -------------------------------------------------


class EchoServer:
    """Records the headers of every request and answers them as JSON."""

    def __init__(self) -> None:
        self.seen: list[dict[str, str]] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _answer(self) -> None:
                length = int(self.headers.get("content-length", "0") or 0)
                if length:
                    self.rfile.read(length)
                headers = {k.lower(): v for k, v in self.headers.items()}
                server.seen.append(headers)
                body = json.dumps(headers).encode()
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = _answer
            do_POST = _answer

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def echo() -> Iterator[EchoServer]:
    server = EchoServer()
    yield server
    server.close()


# --- Redis -------------------------------------------------------------------------------------


@dataclass
class RedisServer:
    url: str
    port: int
    process: subprocess.Popen[bytes]


def start_redis(directory: Path) -> RedisServer:
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed (apt-get install redis-server)")
    port = free_port()
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", str(directory), "--daemonize", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 20
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
                sock.sendall(b"PING\r\n")
                if sock.recv(16).startswith(b"+PONG"):
                    break
        except OSError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise RuntimeError("redis-server did not start")
        time.sleep(0.05)
    return RedisServer(f"redis://127.0.0.1:{port}/0", port, process)


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """A real Redis on a free 127.0.0.1 port for the session (skipped without redis-server)."""
    server = start_redis(tmp_path_factory.mktemp("redis"))
    yield server
    server.process.terminate()
    server.process.wait(10)


@pytest.fixture
def redis_url(redis_server: RedisServer) -> Iterator[str]:
    """The Redis URL, emptied after the test."""
    yield redis_server.url
    with socket.create_connection(("127.0.0.1", redis_server.port), timeout=5) as sock:
        sock.sendall(b"FLUSHALL\r\n")
        sock.recv(16)
