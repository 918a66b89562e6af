"""Plan expressions as SQL: the typed semantics of :mod:`logpond.query.plan`, per dialect.

Discovered fields are text; comparisons are numeric when both sides are numbers (or
numeric text) and textual otherwise; a comparison with a missing operand is false;
arithmetic on text or division by zero is missing; sorting is CloudWatch's natural order
(non-numbers first, digit runs by value), missing values last.
"""

from __future__ import annotations

import re

from sqlglot import exp

from logpond.query.literals import required_literals
from logpond.query.plan import Const, Kind, Op, OrderKey, PExpr, RecordField, Ref, System
from logpond.query.record import NUMBER_PATTERN, is_number_text

from .base import RenderContext, call, col, lit
from .record import RecordSQL

__all__ = ["ExpressionSQL", "case", "false_if_null", "is_null"]

_NUMBER_FULL = f"^(?:{NUMBER_PATTERN})$"
_WHITESPACE = " \t\n\r\f\v"
_WEEK_MS = 604_800_000
_MONDAY_OFFSET_MS = -259_200_000  # 1969-12-29, the Monday before the epoch
_TIME_MIN_MS = -62_135_596_800_000  # 0001-01-01
_TIME_MAX_MS = 253_402_300_799_999  # 9999-12-31
_OCTET = "(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
_IPV4 = rf"^(?:{_OCTET}\.){{3}}{_OCTET}$"
_H = "[0-9A-Fa-f]{1,4}"
_IPV6 = (
    "^(?:"
    f"(?:{_H}:){{7}}{_H}|"
    f"(?:{_H}:){{1,7}}:|"
    f"(?:{_H}:){{1,6}}:{_H}|"
    f"(?:{_H}:){{1,5}}(?::{_H}){{1,2}}|"
    f"(?:{_H}:){{1,4}}(?::{_H}){{1,3}}|"
    f"(?:{_H}:){{1,3}}(?::{_H}){{1,4}}|"
    f"(?:{_H}:){{1,2}}(?::{_H}){{1,5}}|"
    f"{_H}:(?::{_H}){{1,6}}|"
    f":(?:(?::{_H}){{1,7}}|:)"
    ")$"
)
# Variable tokens the pattern command masks, in the order they are replaced.
PATTERN_MASKS = (
    r"[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}",
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}:[0-9]{2}(?:[.,][0-9]+)?Z?",
    r"\b[0-9]{1,3}(?:\.[0-9]{1,3}){3}\b",
    r"\b0[xX][0-9A-Fa-f]+\b",
    r"\b[0-9A-Fa-f]*[0-9][0-9A-Fa-f]*[A-Fa-f][0-9A-Fa-f]*\b",
    r"-?\b[0-9]+(?:\.[0-9]+)?\b",
)
SEVERITIES = (
    ("Error", r"(?i)\b(?:error|err|fatal|critical|crit|exception|panic)\b"),
    ("Warning", r"(?i)\b(?:warn|warning)\b"),
    ("Info", r"(?i)\b(?:info|notice)\b"),
    ("Debug", r"(?i)\b(?:debug|trace)\b"),
)


def _searchable(literals: tuple[str, ...] | None) -> list[str]:
    """For each required text, its longest part a column-wise @message search accepts.

    Any part of a text every match holds is held by every match too. Empty when one of
    them has no such part.
    """
    parts = []
    for literal in literals or ():
        pieces = re.split(r'["\\{}\x00-\x1f\u2028\u2029]', literal)
        best = max((piece.strip(" ") for piece in pieces), key=len, default="")
        if len(best) < 2:
            return []
        parts.append(best)
    return parts


def is_null(value: exp.Expr) -> exp.Expr:
    return exp.Is(this=value, expression=exp.null())


def case(condition: exp.Expr, then: exp.Expr, otherwise: exp.Expr | None = None) -> exp.Expr:
    return exp.Case(ifs=[exp.If(this=condition, true=then)], default=otherwise)


