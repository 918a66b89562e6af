"""The shipping handler against a local HTTP server: batching, retries, drops, failure modes.

Shipping to a real logpond server is in ``test_real_server.py``; here a scripted server on
127.0.0.1 answers 413, 503, 401 or slowly, as the failure-mode tests need.
"""

from __future__ import annotations

import email.utils
import gzip
import json
import logging
import logging.config
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import psutil
import pytest

import logpond.sdk as lp
from logpond.sdk import _runtime
from logpond.sdk._shipper import Response, Shipper, ShipperSettings, _retry_after
from logpond.sdk.testing import InternalErrors

from .conftest import Reply, ScriptedServer, free_port


def ship_to(url: str, **settings: Any) -> None:
    settings.setdefault("flush_interval", 0.2)
    lp.init("svc", "test", endpoint=url, api_key="LPKEY:secret", log_group="/svc/test",
            log_stream="s1", **settings)  # fmt: skip


def shipper() -> Shipper:
    found = _runtime.current().shipper
    assert found is not None
    return found


def test_batches_are_gzipped_ndjson_posts_with_group_stream_and_key(scripted: ScriptedServer) -> None:
    """Records arrive in order as gzipped NDJSON at the ingest path with the bearer key."""
    ship_to(scripted.url)
    log = lp.get_logger("x")
    for i in range(5):
        log.info("record", i=i)
    assert lp.flush(5)
    (request,) = scripted.received
    assert request.path == "/api/v1/ingest?group=%2Fsvc%2Ftest&stream=s1"
    assert request.headers["content-type"] == "application/x-ndjson"
    assert request.headers["content-encoding"] == "gzip"
    assert request.headers["authorization"] == "Bearer LPKEY:secret"
    assert [line["i"] for line in request.lines] == [0, 1, 2, 3, 4]


def test_batches_close_at_the_record_limit(scripted: ScriptedServer) -> None:
    """No batch holds more than ``max_batch_records``; every record arrives once, in order."""
    ship_to(scripted.url, max_batch_records=100)
    for i in range(250):
        lp.get_logger("x").info("r", i=i)
    assert lp.flush(10)
    sizes = [len(r.lines) for r in scripted.received]
    assert max(sizes) <= 100
    assert [line["i"] for line in scripted.lines()] == list(range(250))


def test_batches_close_at_the_byte_limit(scripted: ScriptedServer) -> None:
    """No batch is larger than ``max_batch_bytes`` uncompressed."""
    ship_to(scripted.url, max_batch_bytes=10_000)
    for i in range(40):
        lp.get_logger("x").info("r", i=i, pad="p" * 1000)
    assert lp.flush(10)
    assert len(scripted.received) >= 4
    assert all(len(gzip.decompress(r.raw)) <= 10_000 for r in scripted.received)
    assert [line["i"] for line in scripted.lines()] == list(range(40))


def test_batches_close_after_the_flush_interval(scripted: ScriptedServer) -> None:
    """A lone record is sent once ``flush_interval`` passes, without any flush call."""
    ship_to(scripted.url, flush_interval=0.3)
    lp.get_logger("x").info("lonely")
    (request,) = scripted.wait_for(1, timeout=5)
    assert request.lines[0]["message"] == "lonely"


def test_a_413_halves_the_batch_until_it_fits(scripted: ScriptedServer) -> None:
    """A 413 splits the batch in two, recursively; every record still arrives."""
    scripted.replies = [Reply(413), Reply(413)]
    ship_to(scripted.url)
    for i in range(8):
        lp.get_logger("x").info("r", i=i)
    assert lp.flush(10)
    assert [len(r.lines) for r in scripted.received] == [8, 4, 2, 2, 4]
    assert [line["i"] for line in scripted.lines()] == list(range(8))


def test_a_single_record_still_too_large_is_dropped_as_oversize(
    scripted: ScriptedServer, sdk_errors: InternalErrors
) -> None:
    """A record the server refuses with 413 on its own is dropped and counted ``oversize``."""
    scripted.default = Reply(413)
    ship_to(scripted.url)
    lp.get_logger("x").info("too big")
    assert lp.flush(5)
    assert shipper().dropped["oversize"] == 1


def test_503_is_retried_after_retry_after_seconds(scripted: ScriptedServer) -> None:
    """A 503 with ``Retry-After: 1`` is retried about one second later and then delivered."""
    scripted.replies = [Reply(503, {"Retry-After": "1"})]
    ship_to(scripted.url)
    lp.get_logger("x").info("retry me")
    start = time.monotonic()
    assert lp.flush(10)
    assert time.monotonic() - start >= 0.9
    assert [r.status for r in scripted.received] == [503, 200]
    assert scripted.lines()[0]["message"] == "retry me"


