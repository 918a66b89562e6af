"""Alarms: their definition (CloudWatch's PutMetricAlarm shape), checked and compiled, and
the rule that turns the values of the last periods into a state.

The stored definition is the CloudWatch shape (``AlarmName``, ``MetricName``, ``Metrics``,
``EvaluationPeriods``, ...), whichever surface created it: ``DescribeAlarms`` returns it as
given, the native API and the config file translate to it (:func:`definition_from_native`).
:func:`compile_alarm` checks a definition and gives an :class:`AlarmSpec`;
:func:`decide` is the evaluation model of ``docs/alerts.md``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from logpond.model.errors import InvalidParameterError
from logpond.store.alerting import MetricSeries

from .math import Expression, parse_expression
from .statistics import Statistic, check_period, parse_statistic

__all__ = [
    "ALARM",
    "COMPARISONS",
    "INSUFFICIENT_DATA",
    "OK",
    "STATES",
    "TREAT_MISSING",
    "AlarmSpec",
    "Decision",
    "MetricQuery",
    "compile_alarm",
    "decide",
    "definition_from_native",
    "definition_to_native",
    "initial_state",
]

OK, ALARM, INSUFFICIENT_DATA = "OK", "ALARM", "INSUFFICIENT_DATA"
STATES = (OK, ALARM, INSUFFICIENT_DATA)
COMPARISONS = {
    "GreaterThanOrEqualToThreshold": (">=", "greater than or equal to"),
    "GreaterThanThreshold": (">", "greater than"),
    "LessThanThreshold": ("<", "less than"),
    "LessThanOrEqualToThreshold": ("<=", "less than or equal to"),
}
TREAT_MISSING = ("missing", "notBreaching", "breaching", "ignore")
_ID_RE = re.compile(r"[a-z][a-zA-Z0-9_]*")
_ACTION_KEYS = {OK: "OKActions", ALARM: "AlarmActions", INSUFFICIENT_DATA: "InsufficientDataActions"}
MAX_ACTIONS = 5
MAX_EVALUATION_RANGE = 1440  # periods x evaluation periods, in minutes: one day of datapoints


@dataclass(frozen=True, slots=True)
class MetricQuery:
    """One query of an alarm: a metric with a statistic and period, or an expression."""

    id: str
    return_data: bool
    label: str | None = None
    series: MetricSeries | None = None
    statistic: Statistic | None = None
    period: int | None = None
    expression: Expression | None = None


@dataclass(frozen=True, slots=True)
class AlarmSpec:
    """A checked alarm definition, ready to evaluate."""

    name: str
    description: str
    queries: tuple[MetricQuery, ...]
    result_id: str
    period: int
    evaluation_periods: int
    datapoints_to_alarm: int
    threshold: float
    comparison: str
    treat_missing: str
    actions_enabled: bool
    actions: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def single_metric(self) -> bool:
        return len(self.queries) == 1 and self.queries[0].expression is None

    def breaches(self, value: float) -> bool:
        op = COMPARISONS[self.comparison][0]
        if op == ">=":
            return value >= self.threshold
        if op == ">":
            return value > self.threshold
        if op == "<":
            return value < self.threshold
        return value <= self.threshold

    def metric_series(self) -> list[MetricSeries]:
        return [q.series for q in self.queries if q.series is not None]


def _invalid(message: str, **details: Any) -> InvalidParameterError:
    return InvalidParameterError(message, **details)


def _string(d: Mapping[str, Any], key: str, *, required: bool = False, max_len: int = 255) -> str | None:
    value = d.get(key)
    if value is None:
        if required:
            raise _invalid(f"{key} is required", member=key)
        return None
    if not isinstance(value, str) or not 1 <= len(value) <= max_len:
        raise _invalid(f"{key} must be a string of 1-{max_len} characters", member=key)
    return value


def _integer(d: Mapping[str, Any], key: str, *, required: bool = False, minimum: int = 1) -> int | None:
    value = d.get(key)
    if value is None:
        if required:
            raise _invalid(f"{key} is required", member=key)
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise _invalid(f"{key} must be an integer of at least {minimum}", member=key)
    return value


def _dimensions(raw: object, where: str) -> tuple[tuple[str, str], ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list) or len(raw) > 30:
        raise _invalid(f"{where} must be a list of at most 30 dimensions", member=where)
    out: dict[str, str] = {}
    for item in raw:
        if (
            not isinstance(item, Mapping)
            or not isinstance(item.get("Name"), str)
            or not isinstance(item.get("Value"), str)
        ):
            raise _invalid(f"each of {where} needs a Name and a Value", member=where)
        out[item["Name"]] = item["Value"]
    return tuple(sorted(out.items()))


def _metric(raw: object, where: str) -> MetricSeries:
    if not isinstance(raw, Mapping):
        raise _invalid(f"{where} must be an object", member=where)
    namespace = _string(raw, "Namespace", required=True)
    name = _string(raw, "MetricName", required=True)
    assert namespace is not None
    assert name is not None
    return MetricSeries(namespace, name, _dimensions(raw.get("Dimensions"), f"{where}.Dimensions"))


def _actions(d: Mapping[str, Any]) -> dict[str, tuple[str, ...]]:
    out: dict[str, tuple[str, ...]] = {}
    for state, key in _ACTION_KEYS.items():
        raw = d.get(key) or []
        if not isinstance(raw, list) or not all(isinstance(a, str) and a for a in raw):
            raise _invalid(f"{key} must be a list of action names or ARNs", member=key)
        if len(raw) > MAX_ACTIONS:
            raise _invalid(f"{key} has more than {MAX_ACTIONS} actions", member=key)
        out[state] = tuple(raw)
    return out


def _queries(raw: object) -> tuple[tuple[MetricQuery, ...], str, int]:
    if not isinstance(raw, list) or not raw or len(raw) > 10:
        raise _invalid("Metrics must list 1-10 metric queries", member="Metrics")
    queries: list[MetricQuery] = []
    periods: set[int] = set()
    for index, item in enumerate(raw, start=1):
        where = f"Metrics.member.{index}"
        if not isinstance(item, Mapping):
            raise _invalid(f"{where} must be an object", member=where)
        query_id = _string(item, "Id", required=True)
        assert query_id is not None
        if not _ID_RE.fullmatch(query_id):
            raise _invalid(
                "a metric query Id starts with a lower-case letter, then letters, digits or _",
                member=f"{where}.Id",
                id=query_id,
            )
        return_data = item.get("ReturnData", True)
        if not isinstance(return_data, bool):
            raise _invalid(f"{where}.ReturnData must be true or false", member=where)
        label = _string(item, "Label", max_len=1024)
        stat, expression = item.get("MetricStat"), item.get("Expression")
        if (stat is None) == (expression is None):
            raise _invalid(f"{where} needs exactly one of MetricStat and Expression", member=where)
        if stat is not None:
            if not isinstance(stat, Mapping):
                raise _invalid(f"{where}.MetricStat must be an object", member=where)
            period = check_period(_integer(stat, "Period", required=True) or 0)
            name = _string(stat, "Stat", required=True)
            assert name is not None
            periods.add(period)
            queries.append(
                MetricQuery(
                    query_id,
                    return_data,
                    label,
                    _metric(stat.get("Metric"), f"{where}.MetricStat.Metric"),
                    parse_statistic(name),
                    period,
                )
            )
        else:
            if not isinstance(expression, str):
                raise _invalid(f"{where}.Expression must be a string", member=where)
            expression_period = _integer(item, "Period")
            if expression_period is not None:
                periods.add(check_period(expression_period))
            queries.append(MetricQuery(query_id, return_data, label, expression=parse_expression(expression)))
    ids = [q.id for q in queries]
    if len(set(ids)) != len(ids):
        raise _invalid("metric query Ids must be unique", member="Metrics")
    returned = [q for q in queries if q.return_data]
    if len(returned) != 1:
        raise _invalid("exactly one metric query must have ReturnData true", member="Metrics")
    known = set(ids)
    for query in queries:
        if query.expression is not None:
            unknown = sorted(query.expression.ids - known - {"*"})
            if unknown:
                raise _invalid("the expression names an unknown metric query Id", id=unknown[0])
            if query.id in query.expression.ids:
                raise _invalid("an expression cannot read itself", id=query.id)
    if len(periods) != 1:
        raise _invalid("the metric queries of an alarm must share one period", member="Metrics")
    return tuple(queries), returned[0].id, periods.pop()


def compile_alarm(definition: Mapping[str, Any]) -> AlarmSpec:
    """Check a definition in CloudWatch's shape; errors name the member at fault."""
    name = _string(definition, "AlarmName", required=True)
    assert name is not None
    description = _string(definition, "AlarmDescription", max_len=1024) or ""
    if "ThresholdMetricId" in definition:
        raise _invalid(
            "anomaly detection bands (ThresholdMetricId) are not supported", member="ThresholdMetricId"
        )
    single = any(
        k in definition for k in ("MetricName", "Namespace", "Statistic", "ExtendedStatistic", "Period")
    )
    if single and "Metrics" in definition:
        raise _invalid(
            "give either MetricName/Namespace/Statistic/Period or Metrics, not both", member="Metrics"
        )
    if "Metrics" in definition:
        queries, result_id, period = _queries(definition["Metrics"])
    else:
        series = _metric(definition, "Metric")
        statistic = definition.get("Statistic")
        extended = definition.get("ExtendedStatistic")
        if (statistic is None) == (extended is None):
            raise _invalid("give exactly one of Statistic and ExtendedStatistic", member="Statistic")
        if statistic is not None and statistic not in ("SampleCount", "Average", "Sum", "Minimum", "Maximum"):
            raise _invalid(
                "Statistic must be SampleCount, Average, Sum, Minimum or Maximum", member="Statistic"
            )
        stat = parse_statistic(str(statistic if statistic is not None else extended))
        if extended is not None and stat.percentile is None:
            raise _invalid("ExtendedStatistic must be a percentile such as p99", member="ExtendedStatistic")
        period = check_period(_integer(definition, "Period", required=True) or 0)
        queries, result_id = (MetricQuery("m1", True, None, series, stat, period),), "m1"
    evaluation_periods = _integer(definition, "EvaluationPeriods", required=True)
    assert evaluation_periods is not None
    datapoints = _integer(definition, "DatapointsToAlarm") or evaluation_periods
    if datapoints > evaluation_periods:
        raise _invalid("DatapointsToAlarm cannot exceed EvaluationPeriods", member="DatapointsToAlarm")
    if evaluation_periods * period // 60 > MAX_EVALUATION_RANGE:
        raise _invalid("Period x EvaluationPeriods must be at most one day", member="EvaluationPeriods")
    threshold = definition.get("Threshold")
    if isinstance(threshold, bool) or not isinstance(threshold, int | float):
        raise _invalid("Threshold is required and must be a number", member="Threshold")
    comparison = definition.get("ComparisonOperator")
    if comparison not in COMPARISONS:
        raise _invalid(
            "ComparisonOperator must be one of " + ", ".join(COMPARISONS), member="ComparisonOperator"
        )
    treat = definition.get("TreatMissingData", "missing")
    if treat not in TREAT_MISSING:
        raise _invalid(
            "TreatMissingData must be one of " + ", ".join(TREAT_MISSING), member="TreatMissingData"
        )
    enabled = definition.get("ActionsEnabled", True)
    if not isinstance(enabled, bool):
        raise _invalid("ActionsEnabled must be true or false", member="ActionsEnabled")
    return AlarmSpec(
        name,
        description,
        queries,
        result_id,
        period,
        evaluation_periods,
        datapoints,
        float(threshold),
        str(comparison),
        str(treat),
        enabled,
        _actions(definition),
    )


