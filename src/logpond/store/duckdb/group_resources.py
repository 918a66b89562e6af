"""What hangs off a log group besides its events: metric filters and the data protection
policy; and filter-pattern searches over a group's events.

``GroupResources`` is mixed into ``DuckDBStore``: the rows live in their own tables
(migration 0004), keyed by the group's id, written on the writer thread like every other
catalog change. Deleting a group deletes them (``DuckDBStore.delete_group``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import duckdb
import orjson
from sqlglot import exp

from logpond.model.clock import Clock
from logpond.model.errors import LimitExceededError, ResourceNotFoundError
from logpond.model.limits import MAX_METRIC_FILTERS_PER_GROUP
from logpond.model.schema import PROMOTED_COLUMNS
from logpond.query import RenderContext, dialect_for, filter_events
from logpond.query.execute import with_params
from logpond.store.base import (
    DataProtectionPolicy,
    FilterRequest,
    FilterResult,
    MetricFilter,
    StoredEvent,
)
from logpond.store.writer import GroupCommitWriter

from .catalog import Catalog, GroupRow
from .sql import Params

__all__ = ["GroupResources"]

_EVENT_COLUMNS = (
    "seq",
    "group_name",
    "stream_name",
    "ts",
    "ingest_ts",
    "message",
    *PROMOTED_COLUMNS,
    "fields",
)


class GroupResources:
    """Metric filters, data protection policies and filter-pattern search; see the module."""

    # Provided by DuckDBStore.
    writer: GroupCommitWriter
    clock: Clock
    catalog: Catalog
    dialect: str

    def reader(self) -> duckdb.DuckDBPyConnection:
        raise NotImplementedError

    def _live_group(self, name: str) -> GroupRow:
        raise NotImplementedError

    def _transaction(self, *statements: tuple[str, list[Any]]) -> None:
        raise NotImplementedError

    def events_source(
        self, groups: Sequence[str], start_ms: int | None, end_ms: int | None, params: Params
    ) -> exp.Subquery:
        raise NotImplementedError

    # Metric filters

    def put_metric_filter(self, metric_filter: MetricFilter) -> MetricFilter:
        def put() -> MetricFilter:
            row = self._live_group(metric_filter.group)
            existing = (
                self.reader()
                .execute("SELECT name, created_ms FROM metric_filters WHERE group_id = ?", [row.id])
                .fetchall()
            )
            names = dict(existing)
            if metric_filter.name not in names and len(names) >= MAX_METRIC_FILTERS_PER_GROUP:
                raise LimitExceededError(
                    "Resource limit exceeded.", log_group=row.name, limit=MAX_METRIC_FILTERS_PER_GROUP
                )
            self._transaction(
                ("DELETE FROM metric_filters WHERE group_id = ? AND name = ?", [row.id, metric_filter.name]),
                (
                    "INSERT INTO metric_filters (group_id, name, pattern, transformations, options, "
                    "created_ms) VALUES (?, ?, ?, ?, ?, ?)",
                    [
                        row.id,
                        metric_filter.name,
                        metric_filter.pattern,
                        orjson.dumps(metric_filter.transformations).decode(),
                        orjson.dumps(dict(metric_filter.options)).decode(),
                        metric_filter.created_ms,
                    ],
                ),
            )
            return metric_filter

        return self.writer.call(put)

    def list_metric_filters(self, group: str | None = None) -> list[MetricFilter]:
        with self.catalog.lock:
            names = {gid: row.name for gid, row in self.catalog.groups.items() if row.deleted_ms is None}
        if group is not None:
            wanted = self._live_group(group).id
            names = {wanted: names[wanted]}
        rows = (
            self.reader()
            .execute(
                "SELECT group_id, name, pattern, transformations, options, created_ms FROM metric_filters"
            )
            .fetchall()
        )
        filters = [
            MetricFilter(names[gid], name, pattern, orjson.loads(tr), created, orjson.loads(opts))
            for gid, name, pattern, tr, opts, created in rows
            if gid in names
        ]
        filters.sort(key=lambda f: (f.group, f.name))
        return filters

    def delete_metric_filter(self, group: str, name: str) -> None:
        def delete() -> None:
            row = self._live_group(group)
            found = (
                self.reader()
                .execute(
                    "SELECT count(*) FROM metric_filters WHERE group_id = ? AND name = ?", [row.id, name]
                )
                .fetchone()
            )
            if not found or not found[0]:
                raise ResourceNotFoundError("The specified metric filter does not exist.", filter=name)
            self._transaction(("DELETE FROM metric_filters WHERE group_id = ? AND name = ?", [row.id, name]))

        self.writer.call(delete)

    def metric_filter_counts(self) -> dict[str, int]:
        with self.catalog.lock:
            names = {gid: row.name for gid, row in self.catalog.groups.items() if row.deleted_ms is None}
        rows = (
            self.reader()
            .execute("SELECT group_id, count(*) FROM metric_filters GROUP BY group_id")
            .fetchall()
        )
        return {names[gid]: int(count) for gid, count in rows if gid in names}

    # Data protection policies

    def put_data_protection_policy(self, group: str, document: str) -> DataProtectionPolicy:
        def put() -> DataProtectionPolicy:
            row = self._live_group(group)
            now = self.clock.now_ms()
            self._transaction(
                ("DELETE FROM data_protection_policies WHERE group_id = ?", [row.id]),
                ("INSERT INTO data_protection_policies VALUES (?, ?, ?)", [row.id, document, now]),
            )
            return DataProtectionPolicy(row.name, document, now)

        return self.writer.call(put)

    def get_data_protection_policy(self, group: str) -> DataProtectionPolicy | None:
        row = self._live_group(group)
        found = (
            self.reader()
            .execute("SELECT document, updated_ms FROM data_protection_policies WHERE group_id = ?", [row.id])
            .fetchone()
        )
        return None if found is None else DataProtectionPolicy(row.name, found[0], int(found[1]))

    def delete_data_protection_policy(self, group: str) -> None:
        def delete() -> None:
            row = self._live_group(group)
            current = self.get_data_protection_policy(group)
            if current is None or current.document is None:
                raise ResourceNotFoundError("The specified data protection policy does not exist.")
            self._transaction(
                (
                    "UPDATE data_protection_policies SET document = NULL, updated_ms = ? WHERE group_id = ?",
                    [self.clock.now_ms(), row.id],
                )
            )

        self.writer.call(delete)

    # Filter patterns over stored events

    def filter_events(self, request: FilterRequest) -> FilterResult:
        """A page of the events matching a filter pattern, by (timestamp, event id)."""
        params = Params()
        source: exp.Expr = self.events_source(request.groups, request.start_ms, request.end_ms, params)
        dialect = dialect_for(self.dialect)
        ctx = RenderContext(dialect)
        stream = exp.column("stream_name")
        narrowing: list[exp.Expr] = []
        if request.streams:
            narrowing.append(exp.In(this=stream, expressions=[ctx.value(s) for s in request.streams]))
        if request.stream_prefix:
            narrowing.append(exp.func("starts_with", stream.copy(), ctx.value(request.stream_prefix)))
        if narrowing:
            source = exp.select(exp.Star()).from_(source).where(exp.and_(*narrowing)).subquery("events")
        matching = filter_events(request.pattern, ctx, source)
        select = exp.select(*_EVENT_COLUMNS).from_(matching.subquery("matched"))
        ts, seq = exp.column("ts"), exp.column("seq")
        if request.after is not None:
            beyond = exp.LT if request.descending else exp.GT
            after_ts, after_seq = request.after
            select = select.where(
                exp.or_(
                    beyond(this=ts.copy(), expression=ctx.value(after_ts)),
                    exp.and_(
                        exp.EQ(this=ts.copy(), expression=ctx.value(after_ts)),
                        beyond(this=seq.copy(), expression=ctx.value(after_seq)),
                    ),
                )
            )
        desc = request.descending
        select = select.order_by(exp.Ordered(this=ts, desc=desc), exp.Ordered(this=seq, desc=desc)).limit(
            request.limit + 1
        )
        rendered = with_params(dialect.render(dialect.finish(select), ctx.params), params.values)
        rows = self.reader().execute(rendered.sql, rendered.params).fetchall()
        events = [StoredEvent(*row[:6], *row[6:]) for row in rows[: request.limit]]
        return FilterResult(events, len(rows) > request.limit)
