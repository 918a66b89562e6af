"""The Logs Insights AST: every node knows where it was written and renders canonical text.

Canonical text uses lower-case keywords, double-quoted strings, ``a, b`` lists and only the
parentheses precedence needs, so ``parse(q.render()) == q`` for every parsed query (nodes
compare without their positions). An unaliased column is named by the canonical text of
its expression (``count(*)``, ``bin(5m)``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

__all__ = [
    "Binary",
    "Call",
    "Command",
    "Dedup",
    "Display",
    "Duration",
    "Expr",
    "Field",
    "Fields",
    "Filter",
    "InList",
    "Like",
    "Limit",
    "ListLiteral",
    "Number",
    "Parse",
    "PatternCommand",
    "Projection",
    "Query",
    "Regex",
    "Sort",
    "SortKey",
    "Source",
    "Star",
    "Stats",
    "String",
    "Unary",
    "render_name",
]

Span = tuple[int, int]

_PLAIN_NAME = re.compile(r"@*[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)*")
_KEYWORDS = frozenset({"and", "or", "not", "like", "in", "as", "by", "asc", "desc", "any", "true", "false"})


def render_name(name: str) -> str:
    """A field name as written in a query: plain, or in backticks when it needs them."""
    if _PLAIN_NAME.fullmatch(name) and name.lower() not in _KEYWORDS:
        return name
    if name.startswith("@") and len(name) > 1:
        return "@`" + name[1:] + "`"
    return "`" + name + "`"


def render_string(value: str) -> str:
    """A string literal in canonical (double-quoted, escaped) form."""
    escaped = (
        value.replace("\\", "\\\\")
        .replace('"', '\\"')
        .replace("\n", "\\n")
        .replace("\t", "\\t")
        .replace("\r", "\\r")
    )
    return '"' + escaped + '"'


# Binding strength of operators (higher binds tighter).
PRECEDENCE = {
    "or": 1,
    "and": 2,
    "not": 3,
    "=": 4, "!=": 4, "<": 4, "<=": 4, ">": 4, ">=": 4, "like": 4, "in": 4, "=~": 4,
    "+": 5, "-": 5,
    "*": 6, "/": 6, "%": 6,
    "^": 7,
    "neg": 8,
}  # fmt: skip
_ATOM = 9


def _operand(node: Expr, parent: int, *, strict: bool = False) -> str:
    text = node.render()
    own = node.precedence()
    if own < parent or (strict and own == parent):
        return f"({text})"
    return text


# --- expressions ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Field:
    """A field name: system (``@timestamp``), discovered (``a.b.0``) or derived."""

    name: str
    span: Span = field(default=(0, 0), compare=False)

    def render(self) -> str:
        return render_name(self.name)

    def precedence(self) -> int:
        return _ATOM


@dataclass(frozen=True)
class String:
    """A string literal."""

    value: str
    span: Span = field(default=(0, 0), compare=False)

    def render(self) -> str:
        return render_string(self.value)

    def precedence(self) -> int:
        return _ATOM


@dataclass(frozen=True)
class Number:
    """A number literal, kept as written."""

    text: str
    span: Span = field(default=(0, 0), compare=False)

    @property
    def value(self) -> float:
        return float(self.text)

    def render(self) -> str:
        return self.text

    def precedence(self) -> int:
        return _ATOM


@dataclass(frozen=True)
class Duration:
    """A time period: ``5m``; ``unit`` is canonical (ms s m h d w mo q y)."""

    count: int
    unit: str
    span: Span = field(default=(0, 0), compare=False)

    def render(self) -> str:
        return f"{self.count}{self.unit}"

    def precedence(self) -> int:
        return _ATOM


@dataclass(frozen=True)
class Regex:
    """A regular expression literal ``/.../``."""

    pattern: str
    span: Span = field(default=(0, 0), compare=False)

    def render(self) -> str:
        return "/" + self.pattern.replace("/", "\\/") + "/"

    def precedence(self) -> int:
        return _ATOM


@dataclass(frozen=True)
class ListLiteral:
    """``[a, b, ...]`` of literals."""

    items: tuple[Expr, ...]
    span: Span = field(default=(0, 0), compare=False)

    def render(self) -> str:
        return "[" + ", ".join(item.render() for item in self.items) + "]"

    def precedence(self) -> int:
        return _ATOM


@dataclass(frozen=True)
class Star:
    """``*`` as in ``count(*)``."""

    span: Span = field(default=(0, 0), compare=False)

    def render(self) -> str:
        return "*"

    def precedence(self) -> int:
        return _ATOM


@dataclass(frozen=True)
class Unary:
    """``-x`` or ``not x``."""

    op: str  # "neg" or "not"
    operand: Expr
    span: Span = field(default=(0, 0), compare=False)

    def render(self) -> str:
        if self.op == "not":
            return "not " + _operand(self.operand, PRECEDENCE["not"])
        return "-" + _operand(self.operand, PRECEDENCE["neg"], strict=isinstance(self.operand, Unary))

    def precedence(self) -> int:
        return PRECEDENCE[self.op]


@dataclass(frozen=True)
class Binary:
    """``left op right`` for logic, comparison and arithmetic operators."""

    op: str
    left: Expr
    right: Expr
    span: Span = field(default=(0, 0), compare=False)

    def render(self) -> str:
        own = PRECEDENCE[self.op]
        comparison = own == PRECEDENCE["="]
        if self.op == "^":  # right-associative
            left = _operand(self.left, own, strict=True)
            right = _operand(self.right, own)
        else:
            left = _operand(self.left, own, strict=comparison)
            right = _operand(self.right, own, strict=True)
        return f"{left} {self.op} {right}"

    def precedence(self) -> int:
        return PRECEDENCE[self.op]


@dataclass(frozen=True)
class Like:
    """``x like "s"`` (substring), ``x like /re/`` or ``x =~ /re/`` (regex), maybe negated."""

    operand: Expr
    pattern: String | Regex
    negated: bool = False
    tilde: bool = False  # written with =~
    span: Span = field(default=(0, 0), compare=False)

    def render(self) -> str:
        left = _operand(self.operand, PRECEDENCE["like"], strict=True)
        op = "=~" if self.tilde else ("not like" if self.negated else "like")
        return f"{left} {op} {self.pattern.render()}"

    def precedence(self) -> int:
        return PRECEDENCE["like"]


@dataclass(frozen=True)
class InList:
    """``x in [a, b]`` or ``x not in [a, b]``."""

    operand: Expr
    values: ListLiteral
    negated: bool = False
    span: Span = field(default=(0, 0), compare=False)

    def render(self) -> str:
        left = _operand(self.operand, PRECEDENCE["in"], strict=True)
        return f"{left} {'not in' if self.negated else 'in'} {self.values.render()}"

    def precedence(self) -> int:
        return PRECEDENCE["in"]


@dataclass(frozen=True)
class Call:
    """``name(args)``; ``name`` is the function's canonical spelling."""

    name: str
    args: tuple[Expr, ...]
    span: Span = field(default=(0, 0), compare=False)
    name_span: Span = field(default=(0, 0), compare=False)

    def render(self) -> str:
        return f"{self.name}(" + ", ".join(arg.render() for arg in self.args) + ")"

    def precedence(self) -> int:
        return _ATOM


