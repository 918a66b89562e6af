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
    render_statistics,
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


# One query per way of knowing how many events matched: no filter (all scanned), stats right
# after the filters (carried in the result), every match returned, a limit that cuts (a
# counting statement), and steps after the first limit or stats.
MATCHED_SHAPES = [
    "fields level",
    "stats count(*) by tenant_id",
    'filter level = "error" | stats count(*) as n by tenant_id | sort n desc | limit 1',
    'filter level = "error" | stats count(*) as n by service | filter n > 100',
    'filter level = "error" | fields trace_id',
    'filter level = "error" | sort @timestamp desc | limit 2',
    'filter level = "error" | limit 50',
    'filter level = "error" | limit 5',
    "filter status >= 400 | dedup tenant_id",
    "filter status >= 400 | stats count(*) as n by tenant_id | stats sum(n)",
    'parse @message "HTTP *" as what | filter ispresent(what) | limit 1',
]


@pytest.mark.parametrize("engine", ["duckdb", "clickhouse"])
@pytest.mark.parametrize("query", MATCHED_SHAPES)
def test_matched_count_is_the_same_however_it_is_found(
    engine: str, query: str, api_tables: EngineTables
) -> None:
    """Whichever way run_plan learns the matched count, it equals a full count of matches."""
    plan = plan_query(query, PlanOptions(now_ms=OPTIONS.now_ms, limit=3))
    connection = api_tables.connection(engine)
    source = exp.to_table("exe.events")
    result = run_plan(plan, dialect=engine, connection=connection, source=source, statistics=True)
    full = dialect_for(engine).run(connection, render_statistics(plan, dialect_for(engine), source))
    counts = full.to_pylist()[0]
    assert result.statistics.records_matched == counts["matched"]
    assert result.statistics.records_scanned == counts["scanned"]
    assert result.statistics.bytes_scanned == counts["bytes"]


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
