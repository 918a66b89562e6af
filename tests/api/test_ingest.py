"""The native ingest endpoint against a real server: partial acceptance, limits, encodings."""

from __future__ import annotations

import gzip
import zlib
from typing import Any

import orjson
import zstandard

from logpond.model.limits import MAX_EVENT_BYTES

from ..conftest import LiveServer, ndjson, unique_group

SAMPLE = {
    "timestamp": "2026-01-24T10:15:30.123Z",
    "level": "info",
    "message": "HTTP Request",
    "trace_id": "abc-123-def-456",
    "tenant_id": "tenant_acme",
    "service": "qualisys-api",
    "environment": "production",
    "method": "POST",
    "path": "/api/v1/test-cases",
    "status": 201,
    "duration_ms": 145,
    "user_agent": "Mozilla/5.0...",
}


def _ingest(server: LiveServer, group: str, body: bytes, **headers: str) -> dict[str, object]:
    with server.client() as http:
        response = http.post(
            "/api/v1/ingest",
            params={"group": group, "stream": "s1"},
            content=body,
            headers={"content-type": "application/x-ndjson", **headers},
        )
    assert response.status_code == 200, response.text
    result: dict[str, object] = response.json()
    return result


def _search(server: LiveServer, group: str, **spec: object) -> list[dict[str, object]]:
    with server.client() as http:
        response = http.post("/api/v1/events/search", json={"groups": [group], "limit": 1000, **spec})
    assert response.status_code == 200, response.text
    events: list[dict[str, object]] = response.json()["events"]
    return events


def test_sample_entry_is_stored_with_promoted_columns(logpond_server: LiveServer) -> None:
    """The source story's sample entry comes back with its promoted columns and fields."""
    group = unique_group()
    assert _ingest(logpond_server, group, ndjson(SAMPLE)) == {"accepted": 1, "rejected": []}
    (event,) = _search(logpond_server, group)
    assert event["time"] == "2026-01-24T10:15:30.123Z"
    assert (event["level"], event["message"], event["trace_id"]) == (
        "info",
        "HTTP Request",
        "abc-123-def-456",
    )
    assert (event["tenant_id"], event["service"]) == ("tenant_acme", "qualisys-api")
    assert event["fields"] == {
        "environment": "production",
        "method": "POST",
        "path": "/api/v1/test-cases",
        "status": 201,
        "duration_ms": 145,
        "user_agent": "Mozilla/5.0...",
    }


def test_bad_records_are_rejected_and_the_rest_stored(logpond_server: LiveServer) -> None:
    """One bad record is listed with its line and reason; every other line is stored."""
    group = unique_group()
    body = b"\n".join(
        [
            orjson.dumps({"message": "first"}),
            b"this line is not json",
            orjson.dumps({"message": "bad time", "timestamp": "yesterday-ish"}),
            b"",
            b"\xff\xfe not utf-8",
            orjson.dumps({"message": "last", "timestamp": 1769249730}),
        ]
    )
    result = _ingest(logpond_server, group, body)
    assert result["accepted"] == 3
    rejected: list[dict[str, Any]] = result["rejected"]  # type: ignore[assignment]
    assert [(r["line"], r["reason"].split(" ")[0]) for r in rejected] == [
        (3, "invalid"),
        (5, "not"),
    ]
    messages = sorted(str(e["message"]) for e in _search(logpond_server, group))
    assert messages == ["first", "last", "this line is not json"]


def test_plain_text_lines_become_messages(logpond_server: LiveServer) -> None:
    """text/plain bodies store one message per line, stamped with the ingestion time."""
    group = unique_group()
    result = _ingest(logpond_server, group, b"line one\r\nline two\n", **{"content-type": "text/plain"})
    assert result == {"accepted": 2, "rejected": []}
    events = _search(logpond_server, group, order="asc")
    assert [e["message"] for e in events] == ["line one", "line two"]
    assert all(e["fields"] is None for e in events)


def test_json_array_body_is_accepted(logpond_server: LiveServer) -> None:
    """application/json may carry an array of records."""
    group = unique_group()
    body = orjson.dumps([{"message": "a"}, {"message": "b"}, "a plain string"])
    result = _ingest(logpond_server, group, body, **{"content-type": "application/json"})
    assert result == {"accepted": 3, "rejected": []}


def test_timestamps_in_every_unit_are_read(logpond_server: LiveServer) -> None:
    """Epoch seconds, milliseconds, nanoseconds and ISO-8601 with an offset all mean one instant."""
    group = unique_group()
    instant = 1769249730123
    records: list[dict[str, Any]] = [
        {"message": "s", "timestamp": instant / 1000},
        {"message": "ms", "timestamp": instant},
        {"message": "ns", "timestamp": instant * 1_000_000},
        {"message": "iso", "timestamp": "2026-01-24T12:15:30.123+02:00"},
        {"message": "string ms", "time": str(instant)},
    ]
    assert _ingest(logpond_server, group, ndjson(*records))["accepted"] == 5
    assert {e["timestamp"] for e in _search(logpond_server, group)} == {instant}


def test_gzip_deflate_and_zstd_bodies_are_accepted(logpond_server: LiveServer) -> None:
    """Compressed bodies are decompressed: gzip, zlib and raw deflate, zstd."""
    group = unique_group()
    body = ndjson({"message": "compressed"})
    raw = zlib.compressobj(wbits=-15)
    encodings = {
        "gzip": gzip.compress(body),
        "deflate": zlib.compress(body),
        "zstd": zstandard.ZstdCompressor().compress(body),
    }
    for encoding, data in encodings.items():
        assert _ingest(logpond_server, group, data, **{"content-encoding": encoding})["accepted"] == 1
    raw_deflate = raw.compress(body) + raw.flush()
    assert _ingest(logpond_server, group, raw_deflate, **{"content-encoding": "deflate"})["accepted"] == 1
    assert len(_search(logpond_server, group)) == 4


