"""The syslog listener: UDP datagrams and TCP streams on one port number.

TCP framing is decided per connection by its first byte: a digit means octet counting
(``LEN SP MSG``), ``<`` means a delimiter ends each message (LF, CRLF or NUL, which Python's
``SysLogHandler`` uses). Messages longer than the limit are cut and the stream resyncs at
the next frame. Messages from every connection and datagram are queued together and stored
in batches (up to ``LISTENER_BATCH_EVENTS`` events or ``LISTENER_BATCH_SECONDS``).

The queue is bounded in bytes. When it is full, TCP connections stop being read until it
drains (the sender blocks: TCP's own backpressure), and UDP datagrams are dropped and
counted (``dropped_datagrams``; logged every ten seconds while it grows): UDP has no way to
slow a sender down. A batch the writer cannot take is retried for a while, then dropped and
counted (``dropped_messages``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from typing import Any

from logpond.ingest.syslog import SyslogDecoder
from logpond.model.errors import LogpondError, ServiceUnavailableError
from logpond.model.limits import LISTENER_BATCH_EVENTS, LISTENER_BATCH_SECONDS, MIB

from ..services import Services
from . import listener_principal

__all__ = ["SyslogListener"]

log = logging.getLogger("logpond.syslog")

_MAX_QUEUED_BYTES = 32 * MIB
_RETRY_SECONDS = 30.0
_IDLE_SECONDS = 600.0
_READ_BYTES = 1 << 16


class _Datagrams(asyncio.DatagramProtocol):
    def __init__(self, listener: SyslogListener) -> None:
        self._listener = listener

    def datagram_received(self, data: bytes, addr: tuple[str | Any, int]) -> None:
        self._listener.offer(data, str(addr[0]))


class SyslogListener:
    """See the module docstring."""

    def __init__(self, svc: Services) -> None:
        self._svc = svc
        self._config = svc.settings.syslog
        self._principal = listener_principal(svc, "syslog", self._config)
        self._queue: deque[tuple[bytes, str]] = deque()
        self._queued_bytes = 0
        self._ready = asyncio.Event()
        self._space = asyncio.Event()
        self._space.set()
        self._server: asyncio.Server | None = None
        self._udp: asyncio.DatagramTransport | None = None
        self._flusher: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self.port: int | None = None
        self.dropped_datagrams = 0
        self.dropped_messages = 0
        self.stored = 0
        self._reported_drops = 0
        self._last_report = time.monotonic()

    async def start(self) -> None:
        config = self._config
        host = config.host or self._svc.settings.server.host
        port = config.port
        if "tcp" in config.transports:
            self._server = await asyncio.start_server(self._connection, host, port, limit=_READ_BYTES)
            port = self._server.sockets[0].getsockname()[1]
        if "udp" in config.transports:
            loop = asyncio.get_running_loop()
            self._udp, _ = await loop.create_datagram_endpoint(
                lambda: _Datagrams(self), local_addr=(host, port or 0)
            )
            port = self._udp.get_extra_info("sockname")[1]
        self.port = port
        self._flusher = asyncio.create_task(self._flush_forever())
        log.info(
            "syslog listener started", extra={"host": host, "port": port, "transports": config.transports}
        )

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        if self._udp is not None:
            self._udp.close()
        for task in list(self._tasks):
            task.cancel()
        if self._flusher is not None:
            self._flusher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._flusher
        if self._queue:
            await self._flush_once()

    # Queueing -------------------------------------------------------------------------------

    def offer(self, data: bytes, peer: str) -> None:
        """Queue a datagram, or drop and count it when the queue is full."""
        if self._queued_bytes + len(data) > _MAX_QUEUED_BYTES:
            self.dropped_datagrams += 1
            self._report_drops()
            return
        self._put(data, peer)

    async def put(self, data: bytes, peer: str) -> None:
        """Queue a message from a stream, waiting while the queue is full."""
        while self._queued_bytes + len(data) > _MAX_QUEUED_BYTES:
            self._space.clear()
            await self._space.wait()
        self._put(data, peer)

    def _put(self, data: bytes, peer: str) -> None:
        self._queue.append((data, peer))
        self._queued_bytes += len(data)
        if len(self._queue) >= LISTENER_BATCH_EVENTS:
            self._ready.set()

    def _report_drops(self) -> None:
        now = time.monotonic()
        if now - self._last_report >= 10 and self.dropped_datagrams != self._reported_drops:
            log.warning(
                "syslog datagrams dropped: the writer is behind",
                extra={"dropped_datagrams": self.dropped_datagrams},
            )
            self._reported_drops = self.dropped_datagrams
            self._last_report = now

    # Storing ----------------------------------------------------------------------------------

    async def _flush_forever(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._ready.wait(), LISTENER_BATCH_SECONDS)
            self._ready.clear()
            if self._queue:
                try:
                    await self._flush_once()
                except Exception:
                    log.exception("syslog batch failed")
            self._report_drops()

    async def _flush_once(self) -> None:
        decoder = SyslogDecoder(self._svc.router, self._config.group)
        now = self._svc.clock.now_ms()
        taken = 0
        while self._queue and taken < LISTENER_BATCH_EVENTS:
            data, peer = self._queue.popleft()
            self._queued_bytes -= len(data)
            decoder.add(data, peer, now)
            taken += 1
        self._space.set()
        decoded = decoder.columns.build([])
        deadline = time.monotonic() + _RETRY_SECONDS
        while True:
            try:
                principal = (
                    listener_principal(self._svc, "syslog", self._config)
                    if self._config.access_key_id
                    else self._principal
                )
                result = await self._svc.pipeline.ingest(decoded, principal)
            except ServiceUnavailableError as exc:
                if time.monotonic() < deadline and self._svc.store.accepting:
                    await asyncio.sleep(exc.retry_after)
                    continue
                self.dropped_messages += taken
                log.warning("syslog batch dropped: the writer is behind", extra={"messages": taken})
                return
            except LogpondError as exc:
                self.dropped_messages += taken
                log.warning("syslog batch refused", extra={"reason": exc.message, "messages": taken})
                return
            self.stored += result.accepted
            return

    # TCP --------------------------------------------------------------------------------------

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        peer = writer.get_extra_info("peername")
        address = str(peer[0]) if peer else "unknown"
        try:
            await self._read_frames(reader, address)
        except (ConnectionError, TimeoutError, asyncio.IncompleteReadError):
            pass
        finally:
            self._tasks.discard(task)
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    async def _read_frames(self, reader: asyncio.StreamReader, peer: str) -> None:
        cap = self._config.max_message_bytes
        buffer = bytearray()
        octet: bool | None = None
        skip = 0  # bytes of an over-long octet-counted frame still to discard
        discarding = False  # an over-long delimited message: drop until the next delimiter
        while True:
            data = await asyncio.wait_for(reader.read(_READ_BYTES), _IDLE_SECONDS)
            if not data:
                if buffer and not discarding and octet is False:
                    await self.put(bytes(buffer[:cap]), peer)
                return
            buffer += data
            while buffer:
                if skip:
                    dropped = min(skip, len(buffer))
                    del buffer[:dropped]
                    skip -= dropped
                    continue
                if octet is None:
                    first = buffer[0]
                    if first in b" \r\n\x00":
                        del buffer[:1]
                        continue
                    octet = 0x31 <= first <= 0x39
                if octet:
                    if buffer[0] in b" \r\n\x00":
                        del buffer[:1]  # a stray delimiter between frames
                        continue
                    space = buffer.find(b" ", 0, 12)
                    if space == -1:
                        if len(buffer) >= 12:
                            raise ValueError("octet-counted frame without a length")
                        break
                    length_text = bytes(buffer[:space])
                    if not length_text.isdigit():
                        raise ValueError("octet-counted frame without a length")
                    length = int(length_text)
                    start = space + 1
                    if length > cap:
                        if len(buffer) < start + cap:
                            break
                        await self.put(bytes(buffer[start : start + cap]), peer)
                        skip = length - cap
                        del buffer[: start + cap]
                        continue
                    if len(buffer) < start + length:
                        break
                    await self.put(bytes(buffer[start : start + length]), peer)
                    del buffer[: start + length]
                    continue
                end = _delimiter(buffer)
                if end == -1:
                    if len(buffer) > cap:
                        if not discarding:
                            await self.put(bytes(buffer[:cap]), peer)
                        discarding = True
                        buffer.clear()
                    break
                if not discarding and end:
                    await self.put(bytes(buffer[:end]), peer)
                discarding = False
                del buffer[: end + 1]


def _delimiter(buffer: bytearray) -> int:
    newline = buffer.find(b"\n")
    nul = buffer.find(b"\x00")
    if newline == -1:
        return nul
    if nul == -1:
        return newline
    return min(newline, nul)
