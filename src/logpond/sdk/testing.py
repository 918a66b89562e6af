"""Helpers for your own tests: see the records your code writes, exactly as they are written.

::

    from logpond.sdk.testing import capture_records

    def test_checkout_logs_the_order():
        with capture_records() as records:
            checkout(order_id=42)
        assert records.find(message="order placed")["order_id"] == 42

The capture sits beside the configured outputs and receives the serialized line (after
redaction and size capping), parsed back into a dict.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from . import _diagnostics, _runtime

__all__ = ["CapturedRecords", "InternalErrors", "capture_records", "internal_errors"]


class CapturedRecords:
    """What a capture saw: ``lines`` (bytes, as written) and ``records`` (parsed)."""

    def __init__(self) -> None:
        self.lines: list[bytes] = []
        self._lock = threading.Lock()

    def write(self, line: bytes, levelno: int) -> None:
        with self._lock:
            self.lines.append(line)

    def flush(self, timeout: float) -> bool:
        return True

    def shutdown(self, timeout: float) -> bool:
        return True

    @property
    def records(self) -> list[dict[str, Any]]:
        with self._lock:
            return [json.loads(line) for line in self.lines]

    def __len__(self) -> int:
        return len(self.lines)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iter(self.records)

    def __getitem__(self, index: int) -> dict[str, Any]:
        return self.records[index]

    def find(self, **match: Any) -> dict[str, Any]:
        """The first record whose fields equal ``match``; ``LookupError`` if none."""
        for record in self.records:
            if all(record.get(k) == v for k, v in match.items()):
                return record
        raise LookupError(f"no record matches {match!r}")

    def where(self, **match: Any) -> list[dict[str, Any]]:
        """Every record whose fields equal ``match``."""
        return [r for r in self.records if all(r.get(k) == v for k, v in match.items())]

    def clear(self) -> None:
        with self._lock:
            self.lines.clear()


@contextmanager
def capture_records() -> Iterator[CapturedRecords]:
    """Capture every record written in the block (and across ``init`` calls inside it)."""
    captured = CapturedRecords()
    _runtime.add_capture(captured)
    try:
        yield captured
    finally:
        _runtime.remove_capture(captured)


class InternalErrors:
    """Internal problems the SDK reported (and swallowed) while installed."""

    def __init__(self) -> None:
        self.reports: list[tuple[str, str, BaseException | None]] = []
        self.allowed: set[str] = set()

    def allow(self, *kinds: str) -> None:
        """Mark these kinds as expected (a test that provokes them on purpose)."""
        self.allowed.update(kinds)

    def unexpected(self) -> list[tuple[str, str, BaseException | None]]:
        """Reports of kinds not allowed."""
        return [r for r in self.reports if r[0] not in self.allowed]

    def __call__(self, kind: str, message: str, error: BaseException | None) -> None:
        self.reports.append((kind, message, error))

    def kinds(self) -> list[str]:
        return [kind for kind, _, _ in self.reports]


@contextmanager
def internal_errors() -> Iterator[InternalErrors]:
    """Collect what the SDK swallows, so a test can fail on it or expect it."""
    collected = InternalErrors()
    previous = _diagnostics.set_hook(collected)
    try:
        yield collected
    finally:
        _diagnostics.set_hook(previous)
