"""The DuckDB store on a real file: group commit, statistics recovery, retention sweeps."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import orjson
import pyarrow as pa
import pytest

from logpond.ingest.base import DecodeContext
from logpond.ingest.ndjson import NDJSONDecoder
from logpond.model.clock import ManualClock
from logpond.model.errors import ResourceAlreadyExistsError, ResourceNotFoundError
from logpond.model.names import LogGroupName, LogStreamName
from logpond.store.base import SearchRequest
from logpond.store.duckdb.connection import DuckDBSettings
from logpond.store.duckdb.store import DuckDBStore

DAY = 86_400_000
NOW = 1_769_249_730_123


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(NOW)


@pytest.fixture
def store(tmp_path: Path, clock: ManualClock) -> Iterator[DuckDBStore]:
    opened = DuckDBStore(DuckDBSettings(tmp_path / "logpond.duckdb"), clock=clock)
    yield opened
    opened.close()


def batch(group: str, stream: str, *records: dict[str, object], now: int = NOW) -> pa.RecordBatch:
    body = b"\n".join(orjson.dumps(r) for r in records)
    return NDJSONDecoder().decode(body, DecodeContext(group, stream, now)).batch


def test_concurrent_batches_share_commits_and_ids_stay_unique(store: DuckDBStore) -> None:
    """Batches submitted together are committed in fewer transactions, ids unique and ordered."""
    store.create_group(LogGroupName("/g"))
    futures = []
    barrier = threading.Barrier(8)

    def submit(n: int) -> None:
        barrier.wait()
        for i in range(25):
            futures.append(store.append(batch("/g", f"s{n}", {"message": f"{n}-{i}"})))

    threads = [threading.Thread(target=submit, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    results = [f.result() for f in futures]
    seqs = [r.first_seq for r in results]
    assert len(set(seqs)) == 200 and all(r.accepted == 1 for r in results)
    assert store.writer.committed_batches >= 200
    assert store.writer.commits < store.writer.committed_batches, "nothing was coalesced"


def test_a_bad_batch_fails_alone(store: DuckDBStore) -> None:
    """A batch for a missing group fails; batches committed with it still succeed."""
    store.create_group(LogGroupName("/g"))
    good = store.append(batch("/g", "s", {"message": "ok"}))
    bad = store.append(batch("/missing", "s", {"message": "lost"}))
    also_good = store.append(batch("/g", "s", {"message": "ok too"}))
    assert good.result().accepted == 1 and also_good.result().accepted == 1
    with pytest.raises(ResourceNotFoundError):
        bad.result()


def test_streams_are_not_created_when_not_allowed(store: DuckDBStore) -> None:
    """With create_streams=False an unknown stream fails the batch (CloudWatch's rule)."""
    store.create_group(LogGroupName("/g"))
    with pytest.raises(ResourceNotFoundError):
        store.append(batch("/g", "new", {"message": "x"}), create_streams=False).result()
    store.create_stream("/g", LogStreamName("new"))
    assert store.append(batch("/g", "new", {"message": "x"}), create_streams=False).result().accepted == 1


def test_mixed_batch_spanning_days_and_streams(store: DuckDBStore) -> None:
    """One batch with several streams and UTC days lands in the right day tables."""
    store.create_group(LogGroupName("/g"))
    rows = [{"message": f"m{i}", "timestamp": NOW - i * DAY} for i in range(3)]
    first = batch("/g", "a", *rows[:2])
    second = batch("/g", "b", rows[2])
    mixed = pa.Table.from_batches([first, second]).combine_chunks().to_batches()[0]
    assert store.append(mixed).result().accepted == 3
    assert len(store.catalog.partitions) == 3
    found = store.search(SearchRequest(groups=["/g"], limit=10, ascending=True)).events
    assert [(e.message, e.stream) for e in found] == [("m2", "b"), ("m1", "a"), ("m0", "a")]


def test_statistics_survive_a_crash(tmp_path: Path, clock: ManualClock) -> None:
    """Stream times and stored bytes are rebuilt from the events after an unclean stop."""
    path = tmp_path / "crash.duckdb"
    first = DuckDBStore(DuckDBSettings(path), clock=clock)
    first.create_group(LogGroupName("/g"))
    first.append(batch("/g", "s", {"message": "abc", "timestamp": NOW - 5})).result()
    first.append(batch("/g", "s", {"message": "defg", "timestamp": NOW})).result()
    first.writer.close()  # no statistics flush, no checkpoint: as after kill -9
    first._con.close()
    second = DuckDBStore(DuckDBSettings(path), clock=clock)
    try:
        stream = second.get_stream("/g", "s")
        assert (stream.first_event_ms, stream.last_event_ms) == (NOW - 5, NOW)
        assert second.get_group("/g").stored_bytes == 11  # messages and their "{}" fields
        assert second.append(batch("/g", "s", {"message": "next"})).result().first_seq == 3
    finally:
        second.close()


def test_recovered_statistics_are_written_by_the_next_flush(tmp_path: Path, clock: ManualClock) -> None:
    """Statistics rebuilt after a crash survive a later clean restart, once newer events moved
    the flushed watermark past the events they were rebuilt from."""
    path = tmp_path / "crash.duckdb"
    first = DuckDBStore(DuckDBSettings(path), clock=clock)
    first.create_group(LogGroupName("/g"))
    first.append(batch("/g", "s", {"message": "abc", "timestamp": NOW - 5})).result()
    first.writer.close()  # as after kill -9
    first._con.close()
    second = DuckDBStore(DuckDBSettings(path), clock=clock)
    second.append(batch("/g", "other", {"message": "x", "timestamp": NOW})).result()
    second.close()
    third = DuckDBStore(DuckDBSettings(path), clock=clock)
    try:
        stream = third.get_stream("/g", "s")
        assert (stream.first_event_ms, stream.last_event_ms) == (NOW - 5, NOW - 5)
    finally:
        third.close()


def test_group_and_stream_errors(store: DuckDBStore) -> None:
    """Duplicates and missing names raise the matching errors."""
    store.create_group(LogGroupName("/g"))
    with pytest.raises(ResourceAlreadyExistsError):
        store.create_group(LogGroupName("/g"))
    assert store.create_group(LogGroupName("/g"), exist_ok=True).name == "/g"
    with pytest.raises(ResourceNotFoundError):
        store.get_group("/nope")
    with pytest.raises(ResourceNotFoundError):
        store.delete_stream("/g", "nope")


def test_retention_drops_whole_days_and_trims_shared_ones(store: DuckDBStore, clock: ManualClock) -> None:
    """A day table every group has expired from is dropped; a shared one loses only expired rows."""
    store.create_group(LogGroupName("/short"), retention_days=1)
    store.create_group(LogGroupName("/long"), retention_days=7)
    for group in ("/short", "/long"):
        store.append(batch(group, "s", {"message": "day0", "timestamp": NOW})).result()
        store.append(batch(group, "s", {"message": "day3", "timestamp": NOW + 3 * DAY})).result()
    clock.set(NOW + 4 * DAY + 3_600_000)
    # Both /short events are past retention and hidden at once...
    assert store.search(SearchRequest(groups=["/short"])).events == []
    assert len(store.search(SearchRequest(groups=["/long"])).events) == 2
    # ...but only day 0 has expired whole for /short: its rows go, day 3 waits for its end.
    report = store.sweep_expired()
    assert (report.dropped_partitions, report.deleted_rows) == (0, 1)
    clock.set(NOW + 9 * DAY + 3_600_000)
    report = store.sweep_expired()
    # Day 0 has expired for every group: dropped whole. Day 3 loses the /short row.
    assert (report.dropped_partitions, report.deleted_rows) == (1, 1)
    assert [e.message for e in store.search(SearchRequest(groups=["/long"])).events] == ["day3"]


def test_deleted_group_events_are_swept_and_the_name_reusable(store: DuckDBStore) -> None:
    """Deleting a group hides it at once; the sweep removes its rows; the name can be reused."""
    store.create_group(LogGroupName("/g"))
    store.create_group(LogGroupName("/other"))
    store.append(batch("/g", "s", {"message": "old"})).result()
    store.append(batch("/other", "s", {"message": "kept"})).result()
    store.delete_group("/g")
    store.create_group(LogGroupName("/g"))
    assert store.search(SearchRequest(groups=["/g"])).events == []
    report = store.sweep_expired()
    assert report.deleted_rows == 1
    assert [e.message for e in store.search(SearchRequest(groups=["/other"])).events] == ["kept"]
    assert len(store.catalog.groups) == 2  # the tombstone is forgotten


def test_deleted_stream_rows_are_swept(store: DuckDBStore) -> None:
    """Deleting a stream removes its events at the next sweep and recounts stored bytes."""
    store.create_group(LogGroupName("/g"))
    store.append(batch("/g", "a", {"message": "aaaa"})).result()
    store.append(batch("/g", "b", {"message": "bb"})).result()
    store.delete_stream("/g", "a")
    assert store.sweep_expired().deleted_rows == 1
    assert store.get_group("/g").stored_bytes == 4  # "bb" and its "{}" fields
    assert [e.stream for e in store.search(SearchRequest(groups=["/g"])).events] == ["b"]


def test_migrations_have_distinct_versions_and_all_apply(tmp_path: Path) -> None:
    """Each migration file has its own number (a repeated one would be skipped on databases
    that applied the first), and a new database applies every one of them."""
    folder = Path(__file__).parents[3] / "src" / "logpond" / "store" / "duckdb" / "migrations"
    versions = [int(p.name.split("_", 1)[0]) for p in sorted(folder.glob("*.sql"))]
    assert len(versions) == len(set(versions)), versions
    store = DuckDBStore(DuckDBSettings(tmp_path / "m.duckdb"))
    try:
        applied = store._con.execute("SELECT version FROM schema_migrations ORDER BY version").fetchall()
    finally:
        store.close()
    assert [v for (v,) in applied] == sorted(versions)
