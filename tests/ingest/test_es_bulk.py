"""Elasticsearch-compatible ingest under /es, driven by real clients and byte-exact payloads."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from pathlib import Path

import orjson
import pytest
from elasticsearch import Elasticsearch, helpers

from ..conftest import free_port, unique_group
from .conftest import ShipperServer, healthy, search


def _client(shipper: ShipperServer) -> Elasticsearch:
    server = shipper.server
    return Elasticsearch(
        f"{server.url}/es", basic_auth=(server.access_key_id, server.secret_access_key), request_timeout=30
    )


def test_python_client_bulk_helper_stores_documents(shipper_server: ShipperServer) -> None:
    """The elasticsearch client's bulk helper succeeds; the group is the index without its date."""
    group = unique_group("/es").lstrip("/").replace("/", "-")
    actions = [
        {
            "_index": f"{group}-2024.01.23",
            "_source": {
                "@timestamp": "2024-01-23T10:15:30.123Z",
                "message": f"request {n}",
                "log": {"level": "WARN"},
                "kubernetes": {
                    "namespace_name": "shop",
                    "pod_name": "web-1",
                    "container_name": "qualisys-api",
                },
                "status": 502,
            },
        }
        for n in range(120)
    ]
    with _client(shipper_server) as es:
        assert es.info()["version"]["number"].startswith("8.")
        ok, errors = helpers.bulk(es, actions, chunk_size=50)
    assert (ok, errors) == (120, [])
    events = search(shipper_server.server, group, want=120)
    assert len(events) == 120
    first = events[0]
    assert (first["stream"], first["level"], first["service"]) == (
        "shop/web-1/qualisys-api",
        "warn",
        "qualisys-api",
    )
    assert first["time"] == "2024-01-23T10:15:30.123Z"
    assert first["fields"]["es"] == {"index": f"{group}-2024.01.23"}
    assert first["fields"]["status"] == 502


def test_fluent_bit_payload_gets_the_compact_response(shipper_server: ShipperServer) -> None:
    """A Fluent Bit es-output chunk gets the exact compact answer Fluent Bit searches for."""
    group = unique_group("fluentbit").lstrip("/").replace("/", "-")
    action = orjson.dumps({"create": {"_index": group, "_type": "_doc"}})
    document = orjson.dumps(
        {"@timestamp": "2024-01-23T10:15:30.123Z", "log": "GET /healthz 200\n", "stream": "stdout"}
    )
    body = b"\n".join([action, document, action, document]) + b"\n"
    with shipper_server.server.client() as http:
        response = http.post("/es/_bulk", content=body, headers={"content-type": "application/x-ndjson"})
    assert response.status_code == 200
    assert response.headers["x-elastic-product"] == "Elasticsearch"
    assert b'"errors":false,"items":[' in response.content
    items = response.json()["items"]
    assert [list(item) for item in items] == [["create"], ["create"]]
    assert items[0]["create"]["status"] == 201 and items[0]["create"]["_index"] == group
    assert len(items[0]["create"]["_id"]) == 20
    (event, _) = search(shipper_server.server, group, want=2)
    assert event["message"] == "GET /healthz 200"


def test_unparseable_document_is_stored_raw(shipper_server: ShipperServer) -> None:
    """A document that is not JSON is stored as text with es.parse_error, not failed."""
    group = unique_group("raw").lstrip("/").replace("/", "-")
    body = orjson.dumps({"index": {"_index": group}}) + b"\nnot json at all {\n"
    with shipper_server.server.client() as http:
        response = http.post(f"/es/{group}/_bulk", content=body)
    assert response.status_code == 200 and response.json()["errors"] is False
    (event,) = search(shipper_server.server, group)
    assert event["message"] == "not json at all {"
    assert event["fields"]["es"]["parse_error"] is True


def test_delete_and_missing_index_are_item_errors(shipper_server: ShipperServer) -> None:
    """delete answers 404 per item and an action without an index 400, the rest is stored."""
    group = unique_group("items").lstrip("/").replace("/", "-")
    body = b"\n".join(
        [
            orjson.dumps({"delete": {"_index": group, "_id": "1"}}),
            orjson.dumps({"index": {}}),
            b'{"message": "no index"}',
            orjson.dumps({"index": {"_index": group, "_id": "given"}}),
            b'{"message": "kept"}',
        ]
    )
    with shipper_server.server.client() as http:
        response = http.post("/es/_bulk", content=body)
    result = response.json()
    assert result["errors"] is True
    statuses = [next(iter(item.values()))["status"] for item in result["items"]]
    assert statuses == [404, 400, 201]
    assert result["items"][2]["index"]["_id"] == "given"
    (event,) = search(shipper_server.server, group)
    assert event["message"] == "kept" and event["fields"]["es"]["id"] == "given"


