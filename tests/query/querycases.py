"""Loading query case files and the event tables they run against, on every engine.

A case file is YAML. Events are written as a message string, or as a mapping with any of
``message``, ``fields`` (a mapping or JSON text), the promoted columns, ``time`` (an
ISO-8601 UTC time or epoch milliseconds), ``ingest`` (same), ``group`` and ``stream``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import duckdb
import orjson
import pyarrow as pa
import pyarrow.parquet as pq
import yaml
from sqlglot import exp

from logpond.model.schema import EVENT_SCHEMA, PROMOTED_COLUMNS
from logpond.query.sql.base import EVENT_COLUMNS, Dialect
from logpond.query.sql.clickhouse import ClickHouseDialect
from logpond.query.sql.duckdb import DuckDBDialect

CASES_DIR = Path(__file__).parent / "cases"
DEFAULT_TIME_MS = 1_700_000_000_123  # 2023-11-14 22:13:20.123 UTC
DEFAULT_GROUP = "/app/api"
DEFAULT_STREAM = "pod-1"

_CH_TYPES = {"VARCHAR": "String", "BIGINT": "Int64"}
_NOT_NULL = {"group_name", "stream_name", "ts", "ingest_ts", "seq"}

DIALECTS: dict[str, Dialect] = {"duckdb": DuckDBDialect(), "clickhouse": ClickHouseDialect()}


def load_cases(name: str) -> dict[str, Any]:
    """A case file of ``tests/query/cases`` as data."""
    with (CASES_DIR / name).open(encoding="utf-8") as handle:
        data = yaml.safe_load(handle)
    assert isinstance(data, dict)
    return data


def parse_time(value: Any) -> int:
    """Epoch milliseconds from an int or an ISO-8601 UTC text."""
    if isinstance(value, int):
        return value
    if isinstance(value, dt.datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=dt.UTC)
        return int(moment.timestamp() * 1000)
    text = str(value).replace("Z", "+00:00")
    moment = dt.datetime.fromisoformat(text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return round(moment.timestamp() * 1000)


def event_row(spec: Any, named: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """One event row (EVENT_SCHEMA names plus ``ingest``) from its case-file form."""
    if isinstance(spec, str) and named and spec in named:
        spec = named[spec]
    if isinstance(spec, str):
        spec = {"message": spec}
    assert isinstance(spec, Mapping), spec
    fields = spec.get("fields")
    if isinstance(fields, Mapping):
        fields = orjson.dumps(dict(fields)).decode()
    time_ms = parse_time(spec.get("time", DEFAULT_TIME_MS))
    return {
        "log_group": spec.get("group", DEFAULT_GROUP),
        "log_stream": spec.get("stream", DEFAULT_STREAM),
        "timestamp": time_ms,
        "message": spec.get("message"),
        **{name: spec.get(name) for name in PROMOTED_COLUMNS},
        "fields": fields,
        "ingest": parse_time(spec.get("ingest", time_ms + 1000)),
    }


def event_batch(rows: Sequence[Mapping[str, Any]]) -> pa.RecordBatch:
    """The rows as an Arrow batch with the event schema."""
    return pa.RecordBatch.from_pylist(
        [{name: row[name] for name in EVENT_SCHEMA.names} for row in rows], schema=EVENT_SCHEMA
    )


def events_table(rows: Sequence[Mapping[str, Any]], first_seq: int = 1) -> pa.Table:
    """The rows as the ``events`` relation (``seq`` in row order)."""
    return pa.table(
        {
            "group_name": pa.array([r["log_group"] for r in rows], pa.string()),
            "stream_name": pa.array([r["log_stream"] for r in rows], pa.string()),
            "ts": pa.array([r["timestamp"] for r in rows], pa.int64()),
            "ingest_ts": pa.array([r["ingest"] for r in rows], pa.int64()),
            "seq": pa.array(range(first_seq, first_seq + len(rows)), pa.int64()),
            **{
                name: pa.array([r[name] for r in rows], pa.string())
                for name in (
                    "level",
                    "message",
                    "trace_id",
                    "span_id",
                    "tenant_id",
                    "service",
                    "fields",
                )
            },
        }
    )


class EngineTables:
    """An ``events`` table per suite (a schema/database each) on DuckDB and on chdb."""

    def __init__(self, directory: Path, duck: duckdb.DuckDBPyConnection, chdb_conn: Any) -> None:
        self.directory = directory
        self.duck = duck
        self.chdb = chdb_conn

    def create(self, suite: str, table: pa.Table) -> None:
        """Create ``<suite>.events`` with ``table``'s rows in both engines."""
        path = self.directory / f"{suite}.parquet"
        pq.write_table(table, path)
        self.duck.execute(f"CREATE SCHEMA IF NOT EXISTS {suite}")
        self.duck.execute(f"DROP TABLE IF EXISTS {suite}.events")
        columns = ", ".join(
            f"{name} {kind}{' NOT NULL' if name in _NOT_NULL else ''}" for name, kind in EVENT_COLUMNS
        )
        self.duck.execute(f"CREATE TABLE {suite}.events ({columns})")
        self.duck.execute(f"INSERT INTO {suite}.events SELECT * FROM read_parquet(?)", [str(path)])
        self.chdb.query(f"CREATE DATABASE IF NOT EXISTS {suite}")
        self.chdb.query(f"DROP TABLE IF EXISTS {suite}.events")
        ch_columns = ", ".join(
            f"{name} {_CH_TYPES[kind] if name in _NOT_NULL else f'Nullable({_CH_TYPES[kind]})'}"
            for name, kind in EVENT_COLUMNS
        )
        self.chdb.query(f"CREATE TABLE {suite}.events ({ch_columns}) ENGINE = MergeTree ORDER BY seq")
        self.chdb.query(f"INSERT INTO {suite}.events SELECT * FROM file('{path}', Parquet)")

    def connection(self, engine: str) -> Any:
        return self.duck if engine == "duckdb" else self.chdb


def source_for(suite: str, group: str | None = None) -> exp.Expr:
    """The ``events`` relation of a suite, optionally one group's rows only (a subquery)."""
    table = exp.to_table(f"{suite}.events")
    if group is None:
        return table
    return (
        exp.select("*")
        .from_(table)
        .where(exp.EQ(this=exp.column("group_name"), expression=exp.Literal.string(group)))
    )


def flatten(items: Iterable[Any] | None) -> list[Any]:
    """A YAML list that may be absent."""
    return list(items or [])
