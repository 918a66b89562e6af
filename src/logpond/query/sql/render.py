"""A :class:`~logpond.query.plan.Plan` as one SQL statement (a chain of CTEs) per dialect.

Every step becomes a CTE over the previous one; the base CTE reads the ``events`` relation
the caller supplies (a table or a subquery, default: a table named ``events``). The final
SELECT names its columns ``__o1``... in output order; :mod:`logpond.query.execute` turns
the rows into CloudWatch's shape.

Statistics: :func:`render_matched` counts the events that matched, :func:`render_scanned`
the events and bytes read, :func:`render_statistics` all three at once. When ``stats``
directly follows the filters, :func:`render_plan` can carry the matched count in the result
(:data:`MATCHED_COLUMN`), which saves running the filters twice.
"""

from __future__ import annotations

from collections.abc import Iterator

from sqlglot import exp

from logpond.query.plan import (
    Aggregate,
    Cluster,
    Compute,
    Dedup,
    Op,
    PExpr,
    Plan,
    RecordField,
    Step,
    System,
    Take,
    Where,
)

from .base import Dialect, RenderContext, Rendered, SourceFacts, col, lit
from .expressions import PATTERN_MASKS, SEVERITIES, ExpressionSQL, case, false_if_null, is_null
from .record import RecordSQL

__all__ = [
    "MATCHED_COLUMN",
    "matched_in_result",
    "output_column",
    "render_matched",
    "render_plan",
    "render_scanned",
    "render_statistics",
]

# The result column carrying the matched count (see matched_in_result).
MATCHED_COLUMN = "__matched"
_GROUP_COUNT = "__n"
_MESSAGE = "__message"


def _as_filter(condition: exp.Expr) -> exp.Expr:
    """``condition`` for a WHERE clause, where NULL already means false: ``COALESCE(x, FALSE)``
    under AND and OR (never under NOT) becomes ``x``, which DuckDB can push into the scan as a
    column filter. AND and OR only turn a NULL operand into a NULL or false result."""
    if isinstance(condition, exp.And):
        return exp.and_(_as_filter(condition.this), _as_filter(condition.expression))
    if isinstance(condition, exp.Or):
        return exp.or_(_as_filter(condition.this), _as_filter(condition.expression))
    if isinstance(condition, exp.Paren):
        return exp.Paren(this=_as_filter(condition.this))
    if isinstance(condition, exp.Coalesce) and not condition.expressions:
        return condition
    if (
        isinstance(condition, exp.Coalesce)
        and len(condition.expressions) == 1
        and isinstance(condition.expressions[0], exp.Boolean)
        and not condition.expressions[0].this
    ):
        return _as_filter(condition.this)
    return condition


def _reads(expr: PExpr) -> Iterator[RecordField | System]:
    """The record fields and system fields ``expr`` reads."""
    if isinstance(expr, RecordField | System):
        yield expr
    elif isinstance(expr, Op):
        for arg in expr.args:
            yield from _reads(arg)


def output_column(index: int) -> str:
    """The SQL name of the ``index``-th (0-based) output column."""
    return f"__o{index + 1}"


def matched_in_result(plan: Plan) -> bool:
    """Whether the result can carry the matched count: the first ``stats`` directly follows
    the steps that decide matching, and nothing after it groups again."""
    rest = plan.steps[plan.matched_after :]
    return (
        bool(rest)
        and isinstance(rest[0], Aggregate)
        and not any(isinstance(step, Aggregate | Cluster) for step in rest[1:])
    )


def render_plan(
    plan: Plan,
    dialect: Dialect,
    source: exp.Expr | None = None,
    *,
    facts: SourceFacts | None = None,
    carry_matched: bool = False,
) -> Rendered:
    """The statement that produces the plan's result rows.

    With ``carry_matched`` (only where :func:`matched_in_result`), every row also holds the
    number of matched events in :data:`MATCHED_COLUMN`.
    """
    return _Renderer(plan, dialect, source, facts).statement(carry_matched)


def render_statistics(plan: Plan, dialect: Dialect, source: exp.Expr | None = None) -> Rendered:
    """A statement counting matched and scanned records and scanned bytes."""
    return _Renderer(plan, dialect, source, None).statistics()


def render_matched(
    plan: Plan, dialect: Dialect, source: exp.Expr | None = None, *, facts: SourceFacts | None = None
) -> Rendered:
    """A statement counting the events that match (column ``matched``)."""
    return _Renderer(plan, dialect, source, facts).matched()


def render_scanned(plan: Plan, dialect: Dialect, source: exp.Expr | None = None) -> Rendered:
    """A statement counting the events read (``scanned``) and their bytes (``bytes``)."""
    return _Renderer(plan, dialect, source, None).scanned()


