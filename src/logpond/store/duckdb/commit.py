"""Writing batches of events in one transaction (the engine side of group commit).

A commit inserts the events into their day tables and, when new streams appear, their
catalog rows; that is all it must do to be durable. Derived statistics (stream event times,
what each group holds in each day) are kept in memory and written at most once a second,
inside a commit, together with ``flushed_seq``: every event below it is reflected in the
stored statistics. After a crash, :func:`recover_statistics` rebuilds the rest from the
events at or above ``flushed_seq`` (at most about a second of ingest).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from logpond.model.clock import Clock
from logpond.model.errors import LogpondError, ResourceNotFoundError
from logpond.store.base import AppendResult
from logpond.store.writer import PendingBatch

from .catalog import Catalog, PartitionGroupStats, StreamRow
from .connection import partition_ddl, traces_ddl
from .loose import LOOSE_SQL, loose_mask
from .sql import DAY_MS, TABLE_COLUMNS, table_for_day, trace_rows, traces_for_day

__all__ = ["EventCommitter", "count_loose_rows", "index_traces", "recover_statistics"]

# Typed, because pyarrow infers the type of a bare Python scalar slowly.
_SEPARATOR = pa.scalar("\x00", pa.string())
_STRING_COLUMNS = ("level", "message", "trace_id", "span_id", "tenant_id", "service", "fields")
# Longest time derived statistics stay only in memory.
STATISTICS_FLUSH_SECONDS = 1.0


@dataclass
class _Staged:
    """Catalog changes of one transaction, applied to the mirror only after the commit."""

    new_streams: dict[tuple[int, str], StreamRow] = field(default_factory=dict)
    new_days: set[int] = field(default_factory=set)
    next_stream_id: int = 0
    # The statistics of the streams and (day, group) pairs this transaction touches.
    streams_after: dict[int, StreamRow] = field(default_factory=dict)
    parts_after: dict[tuple[int, int], PartitionGroupStats] = field(default_factory=dict)


class EventCommitter:
    """Turns pending batches into rows of the day tables; runs on the writer thread."""

    def __init__(
        self,
        con: duckdb.DuckDBPyConnection,
        catalog: Catalog,
        clock: Clock,
        *,
        dirty_streams: set[int] | None = None,
        dirty_parts: set[tuple[int, int]] | None = None,
    ) -> None:
        """``dirty_*``: statistics changed in memory before the first commit (recovery)."""
        self._con = con
        self._catalog = catalog
        self._clock = clock
        self._dirty_streams: set[int] = set(dirty_streams or ())
        self._dirty_parts: set[tuple[int, int]] = set(dirty_parts or ())
        self._last_flush = time.monotonic()

    def commit_batches(self, items: list[PendingBatch]) -> list[AppendResult | Exception]:
        catalog = self._catalog
        now = self._clock.now_ms()
        staged = _Staged(next_stream_id=catalog.next_stream_id)
        results: list[AppendResult | Exception] = []
        tables: list[pa.Table] = []
        seq = catalog.next_seq
        for item in items:
            try:
                table = self._resolve(item, staged, now)
            except LogpondError as exc:
                results.append(exc)
                continue
            rows = table.num_rows
            if rows == 0:
                results.append(AppendResult(0))
                continue
            table = table.add_column(0, "seq", pa.array(np.arange(seq, seq + rows, dtype=np.int64)))
            tables.append(table)
            results.append(AppendResult(rows, seq, seq + rows - 1))
            seq += rows
        if not tables and not staged.new_streams:
            return results
        # One chunk: DuckDB's Arrow scan pays per chunk, and requests arrive as many.
        combined = pa.concat_tables(tables).combine_chunks() if tables else None
        days = None
        if combined is not None:
            days = combined.column("ts").to_numpy() // DAY_MS
            self._stage_statistics(combined, days, staged, now)
        flush = time.monotonic() - self._last_flush >= STATISTICS_FLUSH_SECONDS
        con = self._con
        con.begin()
        try:
            if staged.new_streams:
                con.executemany(
                    "INSERT INTO log_streams (id, group_id, name, created_ms) VALUES (?, ?, ?, ?)",
                    [[s.id, s.group_id, s.name, s.created_ms] for s in staged.new_streams.values()],
                )
            if combined is not None and days is not None:
                self._insert_events(combined, days, staged, now)
            if flush:
                self._write_statistics(seq, staged)
            con.commit()
        except BaseException:
            con.rollback()
            raise
        self._apply(staged, seq)
        if flush:
            self._flushed()
        return results

    def flush_statistics(self) -> None:
        """Write the derived statistics now (before a sweep, at shutdown)."""
        con = self._con
        con.begin()
        try:
            self._write_statistics(self._catalog.next_seq, _Staged())
            con.commit()
        except BaseException:
            con.rollback()
            raise
        self._flushed()

    def _flushed(self) -> None:
        self._dirty_streams.clear()
        self._dirty_parts.clear()
        self._last_flush = time.monotonic()

    def _resolve(self, item: PendingBatch, staged: _Staged, now: int) -> pa.Table:
        """Map group and stream names to ids (creating streams if allowed).

        Most batches hold one group and one stream (one request, one target): that case
        costs two ``unique`` calls; only mixed batches pay for dictionary encoding.
        """
        batch = item.batch
        if batch.num_rows == 0:
            return pa.table({})
        groups_col, streams_col = batch.column("log_group"), batch.column("log_stream")
        group_names = pc.unique(groups_col)
        stream_names = pc.unique(streams_col)
        rows = batch.num_rows
        if len(group_names) == 1 and len(stream_names) == 1:
            gid = self._group_id(group_names[0].as_py())
            sid = self._stream_id(gid, stream_names[0].as_py(), item, staged, now)
            group_id = pa.array(np.full(rows, gid, dtype=np.int32))
            stream_id = pa.array(np.full(rows, sid, dtype=np.int32))
        else:
            groups = groups_col.dictionary_encode()
            ids = [self._group_id(name) for name in groups.dictionary.to_pylist()]
            group_id = pc.take(pa.array(ids, pa.int32()), groups.indices)
            keys = pc.binary_join_element_wise(groups_col, streams_col, _SEPARATOR).dictionary_encode()
            stream_ids = []
            for key in keys.dictionary.to_pylist():
                group_name, stream_name = key.split("\x00", 1)
                stream_ids.append(self._stream_id(self._group_id(group_name), stream_name, item, staged, now))
            stream_id = pc.take(pa.array(stream_ids, pa.int32()), keys.indices)
        return pa.table(
            {
                "ts": batch.column("timestamp"),
                "group_id": group_id,
                "stream_id": stream_id,
                **{name: batch.column(name) for name in _STRING_COLUMNS},
            }
        )

    def _group_id(self, name: str) -> int:
        gid = self._catalog.live_groups.get(name)
        if gid is None:
            raise ResourceNotFoundError("log group not found", log_group=name)
        return gid

    def _stream_id(self, gid: int, name: str, item: PendingBatch, staged: _Staged, now: int) -> int:
        sid = self._catalog.live_streams.get((gid, name))
        if sid is not None:
            return sid
        new = staged.new_streams.get((gid, name))
        if new is None:
            if not item.create_streams:
                group = self._catalog.groups[gid].name
                raise ResourceNotFoundError("log stream not found", log_group=group, log_stream=name)
            new = StreamRow(staged.next_stream_id, gid, name, now)
            staged.next_stream_id += 1
            staged.new_streams[(gid, name)] = new
        return new.id

    def _insert_events(self, combined: pa.Table, days: np.ndarray, staged: _Staged, now: int) -> None:
        """Insert each row into its day's table, and its trace id into the day's trace index."""
        con = self._con
        unique_days = np.unique(days)
        columns = ", ".join("$now" if c == "ingest_ts" else c for c in TABLE_COLUMNS)
        for day in unique_days.tolist():
            table = table_for_day(day)
            if day not in self._catalog.partitions:
                con.execute(partition_ddl(table))
                con.execute(traces_ddl(traces_for_day(day)))
                con.execute("INSERT INTO partitions VALUES (?, ?)", [day, table])
                staged.new_days.add(day)
            part = combined if len(unique_days) == 1 else combined.filter(pa.array(days == day))
            con.register("_batch", part)
            try:
                con.execute(f"INSERT INTO {table} SELECT {columns} FROM _batch", {"now": now})
                con.execute(trace_rows(traces_for_day(day), "_batch"))
            finally:
                con.unregister("_batch")

    def _stage_statistics(self, combined: pa.Table, days: np.ndarray, staged: _Staged, now: int) -> None:
        """What the touched streams and (day, group) statistics become if this commits."""
        catalog = self._catalog
        new_by_id = {s.id: s for s in staged.new_streams.values()}
        streams, parts = _aggregate(combined, days)
        with catalog.lock:
            for sid, lo, hi in streams:
                base = new_by_id.get(sid) or catalog.streams[sid]
                staged.streams_after[sid] = _merge_stream(base, lo, hi, now)
            for day, gid, stats in parts:
                known = catalog.partitions.get(day, {}).get(gid)
                staged.parts_after[(day, gid)] = known.merged(stats) if known else stats

    def _write_statistics(self, next_seq: int, staged: _Staged) -> None:
        """Persist the statistics of every dirty stream and day, this commit's included."""
        catalog = self._catalog
        with catalog.lock:
            streams = {sid: catalog.streams[sid] for sid in self._dirty_streams if sid in catalog.streams}
            parts = {
                key: catalog.partitions[key[0]][key[1]]
                for key in self._dirty_parts
                if key[1] in catalog.partitions.get(key[0], {})
            }
        streams.update(staged.streams_after)
        parts.update(staged.parts_after)
        con = self._con
        if streams:
            con.executemany(
                "UPDATE log_streams SET first_event_ms = ?, last_event_ms = ?, "
                "last_ingestion_ms = ? WHERE id = ?",
                [[s.first_event_ms, s.last_event_ms, s.last_ingestion_ms, sid] for sid, s in streams.items()],
            )
        if parts:
            items = list(parts.items())
            con.register(
                "_parts",
                pa.table(
                    {
                        "day": pa.array([k[0] for k, _ in items], pa.int32()),
                        "group_id": pa.array([k[1] for k, _ in items], pa.int32()),
                        "row_count": pa.array([v.row_count for _, v in items], pa.int64()),
                        "byte_count": pa.array([v.byte_count for _, v in items], pa.int64()),
                        "min_ts": pa.array([v.min_ts for _, v in items], pa.int64()),
                        "max_ts": pa.array([v.max_ts for _, v in items], pa.int64()),
                        "loose_rows": pa.array([v.loose_rows for _, v in items], pa.int64()),
                    }
                ),
            )
            try:
                con.execute(
                    "DELETE FROM partition_groups USING _parts d WHERE "
                    "partition_groups.day = d.day AND partition_groups.group_id = d.group_id"
                )
                con.execute("INSERT INTO partition_groups SELECT * FROM _parts")
            finally:
                con.unregister("_parts")
        con.execute("UPDATE meta SET value = ? WHERE key = 'flushed_seq'", [str(next_seq)])

    def _apply(self, staged: _Staged, next_seq: int) -> None:
        """Mirror the committed changes in the in-memory catalog."""
        catalog = self._catalog
        with catalog.lock:
            catalog.next_seq = next_seq
            catalog.next_stream_id = staged.next_stream_id
            for key, stream in staged.new_streams.items():
                catalog.streams[stream.id] = stream
                catalog.live_streams[key] = stream.id
            for day in staged.new_days:
                catalog.partitions.setdefault(day, {})
            catalog.streams.update(staged.streams_after)
            for (day, gid), stats in staged.parts_after.items():
                catalog.partitions.setdefault(day, {})[gid] = stats
        self._dirty_streams.update(staged.streams_after)
        self._dirty_parts.update(staged.parts_after)