def initial_state(now_ms: int) -> dict[str, Any]:
    """The state of a new alarm."""
    return {
        "value": INSUFFICIENT_DATA,
        "reason": "Unchecked: Initial alarm creation",
        "reason_data": {},
        "updated_ms": now_ms,
        "evaluated_ms": None,
    }


# --- native shape <-> CloudWatch shape ------------------------------------------------------

_NATIVE_KEYS = {
    "description": "AlarmDescription",
    "namespace": "Namespace",
    "metric_name": "MetricName",
    "statistic": "Statistic",
    "extended_statistic": "ExtendedStatistic",
    "period": "Period",
    "unit": "Unit",
    "evaluation_periods": "EvaluationPeriods",
    "datapoints_to_alarm": "DatapointsToAlarm",
    "threshold": "Threshold",
    "comparison": "ComparisonOperator",
    "treat_missing_data": "TreatMissingData",
    "actions_enabled": "ActionsEnabled",
    "alarm_actions": "AlarmActions",
    "ok_actions": "OKActions",
    "insufficient_data_actions": "InsufficientDataActions",
}
_COMPARISON_SYMBOLS = {
    ">": "GreaterThanThreshold",
    ">=": "GreaterThanOrEqualToThreshold",
    "<": "LessThanThreshold",
    "<=": "LessThanOrEqualToThreshold",
}


