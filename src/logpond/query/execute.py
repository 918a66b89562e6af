"""Run a Logs Insights query on an engine and shape the result as CloudWatch does.

The store calls :func:`run_query` with the query, the dialect, the ``events`` relation it
built for the requested groups and time range (a sqlglot expression), and a connection.
Rows come back as CloudWatch ``results`` rows: lists of ``{"field", "value"}`` in output
order, every value a string, missing values left out, ``@ptr`` on non-aggregated rows.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import pyarrow as pa
from sqlglot import exp

from .insights.ast import Query
from .plan import Compute, Kind, Plan, PlanOptions, Take, Where
from .planner import plan_query
from .record import format_number, format_timestamp
from .sql.base import Dialect, Rendered, SourceFacts
from .sql.clickhouse import ClickHouseDialect
from .sql.duckdb import DuckDBDialect
from .sql.render import (
    MATCHED_COLUMN,
    matched_in_result,
    output_column,
    render_matched,
    render_plan,
    render_scanned,
)

__all__ = [
    "QueryResult",
    "QueryStatistics",
    "ResultField",
    "dialect_for",
    "run_plan",
    "run_query",
    "with_params",
]

ResultField = dict[str, str]  # {"field": name, "value": text}

_DIALECTS: dict[str, type[Dialect]] = {"duckdb": DuckDBDialect, "clickhouse": ClickHouseDialect}


def dialect_for(name: str | Dialect) -> Dialect:
    """The dialect called ``name`` (``duckdb`` or ``clickhouse``)."""
    if isinstance(name, Dialect):
        return name
    try:
        return _DIALECTS[name]()
    except KeyError:
        raise ValueError(f"unknown SQL dialect {name!r}; known: {sorted(_DIALECTS)}") from None


@dataclass(frozen=True)
class QueryStatistics:
    """CloudWatch's query statistics (all doubles on the wire)."""

    records_matched: float = 0.0
    records_scanned: float = 0.0
    bytes_scanned: float = 0.0

    def to_dict(self) -> dict[str, float]:
        """The ``statistics`` object of GetQueryResults."""
        return {
            "recordsMatched": float(self.records_matched),
            "recordsScanned": float(self.records_scanned),
            "bytesScanned": float(self.bytes_scanned),
        }


@dataclass(frozen=True)
class QueryResult:
    """Result column names, rows in CloudWatch's shape, and statistics."""

    fields: list[str]
    rows: list[list[ResultField]]
    statistics: QueryStatistics = field(default_factory=QueryStatistics)

    def records(self) -> list[dict[str, str]]:
        """The rows as plain mappings of field to value (missing values absent)."""
        return [{item["field"]: item["value"] for item in row} for row in self.rows]


def run_query(
    query: Query | str,
    *,
    dialect: str | Dialect,
    connection: Any,
    source: exp.Expr | None = None,
    options: PlanOptions | None = None,
    statistics: bool = False,
) -> QueryResult:
    """Parse (if text), plan and run ``query`` over ``source`` (default: a table ``events``).

    ``options.now_ms`` of 0 means now. With ``statistics``, a second statement counts the
    matched and scanned records and the scanned bytes; without, ``recordsMatched`` is the
    number of rows returned and the scanned counts are left for the store to fill (it knows
    them from its partition bookkeeping).
    """
    chosen = options or PlanOptions()
    if chosen.now_ms == 0:
        chosen = replace(chosen, now_ms=time.time_ns() // 1_000_000)
    plan = plan_query(query, chosen)
    return run_plan(plan, dialect=dialect, connection=connection, source=source, statistics=statistics)


def run_plan(
    plan: Plan,
    *,
    dialect: str | Dialect,
    connection: Any,
    source: exp.Expr | None = None,
    source_params: Mapping[str, Any] | None = None,
    statistics: bool = False,
    facts: SourceFacts | None = None,
    scanned: tuple[int, int] | None = None,
) -> QueryResult:
    """Run an already planned query.

    ``source_params`` are the bound values of ``source`` (whose placeholder names must not
    start with ``p``, the renderer's own); ``facts`` what the store guarantees about it.
    With ``statistics``, ``scanned`` is (records, bytes) read, when the store knows them;
    otherwise they are counted. The matched count comes from the result where it can (no
    filter; a ``stats`` right after the filters; every matching row returned) and from a
    counting statement otherwise.
    """
    engine = dialect_for(dialect)
    carry = statistics and matched_in_result(plan)
    rendered = render_plan(plan, engine, source, facts=facts, carry_matched=carry)
    table = engine.run(connection, with_params(rendered, source_params))
    rows = list(result_rows(plan, table))
    stats = QueryStatistics(records_matched=float(len(rows)))
    if statistics:
        if scanned is None:
            counts = engine.run(
                connection, with_params(render_scanned(plan, engine, source), source_params)
            ).to_pylist()[0]
            scanned = (int(counts["scanned"] or 0), int(counts["bytes"] or 0))
        matched = _matched_from_result(plan, table, len(rows), carry, scanned[0])
        if matched is None:
            counted = engine.run(
                connection, with_params(render_matched(plan, engine, source, facts=facts), source_params)
            )
            matched = int(counted.to_pylist()[0]["matched"] or 0)
        stats = QueryStatistics(float(matched), float(scanned[0]), float(scanned[1]))
    return QueryResult(plan.fields, rows, stats)


def _matched_from_result(
    plan: Plan, table: pa.Table, returned: int, carried: bool, scanned: int
) -> int | None:
    """The matched count when the result tells it, else None."""
    deciding = plan.steps[: plan.matched_after]
    if not any(isinstance(step, Where) for step in deciding):
        return scanned
    if carried:
        return int(table.column(MATCHED_COLUMN)[0].as_py()) if table.num_rows else None
    rest = plan.steps[plan.matched_after :]
    if plan.aggregated or not all(isinstance(step, Compute | Take) for step in rest):
        return None
    caps = [step.count for step in rest if isinstance(step, Take)]
    if plan.limit is not None:
        caps.append(plan.limit)
    return returned if returned < min(caps, default=returned + 1) else None


def with_params(rendered: Rendered, extra: Mapping[str, Any] | None) -> Rendered:
    """``rendered`` with the source's parameters bound too."""
    if not extra:
        return rendered
    return replace(rendered, params={**rendered.params, **extra})


def format_value(value: Any, kind: Kind) -> str:
    """One result value as CloudWatch text."""
    if kind is Kind.TIME:
        return format_timestamp(int(value))
    if kind is Kind.BOOL:
        return "1" if value else "0"
    if kind is Kind.NUMBER:
        if isinstance(value, bool):
            return "1" if value else "0"
        return format_number(value if isinstance(value, int | float) else float(value))
    return str(value)


def result_rows(plan: Plan, table: pa.Table) -> Iterator[list[ResultField]]:
    """Each row of the engine's result as a CloudWatch ``results`` row."""
    columns = [table.column(output_column(i)).to_pylist() for i in range(len(plan.outputs))]
    kinds = [output.expr.kind for output in plan.outputs]
    names = plan.fields
    for row in range(table.num_rows):
        out: list[ResultField] = []
        for index, name in enumerate(names):
            value = columns[index][row]
            if value is None:
                continue
            out.append({"field": name, "value": format_value(value, kinds[index])})
        yield out