def _merge_stream(stream: StreamRow, lo: int, hi: int, now: int) -> StreamRow:
    first, last = stream.first_event_ms, stream.last_event_ms
    return StreamRow(
        stream.id,
        stream.group_id,
        stream.name,
        stream.created_ms,
        lo if first is None else min(first, lo),
        hi if last is None else max(last, hi),
        now,
        stream.deleted_ms,
    )


def _aggregate(
    combined: pa.Table, days: np.ndarray
) -> tuple[list[tuple[int, int, int]], list[tuple[int, int, PartitionGroupStats]]]:
    """Per stream (first, last event time) and per (day, group) statistics of a batch."""
    zero = pa.scalar(0, pa.int64())
    loose = loose_mask(combined)
    sizes = pc.add(
        pc.fill_null(pc.binary_length(combined.column("message")).cast(pa.int64()), zero),
        pc.fill_null(pc.binary_length(combined.column("fields")).cast(pa.int64()), zero),
    )
    streams_col, groups_col, ts = (
        combined.column("stream_id"),
        combined.column("group_id"),
        combined.column("ts"),
    )
    if (
        days.min() == days.max()
        and pc.min_max(streams_col).as_py()["min"] == pc.min_max(streams_col).as_py()["max"]
    ):
        # One stream on one day: the usual commit of a single shipper.
        bounds = pc.min_max(ts).as_py()
        lo, hi = bounds["min"], bounds["max"]
        stats = PartitionGroupStats(
            combined.num_rows, pc.sum(sizes).as_py() or 0, lo, hi, pc.sum(loose).as_py() or 0
        )
        return (
            [(streams_col[0].as_py(), lo, hi)],
            [(int(days[0]), groups_col[0].as_py(), stats)],
        )
    table = pa.table(
        {
            "day": pa.array(days.astype(np.int32)),
            "group_id": groups_col,
            "stream_id": streams_col,
            "ts": ts,
            "size": sizes,
            "loose": pc.cast(loose, pa.int64()),
        }
    )
    by_stream = table.group_by("stream_id").aggregate([("ts", "min"), ("ts", "max")])
    streams = list(
        zip(
            by_stream.column("stream_id").to_pylist(),
            by_stream.column("ts_min").to_pylist(),
            by_stream.column("ts_max").to_pylist(),
            strict=True,
        )
    )
    by_part = table.group_by(["day", "group_id"]).aggregate(
        [("ts", "count"), ("size", "sum"), ("ts", "min"), ("ts", "max"), ("loose", "sum")]
    )
    names = ("day", "group_id", "ts_count", "size_sum", "ts_min", "ts_max", "loose_sum")
    parts = [
        (day, gid, PartitionGroupStats(count, size, lo, hi, loose))
        for day, gid, count, size, lo, hi, loose in zip(
            *(by_part.column(n).to_pylist() for n in names), strict=True
        )
    ]
    return streams, parts


