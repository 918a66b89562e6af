"""The in-memory mirror of the catalog tables, owned by the writer thread.

The writer changes the database first and this mirror only after the commit succeeded;
other threads read it under ``lock``. Ids are never reused: a deleted group or stream keeps
its id (a tombstone) until retention has removed its events.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field, replace

import duckdb
import orjson

from logpond.store.base import LogGroup, LogStream

__all__ = ["Catalog", "GroupRow", "PartitionGroupStats", "StreamRow"]


@dataclass(slots=True)
class GroupRow:
    id: int
    name: str
    created_ms: int
    retention_days: int | None
    tags: dict[str, str]
    kms_key_id: str | None
    deleted_ms: int | None = None
    log_group_class: str = "STANDARD"
    deletion_protection: bool = False

    def public(self, stored_bytes: int) -> LogGroup:
        return LogGroup(
            name=self.name,
            created_ms=self.created_ms,
            retention_days=self.retention_days,
            tags=dict(self.tags),
            kms_key_id=self.kms_key_id,
            stored_bytes=stored_bytes,
            log_group_class=self.log_group_class,
            deletion_protection=self.deletion_protection,
        )


@dataclass(slots=True)
class StreamRow:
    id: int
    group_id: int
    name: str
    created_ms: int
    first_event_ms: int | None = None
    last_event_ms: int | None = None
    last_ingestion_ms: int | None = None
    deleted_ms: int | None = None

    def public(self, group: str) -> LogStream:
        return LogStream(
            group=group,
            name=self.name,
            created_ms=self.created_ms,
            first_event_ms=self.first_event_ms,
            last_event_ms=self.last_event_ms,
            last_ingestion_ms=self.last_ingestion_ms,
        )


@dataclass(slots=True)
class PartitionGroupStats:
    row_count: int
    byte_count: int
    min_ts: int
    max_ts: int
    loose_rows: int | None = None  # see loose.py; None: not known

    def merged(self, other: PartitionGroupStats) -> PartitionGroupStats:
        loose = (
            None
            if self.loose_rows is None or other.loose_rows is None
            else self.loose_rows + other.loose_rows
        )
        return PartitionGroupStats(
            self.row_count + other.row_count,
            self.byte_count + other.byte_count,
            min(self.min_ts, other.min_ts),
            max(self.max_ts, other.max_ts),
            loose,
        )


@dataclass(slots=True)
class Catalog:
    """Groups, streams and partitions; see the module docstring."""

    groups: dict[int, GroupRow] = field(default_factory=dict)
    live_groups: dict[str, int] = field(default_factory=dict)
    streams: dict[int, StreamRow] = field(default_factory=dict)
    live_streams: dict[tuple[int, str], int] = field(default_factory=dict)
    # day -> group id -> what the group holds in that day's table
    partitions: dict[int, dict[int, PartitionGroupStats]] = field(default_factory=dict)
    next_seq: int = 1
    next_group_id: int = 1
    next_stream_id: int = 1
    lock: threading.RLock = field(default_factory=threading.RLock)

    @classmethod
    def load(cls, con: duckdb.DuckDBPyConnection) -> Catalog:
        catalog = cls()
        meta = dict(con.execute("SELECT key, value FROM meta").fetchall())
        catalog.next_seq = int(meta["flushed_seq"])
        catalog.next_group_id = int(meta["next_group_id"])
        for gid, name, created, retention, tags, kms, deleted, group_class, protected in con.execute(
            "SELECT id, name, created_ms, retention_days, tags, kms_key_id, deleted_ms, "
            "log_group_class, deletion_protection FROM log_groups"
        ).fetchall():
            catalog.groups[gid] = GroupRow(
                gid, name, created, retention, orjson.loads(tags), kms, deleted,
                group_class or "STANDARD", bool(protected),
            )  # fmt: skip
            if deleted is None:
                catalog.live_groups[name] = gid
        for row in con.execute(
            "SELECT id, group_id, name, created_ms, first_event_ms, last_event_ms, "
            "last_ingestion_ms, deleted_ms FROM log_streams"
        ).fetchall():
            stream = StreamRow(*row)
            catalog.streams[stream.id] = stream
            if stream.deleted_ms is None:
                catalog.live_streams[(stream.group_id, stream.name)] = stream.id
        # Stream ids come from the writer's counter; purged tombstones' ids may be reused.
        catalog.next_stream_id = max(catalog.streams, default=0) + 1
        for (day,) in con.execute("SELECT day FROM partitions").fetchall():
            catalog.partitions.setdefault(day, {})
        for day, gid, rows, nbytes, min_ts, max_ts, loose in con.execute(
            "SELECT day, group_id, row_count, byte_count, min_ts, max_ts, loose_rows FROM partition_groups"
        ).fetchall():
            catalog.partitions.setdefault(day, {})[gid] = PartitionGroupStats(
                rows, nbytes, min_ts, max_ts, loose
            )
        return catalog

    # Reads (any thread, under the lock)

    def group_by_name(self, name: str) -> GroupRow | None:
        with self.lock:
            gid = self.live_groups.get(name)
            return None if gid is None else replace(self.groups[gid])

    def stored_bytes(self, group_id: int) -> int:
        with self.lock:
            return sum(stats[group_id].byte_count for stats in self.partitions.values() if group_id in stats)

    def stream_id(self, group_id: int, name: str) -> int | None:
        with self.lock:
            return self.live_streams.get((group_id, name))
