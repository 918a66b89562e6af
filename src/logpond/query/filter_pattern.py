"""Filter patterns (FilterLogEvents, metric filters, live tail): text -> AST.

Three families, told apart by the first non-blank character::

    { $.status >= 500 && $.path = "/api/*" }      JSON pattern          -> JsonPattern
    [ip, user, ..., status = 5*, bytes > 1000]      space-delimited        -> DelimitedPattern
    ERROR ?WARN -healthcheck "disk full" %^x[0-9]%  terms, phrases, regex  -> TermPattern

An empty or blank pattern (or a blank quoted phrase) matches every event: ``MatchAll``.
The AST (:mod:`logpond.query.filter_pattern_ast`, re-exported here) renders canonical
text, and ``parse(p.render()) == p``.
Errors are :class:`~logpond.model.errors.InvalidParameterError` (CloudWatch answers bad
patterns with ``InvalidParameterException``) with ``line``, ``column``, ``offset``,
``end_offset`` and ``snippet`` in ``details``.

The semantics live in two executions that share this AST: SQL predicates
(:mod:`logpond.query.sql.filter_pattern`) and the Arrow matcher
(:mod:`logpond.query.matcher`).
"""

from __future__ import annotations

import re

import pyarrow as pa
import pyarrow.compute as pc

from logpond.model.errors import InvalidParameterError

from ._source import bad_character, invalid_pattern
from .filter_pattern_ast import (
    ColumnAnd,
    ColumnComparison,
    ColumnCondition,
    ColumnOr,
    DelimitedColumn,
    DelimitedPattern,
    FilterPattern,
    JsonAnd,
    JsonCheck,
    JsonComparison,
    JsonExpr,
    JsonOr,
    JsonPattern,
    MatchAll,
    MetricValue,
    MixedOptional,
    PatternNumber,
    PatternRegex,
    PatternString,
    PatternValue,
    Selector,
    Term,
    TermKind,
    TermPattern,
)

__all__ = [
    "MAX_FILTER_PATTERN_CHARS",
    "MAX_REGEXES_PER_PATTERN",
    "ColumnAnd",
    "ColumnComparison",
    "ColumnCondition",
    "ColumnOr",
    "DelimitedColumn",
    "DelimitedPattern",
    "FilterPattern",
    "JsonAnd",
    "JsonCheck",
    "JsonComparison",
    "JsonExpr",
    "JsonOr",
    "JsonPattern",
    "MatchAll",
    "MetricValue",
    "MixedOptional",
    "PatternNumber",
    "PatternRegex",
    "PatternString",
    "PatternValue",
    "Selector",
    "Term",
    "TermKind",
    "TermPattern",
    "parse_filter_pattern",
    "parse_metric_value",
]

# CloudWatch: a filter pattern is 0-1024 characters, with at most two %regex% in it.
MAX_FILTER_PATTERN_CHARS = 1024
MAX_REGEXES_PER_PATTERN = 2
# A metric value (``1``, ``$.latency``, ``$bytes``) is at most 100 characters.
MAX_METRIC_VALUE_CHARS = 100

_NUMBER_RE = re.compile(r"[-+]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?")
_KEY_RE = re.compile(r"[A-Za-z0-9_\-]+")
_NAME_RE = re.compile(r"[A-Za-z0-9_\-]+")
# A %regex% may use letters, digits, these symbols and the regex operators; nothing else.
_REGEX_ALLOWED_RE = re.compile(r"[A-Za-z0-9:_#=@/;,\-^$?\[\]{}|\\*+.]*")
_BARE_STOP = frozenset(' \t\r\n()&|,]}"')


# --- parser ---------------------------------------------------------------------------------


