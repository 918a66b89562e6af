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
    "TRACE_BLOCK_BITS",
    "DayScan",
    "GroupScope",
    "Params",
    "day_of",
    "event_counts",
    "events_relation",
    "table_for_day",
    "trace_key",
    "trace_rows",
    "traces_for_day",
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


def traces_for_day(day: int) -> str:
    """The trace index of a UTC day: ``traces_YYYYMMDD`` (traces.sql)."""
    return "traces_" + datetime.fromtimestamp(day * 86_400, UTC).strftime("%Y%m%d")


# Events per block of the trace index: about one DuckDB row group (122,880 rows).
TRACE_BLOCK_BITS = 16


def trace_key(value: exp.Expr) -> exp.Expr:
    """The trace index key of a trace id: the low 24 bits of its MD5.

    24 bits pack into 3 bytes; with some 20,000 traces in a block of 65,536 events, a
    lookup still names a block it is not in less than once in 800 blocks.
    """
    low = exp.Anonymous(this="md5_number_lower", expressions=[value])
    uint = exp.DataType.build("UINTEGER", dialect="duckdb")
    return exp.Cast(this=exp.Mod(this=low, expression=exp.Literal.number(2**24)), to=uint)


def trace_rows(table: str, source: str) -> str:
    """INSERT ... SELECT of the index rows of the events in ``source`` (a table or view) that
    ``table`` does not hold yet (a trace's events often arrive in several batches)."""
    key = trace_key(exp.column("trace_id")).sql(dialect="duckdb")
    return (
        f"INSERT INTO {table} SELECT DISTINCT n.block, n.key FROM (SELECT block, {key} AS key "
        f"FROM (SELECT DISTINCT (seq >> {TRACE_BLOCK_BITS})::INTEGER AS block, trace_id "
        f"FROM {source} WHERE trace_id IS NOT NULL)) AS n ANTI JOIN {table} AS t "
        "ON t.block = n.block AND t.key = n.key"
    )


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


@dataclass(frozen=True, slots=True)
class DayScan:
    """One day table a read covers: the chosen groups it holds, whether it holds others, and
    the ranges of event ids (seq, end exclusive) to read, or None for all of them."""

    day: int
    group_ids: tuple[int, ...]
    others: bool = True
    seq_ranges: tuple[tuple[int, int], ...] | None = None


def _col(name: str, table: str = "e") -> exp.Column:
    return exp.column(name, table=table)


def _day_scan(
    scan: DayScan,
    scopes: dict[int, GroupScope],
    params: Params,
    end_ms: int | None,
    stream_filters: list[exp.Expr],
) -> exp.Select:
    """One day table's rows of the chosen groups in the range, with only the tests it needs.

    A day table holds only that day's events, so a bound the whole day is inside is left
    out: DuckDB then neither evaluates it nor needs zone maps to skip it.
    """
    day_start = scan.day * DAY_MS
    conditions: list[exp.Expr] = []
    if scan.others:
        conditions.append(exp.In(this=_col("group_id"), expressions=[params.bind(g) for g in scan.group_ids]))
    starts = {g: max(scopes[g].visible_from_ms, day_start) for g in scan.group_ids}
    lowest = min(starts.values())
    if lowest > day_start:
        conditions.append(exp.GTE(this=_col("ts"), expression=params.bind(lowest)))
    later = {g: start for g, start in starts.items() if start > lowest}
    if later:
        per_group = exp.Case(
            this=_col("group_id"),
            ifs=[exp.If(this=params.bind(g), true=params.bind(start)) for g, start in later.items()],
            default=params.bind(lowest),
        )
        conditions.append(exp.GTE(this=_col("ts"), expression=per_group))
    if end_ms is not None and end_ms < day_start + DAY_MS:
        conditions.append(exp.LT(this=_col("ts"), expression=params.bind(end_ms)))
    conditions.extend(f.copy() for f in stream_filters)
    select = exp.select(*(_col(c) for c in TABLE_COLUMNS)).from_(
        exp.to_table(table_for_day(scan.day)).as_("e"), copy=False
    )
    return select.where(exp.and_(*conditions), copy=False) if conditions else select


def _empty_relation() -> exp.Subquery:
    empty = exp.select(
        *(exp.alias_(exp.cast(exp.null(), _RELATION_TYPES[c]), c) for c in RELATION_COLUMNS)
    ).where(exp.false())
    return empty.subquery("events")


