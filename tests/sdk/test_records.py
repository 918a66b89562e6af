"""The record schema: keys, timestamps, levels, collisions, errors, size, JSON Lines."""

from __future__ import annotations

import datetime
import json
import logging
from typing import Any

import pytest

import logpond.sdk as lp
from logpond.sdk import _record
from logpond.sdk.testing import CapturedRecords

from .helpers import HEX32_RE, TIMESTAMP_RE, init_capture, json_lines, run_python


def test_record_has_the_source_story_shape(records: CapturedRecords) -> None:
    """A record has the sample entry's keys first, in order, then the caller's fields."""
    init_capture()
    with lp.context_scope(trace_id="abc-123-def-456", tenant_id="tenant_acme"):
        lp.get_logger("api").info("HTTP Request", method="POST", status=201)
    (record,) = records.records
    assert list(record)[:8] == [
        "timestamp", "level", "message", "trace_id", "tenant_id", "service", "environment",
        "logger",
    ]  # fmt: skip
    assert TIMESTAMP_RE.fullmatch(record["timestamp"])
    assert record["level"] == "info"
    assert record["trace_id"] == "abc-123-def-456"
    assert record["tenant_id"] == "tenant_acme"
    assert (record["service"], record["environment"], record["logger"]) == ("svc", "test", "api")
    assert (record["method"], record["status"]) == ("POST", 201)


def test_timestamp_is_utc_with_exactly_three_fraction_digits() -> None:
    """Timestamps are ISO-8601 UTC with milliseconds and ``Z``, at any fraction of a second."""
    assert _record.format_timestamp(1769249730.123456) == "2026-01-24T10:15:30.123Z"
    assert _record.format_timestamp(1769249730.0) == "2026-01-24T10:15:30.000Z"
    assert _record.format_timestamp(1769249730.9994) == "2026-01-24T10:15:30.999Z"
    assert _record.format_timestamp(1769249730.9996) == "2026-01-24T10:15:31.000Z"
    assert _record.format_timestamp(1769249730.123) == "2026-01-24T10:15:30.123Z"


@pytest.mark.parametrize(
    ("levelno", "name"),
    [(5, "debug"), (10, "debug"), (20, "info"), (25, "info"), (30, "warning"), (40, "error"),
     (45, "error"), (50, "critical"), (60, "critical")],
)  # fmt: skip
def test_levels_map_to_five_names(levelno: int, name: str) -> None:
    """Every stdlib level number, custom ones included, maps to one of the five level names."""
    assert _record.level_name(levelno) == name


def test_record_without_context_gets_a_generated_trace_id_and_null_tenant(records: CapturedRecords) -> None:
    """Outside any request a record still has a 32-hex ``trace_id`` and a null ``tenant_id``."""
    init_capture()
    lp.get_logger("x").info("startup")
    (record,) = records.records
    assert HEX32_RE.fullmatch(record["trace_id"])
    assert record["tenant_id"] is None


def test_any_field_name_works_and_collisions_land_under_fields(records: CapturedRecords) -> None:
    """``message``, ``level``, ``trace_id`` as field names go under ``fields``; others stay top-level."""
    init_capture()
    with lp.context_scope(trace_id="t1"):
        lp.get_logger("x").info(
            "real message", message="m", level="l", trace_id="fake", filename="f.py",
            args=[1], name="n", fields={"a": 1},
        )  # fmt: skip
    (record,) = records.records
    assert record["message"] == "real message"
    assert record["level"] == "info"
    assert record["trace_id"] == "t1"
    assert record["fields"] == {"message": "m", "level": "l", "trace_id": "fake", "fields": {"a": 1}}
    assert (record["filename"], record["args"], record["name"]) == ("f.py", [1], "n")


def test_optional_ids_and_context_fields_are_included(records: CapturedRecords) -> None:
    """``span_id``, ``request_id``, ``trace_source`` and other context fields appear in the record."""
    init_capture()
    with lp.context_scope(trace_id="t", tenant_id=None, span_id="00f067aa0ba902b7",
                          request_id="t", trace_source="x-request-id", user_id=7):  # fmt: skip
        lp.get_logger("x").info("hi")
    (record,) = records.records
    assert record["span_id"] == "00f067aa0ba902b7"
    assert record["request_id"] == "t"
    assert record["trace_source"] == "x-request-id"
    assert record["user_id"] == 7


def _raise_chain() -> None:
    try:
        try:
            raise KeyError("inner")
        except KeyError:
            raise ValueError("middle")  # noqa: B904 - an implicit __context__ on purpose
    except ValueError as exc:
        raise RuntimeError("outer") from exc


