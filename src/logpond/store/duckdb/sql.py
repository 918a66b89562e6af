"""SQL for the events tables, built as sqlglot trees with every value bound.

This module is the only place that knows the events live in one DuckDB table per UTC day.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlglot import exp

__all__ = [
    "DAY_MS",
    "RELATION_COLUMNS",
    "GroupScope",
    "Params",
    "day_of",
    "events_relation",
    "table_for_day",
]

DAY_MS = 86_400_000

# Physical columns of a day table, in order.
TABLE_COLUMNS = (
    "seq",
    "ts",
    "ingest_ts",
    "group_id",
    "stream_id",
    "level",
    "message",
    "trace_id",
    "span_id",
    "tenant_id",
    "service",
    "fields",
)

# Columns of the events relation the query layer sees (docs/architecture.md).
RELATION_COLUMNS = (
    "group_name",
    "stream_name",
    "ts",
    "ingest_ts",
    "seq",
    "level",
    "message",
    "trace_id",
    "span_id",
    "tenant_id",
    "service",
    "fields",
)


def day_of(ts_ms: int) -> int:
    """The UTC day (days since the epoch) an event time falls in."""
    return ts_ms // DAY_MS


def table_for_day(day: int) -> str:
    """The events table of a UTC day: ``events_YYYYMMDD``."""
    return "events_" + datetime.fromtimestamp(day * 86_400, UTC).strftime("%Y%m%d")


@dataclass
class Params:
    """Named parameters collected while a statement is built.

    Names start with ``s`` (``$s0``...): the query renderer's own are ``$p0``..., and a query
    statement carries both.
    """

    values: dict[str, Any] = field(default_factory=dict)

    def bind(self, value: Any) -> exp.Placeholder:
        name = f"s{len(self.values)}"
        self.values[name] = value
        return exp.Placeholder(this=name)


@dataclass(frozen=True, slots=True)
class GroupScope:
    """One group a read covers, and the first event time still visible in it."""

    group_id: int
    name: str
    visible_from_ms: int


def _col(name: str, table: str = "e") -> exp.Column:
    return exp.column(name, table=table)


def events_relation(
    days: Sequence[int],
    scopes: Sequence[GroupScope],
    params: Params,
    *,
    end_ms: int | None,
    stream_ids: Iterable[int] | None = None,
) -> exp.Subquery:
    """The events relation for some groups and a time range, expired events excluded.

    ``days`` are the day tables that may hold matching events; each group's events start
    at its ``visible_from_ms`` (the later of the range start and its retention cutoff).
    """
    if not days or not scopes:
        empty = exp.select(
            *(exp.alias_(exp.cast(exp.null(), _RELATION_TYPES[c]), c) for c in RELATION_COLUMNS)
        ).where(exp.false())
        return empty.subquery("events")
    scans = [exp.select(*TABLE_COLUMNS).from_(table_for_day(day)) for day in sorted(days)]
    union: exp.Query = scans[0]
    for scan in scans[1:]:
        union = exp.union(union, scan, distinct=False)
    groups = exp.values(
        [
            exp.tuple_(
                params.bind(scope.group_id), params.bind(scope.name), params.bind(scope.visible_from_ms)
            )
            for scope in scopes
        ],
        alias="g",
        columns=["id", "name", "visible_from"],
    )
    lowest = min(scope.visible_from_ms for scope in scopes)
    condition: exp.Expr = exp.and_(
        exp.GTE(this=_col("ts"), expression=_col("visible_from", "g")),
        exp.GTE(this=_col("ts"), expression=params.bind(lowest)),
    )
    if end_ms is not None:
        condition = exp.and_(condition, exp.LT(this=_col("ts"), expression=params.bind(end_ms)))
    if stream_ids is not None:
        condition = exp.and_(
            condition,
            exp.In(this=_col("stream_id"), expressions=[params.bind(s) for s in stream_ids]),
        )
    select = (
        exp.select(
            exp.alias_(_col("name", "g"), "group_name"),
            exp.alias_(_col("name", "s"), "stream_name"),
            *(_col(c) for c in RELATION_COLUMNS[2:]),
        )
        .from_(union.subquery("e"))
        .join(groups, on=exp.EQ(this=_col("group_id"), expression=_col("id", "g")))
        .join(
            exp.to_table("log_streams").as_("s"),
            on=exp.and_(
                exp.EQ(this=_col("stream_id"), expression=_col("id", "s")),
                exp.Is(this=_col("deleted_ms", "s"), expression=exp.null()),
            ),
        )
        .where(condition)
    )
    return select.subquery("events")


_RELATION_TYPES = {
    "group_name": "VARCHAR",
    "stream_name": "VARCHAR",
    "ts": "BIGINT",
    "ingest_ts": "BIGINT",
    "seq": "BIGINT",
    "level": "VARCHAR",
    "message": "VARCHAR",
    "trace_id": "VARCHAR",
    "span_id": "VARCHAR",
    "tenant_id": "VARCHAR",
    "service": "VARCHAR",
    "fields": "VARCHAR",
}
