"""What the benchmarks share: a real logpond server in a subprocess, a lean HTTP/1.1
load client, RSS sampling and percentiles."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psutil

ACCESS_KEY_ID = "LPBENCHROOTKEY000001"
SECRET = "bench-secret-not-for-production-use-0001"
AUTH = f"Bearer {ACCESS_KEY_ID}:{SECRET}"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    """A ``logpond serve`` process."""

    process: subprocess.Popen[bytes]
    url: str
    port: int
    data_dir: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, headers={"authorization": AUTH}, timeout=120)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(120)


@contextlib.contextmanager
def run_server(data_dir: Path, *extra_args: str, env: dict[str, str] | None = None) -> Iterator[Server]:
    """Start logpond on a free port, wait until /healthz answers, stop it on exit."""
    port = free_port()
    environ = {
        **os.environ,
        "LOGPOND_ROOT_ACCESS_KEY_ID": ACCESS_KEY_ID,
        "LOGPOND_ROOT_SECRET_ACCESS_KEY": SECRET,
        **(env or {}),
    }
    log = open(data_dir.parent / f"{data_dir.name}.server.log", "wb")  # noqa: SIM115
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
            *extra_args,
        ],
        env=environ,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    server = Server(process, f"http://127.0.0.1:{port}", port, data_dir)
    deadline = time.monotonic() + 60
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"server exited early; see {log.name}")
        try:
            if httpx.get(f"{server.url}/healthz", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError("server did not become healthy")
        time.sleep(0.1)
    try:
        yield server
    finally:
        server.stop()
        log.close()


class RssSampler:
    """Samples a process's resident set size every 50 ms; ``peak`` in bytes."""

    def __init__(self, pid: int) -> None:
        self._process = psutil.Process(pid)
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            with contextlib.suppress(psutil.Error):
                self.peak = max(self.peak, self._process.memory_info().rss)
            self._stop.wait(0.05)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def percentile(values: Sequence[float], pct: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


@dataclass
class LoadResult:
    seconds: float
    latencies: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    accepted: int = 0


async def _one_connection(
    port: int, requests: Iterable[bytes], result: LoadResult, lock: asyncio.Lock
) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port, limit=1 << 22)
    try:
        for request in requests:
            started = time.perf_counter()
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head[9:12])
            length = 0
            for line in head.split(b"\r\n"):
                if line[:15].lower() == b"content-length:":
                    length = int(line[15:])
            body = await reader.readexactly(length)
            result.latencies.append(time.perf_counter() - started)
            result.statuses[status] = result.statuses.get(status, 0) + 1
            if status == 200:
                marker = body.find(b'"accepted":')
                if marker >= 0:
                    end = body.find(b",", marker)
                    result.accepted += int(body[marker + 11 : end])
    finally:
        writer.close()


def post_request(port: int, path: str, body: bytes, content_type: str = "application/x-ndjson") -> bytes:
    """A raw HTTP/1.1 keep-alive POST, built once and replayed."""
    return (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAuthorization: {AUTH}\r\n"
        f"Content-Type: {content_type}\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode() + body


def run_load(port: int, requests: list[bytes], connections: int) -> LoadResult:
    """Send ``requests`` over ``connections`` keep-alive connections, as fast as answered."""
    shares = [requests[i::connections] for i in range(connections)]
    result = LoadResult(0.0)

    async def main() -> None:
        lock = asyncio.Lock()
        await asyncio.gather(*(_one_connection(port, s, result, lock) for s in shares if s))

    started = time.perf_counter()
    asyncio.run(main())
    result.seconds = time.perf_counter() - started
    return result


def stream_load(port: int, requests: Iterator[bytes], connections: int) -> LoadResult:
    """Like :func:`run_load`, for requests made as they are sent: every connection takes the
    next request from the one iterator (asyncio runs one task at a time, so they never race)."""
    result = LoadResult(0.0)

    async def main() -> None:
        lock = asyncio.Lock()
        await asyncio.gather(*(_one_connection(port, requests, result, lock) for _ in range(connections)))

    started = time.perf_counter()
    asyncio.run(main())
    result.seconds = time.perf_counter() - started
    return result


def dir_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