def false_if_null(value: exp.Expr) -> exp.Expr:
    return exp.func("coalesce", value, exp.false())


def _posmod(value: exp.Expr, modulus: int) -> exp.Expr:
    inner = exp.Mod(this=value, expression=lit(modulus))
    return exp.Mod(this=exp.Paren(this=exp.Add(this=inner, expression=lit(modulus))), expression=lit(modulus))


_NEVER_MISSING = frozenset({"@timestamp", "@ingestionTime", "@seq"})
_COMPARE = {"=": exp.EQ, "!=": exp.NEQ, "<": exp.LT, "<=": exp.LTE, ">": exp.GT, ">=": exp.GTE}
_NUMERIC_KINDS = (Kind.NUMBER, Kind.TIME, Kind.BOOL)


class ExpressionSQL:
    """Renders plan expressions for one statement."""

    def __init__(self, ctx: RenderContext, record: RecordSQL, account_id: str) -> None:
        self.ctx = ctx
        self.d = ctx.dialect
        self.record = record
        self.account_id = account_id
        # Columns already holding the rebuilt @message and field texts (see the renderer's
        # Where steps).
        self.message_column: str | None = None
        self.field_columns: dict[tuple[str, ...], str] = {}
        # Rendering the result columns: at most the row cap of rows, after the last step.
        self.few_rows = False

    # order ---------------------------------------------------------------------------------------

    def order(self, keys: tuple[OrderKey, ...]) -> list[exp.Ordered]:
        out: list[exp.Ordered] = []
        for key in keys:
            value = self.sql(key.expr)
            desc = key.descending
            # Event times and ids are never missing: ordering by them alone lets DuckDB
            # stop reading once it holds the first rows (a top-N filter on zone maps).
            if not (isinstance(key.expr, System) and key.expr.name in _NEVER_MISSING):
                out.append(exp.Ordered(this=is_null(value), desc=False))
            if key.expr.kind is Kind.STRING:
                number = self.string_number(value.copy())
                out.append(exp.Ordered(this=exp.Not(this=is_null(number)), desc=desc))
                out.append(exp.Ordered(this=number.copy(), desc=desc))
                # Numbers are ordered by value already; only text needs the natural key.
                natural = case(is_null(number.copy()), self.natural(value.copy()))
                out.append(exp.Ordered(this=natural, desc=desc))
            out.append(exp.Ordered(this=value.copy(), desc=desc))
        return out

    def natural(self, value: exp.Expr) -> exp.Expr:
        """A text whose byte order is natural order: digit runs padded to 20 digits."""
        padded = self.d.regex_replace(value, "([0-9]+)", "00000000000000000000\\1")
        return self.d.regex_replace(padded, "0*([0-9]{20})", "\\1")

    # expressions ---------------------------------------------------------------------------------

    def string_number(self, text: exp.Expr) -> exp.Expr:
        """``text`` as DOUBLE when it is a number, else NULL."""
        numeric = false_if_null(self.d.regex_search(text, lit(_NUMBER_FULL)))
        return case(numeric, self.d.to_double(text.copy()))

    def num(self, expr: PExpr) -> exp.Expr:
        value = self.sql(expr)
        if expr.kind is Kind.STRING:
            if isinstance(expr, Const) and isinstance(expr.value, str):
                if not is_number_text(expr.value):
                    return exp.Cast(this=exp.null(), to=exp.DataType.build("DOUBLE"))
                return self.ctx.value(float(expr.value))
            return self.string_number(value)
        if expr.kind is Kind.BOOL:
            return case(value, lit(1.0), lit(0.0))
        if expr.kind is Kind.TIME:
            return exp.Cast(this=value, to=exp.DataType.build("DOUBLE"))
        return value

    def text(self, expr: PExpr) -> exp.Expr:
        value = self.sql(expr)
        if expr.kind is Kind.STRING:
            return value
        if expr.kind is Kind.BOOL:
            return case(value, lit("1"), lit("0"))
        if expr.kind is Kind.TIME:
            return self.d.format_time(value)
        whole = exp.and_(
            exp.EQ(this=value.copy(), expression=call("floor", value.copy())),
            exp.LT(this=call("abs", value.copy()), expression=lit(1e15)),
        )
        as_int = self.d.to_text(exp.Cast(this=value.copy(), to=exp.DataType.build("BIGINT")))
        return case(whole, as_int, self.d.to_text(value.copy()))

    def sql(self, expr: PExpr) -> exp.Expr:
        if isinstance(expr, Ref):
            return col(expr.column)
        if isinstance(expr, RecordField):
            column = self.field_columns.get(expr.path)
            return col(column) if column is not None else self.record.field_text(expr.path)
        if isinstance(expr, System):
            return self.system(expr.name)
        if isinstance(expr, Const):
            return self.const(expr)
        return self.op(expr)

    def system(self, name: str) -> exp.Expr:
        if name == "@timestamp":
            return col("ts")
        if name == "@ingestionTime":
            return col("ingest_ts")
        if name == "@seq":
            return col("seq")
        if name == "@logStream":
            return col("stream_name")
        if name == "@log":
            return self.record.log(self.account_id)
        if name == "@ptr":
            return self.record.ptr()
        if self.message_column is not None:
            return col(self.message_column)
        return self.record.at_message(many=not self.few_rows)

    def const(self, expr: Const) -> exp.Expr:
        if expr.value is None:
            kinds = {
                Kind.STRING: "VARCHAR",
                Kind.NUMBER: "DOUBLE",
                Kind.TIME: "BIGINT",
                Kind.BOOL: "BOOLEAN",
            }
            return exp.Cast(this=exp.null(), to=exp.DataType.build(kinds[expr.kind]))
        if isinstance(expr.value, bool):
            return exp.true() if expr.value else exp.false()
        if expr.kind is Kind.TIME:
            return self.ctx.value(int(expr.value))
        return self.ctx.value(expr.value)

    def op(self, expr: Op) -> exp.Expr:
        name = expr.name
        handler = getattr(self, f"op_{name}", None)
        if handler is not None:
            result: exp.Expr = handler(expr)
            return result
        if name.startswith("agg_"):
            return self.aggregate(expr)
        raise AssertionError(f"no SQL for {name}")  # pragma: no cover

    # logic and comparison ------------------------------------------------------------------------

    def op_and(self, expr: Op) -> exp.Expr:
        return exp.Paren(this=exp.and_(*[self.sql(a) for a in expr.args]))

    def op_or(self, expr: Op) -> exp.Expr:
        return exp.Paren(this=exp.or_(*[self.sql(a) for a in expr.args]))

    def op_not(self, expr: Op) -> exp.Expr:
        return exp.Not(this=exp.Paren(this=self.sql(expr.args[0])))

    def op_truthy(self, expr: Op) -> exp.Expr:
        (arg,) = expr.args
        value = self.sql(arg)
        if arg.kind is Kind.NUMBER:
            return false_if_null(exp.NEQ(this=value, expression=lit(0)))
        if arg.kind is Kind.TIME:
            return exp.Not(this=is_null(value))
        false_words = [lit(""), lit("0"), lit("false")]
        return false_if_null(exp.Not(this=exp.In(this=value, expressions=false_words)))

    def op_cmp(self, expr: Op) -> exp.Expr:
        op = str(expr.extra[0])
        compare = _COMPARE[op]
        left, right = expr.args
        if left.kind in _NUMERIC_KINDS and right.kind in _NUMERIC_KINDS:
            return false_if_null(compare(this=self.num(left), expression=self.num(right)))
        if left.kind is Kind.STRING and right.kind is Kind.STRING:
            return false_if_null(self.compare_strings(compare, left, right))
        text, other = (left, right) if left.kind is Kind.STRING else (right, left)
        swapped = text is right
        number = self.num(text)
        if other.kind is Kind.TIME:
            numeric = compare(this=number, expression=self.num(other))
            as_text = compare(this=self.sql(text), expression=self.text(other))
            if swapped:
                numeric = compare(this=self.num(other), expression=number.copy())
                as_text = compare(this=self.text(other), expression=self.sql(text))
            return false_if_null(case(exp.Not(this=is_null(number.copy())), numeric, as_text))
        pair = (self.num(other), number) if swapped else (number, self.num(other))
        return false_if_null(compare(this=pair[0], expression=pair[1]))

    def compare_strings(self, compare: type[exp.Binary], left: PExpr, right: PExpr) -> exp.Expr:
        constants = [a for a in (left, right) if isinstance(a, Const) and isinstance(a.value, str)]
        if any(not is_number_text(str(c.value)) for c in constants):
            return compare(this=self.sql(left), expression=self.sql(right))
        left_number, right_number = self.num(left), self.num(right)
        both = exp.and_(exp.Not(this=is_null(left_number)), exp.Not(this=is_null(right_number)))
        numeric = compare(this=left_number.copy(), expression=right_number.copy())
        textual = compare(this=self.sql(left), expression=self.sql(right))
        return case(both, numeric, textual)

    def contains(self, text: PExpr, needle: PExpr) -> exp.Expr:
        """Substring test; on ``@message`` with a constant, without rebuilding the message."""
        if (
            isinstance(text, System)
            and text.name == "@message"
            and isinstance(needle, Const)
            and isinstance(needle.value, str)
        ):
            direct = self.record.message_contains(needle.value)
            if direct is not None:
                return false_if_null(direct)
        return false_if_null(self.d.contains(self.sql(text), self.sql(needle)))

    def op_contains(self, expr: Op) -> exp.Expr:
        return self.contains(*expr.args)

    def op_regex(self, expr: Op) -> exp.Expr:
        pattern = str(expr.extra[0])
        regex = self.ctx.value("(?s)" + pattern, regex=True)
        found = false_if_null(self.d.regex_search(self.sql(expr.args[0]), regex))
        text = expr.args[0]
        if not (isinstance(text, System) and text.name == "@message"):
            return found
        # Every match holds one of these texts: test for them first, without the rebuild.
        tests = [self.record.message_contains(t) for t in _searchable(required_literals(pattern))]
        if not tests or any(test is None for test in tests):
            return found
        return exp.and_(exp.Paren(this=exp.or_(*[false_if_null(t) for t in tests if t is not None])), found)

    # arithmetic ----------------------------------------------------------------------------------

    def _arith(self, expr: Op, node: type[exp.Binary]) -> exp.Expr:
        left, right = (self.num(a) for a in expr.args)
        return exp.Paren(this=node(this=left, expression=right))

    def op_add(self, expr: Op) -> exp.Expr:
        return self._arith(expr, exp.Add)

    def op_sub(self, expr: Op) -> exp.Expr:
        return self._arith(expr, exp.Sub)

    def op_mul(self, expr: Op) -> exp.Expr:
        return self._arith(expr, exp.Mul)

    def _guarded_division(self, expr: Op, node: type[exp.Binary]) -> exp.Expr:
        left, right = (self.num(a) for a in expr.args)
        zero = exp.EQ(this=right, expression=lit(0))
        return case(
            zero,
            exp.Cast(this=exp.null(), to=exp.DataType.build("DOUBLE")),
            node(this=left, expression=right.copy()),
        )

    def op_div(self, expr: Op) -> exp.Expr:
        return self._guarded_division(expr, exp.Div)

    def op_mod(self, expr: Op) -> exp.Expr:
        return self._guarded_division(expr, exp.Mod)

    def op_pow(self, expr: Op) -> exp.Expr:
        left, right = (self.num(a) for a in expr.args)
        return call("pow", left, right)

    def op_neg(self, expr: Op) -> exp.Expr:
        return exp.Neg(this=exp.Paren(this=self.num(expr.args[0])))

    def op_abs(self, expr: Op) -> exp.Expr:
        return call("abs", self.num(expr.args[0]))

    def op_ceil(self, expr: Op) -> exp.Expr:
        return call("ceil", self.num(expr.args[0]))

    def op_floor(self, expr: Op) -> exp.Expr:
        return call("floor", self.num(expr.args[0]))

    def op_log(self, expr: Op) -> exp.Expr:
        value = self.num(expr.args[0])
        return case(exp.GT(this=value, expression=lit(0)), self.d.ln(value.copy()))

    def op_sqrt(self, expr: Op) -> exp.Expr:
        value = self.num(expr.args[0])
        return case(exp.GTE(this=value, expression=lit(0)), call("sqrt", value.copy()))

    def _extreme(self, expr: Op, node: type[exp.Binary]) -> exp.Expr:
        values = [self.num(a) for a in expr.args]
        best = values[0]
        for value in values[1:]:
            best = exp.Case(
                ifs=[
                    exp.If(this=is_null(best.copy()), true=value.copy()),
                    exp.If(this=is_null(value.copy()), true=best.copy()),
                    exp.If(this=node(this=best.copy(), expression=value.copy()), true=best.copy()),
                ],
                default=value.copy(),
            )
        return best

    def op_greatest(self, expr: Op) -> exp.Expr:
        return self._extreme(expr, exp.GTE)

    def op_least(self, expr: Op) -> exp.Expr:
        return self._extreme(expr, exp.LTE)

    # general and string functions ----------------------------------------------------------------

    def op_present(self, expr: Op) -> exp.Expr:
        return exp.Not(this=is_null(self.sql(expr.args[0])))

    def op_coalesce(self, expr: Op) -> exp.Expr:
        return exp.func("coalesce", *[self.sql(a) for a in expr.args])

    def op_text(self, expr: Op) -> exp.Expr:
        return self.text(expr.args[0])

    def op_isempty(self, expr: Op) -> exp.Expr:
        value = exp.func("coalesce", self.sql(expr.args[0]), lit(""))
        return exp.EQ(this=value, expression=lit(""))

    def op_isblank(self, expr: Op) -> exp.Expr:
        trimmed = self.d.trim(self.sql(expr.args[0]), lit(_WHITESPACE), "both")
        return exp.EQ(this=exp.func("coalesce", trimmed, lit("")), expression=lit(""))

    def op_strcontains(self, expr: Op) -> exp.Expr:
        return self.contains(*expr.args)

    def op_concat(self, expr: Op) -> exp.Expr:
        parts = [exp.func("coalesce", self.sql(a), lit("")) for a in expr.args]
        return self.d.concat(*parts) if len(parts) > 1 else parts[0]

    def _trim(self, expr: Op, side: str) -> exp.Expr:
        chars = self.sql(expr.args[1]) if len(expr.args) > 1 else None
        return self.d.trim(self.sql(expr.args[0]), chars, side)

    def op_trim(self, expr: Op) -> exp.Expr:
        return self._trim(expr, "both")

    def op_ltrim(self, expr: Op) -> exp.Expr:
        return self._trim(expr, "left")

    def op_rtrim(self, expr: Op) -> exp.Expr:
        return self._trim(expr, "right")

    def op_strlen(self, expr: Op) -> exp.Expr:
        return self.d.length(self.sql(expr.args[0]))

    def op_toupper(self, expr: Op) -> exp.Expr:
        return self.d.upper(self.sql(expr.args[0]))

    def op_tolower(self, expr: Op) -> exp.Expr:
        return self.d.lower(self.sql(expr.args[0]))

    def _clamp(self, expr: PExpr, low: int, high: int) -> exp.Expr:
        value = self.num(expr)
        clamped = exp.Case(
            ifs=[
                exp.If(this=exp.LT(this=value, expression=lit(low)), true=lit(low)),
                exp.If(this=exp.GT(this=value.copy(), expression=lit(high)), true=lit(high)),
            ],
            default=call("floor", value.copy()),
        )
        return exp.Cast(this=clamped, to=exp.DataType.build("BIGINT"))

    def op_substr(self, expr: Op) -> exp.Expr:
        text = self.sql(expr.args[0])
        start = exp.Add(this=self._clamp(expr.args[1], 0, 1_000_000_000), expression=lit(1))
        count = self._clamp(expr.args[2], 0, 1_000_000_000) if len(expr.args) > 2 else None
        return self.d.substring(text, start, count)

    def op_replace(self, expr: Op) -> exp.Expr:
        text, find, repl = (self.sql(a) for a in expr.args)
        return self.d.replace(text, find, repl)

    def op_regex_group(self, expr: Op) -> exp.Expr:
        regex, index, count = str(expr.extra[0]), int(expr.extra[1]), int(expr.extra[2])
        source = self.sql(expr.args[0])
        matched = false_if_null(self.d.regex_search(source, self.ctx.value(regex, regex=True)))
        group = self.d.regex_groups(source.copy(), self.ctx.value(regex, regex=True), count)[index - 1]
        return case(matched, group)

    # time ----------------------------------------------------------------------------------------

    def op_from_millis(self, expr: Op) -> exp.Expr:
        value = self.num(expr.args[0])
        in_range = exp.Between(this=value, low=lit(_TIME_MIN_MS), high=lit(_TIME_MAX_MS))
        as_ms = exp.Cast(this=call("floor", value.copy()), to=exp.DataType.build("BIGINT"))
        return case(in_range, as_ms)

    def op_to_millis(self, expr: Op) -> exp.Expr:
        return self.num(expr.args[0])

    def _floor(self, value: exp.Expr, unit: str, size: int) -> exp.Expr:
        if unit == "mo":
            index = self.d.month_index(value)
            return self.d.month_start(exp.Sub(this=index, expression=_posmod(index.copy(), size)))
        offset = _MONDAY_OFFSET_MS if size % _WEEK_MS == 0 else 0
        shifted = exp.Sub(this=value, expression=lit(offset)) if offset else value
        return exp.Sub(this=value.copy(), expression=_posmod(exp.Paren(this=shifted), size))

    def op_floor_time(self, expr: Op) -> exp.Expr:
        unit, size = str(expr.extra[0]), int(expr.extra[1])
        return self._floor(self.sql(expr.args[0]), unit, size)

    def op_ceil_time(self, expr: Op) -> exp.Expr:
        unit, size = str(expr.extra[0]), int(expr.extra[1])
        value = self.sql(expr.args[0])
        floor = self._floor(value, unit, size)
        if unit == "mo":
            index = self.d.month_index(value.copy())
            start = exp.Sub(this=index, expression=_posmod(index.copy(), size))
            up = self.d.month_start(exp.Add(this=start, expression=lit(size)))
        else:
            up = exp.Add(this=floor.copy(), expression=lit(size))
        return case(exp.EQ(this=floor, expression=value.copy()), value.copy(), up)

    # IP addresses --------------------------------------------------------------------------------

    def _valid(self, text: exp.Expr, regex: str) -> exp.Expr:
        return false_if_null(self.d.regex_search(text, lit(regex)))

    def op_isValidIpV4(self, expr: Op) -> exp.Expr:
        return self._valid(self.sql(expr.args[0]), _IPV4)

    def op_isValidIpV6(self, expr: Op) -> exp.Expr:
        return self._valid(self.sql(expr.args[0]), _IPV6)

    def op_isValidIp(self, expr: Op) -> exp.Expr:
        text = self.sql(expr.args[0])
        return exp.or_(self._valid(text, _IPV4), self._valid(text.copy(), _IPV6))

    def op_ipv4_in_subnet(self, expr: Op) -> exp.Expr:
        network, prefix = int(expr.extra[0]), int(expr.extra[1])
        text = self.sql(expr.args[0])
        octets = self.d.regex_groups(text.copy(), lit(r"^([0-9]+)\.([0-9]+)\.([0-9]+)\.([0-9]+)$"), 4)
        number: exp.Expr = lit(0)
        for octet in octets:
            number = exp.Add(
                this=exp.Mul(this=exp.Paren(this=number), expression=lit(256)),
                expression=exp.func("coalesce", self.d.to_double(octet), lit(0)),
            )
        block = 2 ** (32 - prefix)
        masked = exp.Sub(
            this=exp.Paren(this=number), expression=_posmod(exp.Paren(this=number.copy()), block)
        )
        inside = exp.EQ(this=masked, expression=lit(network - network % block))
        return exp.and_(self._valid(text, _IPV4), false_if_null(inside))

    def op_ipv6_in_subnet(self, expr: Op) -> exp.Expr:
        network, prefix = int(expr.extra[0]), int(expr.extra[1])
        d = self.d
        source = self.sql(expr.args[0])
        text = d.lower(source.copy())
        # Every group padded to four digits, then the gap filled with zeros: 32 hex digits.
        padded = d.regex_replace(d.regex_replace(text, "([0-9a-f]+)", "000\\1"), "0*([0-9a-f]{4})", "\\1")
        digits = d.length(d.replace(padded.copy(), lit(":"), lit("")))
        zeros = d.repeat("0", exp.Sub(this=lit(32), expression=digits))
        filled = d.replace(padded.copy(), lit("::"), d.concat(lit(":"), zeros, lit(":")))
        gap = false_if_null(d.contains(padded.copy(), lit("::")))
        full = d.replace(case(gap, filled, padded.copy()), lit(":"), lit(""))
        inside = self._prefix_matches(full, f"{network:032x}", prefix)
        return exp.and_(self._valid(source, _IPV6), false_if_null(inside))

    def _prefix_matches(self, digits: exp.Expr, expected: str, bits: int) -> exp.Expr:
        """Whether hex ``digits`` start with the first ``bits`` bits of hex ``expected``."""
        whole, partial = divmod(bits, 4)
        tests: list[exp.Expr] = []
        if whole:
            head = self.d.substring(digits.copy(), lit(1), lit(whole))
            tests.append(exp.EQ(this=head, expression=lit(expected[:whole])))
        if partial:
            wanted = int(expected[whole], 16) >> (4 - partial)
            allowed = [f"{v:x}" for v in range(16) if v >> (4 - partial) == wanted]
            digit = self.d.substring(digits.copy(), lit(whole + 1), lit(1))
            tests.append(exp.In(this=digit, expressions=[lit(a) for a in allowed]))
        return exp.and_(*tests) if tests else exp.true()

    # aggregates ----------------------------------------------------------------------------------

    def aggregate(self, expr: Op) -> exp.Expr:
        d = self.d
        name = expr.name
        if name == "agg_count_star":
            return exp.Count(this=exp.Star())
        arg = expr.args[0]
        if name == "agg_count":
            return exp.Count(this=self.sql(arg))
        if name == "agg_count_distinct":
            return d.count_distinct(self.sql(arg))
        if name == "agg_avg":
            return exp.Avg(this=self.num(arg))
        if name == "agg_sum":
            return exp.Sum(this=self.num(arg))
        if name == "agg_stddev":
            return d.stddev(self.num(arg))
        if name == "agg_pct":
            value = d.quantile(self.num(arg), float(expr.extra[0]))
            if expr.kind is Kind.TIME:
                return exp.Cast(this=value, to=exp.DataType.build("BIGINT"))
            return value
        if name in ("agg_earliest", "agg_latest"):
            key = exp.Tuple(expressions=[col("ts"), col("seq")])
            picker = d.arg_min if name == "agg_earliest" else d.arg_max
            return picker(self.sql(arg), key)
        # min and max: numbers compare as numbers, and text as text unless all are numbers
        value = self.sql(arg)
        plain: exp.Expr = exp.Min(this=value) if name == "agg_min" else exp.Max(this=value)
        if arg.kind is not Kind.STRING:
            return plain
        number = self.string_number(value.copy())
        picker = d.arg_min if name == "agg_min" else d.arg_max
        all_numbers = exp.EQ(this=exp.Count(this=value.copy()), expression=exp.Count(this=number.copy()))
        return case(all_numbers, picker(value.copy(), number.copy()), plain)
