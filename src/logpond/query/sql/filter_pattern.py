"""Filter patterns as SQL predicates over ``events`` (FilterLogEvents, exports, tests).

The predicate is a sqlglot expression over the columns of the ``events`` relation; the
store puts it in its own statement, or :func:`filter_statement` builds a simple one. The
semantics are those of :class:`logpond.query.matcher.FilterPatternMatcher`.
"""

from __future__ import annotations

from sqlglot import exp

from logpond.query.filter_pattern_ast import (
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
    MixedOptional,
    PatternNumber,
    PatternRegex,
    PatternString,
    PatternValue,
    Term,
    TermKind,
    TermPattern,
    glob_to_like,
)
from logpond.query.record import NUMBER_PATTERN

from .base import Dialect, RenderContext, Rendered, col, lit
from .record import RecordSQL

__all__ = ["filter_events", "filter_statement"]

_CHECK_KINDS = {"IS NULL": "null", "IS TRUE": "true", "IS FALSE": "false", "NOT EXISTS": "missing"}
_COMPARE = {"=": exp.EQ, "!=": exp.NEQ, "<": exp.LT, "<=": exp.LTE, ">": exp.GT, ">=": exp.GTE}
_MESSAGE = "__fp_message"
_MESSAGE_DOC = "__fp_message_doc"
_LINE = "__fp_line"


def _relation(source: exp.Expr | None) -> exp.Expr:
    relation = source if source is not None else exp.to_table("events")
    if isinstance(relation, exp.Select | exp.Union):
        return exp.Subquery(this=relation, alias=exp.TableAlias(this=exp.to_identifier("events")))
    return relation


def _over(select: exp.Select, alias: str) -> exp.Expr:
    return exp.Subquery(this=select, alias=exp.TableAlias(this=exp.to_identifier(alias)))


def filter_events(
    pattern: FilterPattern,
    ctx: RenderContext,
    source: exp.Expr | None = None,
    *,
    mixed_optional: MixedOptional = MixedOptional.IGNORE,
) -> exp.Select:
    """``SELECT * FROM source WHERE <pattern matches>`` (source: a table named ``events``).

    The result has every column of ``source`` and may add helper columns named
    ``__fp_...``; select the columns you need from it. Values the pattern reads more than
    once (``@message``, a JSON message, the split of a line) are computed once, in an
    inner layer.
    """
    relation = _relation(source)
    if isinstance(pattern, MatchAll):
        return exp.select(exp.Star()).from_(relation)
    record = RecordSQL(ctx)
    if isinstance(pattern, TermPattern):
        message = exp.func("coalesce", record.at_message(), lit(""))
        inner = exp.select(exp.Star(), exp.alias_(message, _MESSAGE)).from_(relation)
        predicate = _terms(pattern, ctx, record, col(_MESSAGE), mixed_optional)
        return exp.select(exp.Star()).from_(_over(inner, "events")).where(predicate)
    if isinstance(pattern, JsonPattern):
        inner = exp.select(exp.Star(), exp.alias_(record.message_doc(), _MESSAGE_DOC)).from_(relation)
        reader = RecordSQL(ctx, message_doc=col(_MESSAGE_DOC))
        predicate = exp.and_(reader.is_object(), _json(pattern.expr, ctx, reader))
        return exp.select(exp.Star()).from_(_over(inner, "events")).where(predicate)
    return _delimited(pattern, ctx, record, relation)


def filter_statement(
    pattern: FilterPattern,
    dialect: Dialect,
    source: exp.Expr | None = None,
    *,
    columns: tuple[str, ...] = ("seq",),
    mixed_optional: MixedOptional = MixedOptional.IGNORE,
) -> Rendered:
    """``SELECT columns FROM source WHERE <pattern> ORDER BY ts, seq`` (source: ``events``)."""
    ctx = RenderContext(dialect)
    matching = filter_events(pattern, ctx, source, mixed_optional=mixed_optional)
    select = (
        exp.select(*[col(c) for c in columns])
        .from_(_over(matching, "events"))
        .order_by(col("ts"), col("seq"))
    )
    return dialect.render(dialect.finish(select), ctx.params)


# terms ----------------------------------------------------------------------------------------