def test_errors_render_with_cause_and_context_chains(records: CapturedRecords) -> None:
    """``error`` has name, message and stack, and nests ``__cause__`` and ``__context__``."""
    init_capture()
    try:
        _raise_chain()
    except RuntimeError:
        lp.get_logger("x").exception("failed")
    error = records.records[0]["error"]
    assert (error["name"], error["message"]) == ("RuntimeError", "outer")
    assert error["cause"]["name"] == "ValueError"
    assert error["cause"]["context"]["name"] == "KeyError"
    assert "The above exception was the direct cause" in error["stack"]
    assert records.records[0]["level"] == "error"


def test_exception_groups_list_their_members(records: CapturedRecords) -> None:
    """An ``ExceptionGroup`` renders its member exceptions under ``exceptions``."""
    init_capture()
    group = ExceptionGroup("many", [ValueError("a"), TypeError("b")])
    lp.get_logger("x").error("group", exc_info=group)
    error = records.records[0]["error"]
    assert error["name"] == "ExceptionGroup"
    assert [(e["name"], e["message"]) for e in error["exceptions"]] == [
        ("ValueError", "a"), ("TypeError", "b"),
    ]  # fmt: skip
    assert "TypeError: b" in error["stack"]


def test_stack_is_capped_with_a_marker() -> None:
    """A stack longer than the cap is cut and says how much was left out."""

    try:
        raise ValueError("x" * 10_000 + " the end")
    except ValueError as exc:
        rendered = _record.render_error(exc, max_stack_chars=2048)
    assert len(rendered["stack"]) < 2200
    assert "[stack truncated:" in rendered["stack"]
    assert rendered["stack"].startswith("Traceback")
    assert rendered["stack"].rstrip().endswith("the end")


def test_oversized_record_is_truncated_to_the_limit_and_marked(records: CapturedRecords) -> None:
    """A record over 256 KiB is cut to fit, marked ``truncated``, never dropped."""
    init_capture()
    lp.get_logger("x").info("m" * 400_000, blob="b" * 300_000, small=1)
    (line,) = records.lines
    assert len(line) <= 256 * 1024
    record = json.loads(line)
    assert record["truncated"] is True
    assert record["message"].startswith("mmmm")
    assert record["small"] == 1


def test_many_fields_over_the_limit_keep_the_core_keys(records: CapturedRecords) -> None:
    """When cutting strings is not enough, the fields are dropped and the core keys kept."""
    init_capture()
    fields = {f"k{i}": "v" * 8000 for i in range(60)}
    with lp.context_scope(trace_id="t-big"):
        lp.get_logger("x").info("big", **fields)
    record = json.loads(records.lines[0])
    assert len(records.lines[0]) <= 256 * 1024
    assert record["truncated"] is True
    assert record["trace_id"] == "t-big"
    assert "k0" in record["dropped_fields"]


class Unprintable:
    def __str__(self) -> str:
        raise RuntimeError("no str")

    __repr__ = __str__


def test_values_json_cannot_hold_are_rendered_not_raised(records: CapturedRecords) -> None:
    """Sets, bytes, dates, non-string keys, NaN and unprintable objects never break a record."""
    init_capture()
    values: dict[str, Any] = {
        "when": datetime.datetime(2026, 1, 24, 10, 15, tzinfo=datetime.UTC),
        "tags": {"a"},
        "raw": b"\xffok",
        "keys": {1: "one", (2, 3): "tuple"},
        "nan": float("nan"),
        "odd": Unprintable(),
    }
    lp.get_logger("x").info("values", **values)
    (record,) = records.records
    assert record["when"] == "2026-01-24T10:15:00+00:00"
    assert record["tags"] == ["a"]
    assert record["odd"].startswith("<unprintable")


def test_stdout_gets_whole_lines_from_many_threads() -> None:
    """Records written to stdout from 8 threads at once are whole JSON lines, none interleaved."""
    done = run_python(
        """
        import threading
        import logpond.sdk as lp
        lp.init("svc", "test", output="stdout")
        log = lp.get_logger("t")
        def work(n):
            for i in range(2000):
                log.info("x" * (i % 300), thread=n, i=i)
        threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
        for t in threads: t.start()
        for t in threads: t.join()
        """
    )
    assert done.returncode == 0, done.stderr
    lines = json_lines(done.stdout)
    assert len(lines) == 16_000
    assert {(r["thread"], r["i"]) for r in lines} == {(n, i) for n in range(8) for i in range(2000)}


def test_stdout_output_is_utf8_json_lines(capfd: pytest.CaptureFixture[str]) -> None:
    """``output="stdout"`` writes one UTF-8 JSON object per line."""
    lp.init("svc", "test", output="stdout")
    logging.getLogger("x").info("héllo ✓")
    out = capfd.readouterr().out
    assert json.loads(out.splitlines()[-1])["message"] == "héllo ✓"
