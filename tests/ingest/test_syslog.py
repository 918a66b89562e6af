"""The syslog listener with util-linux logger, Python's SysLogHandler and raw TCP frames."""

from __future__ import annotations

import logging
import logging.handlers
import shutil
import socket
import subprocess

import pytest

from ..conftest import unique_group
from .conftest import ShipperServer, healthy, search

_LOGGER = shutil.which("logger")


def _syslog_events(shipper: ShipperServer, marker: str, want: int) -> list[dict[str, object]]:
    events = search(shipper.server, "syslog", want=1000, timeout=3)
    found = [e for e in events if marker in str(e["message"])]
    if len(found) < want:
        found = [
            e
            for e in search(shipper.server, "syslog", want=len(events) + want)
            if marker in str(e["message"])
        ]
    return found


@pytest.mark.skipif(_LOGGER is None, reason="util-linux logger is not installed (Debian bsdutils)")
def test_util_linux_logger_udp_and_tcp(shipper_server: ShipperServer) -> None:
    """logger over UDP (RFC 3164) and TCP (RFC 5424, octet counting) is stored with its header."""
    assert _LOGGER is not None
    marker = unique_group("m").strip("/").replace("/", "")
    port = str(shipper_server.syslog_port)
    subprocess.run(
        [
            _LOGGER,
            "-n",
            "127.0.0.1",
            "-P",
            port,
            "-d",
            "--rfc3164",
            "-p",
            "auth.err",
            "-t",
            "sshd",
            f"udp {marker}",
        ],
        check=True,
    )
    subprocess.run(
        [
            _LOGGER,
            "-n",
            "127.0.0.1",
            "-P",
            port,
            "-T",
            "--octet-count",
            "--rfc5424",
            "-p",
            "user.warning",
            "-t",
            "checkout",
            "--sd-id",
            "ctx@32473",
            "--sd-param",
            'env="prod"',
            f"tcp {marker}",
        ],
        check=True,
    )
    events = {str(e["message"]).split()[0]: e for e in _syslog_events(shipper_server, marker, 2)}
    udp, tcp = events["udp"], events["tcp"]
    assert (udp["level"], udp["service"]) == ("error", "sshd")
    assert udp["fields"]["syslog"]["facility"] == "auth"  # type: ignore[index]
    assert (tcp["level"], tcp["service"]) == ("warn", "checkout")
    assert tcp["fields"]["syslog"]["sd"]["ctx@32473"] == {"env": "prod"}  # type: ignore[index]


def test_python_syslog_handler_udp_and_tcp(shipper_server: ShipperServer) -> None:
    """SysLogHandler's <PRI>text (NUL-terminated over TCP) is stored with its level."""
    marker = unique_group("p").strip("/").replace("/", "")
    logger = logging.getLogger(f"syslog.{marker}")
    logger.propagate = False
    for socktype in (socket.SOCK_DGRAM, socket.SOCK_STREAM):
        handler = logging.handlers.SysLogHandler(("127.0.0.1", shipper_server.syslog_port), socktype=socktype)
        handler.setFormatter(logging.Formatter("payments: %(message)s"))
        logger.addHandler(handler)
        logger.error("charge declined %s %s", socktype.name, marker)
        logger.removeHandler(handler)
        handler.close()
    events = _syslog_events(shipper_server, marker, 2)
    assert len(events) == 2
    assert all(e["level"] == "error" and e["service"] == "payments" for e in events)


def test_octet_counted_frames_and_oversized_message(shipper_server: ShipperServer) -> None:
    """Two octet-counted frames without delimiters are two events; an oversized line is cut."""
    marker = unique_group("o").strip("/").replace("/", "")
    frame = f"<14>1 2024-01-23T10:15:32Z web-1 checkout - - - cart {marker}".encode()
    with socket.create_connection(("127.0.0.1", shipper_server.syslog_port)) as sock:
        sock.sendall(b"%d %s%d %s" % (len(frame), frame, len(frame), frame))
    with socket.create_connection(("127.0.0.1", shipper_server.syslog_port)) as sock:
        sock.sendall(
            b"<13>big " + marker.encode() + b" " + b"x" * 200_000 + b"\n<13>after " + marker.encode() + b"\n"
        )
    events = _syslog_events(shipper_server, marker, 4)
    cart = [e for e in events if str(e["message"]).startswith("cart")]
    assert len(cart) == 2 and cart[0]["stream"] == "web-1" and cart[0]["time"] == "2024-01-23T10:15:32.000Z"
    big = next(e for e in events if str(e["message"]).startswith("big"))
    assert len(str(big["message"])) < 70_000
    assert any(str(e["message"]).startswith("after") for e in events)
    assert healthy(shipper_server.server)


def test_invalid_utf8_and_garbage_are_survived(shipper_server: ShipperServer) -> None:
    """Bytes that are not UTF-8 are replaced; a bad octet frame closes only its connection."""
    marker = unique_group("u").strip("/").replace("/", "")
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
        udp.sendto(b"<11>bad \xff\xfe bytes " + marker.encode(), ("127.0.0.1", shipper_server.syslog_port))
    with socket.create_connection(("127.0.0.1", shipper_server.syslog_port)) as sock:
        sock.sendall(b"99999999999999 nonsense")
    (event,) = _syslog_events(shipper_server, marker, 1)
    assert "\ufffd" in str(event["message"])
    assert healthy(shipper_server.server)
    assert unique_group()  # the server answers new work