def events_relation(
    days: Sequence[DayScan],
    scopes: Sequence[GroupScope],
    params: Params,
    *,
    end_ms: int | None,
    stream_ids: Iterable[int] | None = None,
    hidden_streams: Iterable[int] = (),
    stream_names: bool = True,
) -> exp.Subquery:
    """The events relation for some groups and a time range, expired events excluded.

    ``days`` are the day tables that may hold matching events; each group's events start
    at its ``visible_from_ms`` (the later of the range start and its retention cutoff).
    Events of ``hidden_streams`` (deleted, not yet swept) are left out. ``stream_names``
    False leaves ``stream_name`` NULL and saves the lookup, for callers that never read it.
    """
    if not days or not scopes:
        return _empty_relation()
    by_id = {scope.group_id: scope for scope in scopes}
    stream_filters: list[exp.Expr] = []
    if stream_ids is not None:
        stream_filters.append(
            exp.In(this=_col("stream_id"), expressions=[params.bind(s) for s in stream_ids])
        )
    hidden = sorted(set(hidden_streams))
    if hidden:
        stream_filters.append(
            exp.Not(this=exp.In(this=_col("stream_id"), expressions=[params.bind(s) for s in hidden]))
        )
    scans: list[exp.Select] = []
    for scan in sorted(days, key=lambda d: d.day):
        if scan.seq_ranges is None:
            scans.append(_day_scan(scan, by_id, params, end_ms, stream_filters))
            continue
        # One scan per range: DuckDB skips row groups by a range test, not by an OR of them.
        for low, high in scan.seq_ranges:
            within = exp.and_(
                exp.GTE(this=_col("seq"), expression=params.bind(low)),
                exp.LT(this=_col("seq"), expression=params.bind(high)),
            )
            scans.append(_day_scan(scan, by_id, params, end_ms, [*stream_filters, within]))
    if not scans:
        return _empty_relation()
    union: exp.Query = scans[0]
    for branch in scans[1:]:
        union = exp.union(union, branch, distinct=False, copy=False)
    group_name = exp.Case(
        this=_col("group_id", "u"),
        ifs=[exp.If(this=params.bind(scope.group_id), true=params.bind(scope.name)) for scope in scopes],
    )
    stream_name: exp.Expr = _col("name", "s") if stream_names else exp.cast(exp.null(), "VARCHAR")
    select = exp.select(
        exp.alias_(group_name, "group_name"),
        exp.alias_(stream_name, "stream_name"),
        *(_col(c, "u") for c in RELATION_COLUMNS[2:]),
    ).from_(union.subquery("u", copy=False), copy=False)
    if stream_names:
        select = select.join(
            exp.to_table("log_streams").as_("s"),
            on=exp.EQ(this=_col("stream_id", "u"), expression=_col("id", "s")),
            join_type="left",
            copy=False,
        )
    return select.subquery("events", copy=False)


def event_counts(
    days: Sequence[DayScan],
    scopes: Sequence[GroupScope],
    params: Params,
    *,
    end_ms: int | None,
    hidden_streams: Iterable[int] = (),
) -> exp.Select:
    """``day, group_id, events`` of the relation's rows in these day tables and groups."""
    by_id = {scope.group_id: scope for scope in scopes}
    hidden = sorted(set(hidden_streams))
    filters: list[exp.Expr] = []
    if hidden:
        filters.append(
            exp.Not(this=exp.In(this=_col("stream_id"), expressions=[params.bind(s) for s in hidden]))
        )
    counts = []
    for scan in sorted(days, key=lambda d: d.day):
        rows = _day_scan(scan, by_id, params, end_ms, filters).subquery("r", copy=False)
        counts.append(
            exp.select(
                exp.alias_(params.bind(scan.day), "day"),
                exp.column("group_id"),
                exp.alias_(exp.Count(this=exp.Star()), "events"),
            )
            .from_(rows, copy=False)
            .group_by(exp.column("group_id"), copy=False)
        )
    union: exp.Query = counts[0]
    for count in counts[1:]:
        union = exp.union(union, count, distinct=False, copy=False)
    return exp.select("*").from_(union.subquery("c", copy=False), copy=False)


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
