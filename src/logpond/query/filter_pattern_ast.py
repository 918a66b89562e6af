"""The filter pattern AST: every node renders canonical text (``parse(p.render()) == p``).

Also the rules shared by both executions of a pattern: how a space-delimited line splits
into fields (:data:`FIELD_REGEX`, :func:`strip_field`) and how ``*`` wildcards become
SQL LIKE patterns (:func:`glob_to_like`).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from .record import format_number

__all__ = [
    "FIELD_REGEX",
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
    "glob_to_like",
    "replace_modifier",
    "strip_field",
]


# --- nodes ------------------------------------------------------------------------------------


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
        return " && ".join(f"({i.render()})" if isinstance(i, ColumnOr) else i.render() for i in self.items)


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
    if len(text) >= 2 and ((text[0] == '"' and text[-1] == '"') or (text[0] == "[" and text[-1] == "]")):
        return text[1:-1]
    return text


def glob_to_like(text: str) -> str:
    """A ``*`` wildcard string as a SQL LIKE pattern with ``\\`` as the escape character."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped.replace("*", "%")


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
        return format_number(self.number or 0.0)

    @property
    def key(self) -> str:
        """The name of the extracted value, as TestMetricFilter lists it."""
        return self.render()
