"""Real HTTP servers for framework tests: uvicorn for ASGI apps, a thread-pool WSGI server."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer

import uvicorn


def _wait_port(port: int, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.02)


@contextmanager
def serve_asgi(app: Any, **config: Any) -> Iterator[str]:
    """Run ``app`` on a real uvicorn server in a thread (access log off); yields its URL."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    config.setdefault("log_level", "warning")
    config.setdefault("access_log", False)
    config.setdefault("lifespan", "on")
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, **config))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    _wait_port(port)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(30)


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


class PoolWSGIServer(WSGIServer):
    """wsgiref's server handing each connection to a fixed thread pool (like gunicorn gthread)."""

    def __init__(self, address: tuple[str, int], threads: int) -> None:
        super().__init__(address, _QuietHandler)
        self.pool = ThreadPoolExecutor(threads, thread_name_prefix="wsgi")

    def process_request(self, request: Any, client_address: Any) -> None:
        self.pool.submit(self._work, request, client_address)

    def _work(self, request: Any, client_address: Any) -> None:
        try:
            self.finish_request(request, client_address)
        except Exception:
            self.handle_error(request, client_address)
        finally:
            self.shutdown_request(request)


@contextmanager
def serve_wsgi(app: Any, threads: int = 8) -> Iterator[str]:
    """Run a WSGI ``app`` on a real HTTP server with a ``threads``-thread pool; yields its URL."""
    server = PoolWSGIServer(("127.0.0.1", 0), threads)
    server.set_app(app)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        server.pool.shutdown(wait=True)
        thread.join(10)
