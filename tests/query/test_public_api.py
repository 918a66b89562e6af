"""The query package's public names."""

from __future__ import annotations

import inspect

import logpond.query

EXPECTED = {
    "DEFAULT_QUERY_LIMIT", "MAX_FILTER_PATTERN_CHARS", "MAX_QUERY_CHARS", "MAX_QUERY_LIMIT",
    "ClickHouseDialect", "Dialect", "DuckDBDialect", "FilterPattern", "FilterPatternMatcher",
    "MetricFilterMatch", "MetricValue", "MixedOptional", "Plan", "PlanOptions", "Query",
    "QueryResult", "QueryStatistics", "RenderContext", "Rendered", "SourceFacts", "decode_ptr",
    "dialect_for",
    "encode_ptr", "filter_events", "filter_statement", "format_timestamp", "match_messages",
    "message_column", "parse_filter_pattern", "parse_metric_value", "parse_query", "plan_query",
    "rebuild_message", "render_plan", "render_statistics", "run_plan", "run_query",
}  # fmt: skip


def test_exported_names_are_the_public_api() -> None:
    """__all__ lists exactly the public names, and each of them exists."""
    assert set(logpond.query.__all__) == EXPECTED
    assert all(hasattr(logpond.query, name) for name in EXPECTED)


def test_exported_functions_and_classes_are_documented() -> None:
    """Every exported function and class has a docstring."""
    undocumented = [
        name
        for name in EXPECTED
        if (inspect.isfunction(obj := getattr(logpond.query, name)) or inspect.isclass(obj))
        and not inspect.getdoc(obj)
    ]
    assert undocumented == []