def _terms(
    pattern: TermPattern,
    ctx: RenderContext,
    record: RecordSQL,
    message: exp.Expr,
    mixed: MixedOptional,
) -> exp.Expr:
    """The term test; ``message`` is ``@message``, read only where the columns cannot answer."""

    def hit(term: Term) -> exp.Expr:
        if term.kind is TermKind.REGEX:
            return ctx.dialect.regex_search(message.copy(), ctx.value("(?s)" + term.text, regex=True))
        direct = record.message_contains(term.text)
        if direct is not None:
            return exp.func("coalesce", direct, exp.false())
        return ctx.dialect.contains(message.copy(), ctx.value(term.text))

    alternatives = [
        exp.and_(*[hit(t) for t in group]) if group else exp.true() for group in pattern.groups(mixed)
    ]
    out = exp.or_(*alternatives) if alternatives else exp.false()
    excluded = [exp.Not(this=hit(t)) for t in pattern.excluded()]
    return exp.and_(exp.Paren(this=out), *excluded) if excluded else out


# JSON -----------------------------------------------------------------------------------------


def _value_match(text: exp.Expr, value: PatternValue, ctx: RenderContext) -> exp.Expr:
    """Whether non-null ``text`` matches a string or regex value."""
    if isinstance(value, PatternRegex):
        return ctx.dialect.regex_search(text, ctx.value("(?s)" + value.regex, regex=True))
    assert isinstance(value, PatternString)
    if value.text == "*":
        return exp.true()
    if value.has_wildcard:
        return ctx.dialect.like(text, ctx.value(glob_to_like(value.text)))
    return exp.EQ(this=text, expression=ctx.value(value.text))


def _json(expr: JsonExpr, ctx: RenderContext, record: RecordSQL) -> exp.Expr:
    if isinstance(expr, JsonAnd):
        return exp.Paren(this=exp.and_(*[_json(i, ctx, record) for i in expr.items]))
    if isinstance(expr, JsonOr):
        return exp.Paren(this=exp.or_(*[_json(i, ctx, record) for i in expr.items]))
    path = expr.selector.path
    if isinstance(expr, JsonCheck):
        return record.member_kind_in(path, [_CHECK_KINDS[expr.check]])
    assert isinstance(expr, JsonComparison)
    if isinstance(expr.value, PatternNumber):
        number = record.member_number(path)
        compare = _COMPARE[expr.op](this=number, expression=ctx.value(expr.value.value))
        return exp.func("coalesce", compare, exp.false())
    hit = _value_match(record.member_text(path), expr.value, ctx)
    if expr.op == "!=":
        hit = exp.Not(this=exp.Paren(this=hit))
    return exp.and_(record.member_scalar(path), exp.func("coalesce", hit, exp.false()))


# space-delimited ------------------------------------------------------------------------------


def _strip(value: exp.Expr, ctx: RenderContext) -> exp.Expr:
    d = ctx.dialect
    length = d.length(value.copy())

    def char(position: exp.Expr) -> exp.Expr:
        return d.substring(value.copy(), position, lit(1))

    def wrapped(opening: str, closing: str) -> exp.Expr:
        return exp.and_(
            exp.EQ(this=char(lit(1)), expression=lit(opening)),
            exp.EQ(this=char(length.copy()), expression=lit(closing)),
        )

    strip = exp.and_(
        exp.GTE(this=length.copy(), expression=lit(2)),
        exp.Paren(this=exp.or_(wrapped('"', '"'), wrapped("[", "]"))),
    )
    inner = d.substring(value.copy(), lit(2), exp.Sub(this=length.copy(), expression=lit(2)))
    return exp.Case(ifs=[exp.If(this=strip, true=inner)], default=value.copy())


