"""Where in a query text something is: line, column and a snippet, for error messages."""

from __future__ import annotations

from typing import Any

from logpond.model.errors import InvalidParameterError, MalformedQueryError

__all__ = ["bad_character", "invalid_pattern", "locate", "malformed", "snippet"]

_SNIPPET_CHARS = 40


def locate(text: str, offset: int) -> tuple[int, int]:
    """The 1-based line and column of ``offset`` in ``text``."""
    offset = max(0, min(offset, len(text)))
    line = text.count("\n", 0, offset) + 1
    start = text.rfind("\n", 0, offset) + 1
    return line, offset - start + 1


def snippet(text: str, offset: int, end: int | None = None) -> str:
    """The text around ``offset`` (up to the end of its line), shortened for a message."""
    offset = max(0, min(offset, len(text)))
    line_start = text.rfind("\n", 0, offset) + 1
    line_end = text.find("\n", offset)
    if line_end < 0:
        line_end = len(text)
    start = max(line_start, offset - _SNIPPET_CHARS // 2)
    stop = min(line_end, max(offset, end or offset) + _SNIPPET_CHARS // 2)
    return text[start:stop]


def _position(text: str, offset: int, end: int | None) -> dict[str, Any]:
    line, column = locate(text, offset)
    return {
        "line": line,
        "column": column,
        "offset": offset,
        "end_offset": offset if end is None else max(offset, end),
        "snippet": snippet(text, offset, end),
    }


def malformed(message: str, text: str, offset: int, end: int | None = None) -> MalformedQueryError:
    """A :class:`MalformedQueryError` for ``text`` pointing at ``offset``..``end``."""
    return MalformedQueryError(message, **_position(text, offset, end))


def invalid_pattern(message: str, text: str, offset: int, end: int | None = None) -> InvalidParameterError:
    """An :class:`InvalidParameterError` for a filter pattern, with its position in details."""
    return InvalidParameterError(message, **_position(text, offset, end))


def bad_character(text: str) -> int | None:
    """The offset of the first character no query may hold (NUL, lone surrogates), if any."""
    for index, char in enumerate(text):
        if char == "\x00" or "\ud800" <= char <= "\udfff":
            return index
    return None
