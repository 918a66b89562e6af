"""The NDJSON and plain-text decoders: promotion rules, rejections, line numbers."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from logpond.ingest.base import DecodeContext, Decoded
from logpond.ingest.ndjson import NDJSONDecoder, PlainTextDecoder
from logpond.model.limits import MAX_EVENT_BYTES

NOW = 1_700_000_000_000
CONTEXT = DecodeContext("/g", "s", NOW, "application/x-ndjson")


def rows(decoded: Decoded) -> list[dict[str, Any]]:
    result: list[dict[str, Any]] = decoded.batch.to_pylist()
    return result


def one(record: dict[str, Any]) -> dict[str, Any]:
    decoded = NDJSONDecoder().decode(orjson.dumps(record), CONTEXT)
    assert decoded.rejections == []
    (row,) = rows(decoded)
    return row


def test_promoted_keys_leave_the_fields() -> None:
    """Promoted keys become columns; the other keys, in order, become the fields object."""
    row = one(
        {
            "timestamp": 1,
            "level": "INFO",
            "message": "m",
            "trace_id": "t",
            "span_id": "sp",
            "tenant_id": "te",
            "service": "svc",
            "b": 2,
            "a": {"n": [1, None]},
        }
    )
    assert {k: row[k] for k in ("level", "message", "trace_id", "span_id", "tenant_id", "service")} == {
        "level": "info",
        "message": "m",
        "trace_id": "t",
        "span_id": "sp",
        "tenant_id": "te",
        "service": "svc",
    }
    assert row["fields"] == '{"b":2,"a":{"n":[1,null]}}'
    assert row["timestamp"] == 1000


@pytest.mark.parametrize(
    ("record", "column", "value"),
    [
        ({"msg": "pino"}, "message", "pino"),
        ({"log": "docker"}, "message", "docker"),
        ({"message": "first", "msg": "second"}, "message", "first"),
        ({"level": 30}, "level", "info"),
        ({"level": 50}, "level", "error"),
        ({"severity": "WARNING"}, "level", "warning"),
        ({"levelname": "DEBUG"}, "level", "debug"),
        ({"traceId": "abc"}, "trace_id", "abc"),
        ({"trace_id": 42}, "trace_id", "42"),
        ({"tenantId": "t1"}, "tenant_id", "t1"),
        ({"@timestamp": "2026-01-24T10:15:30.123Z"}, "timestamp", 1_769_249_730_123),
        ({"time": 1_769_249_730}, "timestamp", 1_769_249_730_000),
        ({}, "timestamp", NOW),
    ],
)
def test_aliases(record: dict[str, Any], column: str, value: object) -> None:
    """Common logger spellings fill the same columns; the first alias present wins."""
    assert one(record)[column] == value


def test_non_scalar_values_are_not_promoted() -> None:
    """An object under a promoted key stays in the fields, untouched."""
    row = one({"service": {"name": "api"}, "message": ["a"], "level": True})
    assert row["service"] is None and row["message"] is None and row["level"] is None
    assert orjson.loads(row["fields"]) == {"service": {"name": "api"}, "message": ["a"], "level": True}


def test_lines_that_are_not_objects_are_plain_messages() -> None:
    """Invalid JSON and JSON that is not an object are kept as text with the ingestion time."""
    body = b'not json\n[1, 2]\n"a string"\n42\n{"message": "ok"}'
    decoded = NDJSONDecoder().decode(body, CONTEXT)
    assert [r["message"] for r in rows(decoded)] == ["not json", "[1, 2]", '"a string"', "42", "ok"]
    assert {r["timestamp"] for r in rows(decoded)} == {NOW}
    assert decoded.lines.to_pylist() == [1, 2, 3, 4, 5]


def test_rejections_carry_line_numbers_and_reasons() -> None:
    """Blank lines count for numbering but are not events; bad records say why."""
    body = b"\n".join(
        [
            b'{"message": "a"}',
            b"",
            b"   ",
            b'{"timestamp": "soon"}',
            b"\xc3\x28 bad utf-8",
            b'{"message": "' + b"x" * MAX_EVENT_BYTES + b'"}',
            b'{"message": "z"}\r',
        ]
    )
    decoded = NDJSONDecoder().decode(body, CONTEXT)
    assert [r["message"] for r in rows(decoded)] == ["a", "z"]
    assert decoded.lines.to_pylist() == [1, 7]
    reasons = {r.line: r.reason for r in decoded.rejections}
    assert reasons[4] == "invalid timestamp 'soon'"
    assert reasons[5].startswith("not valid UTF-8")
    assert "over the 1048576 byte limit" in reasons[6]


def test_json_documents_for_application_json() -> None:
    """application/json accepts an array of records or a single (even pretty-printed) object."""
    context = DecodeContext("/g", "s", NOW, "application/json")
    array = NDJSONDecoder().decode(b'[{"message": "a"}, {"message": "b"}]', context)
    pretty = NDJSONDecoder().decode(b'{\n  "message": "pretty"\n}', context)
    assert [r["message"] for r in rows(array)] == ["a", "b"]
    assert [r["message"] for r in rows(pretty)] == ["pretty"]


def test_plain_text_decoder() -> None:
    """Every non-blank line is one message."""
    decoded = PlainTextDecoder().decode(b'one\r\n\ntwo {"x":1}\n', CONTEXT)
    assert [r["message"] for r in rows(decoded)] == ["one", 'two {"x":1}']
    assert all(r["fields"] is None for r in rows(decoded))
    assert decoded.lines.to_pylist() == [1, 3]
