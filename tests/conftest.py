"""Fixtures that start real logpond servers on 127.0.0.1.

``logpond_server`` (one per test session) and ``fresh_server`` (one per test) run the
``logpond serve`` command in a subprocess with a known root key. ``clocked_server`` runs the
application in a uvicorn thread with a clock the test moves (retention, expiry).
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from logpond.model.clock import ManualClock
from logpond.server.app import create_app
from logpond.server.settings import load_settings

ROOT_KEY_ID = "LPTESTROOTKEY0000001"
ROOT_SECRET = "test-root-secret-0123456789abcdefghijkl"
ROOT_AUTH = f"Bearer {ROOT_KEY_ID}:{ROOT_SECRET}"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class LiveServer:
    """A running logpond server and how to reach it."""

    url: str
    port: int
    data_dir: Path
    access_key_id: str = ROOT_KEY_ID
    secret_access_key: str = ROOT_SECRET
    process: subprocess.Popen[bytes] | None = None
    args: tuple[str, ...] = ()
    env: dict[str, str] = field(default_factory=dict)
    log_path: Path | None = None

    @property
    def auth_header(self) -> str:
        return f"Bearer {self.access_key_id}:{self.secret_access_key}"

    def client(
        self, access_key_id: str | None = None, secret: str | None = None, **kwargs: Any
    ) -> httpx.Client:
        """An httpx client with the root key (or the given one)."""
        key = access_key_id or self.access_key_id
        value = secret or self.secret_access_key
        return httpx.Client(
            base_url=self.url,
            headers={"authorization": f"Bearer {key}:{value}"},
            timeout=60,
            **kwargs,
        )

    def anonymous(self, **kwargs: Any) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=60, **kwargs)

    def cli_env(self) -> dict[str, str]:
        """Environment for running ``logpond`` client commands against this server."""
        return {
            **os.environ,
            "LOGPOND_URL": self.url,
            "LOGPOND_ACCESS_KEY_ID": self.access_key_id,
            "LOGPOND_SECRET_ACCESS_KEY": self.secret_access_key,
        }

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path else ""

    def terminate(self, timeout: float = 60) -> int:
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout)

    def kill(self) -> None:
        assert self.process is not None
        self.process.kill()
        self.process.wait(30)


def wait_healthy(
    url: str, process: subprocess.Popen[Any] | None = None, timeout: float = 60, **kwargs: Any
) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{url}/healthz", timeout=2, **kwargs).status_code == 200:
                return
        if time.monotonic() > deadline:
            raise RuntimeError("server did not become healthy")
        time.sleep(0.05)


def start_server(
    data_dir: Path,
    *args: str,
    env: dict[str, str] | None = None,
    root: bool = True,
    scheme: str = "http",
    verify: Any = True,
) -> LiveServer:
    """Run ``logpond serve`` on a free port and wait until it is healthy."""
    port = free_port()
    environ = {k: v for k, v in os.environ.items() if not k.startswith("LOGPOND_")}
    if root:
        environ["LOGPOND_ROOT_ACCESS_KEY_ID"] = ROOT_KEY_ID
        environ["LOGPOND_ROOT_SECRET_ACCESS_KEY"] = ROOT_SECRET
    environ.update(env or {})
    log_path = data_dir.parent / f"{data_dir.name}-{port}.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "logpond",
                "serve",
                "--data-dir",
                str(data_dir),
                "--port",
                str(port),
                *args,
            ],
            env=environ,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    server = LiveServer(
        f"{scheme}://127.0.0.1:{port}",
        port,
        data_dir,
        process=process,
        args=args,
        env=env or {},
        log_path=log_path,
    )
    try:
        wait_healthy(server.url, process, verify=verify)
    except RuntimeError:
        process.kill()
        process.wait()
        raise RuntimeError(f"logpond did not start:\n{server.log()}") from None
    return server


def restart(server: LiveServer) -> LiveServer:
    """Start a server again on the same data directory (a new port)."""
    return start_server(server.data_dir, *server.args, env=server.env)


@pytest.fixture(scope="session")
def logpond_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """One server for the session; tests use their own group names."""
    server = start_server(tmp_path_factory.mktemp("shared") / "data")
    yield server
    if server.process and server.process.poll() is None:
        server.terminate()


@pytest.fixture
def fresh_server(tmp_path: Path) -> Iterator[LiveServer]:
    """A server of its own, on an empty data directory."""
    server = start_server(tmp_path / "data")
    yield server
    if server.process and server.process.poll() is None:
        server.kill()


@dataclass
class ClockedServer:
    server: LiveServer
    clock: ManualClock
    app: Any


@pytest.fixture
def clocked_server(tmp_path: Path) -> Iterator[ClockedServer]:
    """The application on a real uvicorn server in a thread, with a clock the test moves."""
    clock = ManualClock(int(time.time() * 1000))
    settings = load_settings(
        None,
        environ={"LOGPOND_ROOT_ACCESS_KEY_ID": ROOT_KEY_ID, "LOGPOND_ROOT_SECRET_ACCESS_KEY": ROOT_SECRET},
        overrides={"server.data_dir": tmp_path / "data"},
    )
    app = create_app(settings, clock=clock)
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    uv = uvicorn.Server(config)
    thread = threading.Thread(target=uv.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    wait_healthy(url)
    yield ClockedServer(LiveServer(url, port, tmp_path / "data"), clock, app)
    uv.should_exit = True
    thread.join(30)


def unique_group(prefix: str = "/test") -> str:
    """A group name no other test uses."""
    return f"{prefix}/{os.urandom(6).hex()}"


def ndjson(*records: dict[str, Any]) -> bytes:
    import orjson  # noqa: PLC0415

    return b"\n".join(orjson.dumps(r) for r in records) + b"\n"
