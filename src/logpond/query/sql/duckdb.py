"""DuckDB's spelling of the query primitives, and running a rendered statement on DuckDB."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pyarrow as pa
from sqlglot import exp

from .base import Dialect, JsonKind, RenderContext, Rendered, call, lit

__all__ = ["DuckDBDialect"]

_BLANKS = " \t\n\r"
_NUMBER_TYPES = ("BIGINT", "UBIGINT", "DOUBLE", "HUGEINT")
_SCALAR_TYPES = ("VARCHAR", *_NUMBER_TYPES, "BOOLEAN")


def _pointer(path: Sequence[str | int]) -> str:
    """A JSON pointer (RFC 6901): ``/a/0/b``; DuckDB resolves digit steps in arrays too."""
    return "".join("/" + str(step).replace("~", "~0").replace("/", "~1") for step in path)


def _in(value: exp.Expr, options: Sequence[str]) -> exp.Expr:
    return exp.In(this=value, expressions=[lit(o) for o in options])


class DuckDBDialect(Dialect):
    """DuckDB: JSON pointers, RE2 regexes (constant patterns), ``$name`` parameters."""

    name = "duckdb"
    regex_literals = True
    materialized_ctes = False

    def placeholder(self, name: str, value: Any) -> exp.Expr:
        return exp.Placeholder(this=name)

    # JSON -----------------------------------------------------------------------------------

    def json_object_text(self, text: exp.Expr) -> exp.Expr:
        starts = call("starts_with", call("ltrim", text, lit(_BLANKS)), lit("{"))
        valid = exp.and_(starts, call("json_valid", text.copy()))
        return exp.Case(ifs=[exp.If(this=valid, true=text.copy())])

    def _type(
        self, ctx: RenderContext, doc: exp.Expr, path: Sequence[str | int]
    ) -> tuple[exp.Expr, exp.Expr]:
        pointer = ctx.value(_pointer(path))
        return call("json_type", doc.copy(), pointer), pointer

    def _arrays(self, ctx: RenderContext, doc: exp.Expr, path: Sequence[str | int]) -> exp.Expr | None:
        """Whether every int step of ``path`` indexes an array (None: there is none)."""
        checks = [
            exp.EQ(
                this=call("json_type", doc.copy(), ctx.value(_pointer(path[:i]))),
                expression=lit("ARRAY"),
            )
            for i, step in enumerate(path)
            if isinstance(step, int)
        ]
        return exp.func("coalesce", exp.and_(*checks), exp.false()) if checks else None

    def _guard(
        self,
        ctx: RenderContext,
        doc: exp.Expr,
        path: Sequence[str | int],
        value: exp.Expr,
        missing: exp.Expr,
    ) -> exp.Expr:
        arrays = self._arrays(ctx, doc, path)
        if arrays is None:
            return value
        return exp.Case(ifs=[exp.If(this=arrays, true=value)], default=missing)

    def json_kind_in(
        self,
        ctx: RenderContext,
        doc: exp.Expr,
        path: Sequence[str | int],
        kinds: Sequence[JsonKind],
    ) -> exp.Expr:
        kind_type, pointer = self._type(ctx, doc, path)
        tests: list[exp.Expr] = []
        for kind in kinds:
            if kind == "missing":
                tests.append(exp.Is(this=kind_type.copy(), expression=exp.null()))
            elif kind == "null":
                tests.append(exp.EQ(this=kind_type.copy(), expression=lit("NULL")))
            elif kind == "string":
                tests.append(exp.EQ(this=kind_type.copy(), expression=lit("VARCHAR")))
            elif kind == "number":
                tests.append(_in(kind_type.copy(), _NUMBER_TYPES))
            elif kind in ("true", "false"):
                text = call("json_extract_string", doc.copy(), pointer.copy())
                tests.append(
                    exp.and_(
                        exp.EQ(this=kind_type.copy(), expression=lit("BOOLEAN")),
                        exp.EQ(this=text, expression=lit(kind)),
                    )
                )
            elif kind == "container":
                tests.append(_in(kind_type.copy(), ("OBJECT", "ARRAY")))
        found = exp.func("coalesce", exp.or_(*tests), exp.false())
        return self._guard(ctx, doc, path, found, lit("missing" in kinds))

    def json_text(self, ctx: RenderContext, doc: exp.Expr, path: Sequence[str | int]) -> exp.Expr:
        # json_value is NULL for objects, arrays and null; one call per field keeps DuckDB's
        # common-subexpression pass cheap when a query reads hundreds of fields.
        scalar = call("json_value", doc.copy(), ctx.value(_pointer(path)))
        found = call("json_extract_string", scalar, lit("$"))
        return self._guard(ctx, doc, path, found, exp.null())

    def json_number(self, ctx: RenderContext, doc: exp.Expr, path: Sequence[str | int]) -> exp.Expr:
        kind_type, pointer = self._type(ctx, doc, path)
        text = call("json_extract_string", doc.copy(), pointer.copy())
        number = exp.TryCast(this=text, to=exp.DataType.build("DOUBLE"))
        found = exp.Case(ifs=[exp.If(this=_in(kind_type, _NUMBER_TYPES), true=number)])
        return self._guard(ctx, doc, path, found, exp.null())

    def json_quote(self, text: exp.Expr, *, separators: bool = True) -> exp.Expr:
        quoted: exp.Expr = exp.Cast(this=call("to_json", text), to=exp.DataType.build("VARCHAR"))
        return self.escape_separators(quoted) if separators else quoted

    # strings --------------------------------------------------------------------------------

    def contains(self, text: exp.Expr, needle: exp.Expr) -> exp.Expr:
        return call("contains", text, needle)

    def regex_search(self, text: exp.Expr, regex: exp.Expr) -> exp.Expr:
        return call("regexp_matches", text, regex)

    def regex_groups(self, text: exp.Expr, regex: exp.Expr, count: int) -> list[exp.Expr]:
        return [
            call("regexp_extract", text.copy(), regex.copy(), lit(index)) for index in range(1, count + 1)
        ]

    def regex_split(self, text: exp.Expr, regex: exp.Expr, count: int) -> exp.Expr:
        names = [lit(f"g{index}") for index in range(1, count + 1)]
        return call("regexp_extract", text, regex, exp.Array(expressions=names))

    def regex_group_of(self, split: exp.Expr, index: int, count: int) -> exp.Expr:
        return call("struct_extract", split, lit(f"g{index}"))

    def regex_replace(self, text: exp.Expr, regex: str, replacement: str) -> exp.Expr:
        return call("regexp_replace", text, lit(regex), lit(replacement), lit("g"))

    def like(self, text: exp.Expr, pattern: exp.Expr) -> exp.Expr:
        return exp.Escape(this=exp.Like(this=text, expression=pattern), expression=lit("\\"))

    def trim(self, text: exp.Expr, chars: exp.Expr | None, side: str) -> exp.Expr:
        name = {"both": "trim", "left": "ltrim", "right": "rtrim"}[side]
        return call(name, text, chars if chars is not None else lit(" \t\n\r\f\v"))

    def length(self, text: exp.Expr) -> exp.Expr:
        return call("length", text)

    def substring(self, text: exp.Expr, start: exp.Expr, count: exp.Expr | None) -> exp.Expr:
        return call("substring", text, start, *([count] if count is not None else []))

    def replace(self, text: exp.Expr, find: exp.Expr, repl: exp.Expr) -> exp.Expr:
        return call("replace", text, find, repl)

    def repeat(self, text: str, count: exp.Expr) -> exp.Expr:
        return call("repeat", lit(text), call("greatest", count, lit(0)))

    def byte_length(self, text: exp.Expr) -> exp.Expr:
        return call("strlen", text)

    def ln(self, value: exp.Expr) -> exp.Expr:
        return call("ln", value)

    def upper(self, text: exp.Expr) -> exp.Expr:
        return call("upper", text)

    def lower(self, text: exp.Expr) -> exp.Expr:
        return call("lower", text)

    def to_text(self, value: exp.Expr) -> exp.Expr:
        return exp.Cast(this=value, to=exp.DataType.build("VARCHAR"))

    def to_double(self, text: exp.Expr) -> exp.Expr:
        return exp.TryCast(this=text, to=exp.DataType.build("DOUBLE"))

    def base64url(self, text: exp.Expr) -> exp.Expr:
        encoded = call("to_base64", call("encode", text))
        return call("rtrim", call("translate", encoded, lit("+/"), lit("-_")), lit("="))

    # time -----------------------------------------------------------------------------------

    def iso_timestamp(self, ms: exp.Expr) -> exp.Expr:
        return call("strftime", call("epoch_ms", ms), lit("%Y-%m-%dT%H:%M:%S.%gZ"))

    def format_time(self, ms: exp.Expr) -> exp.Expr:
        return call("strftime", call("epoch_ms", ms), lit("%Y-%m-%d %H:%M:%S.%g"))

    def month_index(self, ms: exp.Expr) -> exp.Expr:
        moment = call("epoch_ms", ms)
        years = exp.Sub(this=call("year", moment), expression=lit(1970))
        return exp.Add(
            this=exp.Mul(this=exp.Paren(this=years), expression=lit(12)),
            expression=exp.Sub(this=call("month", moment.copy()), expression=lit(1)),
        )

    def month_start(self, index: exp.Expr) -> exp.Expr:
        months = call("to_months", exp.Cast(this=index, to=exp.DataType.build("INTEGER")))
        epoch = exp.Cast(this=lit("1970-01-01"), to=exp.DataType.build("TIMESTAMP"))
        return call("epoch_ms", exp.Add(this=epoch, expression=months))

    # aggregates -----------------------------------------------------------------------------

    def quantile(self, value: exp.Expr, fraction: float) -> exp.Expr:
        return call("quantile_disc", value, lit(fraction))

    def count_distinct(self, value: exp.Expr) -> exp.Expr:
        return exp.Count(this=exp.Distinct(expressions=[value]))

    def arg_min(self, value: exp.Expr, key: exp.Expr) -> exp.Expr:
        return _filtered(call("arg_min", value, key), value)

    def arg_max(self, value: exp.Expr, key: exp.Expr) -> exp.Expr:
        return _filtered(call("arg_max", value, key), value)

    def stddev(self, value: exp.Expr) -> exp.Expr:
        return call("stddev_samp", value)

    # running ----------------------------------------------------------------------------------

    def run(self, connection: Any, rendered: Rendered) -> pa.Table:
        """Execute on a DuckDB connection or cursor; the result as an Arrow table."""
        result = connection.execute(rendered.sql, rendered.params)
        table = result.to_arrow_table()
        assert isinstance(table, pa.Table)
        return table


def _filtered(aggregate: exp.Expr, value: exp.Expr) -> exp.Expr:
    condition = exp.Not(this=exp.Is(this=value.copy(), expression=exp.null()))
    return exp.Filter(this=aggregate, expression=exp.Where(this=condition))
