"""``DuckDBStore``: the embedded engine behind the ``Store`` interface."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future
from dataclasses import replace
from typing import Any

import duckdb
import orjson
import pyarrow as pa
from sqlglot import exp

from logpond.model.clock import Clock, SystemClock
from logpond.model.errors import (
    InvalidParameterError,
    QueryCancelledError,
    ResourceAlreadyExistsError,
    ResourceNotFoundError,
)
from logpond.model.limits import MAX_LIST_LIMIT, MAX_SEARCH_LIMIT
from logpond.model.names import LogGroupName, LogStreamName, validate_tags
from logpond.model.retention import expiry_cutoff_ms
from logpond.model.schema import PROMOTED_COLUMNS
from logpond.query import Plan, QueryResult, dialect_for, render_plan
from logpond.query.execute import ResultField, result_rows, run_plan, with_params
from logpond.store.base import (
    UNSET,
    AccessKeyRecord,
    AppendResult,
    Interruptible,
    LogGroup,
    LogStream,
    Page,
    QueryDefinition,
    SearchRequest,
    SearchResult,
    StoredEvent,
    StreamOrder,
    SweepReport,
    Unset,
    decode_token,
    encode_token,
)
from logpond.store.registry import StoreOptions
from logpond.store.writer import GroupCommitWriter

from .alerting import AlertResources
from .catalog import Catalog, GroupRow, StreamRow
from .commit import EventCommitter, count_loose_rows, index_traces, recover_statistics
from .connection import DuckDBSettings, open_database
from .group_resources import GroupResources
from .reads import EXPORT_SLICE_EVENTS, Coverage, cover, export_slices
from .retention import sweep
from .sql import GroupScope, Params

__all__ = ["DuckDBStore", "open_duckdb_store"]

DATABASE_FILE = "logpond.duckdb"


def open_duckdb_store(options: StoreOptions, clock: Clock) -> DuckDBStore:
    """The registry's factory: the database file in the data directory."""
    return DuckDBStore(
        DuckDBSettings(
            options.data_dir / DATABASE_FILE,
            encryption_key=options.encryption_key,
            memory_limit=options.memory_limit,
            threads=options.threads,
            checkpoint_threshold=options.checkpoint_threshold,
            writer_max_pending_bytes=options.writer_max_pending_bytes,
        ),
        clock=clock,
    )


# Columns a native search may test for equality without going through the JSON fields.
_DIRECT_COLUMNS = frozenset({"message", *PROMOTED_COLUMNS})