def _native_dimensions(raw: object) -> list[dict[str, str]]:
    if raw is None:
        return []
    if not isinstance(raw, Mapping):
        raise _invalid("dimensions must be a map of name to value")
    return [{"Name": str(k), "Value": str(v)} for k, v in raw.items()]


def definition_from_native(name: str, native: Mapping[str, Any]) -> dict[str, Any]:
    """The CloudWatch shape of an alarm written the native way (snake_case, see docs/alerts.md).

    ``comparison`` also takes ``>``, ``>=``, ``<``, ``<=``; ``dimensions`` is a map;
    ``metrics`` lists ``{id, expression}`` or ``{id, namespace, metric_name, dimensions,
    statistic, period}`` queries, ``return_data`` defaulting to true for the expression (or
    the only query) and false for the others.
    """
    known = {*_NATIVE_KEYS, "dimensions", "metrics", "name"}
    unknown = sorted(set(native) - known)
    if unknown:
        raise _invalid("unknown alarm setting", setting=unknown[0])
    out: dict[str, Any] = {"AlarmName": name}
    for key, target in _NATIVE_KEYS.items():
        if key in native and native[key] is not None:
            out[target] = native[key]
    if isinstance(out.get("ComparisonOperator"), str):
        out["ComparisonOperator"] = _COMPARISON_SYMBOLS.get(
            out["ComparisonOperator"], out["ComparisonOperator"]
        )
    if "dimensions" in native:
        out["Dimensions"] = _native_dimensions(native["dimensions"])
    metrics = native.get("metrics")
    if metrics is not None:
        if not isinstance(metrics, list):
            raise _invalid("metrics must be a list")
        expressions = [m for m in metrics if isinstance(m, Mapping) and "expression" in m]
        queries = []
        for item in metrics:
            if not isinstance(item, Mapping):
                raise _invalid("each of metrics must be a map")
            extra = sorted(
                set(item)
                - {
                    "id",
                    "expression",
                    "label",
                    "return_data",
                    "namespace",
                    "metric_name",
                    "dimensions",
                    "statistic",
                    "period",
                }
            )
            if extra:
                raise _invalid("unknown metric query setting", setting=extra[0])
            default_return = item in expressions[-1:] if expressions else len(metrics) == 1
            query: dict[str, Any] = {
                "Id": item.get("id"),
                "ReturnData": item.get("return_data", default_return),
            }
            if item.get("label") is not None:
                query["Label"] = item["label"]
            if "expression" in item:
                query["Expression"] = item["expression"]
                if item.get("period") is not None:
                    query["Period"] = item["period"]
            else:
                query["MetricStat"] = {
                    "Metric": {
                        "Namespace": item.get("namespace"),
                        "MetricName": item.get("metric_name"),
                        "Dimensions": _native_dimensions(item.get("dimensions")),
                    },
                    "Period": item.get("period", native.get("period")),
                    "Stat": item.get("statistic", "Sum"),
                }
            queries.append(query)
        out["Metrics"] = queries
        out.pop("Period", None)
    return out


