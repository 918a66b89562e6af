"""The link a notification carries: the logpond search, pre-filled with the events the
alarm's metric filters count and the alarm's time window.

The metric filters that produce the alarm's metrics give the log groups and the filter
patterns; a pattern becomes a Logs Insights ``filter`` where it can be said in one (JSON
comparisons joined by ``&&`` / ``||``, plain terms), else the search shows the groups'
events of the window.
"""

from __future__ import annotations

import json
from urllib.parse import urlencode

from logpond.model.errors import LogpondError
from logpond.query import parse_filter_pattern
from logpond.query.filter_pattern_ast import (
    JsonAnd,
    JsonCheck,
    JsonExpr,
    JsonOr,
    JsonPattern,
    MatchAll,
    PatternNumber,
    PatternString,
    TermKind,
    TermPattern,
)
from logpond.store.base import Store

from .alarms import AlarmSpec

__all__ = ["insights_filter", "search_link"]


def _field(path: tuple[str | int, ...]) -> str:
    parts = []
    for step in path:
        if isinstance(step, int):
            parts.append(f"[{step}]")
        else:
            text = step if step.replace("_", "").isalnum() else f"`{step}`"
            parts.append(("." if parts else "") + text)
    return "".join(parts)


def _json(expr: JsonExpr) -> str | None:
    if isinstance(expr, JsonAnd | JsonOr):
        inner = [_json(item) for item in expr.items]
        if any(i is None for i in inner):
            return None
        joiner = " and " if isinstance(expr, JsonAnd) else " or "
        return "(" + joiner.join(str(i) for i in inner) + ")"
    name = _field(expr.selector.path)
    if isinstance(expr, JsonCheck):
        return {"IS NULL": f"isblank({name})", "NOT EXISTS": f"not ispresent({name})"}.get(expr.check)
    value = expr.value
    if isinstance(value, PatternNumber):
        return f"{name} {'=' if expr.op == '=' else expr.op} {value.value:g}"
    if isinstance(value, PatternString) and expr.op in ("=", "!="):
        if value.text == "*":
            return f"ispresent({name})" if expr.op == "=" else f"not ispresent({name})"
        if value.has_wildcard:
            return None
        return f"{name} {expr.op} {json.dumps(value.text)}"
    return None


def insights_filter(pattern_text: str) -> str | None:
    """A Logs Insights filter expression equivalent to a filter pattern, when there is one."""
    try:
        pattern = parse_filter_pattern(pattern_text)
    except LogpondError:
        return None
    if isinstance(pattern, MatchAll):
        return None
    if isinstance(pattern, JsonPattern):
        return _json(pattern.expr)
    if isinstance(pattern, TermPattern):
        if any(t.kind is TermKind.REGEX or t.modifier for t in pattern.terms):
            return None
        return " and ".join(f"@message like {json.dumps(t.text)}" for t in pattern.terms) or None
    return None


def search_link(store: Store, public_url: str, spec: AlarmSpec, start_ms: int, end_ms: int) -> str | None:
    """The search URL for the alarm's events in [start, end); ``None`` without filters."""
    wanted = {(s.namespace, s.name) for s in spec.metric_series()}
    groups: list[str] = []
    filters: list[str] = []
    for metric_filter in store.list_metric_filters():
        for t in metric_filter.transformations:
            if (t.get("metricNamespace"), t.get("metricName")) in wanted:
                if metric_filter.group not in groups:
                    groups.append(metric_filter.group)
                expression = insights_filter(metric_filter.pattern)
                if expression is not None and expression not in filters:
                    filters.append(expression)
    if not groups:
        return None
    query = "fields @timestamp, @message"
    if filters:
        query += "\n| filter " + " or ".join(filters if len(filters) == 1 else [f"({f})" for f in filters])
    query += "\n| sort @timestamp desc\n| limit 200"
    params = [("g", g) for g in groups] + [
        ("q", query),
        ("from", str(start_ms)),
        ("to", str(end_ms)),
        ("tz", "utc"),
    ]
    return f"{public_url.rstrip('/')}/#/search?{urlencode(params)}"
