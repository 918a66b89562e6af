"""Metric math: expressions over the ids of other metric queries (``m1 / m2 * 100``).

The subset implemented: numbers, query ids, ``+ - * / ^``, parentheses, unary minus, arrays
``[a, b]``, and the functions ``FILL(m, value | REPEAT | LINEAR)``, ``ABS``, ``SUM``, ``AVG``,
``MIN``, ``MAX`` and ``METRICS()``. A time series is a mapping from bucket start to value.
Between two series an operator applies per timestamp, and a timestamp present in only one of
them gives no point; a scalar applies to every point; a division by zero gives no point.
``SUM`` (and the others) of an array adds the series per timestamp; of one series, it
reduces that series to a scalar.
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Union

from logpond.model.errors import InvalidParameterError

__all__ = ["Expression", "MathError", "Series", "evaluate", "parse_expression"]

Series = dict[int, float]
Value = Union[float, Series, list[Series]]  # noqa: UP007 (a runtime alias)

MAX_EXPRESSION_CHARS = 2048
_TOKEN_RE = re.compile(
    r"\s*(?:(?P<number>\d+(?:\.\d*)?(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)"
    r"|(?P<name>[A-Za-z_][A-Za-z0-9_]*)|(?P<op>[-+*/^(),\[\]]))"
)


class MathError(InvalidParameterError):
    """A metric math expression does not parse, or names an unknown id or function."""


@dataclass(frozen=True, slots=True)
class Expression:
    """A parsed expression; ``ids`` are the query ids it reads."""

    text: str
    tree: tuple[object, ...]
    ids: frozenset[str]


def _tokens(text: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    position = 0
    while position < len(text):
        if text[position:].strip() == "":
            break
        match = _TOKEN_RE.match(text, position)
        if match is None or match.end() == position:
            raise MathError("unexpected character in expression", expression=text, position=position)
        kind = match.lastgroup or ""
        out.append((kind, match.group(kind)))
        position = match.end()
    return out


_FUNCTIONS = frozenset({"FILL", "ABS", "SUM", "AVG", "MIN", "MAX", "METRICS"})
_FILL_MODES = frozenset({"REPEAT", "LINEAR"})


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = _tokens(text)
        self.index = 0
        self.ids: set[str] = set()

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.index] if self.index < len(self.tokens) else None

    def take(self, value: str | None = None) -> tuple[str, str]:
        token = self.peek()
        if token is None or (value is not None and token[1] != value):
            raise MathError(f"expected {value or 'more'} in expression", expression=self.text)
        self.index += 1
        return token

    def parse(self) -> tuple[object, ...]:
        tree = self.additive()
        if self.peek() is not None:
            raise MathError("unexpected text after the expression", expression=self.text)
        return tree

    def additive(self) -> tuple[object, ...]:
        left = self.multiplicative()
        while (token := self.peek()) is not None and token[1] in "+-" and token[0] == "op":
            self.take()
            left = ("bin", token[1], left, self.multiplicative())
        return left

    def multiplicative(self) -> tuple[object, ...]:
        left = self.unary()
        while (token := self.peek()) is not None and token[1] in "*/" and token[0] == "op":
            self.take()
            left = ("bin", token[1], left, self.unary())
        return left

    def unary(self) -> tuple[object, ...]:
        token = self.peek()
        if token is not None and token == ("op", "-"):
            self.take()
            return ("neg", self.unary())
        if token is not None and token == ("op", "+"):
            self.take()
            return self.unary()
        return self.power()

    def power(self) -> tuple[object, ...]:
        base = self.atom()
        token = self.peek()
        if token is not None and token == ("op", "^"):
            self.take()
            return ("bin", "^", base, self.unary())
        return base

    def atom(self) -> tuple[object, ...]:
        token = self.take()
        kind, text = token
        if kind == "number":
            return ("num", float(text))
        if kind == "op" and text == "(":
            inner = self.additive()
            self.take(")")
            return inner
        if kind == "op" and text == "[":
            items = [self.additive()]
            while self.peek() == ("op", ","):
                self.take()
                items.append(self.additive())
            self.take("]")
            return ("array", tuple(items))
        if kind == "name":
            if self.peek() == ("op", "("):
                return self.call(text)
            if text in _FILL_MODES:
                return ("mode", text)
            self.ids.add(text)
            return ("id", text)
        raise MathError(f"unexpected {text!r} in expression", expression=self.text)

    def call(self, name: str) -> tuple[object, ...]:
        upper = name.upper()
        if upper not in _FUNCTIONS:
            raise MathError("unknown function in expression", function=name, functions=sorted(_FUNCTIONS))
        self.take("(")
        args: list[tuple[object, ...]] = []
        if self.peek() != ("op", ")"):
            args.append(self.additive())
            while self.peek() == ("op", ","):
                self.take()
                args.append(self.additive())
        self.take(")")
        expected = {"FILL": 2, "METRICS": 0}.get(upper, 1)
        if len(args) != expected:
            raise MathError(f"{upper} takes {expected} argument(s)", expression=self.text)
        if upper == "METRICS":
            self.ids.add("*")
        return ("call", upper, tuple(args))


def parse_expression(text: str) -> Expression:
    """Parse a metric math expression (at most 2048 characters)."""
    if not isinstance(text, str) or not text.strip() or len(text) > MAX_EXPRESSION_CHARS:
        raise MathError("expression must be 1-2048 characters", max=MAX_EXPRESSION_CHARS)
    parser = _Parser(text)
    tree = parser.parse()
    return Expression(text, tree, frozenset(parser.ids))


_OPS: dict[str, Callable[[float, float], float]] = {
    "+": operator.add,
    "-": operator.sub,
    "*": operator.mul,
    "/": operator.truediv,
    "^": operator.pow,
}


def _apply(op: str, a: float, b: float) -> float | None:
    try:
        result = _OPS[op](a, b)
    except (ZeroDivisionError, OverflowError):
        return None
    if isinstance(result, complex) or math.isnan(result) or math.isinf(result):
        return None
    return float(result)


def _binary(op: str, left: Value, right: Value) -> Value:
    if isinstance(left, list) or isinstance(right, list):
        if isinstance(left, list) and isinstance(right, list):
            raise MathError("an operator cannot combine two arrays")
        if isinstance(left, list):
            return [_as_series(_binary(op, item, right)) for item in left]
        assert isinstance(right, list)
        return [_as_series(_binary(op, left, item)) for item in right]
    if isinstance(left, dict) and isinstance(right, dict):
        return {t: r for t in left.keys() & right.keys() if (r := _apply(op, left[t], right[t])) is not None}
    if isinstance(left, dict):
        assert not isinstance(right, dict)
        return {t: r for t, v in left.items() if (r := _apply(op, v, right)) is not None}
    if isinstance(right, dict):
        return {t: r for t, v in right.items() if (r := _apply(op, left, v)) is not None}
    result = _apply(op, left, right)
    if result is None:
        raise MathError("the expression divides a constant by zero")
    return result


def _as_series(value: Value) -> Series:
    if not isinstance(value, dict):
        raise MathError("expected a time series")
    return value


def _fill(series: Series, how: object, buckets: Sequence[int]) -> Series:
    out: Series = {}
    if isinstance(how, float):
        return {t: series.get(t, how) for t in buckets}
    known = sorted(series)
    if how == "REPEAT":
        last: float | None = None
        for t in buckets:
            if t in series:
                last = series[t]
            if last is not None:
                out[t] = last
        return out
    # LINEAR: interpolate between known points; ends are left as they are.
    for t in buckets:
        if t in series:
            out[t] = series[t]
            continue
        before = [k for k in known if k < t]
        after = [k for k in known if k > t]
        if before and after:
            a, b = before[-1], after[0]
            out[t] = series[a] + (series[b] - series[a]) * (t - a) / (b - a)
    return out


def _reduce(name: str, values: Sequence[float]) -> float | None:
    if not values:
        return None
    if name == "SUM":
        return float(sum(values))
    if name == "AVG":
        return float(sum(values) / len(values))
    if name == "MIN":
        return float(min(values))
    return float(max(values))


def _aggregate(name: str, value: Value) -> Value:
    if isinstance(value, list):
        stamps = sorted(set().union(*(s.keys() for s in value))) if value else []
        out: Series = {}
        for t in stamps:
            reduced = _reduce(name, [s[t] for s in value if t in s])
            if reduced is not None:
                out[t] = reduced
        return out
    if isinstance(value, dict):
        reduced = _reduce(name, list(value.values()))
        if reduced is None:
            return {}
        return reduced
    return value


def evaluate(expression: Expression, data: Mapping[str, Series], buckets: Sequence[int]) -> Series:
    """The expression's time series, given the series of the ids it reads.

    ``buckets`` are the bucket starts of the range (``FILL`` fills them). A scalar result
    becomes a constant series over the buckets.
    """

    def walk(node: tuple[object, ...]) -> Value:
        kind = node[0]
        if kind == "num":
            value = node[1]
            assert isinstance(value, float)
            return value
        if kind == "id":
            name = node[1]
            assert isinstance(name, str)
            if name not in data:
                raise MathError("expression names an unknown id", id=name)
            return dict(data[name])
        if kind == "mode":
            raise MathError("REPEAT and LINEAR are only arguments of FILL")
        if kind == "neg":
            inner = node[1]
            assert isinstance(inner, tuple)
            return _binary("*", walk(inner), -1.0)
        if kind == "bin":
            op, left, right = node[1], node[2], node[3]
            assert isinstance(op, str)
            assert isinstance(left, tuple)
            assert isinstance(right, tuple)
            return _binary(op, walk(left), walk(right))
        if kind == "array":
            items = node[1]
            assert isinstance(items, tuple)
            return [_as_series(walk(item)) for item in items]
        name, args = node[1], node[2]
        assert isinstance(name, str)
        assert isinstance(args, tuple)
        if name == "METRICS":
            return [dict(s) for key, s in sorted(data.items())]
        if name == "FILL":
            target = walk(args[0])
            how_node = args[1]
            assert isinstance(how_node, tuple)
            how: object = how_node[1] if how_node[0] == "mode" else walk(how_node)
            if not isinstance(how, float | str):
                raise MathError("FILL takes a number, REPEAT or LINEAR")
            if isinstance(target, list):
                return [_fill(s, how, buckets) for s in target]
            return _fill(_as_series(target), how, buckets)
        if name == "ABS":
            inner = walk(args[0])
            if isinstance(inner, list):
                return [{t: abs(v) for t, v in s.items()} for s in inner]
            if isinstance(inner, dict):
                return {t: abs(v) for t, v in inner.items()}
            return abs(inner)
        return _aggregate(name, walk(args[0]))

    result = walk(expression.tree)
    if isinstance(result, list):
        if len(result) != 1:
            raise MathError("the expression gives several time series; an alarm needs one")
        return result[0]
    if isinstance(result, dict):
        return {t: result[t] for t in sorted(result)}
    return dict.fromkeys(buckets, result)
