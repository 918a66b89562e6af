"""The event record is the same in Python, in the Arrow matcher and in both SQL engines."""

from __future__ import annotations

import json
from typing import Any

import pytest
import re2
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlglot import exp

from logpond.model.errors import InvalidParameterError
from logpond.query.execute import run_query
from logpond.query.matcher import message_column
from logpond.query.plan import PlanOptions
from logpond.query.record import (
    decode_ptr,
    encode_ptr,
    format_number,
    format_timestamp,
    iso_timestamp,
    json_string,
    rebuild_message,
)
from logpond.query.sql.base import RenderContext
from logpond.query.sql.record import RecordSQL

from .querycases import DIALECTS, EngineTables, event_batch, event_row, events_table

TRICKY = [
    "plain",
    'quote " and backslash \\ and slash /',
    "tab\tnewline\ncarriage\rbell\x07escape\x1b",
    "unicode é ü 中文 😀 and line separators \u2028 \u2029",
    "del \x7f and nul-free controls \x01\x1f",
    "'; DROP TABLE events; --",
    "",
]

EVENTS: list[dict[str, Any]] = [
    {"time": 1_700_000_000_123, "message": text, "level": "info", "trace_id": text or None,
     "fields": {"k": text, "n": 1, "nested": {"x": [1, "two"]}}}
    for text in TRICKY
] + [
    {"time": 0, "message": "epoch", "fields": {}},
    {"time": -1, "message": "before the epoch", "fields": {"a": None}},
    {"time": 253_402_300_799_999, "message": "last millisecond of 9999"},
    {"time": 1_700_000_000_000, "message": '{"a": 1}'},
    {"time": 1_700_000_000_000, "message": None, "service": "svc", "fields": {"only": "fields"}},
    {"time": 1_700_000_000_000, "message": "a\nb", "tenant_id": "t\x0bx", "fields": {"n": 1}},
    {"time": 1_700_000_000_000, "message": "plain text, not structured: level info"},
    {"time": 1_700_000_000_000, "message": "m", "level": "warn", "fields": " { \"w\" : [1, 2] } "},
]  # fmt: skip
ROWS = [event_row(e) for e in EVENTS]


@pytest.fixture(scope="module")
def record_tables(engine_tables: EngineTables) -> EngineTables:
    """The tricky events as ``rec.events`` on both engines."""
    engine_tables.create("rec", events_table(ROWS))
    return engine_tables


def _python_messages() -> list[str | None]:
    return [
        rebuild_message(
            r["timestamp"],
            r["message"],
            r["fields"],
            (r["level"], r["trace_id"], r["span_id"], r["tenant_id"], r["service"]),
        )
        for r in ROWS
    ]


def test_json_string_is_valid_json_for_every_character() -> None:
    """json_string's output parses back to the same text for every tricky string."""
    for text in TRICKY:
        assert json.loads(json_string(text)) == text


def test_rebuilt_message_is_json_with_the_record_in_order() -> None:
    """A structured event's @message is a JSON object: timestamp, promoted columns, fields."""
    rebuilt = _python_messages()[0]
    assert rebuilt is not None
    record = json.loads(rebuilt)
    assert list(record) == ["timestamp", "level", "trace_id", "message", "k", "n", "nested"]
    assert record["timestamp"] == "2023-11-14T22:13:20.123Z"


def test_arrow_matcher_rebuilds_message_like_python() -> None:
    """The Arrow matcher's @message equals the Python definition for every event."""
    assert message_column(event_batch(ROWS)).to_pylist() == _python_messages()


@pytest.mark.parametrize("engine", ["duckdb", "clickhouse"])
def test_sql_rebuilds_message_like_python(engine: str, record_tables: EngineTables) -> None:
    """Each SQL engine's @message equals the Python definition for every event."""
    result = run_query(
        "fields @message | sort @ptr asc",
        dialect=engine,
        connection=record_tables.connection(engine),
        source=exp.to_table("rec.events"),
        options=PlanOptions(now_ms=1),
    )
    by_seq = {decode_ptr(r["@ptr"])[1]: r.get("@message") for r in result.records()}
    assert [by_seq[seq] for seq in range(1, len(ROWS) + 1)] == _python_messages()


@pytest.mark.parametrize("engine", ["duckdb", "clickhouse"])
def test_ptr_points_at_group_and_event(engine: str, record_tables: EngineTables) -> None:
    """Every @ptr decodes to the event's group and id, and equals encode_ptr of them."""
    result = run_query(
        "fields @timestamp",
        dialect=engine,
        connection=record_tables.connection(engine),
        source=exp.to_table("rec.events"),
        options=PlanOptions(now_ms=1),
    )
    pointers = [r["@ptr"] for r in result.records()]
    decoded = sorted(decode_ptr(p) for p in pointers)
    assert decoded == [("/app/api", seq) for seq in range(1, len(ROWS) + 1)]
    assert all(encode_ptr(*decode_ptr(p)) == p for p in pointers)


