"""The Fluentd forward listener: fluent-logger, Fluent Bit's chunk shapes, acks, handshake, bad input."""

from __future__ import annotations

import gzip
import hashlib
import socket
import ssl
import struct
import time
from pathlib import Path

import msgpack
import pytest
from fluent import sender

from ..conftest import unique_group
from .conftest import ShipperServer, healthy, insights, search, start_shipper_server

_POD_FILE = (
    "kube.var.log.containers.qualisys-api-6d4cf56db6-9xkzq_qualisys_qualisys-api-" + "a1" * 32 + ".log"
)


def _event_time(seconds: int, nanos: int) -> msgpack.ExtType:
    return msgpack.ExtType(0, struct.pack(">II", seconds, nanos))


def _send(port: int, *messages: object, read_acks: int = 0) -> list[object]:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        for message in messages:
            sock.sendall(msgpack.packb(message))
        unpacker = msgpack.Unpacker(raw=False)
        acks: list[object] = []
        while len(acks) < read_acks:
            data = sock.recv(4096)
            if not data:
                break
            unpacker.feed(data)
            acks.extend(unpacker)
        return acks


def test_fluent_logger_message_mode(shipper_server: ShipperServer) -> None:
    """fluent-logger's Message mode events are stored under their tag, with EventTime."""
    tag = unique_group("app").strip("/").replace("/", ".")
    logger = sender.FluentSender(
        tag, host="127.0.0.1", port=shipper_server.forward_port, nanosecond_precision=True
    )
    try:
        assert logger.emit_with_time(
            "api", 1706004930.5, {"message": "hello", "level": "error", "trace_id": "t-1"}
        )
        assert logger.emit("api", {"msg": "second"})
    finally:
        logger.close()
    first, second = search(shipper_server.server, f"{tag}.api", want=2)
    assert (first["message"], first["level"], first["trace_id"], first["time"]) == (
        "hello",
        "error",
        "t-1",
        "2024-01-23T10:15:30.500Z",
    )
    assert first["fields"]["fluent"] == {"tag": f"{tag}.api"}
    assert second["message"] == "second"


def test_compressed_packed_forward_is_acked_after_commit(shipper_server: ShipperServer) -> None:
    """A gzip PackedForward chunk of Fluent Bit entries ([[time, meta], record]) is acked by chunk id."""
    group = unique_group("kube").strip("/").replace("/", ".")
    entries = b"".join(
        msgpack.packb([[_event_time(1706004930, n * 1_000_000), {}], record], use_bin_type=True)
        for n, record in enumerate(
            [
                {
                    "log": "2024-01-23T10:15:30.1Z stdout F "
                    'I0123 10:15:30.123456       1 proxier.go:812] "SyncProxyRules complete"',
                    "kubernetes": {
                        "namespace_name": "kube-system",
                        "pod_name": "kube-proxy-x",
                        "container_name": "kube-proxy",
                    },
                },
                {
                    "log": '{"level":"warn","msg":"slow query","ms":812}\n',
                    "stream": "stdout",
                    "time": "2024-01-23T10:15:30.2Z",
                },
            ]
        )
    )
    packed = [group, gzip.compress(entries), {"compressed": "gzip", "size": 2, "chunk": "Y2h1bmstMQ=="}]
    acks = _send(shipper_server.forward_port, packed, read_acks=1)
    assert acks == [{"ack": "Y2h1bmstMQ=="}]
    proxy, query = search(shipper_server.server, group, want=2)
    assert (proxy["level"], proxy["stream"], proxy["message"][:5]) == (
        "info",
        "kube-system/kube-proxy-x/kube-proxy",
        "I0123",
    )
    assert (query["message"], query["level"], query["fields"]["ms"]) == ("slow query", "warn", 812)


def test_forward_mode_with_pod_file_tag_and_multiline_parts(shipper_server: ShipperServer) -> None:
    """Forward mode: the tag's /var/log/containers file names the pod; CRI partial lines are joined."""
    records = [
        [
            1706004930,
            {
                "log": "2024-01-23T10:15:32.000000001Z stdout P "
                '{"level":"info","msg":"cart snapshot","items":[{"sku":"A1"},'
            },
        ],
        [1706004930, {"log": '2024-01-23T10:15:32.000000002Z stdout F {"sku":"Z9"}]}'}],
        [
            1706004931,
            {"log": "2024-01-23T10:15:33Z stderr F E0123 10:15:33.000000       1 server.go:301] failed"},
        ],
    ]
    _send(shipper_server.forward_port, [_POD_FILE, records, {"chunk": "c2"}], read_acks=1)
    snapshot, failure = search(shipper_server.server, _POD_FILE, want=2)
    assert snapshot["message"] == "cart snapshot" and snapshot["fields"]["items"] == [
        {"sku": "A1"},
        {"sku": "Z9"},
    ]
    assert snapshot["stream"] == "qualisys/qualisys-api-6d4cf56db6-9xkzq/qualisys-api"
    assert failure["level"] == "error"
    records_found = insights(
        shipper_server.server,
        'filter kubernetes.container_name = "qualisys-api" | stats count() as n',
        [_POD_FILE],
    )
    assert records_found == [{"n": "2"}]