def _delimited(
    pattern: DelimitedPattern, ctx: RenderContext, record: RecordSQL, relation: exp.Expr
) -> exp.Select:
    d = ctx.dialect
    line = d.concat(lit(" "), exp.func("coalesce", record.at_message(), lit("")))
    lines = exp.select(exp.Star(), exp.alias_(line, _LINE)).from_(relation)
    regex = pattern.regex()
    last = len(pattern.columns) - 1
    group_count = sum(
        2 if (i == last and pattern.absorbs and not c.ellipsis) else 1 for i, c in enumerate(pattern.columns)
    )
    whole = d.regex_split(col(_LINE), ctx.value(regex, regex=True), group_count)
    names = [f"__fp_g{i}" for i in range(group_count)]
    split_once = exp.select(exp.Star(), exp.alias_(whole, "__fp_split")).from_(_over(lines, "events"))
    # Extracting groups is far slower than a substring test: first drop the lines that lack
    # a literal part some condition's value must contain.
    needles = _required_text(pattern)
    if needles:
        split_once = split_once.where(
            exp.and_(*[_false_if_null(d.contains(col(_LINE), ctx.value(n))) for n in needles])
        )
    groups = [d.regex_group_of(col("__fp_split"), i + 1, group_count) for i in range(group_count)]
    split = exp.select(exp.Star(), *[exp.alias_(g, n) for g, n in zip(groups, names, strict=True)]).from_(
        _over(split_once, "events")
    )
    # A column's field is never empty, so the first column's group tells whether the line
    # split at all (groups are '' when it did not); only a pattern of ellipses must search.
    first_column = next(
        (i for i, c in enumerate(_group_owners(pattern)) if c is not None and not c.ellipsis), None
    )
    if first_column is None:
        matched = d.regex_search(col(_LINE), ctx.value(regex, regex=True))
    else:
        matched = exp.NEQ(this=col(names[first_column]), expression=lit(""))
    values: dict[str, exp.Expr] = {}
    position = 0
    for index, column in enumerate(pattern.columns):
        first = col(names[position])
        position += 1
        if column.ellipsis:
            continue
        value: exp.Expr
        if index == last and pattern.absorbs:
            rest = col(names[position])
            position += 1
            value = exp.Case(
                ifs=[exp.If(this=exp.EQ(this=rest, expression=lit("")), true=_strip(first, ctx))],
                default=d.concat(first.copy(), rest.copy()),
            )
        else:
            value = _strip(first, ctx)
        if column.name is not None:
            values[column.name] = value
    conditions = [
        _false_if_null(_column(c.condition, values, ctx)) for c in pattern.columns if c.condition is not None
    ]
    outer = exp.select(exp.Star()).from_(_over(split, "events"))
    return outer.where(exp.and_(_false_if_null(matched), *conditions))


def _required_text(pattern: DelimitedPattern) -> list[str]:
    """Text every matching line contains: literal parts of the values of ``=`` conditions."""
    needles: list[str] = []
    for column in pattern.columns:
        condition = column.condition
        required = list(condition.items) if isinstance(condition, ColumnAnd) else [condition]
        for item in required:
            if (
                isinstance(item, ColumnComparison)
                and item.op == "="
                and isinstance(item.value, PatternString)
            ):
                needles += [part for part in item.value.text.split("*") if part]
    return needles


def _group_owners(pattern: DelimitedPattern) -> list[DelimitedColumn | None]:
    """For each capture group of ``pattern.regex()``, its column (None for a rest group)."""
    owners: list[DelimitedColumn | None] = []
    last = len(pattern.columns) - 1
    for index, column in enumerate(pattern.columns):
        owners.append(column)
        if index == last and pattern.absorbs and not column.ellipsis:
            owners.append(None)
    return owners


def _false_if_null(value: exp.Expr) -> exp.Expr:
    return exp.func("coalesce", value, exp.false())


def _column(condition: ColumnCondition, values: dict[str, exp.Expr], ctx: RenderContext) -> exp.Expr:
    if isinstance(condition, ColumnAnd):
        return exp.Paren(this=exp.and_(*[_column(i, values, ctx) for i in condition.items]))
    if isinstance(condition, ColumnOr):
        return exp.Paren(this=exp.or_(*[_column(i, values, ctx) for i in condition.items]))
    assert isinstance(condition, ColumnComparison)
    d = ctx.dialect
    value = values[condition.name].copy()
    if isinstance(condition.value, PatternNumber):
        numeric = d.regex_search(value.copy(), lit(f"^(?:{NUMBER_PATTERN})$"))
        number = exp.Case(ifs=[exp.If(this=numeric, true=d.to_double(value.copy()))])
        return _COMPARE[condition.op](this=number, expression=ctx.value(condition.value.value))
    hit = _value_match(value, condition.value, ctx)
    if condition.op == "!=":
        hit = exp.Not(this=exp.Paren(this=hit))
    return hit
