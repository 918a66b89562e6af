"""What a read covers, resolved against the catalog: the SQL source, its facts, its size.

A query or search names groups and a time range. :func:`cover` turns them into the day
tables and groups to read (:class:`Coverage`), from which come the ``events`` relation the
query layer reads, the :class:`SourceFacts` the catalog can vouch for, and how many events
and bytes the read scans: from the per-day statistics where a day's events of a group lie
wholly in the range, and by counting the rest.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

import duckdb
from sqlglot import exp

from logpond.query import Plan, SourceFacts
from logpond.query.plan import Compute, System, Where

from .catalog import Catalog, PartitionGroupStats
from .sql import (
    DAY_MS,
    TRACE_BLOCK_BITS,
    DayScan,
    GroupScope,
    Params,
    day_of,
    event_counts,
    events_relation,
    trace_key,
    traces_for_day,
)

__all__ = ["EXPORT_SLICE_EVENTS", "Coverage", "cover", "export_slices"]

# About how many events one statement of an export sorts. DuckDB's sort spills to disk, but
# merging the runs of millions of rows under the default 128 MB memory limit fails.
EXPORT_SLICE_EVENTS = 200_000


@dataclass(frozen=True)
class Coverage:
    """The day tables, groups and range of one read, with what the catalog knows of them."""

    scopes: tuple[GroupScope, ...]
    days: tuple[DayScan, ...]
    end_ms: int | None
    hidden_streams: tuple[int, ...]  # deleted streams of these groups, events not yet swept
    hidden_groups: frozenset[int]  # the groups those streams belong to
    parts: dict[tuple[int, int], PartitionGroupStats]  # (day, group id) -> statistics

    def relation(
        self, params: Params, *, stream_ids: Iterable[int] | None = None, stream_names: bool = True
    ) -> exp.Subquery:
        """The ``events`` relation of this read (docs/architecture.md)."""
        return events_relation(
            self.days,
            self.scopes,
            params,
            end_ms=self.end_ms,
            stream_ids=stream_ids,
            hidden_streams=self.hidden_streams,
            stream_names=stream_names,
        )

    def for_traces(self, cursor: duckdb.DuckDBPyConnection, trace_ids: Iterable[str]) -> Coverage:
        """This read narrowed to the blocks of events where the trace index has one of the ids.

        Only valid when the query keeps nothing but events with one of these ids in their
        ``trace_id`` column (and the column is complete: see :meth:`facts`).
        """
        if not self.days:
            return self
        params = Params()
        keys = [trace_key(params.bind(value)) for value in sorted(set(trace_ids))]
        lookups = [
            exp.select(exp.alias_(params.bind(scan.day), "day"), exp.column("block"))
            .from_(traces_for_day(scan.day), copy=False)
            .where(exp.In(this=exp.column("key"), expressions=[k.copy() for k in keys]), copy=False)
            for scan in self.days
        ]
        union: exp.Query = lookups[0]
        for lookup in lookups[1:]:
            union = exp.union(union, lookup, distinct=False, copy=False)
        found: dict[int, set[int]] = {}
        for day, block in cursor.execute(union.sql(dialect="duckdb"), params.values).fetchall():
            found.setdefault(day, set()).add(block)
        days = tuple(
            replace(scan, seq_ranges=_ranges(found[scan.day])) for scan in self.days if scan.day in found
        )
        return replace(self, days=days)

    def facts(self) -> SourceFacts:
        """What holds for every event read: no loose rows means promoted columns are complete."""
        return SourceFacts(promoted_complete=all(p.loose_rows == 0 for p in self.parts.values()))

    def scanned(self, cursor: duckdb.DuckDBPyConnection) -> tuple[int, int]:
        """Events and bytes (message and fields text) the read scans.

        A group's events of a day that lie wholly in the range are counted by the catalog;
        the others are counted in SQL (only ``ts`` and ``group_id`` are read), and their
        bytes estimated from the day's average for that group.
        """
        by_id = {scope.group_id: scope for scope in self.scopes}
        records = nbytes = 0
        partial: dict[int, list[int]] = {}
        for (day, gid), stats in self.parts.items():
            whole = (
                gid not in self.hidden_groups
                and by_id[gid].visible_from_ms <= stats.min_ts
                and (self.end_ms is None or stats.max_ts < self.end_ms)
            )
            if whole:
                records += stats.row_count
                nbytes += stats.byte_count
            else:
                partial.setdefault(day, []).append(gid)
        if partial:
            params = Params()
            days = [DayScan(day, tuple(sorted(gids))) for day, gids in partial.items()]
            select = event_counts(
                days, self.scopes, params, end_ms=self.end_ms, hidden_streams=self.hidden_streams
            )
            for day, gid, count in cursor.execute(select.sql(dialect="duckdb"), params.values).fetchall():
                stats = self.parts[(day, gid)]
                records += count
                nbytes += round(count * stats.byte_count / stats.row_count) if stats.row_count else 0
        return records, nbytes


def _ranges(blocks: set[int]) -> tuple[tuple[int, int], ...]:
    """The event id ranges of trace index blocks, adjacent blocks merged."""
    ranges: list[tuple[int, int]] = []
    for block in sorted(blocks):
        low, high = block << TRACE_BLOCK_BITS, (block + 1) << TRACE_BLOCK_BITS
        if ranges and ranges[-1][1] == low:
            ranges[-1] = (ranges[-1][0], high)
        else:
            ranges.append((low, high))
    return tuple(ranges)


def export_slices(
    plan: Plan,
    coverage: Coverage,
    start_ms: int | None,
    end_ms: int | None,
    events_per_slice: int = EXPORT_SLICE_EVENTS,
) -> list[tuple[int | None, int | None]]:
    """Time ranges to export a plan's rows one after another, in the plan's order.

    An export of events in time order (no ``stats``, ``limit``, ``dedup`` or ``pattern``,
    sorted by ``@timestamp`` first) is cut into ranges of about ``events_per_slice`` events
    by the catalog's counts per day, spread evenly over each day. Any other plan is one range.
    """
    whole: list[tuple[int | None, int | None]] = [(start_ms, end_ms)]
    first = plan.order[0].expr if plan.order else None
    ordered = isinstance(first, System) and first.name == "@timestamp"
    if plan.aggregated or not ordered or not all(isinstance(s, Compute | Where) for s in plan.steps):
        return whole
    slices: list[tuple[int | None, int | None]] = []
    for scan in coverage.days:
        day_start, day_end = scan.day * DAY_MS, (scan.day + 1) * DAY_MS
        lo = day_start if start_ms is None else max(start_ms, day_start)
        hi = day_end if end_ms is None else min(end_ms, day_end)
        parts = [coverage.parts[(scan.day, gid)] for gid in scan.group_ids]
        rows = sum(p.row_count for p in parts)
        count = max(1, -(-rows // events_per_slice))
        earliest = max(lo, min(p.min_ts for p in parts))
        latest = min(hi, max(p.max_ts for p in parts) + 1)
        step = max(1, (latest - earliest) // count)
        cuts = [earliest + step * i for i in range(1, count) if earliest + step * i < latest]
        bounds = [lo, *cuts, hi]
        slices.extend(itertools.pairwise(bounds))
    if not slices:
        return whole
    if plan.order[0].descending:
        slices.reverse()
    return slices


def cover(catalog: Catalog, scopes: Sequence[GroupScope], end_ms: int | None) -> Coverage:
    """The coverage of a read of these groups (each from its first visible time) up to ``end_ms``."""
    if not scopes:
        return Coverage((), (), end_ms, (), frozenset(), {})
    first = day_of(min(s.visible_from_ms for s in scopes))
    last = None if end_ms is None else day_of(max(end_ms - 1, 0))
    wanted = {s.group_id for s in scopes}
    days: list[DayScan] = []
    parts: dict[tuple[int, int], PartitionGroupStats] = {}
    with catalog.lock:
        for day, groups in sorted(catalog.partitions.items()):
            if day < first or (last is not None and day > last):
                continue
            chosen = sorted(wanted.intersection(groups))
            if not chosen:
                continue
            days.append(DayScan(day, tuple(chosen)))
            for gid in chosen:
                stats = groups[gid]
                parts[(day, gid)] = PartitionGroupStats(
                    stats.row_count, stats.byte_count, stats.min_ts, stats.max_ts, stats.loose_rows
                )
        hidden = [s for s in catalog.streams.values() if s.deleted_ms is not None and s.group_id in wanted]
    return Coverage(
        tuple(scopes),
        tuple(days),
        end_ms,
        tuple(sorted(s.id for s in hidden)),
        frozenset(s.group_id for s in hidden),
        parts,
    )