class _Scanner:
    """Position-tracking reader over the pattern text."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.regexes = 0

    def error(self, message: str, start: int | None = None, end: int | None = None) -> InvalidParameterError:
        offset = self.pos if start is None else start
        return invalid_pattern(message, self.text, offset, end)

    def skip_blanks(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos].isspace():
            self.pos += 1

    def peek(self, n: int = 1) -> str:
        return self.text[self.pos : self.pos + n]

    def at_end(self) -> bool:
        return self.pos >= len(self.text)

    def accept(self, token: str) -> bool:
        self.skip_blanks()
        if self.text.startswith(token, self.pos):
            self.pos += len(token)
            return True
        return False

    def accept_word(self, word: str) -> bool:
        """Accept a keyword (any case) that is not the start of a longer word."""
        self.skip_blanks()
        end = self.pos + len(word)
        if self.text[self.pos : end].upper() == word and (
            end >= len(self.text) or not (self.text[end].isalnum() or self.text[end] == "_")
        ):
            self.pos = end
            return True
        return False

    def expect(self, token: str, what: str) -> None:
        if not self.accept(token):
            raise self.error(f"expected {what}")

    def quoted(self) -> str:
        """A double-quoted string at the cursor; ``\\"`` and ``\\\\`` are escapes."""
        start = self.pos
        self.pos += 1
        out: list[str] = []
        while self.pos < len(self.text):
            char = self.text[self.pos]
            if char == "\\" and self.pos + 1 < len(self.text) and self.text[self.pos + 1] in '"\\':
                out.append(self.text[self.pos + 1])
                self.pos += 2
                continue
            if char == '"':
                self.pos += 1
                return "".join(out)
            out.append(char)
            self.pos += 1
        raise self.error("unterminated quoted string", start, len(self.text))

    def regex(self) -> str:
        """A ``%regex%`` at the cursor, checked against CloudWatch's character rules and RE2."""
        start = self.pos
        end = self.text.find("%", start + 1)
        if end < 0:
            raise self.error("unterminated %regex%", start, len(self.text))
        body = self.text[start + 1 : end]
        self.pos = end + 1
        self.regexes += 1
        if self.regexes > MAX_REGEXES_PER_PATTERN:
            raise self.error("a filter pattern may hold at most 2 regular expressions", start, end + 1)
        check_regex(body, self, start + 1)
        return body


def check_regex(body: str, scanner: _Scanner, offset: int) -> None:
    """Raise unless ``body`` is a regex CloudWatch filter patterns allow."""
    if not body:
        raise scanner.error("empty regular expression", offset - 1, offset + 1)
    allowed = _REGEX_ALLOWED_RE.match(body)
    bad = allowed.end() if allowed else 0
    if bad < len(body):
        raise scanner.error(
            f"character {body[bad]!r} is not allowed in a filter pattern regex",
            offset + bad,
            offset + bad + 1,
        )
    try:
        pc.match_substring_regex(pa.array([""]), body)
    except pa.ArrowInvalid as exc:
        message = str(exc).removeprefix("Invalid regular expression: ")
        raise scanner.error(f"invalid regular expression: {message}", offset, offset + len(body)) from None


def parse_filter_pattern(text: str) -> FilterPattern:
    """Parse a filter pattern; raises ``InvalidParameterError`` with the position on error."""
    if not isinstance(text, str):
        raise InvalidParameterError("filter pattern must be a string")
    if len(text) > MAX_FILTER_PATTERN_CHARS:
        raise invalid_pattern(
            f"filter pattern is longer than {MAX_FILTER_PATTERN_CHARS} characters",
            text,
            MAX_FILTER_PATTERN_CHARS,
            len(text),
        )
    bad = bad_character(text)
    if bad is not None:
        raise invalid_pattern("invalid character in filter pattern", text, bad, bad + 1)
    scanner = _Scanner(text)
    scanner.skip_blanks()
    if scanner.at_end():
        return MatchAll()
    first = scanner.peek()
    if first == "{":
        pattern: FilterPattern = _parse_json(scanner)
    elif first == "[":
        pattern = _parse_delimited(scanner)
    else:
        return _parse_terms(scanner)
    scanner.skip_blanks()
    if not scanner.at_end():
        raise scanner.error("unexpected text after the end of the pattern", scanner.pos, len(text))
    return pattern


def _parse_terms(scanner: _Scanner) -> FilterPattern:
    terms: list[Term] = []
    text = scanner.text
    while True:
        scanner.skip_blanks()
        if scanner.at_end():
            break
        start = scanner.pos
        modifier = ""
        if scanner.peek() in ("?", "-"):
            modifier = scanner.peek()
            scanner.pos += 1
            if scanner.at_end() or text[scanner.pos].isspace():
                # "ERROR - Exiting": a lone modifier applies to the next term.
                scanner.skip_blanks()
                if scanner.at_end():
                    raise scanner.error(f"expected a term after {modifier!r}", start, start + 1)
        char = scanner.peek()
        if char == '"':
            phrase = scanner.quoted()
            if not phrase.strip():
                continue  # a blank phrase (" ") matches every event
            terms.append(Term(TermKind.PHRASE, phrase, modifier, start))
        elif char == "%" and _regex_token_end(text, scanner.pos) is not None:
            terms.append(Term(TermKind.REGEX, scanner.regex(), modifier, start))
        else:
            word_start = scanner.pos
            while scanner.pos < len(text) and not text[scanner.pos].isspace():
                scanner.pos += 1
            terms.append(Term(TermKind.WORD, text[word_start : scanner.pos], modifier, start))
    if not terms:
        return MatchAll()
    return TermPattern(tuple(terms))


def _regex_token_end(text: str, pos: int) -> int | None:
    """Where a ``%regex%`` token starting at ``pos`` ends, if the next ``%`` closes one."""
    end = text.find("%", pos + 1)
    if end < 0:
        return None
    if end + 1 < len(text) and not text[end + 1].isspace():
        return None
    return end + 1


