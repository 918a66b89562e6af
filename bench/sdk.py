"""Caller-side cost of a logging call: logpond's SDK beside structlog + orjson and python-json-logger.

Everything runs in one process, in one run, on the same record: an INFO call with 5 fields
while 2 context values are bound (trace_id, tenant_id). Each figure is the median over
``--repeat`` rounds of the mean cost per call in a round of ``--calls`` calls, in µs.

    python bench/sdk.py [--calls 20000] [--repeat 7] [--json results.json]

Rows:

- below level: a DEBUG call when the level is INFO (target ≤ 0.5 µs);
- INFO to a null stream: each library formatting JSON onto a stream that discards it;
- INFO into the shipping queue: logpond's native logger and stdlib ``logging`` feeding the
  shipper (a transport that accepts at once), with and without redaction (targets: stdlib
  ≤ 15 µs without redaction, ≤ 20 µs with it; native ≤ 12 µs with it);
- context O(1): the native call with 50 unrelated ContextVars set (target: < 0.5 µs more);
- redaction worst case: a 16 KiB adversarial string field (target: ≤ 1 ms more);
- endpoint healthy / answering after 300 ms / down: the native call shipping to a real local
  HTTP server in another process (target: slow and down at most 2x healthy).
"""

from __future__ import annotations

import argparse
import contextvars
import gc
import io
import json
import logging
import os
import socket
import statistics
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import orjson
import structlog
from pythonjsonlogger.json import JsonFormatter

import logpond.sdk as lp
from logpond.sdk import _runtime
from logpond.sdk._shipper import Response

FIELDS: dict[str, Any] = {
    "method": "POST",
    "path": "/api/v1/test-cases",
    "status": 201,
    "duration_ms": 145.2,
    "user_agent": "Mozilla/5.0",
}
CONTEXT = {"trace_id": "4bf92f3577b34da6a3ce929d0e0e4736", "tenant_id": "tenant_acme"}
ADVERSARIAL = ("a1B2" * 2048) + ("0123456789" * 410)[:8192]  # 16 KiB: alnum run, digit run


class NullStream(io.TextIOBase):
    """A text stream that discards what it is given."""

    def write(self, text: str) -> int:
        return len(text)

    def flush(self) -> None:
        pass


class AcceptingTransport:
    """Accepts every batch at once: measures the caller's side of shipping only."""

    def send(self, path: str, body: bytes, headers: Mapping[str, str]) -> Response:
        return Response(200, {}, b"{}")

    def close(self) -> None:
        pass


def per_call(fn: Callable[[], None], calls: int, repeat: int) -> float:
    """Median over ``repeat`` rounds of the mean µs per call."""
    for _ in range(min(calls, 2000)):
        fn()
    rounds = []
    for _ in range(repeat):
        gc.collect()
        start = time.perf_counter()
        for _ in range(calls):
            fn()
        rounds.append((time.perf_counter() - start) / calls * 1e6)
    return statistics.median(rounds)


@contextmanager
def bound_context() -> Iterator[None]:
    with lp.context_scope(**CONTEXT):
        structlog.contextvars.bind_contextvars(**CONTEXT)
        try:
            yield
        finally:
            structlog.contextvars.clear_contextvars()


def reset_logging() -> None:
    _runtime._reset_for_tests()
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    root.setLevel(logging.WARNING)


# --- peers ------------------------------------------------------------------------------------


def structlog_logger(stream: Any) -> Any:
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.JSONRenderer(serializer=orjson.dumps),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.INFO),
        logger_factory=structlog.BytesLoggerFactory(stream),
        cache_logger_on_first_use=True,
    )
    return structlog.get_logger("bench")


class ContextFilter(logging.Filter):
    """How python-json-logger users add context: a filter copying it onto the record."""

    def filter(self, record: logging.LogRecord) -> bool:
        for key, value in lp.get_context().items():
            setattr(record, key, value)
        return True


def json_logger_logger(stream: Any) -> logging.Logger:
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    handler.addFilter(ContextFilter())
    logger = logging.getLogger("bench.jsonlogger")
    logger.handlers = [handler]
    logger.propagate = False
    logger.setLevel(logging.INFO)
    return logger


# --- the endpoint scenarios -------------------------------------------------------------------

