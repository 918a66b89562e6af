"""The query languages: Logs Insights and filter patterns, parsed, planned and run as SQL.

Insights: :func:`parse_query` (text -> AST), :func:`plan_query` (AST -> engine-neutral
:class:`Plan`), :func:`render_plan` (plan -> SQL for a :class:`Dialect`) and
:func:`run_query` (all of it, on a connection, rows in CloudWatch's shape).

Filter patterns: :func:`parse_filter_pattern`, then either SQL over the events relation
(:func:`filter_events`, :func:`filter_statement`) or the Arrow matcher for events as they
arrive (:class:`FilterPatternMatcher`, :func:`match_messages` for TestMetricFilter).
"""

from .execute import QueryResult, QueryStatistics, dialect_for, run_plan, run_query
from .filter_pattern import MAX_FILTER_PATTERN_CHARS, parse_filter_pattern, parse_metric_value
from .filter_pattern_ast import FilterPattern, MetricValue, MixedOptional
from .insights.ast import Query
from .insights.parser import MAX_QUERY_CHARS, parse_query
from .matcher import FilterPatternMatcher, MetricFilterMatch, match_messages, message_column
from .plan import DEFAULT_QUERY_LIMIT, MAX_QUERY_LIMIT, Plan, PlanOptions
from .planner import plan_query
from .record import decode_ptr, encode_ptr, format_timestamp, rebuild_message
from .sql.base import Dialect, RenderContext, Rendered, SourceFacts
from .sql.clickhouse import ClickHouseDialect
from .sql.duckdb import DuckDBDialect
from .sql.filter_pattern import filter_events, filter_statement
from .sql.render import render_plan, render_statistics

__all__ = [
    "DEFAULT_QUERY_LIMIT",
    "MAX_FILTER_PATTERN_CHARS",
    "MAX_QUERY_CHARS",
    "MAX_QUERY_LIMIT",
    "ClickHouseDialect",
    "Dialect",
    "DuckDBDialect",
    "FilterPattern",
    "FilterPatternMatcher",
    "MetricFilterMatch",
    "MetricValue",
    "MixedOptional",
    "Plan",
    "PlanOptions",
    "Query",
    "QueryResult",
    "QueryStatistics",
    "RenderContext",
    "Rendered",
    "SourceFacts",
    "decode_ptr",
    "dialect_for",
    "encode_ptr",
    "filter_events",
    "filter_statement",
    "format_timestamp",
    "match_messages",
    "message_column",
    "parse_filter_pattern",
    "parse_metric_value",
    "parse_query",
    "plan_query",
    "rebuild_message",
    "render_plan",
    "render_statistics",
    "run_plan",
    "run_query",
]
