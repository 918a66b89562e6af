"""Logs Insights text -> :class:`~logpond.query.insights.ast.Query`.

A recursive-descent parser over :class:`~.tokens.Lexer`. Every error is a
:class:`~logpond.model.errors.MalformedQueryError` that names the line, the column and
what was expected, with the character offsets CloudWatch's ``queryCompileError`` reports.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable

import pyarrow as pa
import pyarrow.compute as pc

from logpond.model.errors import MalformedQueryError
from logpond.query._source import bad_character, malformed

from .ast import (
    Binary,
    Call,
    Command,
    Dedup,
    Display,
    Duration,
    Expr,
    Field,
    Fields,
    Filter,
    InList,
    Like,
    Limit,
    ListLiteral,
    Number,
    Parse,
    PatternCommand,
    Projection,
    Query,
    Regex,
    Sort,
    SortKey,
    Source,
    Star,
    Stats,
    String,
    Unary,
)
from .functions import UNSUPPORTED_FUNCTIONS, lookup, suggest
from .tokens import Lexer, Token, TokenKind, canonical_unit

__all__ = ["MAX_QUERY_CHARS", "check_regex", "count_groups", "named_groups", "parse_query"]

# StartQuery accepts query strings of up to 10,000 characters.
MAX_QUERY_CHARS = 10_000
# Nesting deeper than this is refused rather than risking the interpreter's stack.
_MAX_DEPTH = 40
_MAX_SOURCE_PREFIXES = 5
_MAX_SOURCE_ACCOUNTS = 20

_COMMANDS = ("fields", "display", "filter", "filterIndex", "stats", "sort", "limit", "head",
             "tail", "parse", "dedup", "pattern")  # fmt: skip
_UNSUPPORTED_COMMANDS = ("unnest", "diff", "anomaly", "lookup", "join", "unmask")
_COMPARISONS = ("=", "!=", "<", "<=", ">", ">=")


def parse_query(text: str) -> Query:
    """Parse a Logs Insights query; raises ``MalformedQueryError`` with its position."""
    if not isinstance(text, str):
        raise MalformedQueryError("query must be a string", line=1, column=1, offset=0)
    if len(text) > MAX_QUERY_CHARS:
        raise malformed(
            f"query is longer than {MAX_QUERY_CHARS} characters", text, MAX_QUERY_CHARS, len(text)
        )
    bad = bad_character(text)
    if bad is not None:
        raise malformed("invalid character in query", text, bad, bad + 1)
    return _Parser(text).query()


def check_regex(pattern: str, text: str, span: tuple[int, int]) -> None:
    """Raise ``MalformedQueryError`` unless ``pattern`` is a valid RE2 regex."""
    try:
        pc.match_substring_regex(pa.array([""]), pattern)
    except pa.ArrowInvalid as exc:
        detail = str(exc).removeprefix("Invalid regular expression: ")
        raise malformed(f"invalid regular expression: {detail}", text, *span) from None


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.lexer = Lexer(text)
        self.depth = 0

    # helpers -------------------------------------------------------------------------------

    def error(self, message: str, token: Token | None = None) -> MalformedQueryError:
        token = token or self.lexer.peek()
        return malformed(message, self.text, token.start, token.end)

    def expected(self, what: str) -> MalformedQueryError:
        token = self.lexer.peek()
        return self.error(f"expected {what}, found {token.describe()}", token)

    def accept_op(self, op: str) -> Token | None:
        token = self.lexer.peek()
        if token.kind is TokenKind.OP and token.value == op:
            return self.lexer.next()
        return None

    def expect_op(self, op: str, what: str | None = None) -> Token:
        token = self.accept_op(op)
        if token is None:
            raise self.expected(what or f"'{op}'")
        return token

    def accept_word(self, *words: str) -> Token | None:
        token = self.lexer.peek()
        if token.is_word(*words):
            return self.lexer.next()
        return None

    def name(self, what: str) -> Token:
        token = self.lexer.peek()
        if token.kind is not TokenKind.NAME:
            raise self.expected(what)
        return self.lexer.next()

    # query ---------------------------------------------------------------------------------

    def query(self) -> Query:
        source = None
        if self.lexer.peek().is_word("SOURCE"):
            source = self.source()
            self.expect_op("|", "'|' after SOURCE")
        commands: list[Command] = [self.command()]
        while self.accept_op("|"):
            commands.append(self.command())
        token = self.lexer.peek()
        if token.kind is not TokenKind.END:
            raise self.error(f"expected '|' or the end of the query, found {token.describe()}", token)
        self._check_order(commands)
        return Query(tuple(commands), source, self.text)

    def _check_order(self, commands: list[Command]) -> None:
        for index, command in enumerate(commands):
            if isinstance(command, Dedup):
                for later in commands[index + 1 :]:
                    if not isinstance(later, Limit):
                        raise malformed(
                            "only limit may follow dedup", self.text, later.span[0], later.span[1]
                        )

    def source(self) -> Source:
        start = self.lexer.next()
        call = self.name("logGroups(...)")
        if call.value != "logGroups":
            raise self.error("expected logGroups(...) after SOURCE", call)
        self.expect_op("(")
        values: dict[str, list[str]] = {}
        if not self.accept_op(")"):
            while True:
                key = self.name("namePrefix, accountIdentifiers or class")
                if key.value not in ("namePrefix", "accountIdentifiers", "class") or key.value in values:
                    raise self.error(f"unexpected SOURCE argument {key.value!r}", key)
                self.expect_op(":")
                self.expect_op("[")
                items: list[str] = []
                while True:
                    token = self.lexer.next()
                    if token.kind is not TokenKind.STRING:
                        raise self.error(f"expected a string, found {token.describe()}", token)
                    items.append(token.value)
                    if not self.accept_op(","):
                        break
                self.expect_op("]")
                values[key.value] = items
                if not self.accept_op(","):
                    break
            end = self.expect_op(")")
        else:
            end = self.lexer.peek()
        if len(values.get("namePrefix", [])) > _MAX_SOURCE_PREFIXES:
            raise self.error("SOURCE takes at most 5 name prefixes", start)
        if len(values.get("accountIdentifiers", [])) > _MAX_SOURCE_ACCOUNTS:
            raise self.error("SOURCE takes at most 20 account identifiers", start)
        return Source(
            tuple(values.get("namePrefix", ())),
            tuple(values.get("accountIdentifiers", ())),
            tuple(values.get("class", ())),
            (start.start, end.end),
        )

    def command(self) -> Command:
        token = self.lexer.peek()
        if token.kind is not TokenKind.NAME or token.quoted:
            raise self.expected("a command (fields, filter, stats, sort, limit, parse, ...)")
        word = token.value.lower()
        if word in _UNSUPPORTED_COMMANDS:
            raise self.error(f"the {token.value} command is not supported", token)
        handlers: dict[str, Callable[[Token], Command]] = {
            "fields": self.fields,
            "display": self.display,
            "filter": self.filter,
            "filterindex": self.filter,
            "stats": self.stats,
            "sort": self.sort,
            "limit": self.limit,
            "head": self.limit,
            "tail": self.limit,
            "parse": self.parse,
            "dedup": self.dedup,
            "pattern": self.pattern,
        }
        handler = handlers.get(word)
        if handler is None:
            close = difflib.get_close_matches(word, [c.lower() for c in _COMMANDS], n=1)
            hint = f"; did you mean {close[0]}?" if close else ""
            raise self.error(f"unknown command {token.value!r}{hint}", token)
        self.lexer.next()
        command = handler(token)
        return command

    def _end(self) -> int:
        return self.lexer.last_end

    def projections(self) -> list[Projection]:
        items = [self.projection()]
        while self.accept_op(","):
            items.append(self.projection())
        return items

    def projection(self) -> Projection:
        start = self.lexer.peek().start
        expr = self.expression()
        alias = None
        if self.accept_word("as"):
            alias = self.name("a name after 'as'").value
        return Projection(expr, alias, (start, self._end()))

    def fields(self, token: Token) -> Fields:
        return Fields(tuple(self.projections()), (token.start, self._end()))

    def field_list(self) -> list[Field]:
        items = []
        while True:
            name = self.name("a field name")
            items.append(Field(name.value, (name.start, name.end)))
            if not self.accept_op(","):
                return items

    def display(self, token: Token) -> Display:
        return Display(tuple(self.field_list()), (token.start, self._end()))

    def filter(self, token: Token) -> Filter:
        expr = self.expression()
        return Filter(expr, token.value.lower() == "filterindex", (token.start, self._end()))

    def stats(self, token: Token) -> Stats:
        aggregates = self.projections()
        by: list[Projection] = []
        if self.accept_word("by"):
            by = self.projections()
        return Stats(tuple(aggregates), tuple(by), (token.start, self._end()))

    def sort(self, token: Token) -> Sort:
        keys = []
        while True:
            start = self.lexer.peek().start
            expr = self.expression()
            descending = None
            direction = self.accept_word("asc", "desc")
            if direction is not None:
                descending = direction.value.lower() == "desc"
            keys.append(SortKey(expr, descending, (start, self._end())))
            if not self.accept_op(","):
                break
        return Sort(tuple(keys), (token.start, self._end()))

    def limit(self, token: Token) -> Limit:
        any_rows = token.value.lower() == "limit" and self.accept_word("any") is not None
        count = self.lexer.peek()
        if count.kind is not TokenKind.NUMBER or not count.value.isdigit():
            raise self.expected("a whole number of rows")
        self.lexer.next()
        value = int(count.value)
        if value < 1:
            raise self.error("limit must be at least 1", count)
        return Limit(value, any_rows, (token.start, count.end))

    def parse(self, token: Token) -> Parse:
        name = self.name("the field to parse")
        source = Field(name.value, (name.start, name.end))
        if self.lexer.at_slash():
            regex = self.lexer.regex()
            pattern = Regex(regex.value, (regex.start, regex.end))
            check_regex(regex.value, self.text, (regex.start, regex.end))
            group_names = tuple(name for _, name in named_groups(regex.value)[1])
            if not group_names:
                raise self.error("the regular expression has no named groups (?<name>...)", regex)
            return Parse(source, pattern, group_names, (token.start, regex.end))
        glob = self.lexer.next()
        if glob.kind is not TokenKind.STRING:
            raise self.error(f'expected a "glob" or /regex/ pattern, found {glob.describe()}', glob)
        if self.accept_word("as") is None:
            raise self.expected("'as' and the names of the fields the pattern extracts")
        names = [self.name("a field name").value]
        while self.accept_op(","):
            names.append(self.name("a field name").value)
        stars = glob.value.count("*")
        if stars != len(names):
            raise malformed(
                f"the pattern has {stars} wildcards but {len(names)} names follow 'as'",
                self.text,
                glob.start,
                self._end(),
            )
        return Parse(
            source,
            String(glob.value, (glob.start, glob.end)),
            tuple(names),
            (token.start, self._end()),
        )

    def dedup(self, token: Token) -> Dedup:
        return Dedup(tuple(self.field_list()), (token.start, self._end()))

    def pattern(self, token: Token) -> PatternCommand:
        name = self.name("the field to cluster")
        return PatternCommand(Field(name.value, (name.start, name.end)), (token.start, self._end()))

    # expressions -------------------------------------------------------------------------------

    def expression(self) -> Expr:
        self.depth += 1
        if self.depth > _MAX_DEPTH:
            raise self.error("expression is nested too deeply")
        try:
            expr = self.or_expr()
        finally:
            self.depth -= 1
        if self.depth == 0 and _tree_depth(expr) > _MAX_DEPTH:
            raise malformed("expression is nested too deeply", self.text, *expr.span)
        return expr

    def _binary(self, op: str, left: Expr, right: Expr) -> Binary:
        return Binary(op, left, right, (left.span[0], right.span[1]))

    def or_expr(self) -> Expr:
        left = self.and_expr()
        while self.accept_word("or"):
            left = self._binary("or", left, self.and_expr())
        return left

    def and_expr(self) -> Expr:
        left = self.not_expr()
        while self.accept_word("and"):
            left = self._binary("and", left, self.not_expr())
        return left

    def not_expr(self) -> Expr:
        token = self.accept_word("not")
        if token is not None:
            self.depth += 1
            if self.depth > _MAX_DEPTH:
                raise self.error("expression is nested too deeply")
            try:
                operand = self.not_expr()
            finally:
                self.depth -= 1
            return Unary("not", operand, (token.start, operand.span[1]))
        return self.comparison()

    def comparison(self) -> Expr:
        left = self.additive()
        token = self.lexer.peek()
        if token.kind is TokenKind.OP and token.value in _COMPARISONS:
            self.lexer.next()
            return self._binary(token.value, left, self.additive())
        if token.kind is TokenKind.OP and token.value == "=~":
            self.lexer.next()
            pattern = self.regex_or_string(as_regex=True)
            assert isinstance(pattern, Regex)
            return Like(left, pattern, tilde=True, span=(left.span[0], pattern.span[1]))
        negated = False
        if token.is_word("not"):
            self.lexer.next()
            negated = True
            token = self.lexer.peek()
            if not token.is_word("like", "in"):
                raise self.expected("'like' or 'in' after 'not'")
        if token.is_word("like"):
            self.lexer.next()
            pattern = self.regex_or_string(as_regex=False)
            return Like(left, pattern, negated, span=(left.span[0], pattern.span[1]))
        if token.is_word("in"):
            self.lexer.next()
            values = self.list_literal()
            return InList(left, values, negated, (left.span[0], values.span[1]))
        return left

    def regex_or_string(self, *, as_regex: bool) -> String | Regex:
        if self.lexer.at_slash():
            token = self.lexer.regex()
            check_regex(token.value, self.text, (token.start, token.end))
            return Regex(token.value, (token.start, token.end))
        token = self.lexer.peek()
        if token.kind is not TokenKind.STRING:
            raise self.expected('a "string" or /regex/')
        self.lexer.next()
        if as_regex:
            check_regex(token.value, self.text, (token.start, token.end))
            return Regex(token.value, (token.start, token.end))
        return String(token.value, (token.start, token.end))

    def additive(self) -> Expr:
        left = self.multiplicative()
        while True:
            token = self.lexer.peek()
            if token.kind is TokenKind.OP and token.value in ("+", "-"):
                self.lexer.next()
                left = self._binary(token.value, left, self.multiplicative())
            else:
                return left

    def multiplicative(self) -> Expr:
        left = self.power()
        while True:
            token = self.lexer.peek()
            if token.kind is TokenKind.OP and token.value in ("*", "/", "%"):
                self.lexer.next()
                left = self._binary(token.value, left, self.power())
            else:
                return left

    def power(self) -> Expr:
        base = self.unary()
        if self.accept_op("^"):
            self.depth += 1
            if self.depth > _MAX_DEPTH:
                raise self.error("expression is nested too deeply")
            try:
                exponent = self.power()
            finally:
                self.depth -= 1
            return self._binary("^", base, exponent)
        return base

    def unary(self) -> Expr:
        token = self.accept_op("-")
        if token is None:
            return self.primary()
        self.depth += 1
        if self.depth > _MAX_DEPTH:
            raise self.error("expression is nested too deeply")
        try:
            operand = self.unary()
        finally:
            self.depth -= 1
        if isinstance(operand, Number) and not operand.text.startswith("-"):
            return Number("-" + operand.text, (token.start, operand.span[1]))
        return Unary("neg", operand, (token.start, operand.span[1]))

    def primary(self) -> Expr:
        token = self.lexer.peek()
        span = (token.start, token.end)
        if token.kind is TokenKind.NUMBER:
            self.lexer.next()
            return Number(token.value, span)
        if token.kind is TokenKind.STRING:
            self.lexer.next()
            return String(token.value, span)
        if token.kind is TokenKind.DURATION:
            self.lexer.next()
            return _duration(token, self.text)
        if token.kind is TokenKind.OP and token.value == "(":
            self.lexer.next()
            inner = self.expression()
            self.expect_op(")", "')'")
            return inner
        if token.kind is TokenKind.OP and token.value == "[":
            return self.list_literal()
        if token.kind is TokenKind.NAME:
            self.lexer.next()
            if not token.quoted and self.accept_op("("):
                return self.call(token)
            return Field(token.value, span)
        raise self.expected("an expression")

    def list_literal(self) -> ListLiteral:
        start = self.expect_op("[", "'['")
        items: list[Expr] = []
        if not self.accept_op("]"):
            while True:
                items.append(self.expression())
                if not self.accept_op(","):
                    break
            end = self.expect_op("]", "',' or ']'")
        else:
            end = start
        return ListLiteral(tuple(items), (start.start, end.end))

    def call(self, name: Token) -> Call:
        function = lookup(name.value)
        if function is None:
            if name.value.lower() in UNSUPPORTED_FUNCTIONS:
                raise self.error(f"the function {name.value} is not supported", name)
            hint = suggest(name.value)
            extra = f"; did you mean {hint}?" if hint else ""
            raise self.error(f"unknown function {name.value!r}{extra}", name)
        args: list[Expr] = []
        if not self.accept_op(")"):
            while True:
                star = self.accept_op("*")
                if star is not None:
                    args.append(Star((star.start, star.end)))
                else:
                    args.append(self.expression())
                if not self.accept_op(","):
                    break
            end = self.expect_op(")", "',' or ')'")
        else:
            end = name
        return Call(function.name, tuple(args), (name.start, end.end), (name.start, name.end))


def _tree_depth(expr: Expr) -> int:
    """How deep an expression tree is (without recursion: chains can be long)."""
    deepest = 0
    stack: list[tuple[Expr, int]] = [(expr, 1)]
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        if isinstance(node, Binary):
            children: tuple[Expr, ...] = (node.left, node.right)
        elif isinstance(node, Unary | Like):
            children = (node.operand,)
        elif isinstance(node, InList):
            children = (node.operand, node.values)
        elif isinstance(node, Call | ListLiteral):
            children = node.args if isinstance(node, Call) else node.items
        else:
            children = ()
        stack.extend((child, depth + 1) for child in children)
    return deepest


def _duration(token: Token, text: str) -> Duration:
    digits = len(token.value) - len(token.value.lstrip("0123456789"))
    count = int(token.value[:digits])
    unit = canonical_unit(token.value[digits:])
    assert unit is not None
    if count < 1:
        raise malformed("a time period must be at least 1", text, token.start, token.end)
    return Duration(count, unit, (token.start, token.end))


def named_groups(regex: str) -> tuple[str, list[tuple[int, str]]]:
    """The regex with ``(?<n>`` written ``(?P<n>``, and (group number, name) of named groups."""
    out: list[str] = []
    groups: list[tuple[int, str]] = []
    number = 0
    index = 0
    while index < len(regex):
        char = regex[index]
        if char == "\\":
            out.append(regex[index : index + 2])
            index += 2
            continue
        if char == "[":
            end = _class_end(regex, index)
            out.append(regex[index:end])
            index = end
            continue
        if char == "(":
            if regex.startswith("(?<", index) and not regex.startswith(("(?<=", "(?<!"), index):
                number += 1
                close = regex.find(">", index)
                groups.append((number, regex[index + 3 : close]))
                out.append("(?P<")
                index += 3
                continue
            if regex.startswith("(?P<", index):
                number += 1
                close = regex.find(">", index)
                groups.append((number, regex[index + 4 : close]))
            elif not regex.startswith("(?", index):
                number += 1
        out.append(char)
        index += 1
    return "".join(out), groups


def count_groups(regex: str) -> int:
    """How many capturing groups ``regex`` has."""
    number = 0
    index = 0
    while index < len(regex):
        char = regex[index]
        if char == "\\":
            index += 2
            continue
        if char == "[":
            index = _class_end(regex, index)
            continue
        capturing = not regex.startswith("(?", index) or regex.startswith(("(?P<", "(?<"), index)
        if char == "(" and capturing and not regex.startswith(("(?<=", "(?<!"), index):
            number += 1
        index += 1
    return number


def _class_end(regex: str, index: int) -> int:
    """The index just after the character class that starts at ``index``."""
    index += 1
    if index < len(regex) and regex[index] == "^":
        index += 1
    if index < len(regex) and regex[index] == "]":
        index += 1
    while index < len(regex) and regex[index] != "]":
        index += 2 if regex[index] == "\\" else 1
    return index + 1