def definition_to_native(definition: Mapping[str, Any]) -> dict[str, Any]:
    """The native shape of a stored definition (for the native API and the CLI)."""
    reverse = {v: k for k, v in _NATIVE_KEYS.items()}
    out: dict[str, Any] = {"name": definition.get("AlarmName")}
    for key, value in definition.items():
        if key in reverse:
            out[reverse[key]] = value
    if definition.get("Dimensions"):
        out["dimensions"] = {d["Name"]: d["Value"] for d in definition["Dimensions"]}
    if "Metrics" in definition:
        metrics = []
        for query in definition["Metrics"]:
            item: dict[str, Any] = {"id": query["Id"], "return_data": query.get("ReturnData", True)}
            if query.get("Label"):
                item["label"] = query["Label"]
            if "Expression" in query:
                item["expression"] = query["Expression"]
            else:
                stat = query["MetricStat"]
                metric = stat["Metric"]
                item.update(
                    namespace=metric["Namespace"],
                    metric_name=metric["MetricName"],
                    statistic=stat["Stat"],
                    period=stat["Period"],
                )
                if metric.get("Dimensions"):
                    item["dimensions"] = {d["Name"]: d["Value"] for d in metric["Dimensions"]}
            metrics.append(item)
        out["metrics"] = metrics
    return out


