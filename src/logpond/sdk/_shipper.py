"""The shipping handler's engine: a bounded queue and one worker thread that posts NDJSON.

The caller's thread only appends a serialized record to the queue (O(1), no I/O). The
worker thread joins records into NDJSON batches (1,000 records, 1 MiB or 1 s, whichever
first; sooner when the queue is half full), gzips them and posts them to
``POST {endpoint}/api/v1/ingest?group=..&stream=..``; it retries with jittered exponential
backoff, honours ``Retry-After``, halves a batch the server finds too large, and counts
every record it had to drop by reason. After ``os.fork`` the child starts with an empty
queue and its own worker; what the parent had queued is shipped by the parent only.
"""

from __future__ import annotations

import email.utils
import gzip
import http.client
import json
import os
import random
import ssl
import threading
import time
import urllib.parse
import weakref
from collections import Counter, deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from . import _diagnostics
from ._record import format_timestamp

__all__ = [
    "RETRYABLE_STATUSES",
    "HTTPTransport",
    "Response",
    "Shipper",
    "ShipperSettings",
    "Transport",
    "exporting",
]

# Statuses worth trying again; anything else that is not 2xx or 413 drops the batch.
RETRYABLE_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
_BACKOFF_BASE = 1.0
_BACKOFF_CAP = 30.0
_RETRY_AFTER_CAP = 60.0
_WARNING = 30  # logging.WARNING: records at or above it are never evicted for newer ones
_USER_AGENT = "logpond-sdk/0.1"

# Set on the worker thread (and around any export): records logged there are never shipped,
# which is what keeps an HTTP client that logs from feeding itself.
_local = threading.local()


def exporting() -> bool:
    """True on a thread that is exporting records right now (the worker thread)."""
    return getattr(_local, "exporting", False)


@dataclass(frozen=True)
class Response:
    """What the transport got back: status, headers (lower-case names), body."""

    status: int
    headers: Mapping[str, str]
    body: bytes


class Transport(Protocol):
    """Sends one request body; raises ``OSError`` (or any error) when the server is unreachable."""

    def send(self, path: str, body: bytes, headers: Mapping[str, str]) -> Response: ...

    def close(self) -> None: ...


class HTTPTransport:
    """``http.client`` with one kept-alive connection: no third-party client, no logging."""

    def __init__(self, endpoint: str, timeout: float = 10.0) -> None:
        url = urllib.parse.urlsplit(endpoint)
        self._https = url.scheme == "https"
        self._host = url.hostname or "127.0.0.1"
        self._port = url.port
        self._base = url.path.rstrip("/")
        self._timeout = timeout
        self._conn: http.client.HTTPConnection | None = None
        self._closed = False

    def _connect(self) -> http.client.HTTPConnection:
        if self._https:
            return http.client.HTTPSConnection(
                self._host, self._port, timeout=self._timeout, context=ssl.create_default_context()
            )
        return http.client.HTTPConnection(self._host, self._port, timeout=self._timeout)

    def send(self, path: str, body: bytes, headers: Mapping[str, str]) -> Response:
        conn = self._conn or self._connect()
        self._conn = None
        try:
            conn.request("POST", self._base + path, body=body, headers=dict(headers))
            response = conn.getresponse()
            data = response.read()
        except BaseException:
            conn.close()
            raise
        if response.will_close or self._closed:
            conn.close()
        else:
            self._conn = conn
        return Response(response.status, {k.lower(): v for k, v in response.getheaders()}, data)

    def close(self) -> None:
        """Close the kept connection; one in use is closed when its request ends."""
        self._closed = True
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.close()

    def forget(self) -> None:
        """Drop the connection without touching it (after fork it belongs to the parent)."""
        self._conn = None


