"""Fluent Bit's http output in each format, and the Kubernetes records it ships (fixtures built
from Fluent Bit's documented formats: it cannot be installed here)."""

from __future__ import annotations

import struct

import msgpack
import orjson

from ..conftest import unique_group
from .conftest import ShipperServer, insights, search

JOURNALD = {
    "__REALTIME_TIMESTAMP": "1706004930123456",
    "_HOSTNAME": "node-a",
    "_SYSTEMD_UNIT": "kubelet.service",
    "SYSLOG_IDENTIFIER": "kubelet",
    "PRIORITY": "6",
    "MESSAGE": 'E0123 10:15:30.123456    1234 pod_workers.go:1300] "Error syncing pod, skipping"',
}
EVENT = {
    "metadata": {
        "name": "web.17acd30a9b8c7d6e",
        "namespace": "shop",
        "creationTimestamp": "2024-01-23T09:02:11Z",
    },
    "involvedObject": {"kind": "Pod", "namespace": "shop", "name": "web-6d4cf56db6-9xkzq"},
    "reason": "BackOff",
    "message": "Back-off restarting failed container web",
    "source": {"component": "kubelet", "host": "node-a"},
    "firstTimestamp": "2024-01-23T09:02:11Z",
    "lastTimestamp": "2024-01-23T10:15:40Z",
    "count": 37,
    "type": "Warning",
    "eventTime": None,
}


def _post(shipper: ShipperServer, group: str, body: bytes, content_type: str) -> dict[str, object]:
    with shipper.server.client() as http:
        response = http.post(
            f"/api/v1/fluentbit/{group}",
            content=body,
            headers={"content-type": content_type, "x-fluent-tag": "kube.node"},
        )
    assert response.status_code == 200, response.text
    result: dict[str, object] = response.json()
    return result


def test_every_format_with_its_date_key(shipper_server: ShipperServer) -> None:
    """json (double date), json_stream (iso8601), json_lines (java_sql_timestamp), msgpack."""
    group = unique_group("/fb")
    records = [
        (orjson.dumps([{"date": 1706004930.5, "log": "array"}]), "application/json"),
        (
            b'{"date":"2024-01-23T10:15:31.000000Z","log":"stream 1"}'
            b'{"date":"2024-01-23T10:15:31.5Z","log":"stream 2"}',
            "application/json",
        ),
        (
            b'{"date":"2024-01-23 10:15:32.000000","log":"lines 1"}\n'
            b'{"date":"2024-01-23 10:15:32.250000","log":"lines 2"}\n',
            "application/x-ndjson",
        ),
        (
            msgpack.packb([[msgpack.ExtType(0, struct.pack(">II", 1706004933, 0)), {}], {"log": "packed"}])
            + msgpack.packb([[-1, {}], {}]),
            "application/msgpack",
        ),
    ]  # fmt: skip
    for body, content_type in records:
        _post(shipper_server, group, body, content_type)
    events = search(shipper_server.server, group, want=6)
    assert [(e["message"], e["time"]) for e in events] == [
        ("array", "2024-01-23T10:15:30.500Z"),
        ("stream 1", "2024-01-23T10:15:31.000Z"),
        ("stream 2", "2024-01-23T10:15:31.500Z"),
        ("lines 1", "2024-01-23T10:15:32.000Z"),
        ("lines 2", "2024-01-23T10:15:32.250Z"),
        ("packed", "2024-01-23T10:15:33.000Z"),
    ]
    assert events[0]["fields"]["fluent"] == {"tag": "kube.node"}


def test_journald_and_kubernetes_events_are_queryable(shipper_server: ShipperServer) -> None:
    """kubelet's journald record takes klog's level; an Event keeps reason and count."""
    group = unique_group("/k8s")
    _post(shipper_server, group, orjson.dumps([JOURNALD, EVENT]), "application/json")
    kubelet, event = search(shipper_server.server, group, want=2)
    assert (kubelet["level"], kubelet["service"], kubelet["stream"], kubelet["time"]) == (
        "error",
        "kubelet",
        "node-a",
        "2024-01-23T10:15:30.123Z",
    )
    assert (event["level"], event["service"], event["stream"], event["time"]) == (
        "warn",
        "kubelet",
        "Pod/web-6d4cf56db6-9xkzq",
        "2024-01-23T10:15:40.000Z",
    )
    assert event["message"] == "Back-off restarting failed container web"
    server = shipper_server.server
    assert insights(server, 'filter _SYSTEMD_UNIT = "kubelet.service" | stats count() as n', [group]) == [
        {"n": "1"}
    ]
    found = insights(server, 'filter reason = "BackOff" | fields count, involvedObject.name', [group])
    assert [(r["count"], r["involvedObject.name"]) for r in found] == [("37", "web-6d4cf56db6-9xkzq")]


def test_python_traceback_pieces_from_docker_are_joined(shipper_server: ShipperServer) -> None:
    """Docker json-file pieces without a trailing newline are joined into one event."""
    group = unique_group("/docker")
    lines = [
        {"log": "part one of a long line ", "stream": "stderr", "time": "2024-01-23T10:15:31.003Z"},
        {"log": "and its end\n", "stream": "stderr", "time": "2024-01-23T10:15:31.004Z"},
        {"log": "next line\n", "stream": "stderr", "time": "2024-01-23T10:15:31.005Z"},
    ]
    _post(shipper_server, group, b"\n".join(orjson.dumps(line) for line in lines), "application/x-ndjson")
    events = search(shipper_server.server, group, want=2)
    assert [e["message"] for e in events] == ["part one of a long line and its end", "next line"]


def test_unreadable_body_is_400(shipper_server: ShipperServer) -> None:
    """A body that is not JSON records is a 400, which Fluent Bit drops instead of retrying."""
    with shipper_server.server.client() as http:
        response = http.post(
            "/api/v1/fluentbit/bad", content=b"{nope", headers={"content-type": "application/json"}
        )
    assert response.status_code == 400


def test_stack_traces_become_one_event_each(shipper_server: ShipperServer) -> None:
    """A Python traceback, a Java stack trace and a Go panic, line by line, give one event each."""
    group = unique_group("/traces")
    text = """GET /cart 200
Traceback (most recent call last):
  File "/app/pay.py", line 42, in charge
    resp = client.post(url, json=body)
requests.exceptions.ReadTimeout: Read timed out.
java.lang.IllegalStateException: cart is locked
	at com.acme.cart.CartService.add(CartService.java:88)
Caused by: java.sql.SQLTimeoutException: lock wait timeout
	... 23 more
panic: runtime error: index out of range [3] with length 3

goroutine 1 [running]:
main.main()
	/src/main.go:20 +0x1d
exit status 2"""
    body = b"\n".join(
        orjson.dumps({"log": line + "\n", "stream": "stderr", "time": f"2024-01-23T10:15:31.{n:03d}Z"})
        for n, line in enumerate(text.split("\n"))
    )
    _post(shipper_server, group, body, "application/x-ndjson")
    events = search(shipper_server.server, group, want=5)
    assert [(e["message"].split("\n")[0], e["message"].count("\n"), e["level"]) for e in events] == [
        ("GET /cart 200", 0, None),
        ("Traceback (most recent call last):", 3, "error"),
        ("java.lang.IllegalStateException: cart is locked", 3, "error"),
        ("panic: runtime error: index out of range [3] with length 3", 4, "fatal"),
        ("exit status 2", 0, None),
    ]