# JSON patterns ------------------------------------------------------------------------------


def _parse_json(scanner: _Scanner) -> JsonPattern:
    scanner.expect("{", "'{'")
    expr = _json_or(scanner)
    scanner.skip_blanks()
    if not scanner.accept("}"):
        raise scanner.error("expected '&&', '||' or '}'")
    return JsonPattern(expr)


def _json_or(scanner: _Scanner) -> JsonExpr:
    items = [_json_and(scanner)]
    while scanner.accept("||"):
        items.append(_json_and(scanner))
    return items[0] if len(items) == 1 else JsonOr(tuple(items))


def _json_and(scanner: _Scanner) -> JsonExpr:
    items = [_json_unary(scanner)]
    while scanner.accept("&&"):
        items.append(_json_unary(scanner))
    return items[0] if len(items) == 1 else JsonAnd(tuple(_flatten_and(items)))


def _flatten_and(items: list[JsonExpr]) -> list[JsonExpr]:
    out: list[JsonExpr] = []
    for item in items:
        out.extend(item.items if isinstance(item, JsonAnd) else (item,))
    return out


def _json_unary(scanner: _Scanner) -> JsonExpr:
    scanner.skip_blanks()
    if scanner.accept("("):
        inner = _json_or(scanner)
        if not scanner.accept(")"):
            raise scanner.error("expected ')'")
        return inner
    selector = _selector(scanner)
    scanner.skip_blanks()
    check_start = scanner.pos
    if scanner.accept_word("IS"):
        for word in ("NULL", "TRUE", "FALSE"):
            if scanner.accept_word(word):
                return JsonCheck(selector, f"IS {word}")
        raise scanner.error("expected NULL, TRUE or FALSE after IS (IS NOT is not supported)", check_start)
    if scanner.accept_word("NOT"):
        if scanner.accept_word("EXISTS"):
            return JsonCheck(selector, "NOT EXISTS")
        raise scanner.error("expected EXISTS after NOT")
    if scanner.accept_word("EXISTS"):
        raise scanner.error('EXISTS is not supported; use = "*" or NOT EXISTS', check_start, scanner.pos)
    op = _operator(scanner)
    value = _value(scanner, op)
    return JsonComparison(selector, op, value)


def _selector(scanner: _Scanner) -> Selector:
    start = scanner.pos
    if scanner.peek() != "$":
        raise scanner.error("expected a selector such as $.field")
    scanner.pos += 1
    path: list[str | int] = []
    text = scanner.text
    while scanner.pos < len(text):
        char = text[scanner.pos]
        if char == ".":
            match = _KEY_RE.match(text, scanner.pos + 1)
            if not match:
                raise scanner.error("expected a property name after '.'", scanner.pos + 1)
            path.append(match.group())
            scanner.pos = match.end()
        elif char == "[":
            match = re.compile(r"\[([0-9]+)\]").match(text, scanner.pos)
            if not match or not path:
                raise scanner.error("expected an array index such as [0] after a property")
            path.append(int(match.group(1)))
            scanner.pos = match.end()
        else:
            break
    if not path:
        raise scanner.error("expected a selector such as $.field", start, scanner.pos)
    return Selector(tuple(path), start)


def _operator(scanner: _Scanner) -> str:
    scanner.skip_blanks()
    for op in ("!=", "<=", ">=", "=", "<", ">"):
        if scanner.text.startswith(op, scanner.pos):
            scanner.pos += len(op)
            return op
    raise scanner.error("expected a comparison operator (= != < <= > >=), IS or NOT EXISTS")


def _value(scanner: _Scanner, op: str) -> PatternValue:
    scanner.skip_blanks()
    start = scanner.pos
    char = scanner.peek()
    value: PatternValue
    if char == '"':
        value = PatternString(scanner.quoted())
    elif char == "%":
        value = PatternRegex(scanner.regex())
    else:
        text = scanner.text
        while scanner.pos < len(text) and text[scanner.pos] not in _BARE_STOP:
            if text.startswith("&&", scanner.pos) or text.startswith("||", scanner.pos):
                break
            scanner.pos += 1
        bare = text[start : scanner.pos]
        if not bare:
            raise scanner.error("expected a value")
        value = PatternNumber(bare) if _NUMBER_RE.fullmatch(bare) else PatternString(bare)
    if op not in ("=", "!=") and not isinstance(value, PatternNumber):
        raise scanner.error(f"{op} compares numbers only", start, scanner.pos)
    return value


# Space-delimited patterns ------------------------------------------------------------------