@dataclass(frozen=True)
class ShipperSettings:
    """Bounds and timings of one shipper (see ``docs/sdk.md``)."""

    max_queue_records: int = 10_000
    max_queue_bytes: int = 16 * 1024 * 1024
    max_batch_records: int = 1_000
    max_batch_bytes: int = 1024 * 1024
    flush_interval: float = 1.0
    retry_budget: float = 60.0
    spool_dir: str | None = None
    spool_max_bytes: int = 256 * 1024 * 1024
    gzip_level: int = 1


_Entry = tuple[int, bytes]
_live: weakref.WeakSet[Shipper] = weakref.WeakSet()


def _after_fork_in_child() -> None:
    for shipper in list(_live):
        shipper._after_fork()


os.register_at_fork(after_in_child=_after_fork_in_child)


class Shipper:
    """A bounded queue of serialized records and the worker thread that ships them."""

    def __init__(
        self,
        transport: Transport,
        group: str,
        stream: str | Callable[[], str],
        *,
        api_key: str | None = None,
        identity: Mapping[str, str] | None = None,
        settings: ShipperSettings | None = None,
        sleep: Callable[[float], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """``sleep`` and ``clock`` replace the retry pause and the retry deadline's clock (tests)."""
        self.settings = settings or ShipperSettings()
        self.transport = transport
        self.group = group
        self._stream = stream
        self._api_key = api_key
        self._identity = dict(identity or {})
        self._sleep_hook = sleep
        self._clock = clock
        self.dropped: Counter[str] = Counter()  # every drop since start, by reason
        self.sent_records = 0
        self._init_state()
        _live.add(self)

    # --- state ----------------------------------------------------------------------------------

    def _init_state(self) -> None:
        self._pid = os.getpid()
        # Re-entrant: shutdown() may run in a signal handler that interrupted an enqueue.
        self._cond = threading.Condition(threading.RLock())
        self._generation = getattr(self, "_generation", 0) + 1  # a new one after each fork
        self._low: deque[_Entry] = deque()  # below WARNING: evicted first when full
        self._high: deque[_Entry] = deque()
        self._count = 0
        self._bytes = 0
        self._seq = 0
        self._oldest = 0.0
        self._flush_until = -1
        self._inflight_min: int | None = None
        self._pending_drops: Counter[str] = Counter()  # not yet reported to the server
        self._worker: threading.Thread | None = None
        self._closed = False
        self._stopping = False
        self._stop_deadline = float("inf")
        self._wake = threading.Event()
        self._path_cache: tuple[int, str] | None = None

    def _after_fork(self) -> None:
        """In a forked child: fresh locks, an empty queue, no worker; the parent ships the rest."""
        forget = getattr(self.transport, "forget", None)
        if callable(forget):
            forget()
        closed = self._closed
        self._init_state()
        self._closed = closed

    @property
    def closed(self) -> bool:
        return self._closed

    def queued(self) -> tuple[int, int]:
        """Records and bytes waiting in the queue."""
        with self._cond:
            return self._count, self._bytes

    # --- the caller's side ------------------------------------------------------------------------

    def enqueue(self, line: bytes, levelno: int) -> bool:
        """Queue one serialized record; False if it was dropped (counted). Never blocks on I/O."""
        if self._pid != os.getpid():
            self._after_fork()
        if self._closed:
            self._drop("after_shutdown", 1)
            return False
        size = len(line)
        settings = self.settings
        if size > settings.max_batch_bytes:
            self._drop("oversize", 1)
            return False
        cond = self._cond
        with cond:
            while self._count >= settings.max_queue_records or self._bytes + size > settings.max_queue_bytes:
                if not self._low:
                    self._drop_locked("queue_full", 1)
                    return False
                _, evicted = self._low.popleft()
                self._count -= 1
                self._bytes -= len(evicted)
                self._drop_locked("queue_full", 1)
            seq = self._seq
            self._seq = seq + 1
            (self._low if levelno < _WARNING else self._high).append((seq, line))
            self._count += 1
            self._bytes += size
            if self._count == 1:
                self._oldest = time.monotonic()
            if self._worker is None:
                self._start_worker()
            if (
                self._count >= settings.max_batch_records
                or self._bytes >= settings.max_batch_bytes
                or self._count * 2 >= settings.max_queue_records
                or self._bytes * 2 >= settings.max_queue_bytes
            ):
                cond.notify()
        return True

    def _start_worker(self) -> None:
        worker = threading.Thread(target=self._run, name="logpond-shipper", daemon=True)
        try:
            worker.start()
        except RuntimeError as error:  # "can't create new thread at interpreter shutdown"
            _diagnostics.report("worker_start", "could not start the shipping thread", error)
            return
        self._worker = worker

    def _drop(self, reason: str, count: int) -> None:
        with self._cond:
            self._drop_locked(reason, count)

    def _drop_locked(self, reason: str, count: int) -> None:
        self.dropped[reason] += count
        self._pending_drops[reason] += count

    # --- flush and shutdown ----------------------------------------------------------------------

    def _settled(self, target: int) -> bool:
        if self._inflight_min is not None and self._inflight_min <= target:
            return False
        low, high = self._low, self._high
        return not ((low and low[0][0] <= target) or (high and high[0][0] <= target))

    def flush(self, timeout: float) -> bool:
        """Wait until every record queued before the call was acknowledged or dropped."""
        if self._pid != os.getpid():
            self._after_fork()
        deadline = time.monotonic() + max(timeout, 0.0)
        with self._cond:
            target = self._seq - 1
            if self._settled(target):
                return True
            if self._worker is None or not self._worker.is_alive():
                if self._closed:
                    return False
                self._worker = None
                self._start_worker()
                if self._worker is None:
                    return False
            self._flush_until = max(self._flush_until, target)
            self._cond.notify_all()
            while not self._settled(target):
                remaining = deadline - time.monotonic()
                if remaining <= 0 or exporting():
                    return False
                self._cond.wait(remaining)
            return True

    def shutdown(self, timeout: float) -> bool:
        """Ship what is queued (within ``timeout``), then stop the worker; later records drop."""
        if self._closed:
            return True
        deadline = time.monotonic() + max(timeout, 0.0)
        ok = self.flush(timeout)
        with self._cond:
            self._closed = True
            self._stopping = True
            self._stop_deadline = deadline
            leftover = self._count
            self._cond.notify_all()
        self._wake.set()
        worker = self._worker
        if worker is not None and worker is not threading.current_thread():
            worker.join(max(0.0, deadline - time.monotonic()))
        with self._cond:
            if self._count:
                self._drop_locked("shutdown_timeout", self._count)
                self._low.clear()
                self._high.clear()
                self._count = self._bytes = 0
            self._cond.notify_all()
        if leftover or not ok:
            _diagnostics.report("shutdown", "records left unsent at shutdown", dropped=dict(self.dropped))
        try:
            self.transport.close()
        except Exception as error:
            _diagnostics.report("transport_close", "closing the transport failed", error)
        return ok and not leftover

    # --- the worker ---------------------------------------------------------------------------------

    def _run(self) -> None:
        _local.exporting = True
        cond, generation = self._cond, self._generation
        try:
            while True:
                batch = self._next_batch(cond, generation)
                if batch is None:
                    return
                ok = False
                try:
                    ok = self._ship(batch)
                except Exception as error:  # a bug here must not kill the worker
                    _diagnostics.report("ship", "shipping a batch failed", error)
                    self._drop("internal_error", len(batch))
                finally:
                    with cond:
                        self._inflight_min = None
                        cond.notify_all()
                if ok:
                    self._after_success_work()
        except BaseException as error:  # interpreter teardown
            _diagnostics.report("worker", "the shipping thread stopped", error)

    def _batch_due(self, now: float) -> bool:
        settings = self.settings
        if not self._count:
            return False
        if self._stopping or self._count >= settings.max_batch_records:
            return True
        if self._bytes >= settings.max_batch_bytes or now - self._oldest >= settings.flush_interval:
            return True
        if self._count * 2 >= settings.max_queue_records:
            return True
        if self._bytes * 2 >= settings.max_queue_bytes:
            return True
        low, high = self._low, self._high
        head = min(low[0][0] if low else self._seq, high[0][0] if high else self._seq)
        return head <= self._flush_until

    def _next_batch(self, cond: threading.Condition, generation: int) -> list[bytes] | None:
        with cond:
            while True:
                if self._generation != generation:  # the state was reset under us
                    return None
                now = time.monotonic()
                if self._stopping and (not self._count or now >= self._stop_deadline):
                    return None
                if self._batch_due(now):
                    break
                wait = self.settings.flush_interval - (now - self._oldest) if self._count else None
                cond.wait(wait)
            return self._take_locked()

    def _take_locked(self) -> list[bytes]:
        """Up to one batch of the oldest records, in the order they were logged."""
        settings = self.settings
        low, high = self._low, self._high
        out: list[bytes] = []
        size = 0
        first: int | None = None
        while (low or high) and len(out) < settings.max_batch_records:
            source = low if (low and (not high or low[0][0] < high[0][0])) else high
            seq, line = source[0]
            if out and size + len(line) + 1 > settings.max_batch_bytes:
                break
            source.popleft()
            if first is None:
                first = seq
            out.append(line)
            size += len(line) + 1
        self._count -= len(out)
        self._bytes -= size - len(out)
        self._inflight_min = first
        if self._count:
            self._oldest = time.monotonic()
        return out

    def _path(self) -> str:
        pid = os.getpid()
        cached = self._path_cache
        if cached is not None and cached[0] == pid:
            return cached[1]
        stream = self._stream() if callable(self._stream) else self._stream
        query = urllib.parse.urlencode({"group": self.group, "stream": stream})
        path = f"/api/v1/ingest?{query}"
        self._path_cache = (pid, path)
        return path

    def _headers(self) -> dict[str, str]:
        headers = {
            "Content-Type": "application/x-ndjson",
            "Content-Encoding": "gzip",
            "User-Agent": _USER_AGENT,
        }
        if self._api_key:
            headers["Authorization"] = f"Bearer {self._api_key}"
        return headers

    def _pause(self, seconds: float) -> None:
        if self._sleep_hook is not None:
            self._sleep_hook(seconds)
        else:
            self._wake.wait(seconds)

    def _ship(self, batch: list[bytes], deadline: float | None = None) -> bool:
        """Post ``batch`` until it is accepted, split, dropped or out of time; True if sent."""
        if deadline is None:
            deadline = self._clock() + self.settings.retry_budget
        body = gzip.compress(b"\n".join(batch) + b"\n", compresslevel=self.settings.gzip_level, mtime=0)
        attempt = 0
        while True:
            try:
                response: Response | None = self.transport.send(self._path(), body, self._headers())
                error: BaseException | None = None
            except Exception as exc:
                response, error = None, exc
            status = response.status if response is not None else None
            if status is not None and 200 <= status < 300:
                self._accepted(batch, response)
                return True
            if status == 413:
                if len(batch) == 1:
                    self._drop("oversize", 1)
                    return False
                half = len(batch) // 2
                first = self._ship(batch[:half], deadline)
                second = self._ship(batch[half:], deadline)
                return first and second
            if status is not None and status not in RETRYABLE_STATUSES:
                reason = "http_4xx" if 400 <= status < 500 else "http_error"
                self._drop(reason, len(batch))
                _diagnostics.report(
                    f"http_{status}", "logpond refused a batch", status=status,
                    records=len(batch), body=response.body[:200].decode("utf-8", "replace")
                    if response is not None else "",
                )  # fmt: skip
                return False
            attempt += 1
            delay = _retry_after(response) if response is not None else None
            if delay is None:
                delay = random.uniform(0, min(_BACKOFF_CAP, _BACKOFF_BASE * 2 ** (attempt - 1)))  # noqa: S311 - jitter
            now = self._clock()
            stop_now = time.monotonic()
            if now + delay > deadline or (self._stopping and stop_now + delay > self._stop_deadline):
                self._exhausted(batch, status, error)
                return False
            self._pause(delay)

    def _exhausted(self, batch: list[bytes], status: int | None, error: BaseException | None) -> None:
        if self.settings.spool_dir and self._spool(batch):
            return
        if self._stopping:  # shutdown() ran out of time; it reports the total itself
            self._drop("shutdown_timeout", len(batch))
            return
        self._drop("retries_exhausted", len(batch))
        _diagnostics.report(
            "retries_exhausted", "logpond unreachable, batch dropped", error,
            status=status, records=len(batch),
        )  # fmt: skip

    def _accepted(self, batch: list[bytes], response: Response | None) -> None:
        self.sent_records += len(batch)
        if response is None or not response.body:
            return
        try:
            answer = json.loads(response.body)
        except ValueError:
            return
        rejected = answer.get("rejected") if isinstance(answer, dict) else None
        if rejected:
            count = answer.get("rejected_count", len(rejected))
            self._drop("rejected", int(count) if isinstance(count, int) else len(rejected))
            _diagnostics.report("rejected", "logpond rejected records", first=rejected[0], count=count)

    def _after_success_work(self) -> None:
        """After a batch: report drops (one record) and replay the disk spool, oldest first."""
        with self._cond:
            drops = +self._pending_drops
            self._pending_drops.clear()
        if drops and not self._stopping:
            record = {
                "timestamp": format_timestamp(time.time()),
                "level": "warning",
                "message": "records dropped",
                **self._identity,
                "logger": "logpond.sdk",
                "dropped": dict(drops),
                "dropped_total": dict(self.dropped),
            }
            line = json.dumps(record, separators=(",", ":")).encode()
            if not self._ship_once([line]):
                with self._cond:
                    self._pending_drops.update(drops)
        if self.settings.spool_dir and not self._stopping:
            self._replay_spool()

    def _ship_once(self, batch: list[bytes]) -> bool:
        body = gzip.compress(b"\n".join(batch) + b"\n", compresslevel=1, mtime=0)
        try:
            response = self.transport.send(self._path(), body, self._headers())
        except Exception:
            return False
        return 200 <= response.status < 300

    # --- disk spool ------------------------------------------------------------------------------

    def _spool_files(self) -> list[Path]:
        directory = Path(self.settings.spool_dir or ".")
        return sorted(directory.glob("*.ndjson"))

    def _spool(self, batch: list[bytes]) -> bool:
        """Keep a batch that could not be sent on disk, within ``spool_max_bytes``."""
        try:
            directory = Path(self.settings.spool_dir or ".")
            directory.mkdir(parents=True, exist_ok=True)
            data = b"\n".join(batch) + b"\n"
            used = sum(p.stat().st_size for p in self._spool_files())
            if used + len(data) > self.settings.spool_max_bytes:
                return False
            name = f"{time.time_ns():020d}-{os.getpid()}.ndjson"
            temp = directory / (name + ".tmp")
            temp.write_bytes(data)
            temp.rename(directory / name)
            return True
        except OSError as error:
            _diagnostics.report("spool", "could not write the spool", error)
            return False

    def _replay_spool(self) -> None:
        for path in self._spool_files()[:8]:
            try:
                lines = [line for line in path.read_bytes().split(b"\n") if line]
            except OSError:
                continue
            if not lines:
                path.unlink(missing_ok=True)
                continue
            if not self._ship_once(lines):
                return
            self.sent_records += len(lines)
            path.unlink(missing_ok=True)


def _retry_after(response: Response) -> float | None:
    """The ``Retry-After`` delay in seconds (a number or an HTTP date), capped at 60 s."""
    value = response.headers.get("retry-after")
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        seconds = when.timestamp() - time.time()
    return min(max(seconds, 0.0), _RETRY_AFTER_CAP)
