"""The filter pattern case table, on DuckDB, on ClickHouse (chdb) and on the Arrow matcher."""

from __future__ import annotations

import re
from typing import Any

import pyarrow as pa
import pytest
import sqlglot
from sqlglot import exp

from logpond.model.errors import InvalidParameterError, MalformedQueryError
from logpond.query.filter_pattern import (
    MixedOptional,
    parse_filter_pattern,
    parse_metric_value,
)
from logpond.query.matcher import FilterPatternMatcher, json_members, match_messages
from logpond.query.sql.filter_pattern import filter_statement

from .querycases import (
    DIALECTS,
    EngineTables,
    event_batch,
    event_row,
    events_table,
    flatten,
    load_cases,
    source_for,
)

DATA = load_cases("filter_patterns.yaml")
NAMED: dict[str, Any] = DATA["events"]
CASES: list[dict[str, Any]] = DATA["cases"]
SUITE = "fp"


def _case_id(case: dict[str, Any]) -> str:
    if "spec" in case:
        return f"spec-{case['spec']:02d}"
    return re.sub(r"[^a-z0-9]+", "-", case["name"].lower()).strip("-")[:60]


def _options(case: dict[str, Any]) -> MixedOptional:
    value = case.get("options", {}).get("mixed_optional", "ignore")
    return MixedOptional(value)


MATCH_CASES = [c for c in CASES if "match" in c or "no_match" in c]
ERROR_CASES = [c for c in CASES if "error" in c]
PARSED_CASES = [c for c in CASES if "error" not in c]

# Every event of every case, grouped by case: (row, expected match).
EXPECTED: dict[str, list[tuple[dict[str, Any], bool]]] = {
    _case_id(case): [(event_row(e, NAMED), True) for e in flatten(case.get("match"))]
    + [(event_row(e, NAMED), False) for e in flatten(case.get("no_match"))]
    for case in MATCH_CASES
}


@pytest.fixture(scope="module")
def pattern_tables(engine_tables: EngineTables) -> EngineTables:
    """Every case's events in ``fp.events``, one group per case, on both engines."""
    rows = []
    for case_id, events in EXPECTED.items():
        for row, _ in events:
            rows.append({**row, "log_group": case_id})
    engine_tables.create(SUITE, events_table(rows))
    return engine_tables


def test_every_conformance_case_is_in_the_table() -> None:
    """The case table holds the 43 conformance cases of the spec, each once."""
    numbers = sorted(c["spec"] for c in CASES if "spec" in c)
    assert numbers == list(range(1, 44))


def test_case_ids_are_unique() -> None:
    """No two cases share an id, so a failure names exactly one case."""
    ids = [_case_id(c) for c in CASES]
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize("execution", ["arrow", "duckdb", "clickhouse"])
@pytest.mark.parametrize("case", MATCH_CASES, ids=_case_id)
def test_pattern_matches_expected_events(
    case: dict[str, Any], execution: str, pattern_tables: EngineTables
) -> None:
    """The pattern matches exactly the case's `match` events in this execution."""
    case_id = _case_id(case)
    pattern = parse_filter_pattern(case["pattern"])
    events = EXPECTED[case_id]
    expected = [wanted for _, wanted in events]
    if execution == "arrow":
        matcher = FilterPatternMatcher(pattern, mixed_optional=_options(case))
        got = matcher.mask(event_batch([row for row, _ in events])).to_pylist()
    else:
        dialect = DIALECTS[execution]
        rendered = filter_statement(
            pattern, dialect, source_for(SUITE, case_id), mixed_optional=_options(case)
        )
        table = dialect.run(pattern_tables.connection(execution), rendered)
        matched = set(table.column("seq").to_pylist())
        first = _first_seq(case_id)
        got = [first + index in matched for index in range(len(events))]
    assert got == expected


# Every selector any JSON case reads: what a metric filter hook reads once per batch when
# many filters share a group.
ALL_SELECTORS = list(
    {
        selector.path: selector
        for case in MATCH_CASES
        for selector in FilterPatternMatcher(case["pattern"]).selectors()
    }.values()
)


@pytest.mark.parametrize("case", MATCH_CASES, ids=_case_id)
def test_pattern_matches_the_same_over_members_read_for_many_patterns(case: dict[str, Any]) -> None:
    """Members read once for the selectors of every case give each pattern the same answer."""
    events = EXPECTED[_case_id(case)]
    batch = event_batch([row for row, _ in events])
    matcher = FilterPatternMatcher(parse_filter_pattern(case["pattern"]), mixed_optional=_options(case))
    shared = json_members(batch, ALL_SELECTORS)
    assert matcher.mask(batch, shared).to_pylist() == [wanted for _, wanted in events]