class DuckDBStore(GroupResources, AlertResources):
    """Events, groups, streams and keys in one DuckDB file; see docs/architecture.md."""

    dialect = "duckdb"

    def __init__(self, settings: DuckDBSettings, *, clock: Clock | None = None) -> None:
        self.settings = settings
        self.clock: Clock = clock or SystemClock()
        self._con = open_database(settings)
        self.catalog = Catalog.load(self._con)
        streams, parts = recover_statistics(self._con, self.catalog, self.catalog.next_seq)
        parts |= count_loose_rows(self._con, self.catalog)
        index_traces(self._con, self.catalog)
        self._committer = EventCommitter(
            self._con, self.catalog, self.clock, dirty_streams=streams, dirty_parts=parts
        )
        self.writer = GroupCommitWriter(self._committer, max_pending_bytes=settings.writer_max_pending_bytes)
        self._local = threading.local()
        self._cursors: list[duckdb.DuckDBPyConnection] = []
        self._cursors_lock = threading.Lock()
        self._closed = False

    # Lifecycle

    def close(self) -> None:
        """Commit what is queued, checkpoint, and close the file."""
        if self._closed:
            return
        self._closed = True
        self.writer.call(self._committer.flush_statistics)
        self.writer.close()
        with self._cursors_lock:
            for cursor in self._cursors:
                cursor.close()
            self._cursors.clear()
        self._con.execute("CHECKPOINT")
        self._con.close()

    @property
    def accepting(self) -> bool:
        """Whether writes are accepted (false once closing has begun)."""
        return self.writer.accepting

    def checkpoint(self) -> None:
        """Fold the write-ahead log into the database file."""
        self.writer.call(lambda: self._con.execute("CHECKPOINT"))

    def reader(self) -> duckdb.DuckDBPyConnection:
        """A read cursor for the calling thread (DuckDB connections are not shared)."""
        cursor: duckdb.DuckDBPyConnection | None = getattr(self._local, "cursor", None)
        if cursor is None:
            cursor = self._con.cursor()
            cursor.execute("USE lp")
            self._local.cursor = cursor
            with self._cursors_lock:
                self._cursors.append(cursor)
        return cursor

    # Log groups

    def _live_group(self, name: str) -> GroupRow:
        row = self.catalog.group_by_name(name)
        if row is None:
            raise ResourceNotFoundError("log group not found", log_group=name)
        return row

    def _public_group(self, row: GroupRow) -> LogGroup:
        return row.public(self.catalog.stored_bytes(row.id))

    def create_group(
        self,
        name: LogGroupName,
        *,
        retention_days: int | None = None,
        tags: Mapping[str, str] | None = None,
        kms_key_id: str | None = None,
        exist_ok: bool = False,
        log_group_class: str = "STANDARD",
        deletion_protection: bool = False,
    ) -> LogGroup:
        name = LogGroupName(name)
        clean_tags = validate_tags(tags or {})

        def create() -> GroupRow:
            catalog = self.catalog
            existing = catalog.group_by_name(name)
            if existing is not None:
                if exist_ok:
                    return existing
                raise ResourceAlreadyExistsError("log group already exists", log_group=name)
            row = GroupRow(
                catalog.next_group_id,
                name,
                self.clock.now_ms(),
                retention_days,
                clean_tags,
                kms_key_id,
                log_group_class=log_group_class,
                deletion_protection=deletion_protection,
            )
            self._transaction(
                (
                    "INSERT INTO log_groups (id, name, created_ms, retention_days, tags, kms_key_id, "
                    "log_group_class, deletion_protection) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    [
                        row.id,
                        row.name,
                        row.created_ms,
                        row.retention_days,
                        orjson.dumps(row.tags).decode(),
                        row.kms_key_id,
                        row.log_group_class,
                        row.deletion_protection,
                    ],
                ),
                ("UPDATE meta SET value = ? WHERE key = 'next_group_id'", [str(row.id + 1)]),
            )
            with catalog.lock:
                catalog.groups[row.id] = row
                catalog.live_groups[name] = row.id
                catalog.next_group_id = row.id + 1
            return row

        return self._public_group(self.writer.call(create))

    def get_group(self, name: str) -> LogGroup:
        return self._public_group(self._live_group(name))

    def find_group(self, name: str) -> LogGroup | None:
        row = self.catalog.group_by_name(name)
        return None if row is None else self._public_group(row)

    def list_groups(
        self, *, prefix: str | None = None, limit: int = 50, next_token: str | None = None
    ) -> Page[LogGroup]:
        limit = _check_limit(limit, MAX_LIST_LIMIT)
        after = decode_token(next_token) if next_token else None
        with self.catalog.lock:
            names = sorted(self.catalog.live_groups)
        selected = [
            n for n in names if (prefix is None or n.startswith(prefix)) and (after is None or n > after)
        ]
        page = selected[:limit]
        items = [self.get_group(n) for n in page]
        token = encode_token(page[-1]) if len(selected) > limit else None
        return Page(items, token)

    def update_group(
        self,
        name: str,
        *,
        retention_days: int | Unset | None = UNSET,
        tags: Mapping[str, str] | Unset = UNSET,
        kms_key_id: str | Unset | None = UNSET,
        deletion_protection: bool | Unset = UNSET,
    ) -> LogGroup:
        clean_tags = None if isinstance(tags, Unset) else validate_tags(tags)

        def update() -> GroupRow:
            row = self._live_group(name)
            if not isinstance(retention_days, Unset):
                row.retention_days = retention_days
            if clean_tags is not None:
                row.tags = clean_tags
            if not isinstance(kms_key_id, Unset):
                row.kms_key_id = kms_key_id
            if not isinstance(deletion_protection, Unset):
                row.deletion_protection = deletion_protection
            self._transaction(
                (
                    "UPDATE log_groups SET retention_days = ?, tags = ?, kms_key_id = ?, "
                    "deletion_protection = ? WHERE id = ?",
                    [
                        row.retention_days,
                        orjson.dumps(row.tags).decode(),
                        row.kms_key_id,
                        row.deletion_protection,
                        row.id,
                    ],
                ),
            )
            with self.catalog.lock:
                self.catalog.groups[row.id] = row
            return row

        return self._public_group(self.writer.call(update))

    def delete_group(self, name: str) -> None:
        """Delete a group: it disappears at once; its events are removed by the next sweep."""

        def delete() -> None:
            row = self._live_group(name)
            now = self.clock.now_ms()
            self._transaction(
                ("UPDATE log_groups SET deleted_ms = ? WHERE id = ?", [now, row.id]),
                (
                    "UPDATE log_streams SET deleted_ms = ? WHERE group_id = ? AND deleted_ms IS NULL",
                    [now, row.id],
                ),
                # What hangs off the group goes with it; a group of the same name starts bare.
                ("DELETE FROM metric_filters WHERE group_id = ?", [row.id]),
                ("DELETE FROM data_protection_policies WHERE group_id = ?", [row.id]),
            )
            catalog = self.catalog
            with catalog.lock:
                catalog.groups[row.id].deleted_ms = now
                del catalog.live_groups[name]
                for key in [k for k in catalog.live_streams if k[0] == row.id]:
                    catalog.streams[catalog.live_streams.pop(key)].deleted_ms = now

        self.writer.call(delete)

    # Log streams

    def create_stream(self, group: str, name: LogStreamName, *, exist_ok: bool = False) -> LogStream:
        name = LogStreamName(name)

        def create() -> LogStream:
            catalog = self.catalog
            row = self._live_group(group)
            sid = catalog.stream_id(row.id, name)
            if sid is not None:
                if exist_ok:
                    return catalog.streams[sid].public(group)
                raise ResourceAlreadyExistsError(
                    "log stream already exists", log_group=group, log_stream=name
                )
            stream = StreamRow(catalog.next_stream_id, row.id, name, self.clock.now_ms())
            self._transaction(
                (
                    "INSERT INTO log_streams (id, group_id, name, created_ms) VALUES (?, ?, ?, ?)",
                    [stream.id, stream.group_id, stream.name, stream.created_ms],
                ),
            )
            with catalog.lock:
                catalog.streams[stream.id] = stream
                catalog.live_streams[(row.id, name)] = stream.id
                catalog.next_stream_id = stream.id + 1
            return stream.public(group)

        return self.writer.call(create)

    def get_stream(self, group: str, name: str) -> LogStream:
        row = self._live_group(group)
        with self.catalog.lock:
            sid = self.catalog.live_streams.get((row.id, name))
            if sid is None:
                raise ResourceNotFoundError("log stream not found", log_group=group, log_stream=name)
            return self.catalog.streams[sid].public(group)

    def list_streams(
        self,
        group: str,
        *,
        prefix: str | None = None,
        order: StreamOrder = StreamOrder.NAME,
        descending: bool = False,
        limit: int = 50,
        next_token: str | None = None,
    ) -> Page[LogStream]:
        limit = _check_limit(limit, MAX_LIST_LIMIT)
        row = self._live_group(group)
        with self.catalog.lock:
            streams = [
                self.catalog.streams[sid].public(group)
                for (gid, name), sid in self.catalog.live_streams.items()
                if gid == row.id and (prefix is None or name.startswith(prefix))
            ]

        def key(s: LogStream) -> list[Any]:
            if order is StreamOrder.NAME:
                return [s.name]
            return [s.last_event_ms or 0, s.name]

        streams.sort(key=key, reverse=descending)
        if next_token:
            after = decode_token(next_token)
            streams = [s for s in streams if (key(s) < after if descending else key(s) > after)]
        page = streams[:limit]
        token = encode_token(key(page[-1])) if len(streams) > limit else None
        return Page(page, token)

    def delete_stream(self, group: str, name: str) -> None:
        """Delete a stream: it disappears at once; its events are removed by the next sweep."""

        def delete() -> None:
            stream = self.get_stream(group, name)
            row = self._live_group(group)
            sid = self.catalog.live_streams[(row.id, stream.name)]
            now = self.clock.now_ms()
            self._transaction(("UPDATE log_streams SET deleted_ms = ? WHERE id = ?", [now, sid]))
            with self.catalog.lock:
                self.catalog.streams[sid].deleted_ms = now
                del self.catalog.live_streams[(row.id, stream.name)]

        self.writer.call(delete)

    # Events

    def append(self, batch: pa.RecordBatch, *, create_streams: bool = True) -> Future[AppendResult]:
        return self.writer.submit_batch(batch, create_streams=create_streams)

    def scopes(self, groups: Sequence[str], start_ms: int | None) -> list[GroupScope]:
        """The groups a read covers and, for each, the first visible event time."""
        now = self.clock.now_ms()
        scopes = []
        for name in dict.fromkeys(groups):
            row = self._live_group(name)
            lowest = max(start_ms or 0, expiry_cutoff_ms(row.retention_days, now) or 0)
            scopes.append(GroupScope(row.id, row.name, lowest))
        return scopes

    def coverage(self, groups: Sequence[str], start_ms: int | None, end_ms: int | None) -> Coverage:
        """The day tables, groups and statistics a read of these groups in the range covers."""
        return cover(self.catalog, self.scopes(groups, start_ms), end_ms)

    def events_source(
        self, groups: Sequence[str], start_ms: int | None, end_ms: int | None, params: Params
    ) -> exp.Subquery:
        """The ``events`` relation (docs/architecture.md) for the query layer."""
        return self.coverage(groups, start_ms, end_ms).relation(params)

    def run_plan(
        self,
        plan: Plan,
        groups: Sequence[str],
        start_ms: int | None,
        end_ms: int | None,
        *,
        statistics: bool = True,
        on_cursor: Callable[[Interruptible], None] | None = None,
    ) -> QueryResult:
        """Run a Logs Insights plan over the groups' events in the range.

        ``on_cursor`` receives the cursor the query runs on, so the caller can interrupt
        it (cancel, timeout). A query that keeps only given trace ids reads only the blocks
        of events the trace index names.
        """
        coverage = self.coverage(groups, start_ms, end_ms)
        facts = coverage.facts()
        cursor = self._con.cursor()
        try:
            cursor.execute("USE lp")
            if on_cursor is not None:
                on_cursor(cursor)
            scanned = coverage.scanned(cursor) if statistics else None
            params = Params()
            source = self._reading(plan, coverage, cursor).relation(
                params, stream_names="@logStream" in plan.system_fields()
            )
            return run_plan(
                plan, dialect=self.dialect, connection=cursor, source=source,
                source_params=params.values, statistics=statistics, facts=facts, scanned=scanned,
            )  # fmt: skip
        except duckdb.InterruptException:
            raise QueryCancelledError("query cancelled") from None
        finally:
            cursor.close()

    def _reading(self, plan: Plan, coverage: Coverage, cursor: duckdb.DuckDBPyConnection) -> Coverage:
        """What a plan reads of its coverage: the trace index narrows it when it can."""
        if not coverage.facts().promoted_complete:
            return coverage
        trace_ids = plan.required_texts(("trace_id",))
        return coverage if trace_ids is None else coverage.for_traces(cursor, trace_ids)

    def stream_plan(
        self,
        plan: Plan,
        groups: Sequence[str],
        start_ms: int | None,
        end_ms: int | None,
        *,
        batch_rows: int = 10_000,
        slice_events: int = EXPORT_SLICE_EVENTS,
    ) -> Iterator[list[list[ResultField]]]:
        """Every result row of a plan (its row cap ignored), a batch at a time: exports.

        Events in time order are read a slice of time at a time (``reads.export_slices``),
        so that no statement sorts more than about ``slice_events`` rows.
        """
        engine = dialect_for(self.dialect)
        unlimited = replace(plan, limit=None)
        names = "@logStream" in plan.system_fields()
        whole = self.coverage(groups, start_ms, end_ms)
        slices = export_slices(plan, whole, start_ms, end_ms, slice_events)
        cursor = self._con.cursor()
        try:
            cursor.execute("USE lp")
            for low, high in slices:
                coverage = self.coverage(groups, low, high)
                params = Params()
                source = self._reading(plan, coverage, cursor).relation(params, stream_names=names)
                statement = render_plan(unlimited, engine, source, facts=coverage.facts())
                rendered = with_params(statement, params.values)
                reader = cursor.execute(rendered.sql, rendered.params).to_arrow_reader(batch_rows)
                for batch in reader:
                    yield list(result_rows(plan, pa.Table.from_batches([batch])))
        finally:
            cursor.close()

    def search(self, request: SearchRequest) -> SearchResult:
        limit = _check_limit(request.limit, MAX_SEARCH_LIMIT)
        params = Params()
        stream_ids: list[int] | None = None
        if request.streams:
            stream_ids = []
            for group in request.groups:
                row = self._live_group(group)
                stream_ids.extend(
                    sid
                    for name in request.streams
                    if (sid := self.catalog.stream_id(row.id, name)) is not None
                )
        coverage = self.coverage(request.groups, request.start_ms, request.end_ms)
        trace_id = request.equals.get("trace_id")
        if isinstance(trace_id, str):
            coverage = coverage.for_traces(self.reader(), [trace_id])
        source = coverage.relation(params, stream_ids=stream_ids)
        conditions: list[exp.Expr] = []
        if request.text:
            needle = params.bind(request.text)
            conditions.append(
                exp.or_(
                    exp.func("contains", exp.column("message"), needle),
                    exp.func("contains", exp.column("fields"), needle.copy()),
                )
            )
        for key, value in request.equals.items():
            conditions.append(_equals(key, value, params))
        ts, seq = exp.column("ts"), exp.column("seq")
        if request.cursor:
            cursor_ts, cursor_seq = _decode_cursor(request.cursor)
            before = exp.GT if request.ascending else exp.LT
            conditions.append(
                exp.or_(
                    before(this=ts.copy(), expression=params.bind(cursor_ts)),
                    exp.and_(
                        exp.EQ(this=ts.copy(), expression=params.bind(cursor_ts)),
                        before(this=seq.copy(), expression=params.bind(cursor_seq)),
                    ),
                )
            )
        query = exp.select(
            "seq",
            "group_name",
            "stream_name",
            "ts",
            "ingest_ts",
            "message",
            *PROMOTED_COLUMNS,
            "fields",
        ).from_(source)
        if conditions:
            query = query.where(exp.and_(*conditions))
        desc = not request.ascending
        query = query.order_by(exp.Ordered(this=ts, desc=desc), exp.Ordered(this=seq, desc=desc)).limit(
            limit + 1
        )
        rows = self.reader().execute(query.sql(dialect="duckdb"), params.values).fetchall()
        events = [StoredEvent(*row[:6], *row[6:]) for row in rows[:limit]]
        next_cursor = None
        if len(rows) > limit:
            last = events[-1]
            next_cursor = encode_token([last.timestamp, last.seq])
        return SearchResult(events, next_cursor)

    # Retention

    def sweep_expired(self) -> SweepReport:
        """Remove expired and deleted events; see ``retention.sweep``."""

        def run() -> SweepReport:
            self._committer.flush_statistics()
            return sweep(self._con, self.catalog, self.clock.now_ms())

        return self.writer.call(run)

    # PII audit

    def add_findings(self, findings: Mapping[tuple[int, str, str], int]) -> None:
        """Add counts of PII findings per (minute, group, identifier)."""
        if not findings:
            return
        rows = [[minute, group, identifier, count] for (minute, group, identifier), count in findings.items()]

        def add() -> None:
            con = self._con
            con.begin()
            try:
                con.executemany("INSERT INTO pii_findings VALUES (?, ?, ?, ?)", rows)
                con.commit()
            except BaseException:
                con.rollback()
                raise

        self.writer.call(add)

    def findings(
        self, groups: Sequence[str], start_ms: int | None = None, end_ms: int | None = None
    ) -> list[tuple[int, str, str, int]]:
        """PII finding counts per (minute, group, identifier), oldest first."""
        if not groups:
            return []
        marks = ", ".join("?" for _ in groups)
        rows = (
            self.reader()
            .execute(
                "SELECT minute, group_name, identifier, sum(count)::BIGINT FROM pii_findings "
                f"WHERE group_name IN ({marks}) AND minute >= ? AND minute < ? "
                "GROUP BY ALL ORDER BY minute, group_name, identifier",
                [*groups, start_ms or 0, end_ms if end_ms is not None else 2**62],
            )
            .fetchall()
        )
        return [(int(m), str(g), str(i), int(c)) for m, g, i, c in rows]

    # Saved queries

    def put_query_definition(
        self,
        name: str,
        query: str,
        log_groups: Sequence[str],
        definition_id: str | None = None,
        *,
        parameters: Sequence[Mapping[str, Any]] = (),
    ) -> QueryDefinition:
        if not 1 <= len(name) <= 255:
            raise InvalidParameterError("saved query names are 1-255 characters")
        if not 1 <= len(query) <= 10_000:
            raise InvalidParameterError("saved queries are 1-10000 characters")
        params = [dict(p) for p in parameters]

        def put() -> QueryDefinition:
            now = self.clock.now_ms()
            groups = orjson.dumps(list(log_groups)).decode()
            encoded = orjson.dumps(params).decode()
            if definition_id is None:
                new = QueryDefinition(uuid.uuid4().hex, name, query, list(log_groups), now, now, params)
                self._transaction(
                    ("INSERT INTO query_definitions (id, name, query, log_groups, created_ms, updated_ms, "
                     "parameters) VALUES (?, ?, ?, ?, ?, ?, ?)",
                     [new.id, name, query, groups, now, now, encoded]),
                )  # fmt: skip
                return new
            old = self._query_definition(definition_id)
            self._transaction(
                ("UPDATE query_definitions SET name = ?, query = ?, log_groups = ?, updated_ms = ?, "
                 "parameters = ? WHERE id = ?", [name, query, groups, now, encoded, definition_id]),
            )  # fmt: skip
            return QueryDefinition(definition_id, name, query, list(log_groups), old.created_ms, now, params)

        return self.writer.call(put)

    def _query_definition(self, definition_id: str) -> QueryDefinition:
        for definition in self.list_query_definitions():
            if definition.id == definition_id:
                return definition
        raise ResourceNotFoundError("saved query not found", id=definition_id)

    def list_query_definitions(self, prefix: str | None = None) -> list[QueryDefinition]:
        rows = (
            self.reader()
            .execute(
                "SELECT id, name, query, log_groups, created_ms, updated_ms, parameters "
                "FROM query_definitions WHERE starts_with(name, ?) ORDER BY name, id",
                [prefix or ""],
            )
            .fetchall()
        )
        return [
            QueryDefinition(i, n, q, orjson.loads(g), c, u, orjson.loads(p or "[]"))
            for i, n, q, g, c, u, p in rows
        ]

    def delete_query_definition(self, definition_id: str) -> None:
        def delete() -> None:
            self._query_definition(definition_id)
            self._transaction(("DELETE FROM query_definitions WHERE id = ?", [definition_id]))

        self.writer.call(delete)

    # API keys

    def put_key(self, record: AccessKeyRecord) -> None:
        def put() -> None:
            if any(k.access_key_id == record.access_key_id for k in self.list_keys()):
                raise ResourceAlreadyExistsError("access key already exists")
            self._transaction(
                (
                    "INSERT INTO access_keys VALUES (?, ?, ?, ?, ?, ?)",
                    [
                        record.access_key_id,
                        record.encrypted_secret,
                        orjson.dumps(record.policy).decode(),
                        record.description,
                        record.created_ms,
                        record.revoked_ms,
                    ],
                ),
            )

        self.writer.call(put)

    def revoke_key(self, access_key_id: str) -> None:
        def revoke() -> None:
            live = [k for k in self.list_keys() if k.access_key_id == access_key_id]
            if not live or live[0].revoked_ms is not None:
                raise ResourceNotFoundError("access key not found", access_key_id=access_key_id)
            self._transaction(
                (
                    "UPDATE access_keys SET revoked_ms = ? WHERE access_key_id = ?",
                    [self.clock.now_ms(), access_key_id],
                ),
            )

        self.writer.call(revoke)

    def list_keys(self) -> list[AccessKeyRecord]:
        rows = (
            self.reader()
            .execute(
                "SELECT access_key_id, encrypted_secret, policy, description, created_ms, revoked_ms "
                "FROM access_keys ORDER BY created_ms, access_key_id"
            )
            .fetchall()
        )
        return [
            AccessKeyRecord(kid, bytes(secret), orjson.loads(policy), desc, created, revoked)
            for kid, secret, policy, desc, created, revoked in rows
        ]

    # Helpers

    def _transaction(self, *statements: tuple[str, list[Any]]) -> None:
        """Run statements in one transaction on the writer thread's connection."""
        con = self._con
        con.begin()
        try:
            for sql, args in statements:
                con.execute(sql, args)
            con.commit()
        except BaseException:
            con.rollback()
            raise


def _check_limit(limit: int, maximum: int) -> int:
    if not 1 <= limit <= maximum:
        raise InvalidParameterError("limit out of range", limit=limit, min=1, max=maximum)
    return limit


def _json_path(key: str) -> str:
    """A JSON path to a top-level key, quoted so any key text is taken literally."""
    return '$."' + key.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _equals(key: str, value: str | int | float | bool, params: Params) -> exp.Expr:
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, int | float):
        text = repr(value) if isinstance(value, float) else str(value)
    elif isinstance(value, str):
        text = value
    else:
        raise InvalidParameterError("field values must be strings, numbers or booleans", field=key)
    if key in _DIRECT_COLUMNS:
        return exp.EQ(this=exp.column(key), expression=params.bind(text))
    extracted = exp.func("json_extract_string", exp.column("fields"), params.bind(_json_path(key)))
    return exp.EQ(this=extracted, expression=params.bind(text))


def _decode_cursor(cursor: str) -> tuple[int, int]:
    value = decode_token(cursor)
    if (
        not isinstance(value, list)
        or len(value) != 2
        or not all(isinstance(v, int) and not isinstance(v, bool) for v in value)
    ):
        raise InvalidParameterError("invalid cursor")
    return value[0], value[1]
