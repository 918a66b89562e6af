"""Filter patterns (FilterLogEvents, metric filters, live tail): text -> AST -> canonical text.

Three families, told apart by the first non-blank character::

    { $.status >= 500 && $.path = "/api/*" }      JSON pattern          -> JsonPattern
    [ip, user, ..., status = 5*, bytes > 1000]      space-delimited        -> DelimitedPattern
    ERROR ?WARN -healthcheck "disk full" %^x[0-9]%  terms, phrases, regex  -> TermPattern

An empty or blank pattern (or a blank quoted phrase) matches every event: ``MatchAll``.
Every node renders canonical text with :meth:`render`, and ``parse(render(p)) == p``.
Errors are :class:`~logpond.model.errors.InvalidParameterError` (CloudWatch answers bad
patterns with ``InvalidParameterException``) with ``line``, ``column``, ``offset``,
``end_offset`` and ``snippet`` in ``details``.

The semantics live in two executions that share this AST: SQL predicates
(:mod:`logpond.query.sql.filter_pattern`) and the Arrow matcher
(:mod:`logpond.query.matcher`).
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field

import pyarrow as pa
import pyarrow.compute as pc

from logpond.model.errors import InvalidParameterError

from ._source import invalid_pattern

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

_COMPARISON_OPS = ("=", "!=", "<", "<=", ">", ">=")
_NUMBER_RE = re.compile(r"[-+]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?")
_KEY_RE = re.compile(r"[A-Za-z0-9_\-]+")
_NAME_RE = re.compile(r"[A-Za-z0-9_\-]+")
# A %regex% may use letters, digits, these symbols and the regex operators; nothing else.
_REGEX_ALLOWED_RE = re.compile(r"[A-Za-z0-9:_#=@/;,\-^$?\[\]{}|\\*+.]*")
_BARE_STOP = frozenset(' \t\r\n()&|,]}"')


# --- AST ------------------------------------------------------------------------------------


class TermKind(enum.Enum):
    """What a term of a term pattern is."""

    WORD = "word"  # a bare term: case-sensitive substring
    PHRASE = "phrase"  # a double-quoted phrase: case-sensitive substring, spaces included
    REGEX = "regex"  # %regex%: unanchored RE2 search


class MixedOptional(enum.Enum):
    """How ``?`` terms combine with plain terms in one pattern (unsettled on AWS).

    ``IGNORE`` (the default, as reported from AWS): when a pattern has plain terms, its ``?``
    terms are ignored. ``GROUPS`` (as aws-cdk's ``anyTermGroup`` assumes): each ``?`` term
    starts a group that takes the plain terms after it, and the event must match one group.
    """

    IGNORE = "ignore"
    GROUPS = "groups"


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


@dataclass(frozen=True)
class Term:
    """One term: a word, phrase or regex, optionally ``?`` (any of) or ``-`` (none of)."""

    kind: TermKind
    text: str
    modifier: str = ""  # "", "?" or "-"
    start: int = field(default=0, compare=False)

    def render(self) -> str:
        if self.kind is TermKind.PHRASE:
            body = _quote(self.text)
        elif self.kind is TermKind.REGEX:
            body = f"%{self.text}%"
        else:
            body = self.text
        return self.modifier + body


@dataclass(frozen=True)
class MatchAll:
    """The empty pattern: every event matches."""

    def render(self) -> str:
        return ""


@dataclass(frozen=True)
class TermPattern:
    """Terms separated by blanks; see :class:`MixedOptional` for how ``?`` terms combine."""

    terms: tuple[Term, ...]

    def render(self) -> str:
        return " ".join(term.render() for term in self.terms)

    def groups(self, mixed: MixedOptional = MixedOptional.IGNORE) -> tuple[tuple[Term, ...], ...]:
        """The alternatives an event must match one of; each is a tuple of required terms.

        Excluded (``-``) terms are not listed here: no event containing one matches.
        """
        plain = tuple(t for t in self.terms if t.modifier == "")
        optional = [t for t in self.terms if t.modifier == "?"]
        if not optional:
            return (plain,)
        if not plain:
            return tuple((replace_modifier(t),) for t in optional)
        if mixed is MixedOptional.IGNORE:
            return (plain,)
        groups: list[list[Term]] = []
        leading: list[Term] = []
        for term in self.terms:
            if term.modifier == "?":
                groups.append([replace_modifier(term)])
            elif term.modifier == "":
                (groups[-1] if groups else leading).append(term)
        return tuple(tuple(leading + group) for group in groups)

    def excluded(self) -> tuple[Term, ...]:
        """The ``-`` terms, without their modifier."""
        return tuple(replace_modifier(t) for t in self.terms if t.modifier == "-")


def replace_modifier(term: Term, modifier: str = "") -> Term:
    """``term`` with another modifier."""
    return Term(term.kind, term.text, modifier, term.start)


@dataclass(frozen=True)
class PatternString:
    """A string value; ``*`` matches any run of characters (``*`` alone: any value)."""

    text: str

    def render(self) -> str:
        return _quote(self.text)

    @property
    def has_wildcard(self) -> bool:
        return "*" in self.text


@dataclass(frozen=True)
class PatternNumber:
    """A number value, kept as written (``1e-3``, ``+1000``)."""

    text: str

    @property
    def value(self) -> float:
        return float(self.text)

    def render(self) -> str:
        return self.text


@dataclass(frozen=True)
class PatternRegex:
    """A ``%regex%`` value: unanchored RE2 search."""

    regex: str

    def render(self) -> str:
        return f"%{self.regex}%"


PatternValue = PatternString | PatternNumber | PatternRegex


@dataclass(frozen=True)
class Selector:
    """``$.a.b[0]``: keys (strings) and array indexes (ints) from the root object."""

    path: tuple[str | int, ...]
    start: int = field(default=0, compare=False)

    def render(self) -> str:
        out = "$"
        for step in self.path:
            out += f"[{step}]" if isinstance(step, int) else f".{step}"
        return out


@dataclass(frozen=True)
class JsonComparison:
    """``selector op value``."""

    selector: Selector
    op: str
    value: PatternValue

    def render(self) -> str:
        return f"{self.selector.render()} {self.op} {self.value.render()}"


@dataclass(frozen=True)
class JsonCheck:
    """``selector IS NULL|IS TRUE|IS FALSE|NOT EXISTS``."""

    selector: Selector
    check: str  # "IS NULL", "IS TRUE", "IS FALSE", "NOT EXISTS"

    def render(self) -> str:
        return f"{self.selector.render()} {self.check}"


@dataclass(frozen=True)
class JsonAnd:
    """All of the items (``&&``)."""

    items: tuple[JsonExpr, ...]

    def render(self) -> str:
        return " && ".join(_json_operand(item) for item in self.items)


@dataclass(frozen=True)
class JsonOr:
    """Any of the items (``||``)."""

    items: tuple[JsonExpr, ...]

    def render(self) -> str:
        return " || ".join(item.render() for item in self.items)


JsonExpr = JsonComparison | JsonCheck | JsonAnd | JsonOr


def _json_operand(item: JsonExpr) -> str:
    return f"({item.render()})" if isinstance(item, JsonOr) else item.render()


@dataclass(frozen=True)
class JsonPattern:
    """``{ expr }``: the event (its ``@message``) must be a JSON object."""

    expr: JsonExpr

    def render(self) -> str:
        return "{ " + self.expr.render() + " }"

    def selectors(self) -> tuple[Selector, ...]:
        """Every selector the pattern reads, first use first, without repeats."""
        seen: dict[tuple[str | int, ...], Selector] = {}

        def walk(expr: JsonExpr) -> None:
            if isinstance(expr, JsonAnd | JsonOr):
                for item in expr.items:
                    walk(item)
            else:
                seen.setdefault(expr.selector.path, expr.selector)

        walk(self.expr)
        return tuple(seen.values())


@dataclass(frozen=True)
class ColumnComparison:
    """``name op value`` on one column of a space-delimited pattern."""

    name: str
    op: str
    value: PatternValue

    def render(self) -> str:
        return f"{self.name} {self.op} {self.value.render()}"


@dataclass(frozen=True)
class ColumnAnd:
    """All of the conditions (``&&``)."""

    items: tuple[ColumnCondition, ...]

    def render(self) -> str:
        return " && ".join(
            f"({i.render()})" if isinstance(i, ColumnOr) else i.render() for i in self.items
        )


@dataclass(frozen=True)
class ColumnOr:
    """Any of the conditions (``||``)."""

    items: tuple[ColumnCondition, ...]

    def render(self) -> str:
        return " || ".join(item.render() for item in self.items)


ColumnCondition = ColumnComparison | ColumnAnd | ColumnOr


@dataclass(frozen=True)
class DelimitedColumn:
    """One column: a name (``None`` for an unnamed one), ``...``, or a condition."""

    name: str | None
    condition: ColumnCondition | None = None
    ellipsis: bool = False

    def render(self) -> str:
        if self.ellipsis:
            return "..."
        if self.condition is not None:
            return self.condition.render()
        return self.name or ""


@dataclass(frozen=True)
class DelimitedPattern:
    """``[col, col, ...]`` over the blank-separated fields of ``@message``.

    ``"..."`` and ``[...]`` are one field each. Without ``...`` the last column takes the rest
    of the line; ``...`` takes any number of fields (as few as possible when several).
    """

    columns: tuple[DelimitedColumn, ...]

    def render(self) -> str:
        return "[" + ", ".join(column.render() for column in self.columns) + "]"

    def names(self) -> tuple[str, ...]:
        """The named columns, in order."""
        return tuple(c.name for c in self.columns if c.name is not None and not c.ellipsis)

    @property
    def absorbs(self) -> bool:
        """Whether the last column takes the rest of the line (there is no ``...``)."""
        return not any(c.ellipsis for c in self.columns)

    def regex(self) -> str:
        """The RE2 regex that splits ``" " + message`` into this pattern's columns.

        Group ``c<i>`` holds column ``i``'s field as written (quotes and brackets kept); when
        the last column absorbs the rest of the line, ``r<i>`` holds what follows its first
        field. Group ``e<i>`` holds the fields an ellipsis took. Every field is preceded by
        blanks, hence the leading space added to the message.
        """
        parts = ["^"]
        last = len(self.columns) - 1
        for index, column in enumerate(self.columns):
            if column.ellipsis:
                parts.append(f"(?P<e{index}>(?:\\s+{FIELD_REGEX})*?)")
            elif index == last and self.absorbs:
                parts.append(f"\\s+(?P<c{index}>{FIELD_REGEX})(?P<r{index}>(?:\\s+{FIELD_REGEX})*)")
            else:
                parts.append(f"\\s+(?P<c{index}>{FIELD_REGEX})")
        parts.append("\\s*$")
        return "".join(parts)


FilterPattern = MatchAll | TermPattern | JsonPattern | DelimitedPattern

# One field of a space-delimited event: a "quoted" or [bracketed] run (an unclosed one runs to
# the end of the line), or a run of non-blanks. Exactly one way to split any line.
FIELD_REGEX = r'(?:"[^"]*"\S*|"[^"]*$|\[[^\]]*\]\S*|\[[^\]]*$|[^\s"\[]\S*)'


def strip_field(text: str) -> str:
    """A field's value: without the quotes or brackets around it."""
    if len(text) >= 2 and (
        (text[0] == '"' and text[-1] == '"') or (text[0] == "[" and text[-1] == "]")
    ):
        return text[1:-1]
    return text


def glob_to_like(text: str) -> str:
    """A ``*`` wildcard string as a SQL LIKE pattern with ``\\`` as the escape character."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped.replace("*", "%")


# --- parser ---------------------------------------------------------------------------------


class _Scanner:
    """Position-tracking reader over the pattern text."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.regexes = 0

    def error(
        self, message: str, start: int | None = None, end: int | None = None
    ) -> InvalidParameterError:
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
            raise self.error(
                "a filter pattern may hold at most 2 regular expressions", start, end + 1
            )
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
        raise scanner.error(
            f"invalid regular expression: {message}", offset, offset + len(body)
        ) from None


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
        raise scanner.error(
            "expected NULL, TRUE or FALSE after IS (IS NOT is not supported)", check_start
        )
    if scanner.accept_word("NOT"):
        if scanner.accept_word("EXISTS"):
            return JsonCheck(selector, "NOT EXISTS")
        raise scanner.error("expected EXISTS after NOT")
    if scanner.accept_word("EXISTS"):
        raise scanner.error(
            'EXISTS is not supported; use = "*" or NOT EXISTS', check_start, scanner.pos
        )
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


@dataclass(frozen=True)
class MetricValue:
    """A metric filter's ``metricValue``: a number, a JSON selector or a column name."""

    number: float | None = None
    selector: Selector | None = None
    column: str | None = None

    def render(self) -> str:
        if self.selector is not None:
            return self.selector.render()
        if self.column is not None:
            return "$" + self.column
        return repr(self.number)

    @property
    def key(self) -> str:
        """The name of the extracted value, as TestMetricFilter lists it."""
        return self.render()


def parse_metric_value(text: str, pattern: FilterPattern | None = None) -> MetricValue:
    """Parse ``1``, ``$.json.path`` or ``$column``; a column must be one of ``pattern``'s."""
    if not isinstance(text, str) or not text or len(text) > MAX_METRIC_VALUE_CHARS:
        raise InvalidParameterError(
            "metric value must be 1-100 characters", max=MAX_METRIC_VALUE_CHARS
        )
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
            raise invalid_pattern(
                f"metric value refers to unknown column {name!r}", text, 0, len(text)
            )
        if pattern is not None and not isinstance(pattern, DelimitedPattern):
            raise invalid_pattern(
                "$name metric values need a space-delimited pattern", text, 0, len(text)
            )
        return MetricValue(column=name)
    raise invalid_pattern(
        "metric value must be a number, $.selector or $column", text, 0, len(text)
    )
