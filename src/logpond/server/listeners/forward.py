"""The Fluentd forward listener: msgpack over TCP (optionally TLS), a UDP heartbeat.

Per connection: the shared-key handshake when a key is configured (HELO, PING, PONG with
mutual SHA-512 digests), then a stream of forward messages. The messages that arrived
together are decoded into one batch and go through the pipeline once; a message's
``chunk`` option is acknowledged (``{"ack": chunk}``) only after its batch is committed.
When the writer is behind, the listener stops reading and retries the commit, so the
acknowledgement is withheld (the client waits or resends) and memory stays bounded by one
batch per connection. Malformed input closes the connection; the server goes on.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import os
import ssl
import time
from typing import Any

import msgpack

from logpond.auth.policy import Principal
from logpond.ingest.base import Decoded
from logpond.ingest.fluent_forward import ForwardDecoder, new_unpacker
from logpond.model.errors import LogpondError, ServiceUnavailableError
from logpond.pipeline.run import IngestResult

from ..services import Services
from . import listener_principal

__all__ = ["ForwardListener"]

log = logging.getLogger("logpond.forward")

_IDLE_SECONDS = 300.0
_HANDSHAKE_SECONDS = 30.0
_RETRY_SECONDS = 120.0
_READ_BYTES = 1 << 20


class _Heartbeat(asyncio.DatagramProtocol):
    """Answers every datagram with one zero byte (Fluentd's UDP heartbeat)."""

    transport: Any = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport

    def datagram_received(self, data: bytes, addr: tuple[str | Any, int]) -> None:
        if self.transport is not None:
            self.transport.sendto(b"\x00", addr)


class ForwardListener:
    """See the module docstring."""

    def __init__(self, svc: Services) -> None:
        self._svc = svc
        self._config = svc.settings.forward
        self._shared_key = svc.settings.forward_shared_key
        self._principal = listener_principal(svc, "forward", self._config)
        self._server: asyncio.Server | None = None
        self._udp: asyncio.DatagramTransport | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self.port: int | None = None

    async def start(self) -> None:
        config = self._config
        host = config.host or self._svc.settings.server.host
        context = None
        if config.tls_cert and config.tls_key:
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(str(config.tls_cert), str(config.tls_key))
        self._server = await asyncio.start_server(
            self._connection, host, config.port, ssl=context, limit=_READ_BYTES
        )
        self.port = self._server.sockets[0].getsockname()[1]
        loop = asyncio.get_running_loop()
        self._udp, _ = await loop.create_datagram_endpoint(_Heartbeat, local_addr=(host, self.port))
        log.info("forward listener started", extra={"host": host, "port": self.port, "tls": bool(context)})

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        if self._udp is not None:
            self._udp.close()
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    def principal(self) -> Principal:
        if self._config.access_key_id:
            return listener_principal(self._svc, "forward", self._config)
        return self._principal

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        peer = writer.get_extra_info("peername")
        try:
            await self._serve(reader, writer)
        except (LogpondError, ValueError, TypeError, msgpack.ExtraData, msgpack.FormatError,
                msgpack.StackError, msgpack.BufferFull) as exc:  # fmt: skip
            log.warning("forward connection closed: bad input", extra={"peer": str(peer), "reason": str(exc)})
        except (ConnectionError, TimeoutError, asyncio.IncompleteReadError, ssl.SSLError):
            pass
        finally:
            self._tasks.discard(task)
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        unpacker = new_unpacker()
        if self._shared_key is not None:
            leftover = await self._handshake(reader, writer)
            if leftover is None:
                return
            unpacker.feed(leftover)
        while True:
            messages = list(unpacker)
            if messages:
                await self._store(messages, writer)
                continue
            data = await asyncio.wait_for(reader.read(_READ_BYTES), _IDLE_SECONDS)
            if not data:
                return
            unpacker.feed(data)

    async def _store(self, messages: list[Any], writer: asyncio.StreamWriter) -> None:
        decoder = ForwardDecoder(self._svc.router)
        now = self._svc.clock.now_ms()
        chunks = []
        for message in messages:
            chunk = decoder.add_message(message, now)
            if chunk is not None:
                chunks.append(chunk)
        if len(decoder.columns):
            await self._ingest(decoder.columns.build(decoder.rejections))
        for chunk in chunks:
            writer.write(msgpack.packb({"ack": chunk}))
        if chunks:
            await writer.drain()

    async def _ingest(self, decoded: Decoded) -> IngestResult:
        """Commit, waiting out a writer that is behind; raises if it stays behind too long."""
        deadline = time.monotonic() + _RETRY_SECONDS
        while True:
            try:
                return await self._svc.pipeline.ingest(decoded, self.principal())
            except ServiceUnavailableError as exc:
                if time.monotonic() > deadline or not self._svc.store.accepting:
                    raise
                await asyncio.sleep(exc.retry_after)

    async def _handshake(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bytes | None:
        """HELO, PING, PONG; returns the bytes read past the PING, or None if refused."""
        assert self._shared_key is not None
        nonce = os.urandom(16)
        writer.write(msgpack.packb(["HELO", {"nonce": nonce, "auth": b"", "keepalive": True}]))
        await writer.drain()
        unpacker = new_unpacker(1 << 16, exact_text=True)
        received = bytearray()
        ping: Any = None
        deadline = time.monotonic() + _HANDSHAKE_SECONDS
        while ping is None:
            data = await asyncio.wait_for(reader.read(4096), max(0.1, deadline - time.monotonic()))
            if not data:
                return None
            received += data
            unpacker.feed(data)
            for message in unpacker:
                ping = message
                break
        leftover = bytes(received[unpacker.tell() :])
        if not (isinstance(ping, list) and len(ping) >= 4 and ping[0] == "PING"):
            writer.write(msgpack.packb(["PONG", False, "expected PING", "", ""]))
            await writer.drain()
            return None
        _, hostname, salt, digest = ping[:4]
        key = self._shared_key.encode()

        def raw(value: Any) -> bytes:
            if isinstance(value, bytes):
                return value
            return str(value).encode("utf-8", "surrogateescape")

        expected = hashlib.sha512(raw(salt) + raw(hostname) + nonce + key).hexdigest()
        if not isinstance(digest, str) or digest.lower() != expected:
            log.warning("forward handshake refused: shared key mismatch", extra={"hostname": str(hostname)})
            writer.write(msgpack.packb(["PONG", False, "shared_key mismatch", "", ""]))
            await writer.drain()
            return None
        server_host = self._config.self_hostname
        answer = hashlib.sha512(raw(salt) + server_host.encode() + nonce + key).hexdigest()
        writer.write(msgpack.packb(["PONG", True, "", server_host, answer]))
        await writer.drain()
        return leftover
