"""The Logs Insights case table, on DuckDB and on ClickHouse (chdb)."""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

import pytest
from sqlglot import exp

from logpond.model.errors import AccessDeniedError, MalformedQueryError
from logpond.query.execute import run_query
from logpond.query.insights.functions import FUNCTIONS
from logpond.query.insights.parser import parse_query
from logpond.query.plan import PlanOptions
from logpond.query.planner import plan_query

from .querycases import EngineTables, event_row, events_table, load_cases

DATA = load_cases("insights.yaml")
DATASETS: dict[str, list[Any]] = DATA["datasets"]
CASES: list[dict[str, Any]] = DATA["cases"]
NOW_MS = 1_706_097_600_000  # 2024-01-24 12:00:00 UTC
ACCOUNT = "123456789012"

SOURCE_STORY = (
    "fields @timestamp, @message, trace_id, tenant_id"
    ' | filter level = "error" | sort @timestamp desc | limit 100',
    'fields @timestamp, @message, level | filter trace_id = "abc-123-def" | sort @timestamp asc',
    "fields @timestamp, method, path, duration_ms"
    " | filter duration_ms > 500 | sort duration_ms desc | limit 50",
    'fields tenant_id | filter level = "error"'
    " | stats count() as error_count by tenant_id | sort error_count desc",
    "fields @timestamp, method, path, status, trace_id"
    " | filter status >= 500 | sort @timestamp desc | limit 100",
)


def _case_id(case: dict[str, Any]) -> str:
    return re.sub(r"[^a-z0-9]+", "-", case["name"].lower()).strip("-")[:70]


RUN_CASES = [c for c in CASES if "error" not in c]
ERROR_CASES = [c for c in CASES if "error" in c]


def _options(case: dict[str, Any]) -> PlanOptions:
    settings = case.get("options", {})
    return PlanOptions(
        limit=settings.get("limit", 10_000),
        account_id=ACCOUNT,
        allow_unmask=settings.get("allow_unmask", False),
        now_ms=NOW_MS,
    )


@pytest.fixture(scope="module")
def insights_tables(engine_tables: EngineTables) -> EngineTables:
    """Each dataset as ``ins_<name>.events`` on both engines."""
    for name, events in DATASETS.items():
        rows = [event_row(e) for e in events]
        engine_tables.create(f"ins_{name}", events_table(rows))
    return engine_tables


def test_there_are_at_least_150_cases() -> None:
    """The case table holds at least 150 Insights cases."""
    assert len(CASES) >= 150


def test_case_ids_are_unique() -> None:
    """No two cases share an id, so a failure names exactly one case."""
    ids = [_case_id(c) for c in CASES]
    assert [i for i, n in Counter(ids).items() if n > 1] == []


def test_source_story_queries_are_cases_verbatim() -> None:
    """The five saved queries of the source story are cases, character for character."""
    queries = {c["query"] for c in CASES}
    assert all(q in queries for q in SOURCE_STORY)


def test_every_function_and_aggregation_has_a_case() -> None:
    """Every function of the language appears in at least one query that runs."""
    text = " ".join(c["query"] for c in RUN_CASES)
    missing = [f.name for f in FUNCTIONS.values() if not re.search(rf"\b{f.name}\(", text)]
    assert missing == []


@pytest.mark.parametrize("engine", ["duckdb", "clickhouse"])
@pytest.mark.parametrize("case", RUN_CASES, ids=_case_id)
def test_query_returns_expected_rows(
    case: dict[str, Any], engine: str, insights_tables: EngineTables
) -> None:
    """The query returns exactly the case's rows (and columns) on this engine."""
    dataset = case.get("dataset", "api")
    result = run_query(
        case["query"],
        dialect=engine,
        connection=insights_tables.connection(engine),
        source=exp.to_table(f"ins_{dataset}.events"),
        options=_options(case),
    )
    rows = [{k: v for k, v in r.items() if k != "@ptr"} for r in result.records()]
    expected = [{str(k): str(v) for k, v in row.items()} for row in case["rows"]]
    if case.get("unordered"):
        assert sorted(map(repr, rows)) == sorted(map(repr, expected))
    else:
        assert rows == expected
    if "fields" in case:
        assert result.fields == case["fields"]


@pytest.mark.parametrize("case", ERROR_CASES, ids=_case_id)
def test_bad_query_is_rejected_where_it_is_wrong(case: dict[str, Any]) -> None:
    """A malformed query raises MalformedQueryError at the expected line and column."""
    expected = case["error"]
    if expected.get("type") == "access_denied":
        with pytest.raises(AccessDeniedError):
            plan_query(case["query"], _options(case))
        return
    with pytest.raises(MalformedQueryError) as caught:
        plan_query(case["query"], _options(case))
    error = caught.value
    assert (error.line, error.column) == (expected.get("line", 1), expected["column"])
    assert error.end_offset >= error.offset
    assert error.snippet


@pytest.mark.parametrize("case", CASES, ids=_case_id)
def test_query_round_trips_through_canonical_text(case: dict[str, Any]) -> None:
    """Parsing the canonical text of a parsed query gives the same query."""
    try:
        query = parse_query(case["query"])
    except MalformedQueryError:
        assert "error" in case
        return
    canonical = query.render()
    again = parse_query(canonical)
    assert again == query
    assert again.render() == canonical