def test_retry_after_reads_seconds_and_http_dates_capped_at_a_minute() -> None:
    """``Retry-After`` is read as seconds or as an HTTP date, and never more than 60 s."""

    def after(value: str) -> float | None:
        return _retry_after(Response(503, {"retry-after": value}, b""))

    assert after("3") == 3.0
    assert after("600") == 60.0
    date = email.utils.formatdate(time.time() + 5, usegmt=True)
    delay = after(date)
    assert delay is not None and 3 <= delay <= 6
    assert after("soon") is None


@pytest.mark.parametrize("status", [400, 401, 403])
def test_client_errors_drop_the_batch_without_retry(
    scripted: ScriptedServer, sdk_errors: InternalErrors, status: int, capfd: pytest.CaptureFixture[str]
) -> None:
    """400/401/403 drop the batch at once (``http_4xx``) with one stderr line."""
    sdk_errors.allow(f"http_{status}")
    scripted.default = Reply(status, body=b'{"error": "x"}')
    ship_to(scripted.url)
    for _ in range(3):
        lp.get_logger("x").info("r")
    assert lp.flush(5)
    lp.get_logger("x").info("r")
    assert lp.flush(5)
    assert len(scripted.received) == 2
    assert shipper().dropped["http_4xx"] == 4
    assert capfd.readouterr().err.count("logpond refused a batch") == 1


def test_retries_stop_when_the_budget_is_spent(sdk_errors: InternalErrors) -> None:
    """With the endpoint down, a batch is retried until its budget runs out, then dropped."""
    sdk_errors.allow("retries_exhausted")
    ship_to(f"http://127.0.0.1:{free_port()}", retry_budget=2.0)
    lp.get_logger("x").info("lost")
    start = time.monotonic()
    assert lp.flush(10)
    assert time.monotonic() - start < 5
    assert shipper().dropped["retries_exhausted"] == 1


def test_drops_are_reported_on_the_next_successful_send(scripted: ScriptedServer) -> None:
    """Records dropped while the queue was full are counted and reported in a ``logpond.sdk`` record."""
    scripted.replies = [Reply(200, delay=1.0)]
    ship_to(scripted.url, max_queue_records=10, max_batch_records=5)
    lp.get_logger("x").info("first")
    deadline = time.monotonic() + 5
    while shipper().queued()[0] and time.monotonic() < deadline:
        time.sleep(0.01)  # until the first batch is in flight, held by the server for 1 s
    for i in range(30):
        lp.get_logger("x").info("burst", i=i)
    assert lp.flush(10)
    assert lp.flush(10)
    report = [line for line in scripted.lines() if line["message"] == "records dropped"]
    assert report, scripted.lines()
    assert report[0]["logger"] == "logpond.sdk"
    assert report[0]["dropped"] == {"queue_full": 20}
    assert shipper().dropped["queue_full"] == 20