def test_malformed_action_line_fails_the_request_with_es_error(shipper_server: ShipperServer) -> None:
    """An action line that is not JSON is a 400 in Elasticsearch's error shape, with the header."""
    with shipper_server.server.client() as http:
        response = http.post("/es/_bulk", content=b"{not json\n{}\n")
    assert response.status_code == 400
    assert response.headers["x-elastic-product"] == "Elasticsearch"
    assert response.json()["error"]["type"] == "illegal_argument_exception"
    assert healthy(shipper_server.server)


def test_probes_answer_like_elasticsearch(shipper_server: ShipperServer) -> None:
    """GET/HEAD /es/, _license, _cluster/health, templates and an unauthenticated call."""
    with shipper_server.server.client() as http:
        assert http.head("/es/").status_code == 200
        info = http.get("/es/").json()
        assert info["tagline"] == "You Know, for Search" and info["version"]["build_flavor"] == "default"
        assert http.get("/es/_license").json()["license"]["status"] == "active"
        assert http.get("/es/_cluster/health").json()["status"] == "green"
        put = http.put("/es/_index_template/logs", json={"index_patterns": ["x"]})
        assert put.json() == {"acknowledged": True}
        assert http.head("/es/_template/logstash").status_code == 200
    with shipper_server.server.anonymous() as http:
        denied = http.get("/es/")
    assert denied.status_code == 401 and denied.headers["x-elastic-product"] == "Elasticsearch"


def test_single_document_write(shipper_server: ShipperServer) -> None:
    """rsyslog's single-document POST /{index}/{type} answers 201 without a status key."""
    group = unique_group("single").lstrip("/").replace("/", "-")
    with shipper_server.server.client() as http:
        response = http.post(f"/es/{group}/events", json={"message": "one", "fromhost": "node-a"})
    assert response.status_code == 201 and "status" not in response.json()
    (event,) = search(shipper_server.server, group)
    assert (event["message"], event["stream"]) == ("one", "node-a")


def test_key_that_may_not_write_the_group_is_refused(shipper_server: ShipperServer) -> None:
    """A key scoped to other groups gets 403 for an index routed outside them."""
    with shipper_server.server.client() as http:
        created = http.post("/api/v1/keys", json={"role": "shipper", "groups": "/allowed/*"})
        assert created.status_code == 201, created.text
        key = created.json()
    es = Elasticsearch(
        f"{shipper_server.url}/es", basic_auth=(key["access_key_id"], key["secret_access_key"])
    )
    with es, pytest.raises(Exception, match=r"403|security_exception|AuthorizationException"):
        helpers.bulk(es, [{"_index": "forbidden", "_source": {"message": "x"}}])


_SYSLOG_NG = shutil.which("syslog-ng") or "/usr/sbin/syslog-ng"


@pytest.mark.skipif(
    not Path(_SYSLOG_NG).exists(), reason="syslog-ng is not installed (Debian syslog-ng-core)"
)
def test_syslog_ng_elasticsearch_http_destination(shipper_server: ShipperServer, tmp_path: Path) -> None:
    """Debian's syslog-ng elasticsearch-http() destination delivers to /es/_bulk."""
    if not Path("/usr/share/syslog-ng/include/scl/elasticsearch/elastic-http.conf").exists():
        pytest.skip("syslog-ng's SCL with elasticsearch-http() is not installed (Debian syslog-ng-scl)")
    server = shipper_server.server
    group = unique_group("syslogng").lstrip("/").replace("/", "-")
    port = free_port()
    config = tmp_path / "syslog-ng.conf"
    config.write_text(
        f"""@version: 3.38
@include "scl.conf"
options {{ time-reopen(1); stats-freq(0); }};
source s_in {{ network(transport("tcp") ip("127.0.0.1") port({port})); }};
destination d_es {{
  elasticsearch-http(
    url("{server.url}/es/_bulk") index("{group}-2024.01.23") type("")
    user("{server.access_key_id}") password("{server.secret_access_key}")
    batch-lines(10) batch-timeout(200)
  );
}};
log {{ source(s_in); destination(d_es); }};
"""
    )
    errors = tmp_path / "syslog-ng.err"
    err_file = errors.open("wb")
    process = subprocess.Popen(
        [
            _SYSLOG_NG, "-F", "-f", str(config), "--no-caps",
            "--persist-file", str(tmp_path / "persist"), "--pidfile", str(tmp_path / "pid"),
            "--control", str(tmp_path / "ctl"),
        ],
        stdout=subprocess.DEVNULL,
        stderr=err_file,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
                    for n in range(3):
                        sock.sendall(
                            f"<11>Jan 23 10:15:3{n} node-a payments[42]: charge {n} declined\n".encode()
                        )
                break
            except OSError:
                assert process.poll() is None, errors.read_text()
                assert time.monotonic() < deadline
                time.sleep(0.2)
        events = search(server, group, want=3, timeout=30)
    finally:
        process.terminate()
        process.wait(20)
        err_file.close()
    assert [e["message"] for e in events] == [f"charge {n} declined" for n in range(3)]
    assert events[0]["service"] == "payments"
    assert events[0]["fields"]["PROGRAM"] == "payments"
    assert events[0]["level"] == "error"
