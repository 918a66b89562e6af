"""Logging never raises into the application, whatever part of the SDK fails."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import pytest

import logpond.sdk as lp
from logpond.sdk import _diagnostics, _runtime
from logpond.sdk._shipper import Response
from logpond.sdk.testing import InternalErrors


class BrokenTransport:
    """Raises an unexpected error on every send."""

    def __init__(self) -> None:
        self.calls = 0

    def send(self, path: str, body: bytes, headers: Mapping[str, str]) -> Response:
        self.calls += 1
        raise RuntimeError("transport bug")

    def close(self) -> None:
        pass


def log_everywhere() -> None:
    lp.get_logger("app").info("native", a=1)
    logging.getLogger("app").info("stdlib %s", "x")
    try:
        raise ValueError("handled")
    except ValueError:
        lp.get_logger("app").exception("with error")


def test_serializer_failure_does_not_raise(
    monkeypatch: pytest.MonkeyPatch, sdk_errors: InternalErrors, capfd: pytest.CaptureFixture[str]
) -> None:
    """A serializer that raises costs the record, never an exception; stderr says so once."""
    sdk_errors.allow("emit")
    lp.init("svc", "test", output="stdout")

    def broken(record: Any) -> bytes:
        raise MemoryError("serializer bug")

    monkeypatch.setattr(_runtime, "dumps", broken)
    log_everywhere()
    log_everywhere()
    assert sdk_errors.kinds().count("emit") == 6
    assert capfd.readouterr().err.count("a record could not be written") == 1


def test_queue_failure_does_not_raise(monkeypatch: pytest.MonkeyPatch, sdk_errors: InternalErrors) -> None:
    """An enqueue that raises is reported, not raised."""
    sdk_errors.allow("emit")
    _runtime.init("svc", "test", endpoint="http://127.0.0.1:9", transport=BrokenTransport())
    shipper = _runtime.current().shipper
    assert shipper is not None

    def broken(line: bytes, levelno: int) -> bool:
        raise RuntimeError("queue bug")

    monkeypatch.setattr(shipper, "enqueue", broken)
    log_everywhere()
    assert "emit" in sdk_errors.kinds()


def test_network_failure_does_not_raise_and_the_worker_survives(sdk_errors: InternalErrors) -> None:
    """A transport raising anything leaves logging calls silent and the worker alive."""
    sdk_errors.allow("retries_exhausted", "shutdown")
    transport = BrokenTransport()
    _runtime.init("svc", "test", endpoint="http://127.0.0.1:9", transport=transport,
                  retry_budget=0.2, flush_interval=0.05)  # fmt: skip
    log_everywhere()
    assert lp.flush(5)
    log_everywhere()
    assert lp.flush(5)
    shipper = _runtime.current().shipper
    assert shipper is not None
    assert shipper.dropped["retries_exhausted"] == 6
    assert transport.calls >= 2


def test_redactor_failure_does_not_raise(monkeypatch: pytest.MonkeyPatch, sdk_errors: InternalErrors) -> None:
    """A redactor that raises is reported and the record is written without the caller's data."""
    sdk_errors.allow("redaction")
    lp.init("svc", "test", output=())

    def broken(body: dict[str, Any]) -> dict[str, Any]:
        raise RecursionError("redactor bug")

    monkeypatch.setattr(_runtime.current(), "redact", broken)
    log_everywhere()
    assert sdk_errors.kinds() == ["redaction"] * 3


def test_a_broken_stream_does_not_raise(monkeypatch: pytest.MonkeyPatch, sdk_errors: InternalErrors) -> None:
    """A closed stdout does not make logging raise."""
    sdk_errors.allow("emit")
    lp.init("svc", "test", output="stdout")

    class Closed:
        def write(self, text: str) -> int:
            raise ValueError("I/O operation on closed file")

        def flush(self) -> None:
            raise ValueError("I/O operation on closed file")

    monkeypatch.setattr("sys.stdout", Closed())
    log_everywhere()
    assert sdk_errors.kinds() == ["emit"] * 3


def test_internal_reports_reach_stderr_once_a_minute_per_kind(
    capfd: pytest.CaptureFixture[str], sdk_errors: InternalErrors
) -> None:
    """The same kind of trouble is written to stderr once per minute; another kind gets its own line."""
    sdk_errors.allow("kind-a", "kind-b")
    for _ in range(5):
        _diagnostics.report("kind-a", "trouble a")
    _diagnostics.report("kind-b", "trouble b")
    err = capfd.readouterr().err
    assert err.count("trouble a") == 1
    assert err.count("trouble b") == 1