SERVER = textwrap.dedent(
    """
    import sys, time
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
    DELAY = float(sys.argv[2])
    class H(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        def do_POST(self):
            self.rfile.read(int(self.headers.get("content-length", "0")))
            time.sleep(DELAY)
            body = b'{"accepted": 0, "rejected": []}'
            self.send_response(200)
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        def log_message(self, *args):
            pass
    ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
    """
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def http_server(delay: float) -> Iterator[str]:
    port = free_port()
    with subprocess.Popen([sys.executable, "-c", SERVER, str(port), str(delay)]) as process:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        try:
            yield f"http://127.0.0.1:{port}"
        finally:
            process.terminate()


def endpoint_cost(url: str, calls: int, repeat: int) -> float:
    reset_logging()
    lp.init("bench", "bench", endpoint=url, api_key="K:S", redaction=False, capture_stdlib=False)
    log = lp.get_logger("bench")
    with bound_context():
        cost = per_call(lambda: log.info("HTTP Request", **FIELDS), calls, repeat)
    lp.shutdown(0.5)
    return cost


# --- the run ----------------------------------------------------------------------------------


def run(calls: int, repeat: int) -> dict[str, float]:
    results: dict[str, float] = {}
    out = sys.stdout  # stdout itself is swapped for a null stream in one scenario
    null = NullStream()
    null_bytes = open(os.devnull, "wb")  # noqa: SIM115 - closed at the end of the run

    def measure(name: str, fn: Callable[[], None]) -> None:
        results[name] = per_call(fn, calls, repeat)
        print(f"  {name:<58} {results[name]:8.2f} µs", file=out, flush=True)

    # below level
    reset_logging()
    lp.init("bench", "bench", output=(), level="INFO")
    native = lp.get_logger("bench")
    stdlib = logging.getLogger("bench.stdlib")
    slog = structlog_logger(null_bytes)
    jlog = json_logger_logger(null)
    print("below the level (DEBUG call, level INFO)")
    with bound_context():
        measure("logpond native", lambda: native.debug("HTTP Request", **FIELDS))
        measure("logpond via stdlib logging", lambda: stdlib.debug("HTTP Request", extra=FIELDS))
        measure("structlog (filtering bound logger)", lambda: slog.debug("HTTP Request", **FIELDS))
        measure("python-json-logger", lambda: jlog.debug("HTTP Request", extra=FIELDS))

    print("INFO, 5 fields, 2 context values, JSON to a null stream")
    for redaction in (False, True):
        reset_logging()
        lp.init("bench", "bench", output="stdout", redaction=redaction)
        sys.stdout, real = null, sys.stdout
        try:
            with bound_context():
                label = "redaction on" if redaction else "redaction off"
                measure(f"logpond native, {label}", lambda: native.info("HTTP Request", **FIELDS))
                measure(
                    f"logpond via stdlib logging, {label}",
                    lambda: stdlib.info("HTTP Request", extra=FIELDS),
                )
        finally:
            sys.stdout = real
    with bound_context():
        measure("structlog + orjson", lambda: slog.info("HTTP Request", **FIELDS))
        measure("python-json-logger (stdlib)", lambda: jlog.info("HTTP Request", extra=FIELDS))

    print("INFO into the shipping queue (no network on the caller's thread)")
    for redaction in (False, True):
        reset_logging()
        _runtime.init("bench", "bench", endpoint="http://127.0.0.1:9", transport=AcceptingTransport(),
                      redaction=redaction)  # fmt: skip
        label = "redaction on" if redaction else "redaction off"
        with bound_context():
            measure(f"logpond native -> queue, {label}", lambda: native.info("HTTP Request", **FIELDS))
            measure(
                f"logpond via stdlib -> queue, {label}",
                lambda: stdlib.info("HTTP Request", extra=FIELDS),
            )
        if redaction:
            extra: dict[str, contextvars.ContextVar[int]] = {
                f"unrelated_{i}": contextvars.ContextVar(f"unrelated_{i}") for i in range(50)
            }
            tokens = [(var, var.set(i)) for i, var in enumerate(extra.values())]
            with bound_context():
                measure(
                    "logpond native -> queue, +50 unrelated ContextVars",
                    lambda: native.info("HTTP Request", **FIELDS),
                )
            for var, token in reversed(tokens):
                var.reset(token)
            with bound_context():
                measure(
                    "logpond native -> queue, 16 KiB adversarial field",
                    lambda: native.info("HTTP Request", blob=ADVERSARIAL, **FIELDS),
                )
        lp.shutdown(1)

    print("INFO shipped to a local HTTP server (another process)")
    with http_server(0.0) as url:
        results["endpoint healthy"] = endpoint_cost(url, calls, repeat)
    with http_server(0.3) as url:
        results["endpoint answering after 300 ms"] = endpoint_cost(url, calls, repeat)
    results["endpoint down (connection refused)"] = endpoint_cost(
        f"http://127.0.0.1:{free_port()}", calls, repeat
    )
    for name in ("endpoint healthy", "endpoint answering after 300 ms",
                 "endpoint down (connection refused)"):  # fmt: skip
        print(f"  {name:<58} {results[name]:8.2f} µs")
    null_bytes.close()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args()
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cpus, {args.calls} calls x {args.repeat}")
    results = run(args.calls, args.repeat)
    queue_on = results["logpond native -> queue, redaction on"]
    print("\nderived")
    context = results["logpond native -> queue, +50 unrelated ContextVars"] - queue_on
    adversarial = results["logpond native -> queue, 16 KiB adversarial field"] - queue_on
    print(f"  context O(1): +{context:.2f} µs")
    print(f"  16 KiB adversarial field: +{adversarial:.1f} µs")
    healthy = results["endpoint healthy"]
    for name in ("endpoint answering after 300 ms", "endpoint down (connection refused)"):
        print(f"  {name} / healthy: {results[name] / healthy:.2f}x")
    if args.json:
        with open(args.json, "w") as out:
            json.dump(results, out, indent=2)


if __name__ == "__main__":
    main()