def _parse_delimited(scanner: _Scanner) -> DelimitedPattern:
    scanner.expect("[", "'['")
    columns: list[DelimitedColumn] = []
    spans: list[tuple[int, dict[str, None]]] = []
    while True:
        scanner.skip_blanks()
        start = scanner.pos
        if scanner.accept("..."):
            columns.append(DelimitedColumn(None, ellipsis=True))
        elif scanner.peek() in (",", "]"):
            columns.append(DelimitedColumn(None))
        else:
            condition = _column_or(scanner)
            if isinstance(condition, str):
                columns.append(DelimitedColumn(condition))
            else:
                names = _condition_names(condition)
                columns.append(DelimitedColumn(next(iter(names)), condition))
                spans.append((start, names))
        scanner.skip_blanks()
        if scanner.accept("]"):
            break
        if not scanner.accept(","):
            raise scanner.error("expected ',' or ']'")
    if all(c.name is None and not c.ellipsis for c in columns) and len(columns) == 1:
        raise scanner.error("expected at least one column", 0, scanner.pos)
    known = {c.name for c in columns if c.name is not None}
    seen: set[str] = set()
    for column in columns:
        if column.name is not None:
            if column.name in seen:
                raise scanner.error(f"column {column.name!r} is named twice", 0, scanner.pos)
            seen.add(column.name)
    for start, names in spans:
        unknown = set(names) - known
        if unknown:
            raise scanner.error(f"condition refers to unknown column {sorted(unknown)[0]!r}", start)
    return DelimitedPattern(tuple(columns))


def _condition_names(condition: ColumnCondition) -> dict[str, None]:
    if isinstance(condition, ColumnComparison):
        return {condition.name: None}
    out: dict[str, None] = {}
    for item in condition.items:
        out.update(_condition_names(item))
    return out


def _column_or(scanner: _Scanner) -> ColumnCondition | str:
    first = _column_and(scanner)
    if isinstance(first, str):
        return first
    items = [first]
    while scanner.accept("||"):
        item = _column_and(scanner)
        if isinstance(item, str):
            raise scanner.error("expected a condition after '||'")
        items.append(item)
    return items[0] if len(items) == 1 else ColumnOr(tuple(items))


def _column_and(scanner: _Scanner) -> ColumnCondition | str:
    first = _column_unary(scanner)
    if isinstance(first, str):
        return first
    items = [first]
    while scanner.accept("&&"):
        item = _column_unary(scanner)
        if isinstance(item, str):
            raise scanner.error("expected a condition after '&&'")
        items.append(item)
    if len(items) == 1:
        return items[0]
    flat: list[ColumnCondition] = []
    for item in items:
        flat.extend(item.items if isinstance(item, ColumnAnd) else (item,))
    return ColumnAnd(tuple(flat))


def _column_unary(scanner: _Scanner) -> ColumnCondition | str:
    """A parenthesized condition, ``name op value``, or a bare name (returned as ``str``)."""
    scanner.skip_blanks()
    if scanner.accept("("):
        inner = _column_or(scanner)
        if isinstance(inner, str):
            raise scanner.error("expected a condition inside parentheses")
        if not scanner.accept(")"):
            raise scanner.error("expected ')'")
        return inner
    match = _NAME_RE.match(scanner.text, scanner.pos)
    if not match:
        raise scanner.error("expected a column name, '...' or a condition")
    scanner.pos = match.end()
    scanner.skip_blanks()
    if scanner.peek() in (",", "]", ""):
        return match.group()
    op = _operator(scanner)
    return ColumnComparison(match.group(), op, _value(scanner, op))


# Metric values -----------------------------------------------------------------------------


def parse_metric_value(text: str, pattern: FilterPattern | None = None) -> MetricValue:
    """Parse ``1``, ``$.json.path`` or ``$column``; a column must be one of ``pattern``'s."""
    if not isinstance(text, str) or not text or len(text) > MAX_METRIC_VALUE_CHARS:
        raise InvalidParameterError("metric value must be 1-100 characters", max=MAX_METRIC_VALUE_CHARS)
    stripped = text.strip()
    if _NUMBER_RE.fullmatch(stripped):
        return MetricValue(number=float(stripped))
    scanner = _Scanner(text)
    scanner.skip_blanks()
    if stripped.startswith("$."):
        selector = _selector(scanner)
        scanner.skip_blanks()
        if not scanner.at_end():
            raise scanner.error("unexpected text after the selector")
        return MetricValue(selector=selector)
    if stripped.startswith("$") and _NAME_RE.fullmatch(stripped[1:]):
        name = stripped[1:]
        if isinstance(pattern, DelimitedPattern) and not (
            name in pattern.names() or (name.isdigit() and 0 < int(name) <= 10_000)
        ):
            raise invalid_pattern(f"metric value refers to unknown column {name!r}", text, 0, len(text))
        if pattern is not None and not isinstance(pattern, DelimitedPattern):
            raise invalid_pattern("$name metric values need a space-delimited pattern", text, 0, len(text))
        return MetricValue(column=name)
    raise invalid_pattern("metric value must be a number, $.selector or $column", text, 0, len(text))
