"""A :class:`~logpond.query.plan.Plan` as one SQL statement (a chain of CTEs) per dialect.

Every step becomes a CTE over the previous one; the base CTE reads the ``events`` relation
the caller supplies (a table or a subquery, default: a table named ``events``). The final
SELECT names its columns ``__o1``... in output order; :mod:`logpond.query.execute` turns
the rows into CloudWatch's shape.
"""

from __future__ import annotations

from sqlglot import exp

from logpond.query.plan import Aggregate, Cluster, Compute, Dedup, Plan, Step, Take, Where

from .base import Dialect, RenderContext, Rendered, col, lit
from .expressions import PATTERN_MASKS, SEVERITIES, ExpressionSQL, case, false_if_null, is_null
from .record import RecordSQL

__all__ = ["output_column", "render_plan", "render_statistics"]


def output_column(index: int) -> str:
    """The SQL name of the ``index``-th (0-based) output column."""
    return f"__o{index + 1}"


def render_plan(plan: Plan, dialect: Dialect, source: exp.Expr | None = None) -> Rendered:
    """The statement that produces the plan's result rows."""
    return _Renderer(plan, dialect, source).statement()


def render_statistics(plan: Plan, dialect: Dialect, source: exp.Expr | None = None) -> Rendered:
    """A statement counting matched and scanned records and scanned bytes."""
    return _Renderer(plan, dialect, source).statistics()


class _Renderer:
    def __init__(self, plan: Plan, dialect: Dialect, source: exp.Expr | None) -> None:
        self.plan = plan
        self.d = dialect
        self.ctx = RenderContext(dialect)
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
        return self.layer(exp.select(*columns).from_(relation))

    def steps(self, steps: tuple[Step, ...], start: str) -> str:
        current = start
        for step in steps:
            current = self.step(step, current)
        return current

    def step(self, step: Step, current: str) -> str:
        if isinstance(step, Compute):
            columns = [exp.Star(), *(exp.alias_(self.sql(e), c) for c, e in step.columns)]
            return self.layer(exp.select(*columns).from_(current))
        if isinstance(step, Where):
            return self.layer(exp.select(exp.Star()).from_(current).where(self.sql(step.predicate)))
        if isinstance(step, Aggregate):
            keys = [self.sql(e) for _, e in step.keys]
            columns = [exp.alias_(k, c) for k, (c, _) in zip(keys, step.keys, strict=True)]
            columns += [exp.alias_(self.sql(e), c) for c, e in step.aggregates]
            select = exp.select(*columns).from_(current)
            if keys:
                select = select.group_by(*[k.copy() for k in keys])
            return self.layer(select)
        if isinstance(step, Take):
            select = exp.select(exp.Star()).from_(current)
            select = select.order_by(*self.order(step.order)).limit(step.count)
            return self.layer(select)
        if isinstance(step, Dedup):
            window = exp.Window(
                this=exp.RowNumber(),
                partition_by=[col(k) for k in step.keys],
                order=exp.Order(expressions=self.order(step.order)) if step.order else None,
            )
            ranked = self.layer(exp.select(exp.Star(), exp.alias_(window, step.rank_column)).from_(current))
            keep = exp.or_(
                exp.EQ(this=col(step.rank_column), expression=lit(1)),
                *[is_null(col(k)) for k in step.keys],
            )
            return self.layer(exp.select(exp.Star()).from_(ranked).where(keep))
        return self.cluster(step, current)

    def cluster(self, step: Cluster, current: str) -> str:
        d = self.d
        text = self.sql(step.source)
        masked = text
        for regex in PATTERN_MASKS:
            masked = d.regex_replace(masked, regex, "<*>")
        grouped = self.layer(
            exp.select(exp.alias_(masked, step.pattern), exp.alias_(exp.Count(this=exp.Star()), step.count))
            .from_(current)
            .where(exp.Not(this=is_null(text.copy())))
            .group_by(masked.copy())
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
            ).from_(grouped)
        )

    def with_ctes(self, select: exp.Select) -> exp.Select:
        for name, cte in self.ctes:
            select = select.with_(name, as_=cte)
        return select

    def statement(self) -> Rendered:
        last = self.steps(self.plan.steps, self.base())
        outputs = [
            exp.alias_(self.sql(output.expr), output_column(i)) for i, output in enumerate(self.plan.outputs)
        ]
        select = exp.select(*outputs).from_(last)
        order = self.order(self.plan.order)
        if order:
            select = select.order_by(*order)
        if self.plan.limit is not None:
            select = select.limit(self.plan.limit)
        return self.d.render(self.d.finish(self.with_ctes(select)), self.ctx.params)

    def statistics(self) -> Rendered:
        base = self.base()
        matched = self.steps(self.plan.steps[: self.plan.matched_after], base)
        d = self.d
        matched_count = exp.Subquery(this=exp.select(exp.Count(this=exp.Star())).from_(matched))
        byte_count = exp.Add(
            this=exp.func("coalesce", exp.Sum(this=d.byte_length(col("message"))), lit(0)),
            expression=exp.func("coalesce", exp.Sum(this=d.byte_length(col("fields"))), lit(0)),
        )
        select = exp.select(
            exp.alias_(matched_count, "matched"),
            exp.alias_(exp.Count(this=exp.Star()), "scanned"),
            exp.alias_(byte_count, "bytes"),
        ).from_(base)
        return d.render(d.finish(self.with_ctes(select)), self.ctx.params)