def recover_statistics(
    con: duckdb.DuckDBPyConnection, catalog: Catalog, flushed_seq: int
) -> tuple[set[int], set[tuple[int, int]]]:
    """After a crash: fold events at or above ``flushed_seq`` into the loaded statistics.

    The events' ``seq`` grows with insertion order, so DuckDB's zone maps skip every row
    group below the watermark: this reads about the last second of ingest. Returns the
    streams and (day, group) pairs changed, which the next flush must write.
    """
    next_seq = flushed_seq
    streams: set[int] = set()
    parts: set[tuple[int, int]] = set()
    for day in sorted(catalog.partitions):
        table = table_for_day(day)
        rows = con.execute(
            "SELECT group_id, stream_id, count(*), "
            "sum(coalesce(strlen(message), 0) + coalesce(strlen(fields), 0)), "
            f"min(ts), max(ts), max(ingest_ts), max(seq), count(*) FILTER ({LOOSE_SQL}) "
            f"FROM {table} WHERE seq >= ? GROUP BY group_id, stream_id",
            [flushed_seq],
        ).fetchall()
        for gid, sid, count, size, lo, hi, ingested, top, loose in rows:
            groups = catalog.partitions[day]
            stats = PartitionGroupStats(count, int(size), lo, hi, loose)
            groups[gid] = groups[gid].merged(stats) if gid in groups else stats
            parts.add((day, gid))
            if sid in catalog.streams:
                catalog.streams[sid] = _merge_stream(catalog.streams[sid], lo, hi, ingested)
                streams.add(sid)
            next_seq = max(next_seq, top + 1)
    catalog.next_seq = next_seq
    return streams, parts


