"""Logs Insights text -> tokens with positions.

The lexer is driven by the parser: a ``/`` starts a regular expression only where the
parser expects one (after ``like``, ``=~`` or in ``parse``); everywhere else it divides.
Keywords are names the parser recognises, in any case. ``#`` starts a comment that runs to
the end of the line.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass

from logpond.model.errors import MalformedQueryError
from logpond.query._source import malformed

__all__ = ["DURATION_UNITS", "Lexer", "Token", "TokenKind", "canonical_unit"]


class TokenKind(enum.Enum):
    """What a token is."""

    NAME = "name"  # a field or keyword: @timestamp, a.b.0, `foo-bar`, @`x:y`
    NUMBER = "number"  # 12, 1.5, 1e-3
    DURATION = "duration"  # 5m, 1h, 100ms
    STRING = "string"  # "..." or '...'
    REGEX = "regex"  # /.../
    OP = "op"  # | , ( ) [ ] = != < <= > >= =~ + - * / % ^ :
    END = "end"


@dataclass(frozen=True)
class Token:
    """A token, where it is, and its value (unescaped for strings, names and regexes)."""

    kind: TokenKind
    value: str
    start: int
    end: int
    quoted: bool = False  # a name written in backticks

    def describe(self) -> str:
        """The token as an error message shows it."""
        if self.kind is TokenKind.END:
            return "the end of the query"
        if self.kind is TokenKind.STRING:
            return f"string {self.value[:30]!r}"
        return repr(self.value[:30])

    def is_word(self, *words: str) -> bool:
        """Whether this is an unquoted name equal (ignoring case) to one of ``words``."""
        return (
            self.kind is TokenKind.NAME
            and not self.quoted
            and self.value.lower() in {w.lower() for w in words}
        )


# Units of durations and periods, each spelling to its canonical one.
DURATION_UNITS: dict[str, str] = {}
for _canonical, _spellings in {
    "ms": ("ms", "msec", "msecs", "millisecond", "milliseconds"),
    "s": ("s", "sec", "secs", "second", "seconds"),
    "m": ("m", "min", "mins", "minute", "minutes"),
    "h": ("h", "hr", "hrs", "hour", "hours"),
    "d": ("d", "day", "days"),
    "w": ("w", "week", "weeks"),
    "mo": ("mo", "mon", "mons", "month", "months"),
    "q": ("q", "qtr", "qtrs", "quarter", "quarters"),
    "y": ("y", "yr", "yrs", "year", "years"),
}.items():
    for _spelling in _spellings:
        DURATION_UNITS[_spelling] = _canonical


def canonical_unit(unit: str) -> str | None:
    """The canonical spelling of a time unit, or None if it is not one."""
    return DURATION_UNITS.get(unit.lower())


_NAME_RE = re.compile(r"@*[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)*")
_NUMBER_RE = re.compile(r"(?:[0-9]+(?:\.[0-9]+)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?")
_UNIT_RE = re.compile(r"[A-Za-z]+")
_OPERATORS = ("!=", "<=", ">=", "=~", "|", ",", "(", ")", "[", "]", "=", "<", ">", "+", "-",
              "*", "/", "%", "^", ":")  # fmt: skip
_STRING_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", '"': '"', "'": "'"}


class Lexer:
    """Reads tokens from a query text; ``peek``/``next`` by the parser, ``regex`` on demand."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.last_end = 0  # where the last consumed token ends
        self._peeked: Token | None = None

    def error(self, message: str, start: int, end: int | None = None) -> MalformedQueryError:
        return malformed(message, self.text, start, end)

    def _skip(self) -> None:
        text = self.text
        while self.pos < len(text):
            char = text[self.pos]
            if char.isspace():
                self.pos += 1
            elif char == "#":
                newline = text.find("\n", self.pos)
                self.pos = len(text) if newline < 0 else newline + 1
            else:
                return

    def peek(self) -> Token:
        if self._peeked is None:
            self._peeked = self._read()
        return self._peeked

    def next(self) -> Token:
        token = self.peek()
        self._peeked = None
        self.last_end = token.end
        return token

    def at_slash(self) -> bool:
        """Whether the next token would start with ``/`` (a regex where one is expected)."""
        if self._peeked is not None:
            return self._peeked.kind is TokenKind.OP and self._peeked.value == "/"
        self._skip()
        return self.text.startswith("/", self.pos)

    def regex(self) -> Token:
        """A ``/regex/`` at the cursor; ``\\/`` stands for a slash inside it."""
        if self._peeked is not None:
            self.pos = self._peeked.start
            self._peeked = None
        self._skip()
        start = self.pos
        text = self.text
        index = start + 1
        out: list[str] = []
        while index < len(text):
            char = text[index]
            if char == "\\" and index + 1 < len(text):
                if text[index + 1] == "/":
                    out.append("/")
                else:
                    out.append(text[index : index + 2])
                index += 2
                continue
            if char == "/":
                self.pos = self.last_end = index + 1
                return Token(TokenKind.REGEX, "".join(out), start, self.pos)
            if char == "\n":
                break
            out.append(char)
            index += 1
        raise self.error("unterminated regular expression", start, index)

    def _read(self) -> Token:
        self._skip()
        text = self.text
        start = self.pos
        if start >= len(text):
            return Token(TokenKind.END, "", start, start)
        char = text[start]
        if char in "\"'":
            return self._string(char)
        if char == "`" or (char == "@" and text.startswith("`", start + 1)):
            return self._quoted_name()
        number = _NUMBER_RE.match(text, start)
        if number and (char.isdigit() or char == "."):
            end = number.end()
            unit = _UNIT_RE.match(text, end)
            if unit:
                if canonical_unit(unit.group()) is None or not number.group().isdigit():
                    raise self.error(f"unknown time unit {unit.group()!r}", unit.start(), unit.end())
                self.pos = unit.end()
                return Token(TokenKind.DURATION, text[start : self.pos], start, self.pos)
            self.pos = end
            return Token(TokenKind.NUMBER, number.group(), start, end)
        name = _NAME_RE.match(text, start)
        if name:
            self.pos = name.end()
            return Token(TokenKind.NAME, name.group(), start, self.pos)
        for op in _OPERATORS:
            if text.startswith(op, start):
                self.pos = start + len(op)
                return Token(TokenKind.OP, op, start, self.pos)
        raise self.error(f"unexpected character {char!r}", start, start + 1)

    def _string(self, quote: str) -> Token:
        text = self.text
        start = self.pos
        index = start + 1
        out: list[str] = []
        while index < len(text):
            char = text[index]
            if char == "\\" and index + 1 < len(text):
                following = text[index + 1]
                if following in _STRING_ESCAPES:
                    out.append(_STRING_ESCAPES[following])
                else:
                    out.append(text[index : index + 2])
                index += 2
                continue
            if char == quote:
                self.pos = index + 1
                return Token(TokenKind.STRING, "".join(out), start, self.pos)
            out.append(char)
            index += 1
        raise self.error("unterminated string", start, len(text))

    def _quoted_name(self) -> Token:
        text = self.text
        start = self.pos
        prefix = "@" if text[start] == "@" else ""
        opening = start + len(prefix)
        close = text.find("`", opening + 1)
        newline = text.find("\n", opening + 1)
        if close < 0 or (0 <= newline < close):
            raise self.error("unterminated `quoted name`", start, len(text) if close < 0 else newline)
        name = text[opening + 1 : close]
        if not name:
            raise self.error("empty `quoted name`", start, close + 1)
        self.pos = close + 1
        return Token(TokenKind.NAME, prefix + name, start, self.pos, quoted=True)