class BlockingTransport:
    """Holds every send until released (to fill the queue behind it)."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.bodies: list[bytes] = []

    def send(self, path: str, body: bytes, headers: Mapping[str, str]) -> Response:
        self.release.wait(10)
        self.bodies.append(gzip.decompress(body))
        return Response(200, {}, b"{}")

    def close(self) -> None:
        self.release.set()


def test_full_queue_evicts_the_oldest_record_below_warning() -> None:
    """When full, the oldest INFO is evicted for a new record; with only WARNING+ left, the new one drops."""
    transport = BlockingTransport()
    queue = Shipper(transport, "/g", "s", settings=ShipperSettings(max_queue_records=3, max_batch_records=1))
    queue.enqueue(b'{"n":"in-flight"}', logging.INFO)
    deadline = time.monotonic() + 5
    while queue.queued()[0] and time.monotonic() < deadline:
        time.sleep(0.01)
    for line, level in [(b'{"n":"i1"}', 20), (b'{"n":"e1"}', 40), (b'{"n":"i2"}', 20)]:
        assert queue.enqueue(line, level)
    assert queue.enqueue(b'{"n":"e2"}', logging.ERROR)  # evicts i1
    assert queue.enqueue(b'{"n":"e3"}', logging.ERROR)  # evicts i2
    assert not queue.enqueue(b'{"n":"i3"}', logging.INFO)  # nothing below WARNING left
    assert queue.dropped["queue_full"] == 3
    transport.release.set()
    assert queue.flush(5)
    bodies = [json.loads(b) for b in transport.bodies]
    assert [b["n"] for b in bodies if "n" in b] == ["in-flight", "e1", "e2", "e3"]
    assert [b["dropped"] for b in bodies if "dropped" in b] == [{"queue_full": 3}]
    queue.shutdown(1)


def test_endpoint_down_for_100k_records_keeps_memory_bounded(sdk_errors: InternalErrors) -> None:
    """With the endpoint down, 100,000 records leave memory bounded and every drop counted."""
    sdk_errors.allow("retries_exhausted", "shutdown")
    ship_to(f"http://127.0.0.1:{free_port()}", max_queue_records=10_000)
    process = psutil.Process()
    log = lp.get_logger("flood")
    for i in range(1_000):
        log.info("warm up", i=i, pad="x" * 100)
    before = process.memory_info().rss
    for i in range(100_000):
        log.info("flood", i=i, pad="x" * 100)
    growth = process.memory_info().rss - before
    queued, _ = shipper().queued()
    dropped = shipper().dropped["queue_full"]
    assert queued <= 10_000
    assert 0 <= 101_000 - dropped - queued <= 1_000  # the rest is the batch being retried
    assert growth < 40 * 1024 * 1024


def test_flush_returns_false_when_it_cannot_finish_in_time(sdk_errors: InternalErrors) -> None:
    """``flush`` with the endpoint down returns False after about its timeout."""
    sdk_errors.allow("retries_exhausted", "shutdown")
    ship_to(f"http://127.0.0.1:{free_port()}")
    lp.get_logger("x").info("stuck")
    start = time.monotonic()
    assert lp.flush(0.5) is False
    assert time.monotonic() - start < 2


def test_after_shutdown_records_are_counted_and_go_to_stderr(
    scripted: ScriptedServer, capfd: pytest.CaptureFixture[str]
) -> None:
    """After ``shutdown`` records are counted ``after_shutdown`` and written to stderr."""
    ship_to(scripted.url)
    lp.get_logger("x").info("before")
    assert lp.shutdown(5)
    lp.get_logger("x").info("after")
    assert shipper().dropped["after_shutdown"] == 1
    assert [line["message"] for line in scripted.lines()] == ["before"]
    err = capfd.readouterr().err
    assert json.loads(err.strip().splitlines()[-1])["message"] == "after"


def test_handler_flush_and_close_are_bounded_while_the_worker_is_blocked(
    scripted: ScriptedServer, sdk_errors: InternalErrors
) -> None:
    """The handler's ``flush()``/``close()`` return within ``flush_timeout`` while a send hangs."""
    sdk_errors.allow("shutdown")
    scripted.default = Reply(200, delay=3.0)
    ship_to(scripted.url, flush_timeout=0.5)
    lp.get_logger("x").info("slow")
    lp.flush(0.05)
    scripted.wait_for(0)
    handler = next(h for h in logging.getLogger().handlers if isinstance(h, lp.LogpondHandler))
    start = time.monotonic()
    handler.flush()
    handler.close()
    assert time.monotonic() - start < 1.5


def test_dict_config_during_an_in_flight_send_returns_quickly(
    scripted: ScriptedServer, sdk_errors: InternalErrors
) -> None:
    """``logging.config.dictConfig`` while a send is in flight returns within 5 s."""
    sdk_errors.allow("shutdown")
    scripted.default = Reply(200, delay=4.0)
    ship_to(scripted.url)
    lp.get_logger("x").info("in flight")
    lp.flush(0.3)
    start = time.monotonic()
    logging.config.dictConfig({"version": 1, "disable_existing_loggers": False})
    assert time.monotonic() - start < 5


class LoggingTransport:
    """A transport that logs on every call, as an instrumented HTTP client would."""

    def __init__(self) -> None:
        self.calls = 0
        self.lines: list[bytes] = []

    def send(self, path: str, body: bytes, headers: Mapping[str, str]) -> Response:
        self.calls += 1
        logging.getLogger("urllib3.connectionpool").warning("sending batch %d", self.calls)
        logging.getLogger("httpx").info("HTTP Request: POST")
        self.lines.extend(line for line in gzip.decompress(body).split(b"\n") if line)
        return Response(200, {}, b"{}")

    def close(self) -> None:
        pass


def test_an_exporter_that_logs_does_not_feed_itself(capfd: pytest.CaptureFixture[str]) -> None:
    """Records logged while exporting are never shipped (stderr at WARNING+), so shipping ends."""
    transport = LoggingTransport()
    _runtime.init("svc", "test", endpoint="http://127.0.0.1:9", transport=transport, flush_interval=0.1)
    for i in range(10):
        lp.get_logger("app").info("work", i=i)
    assert lp.flush(5)
    time.sleep(0.5)
    assert lp.flush(5)
    shipped = [json.loads(line)["logger"] for line in transport.lines]
    assert shipped == ["app"] * 10
    assert transport.calls <= 10
    err = capfd.readouterr().err
    assert "sending batch 1" in err
    assert "HTTP Request: POST" not in err


