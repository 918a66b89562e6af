"""Alarms: PutMetricAlarm, DescribeAlarms, DeleteAlarms, DescribeAlarmHistory."""

from __future__ import annotations

import asyncio
from typing import Any

import orjson

from logpond.alerts.alarms import STATES
from logpond.model.errors import InvalidParameterError
from logpond.store.alerting import AlarmRecord
from logpond.store.base import decode_token, encode_token

from .protocol import Call, operation, timestamp_out

__all__: list[str] = []

# PutMetricAlarm members kept in the stored definition (everything the model defines as input).
_DEFINITION_MEMBERS = (
    "AlarmName",
    "AlarmDescription",
    "ActionsEnabled",
    "OKActions",
    "AlarmActions",
    "InsufficientDataActions",
    "MetricName",
    "Namespace",
    "Statistic",
    "ExtendedStatistic",
    "Dimensions",
    "Period",
    "Unit",
    "EvaluationPeriods",
    "DatapointsToAlarm",
    "Threshold",
    "ComparisonOperator",
    "TreatMissingData",
    "EvaluateLowSampleCountPercentile",
    "Metrics",
    "Tags",
    "ThresholdMetricId",
)


def _metric_alarm(call: Call, record: AlarmRecord) -> dict[str, Any]:
    definition = dict(record.definition)
    definition.pop("Tags", None)
    state = record.state
    out: dict[str, Any] = {
        "ActionsEnabled": True,
        "OKActions": [],
        "AlarmActions": [],
        "InsufficientDataActions": [],
        "TreatMissingData": "missing",
        **definition,
        "AlarmArn": call.svc.alerting.alarm_arn(record.name),
        "AlarmConfigurationUpdatedTimestamp": timestamp_out(record.updated_ms),
        "StateValue": state.get("value"),
        "StateReason": state.get("reason", ""),
        "StateUpdatedTimestamp": timestamp_out(state.get("updated_ms")),
        "StateTransitionedTimestamp": timestamp_out(state.get("updated_ms")),
    }
    if state.get("reason_data"):
        out["StateReasonData"] = orjson.dumps(state["reason_data"]).decode()
    return out


@operation("PutMetricAlarm")
async def put_metric_alarm(call: Call) -> dict[str, Any]:
    name = call.string("AlarmName", required=True)
    assert name is not None
    call.alarm(name)
    definition = {k: call.body[k] for k in _DEFINITION_MEMBERS if call.body.get(k) is not None}
    await asyncio.to_thread(call.svc.alerting.put_alarm, definition)
    return {}


@operation("DescribeAlarms")
async def describe_alarms(call: Call) -> dict[str, Any]:
    names = call.strings("AlarmNames")
    prefix = call.string("AlarmNamePrefix")
    state = call.string("StateValue", enum=STATES)
    action_prefix = call.string("ActionPrefix")
    types = call.strings("AlarmTypes")
    limit = call.integer("MaxRecords", minimum=1, maximum=100) or 50
    token = call.string("NextToken")
    after = decode_token(token) if token else None
    if names is not None and prefix is not None:
        raise InvalidParameterError(
            "AlarmNames and AlarmNamePrefix cannot be used together",
            cloudwatch_code="InvalidParameterCombination",
        )
    if types is not None and "MetricAlarm" not in types:
        return {"MetricAlarms": [], "CompositeAlarms": []}
    records = await asyncio.to_thread(call.svc.store.list_alarms)
    chosen = []
    for record in records:
        if names is not None and record.name not in names:
            continue
        if prefix is not None and not record.name.startswith(prefix):
            continue
        if state is not None and record.state.get("value") != state:
            continue
        if action_prefix is not None and not any(
            a.startswith(action_prefix)
            for key in ("OKActions", "AlarmActions", "InsufficientDataActions")
            for a in record.definition.get(key) or []
        ):
            continue
        if after is not None and record.name <= after:
            continue
        call.alarm(record.name)
        chosen.append(record)
    page = chosen[:limit]
    body: dict[str, Any] = {"MetricAlarms": [_metric_alarm(call, r) for r in page], "CompositeAlarms": []}
    if len(chosen) > limit:
        body["NextToken"] = encode_token(page[-1].name)
    return body


@operation("DeleteAlarms")
async def delete_alarms(call: Call) -> dict[str, Any]:
    names = call.strings("AlarmNames") or []
    for name in names:
        call.alarm(name)
    if names:
        await asyncio.to_thread(call.svc.alerting.delete_alarms, names)
    return {}


@operation("DescribeAlarmHistory")
async def describe_alarm_history(call: Call) -> dict[str, Any]:
    name = call.string("AlarmName")
    kind = call.string("HistoryItemType", enum=("ConfigurationUpdate", "StateUpdate", "Action"))
    start = call.timestamp("StartDate")
    end = call.timestamp("EndDate")
    types = call.strings("AlarmTypes")
    limit = call.integer("MaxRecords", minimum=1, maximum=100) or 100
    scan = call.string("ScanBy", enum=("TimestampDescending", "TimestampAscending")) or "TimestampDescending"
    token = call.string("NextToken")
    offset = int(decode_token(token)) if token else 0
    if name is not None:
        call.alarm(name)
    else:
        call.access.account()
    if types is not None and "MetricAlarm" not in types:
        return {"AlarmHistoryItems": []}
    items = await asyncio.to_thread(
        lambda: call.svc.store.alarm_history(
            name, kinds=[kind] if kind else [], start_ms=start, end_ms=end, limit=offset + limit + 1
        )
    )
    if scan == "TimestampAscending":
        items.reverse()
    page = items[offset : offset + limit]
    body: dict[str, Any] = {
        "AlarmHistoryItems": [
            {
                "AlarmName": i.alarm,
                "AlarmType": "MetricAlarm",
                "Timestamp": timestamp_out(i.ts_ms),
                "HistoryItemType": i.kind,
                "HistorySummary": i.summary,
                "HistoryData": orjson.dumps(i.data).decode(),
            }
            for i in page
        ]
    }
    if len(items) > offset + limit:
        body["NextToken"] = encode_token(offset + limit)
    return body