@pytest.mark.parametrize("engine", ["duckdb", "clickhouse"])
def test_timestamps_format_like_python(engine: str, record_tables: EngineTables) -> None:
    """@timestamp and the timestamp member read the same in SQL as in Python, epoch edges too."""
    result = run_query(
        "fields @timestamp, timestamp | filter ispresent(timestamp)",
        dialect=engine,
        connection=record_tables.connection(engine),
        source=exp.to_table("rec.events"),
        options=PlanOptions(now_ms=1),
    )
    for row in result.records():
        seq = decode_ptr(row["@ptr"])[1]
        stamp = ROWS[seq - 1]["timestamp"]
        assert row["@timestamp"] == format_timestamp(stamp)
        assert row["timestamp"] == iso_timestamp(stamp)


def test_python_time_formats() -> None:
    """Times format with milliseconds in UTC, before the epoch too."""
    assert format_timestamp(-1) == "1969-12-31 23:59:59.999"
    assert iso_timestamp(1_700_000_000_123) == "2023-11-14T22:13:20.123Z"


def test_number_text() -> None:
    """Whole numbers print without a fraction, others in their shortest exact form."""
    assert [format_number(v) for v in (3, 3.0, -0.5, 0.1 + 0.2, 1e20, 2.5e-7)] == [
        "3",
        "3",
        "-0.5",
        "0.30000000000000004",
        "1e+20",
        "2.5e-07",
    ]


def test_bad_pointer_is_an_invalid_parameter() -> None:
    """A pointer that is not one of ours is refused as a bad parameter."""
    for pointer in ("", "!!!", encode_ptr("g", 1)[:-2] + "==", "bm9jb2xvbg"):
        with pytest.raises(InvalidParameterError):
            decode_ptr(pointer)


# Needles that lie inside one piece of a rebuilt @message, at its edges, or across an escape.
NEEDLES = [
    "plain", "n", "nb", "rbell", "tnewline", "u001B", "001B", "1B", "B", "bell", "u2028",
    "level", "time", "stamp", "e", "info", "2023-11-14", "T22:13:20.123Z", "14T22", "nested",
    "two", "1,", ":1", "ly", "only", "svc", "é", "中文 😀", "[1, 2]", "w", "2 ", " [1", "u000Bx",
    "0Bx", "Bx", "x", "DROP TABLE", "level info", "slash /", ",\"n", "{", "1}", "a", "rr",
]  # fmt: skip


def _contains_rows(engine: str, tables: EngineTables, needle: str) -> list[int] | None:
    """The seqs whose @message contains ``needle``, by the column-wise test (None: not used)."""
    ctx = RenderContext(DIALECTS[engine])
    predicate = RecordSQL(ctx).message_contains(needle)
    if predicate is None:
        return None
    select = (
        exp.select("seq")
        .from_(exp.to_table("rec.events"))
        .where(exp.func("coalesce", predicate, exp.false()))
        .order_by("seq")
    )
    rendered = ctx.dialect.render(ctx.dialect.finish(select), ctx.params)
    table = ctx.dialect.run(tables.connection(engine), rendered)
    return [int(seq) for seq in table.column("seq").to_pylist()]


def _python_rows(needle: str) -> list[int]:
    return [i + 1 for i, text in enumerate(_python_messages()) if text is not None and needle in text]


@pytest.mark.parametrize("engine", ["duckdb", "clickhouse"])
@pytest.mark.parametrize("needle", NEEDLES)
def test_message_substring_without_rebuilding_it(
    engine: str, needle: str, record_tables: EngineTables
) -> None:
    """Testing @message for a substring column by column finds exactly the rebuilt matches."""
    found = _contains_rows(engine, record_tables, needle)
    if found is not None:
        assert found == _python_rows(needle)


def test_message_substring_refuses_needles_that_span_pieces() -> None:
    """Needles with quotes, braces, backslashes, controls or outer blanks keep the rebuild."""
    record = RecordSQL(RenderContext(DIALECTS["duckdb"]))
    for needle in ['"k"', "{", "}", "a\\b", "a\nb", " x", "x ", ",", ":", ""]:
        assert record.message_contains(needle) is None
    assert record.message_contains("x y") is not None


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(needle=st.text(alphabet="abnrtuBE0123 ,:é\u2028\x0b\n", min_size=1, max_size=6))
def test_generated_message_substrings_match_python(needle: str, record_tables: EngineTables) -> None:
    """Any needle the column-wise test accepts finds what a search of the rebuilt text finds."""
    found = _contains_rows("duckdb", record_tables, needle)
    if found is not None:
        assert found == _python_rows(needle)


REGEXES = ["rbell", "tnewline|u001B", "level", "2023-1[0-9]", "only", "nested.*two", "plain|svc", "1B\\b"]


@pytest.mark.parametrize("engine", ["duckdb", "clickhouse"])
@pytest.mark.parametrize("regex", REGEXES)
def test_message_regex_with_required_text_matches_python(
    engine: str, regex: str, record_tables: EngineTables
) -> None:
    """A regex on @message, tested for its required text first, finds what RE2 finds."""
    result = run_query(
        f"fields @ptr | filter @message like /{regex}/",
        dialect=engine,
        connection=record_tables.connection(engine),
        source=exp.to_table("rec.events"),
        options=PlanOptions(now_ms=1),
    )
    found = sorted(decode_ptr(r["@ptr"])[1] for r in result.records())
    compiled = re2.compile("(?s)" + regex)
    expected = [
        i + 1 for i, text in enumerate(_python_messages()) if text is not None and compiled.search(text)
    ]
    assert found == expected
