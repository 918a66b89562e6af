"""Reads on the DuckDB store: the events relation, loose rows and the facts they give the
query layer, and the scanned statistics taken from the catalog."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import orjson
import pyarrow as pa
import pytest
from sqlglot import exp

from logpond.ingest.base import DecodeContext
from logpond.ingest.ndjson import NDJSONDecoder, PlainTextDecoder
from logpond.model.clock import ManualClock
from logpond.model.names import LogGroupName
from logpond.query import PlanOptions, QueryResult, dialect_for, plan_query, render_statistics
from logpond.store.duckdb.connection import DuckDBSettings
from logpond.store.duckdb.reads import export_slices
from logpond.store.duckdb.sql import Params
from logpond.store.duckdb.store import DuckDBStore

DAY = 86_400_000
NOW = 1_769_249_730_123
DAY_START = NOW - NOW % DAY


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(NOW + 3 * DAY)


@pytest.fixture
def store(tmp_path: Path, clock: ManualClock) -> Iterator[DuckDBStore]:
    opened = DuckDBStore(DuckDBSettings(tmp_path / "logpond.duckdb"), clock=clock)
    yield opened
    opened.close()


def records(group: str, stream: str, *items: dict[str, object]) -> pa.RecordBatch:
    body = b"\n".join(orjson.dumps(r) for r in items)
    return NDJSONDecoder().decode(body, DecodeContext(group, stream, NOW)).batch


def lines(group: str, stream: str, *texts: str) -> pa.RecordBatch:
    body = "\n".join(texts).encode()
    return PlainTextDecoder().decode(body, DecodeContext(group, stream, NOW)).batch


def ask(
    store: DuckDBStore, query: str, groups: list[str], start: int = 0, end: int | None = None
) -> QueryResult:
    plan = plan_query(query, PlanOptions(now_ms=NOW + 3 * DAY))
    return store.run_plan(plan, groups, start, end)


def test_structured_events_make_promoted_columns_complete(store: DuckDBStore) -> None:
    """JSON records leave no promoted key in their fields: the read's facts say so."""
    store.create_group(LogGroupName("/g"))
    store.append(records("/g", "s", {"level": "info", "trace_id": "t1", "n": 1})).result()
    store.append(records("/g", "s", {"message": "no promoted keys at all"})).result()
    assert [s.loose_rows for s in store.catalog.partitions[NOW // DAY].values()] == [0]
    assert store.coverage(["/g"], None, None).facts().promoted_complete


def test_loose_rows_are_counted_and_their_fields_still_found(store: DuckDBStore) -> None:
    """A JSON message with no fields, or a boolean under a promoted name, is loose: the query
    then reads the document, and finds the field."""
    store.create_group(LogGroupName("/g"))
    store.append(lines("/g", "s", '  {"level": "error", "trace_id": "t9"}', "plain text")).result()
    store.append(records("/g", "s", {"service": True, "level": "warn"})).result()
    assert [s.loose_rows for s in store.catalog.partitions[NOW // DAY].values()] == [2]
    assert not store.coverage(["/g"], None, None).facts().promoted_complete
    result = ask(store, "fields level, trace_id, service", ["/g"])
    found = sorted(
        (r.get("level", ""), r.get("trace_id", ""), r.get("service", "")) for r in result.records()
    )
    assert found == [("", "", ""), ("error", "t9", ""), ("warn", "", "true")]


def test_loose_count_of_an_older_database_is_taken_at_open(tmp_path: Path, clock: ManualClock) -> None:
    """Days written before loose rows were counted are counted when the store opens."""
    path = tmp_path / "old.duckdb"
    first = DuckDBStore(DuckDBSettings(path), clock=clock)
    first.create_group(LogGroupName("/g"))
    first.append(lines("/g", "s", '{"level": "error"}')).result()
    first.close()
    again = DuckDBStore(DuckDBSettings(path), clock=clock)
    again._con.execute("UPDATE partition_groups SET loose_rows = NULL")
    again.close()
    reopened = DuckDBStore(DuckDBSettings(path), clock=clock)
    try:
        assert [s.loose_rows for s in reopened.catalog.partitions[NOW // DAY].values()] == [1]
    finally:
        reopened.close()
    last = DuckDBStore(DuckDBSettings(path), clock=clock)
    try:
        stored = last._con.execute("SELECT loose_rows FROM partition_groups").fetchall()
        assert stored == [(1,)]
    finally:
        last.close()


def test_scanned_statistics_match_a_full_count(store: DuckDBStore) -> None:
    """Records scanned equal a count of the relation, over whole and partly covered days;
    bytes are exact for whole days and estimated from the day's average for the others."""
    store.create_group(LogGroupName("/a"))
    store.create_group(LogGroupName("/b"), retention_days=1)
    for day in range(3):
        for hour in range(4):
            ts = DAY_START + day * DAY + hour * 3_600_000
            store.append(records("/a", "s", {"message": "x" * (hour + 1), "timestamp": ts})).result()
            store.append(records("/b", "s", {"message": "y", "timestamp": ts, "k": "v"})).result()
    engine = dialect_for("duckdb")
    for start, end in [(0, None), (DAY_START + 3_600_000, None), (0, DAY_START + DAY + 7_200_000)]:
        plan = plan_query('filter @message like "x"', PlanOptions(now_ms=NOW + 3 * DAY))
        result = store.run_plan(plan, ["/a", "/b"], start, end)
        params = Params()
        source = store.coverage(["/a", "/b"], start, end).relation(params)
        rendered = render_statistics(plan, engine, source)
        exact = store.reader().execute(rendered.sql, {**rendered.params, **params.values}).fetchone()
        assert exact is not None
        assert (result.statistics.records_matched, result.statistics.records_scanned) == exact[:2]
        if start == 0 and end is None:
            assert result.statistics.bytes_scanned == exact[2]
        else:
            assert abs(result.statistics.bytes_scanned - exact[2]) <= 0.5 * exact[2]


def test_relation_hides_deleted_streams_and_names_streams_only_when_asked(store: DuckDBStore) -> None:
    """A deleted stream's events vanish before the sweep; @logStream still reads its name."""
    store.create_group(LogGroupName("/g"))
    store.append(records("/g", "keep", {"message": "kept"})).result()
    store.append(records("/g", "gone", {"message": "dropped"})).result()
    store.delete_stream("/g", "gone")
    result = ask(store, "fields @logStream, message", ["/g"])
    assert [(r["@logStream"], r["message"]) for r in result.records()] == [("keep", "kept")]
    assert result.statistics.records_scanned == 1
    params = Params()
    relation = store.coverage(["/g"], None, None).relation(params, stream_names=False)
    assert not any(t.name == "log_streams" for t in relation.find_all(exp.Table))


def test_each_group_keeps_its_own_retention_in_a_shared_day(store: DuckDBStore, clock: ManualClock) -> None:
    """Groups with different retention read together: each shows only its unexpired events."""
    store.create_group(LogGroupName("/short"), retention_days=1)
    store.create_group(LogGroupName("/long"), retention_days=30)
    for group in ("/short", "/long"):
        for day in range(3):
            ts = DAY_START + day * DAY + 60_000
            store.append(records(group, "s", {"message": f"{group}-{day}", "timestamp": ts})).result()
    clock.set(DAY_START + 2 * DAY + 30_000)  # /short keeps the last day: from day 1, 00:00:30
    result = ask(store, "fields message | sort @timestamp asc", ["/short", "/long"])
    messages = [r["message"] for r in result.records()]
    assert messages == ["/long-0", "/long-1", "/short-1", "/long-2", "/short-2"]


@pytest.mark.parametrize("order", ["asc", "desc"])
def test_export_in_time_slices_keeps_every_row_in_order(store: DuckDBStore, order: str) -> None:
    """An export read a slice of time at a time returns the rows of a single statement."""
    store.create_group(LogGroupName("/g"))
    stamps = [DAY_START + (i * 7_919) % (2 * DAY) for i in range(400)]  # two days, out of order
    for chunk in range(0, 400, 50):
        items = [{"message": f"m{i}", "timestamp": stamps[i]} for i in range(chunk, chunk + 50)]
        store.append(records("/g", "s", *items)).result()
    plan = plan_query(f"fields @timestamp, message | sort @timestamp {order}", PlanOptions(now_ms=NOW))

    def export(slice_events: int) -> list[str]:
        batches = store.stream_plan(plan, ["/g"], None, None, batch_rows=64, slice_events=slice_events)
        return [row[1]["value"] for rows in batches for row in rows]

    assert len(export_slices(plan, store.coverage(["/g"], None, None), None, None, 37)) >= 10
    sliced, whole = export(37), export(10_000)
    assert sliced == whole
    assert sorted(sliced) == sorted(f"m{i}" for i in range(400))
    by_message = {f"m{i}": stamps[i] for i in range(400)}
    times = [by_message[m] for m in sliced]
    assert times == sorted(times, reverse=order == "desc")


def test_trace_lookup_reads_only_the_blocks_the_index_names(store: DuckDBStore) -> None:
    """A trace filter reads the blocks of 65,536 events its id appears in, and finds every event."""
    store.create_group(LogGroupName("/g"))
    filler = [
        {"message": "x", "trace_id": f"f{i}", "timestamp": DAY_START + 1000 + i} for i in range(140_000)
    ]
    filler[5]["trace_id"] = filler[135_000]["trace_id"] = "needle"
    for chunk in range(0, len(filler), 20_000):
        store.append(records("/g", "s", *filler[chunk : chunk + 20_000])).result()
    coverage = store.coverage(["/g"], None, None)
    narrowed = coverage.for_traces(store.reader(), ["needle"])
    assert [scan.seq_ranges for scan in narrowed.days] == [((0, 65_536), (131_072, 196_608))]
    assert coverage.for_traces(store.reader(), ["absent"]).days == ()
    result = ask(store, 'fields message | filter trace_id = "needle"', ["/g"])
    assert [r["message"] for r in result.records()] == ["x", "x"]
    assert result.statistics.records_scanned == 140_000
    assert ask(store, 'filter trace_id in ["needle", "f7"] | stats count(*) as n', ["/g"]).records() == [
        {"n": "3"}
    ]


def test_trace_index_is_not_used_over_loose_rows(store: DuckDBStore) -> None:
    """Where a JSON message may hold the trace id outside the column, every event is read."""
    store.create_group(LogGroupName("/g"))
    store.append(lines("/g", "s", '{"trace_id": "in-json", "message": "plain text ingest"}')).result()
    result = ask(store, 'fields message | filter trace_id = "in-json"', ["/g"])
    assert [r["message"] for r in result.records()] == [
        '{"trace_id": "in-json", "message": "plain text ingest"}'
    ]


def test_trace_index_of_an_older_database_is_built_at_open(tmp_path: Path, clock: ManualClock) -> None:
    """Days written before the trace index was kept get one when the store opens."""
    path = tmp_path / "old.duckdb"
    first = DuckDBStore(DuckDBSettings(path), clock=clock)
    first.create_group(LogGroupName("/g"))
    first.append(records("/g", "s", {"message": "m", "trace_id": "t1"})).result()
    first._con.execute(f"DROP TABLE traces_{time.strftime('%Y%m%d', time.gmtime(NOW / 1000))}")
    first.close()
    reopened = DuckDBStore(DuckDBSettings(path), clock=clock)
    try:
        assert ask(reopened, 'fields message | filter trace_id = "t1"', ["/g"]).records()[0]["message"] == "m"
    finally:
        reopened.close()


def test_retention_drops_the_trace_index_with_its_day(store: DuckDBStore, clock: ManualClock) -> None:
    """A day table dropped by retention takes its trace index with it."""
    store.create_group(LogGroupName("/g"), retention_days=1)
    store.append(records("/g", "s", {"message": "m", "trace_id": "t1", "timestamp": NOW})).result()
    clock.set(NOW + 3 * DAY)
    assert store.sweep_expired().dropped_partitions == 1
    tables = {name for (name,) in store.reader().execute("SELECT table_name FROM duckdb_tables()").fetchall()}
    assert not any(name.startswith(("events_", "traces_")) for name in tables)


LIMITED_QUERIES = [
    "fields @timestamp, @message, trace_id, tenant_id"
    ' | filter level = "error" | sort @timestamp desc | limit 100',
    "fields @timestamp, method, path, duration_ms | filter duration_ms > 500"
    " | sort duration_ms desc | limit 50",
    "fields @timestamp, method, path, status, trace_id | filter status >= 500"
    " | sort @timestamp desc | limit 100",
    "fields @timestamp, @logStream, @message | sort @timestamp asc | limit 7",
    'filter @message like "GET" | fields concat(method, " ", path) as call | sort n desc | limit 5',
    'fields @message | filter level = "absent" | sort @timestamp desc | limit 10',
]


@pytest.fixture
def two_days(store: DuckDBStore) -> DuckDBStore:
    """300 events over two days and two streams, every sort key distinct, some loose."""
    store.create_group(LogGroupName("/g"))
    items: list[dict[str, object]] = [
        {
            "message": f"{('GET', 'POST')[i % 2]} /items/{i}",
            "timestamp": DAY_START + (i * 7_919) % (2 * DAY),
            "level": ("info", "error", "warn")[i % 3],
            "trace_id": f"t{i % 17}",
            "tenant_id": f"tenant-{i % 5}",
            "method": ("GET", "POST")[i % 2],
            "path": f"/items/{i}",
            "duration_ms": (i * 37) % 1000 + i / 1000,
            "status": (200, 404, 500, 503)[i % 4],
            "n": i,
        }
        for i in range(300)
    ]
    for chunk in range(0, 300, 60):
        store.append(records("/g", f"s{chunk % 120}", *items[chunk : chunk + 60])).result()
    store.append(lines("/g", "s0", '{"level": "error", "status": 502}')).result()
    return store


@pytest.mark.parametrize("query", LIMITED_QUERIES)
@pytest.mark.parametrize("span", [(None, None), (DAY_START + 3_600_000, DAY_START + DAY + 7_200_000)])
def test_limited_query_rows_do_not_depend_on_statistics(
    two_days: DuckDBStore, query: str, span: tuple[int | None, int | None]
) -> None:
    """A sorted, limited query returns the same rows with statistics as without, and its
    statistics equal a full count."""
    plan = plan_query(query, PlanOptions(now_ms=NOW + 3 * DAY))
    start, end = span
    counted = two_days.run_plan(plan, ["/g"], start, end)
    plain = two_days.run_plan(plan, ["/g"], start, end, statistics=False)
    assert counted.records() == plain.records()
    assert counted.fields == plain.fields
    params = Params()
    source = two_days.coverage(["/g"], start, end).relation(params)
    rendered = render_statistics(plan, dialect_for("duckdb"), source)
    exact = two_days.reader().execute(rendered.sql, {**rendered.params, **params.values}).fetchone()
    assert exact is not None
    assert (counted.statistics.records_matched, counted.statistics.records_scanned) == exact[:2]


def test_limit_through_tied_sort_keys_keeps_the_same_keys(two_days: DuckDBStore) -> None:
    """When the limit cuts through equal sort keys, any of the tied events may be returned,
    but with or without statistics the keys are the same, in the same order."""
    plan = plan_query("fields level, status | sort level asc | limit 120", PlanOptions(now_ms=NOW + 3 * DAY))
    counted = two_days.run_plan(plan, ["/g"], None, None)
    plain = two_days.run_plan(plan, ["/g"], None, None, statistics=False)
    assert [r["level"] for r in counted.records()] == [r["level"] for r in plain.records()]
    assert len(counted.records()) == 120
    assert counted.statistics.records_matched == 301