def test_lines_fluent_bit_already_joined_are_not_joined_again(shipper_server: ShipperServer) -> None:
    """What Fluent Bit 5.1's ``cri`` multiline parser sends for a line the runtime split (P then
    F): one record, joined, still marked ``_p: P``. It is whole; the next record is another."""
    first = '{"level":"error","message":"a line split by the runtime","status":500}'
    records = [
        [1795912801, {"time": "2026-11-29T00:40:01.000000001Z", "stream": "stdout", "_p": "P", "log": first}],
        [
            1795912803,
            {
                "time": "2026-11-29T00:40:03.000000001Z",
                "stream": "stdout",
                "_p": "F",
                "log": '{"level":"info","message":"after it"}',
            },
        ],
    ]
    _send(shipper_server.forward_port, [_POD_FILE + ".joined", records, {"chunk": "c3"}], read_acks=1)
    split, after = search(shipper_server.server, _POD_FILE + ".joined", want=2)
    assert (split["message"], split["fields"]["status"], after["message"]) == (
        "a line split by the runtime",
        500,
        "after it",
    )


@pytest.mark.parametrize(
    "garbage",
    [
        b"\x93\xa3tag",  # truncated msgpack, then the connection closes
        b"\xc1\xc1\xc1",  # never-used msgpack bytes
        msgpack.packb({"not": "an array"}),
        msgpack.packb(["tag", "packed but not msgpack \xff"]),
    ],
)
def test_bad_input_closes_the_connection_only(shipper_server: ShipperServer, garbage: bytes) -> None:
    """Malformed msgpack or messages close that connection; the server and others go on."""
    with socket.create_connection(("127.0.0.1", shipper_server.forward_port), timeout=10) as sock:
        sock.sendall(garbage)
        sock.shutdown(socket.SHUT_WR)
        sock.settimeout(10)
        assert sock.recv(100) == b""
    assert healthy(shipper_server.server)


def test_slow_client_does_not_block_others(shipper_server: ShipperServer) -> None:
    """A client sending one byte at a time holds only its own connection."""
    group = unique_group("slow").strip("/").replace("/", ".")
    message = msgpack.packb([group, 1706004930, {"message": "slowly"}])
    with socket.create_connection(("127.0.0.1", shipper_server.forward_port), timeout=10) as slow:
        slow.sendall(message[:3])
        time.sleep(0.5)
        _send(shipper_server.forward_port, [group + ".fast", 1706004930, {"message": "fast"}])
        assert search(shipper_server.server, group + ".fast")[0]["message"] == "fast"
        for byte in message[3:]:
            slow.sendall(bytes([byte]))
    assert search(shipper_server.server, group)[0]["message"] == "slowly"


def test_shared_key_handshake(tmp_path: Path) -> None:
    """With a shared key the listener runs HELO/PING/PONG and refuses a wrong key."""
    shipper = start_shipper_server(tmp_path / "data", env={"LOGPOND_FORWARD_SHARED_KEY": "s3cret"})
    try:
        for key, accepted in (("s3cret", True), ("wrong", False)):
            with socket.create_connection(("127.0.0.1", shipper.forward_port), timeout=10) as sock:
                unpacker = msgpack.Unpacker(raw=False)
                unpacker.feed(sock.recv(4096))
                helo = next(unpacker)
                assert helo[0] == "HELO"
                nonce = helo[1]["nonce"]
                salt = b"0123456789abcdef"
                digest = hashlib.sha512(salt + b"client-a" + nonce + key.encode()).hexdigest()
                sock.sendall(msgpack.packb(["PING", "client-a", salt, digest, "", ""]))
                unpacker.feed(sock.recv(4096))
                pong = next(unpacker)
                assert pong[1] is accepted
                if accepted:
                    expected = hashlib.sha512(salt + b"logpond" + nonce + b"s3cret").hexdigest()
                    assert pong[3:] == ["logpond", expected]
                    sock.sendall(
                        msgpack.packb(["secured", 1706004930, {"message": "after handshake"}, {"chunk": "k"}])
                    )
                    unpacker.feed(sock.recv(4096))
                    assert next(unpacker) == {"ack": "k"}
        assert search(shipper.server, "secured")[0]["message"] == "after handshake"
    finally:
        shipper.server.kill()


def test_udp_heartbeat_is_answered(shipper_server: ShipperServer) -> None:
    """A datagram to the forward port gets the one-byte heartbeat answer."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
        udp.settimeout(10)
        udp.sendto(b"\x00", ("127.0.0.1", shipper_server.forward_port))
        assert udp.recvfrom(16)[0] == b"\x00"


def test_tls_with_handshake_and_ack(tmp_path: Path) -> None:
    """Forward over TLS: the same messages and acks inside a TLS session."""
    from ..api.test_tls import self_signed  # noqa: PLC0415

    cert, key = self_signed(tmp_path)
    config = tmp_path / "tls.yaml"
    config.write_text(f"forward:\n  tls_cert: {cert}\n  tls_key: {key}\n")
    shipper = start_shipper_server(tmp_path / "data", "--config", str(config))
    try:
        context = ssl.create_default_context(cafile=str(cert))
        with (
            socket.create_connection(("127.0.0.1", shipper.forward_port), timeout=10) as raw,
            context.wrap_socket(raw, server_hostname="127.0.0.1") as sock,
        ):
            sock.sendall(msgpack.packb(["tls.app", 1706004930, {"message": "over tls"}, {"chunk": "t1"}]))
            unpacker = msgpack.Unpacker(raw=False)
            unpacker.feed(sock.recv(4096))
            assert next(unpacker) == {"ack": "t1"}
        assert search(shipper.server, "tls.app")[0]["message"] == "over tls"
    finally:
        shipper.server.kill()