def test_records_of_the_sdk_logger_are_never_shipped(
    scripted: ScriptedServer, capfd: pytest.CaptureFixture[str]
) -> None:
    """``logpond.sdk`` records go to stderr (WARNING+) and never over HTTP."""
    ship_to(scripted.url)
    logging.getLogger("logpond.sdk").warning("internal trouble")
    logging.getLogger("logpond.sdk.shipper").info("chatter")
    lp.get_logger("app").info("normal")
    assert lp.flush(5)
    assert [line["message"] for line in scripted.lines()] == ["normal"]
    err = capfd.readouterr().err
    assert "internal trouble" in err
    assert "chatter" not in err


def test_a_reentrant_emit_is_dropped_not_deadlocked(records: Any) -> None:
    """Logging from inside the SDK's own emit (here: the veto) is dropped, and the call returns."""

    def veto(kind: str, text: str) -> bool:
        logging.getLogger("veto").warning("veto called for %s", kind)
        return False

    lp.init("svc", "test", output=(), redaction_veto=veto)
    lp.get_logger("x").info("mail a@b.co")
    assert [r["message"] for r in records.records] == ["mail a***@***.co"]
    assert _runtime.current().dropped["reentrant"] == 1


def test_slow_endpoint_never_makes_the_caller_wait(
    scripted: ScriptedServer, sdk_errors: InternalErrors
) -> None:
    """With each send taking a second, no logging call waits for the network."""
    sdk_errors.allow("shutdown")  # 20 s of sends are still queued when the test ends
    scripted.default = Reply(200, delay=1.0)
    ship_to(scripted.url, max_batch_records=100)
    log = lp.get_logger("x")
    slowest = 0.0
    start = time.monotonic()
    for i in range(2_000):
        t0 = time.perf_counter()
        log.info("r", i=i)
        slowest = max(slowest, time.perf_counter() - t0)
    assert time.monotonic() - start < 1.0  # shipping them takes 20 s
    assert slowest < 0.25


def test_spool_keeps_batches_the_server_could_not_take_and_replays_them(
    scripted: ScriptedServer, tmp_path: Path, sdk_errors: InternalErrors
) -> None:
    """With a spool, a batch out of retries is written to disk and replayed once sends succeed."""
    scripted.replies = [Reply(503, {"Retry-After": "0.2"})] * 3
    ship_to(scripted.url, retry_budget=0.5, spool_dir=str(tmp_path / "spool"))
    lp.get_logger("x").info("spooled")
    assert lp.flush(5)
    assert len(list((tmp_path / "spool").glob("*.ndjson"))) == 1
    lp.get_logger("x").info("later")
    assert lp.flush(5)
    deadline = time.monotonic() + 5
    while list((tmp_path / "spool").glob("*.ndjson")) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert sorted(line["message"] for line in scripted.lines()) == ["later", "spooled"]
    assert not list((tmp_path / "spool").glob("*.ndjson"))


def test_fork_without_the_hook_is_caught_by_the_pid_check() -> None:
    """An enqueue in a process whose pid changed starts over with an empty queue."""
    transport = BlockingTransport()
    queue = Shipper(transport, "/g", "s")
    queue.enqueue(b"{}", logging.INFO)
    queue.enqueue(b"{}", logging.INFO)
    queue._pid = -1  # as if forked without running the at-fork hook
    queue.enqueue(b'{"n":1}', logging.INFO)
    assert queue.queued() == (1, len(b'{"n":1}'))
    transport.release.set()
    queue.shutdown(2)


def test_a_half_full_queue_is_flushed_before_the_interval(scripted: ScriptedServer) -> None:
    """Passing half of ``max_queue_records`` sends a batch without waiting for the interval."""
    ship_to(scripted.url, max_queue_records=100, max_batch_records=100, flush_interval=30)
    for i in range(60):
        lp.get_logger("x").info("r", i=i)
    received = scripted.wait_for(1, timeout=5)
    assert len(received[0].lines) >= 50


def test_stdout_and_shipping_together(scripted: ScriptedServer, capfd: pytest.CaptureFixture[str]) -> None:
    """With both outputs on, the same record is written to stdout and shipped."""
    ship_to(scripted.url, output=("stdout", "logpond"))
    lp.get_logger("x").info("both ways", n=1)
    assert lp.flush(5)
    printed = json.loads(capfd.readouterr().out.strip().splitlines()[-1])
    (shipped,) = scripted.lines()
    assert printed == shipped