# --- evaluation --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Decision:
    """The outcome of one evaluation: the state to be in, why, and the values looked at."""

    state: str
    reason: str
    reason_data: dict[str, Any]
    value: float | None


def _format_value(value: float) -> str:
    return repr(float(value))


def _stamp(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%d/%m/%y %H:%M:%S")


def decide(
    spec: AlarmSpec, points: Sequence[tuple[int, float | None]], current: str, now_ms: int
) -> Decision:
    """The state after looking at ``points``: (bucket start, value or None) for the last 2N
    periods, oldest first; the last N are the evaluation window, the N before them the
    range ``ignore`` and ``missing`` look back into. ``current`` is the state now."""
    n, m = spec.evaluation_periods, spec.datapoints_to_alarm
    window = list(points[-n:])
    lookback = list(points[:-n])
    words = COMPARISONS[spec.comparison][1]
    present = [(t, v) for t, v in window if v is not None]
    latest = present[-1][1] if present else None
    data: dict[str, Any] = {
        "version": "1.0",
        "queryDate": datetime.fromtimestamp(now_ms / 1000, tz=UTC).isoformat(timespec="milliseconds"),
        "startDate": datetime.fromtimestamp(window[0][0] / 1000, tz=UTC).isoformat(timespec="milliseconds"),
        "period": spec.period,
        "threshold": spec.threshold,
        "evaluatedDatapoints": [
            {"timestamp": datetime.fromtimestamp(t / 1000, tz=UTC).isoformat(timespec="seconds"), "value": v}
            for t, v in reversed(window)
            if v is not None
        ],
        "recentDatapoints": [v for _, v in present],
    }
    if spec.single_metric and spec.queries[0].statistic is not None:
        data["statistic"] = spec.queries[0].statistic.name
    if spec.treat_missing in ("breaching", "notBreaching"):
        assume = spec.treat_missing == "breaching"
        flags = [spec.breaches(v) if v is not None else assume for _, v in window]
        breaching = sum(flags)
        state = ALARM if breaching >= m else OK
        return Decision(state, _threshold_reason(spec, window, breaching, state, words), data, latest)
    if not present:
        older = [v for _, v in lookback if v is not None]
        if spec.treat_missing == "missing" and not older:
            noun = "datapoint was" if n == 1 else "datapoints were"
            reason = f"Insufficient Data: {n} {noun} unknown."
            return Decision(INSUFFICIENT_DATA, reason, data, None)
        return Decision(current, "", data, None)
    real = list(present)
    for t, v in reversed(lookback):
        if len(real) >= n:
            break
        if v is not None:
            real.insert(0, (t, v))
    real = real[-n:]
    breaching = sum(1 for _, v in real if v is not None and spec.breaches(v))
    if breaching >= m:
        return Decision(ALARM, _threshold_reason(spec, real, breaching, ALARM, words), data, latest)
    if breaching + (n - len(real)) < m:
        return Decision(OK, _threshold_reason(spec, real, breaching, OK, words), data, latest)
    return Decision(current, "", data, latest)


def _threshold_reason(
    spec: AlarmSpec, window: Sequence[tuple[int, float | None]], breaching: int, state: str, words: str
) -> str:
    shown = ", ".join(f"{_format_value(v)} ({_stamp(t)})" for t, v in reversed(window) if v is not None)
    total = len(window)
    if state == ALARM:
        verb = "was" if breaching == 1 else "were"
        return (
            f"Threshold Crossed: {breaching} out of the last {total} datapoints [{shown}] {verb} {words} "
            f"the threshold ({_format_value(spec.threshold)}) (minimum {spec.datapoints_to_alarm} "
            f"datapoint{'s' if spec.datapoints_to_alarm != 1 else ''} for OK -> ALARM transition)."
        )
    return (
        f"Threshold Crossed: {total - breaching} out of the last {total} datapoints [{shown}] "
        f"{'was' if total - breaching == 1 else 'were'} not {words} the threshold "
        f"({_format_value(spec.threshold)}) (minimum {max(1, total - spec.datapoints_to_alarm + 1)} "
        f"datapoint{'s' if total - spec.datapoints_to_alarm + 1 != 1 else ''} for ALARM -> OK transition)."
    )