def count_loose_rows(con: duckdb.DuckDBPyConnection, catalog: Catalog) -> set[tuple[int, int]]:
    """Count the loose rows of days whose count is not known (written before it was kept).

    Runs once, when a database from before the count is opened: one pass over each such
    day. Returns the (day, group) pairs counted, which the next flush must write.
    """
    counted: set[tuple[int, int]] = set()
    for day in sorted(catalog.partitions):
        groups = catalog.partitions[day]
        if all(stats.loose_rows is not None for stats in groups.values()):
            continue
        counts = con.execute(
            f"SELECT group_id, count(*) FILTER ({LOOSE_SQL}) FROM {table_for_day(day)} GROUP BY group_id"
        ).fetchall()
        with catalog.lock:
            for gid, loose in counts:
                if gid in groups:
                    groups[gid].loose_rows = loose
                    counted.add((day, gid))
    return counted


def index_traces(con: duckdb.DuckDBPyConnection, catalog: Catalog) -> list[int]:
    """Build the trace index of days written before it was kept; returns those days.

    Runs once, when a database from before the index is opened: one pass over each such day.
    """
    existing = {
        name
        for (name,) in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE database_name = current_database()"
        ).fetchall()
    }
    built = []
    for day in sorted(catalog.partitions):
        traces = traces_for_day(day)
        if traces in existing:
            continue
        con.begin()
        try:
            con.execute(traces_ddl(traces))
            con.execute(trace_rows(traces, table_for_day(day)))
            con.commit()
        except BaseException:
            con.rollback()
            raise
        built.append(day)
    return built