class _Renderer:
    def __init__(
        self, plan: Plan, dialect: Dialect, source: exp.Expr | None, facts: SourceFacts | None
    ) -> None:
        self.plan = plan
        self.d = dialect
        self.ctx = RenderContext(dialect, facts=facts or SourceFacts())
        self.source = source
        record = RecordSQL(self.ctx, col("__doc") if plan.uses_record_fields else None)
        self.expressions = ExpressionSQL(self.ctx, record, plan.options.account_id)
        self.sql = self.expressions.sql
        self.order = self.expressions.order
        self.ctes: list[tuple[str, exp.Select]] = []

    # layers --------------------------------------------------------------------------------------

    def layer(self, select: exp.Select) -> str:
        name = f"__s{len(self.ctes)}"
        self.ctes.append((name, select))
        return name

    def base(self) -> str:
        relation = self.source if self.source is not None else exp.to_table("events")
        if isinstance(relation, exp.Select | exp.Union):
            relation = exp.Subquery(this=relation, alias=exp.TableAlias(this=exp.to_identifier("events")))
        columns: list[exp.Expr] = [exp.Star()]
        if self.plan.uses_record_fields:
            document = RecordSQL(self.ctx).document()
            columns.append(exp.alias_(document, "__doc"))
        return self.layer(exp.select(*columns).from_(relation, copy=False))

    def steps(self, steps: tuple[Step, ...], start: str, carry_matched: bool = False) -> str:
        current = start
        for index, step in enumerate(steps):
            if carry_matched and index == self.plan.matched_after and isinstance(step, Aggregate):
                current = self.counted_aggregate(step, current)
            else:
                current = self.step(step, current)
        return current

    def read_once(self, predicate: PExpr, current: str) -> str:
        """A layer computing the rebuilt @message and the JSON field texts ``predicate`` reads.

        DuckDB computes an expression used twice in a projection once, but not in a filter:
        a field compared as a number is read for its number test and again for its value.
        Filters on plain columns still go below this layer, so it runs only on their rows.
        """
        expressions = self.expressions
        columns: list[exp.Expr] = []
        for read in _reads(predicate):
            if isinstance(read, System):
                if read.name == "@message" and expressions.message_column is None:
                    columns.append(exp.alias_(self.sql(read), _MESSAGE))
                    expressions.message_column = _MESSAGE
            elif read.path not in expressions.field_columns:
                text = self.sql(read)
                if not isinstance(text, exp.Column):
                    name = f"__f{len(expressions.field_columns) + 1}"
                    columns.append(exp.alias_(text, name))
                    expressions.field_columns[read.path] = name
        if not columns:
            return current
        return self.layer(exp.select(exp.Star(), *columns).from_(current, copy=False))

    def counted_aggregate(self, step: Aggregate, current: str) -> str:
        """The aggregate, each group counting its events, and every row their total."""
        grouped = self.step(step, current)
        select = self.ctes[-1][1]
        counted = select.select(exp.alias_(exp.Count(this=exp.Star()), _GROUP_COUNT), copy=False)
        self.ctes[-1] = (grouped, counted)
        total = exp.Window(this=exp.Sum(this=col(_GROUP_COUNT)))
        return self.layer(
            exp.select(exp.Star(), exp.alias_(total, MATCHED_COLUMN)).from_(grouped, copy=False)
        )

    def step(self, step: Step, current: str) -> str:
        if isinstance(step, Compute):
            columns = [exp.Star(), *(exp.alias_(self.sql(e), c) for c, e in step.columns)]
            return self.layer(exp.select(*columns).from_(current, copy=False))
        if isinstance(step, Where):
            current = self.read_once(step.predicate, current)
            condition = _as_filter(self.sql(step.predicate))
            return self.layer(exp.select(exp.Star()).from_(current, copy=False).where(condition, copy=False))
        if isinstance(step, Aggregate):
            keys = [self.sql(e) for _, e in step.keys]
            columns = [exp.alias_(k, c) for k, (c, _) in zip(keys, step.keys, strict=True)]
            columns += [exp.alias_(self.sql(e), c) for c, e in step.aggregates]
            select = exp.select(*columns).from_(current, copy=False)
            if keys:
                select = select.group_by(*[k.copy() for k in keys], copy=False)
            return self.layer(select)
        if isinstance(step, Take):
            select = exp.select(exp.Star()).from_(current, copy=False)
            select = select.order_by(*self.order(step.order), copy=False).limit(step.count, copy=False)
            return self.layer(select)
        if isinstance(step, Dedup):
            window = exp.Window(
                this=exp.RowNumber(),
                partition_by=[col(k) for k in step.keys],
                order=exp.Order(expressions=self.order(step.order)) if step.order else None,
            )
            ranked = self.layer(
                exp.select(exp.Star(), exp.alias_(window, step.rank_column)).from_(current, copy=False)
            )
            keep = exp.or_(
                exp.EQ(this=col(step.rank_column), expression=lit(1)),
                *[is_null(col(k)) for k in step.keys],
            )
            return self.layer(exp.select(exp.Star()).from_(ranked, copy=False).where(keep, copy=False))
        return self.cluster(step, current)

    def cluster(self, step: Cluster, current: str) -> str:
        d = self.d
        text = self.sql(step.source)
        masked = text
        for regex in PATTERN_MASKS:
            masked = d.regex_replace(masked, regex, "<*>")
        grouped = self.layer(
            exp.select(exp.alias_(masked, step.pattern), exp.alias_(exp.Count(this=exp.Star()), step.count))
            .from_(current, copy=False)
            .where(exp.Not(this=is_null(text.copy())), copy=False)
            .group_by(masked.copy(), copy=False)
        )
        total = exp.Window(this=exp.Sum(this=col(step.count)))
        ratio = exp.Div(
            this=exp.Cast(this=col(step.count), to=exp.DataType.build("DOUBLE")), expression=total
        )
        severity: exp.Expr = lit("Unknown")
        for label, regex in reversed(SEVERITIES):
            severity = case(
                false_if_null(d.regex_search(col(step.pattern), lit(regex))), lit(label), severity
            )
        return self.layer(
            exp.select(
                col(step.pattern),
                col(step.count),
                exp.alias_(ratio, step.ratio),
                exp.alias_(severity, step.severity),
            ).from_(grouped, copy=False)
        )

    def with_ctes(self, select: exp.Select) -> exp.Select:
        # A CTE read twice (statistics) must not be materialized: that copies every column
        # of every event; each reader is planned on its own instead.
        materialized = self.d.materialized_ctes
        for name, cte in self.ctes:
            if materialized is None:
                select = select.with_(name, as_=cte, copy=False)
            else:
                select = select.with_(name, as_=cte, materialized=materialized, copy=False)
        return select

    def statement(self, carry_matched: bool = False) -> Rendered:
        carry = carry_matched and matched_in_result(self.plan)
        last = self.steps(self.plan.steps, self.base(), carry)
        self.expressions.few_rows = self.plan.limit is not None
        outputs = [
            exp.alias_(self.sql(output.expr), output_column(i)) for i, output in enumerate(self.plan.outputs)
        ]
        self.expressions.few_rows = False
        if carry:
            outputs.append(col(MATCHED_COLUMN))
        select = exp.select(*outputs).from_(last, copy=False)
        order = self.order(self.plan.order)
        if order:
            select = select.order_by(*order, copy=False)
        if self.plan.limit is not None:
            select = select.limit(self.plan.limit, copy=False)
        return self.d.render(self.d.finish(self.with_ctes(select)), self.ctx.params)

    def byte_count(self) -> exp.Expr:
        d = self.d
        return exp.Add(
            this=exp.func("coalesce", exp.Sum(this=d.byte_length(col("message"))), lit(0)),
            expression=exp.func("coalesce", exp.Sum(this=d.byte_length(col("fields"))), lit(0)),
        )

    def statistics(self) -> Rendered:
        base = self.base()
        matched = self.steps(self.plan.steps[: self.plan.matched_after], base)
        d = self.d
        matched_count = exp.Subquery(this=exp.select(exp.Count(this=exp.Star())).from_(matched, copy=False))
        select = exp.select(
            exp.alias_(matched_count, "matched"),
            exp.alias_(exp.Count(this=exp.Star()), "scanned"),
            exp.alias_(self.byte_count(), "bytes"),
        ).from_(base, copy=False)
        return d.render(d.finish(self.with_ctes(select)), self.ctx.params)

    def matched(self) -> Rendered:
        matched = self.steps(self.plan.steps[: self.plan.matched_after], self.base())
        select = exp.select(exp.alias_(exp.Count(this=exp.Star()), "matched")).from_(matched, copy=False)
        return self.d.render(self.d.finish(self.with_ctes(select)), self.ctx.params)

    def scanned(self) -> Rendered:
        select = exp.select(
            exp.alias_(exp.Count(this=exp.Star()), "scanned"),
            exp.alias_(self.byte_count(), "bytes"),
        ).from_(self.base(), copy=False)
        return self.d.render(self.d.finish(self.with_ctes(select)), self.ctx.params)
