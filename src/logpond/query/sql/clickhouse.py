"""ClickHouse's spelling of the query primitives, and running a statement on chdb or a server."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import pyarrow as pa
from sqlglot import exp

from .base import Dialect, JsonKind, RenderContext, Rendered, call, lit

__all__ = ["ClickHouseDialect", "escape_parameter"]

_BLANKS = " \t\n\r"
_NUMBER_TYPES = ("Int64", "UInt64", "Double")
# Digit steps of a dotted path may be array indexes or object keys; past this many in one
# path, they are taken as array indexes only (each one doubles the expression).
_MAX_AMBIGUOUS_STEPS = 3


def _in(value: exp.Expr, options: Sequence[str]) -> exp.Expr:
    return exp.In(this=value, expressions=[lit(o) for o in options])


def escape_parameter(value: str) -> str:
    """A string parameter in the escaped form ClickHouse parses parameter values in."""
    return (
        value.replace("\\", "\\\\")
        .replace("\t", "\\t")
        .replace("\n", "\\n")
        .replace("\r", "\\r")
        .replace("\b", "\\b")
        .replace("\f", "\\f")
        .replace("\0", "\\0")
    )


class ClickHouseDialect(Dialect):
    """ClickHouse: variadic JSON path arguments, re2, ``{name:Type}`` parameters."""

    name = "clickhouse"

    def placeholder(self, name: str, value: Any) -> exp.Expr:
        if isinstance(value, bool):
            kind = "Bool"
        elif isinstance(value, int):
            kind = "Int64"
        elif isinstance(value, float):
            kind = "Float64"
        else:
            kind = "String"
        return exp.Placeholder(this=name, kind=exp.DataType.build(kind, dialect="clickhouse"))

    # JSON -----------------------------------------------------------------------------------

    def json_object_text(self, text: exp.Expr) -> exp.Expr:
        starts = call("startsWith", call("trimLeft", text, lit(_BLANKS)), lit("{"))
        valid = exp.and_(starts, call("isValidJSON", text.copy()))
        return call("if", valid, text.copy(), exp.null())

    def _paths(
        self,
        ctx: RenderContext,
        doc: exp.Expr,
        path: Sequence[str | int],
        build: Callable[[list[exp.Expr]], exp.Expr],
        missing: exp.Expr,
    ) -> exp.Expr:
        """``build(args)`` for the path's arguments; ``missing`` where the path cannot exist.

        An int step indexes arrays only. A digit string step indexes an array or names a key,
        whichever the container is.
        """
        ambiguous = 0

        def array_at(args: list[exp.Expr]) -> exp.Expr:
            kind = call("JSONType", doc.copy(), *[a.copy() for a in args])
            return exp.EQ(this=kind, expression=lit("Array"))

        def walk(args: list[exp.Expr], rest: Sequence[str | int]) -> exp.Expr:
            nonlocal ambiguous
            if not rest:
                return build(args)
            step, tail = rest[0], rest[1:]
            if isinstance(step, int):
                inner = walk([*args, ctx.value(step + 1)], tail)
                return call("if", array_at(args), inner, missing.copy())
            if step.isdigit() and len(step) < 10:
                ambiguous += 1
                as_index = walk([*args, ctx.value(int(step) + 1)], tail)
                if ambiguous > _MAX_AMBIGUOUS_STEPS:
                    return as_index
                as_key = walk([*args, ctx.value(step)], tail)
                return call("if", array_at(args), as_index, as_key)
            return walk([*args, ctx.value(step)], tail)

        return walk([], path)

    def json_kind_in(
        self,
        ctx: RenderContext,
        doc: exp.Expr,
        path: Sequence[str | int],
        kinds: Sequence[JsonKind],
    ) -> exp.Expr:
        def build(args: list[exp.Expr]) -> exp.Expr:
            def kind_type() -> exp.Expr:
                return call("JSONType", doc.copy(), *[a.copy() for a in args])

            def has() -> exp.Expr:
                return call("JSONHas", doc.copy(), *[a.copy() for a in args])

            tests: list[exp.Expr] = []
            for kind in kinds:
                if kind == "missing":
                    tests.append(exp.Not(this=has()))
                elif kind == "null":
                    tests.append(exp.and_(has(), exp.EQ(this=kind_type(), expression=lit("Null"))))
                elif kind == "string":
                    tests.append(exp.EQ(this=kind_type(), expression=lit("String")))
                elif kind == "number":
                    tests.append(_in(kind_type(), _NUMBER_TYPES))
                elif kind in ("true", "false"):
                    value = call("JSONExtractBool", doc.copy(), *[a.copy() for a in args])
                    wanted = exp.EQ(this=value, expression=lit(1 if kind == "true" else 0))
                    tests.append(exp.and_(exp.EQ(this=kind_type(), expression=lit("Bool")), wanted))
                elif kind == "container":
                    tests.append(_in(kind_type(), ("Array", "Object")))
            return exp.func("coalesce", exp.or_(*tests), exp.false())

        return self._paths(ctx, doc, path, build, lit("missing" in kinds))

    def json_text(self, ctx: RenderContext, doc: exp.Expr, path: Sequence[str | int]) -> exp.Expr:
        def build(args: list[exp.Expr]) -> exp.Expr:
            kind_type = call("JSONType", doc.copy(), *[a.copy() for a in args])
            string = call("JSONExtractString", doc.copy(), *[a.copy() for a in args])
            raw = call("JSONExtractRaw", doc.copy(), *[a.copy() for a in args])
            return call(
                "multiIf",
                exp.EQ(this=kind_type, expression=lit("String")),
                string,
                _in(kind_type.copy(), (*_NUMBER_TYPES, "Bool")),
                raw,
                exp.null(),
            )

        return self._paths(ctx, doc, path, build, exp.null())

    def json_number(self, ctx: RenderContext, doc: exp.Expr, path: Sequence[str | int]) -> exp.Expr:
        def build(args: list[exp.Expr]) -> exp.Expr:
            kind_type = call("JSONType", doc.copy(), *[a.copy() for a in args])
            number = call("JSONExtractFloat", doc.copy(), *[a.copy() for a in args])
            return call("if", _in(kind_type, _NUMBER_TYPES), number, exp.null())

        return self._paths(ctx, doc, path, build, exp.null())

    def json_quote(self, text: exp.Expr, *, separators: bool = True) -> exp.Expr:
        return call("toJSONString", text)  # escapes U+2028 and U+2029 itself

    def escape_separators(self, text: exp.Expr, *, many: bool = True) -> exp.Expr:
        return text

    def starts_with(self, text: exp.Expr, prefix: str) -> exp.Expr:
        return call("startsWith", text, lit(prefix))

    def ends_with(self, text: exp.Expr, suffix: str) -> exp.Expr:
        return call("endsWith", text, lit(suffix))

    # strings --------------------------------------------------------------------------------

    def contains(self, text: exp.Expr, needle: exp.Expr) -> exp.Expr:
        return exp.GT(this=call("position", text, needle), expression=lit(0))

    def regex_search(self, text: exp.Expr, regex: exp.Expr) -> exp.Expr:
        return call("match", text, regex)

    def regex_groups(self, text: exp.Expr, regex: exp.Expr, count: int) -> list[exp.Expr]:
        groups = call("extractGroups", text, regex)
        return [call("arrayElement", groups.copy(), lit(i)) for i in range(1, count + 1)]

    def regex_split(self, text: exp.Expr, regex: exp.Expr, count: int) -> exp.Expr:
        return call("extractGroups", text, regex)

    def regex_group_of(self, split: exp.Expr, index: int, count: int) -> exp.Expr:
        return call("arrayElement", split, lit(index))

    def regex_replace(self, text: exp.Expr, regex: str, replacement: str) -> exp.Expr:
        return call("replaceRegexpAll", text, lit(regex), lit(replacement))

    def like(self, text: exp.Expr, pattern: exp.Expr) -> exp.Expr:
        # ClickHouse LIKE always treats backslash as the escape character.
        return exp.Like(this=text, expression=pattern)

    def trim(self, text: exp.Expr, chars: exp.Expr | None, side: str) -> exp.Expr:
        name = {"both": "trimBoth", "left": "trimLeft", "right": "trimRight"}[side]
        return call(name, text, chars if chars is not None else lit(" \t\n\r\f\v"))

    def length(self, text: exp.Expr) -> exp.Expr:
        return call("lengthUTF8", text)

    def substring(self, text: exp.Expr, start: exp.Expr, count: exp.Expr | None) -> exp.Expr:
        return call("substringUTF8", text, start, *([count] if count is not None else []))

    def replace(self, text: exp.Expr, find: exp.Expr, repl: exp.Expr) -> exp.Expr:
        return call("replaceAll", text, find, repl)

    def repeat(self, text: str, count: exp.Expr) -> exp.Expr:
        return call("repeat", lit(text), call("toUInt64", call("greatest", count, lit(0))))

    def byte_length(self, text: exp.Expr) -> exp.Expr:
        return call("length", text)

    def ln(self, value: exp.Expr) -> exp.Expr:
        return call("log", value)

    def upper(self, text: exp.Expr) -> exp.Expr:
        return call("upperUTF8", text)

    def lower(self, text: exp.Expr) -> exp.Expr:
        return call("lowerUTF8", text)

    def to_text(self, value: exp.Expr) -> exp.Expr:
        return call("toString", value)

    def to_double(self, text: exp.Expr) -> exp.Expr:
        return call("toFloat64OrNull", text)

    def base64url(self, text: exp.Expr) -> exp.Expr:
        encoded = call("base64Encode", text)
        return call("trimRight", call("translate", encoded, lit("+/"), lit("-_")), lit("="))

    # time -----------------------------------------------------------------------------------

    def _datetime(self, ms: exp.Expr) -> exp.Expr:
        return call("fromUnixTimestamp64Milli", ms, lit("UTC"))

    def iso_timestamp(self, ms: exp.Expr) -> exp.Expr:
        seconds = call("formatDateTime", self._datetime(ms), lit("%Y-%m-%dT%H:%i:%S"))
        millis = call(
            "leftPad",
            call("toString", call("positiveModulo", ms.copy(), lit(1000))),
            lit(3),
            lit("0"),
        )
        return call("concat", seconds, lit("."), millis, lit("Z"))

    def format_time(self, ms: exp.Expr) -> exp.Expr:
        seconds = call("formatDateTime", self._datetime(ms), lit("%Y-%m-%d %H:%i:%S"))
        millis = call(
            "leftPad",
            call("toString", call("positiveModulo", ms.copy(), lit(1000))),
            lit(3),
            lit("0"),
        )
        return call("concat", seconds, lit("."), millis)

    def month_index(self, ms: exp.Expr) -> exp.Expr:
        moment = self._datetime(ms)
        years = exp.Sub(this=call("toYear", moment), expression=lit(1970))
        return exp.Add(
            this=exp.Mul(this=exp.Paren(this=years), expression=lit(12)),
            expression=exp.Sub(this=call("toMonth", moment.copy()), expression=lit(1)),
        )

    def month_start(self, index: exp.Expr) -> exp.Expr:
        epoch = call("toDateTime64", lit("1970-01-01 00:00:00"), lit(3), lit("UTC"))
        return call("toUnixTimestamp64Milli", call("addMonths", epoch, call("toInt64", index)))

    # statements -----------------------------------------------------------------------------

    def finish(self, select: exp.Select) -> exp.Select:
        setting = exp.EQ(this=exp.column("output_format_json_escape_forward_slashes"), expression=lit(0))
        select.set("settings", [setting])
        return select

    def quantile(self, value: exp.Expr, fraction: float) -> exp.Expr:
        count = call("count", value.copy())
        rank = call("greatest", lit(1), call("ceil", exp.Mul(this=lit(fraction), expression=count)))
        element = call("arrayElement", call("arraySort", call("groupArray", value)), call("toUInt64", rank))
        return call("if", exp.EQ(this=count.copy(), expression=lit(0)), exp.null(), element)

    def count_distinct(self, value: exp.Expr) -> exp.Expr:
        return call("uniqExact", value)

    def arg_min(self, value: exp.Expr, key: exp.Expr) -> exp.Expr:
        return call("argMinIf", value, key, exp.Not(this=exp.Is(this=value.copy(), expression=exp.null())))

    def arg_max(self, value: exp.Expr, key: exp.Expr) -> exp.Expr:
        return call("argMaxIf", value, key, exp.Not(this=exp.Is(this=value.copy(), expression=exp.null())))

    def stddev(self, value: exp.Expr) -> exp.Expr:
        count = call("count", value.copy())
        return call("if", exp.LT(this=count, expression=lit(2)), exp.null(), call("stddevSamp", value))

    # running ----------------------------------------------------------------------------------

    def run(self, connection: Any, rendered: Rendered) -> pa.Table:
        """Execute on a chdb connection or a clickhouse-connect client; an Arrow table."""
        if hasattr(connection, "query_arrow"):  # clickhouse-connect binds server-side itself
            table = connection.query_arrow(rendered.sql, parameters=rendered.params)
        else:
            params = {
                name: escape_parameter(value) if isinstance(value, str) else value
                for name, value in rendered.params.items()
            }
            table = connection.query(rendered.sql, "ArrowTable", params=params)
        assert isinstance(table, pa.Table)
        return table