def test_flush_and_shutdown_from_many_threads_at_once(scripted: ScriptedServer) -> None:
    """``flush`` from several threads and ``shutdown`` from another all return, and nothing is lost."""
    ship_to(scripted.url)
    for i in range(100):
        lp.get_logger("x").info("r", i=i)
    results: list[bool] = []
    threads = [threading.Thread(target=lambda: results.append(lp.flush(5))) for _ in range(4)]
    for thread in threads:
        thread.start()
    closer = threading.Thread(target=lambda: results.append(lp.shutdown(5)))
    closer.start()
    for thread in [*threads, closer]:
        thread.join(10)
    assert len(results) == 5
    assert sorted(line["i"] for line in scripted.lines()) == list(range(100))


class StatusTransport:
    """Answers every send with one status (and headers); counts the sends."""

    def __init__(self, status: int, headers: dict[str, str] | None = None) -> None:
        self.status = status
        self.headers = headers or {}
        self.sends = 0

    def send(self, path: str, body: bytes, headers: Mapping[str, str]) -> Response:
        self.sends += 1
        return Response(self.status, self.headers, b"")

    def close(self) -> None:
        pass


class FakeTime:
    """A clock that only moves when the shipper sleeps."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.pauses: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.pauses.append(seconds)
        self.now += seconds


def test_backoff_is_exponential_with_full_jitter_within_the_budget(sdk_errors: InternalErrors) -> None:
    """Retries wait a random time in [0, min(30, 2^n)] s and stop when the 60 s budget is spent."""
    sdk_errors.allow("retries_exhausted")
    time_ = FakeTime()
    transport = StatusTransport(503)
    queue = Shipper(transport, "/g", "s", sleep=time_.sleep, clock=time_.clock)
    assert not queue._ship([b"{}"])
    assert queue.dropped["retries_exhausted"] == 1
    assert transport.sends == len(time_.pauses) + 1
    for attempt, pause in enumerate(time_.pauses, start=1):
        assert 0 <= pause <= min(30.0, 2.0 ** (attempt - 1))
    assert sum(time_.pauses) <= 60
    assert len(set(time_.pauses)) == len(time_.pauses)  # jittered, not a fixed schedule


def test_retry_after_replaces_the_backoff(sdk_errors: InternalErrors) -> None:
    """A ``Retry-After`` of 7 s makes each pause exactly 7 s, until the budget runs out."""
    sdk_errors.allow("retries_exhausted")
    time_ = FakeTime()
    transport = StatusTransport(429, {"retry-after": "7"})
    queue = Shipper(transport, "/g", "s", sleep=time_.sleep, clock=time_.clock,
                    settings=ShipperSettings(retry_budget=30))  # fmt: skip
    assert not queue._ship([b"{}"])
    assert time_.pauses == [7.0, 7.0, 7.0, 7.0]
    assert transport.sends == 5


def test_a_worker_thread_that_cannot_start_is_survived(
    monkeypatch: pytest.MonkeyPatch, sdk_errors: InternalErrors
) -> None:
    """When no thread can be started (interpreter shutdown), logging still returns and flush says False."""
    sdk_errors.allow("worker_start")

    def refuse(self: threading.Thread) -> None:
        raise RuntimeError("can't create new thread at interpreter shutdown")

    queue = Shipper(BlockingTransport(), "/g", "s")
    monkeypatch.setattr(threading.Thread, "start", refuse)
    assert queue.enqueue(b"{}", logging.INFO)
    assert queue.flush(0.2) is False
    assert sdk_errors.kinds()[0] == "worker_start"


def test_shutdown_inside_a_held_lock_does_not_deadlock(scripted: ScriptedServer) -> None:
    """A signal handler that runs ``shutdown`` while its thread holds the SDK's locks still finishes."""
    ship_to(scripted.url, output=("stdout", "logpond"), flush_interval=30)
    lp.get_logger("x").info("queued")
    pipeline = _runtime.current()
    stream = next(o for o in pipeline.outputs if isinstance(o, _runtime.StreamOutput))
    done: list[bool] = []

    def interrupted_enqueue() -> None:  # as if SIGTERM arrived inside enqueue() and write()
        with shipper()._cond, stream._lock:
            done.append(lp.shutdown(5))

    thread = threading.Thread(target=interrupted_enqueue)
    thread.start()
    thread.join(10)
    assert done == [True]
    assert [line["message"] for line in scripted.lines()] == ["queued"]
