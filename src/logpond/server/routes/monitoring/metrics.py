"""Metrics: GetMetricData (with metric math) and ListMetrics."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

from logpond.alerts.alarms import MetricQuery
from logpond.alerts.math import parse_expression
from logpond.alerts.statistics import check_period, parse_statistic
from logpond.model.errors import InvalidParameterError
from logpond.store.alerting import MetricSeries
from logpond.store.base import decode_token, encode_token

from .protocol import Call, operation

__all__: list[str] = []

MAX_QUERIES = 500
MAX_DATAPOINTS = 100_800


def _series(raw: object) -> MetricSeries:
    if (
        not isinstance(raw, Mapping)
        or not isinstance(raw.get("Namespace"), str)
        or not isinstance(raw.get("MetricName"), str)
    ):
        raise InvalidParameterError(
            "a Metric needs a Namespace and a MetricName", cloudwatch_code="MissingParameter"
        )
    dimensions = raw.get("Dimensions") or []
    if not isinstance(dimensions, list):
        raise InvalidParameterError("Dimensions must be a list")
    pairs = {}
    for item in dimensions:
        if not isinstance(item, Mapping) or not isinstance(item.get("Name"), str):
            raise InvalidParameterError("each dimension needs a Name and a Value")
        pairs[item["Name"]] = str(item.get("Value", ""))
    return MetricSeries(raw["Namespace"], raw["MetricName"], tuple(sorted(pairs.items())))


def _queries(raw: object) -> list[MetricQuery]:
    if not isinstance(raw, list) or not raw or len(raw) > MAX_QUERIES:
        raise InvalidParameterError(f"MetricDataQueries must list 1-{MAX_QUERIES} queries")
    out = []
    for item in raw:
        if not isinstance(item, Mapping) or not isinstance(item.get("Id"), str):
            raise InvalidParameterError(
                "each metric data query needs an Id", cloudwatch_code="MissingParameter"
            )
        label = item.get("Label")
        returned = item.get("ReturnData", True)
        stat = item.get("MetricStat")
        if (stat is None) == (item.get("Expression") is None):
            raise InvalidParameterError(
                "a metric data query needs exactly one of MetricStat and Expression",
                cloudwatch_code="InvalidParameterCombination",
            )
        if stat is not None:
            if not isinstance(stat, Mapping):
                raise InvalidParameterError("MetricStat must be an object")
            period = check_period(int(stat.get("Period") or 0))
            out.append(
                MetricQuery(
                    item["Id"],
                    bool(returned),
                    label,
                    _series(stat.get("Metric")),
                    parse_statistic(str(stat.get("Stat"))),
                    period,
                )
            )
        else:
            out.append(
                MetricQuery(
                    item["Id"], bool(returned), label, expression=parse_expression(item["Expression"])
                )
            )
    return out


def _label(query: MetricQuery) -> str:
    if query.label:
        return query.label
    if query.series is not None:
        return query.series.name
    return query.id


@operation("GetMetricData")
async def get_metric_data(call: Call) -> dict[str, Any]:
    call.access.account()
    queries = _queries(call.body.get("MetricDataQueries"))
    start = call.timestamp("StartTime", required=True)
    end = call.timestamp("EndTime", required=True)
    assert start is not None
    assert end is not None
    if end <= start:
        raise InvalidParameterError("EndTime must be after StartTime")
    scan = call.string("ScanBy", enum=("TimestampDescending", "TimestampAscending")) or "TimestampDescending"
    limit = call.integer("MaxDatapoints", minimum=1, maximum=MAX_DATAPOINTS) or MAX_DATAPOINTS
    periods = [q.period for q in queries if q.period is not None]
    if not periods:
        raise InvalidParameterError("at least one query must read a metric (MetricStat)")
    data, _ = await asyncio.to_thread(call.svc.alerting.series, queries, start, end, min(periods))
    results = []
    for query in queries:
        if not query.return_data:
            continue
        points = sorted(data[query.id].items(), reverse=scan == "TimestampDescending")[:limit]
        results.append(
            {
                "Id": query.id,
                "Label": _label(query),
                "Timestamps": [t / 1000 for t, _ in points],
                "Values": [v for _, v in points],
                "StatusCode": "Complete",
            }
        )
    return {"MetricDataResults": results, "Messages": []}


@operation("ListMetrics")
async def list_metrics(call: Call) -> dict[str, Any]:
    call.access.account()
    namespace = call.string("Namespace")
    name = call.string("MetricName")
    wanted = call.body.get("Dimensions") or []
    if not isinstance(wanted, list):
        raise InvalidParameterError("Dimensions must be a list")
    token = call.string("NextToken")
    after = decode_token(token) if token else None
    await asyncio.to_thread(call.svc.alerting.hook.flush)
    found = await asyncio.to_thread(call.svc.store.list_metrics, namespace, name)
    chosen = []
    for index, series in enumerate(found):
        dims = dict(series.dimensions)
        ok = all(
            isinstance(w, Mapping)
            and w.get("Name") in dims
            and ("Value" not in w or dims[w["Name"]] == w["Value"])
            for w in wanted
        )
        if ok and (after is None or index > after):
            chosen.append((index, series))
    page = chosen[:500]
    body: dict[str, Any] = {
        "Metrics": [
            {
                "Namespace": s.namespace,
                "MetricName": s.name,
                "Dimensions": [{"Name": k, "Value": v} for k, v in s.dimensions],
            }
            for _, s in page
        ]
    }
    if len(chosen) > len(page):
        body["NextToken"] = encode_token(page[-1][0])
    return body
