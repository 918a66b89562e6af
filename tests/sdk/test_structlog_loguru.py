"""structlog and loguru write the same records as the stdlib path for the same call."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest
import structlog
from loguru import logger as loguru_logger

import logpond.sdk as lp
from logpond.sdk.integrations import loguru as lp_loguru
from logpond.sdk.integrations import structlog as lp_structlog
from logpond.sdk.testing import CapturedRecords

from .helpers import init_capture

TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"


def without_timestamp(record: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in record.items() if k != "timestamp"}


@pytest.fixture
def structlog_configured() -> Iterator[None]:
    structlog.configure(
        processors=[structlog.processors.add_log_level, lp_structlog.LogpondRenderer()],
        wrapper_class=structlog.make_filtering_bound_logger(logging.INFO),
        cache_logger_on_first_use=False,
    )
    yield
    structlog.reset_defaults()


def test_structlog_renderer_equals_the_stdlib_path(
    structlog_configured: None, records: CapturedRecords
) -> None:
    """A structlog call and the same stdlib call produce the same record (golden test)."""
    init_capture()
    with lp.context_scope(trace_id=TRACE, tenant_id="acme", user_id=3):
        structlog.get_logger().info("order placed", order_id=42, email="jane@acme.com", logger="orders")
        logging.getLogger("orders").info("order placed", extra={"order_id": 42, "email": "jane@acme.com"})
    from_structlog, from_stdlib = records.records
    assert without_timestamp(from_structlog) == without_timestamp(from_stdlib)
    assert from_structlog["email"] == "j***@***.com"
    assert from_structlog["trace_id"] == TRACE


def test_structlog_exceptions_and_bound_fields(structlog_configured: None, records: CapturedRecords) -> None:
    """``log.exception`` renders ``error``; ``bind`` fields become record fields."""
    init_capture()
    log = structlog.get_logger().bind(job="sync")
    try:
        raise KeyError("missing")
    except KeyError:
        log.exception("sync failed")
    (record,) = records.records
    assert (record["level"], record["job"], record["error"]["name"]) == ("error", "sync", "KeyError")


def test_structlog_context_processor_and_structlog_contextvars(records: CapturedRecords) -> None:
    """``add_logpond_context`` and structlog's ``merge_contextvars`` both become record keys."""
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            lp_structlog.add_logpond_context,
            structlog.processors.add_log_level,
            lp_structlog.LogpondRenderer(),
        ],
        cache_logger_on_first_use=False,
    )
    try:
        init_capture()
        structlog.contextvars.bind_contextvars(request_path="/x")
        with lp.context_scope(trace_id=TRACE, tenant_id="acme"):
            structlog.get_logger().warning("slow")
        structlog.contextvars.clear_contextvars()
    finally:
        structlog.reset_defaults()
    (record,) = records.records
    assert (record["trace_id"], record["tenant_id"], record["request_path"]) == (TRACE, "acme", "/x")
    assert "fields" not in record


def test_processor_formatter_renders_foreign_records_like_the_formatter(records: CapturedRecords) -> None:
    """Inside ``ProcessorFormatter`` a foreign stdlib record renders as ``LogpondFormatter`` renders it."""
    init_capture(capture_stdlib=False)
    formatter = structlog.stdlib.ProcessorFormatter(processors=[lp_structlog.LogpondJSONRenderer()])
    plain = lp.LogpondFormatter()
    record = logging.LogRecord("lib", logging.WARNING, __file__, 1, "disk %s%%", (91,), None)
    record.created = 1769249730.123
    record.mount = "/data"
    with lp.context_scope(trace_id=TRACE):
        expected = plain.format(record)
        assert formatter.format(record) == expected
    assert '"message":"disk 91%"' in expected and '"mount":"/data"' in expected


def test_structlog_redact_processor_for_other_renderers() -> None:
    """The ``redact`` processor masks event dicts that other renderers will write."""
    init_capture()
    event = lp_structlog.redact(None, "info", {"event": "mail a@b.co", "password": "x", "_record": None})
    assert event["event"] == "mail a***@***.co"
    assert event["password"] == "[REDACTED:secret]"
    assert event["redacted"] == ["email", "secret"]


@pytest.fixture
def loguru_sink() -> Iterator[None]:
    loguru_logger.remove()
    loguru_logger.configure(patcher=lp_loguru.patcher)
    sink_id = loguru_logger.add(lp_loguru.sink, level="INFO", format="{message}")
    yield
    loguru_logger.remove(sink_id)
    loguru_logger.configure(patcher=None)


def test_loguru_sink_equals_the_stdlib_path(loguru_sink: None, records: CapturedRecords) -> None:
    """A loguru call (``bind`` and ``contextualize`` included) and the stdlib call give the same record."""
    init_capture()
    with lp.context_scope(trace_id=TRACE, tenant_id="acme"):
        with loguru_logger.contextualize(order_id=42):
            loguru_logger.bind(email="jane@acme.com").info("order placed")
        logging.getLogger(__name__).info("order placed", extra={"order_id": 42, "email": "jane@acme.com"})
    from_loguru, from_stdlib = records.records
    assert without_timestamp(from_loguru) == without_timestamp(from_stdlib)
    assert from_loguru["logger"] == __name__


def test_loguru_exception_and_enqueue_keeps_the_callers_context(records: CapturedRecords) -> None:
    """With ``enqueue=True`` the patcher captures the context on the calling thread."""
    init_capture()
    loguru_logger.remove()
    loguru_logger.configure(patcher=lp_loguru.patcher)
    sink_id = loguru_logger.add(lp_loguru.sink, level="INFO", enqueue=True)
    try:
        with lp.context_scope(trace_id=TRACE):
            try:
                raise ValueError("bad")
            except ValueError:
                loguru_logger.exception("failed")
        loguru_logger.complete()
    finally:
        loguru_logger.remove(sink_id)
        loguru_logger.configure(patcher=None)
    (record,) = records.records
    assert (record["trace_id"], record["level"], record["error"]["name"]) == (TRACE, "error", "ValueError")
