"""Retention in the DuckDB engine: drop whole day tables, delete only at the edges.

For each day table, the groups whose events there have all expired (their retention cutoff
is past the end of the day) or that were deleted are removed. When that is every group in
the table, the table is dropped: the cost is the same however much else is kept. Otherwise
only those groups' rows are deleted from that one day's table. Rows of deleted streams are
deleted from the days their group has data in. Expired events are hidden from reads by the
query predicate well before this runs (``store.scopes``), so sweeping late is safe.
"""

from __future__ import annotations

import logging

import duckdb

from logpond.model.retention import expiry_cutoff_ms
from logpond.store.base import SweepReport

from .catalog import Catalog, PartitionGroupStats
from .loose import LOOSE_SQL
from .sql import DAY_MS, table_for_day, traces_for_day

__all__ = ["sweep"]

log = logging.getLogger("logpond.store.retention")


def _expired_groups(catalog: Catalog, day: int, now_ms: int) -> set[int]:
    day_end = (day + 1) * DAY_MS
    expired = set()
    for gid in catalog.partitions[day]:
        group = catalog.groups.get(gid)
        if group is None or group.deleted_ms is not None:
            expired.add(gid)
            continue
        cutoff = expiry_cutoff_ms(group.retention_days, now_ms)
        if cutoff is not None and day_end <= cutoff:
            expired.add(gid)
    return expired


def sweep(con: duckdb.DuckDBPyConnection, catalog: Catalog, now_ms: int) -> SweepReport:
    """One retention pass; runs on the writer thread."""
    dropped = deleted = touched = 0
    for day in sorted(catalog.partitions):
        groups = catalog.partitions[day]
        expired = _expired_groups(catalog, day, now_ms)
        table = table_for_day(day)
        if expired and expired >= set(groups):
            _run(
                con,
                [
                    (f"DROP TABLE IF EXISTS {table}", []),
                    (f"DROP TABLE IF EXISTS {traces_for_day(day)}", []),
                    ("DELETE FROM partitions WHERE day = ?", [day]),
                    ("DELETE FROM partition_groups WHERE day = ?", [day]),
                ],
            )
            with catalog.lock:
                del catalog.partitions[day]
            dropped += 1
            continue
        if expired:
            ids = sorted(expired)
            marks = ", ".join("?" for _ in ids)
            removed = _run(
                con,
                [
                    (f"DELETE FROM {table} WHERE group_id IN ({marks})", ids),
                    (f"DELETE FROM partition_groups WHERE day = ? AND group_id IN ({marks})", [day, *ids]),
                ],
            )
            with catalog.lock:
                for gid in ids:
                    del groups[gid]
            deleted += removed
            touched += 1
        deleted_streams = [
            s.id for s in catalog.streams.values() if s.deleted_ms is not None and s.group_id in groups
        ]
        if deleted_streams:
            deleted += _delete_streams(con, catalog, day, deleted_streams)
            touched += 1
    _purge_tombstones(con, catalog)
    report = SweepReport(dropped, deleted, touched)
    if dropped or deleted:
        log.info(
            "retention sweep",
            extra={"dropped_partitions": dropped, "deleted_rows": deleted, "partitions": touched},
        )
    return report


def _delete_streams(con: duckdb.DuckDBPyConnection, catalog: Catalog, day: int, stream_ids: list[int]) -> int:
    """Delete deleted streams' rows from one day table and recount what its groups hold."""
    table = table_for_day(day)
    marks = ", ".join("?" for _ in stream_ids)
    con.begin()
    try:
        removed = con.execute(f"DELETE FROM {table} WHERE stream_id IN ({marks})", stream_ids).fetchone()
        con.execute("DELETE FROM partition_groups WHERE day = ?", [day])
        con.execute(
            "INSERT INTO partition_groups SELECT ?, group_id, count(*), "
            "sum(coalesce(strlen(message), 0) + coalesce(strlen(fields), 0)), "
            f"min(ts), max(ts), count(*) FILTER ({LOOSE_SQL}) FROM {table} GROUP BY group_id",
            [day],
        )
        recount = con.execute(
            "SELECT group_id, row_count, byte_count, min_ts, max_ts, loose_rows FROM partition_groups "
            "WHERE day = ?",
            [day],
        ).fetchall()
        con.commit()
    except BaseException:
        con.rollback()
        raise
    with catalog.lock:
        catalog.partitions[day] = {
            gid: PartitionGroupStats(rows, nbytes, lo, hi, loose)
            for gid, rows, nbytes, lo, hi, loose in recount
        }
    return int(removed[0]) if removed else 0


def _purge_tombstones(con: duckdb.DuckDBPyConnection, catalog: Catalog) -> None:
    """Forget deleted groups and streams once the pass above removed their events."""
    with catalog.lock:
        holding = {gid for groups in catalog.partitions.values() for gid in groups}
        gone_groups = [
            g.id for g in catalog.groups.values() if g.deleted_ms is not None and g.id not in holding
        ]
        gone_streams = [s.id for s in catalog.streams.values() if s.deleted_ms is not None]
    statements: list[tuple[str, list[int]]] = []
    for table, ids in (("log_groups", gone_groups), ("log_streams", gone_streams)):
        if ids:
            marks = ", ".join("?" for _ in ids)
            statements.append((f"DELETE FROM {table} WHERE id IN ({marks})", ids))
    if not statements:
        return
    _run(con, statements)
    with catalog.lock:
        for gid in gone_groups:
            del catalog.groups[gid]
        for sid in gone_streams:
            del catalog.streams[sid]


def _run(con: duckdb.DuckDBPyConnection, statements: list[tuple[str, list[int]]]) -> int:
    """Run statements in one transaction; returns the rows the first one changed."""
    con.begin()
    try:
        changed = 0
        for number, (sql, args) in enumerate(statements):
            result = con.execute(sql, args).fetchone()
            if number == 0 and result:
                changed = int(result[0])
        con.commit()
        return changed
    except BaseException:
        con.rollback()
        raise