Expr = Field | String | Number | Duration | Regex | ListLiteral | Star | Unary | Binary | Like | InList | Call


# --- commands ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Projection:
    """``expr [as alias]``; its output name is the alias or the expression's text."""

    expr: Expr
    alias: str | None = None
    span: Span = field(default=(0, 0), compare=False)

    @property
    def name(self) -> str:
        if self.alias is not None:
            return self.alias
        if isinstance(self.expr, Field):
            return self.expr.name
        return self.expr.render()

    def render(self) -> str:
        text = self.expr.render()
        return f"{text} as {render_name(self.alias)}" if self.alias is not None else text


@dataclass(frozen=True)
class Fields:
    """``fields a, f(b) as c``."""

    items: tuple[Projection, ...]
    span: Span = field(default=(0, 0), compare=False)

    def render(self) -> str:
        return "fields " + ", ".join(item.render() for item in self.items)


@dataclass(frozen=True)
class Display:
    """``display a, b``: the output columns (the last display wins)."""

    items: tuple[Field, ...]
    span: Span = field(default=(0, 0), compare=False)

    def render(self) -> str:
        return "display " + ", ".join(item.render() for item in self.items)


@dataclass(frozen=True)
class Filter:
    """``filter expr`` (``filterIndex`` is the same)."""

    expr: Expr
    index: bool = False
    span: Span = field(default=(0, 0), compare=False)

    def render(self) -> str:
        return ("filterIndex " if self.index else "filter ") + self.expr.render()


