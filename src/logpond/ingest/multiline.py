"""Joining the lines of a Python traceback, a Java (C#, V8) stack trace or a Go panic.

Container runtimes write each line of a stack trace as its own record. A
:class:`MultilineJoiner` follows one stream's lines with one small state machine per
language: a line that starts a trace opens a record, lines that continue it are appended,
and any other line closes it (and is emitted alone, or starts the next trace). Python
traces end at their exception line. What is still open when the input ends (one request,
or one batch of a listener) is emitted as it is: no record waits across requests, so an
acknowledgement never covers an event that is not yet stored. The shipper joins what it
splits across its own batches (Fluent Bit's ``multiline.parser``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

__all__ = ["MultilineJoiner"]

_PY_START = "Traceback (most recent call last):"
_PY_FRAME = re.compile(r"^[\t ]+File ")
_PY_SOURCE = re.compile(r"^[\t ]+\S")
_PY_END = re.compile(r"^(?:[A-Za-z_]\w*\.)*[A-Za-z_]\w*(?::|$)")
_JAVA_START = re.compile(r"^.+(?:Exception|Error|Throwable|V8 errors stack trace)(?::|$)")
_JAVA_MORE = re.compile(
    r"^(?:\s+at |\s+eval at |\s*(?:Caused by|Suppressed):|\s*\.\.\. \d+ (?:more|common frames omitted)"
    r"|\s*nested exception is:|\s*--- End of )"
)
_GO_START = re.compile(r"\bpanic: |http: panic serving")
_GO_GOROUTINE = re.compile(r"^goroutine \d+ \[[^\]]+\]:$")
_GO_CALL = re.compile(r"^(?:created by .+|[\w./*()\[\]-]+\(.*\))$")
_GO_FILE = re.compile(r"^\s+\S.*:\d+")
_LEVELS = {"python": "error", "java": "error", "go": "fatal"}


@dataclass(slots=True)
class _Open:
    kind: str
    state: str
    item: Any
    record: dict[str, Any]
    key: str
    parts: list[str] = field(default_factory=list)


class MultilineJoiner:
    """Joins stack traces per stream; ``feed`` and ``drain`` return the items to store.

    ``feed`` takes the caller's item (whatever it carries along) and the record in it whose
    ``key`` holds the line; it returns ``(item, level)`` pairs, where a joined trace's item
    is its first line's, its record's text now the whole trace, and ``level`` the level the
    trace implies (error, or fatal for a Go panic), None for a single line.
    """

    __slots__ = ("_open",)

    def __init__(self) -> None:
        self._open: dict[Any, _Open] = {}

    def feed(self, stream: Any, item: Any, record: dict[str, Any], key: str) -> list[tuple[Any, str | None]]:
        text = record.get(key)
        out: list[tuple[Any, str | None]] = []
        current = self._open.get(stream)
        if not isinstance(text, str):
            if current is not None:
                out.append(self._close(stream))
            out.append((item, None))
            return out
        if current is not None:
            if self._continues(current, text):
                current.parts.append(text)
                if current.state == "done":
                    out.append(self._close(stream))
                return out
            out.append(self._close(stream))
        kind = self._starts(text)
        if kind is None:
            out.append((item, None))
            return out
        state = {"python": "frames", "java": "header", "go": "panic"}[kind]
        if kind == "go" and "http: panic serving" in text:
            state = "blank"
        self._open[stream] = _Open(kind, state, item, record, key, [text])
        return out

    def drain(self) -> list[tuple[Any, str | None]]:
        return [self._close(stream) for stream in list(self._open)]

    def _close(self, stream: Any) -> tuple[Any, str | None]:
        opened = self._open.pop(stream)
        if len(opened.parts) == 1:
            return opened.item, None
        opened.record[opened.key] = "\n".join(opened.parts)
        return opened.item, _LEVELS[opened.kind]

    @staticmethod
    def _starts(text: str) -> str | None:
        if text == _PY_START:
            return "python"
        if "panic" in text and _GO_START.search(text):
            return "go"
        if ("Exception" in text or "Error" in text or "Throwable" in text or "V8 errors" in text) and (
            _JAVA_START.match(text)
        ):
            return "java"
        return None

    @staticmethod
    def _continues(current: _Open, text: str) -> bool:
        kind, state = current.kind, current.state
        if kind == "python":
            if _PY_FRAME.match(text):
                current.state = "source"
                return True
            if state == "source" and _PY_SOURCE.match(text):
                current.state = "frames"
                return True
            if len(current.parts) > 1 and _PY_END.match(text):
                current.state = "done"
                return True
            return False
        if kind == "java":
            if _JAVA_MORE.match(text):
                current.state = "frames"
                return True
            return state == "header" and not text.strip()
        # Go: panic line, optional [signal ...], blank, goroutine headers and frames.
        if state == "panic" and text.startswith("[signal"):
            return True
        if not text.strip():
            if state in ("panic", "frames", "file"):
                current.state = "blank"
                return True
            return False
        if state == "blank" and _GO_GOROUTINE.match(text):
            current.state = "frames"
            return True
        if state in ("frames", "file") and _GO_CALL.match(text):
            current.state = "call"
            return True
        if state == "call" and _GO_FILE.match(text):
            current.state = "file"
            return True
        return False