def test_gzip_bomb_is_refused(logpond_server: LiveServer) -> None:
    """A small gzip body that inflates past the limit is refused with 413, storing nothing."""
    group = unique_group()
    bomb = gzip.compress(b"\n" * (65 * 1024 * 1024), compresslevel=9)
    assert len(bomb) < 200_000
    with logpond_server.client() as http:
        response = http.post(
            "/api/v1/ingest",
            params={"group": group},
            content=bomb,
            headers={"content-encoding": "gzip", "content-type": "text/plain"},
        )
    assert response.status_code == 413
    assert response.json()["error"] == "PayloadTooLargeException"


def test_body_over_the_limit_is_refused(logpond_server: LiveServer) -> None:
    """A body declared larger than the limit is refused with 413 before it is read."""
    with logpond_server.client() as http:
        response = http.post(
            "/api/v1/ingest",
            params={"group": unique_group()},
            content=b"x" * (64 * 1024 * 1024 + 1),
            headers={"content-type": "text/plain"},
        )
    assert response.status_code == 413


def test_record_over_one_mebibyte_is_rejected_alone(logpond_server: LiveServer) -> None:
    """A record over 1 MiB is rejected with a reason; its neighbours are stored."""
    group = unique_group()
    big = orjson.dumps({"message": "x" * MAX_EVENT_BYTES})
    result = _ingest(
        logpond_server, group, ndjson({"message": "small"}) + big + b"\n" + ndjson({"message": "after"})
    )
    assert result["accepted"] == 2
    rejections: list[dict[str, Any]] = result["rejected"]  # type: ignore[assignment]
    (rejected,) = rejections
    assert rejected["line"] == 2 and "limit" in rejected["reason"]


def test_record_of_exactly_one_mebibyte_is_stored(logpond_server: LiveServer) -> None:
    """A plain-text line of exactly 1,048,576 bytes is within the limit."""
    group = unique_group()
    line = b"y" * MAX_EVENT_BYTES
    result = _ingest(logpond_server, group, line, **{"content-type": "text/plain"})
    assert result == {"accepted": 1, "rejected": []}


def test_invalid_group_and_stream_names_are_refused(logpond_server: LiveServer) -> None:
    """Names outside CloudWatch's rules get 400 with a message saying what is wrong."""
    with logpond_server.client() as http:
        bad_group = http.post("/api/v1/ingest", params={"group": "bad name!"}, content=b"x")
        bad_stream = http.post("/api/v1/ingest", params={"group": "/ok", "stream": "a:b"}, content=b"x")
        long_group = http.post("/api/v1/ingest", params={"group": "/" + "a" * 512}, content=b"x")
        missing = http.post("/api/v1/ingest", content=b"x")
    assert bad_group.status_code == 400 and "may only contain" in bad_group.json()["message"]
    assert bad_stream.status_code == 400 and ":" in bad_stream.json()["message"]
    assert long_group.status_code == 400 and "too long" in long_group.json()["message"]
    assert missing.status_code == 400


def test_unsupported_content_type_and_encoding_are_refused(logpond_server: LiveServer) -> None:
    """415 for a content type or encoding the endpoint does not read."""
    with logpond_server.client() as http:
        xml = http.post(
            "/api/v1/ingest",
            params={"group": "/ok"},
            content=b"<a/>",
            headers={"content-type": "application/xml"},
        )
        brotli = http.post(
            "/api/v1/ingest", params={"group": "/ok"}, content=b"x", headers={"content-encoding": "br"}
        )
        corrupt = http.post(
            "/api/v1/ingest",
            params={"group": "/ok"},
            content=b"not gzip",
            headers={"content-encoding": "gzip"},
        )
    assert xml.status_code == 415
    assert brotli.status_code == 415
    assert corrupt.status_code == 400


def test_unknown_group_is_created_for_a_key_that_may_create_groups(logpond_server: LiveServer) -> None:
    """The root key may create groups, so ingest into a new name creates it."""
    group = unique_group()
    _ingest(logpond_server, group, ndjson({"message": "hello"}))
    with logpond_server.client() as http:
        described = http.get(f"/api/v1/groups/{group}")
    assert described.status_code == 200
    assert described.json()["name"] == group


def test_unknown_group_is_404_for_a_key_that_may_not_create_groups(logpond_server: LiveServer) -> None:
    """A shipper key gets 404 with a clear message instead of creating a group."""
    with logpond_server.client() as http:
        key = http.post("/api/v1/keys", json={"role": "shipper", "groups": "/test/*"}).json()
    group = unique_group()
    with logpond_server.client(key["access_key_id"], key["secret_access_key"]) as http:
        response = http.post(
            "/api/v1/ingest",
            params={"group": group},
            content=b"hello",
            headers={"content-type": "text/plain"},
        )
    assert response.status_code == 404
    assert response.json()["message"] == "log group not found, and this key may not create log groups"
    assert response.json()["log_group"] == group


def test_events_older_than_retention_are_rejected(logpond_server: LiveServer) -> None:
    """An event that has already expired under the group's retention is rejected one by one."""
    group = unique_group()
    with logpond_server.client() as http:
        assert http.post("/api/v1/groups", json={"name": group, "retention_days": 1}).status_code == 201
    old = {"message": "old", "timestamp": "2020-01-01T00:00:00Z"}
    result = _ingest(logpond_server, group, ndjson(old, {"message": "new"}))
    assert result["accepted"] == 1
    assert result["rejected"] == [{"line": 1, "reason": "timestamp is older than the log group's retention"}]