@dataclass(frozen=True)
class Stats:
    """``stats agg [as a], ... [by key [as k], ...]``."""

    aggregates: tuple[Projection, ...]
    by: tuple[Projection, ...] = ()
    span: Span = field(default=(0, 0), compare=False)

    def render(self) -> str:
        text = "stats " + ", ".join(item.render() for item in self.aggregates)
        if self.by:
            text += " by " + ", ".join(item.render() for item in self.by)
        return text


@dataclass(frozen=True)
class SortKey:
    """One sort key; ``descending`` is None when no direction was written (default desc)."""

    expr: Expr
    descending: bool | None = None
    span: Span = field(default=(0, 0), compare=False)

    def render(self) -> str:
        text = self.expr.render()
        if self.descending is None:
            return text
        return text + (" desc" if self.descending else " asc")


@dataclass(frozen=True)
class Sort:
    """``sort key [asc|desc], ...``."""

    keys: tuple[SortKey, ...]
    span: Span = field(default=(0, 0), compare=False)

    def render(self) -> str:
        return "sort " + ", ".join(key.render() for key in self.keys)


@dataclass(frozen=True)
class Limit:
    """``limit N`` (also ``head N``/``tail N``), or ``limit any N``."""

    count: int
    any: bool = False
    span: Span = field(default=(0, 0), compare=False)

    def render(self) -> str:
        return f"limit {'any ' if self.any else ''}{self.count}"


@dataclass(frozen=True)
class Parse:
    """``parse field "glob*" as a, b`` or ``parse field /(?<a>...)/``."""

    source: Field
    pattern: String | Regex
    names: tuple[str, ...] = ()
    span: Span = field(default=(0, 0), compare=False)

    def render(self) -> str:
        text = f"parse {self.source.render()} {self.pattern.render()}"
        if isinstance(self.pattern, String):
            text += " as " + ", ".join(render_name(n) for n in self.names)
        return text


@dataclass(frozen=True)
class Dedup:
    """``dedup a, b``."""

    items: tuple[Field, ...]
    span: Span = field(default=(0, 0), compare=False)

    def render(self) -> str:
        return "dedup " + ", ".join(item.render() for item in self.items)


@dataclass(frozen=True)
class PatternCommand:
    """``pattern field``: cluster values into patterns."""

    source: Field
    span: Span = field(default=(0, 0), compare=False)

    def render(self) -> str:
        return f"pattern {self.source.render()}"


@dataclass(frozen=True)
class Source:
    """``SOURCE logGroups(namePrefix: [...], accountIdentifiers: [...], class: [...])``."""

    name_prefixes: tuple[str, ...] = ()
    account_identifiers: tuple[str, ...] = ()
    classes: tuple[str, ...] = ()
    span: Span = field(default=(0, 0), compare=False)

    def render(self) -> str:
        args = []
        for key, values in (
            ("namePrefix", self.name_prefixes),
            ("accountIdentifiers", self.account_identifiers),
            ("class", self.classes),
        ):
            if values:
                args.append(f"{key}: [" + ", ".join(render_string(v) for v in values) + "]")
        return "SOURCE logGroups(" + ", ".join(args) + ")"


Command = Fields | Display | Filter | Stats | Sort | Limit | Parse | Dedup | PatternCommand


@dataclass(frozen=True)
class Query:
    """A whole query: an optional ``SOURCE`` and the commands in pipeline order."""

    commands: tuple[Command, ...]
    source: Source | None = None
    text: str = field(default="", compare=False)

    def render(self) -> str:
        parts = [command.render() for command in self.commands]
        if self.source is not None:
            parts.insert(0, self.source.render())
        return " | ".join(parts)
