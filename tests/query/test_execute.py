"""Running queries: statistics, the default events relation, dialect names and row caps."""

from __future__ import annotations

import pytest
from sqlglot import exp

from logpond.query import (
    MAX_QUERY_LIMIT,
    PlanOptions,
    dialect_for,
    plan_query,
    render_plan,
    run_plan,
    run_query,
)

from .querycases import EngineTables, event_row, events_table, load_cases

ROWS = [event_row(e) for e in load_cases("insights.yaml")["datasets"]["api"]]
OPTIONS = PlanOptions(now_ms=1_706_097_600_000)


@pytest.fixture(scope="module")
def api_tables(engine_tables: EngineTables) -> EngineTables:
    """The api dataset as ``exe.events`` on both engines, and as ``events`` on DuckDB."""
    table = events_table(ROWS)
    engine_tables.create("exe", table)
    engine_tables.duck.execute("CREATE OR REPLACE TABLE main.events AS SELECT * FROM exe.events")
    return engine_tables


@pytest.mark.parametrize("engine", ["duckdb", "clickhouse"])
def test_statistics_count_matched_and_scanned_records(engine: str, api_tables: EngineTables) -> None:
    """Statistics count events passing the filters, all events, and their message bytes."""
    result = run_query(
        'filter level = "error" | stats count(*) as n by tenant_id',
        dialect=engine,
        connection=api_tables.connection(engine),
        source=exp.to_table("exe.events"),
        options=OPTIONS,
        statistics=True,
    )
    message_bytes = sum(len((r["message"] or "").encode()) for r in ROWS)
    field_bytes = sum(len((r["fields"] or "").encode()) for r in ROWS)
    assert result.statistics.to_dict() == {
        "recordsMatched": 5.0,
        "recordsScanned": float(len(ROWS)),
        "bytesScanned": float(message_bytes + field_bytes),
    }


def test_results_have_cloudwatch_shape(api_tables: EngineTables) -> None:
    """Rows are lists of field/value pairs in output order, @ptr last, values all strings."""
    result = run_query(
        'fields level, nosuch | filter trace_id = "t-2"',
        dialect="duckdb",
        connection=api_tables.duck,
        source=exp.to_table("exe.events"),
        options=OPTIONS,
    )
    assert result.fields == ["level", "nosuch", "@ptr"]
    (row,) = result.rows
    assert [item["field"] for item in row] == ["level", "@ptr"]
    assert all(isinstance(item["value"], str) for item in row)


def test_default_source_is_the_relation_named_events(api_tables: EngineTables) -> None:
    """Without a source, the query reads the relation named events."""
    result = run_query("stats count(*) as n", dialect="duckdb", connection=api_tables.duck, options=OPTIONS)
    assert result.records() == [{"n": str(len(ROWS))}]


def test_a_plan_runs_on_either_dialect(api_tables: EngineTables) -> None:
    """One plan renders and runs on both engines with the same rows."""
    plan = plan_query("fields level | sort @timestamp asc | limit 3", OPTIONS)
    rows = [
        run_plan(
            plan,
            dialect=name,
            connection=api_tables.connection(name),
            source=exp.to_table("exe.events"),
        ).rows
        for name in ("duckdb", "clickhouse")
    ]
    assert rows[0] == rows[1]
    assert len(rows[0]) == 3


def test_row_cap_is_at_most_the_maximum() -> None:
    """A caller's row cap above 100,000 is held at 100,000."""
    plan = plan_query("fields level", PlanOptions(limit=10**9))
    assert plan.limit == MAX_QUERY_LIMIT
    assert render_plan(plan, dialect_for("duckdb")).sql.endswith(f"LIMIT {MAX_QUERY_LIMIT}")


def test_unknown_dialect_is_named() -> None:
    """An unknown dialect name raises ValueError listing the known ones."""
    with pytest.raises(ValueError, match="clickhouse"):
        dialect_for("postgres")
