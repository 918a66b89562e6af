"""The stdlib integration: a root handler capturing context on the calling thread."""

from __future__ import annotations

import json
import logging
import logging.config
import threading

import logpond.sdk as lp
from logpond.sdk import LogpondFormatter
from logpond.sdk.formatter import RESERVED_ATTRS
from logpond.sdk.testing import CapturedRecords

from .helpers import init_capture


def test_extra_fields_are_included_and_record_attributes_are_not(records: CapturedRecords) -> None:
    """``extra`` becomes fields; no LogRecord attribute (``taskName``, ``args``…) leaks."""
    init_capture()
    logging.getLogger("app.orders").info("placed %s", 42, extra={"order_id": 42, "amount": 9.5})
    (record,) = records.records
    assert record["message"] == "placed 42"
    assert record["logger"] == "app.orders"
    assert (record["order_id"], record["amount"]) == (42, 9.5)
    for attr in RESERVED_ATTRS:
        assert attr not in record or attr == "message"
    assert {"taskName", "args", "msg", "levelno", "pathname", "process"}.isdisjoint(record)


def test_reserved_attributes_come_from_a_blank_record() -> None:
    """The reserved set holds every attribute a blank LogRecord has on this Python."""
    blank = vars(logging.LogRecord("", 0, "", 0, "", None, None))
    assert set(blank) <= RESERVED_ATTRS


def test_context_is_captured_on_the_calling_thread(records: CapturedRecords) -> None:
    """Each thread's records carry that thread's context, not another one's."""
    init_capture()
    barrier = threading.Barrier(4)

    def work(n: int) -> None:
        with lp.context_scope(trace_id=f"t{n}", tenant_id=f"tenant{n}"):
            barrier.wait()
            for i in range(50):
                logging.getLogger("w").info("step", extra={"n": n, "i": i})

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(records) == 200
    for record in records:
        assert record["trace_id"] == f"t{record['n']}"
        assert record["tenant_id"] == f"tenant{record['n']}"


def test_stack_info_and_exc_info(records: CapturedRecords) -> None:
    """``exc_info`` becomes ``error`` and ``stack_info`` a field."""
    init_capture()
    try:
        raise ValueError("bad value")
    except ValueError:
        logging.getLogger("x").exception("caught", stack_info=True)
    (record,) = records.records
    assert record["error"]["name"] == "ValueError"
    assert "Stack (most recent call last)" in record["stack_info"]


def test_formatter_renders_the_same_record_as_the_handler(records: CapturedRecords) -> None:
    """``LogpondFormatter`` output equals the handler's record for the same LogRecord."""
    init_capture()
    logger = logging.getLogger("fmt")
    formatted: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            formatted.append(self.format(record))

    keep = Keep()
    keep.setFormatter(LogpondFormatter())
    logger.addHandler(keep)
    try:
        with lp.context_scope(trace_id="t-fmt"):
            logger.warning("hello %s", "there", extra={"k": "v"})
    finally:
        logger.removeHandler(keep)
    assert json.loads(formatted[0]) == records.records[0]


def test_dict_config_can_attach_the_handler(records: CapturedRecords) -> None:
    """A ``dictConfig`` naming ``LogpondHandler`` routes records through the SDK pipeline."""
    init_capture(capture_stdlib=False)
    logging.config.dictConfig(
        {
            "version": 1,
            "disable_existing_loggers": False,
            "handlers": {"logpond": {"class": "logpond.sdk.LogpondHandler"}},
            "loggers": {"configured": {"handlers": ["logpond"], "level": "INFO", "propagate": False}},
        }
    )
    try:
        logging.getLogger("configured").info("via dictConfig")
    finally:
        logging.getLogger("configured").handlers.clear()
    assert records.find(message="via dictConfig")["logger"] == "configured"


def test_handler_filters_apply(records: CapturedRecords) -> None:
    """A filter on the logpond handler can drop records."""
    init_capture()
    handler = next(h for h in logging.getLogger().handlers if isinstance(h, lp.LogpondHandler))
    handler.addFilter(lambda record: "secret" not in record.getMessage())
    logging.getLogger("x").info("a secret")
    logging.getLogger("x").info("public")
    assert [r["message"] for r in records.records] == ["public"]