def _first_seq(case_id: str) -> int:
    seq = 1
    for other, events in EXPECTED.items():
        if other == case_id:
            return seq
        seq += len(events)
    raise KeyError(case_id)


@pytest.mark.parametrize("case", ERROR_CASES, ids=_case_id)
def test_bad_pattern_is_rejected_with_its_position(case: dict[str, Any]) -> None:
    """A malformed pattern raises InvalidParameterError pointing at the offending column."""
    with pytest.raises(InvalidParameterError) as caught:
        parse_filter_pattern(case["pattern"])
    assert not isinstance(caught.value, MalformedQueryError)
    expected = case["error"]
    assert caught.value.details["column"] == expected["column"]
    assert caught.value.details["line"] == expected.get("line", 1)


@pytest.mark.parametrize("case", PARSED_CASES, ids=_case_id)
def test_pattern_round_trips_through_canonical_text(case: dict[str, Any]) -> None:
    """Parsing the canonical text of a parsed pattern gives the same pattern."""
    pattern = parse_filter_pattern(case["pattern"])
    canonical = pattern.render()
    assert parse_filter_pattern(canonical) == pattern
    assert parse_filter_pattern(canonical).render() == canonical


@pytest.mark.parametrize("case", [c for c in CASES if "extract" in c], ids=_case_id)
def test_test_metric_filter_extracts_values(case: dict[str, Any]) -> None:
    """TestMetricFilter lists the matching message with the values the pattern extracts."""
    extract = case["extract"]
    message = NAMED.get(extract["message"], extract["message"])
    matches = match_messages(case["pattern"], ["no match here", message])
    assert [m.event_number for m in matches] == [2]
    assert matches[0].extracted_values == {k: str(v) for k, v in extract["values"].items()}


@pytest.mark.parametrize("case", [c for c in CASES if "metric" in c], ids=_case_id)
def test_metric_value_is_extracted_from_matching_event(case: dict[str, Any]) -> None:
    """The metric value's text is extracted from the event by the Arrow matcher."""
    metric = case["metric"]
    pattern = parse_filter_pattern(case["pattern"])
    value = parse_metric_value(metric["value"], pattern)
    matcher = FilterPatternMatcher(pattern)
    batch = event_batch([event_row(metric["event"], NAMED)])
    assert matcher.mask(batch).to_pylist() == [True]
    extracted = matcher.extract(batch, [value])
    assert extracted[value.key].to_pylist() == [metric["expect"]]
    if value.selector is not None:  # the same from members read once for many filters
        shared = json_members(batch, [*ALL_SELECTORS, value.selector])
        assert matcher.mask(batch, shared).to_pylist() == [True]
        assert matcher.extract(batch, [value], shared)[value.key].to_pylist() == [metric["expect"]]


def test_pattern_longer_than_1024_characters_is_rejected() -> None:
    """A pattern over CloudWatch's 1024-character limit is refused where the limit is passed."""
    with pytest.raises(InvalidParameterError) as caught:
        parse_filter_pattern("x" * 1025)
    assert caught.value.details["offset"] == 1024


def test_filter_statement_reads_the_events_relation_by_default() -> None:
    """Without a source, the statement reads the relation named events."""
    rendered = filter_statement(parse_filter_pattern("ERROR"), DIALECTS["duckdb"])
    tables = {table.name for table in sqlglot.parse_one(rendered.sql, read="duckdb").find_all(exp.Table)}
    assert tables == {"events"}
    # The term itself, and the forms it takes after an escaped control character ("\x0eRROR")
    assert "ERROR" in rendered.params.values()
    assert all(value.endswith("RROR") for value in rendered.params.values())


def test_user_text_reaches_sql_only_as_parameters() -> None:
    """Pattern text never appears in the SQL text; it travels as bound parameters."""
    pattern = parse_filter_pattern('{ $.a = "x\'; DROP TABLE t; --" }')
    for dialect in DIALECTS.values():
        rendered = filter_statement(pattern, dialect, exp.to_table("events"))
        assert "DROP" not in rendered.sql
        assert "x'; DROP TABLE t; --" in rendered.params.values()


def test_metric_value_must_name_a_column_of_the_pattern() -> None:
    """A $name metric value that is not a column of the pattern is refused."""
    pattern = parse_filter_pattern("[ip, user, bytes]")
    assert parse_metric_value("$bytes", pattern).column == "bytes"
    with pytest.raises(InvalidParameterError):
        parse_metric_value("$size", pattern)


def test_matcher_refuses_a_batch_without_event_columns() -> None:
    """A batch that lacks the event schema's columns is a programming error, said plainly."""
    matcher = FilterPatternMatcher("ERROR")
    with pytest.raises(ValueError, match="lacks event columns"):
        matcher.mask(pa.RecordBatch.from_pydict({"message": ["ERROR"]}))
