"""Alerting over the native API: metric filters, metrics, alarms, channels.

Metric filters use CloudWatch Logs' actions on their group (``logs:PutMetricFilter``, ...);
metrics and alarms CloudWatch's (``cloudwatch:PutMetricAlarm`` on the alarm's ARN, ...);
channels and test notifications logpond's own. Channel secrets are write-only.
"""

from __future__ import annotations

import asyncio
import time
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Query

from logpond.alerts.alarms import STATES, compile_alarm, definition_from_native, definition_to_native
from logpond.alerts.alarms import MetricQuery as AlarmQuery
from logpond.alerts.channels import channel_view
from logpond.alerts.links import search_link
from logpond.alerts.metric_filters import metric_filter_from_native, metric_filter_to_native
from logpond.alerts.statistics import check_period, parse_statistic
from logpond.auth.policy import authorize, is_allowed
from logpond.model.errors import InvalidParameterError
from logpond.model.timestamps import format_iso, parse_timestamp
from logpond.store.alerting import AlarmRecord, MetricSeries, NotificationStatus

from ..access import Access, require, services
from ..services import Services

router = APIRouter(prefix="/api/v1", tags=["alerts"])

HOUR_MS = 3_600_000
# How long POST /alarms/{name}/test waits for the outcome of its notifications.
TEST_WAIT_SECONDS = 30.0


# Metric filters


@router.get("/metric-filters", summary="List metric filters")
async def list_metric_filters(
    group: str | None = None,
    access: Access = require("logs:DescribeMetricFilters"),
    svc: Services = Depends(services),
) -> dict[str, Any]:
    if group is not None:
        access.group(group)
    filters = await asyncio.to_thread(svc.store.list_metric_filters, group)
    return {"metric_filters": [metric_filter_to_native(f) for f in filters if access.allows_group(f.group)]}


@router.put("/metric-filters", summary="Create or replace a metric filter")
async def put_metric_filter(
    spec: Annotated[dict[str, Any], Body()],
    access: Access = require("logs:PutMetricFilter"),
    svc: Services = Depends(services),
) -> dict[str, Any]:
    """Body: ``group``, ``name``, ``pattern``, ``metric_name``, ``namespace``, ``value`` (default
    ``"1"``), ``default_value``, ``dimensions`` (name -> ``$.field``), ``unit``."""
    group = spec.get("group")
    if not isinstance(group, str):
        raise InvalidParameterError("metric filter group is required")
    access.group(group)
    metric_filter = metric_filter_from_native(spec, svc.clock.now_ms())
    svc.store.get_group(group)
    stored = await asyncio.to_thread(svc.alerting.put_metric_filter, metric_filter)
    return metric_filter_to_native(stored)


@router.delete("/metric-filters", status_code=204, summary="Delete a metric filter")
async def delete_metric_filter(
    group: str,
    name: str,
    access: Access = require("logs:DeleteMetricFilter"),
    svc: Services = Depends(services),
) -> None:
    access.group(group)
    await asyncio.to_thread(svc.alerting.delete_metric_filter, group, name)


# Metrics


def _series_out(series: MetricSeries) -> dict[str, Any]:
    return {"namespace": series.namespace, "name": series.name, "dimensions": dict(series.dimensions)}


@router.get("/metrics", summary="List metrics that have datapoints")
async def list_metrics(
    namespace: str | None = None,
    name: str | None = None,
    access: Access = require("cloudwatch:ListMetrics"),
    svc: Services = Depends(services),
) -> dict[str, Any]:
    access.account()
    await asyncio.to_thread(svc.alerting.hook.flush)
    found = await asyncio.to_thread(svc.store.list_metrics, namespace, name)
    return {"metrics": [_series_out(s) for s in found]}


def _dimensions(values: list[str]) -> tuple[tuple[str, str], ...]:
    out: dict[str, str] = {}
    for item in values:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise InvalidParameterError("a dimension is NAME=VALUE", dimension=item)
        out[key] = value
    return tuple(sorted(out.items()))


def _time(value: str | None, default: int, what: str) -> int:
    if value is None:
        return default
    parsed = parse_timestamp(int(value) if value.isdigit() else value)
    if parsed is None:
        raise InvalidParameterError(f"{what} must be ms since the epoch or ISO-8601", value=value)
    return parsed


@router.get("/metrics/series", summary="A metric's values over a range, per period")
async def metric_series(
    namespace: str,
    name: str,
    dimension: Annotated[list[str], Query()] = [],  # noqa: B006 (FastAPI reads the default)
    stat: str = "Sum",
    period: Annotated[int, Query(ge=60)] = 60,
    start: str | None = None,
    end: str | None = None,
    access: Access = require("cloudwatch:GetMetricData"),
    svc: Services = Depends(services),
) -> dict[str, Any]:
    """One value per period bucket (aligned to the epoch) that has datapoints; ``stat`` is
    ``Sum``, ``Average``, ``Minimum``, ``Maximum``, ``SampleCount`` or ``pNN``; ``start``
    (default an hour ago) and ``end`` (default now) are ms or ISO-8601."""
    access.account()
    now = svc.clock.now_ms()
    end_ms = _time(end, now, "end")
    start_ms = _time(start, end_ms - HOUR_MS, "start")
    statistic = parse_statistic(stat)
    check_period(period)
    series = MetricSeries(namespace, name, _dimensions(dimension))
    query = AlarmQuery("m1", True, None, series, statistic, period)
    values, _ = await asyncio.to_thread(svc.alerting.series, [query], start_ms, end_ms, period)
    return {
        **_series_out(series),
        "statistic": statistic.name,
        "period": period,
        "start": start_ms,
        "end": end_ms,
        "points": [{"time": t, "iso": format_iso(t), "value": v} for t, v in sorted(values["m1"].items())],
    }


# Alarms


def _authorize_alarm(access: Access, svc: Services, name: str) -> None:
    authorize(access.principal, access.action, svc.alerting.alarm_arn(name))


def _alarm_out(svc: Services, record: AlarmRecord) -> dict[str, Any]:
    state = record.state
    return {
        "name": record.name,
        "arn": svc.alerting.alarm_arn(record.name),
        "state": state.get("value"),
        "reason": state.get("reason"),
        "reason_data": state.get("reason_data") or {},
        "state_updated": state.get("updated_ms"),
        "evaluated_until": state.get("evaluated_ms"),
        "created": record.created_ms,
        "updated": record.updated_ms,
        "definition": definition_to_native(record.definition),
    }


@router.get("/alarms", summary="List alarms with their state")
async def list_alarms(
    state: str | None = None,
    prefix: str | None = None,
    access: Access = require("cloudwatch:DescribeAlarms"),
    svc: Services = Depends(services),
) -> dict[str, Any]:
    if state is not None and state not in STATES:
        raise InvalidParameterError("unknown alarm state", state=state, states=list(STATES))
    records = await asyncio.to_thread(svc.store.list_alarms)
    chosen = [
        _alarm_out(svc, r)
        for r in records
        if (state is None or r.state.get("value") == state)
        and (prefix is None or r.name.startswith(prefix))
        and is_allowed(access.principal, access.action, svc.alerting.alarm_arn(r.name))
    ]
    return {"alarms": chosen}


@router.get("/alarms/{name}/history", summary="An alarm's history: changes, transitions, actions")
async def alarm_history(
    name: str,
    kind: Annotated[list[str], Query()] = [],  # noqa: B006
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    access: Access = require("cloudwatch:DescribeAlarmHistory"),
    svc: Services = Depends(services),
) -> dict[str, Any]:
    _authorize_alarm(access, svc, name)
    await asyncio.to_thread(svc.alerting.alarm, name)  # 404 for an unknown alarm
    items = await asyncio.to_thread(lambda: svc.store.alarm_history(name, kinds=kind, limit=limit))
    return {
        "history": [
            {
                "time": i.ts_ms,
                "iso": format_iso(i.ts_ms),
                "type": i.kind,
                "summary": i.summary,
                "data": i.data,
            }
            for i in items
        ]
    }


def _notifications_out(svc: Services, name: str, limit: int) -> list[dict[str, Any]]:
    records = svc.store.notifications(name, limit)
    attempts = svc.store.delivery_attempts([n.id for n in records])
    by_id: dict[int, list[dict[str, Any]]] = {}
    for a in attempts:
        by_id.setdefault(a.notification_id, []).append(
            {"attempt": a.attempt, "time": a.ts_ms, "ok": a.ok, "detail": a.detail}
        )
    return [
        {
            "id": n.id,
            "channel": n.channel,
            "created": n.created_ms,
            "state": n.payload.get("state"),
            "test": bool(n.payload.get("test")),
            "status": n.status,
            "attempts": by_id.get(n.id, []),
        }
        for n in records
    ]


@router.get("/alarms/{name}/notifications", summary="Notifications sent for an alarm, every attempt")
async def alarm_notifications(
    name: str,
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
    access: Access = require("cloudwatch:DescribeAlarmHistory"),
    svc: Services = Depends(services),
) -> dict[str, Any]:
    _authorize_alarm(access, svc, name)
    await asyncio.to_thread(svc.alerting.alarm, name)  # 404 for an unknown alarm
    return {"notifications": await asyncio.to_thread(_notifications_out, svc, name, limit)}


@router.post("/alarms/{name}/test", summary="Send a test notification and wait for the outcome")
async def send_test_notification(
    name: str,
    channel: str | None = None,
    access: Access = require("logpond:TestAlarmNotification"),
    svc: Services = Depends(services),
) -> dict[str, Any]:
    """Sends the alarm's current state, marked as a test, to each channel of its actions (or
    to ``channel``); answers when every notification is delivered or has failed."""
    _authorize_alarm(access, svc, name)
    queued = await asyncio.to_thread(svc.alerting.test_alarm, name, channel)
    ids = {n.id for n in queued}
    deadline = time.monotonic() + TEST_WAIT_SECONDS
    while True:
        current = await asyncio.to_thread(_notifications_out, svc, name, 200)
        mine = [n for n in current if n["id"] in ids]
        if all(n["status"] != NotificationStatus.PENDING for n in mine) or time.monotonic() > deadline:
            return {"notifications": mine}
        await asyncio.sleep(0.1)


@router.get("/alarms/{name}", summary="Describe an alarm")
async def get_alarm(
    name: str, access: Access = require("cloudwatch:DescribeAlarms"), svc: Services = Depends(services)
) -> dict[str, Any]:
    """Also ``search``: the web UI's search (a ``#/search?...`` fragment) for the events the
    alarm's metric filters count over its evaluation range, or null when no filter feeds it."""
    _authorize_alarm(access, svc, name)
    record = await asyncio.to_thread(svc.alerting.alarm, name)
    spec = compile_alarm(record.definition)
    end = svc.clock.now_ms() // 60_000 * 60_000 + 60_000
    start = end - (spec.evaluation_periods + 1) * spec.period * 1000
    link = await asyncio.to_thread(search_link, svc.store, "", spec, start, end)
    return {**_alarm_out(svc, record), "search": link[1:] if link else None}


@router.put("/alarms/{name}", summary="Create or replace an alarm (its state is kept)")
async def put_alarm(
    name: str,
    spec: Annotated[dict[str, Any], Body()],
    access: Access = require("cloudwatch:PutMetricAlarm"),
    svc: Services = Depends(services),
) -> dict[str, Any]:
    """The body is an alarm in the native shape (docs/alerts.md), without its name."""
    _authorize_alarm(access, svc, name)
    spec = {k: v for k, v in spec.items() if k != "name"}
    record = await asyncio.to_thread(svc.alerting.put_alarm, definition_from_native(name, spec))
    return _alarm_out(svc, record)


@router.delete("/alarms/{name}", status_code=204, summary="Delete an alarm and its history")
async def delete_alarm(
    name: str, access: Access = require("cloudwatch:DeleteAlarms"), svc: Services = Depends(services)
) -> None:
    _authorize_alarm(access, svc, name)
    await asyncio.to_thread(svc.alerting.delete_alarms, [name])


# Channels


@router.get("/channels", summary="List notification channels (never their secrets)")
async def list_channels(
    access: Access = require("logpond:DescribeNotificationChannels"), svc: Services = Depends(services)
) -> dict[str, Any]:
    access.account()
    records = await asyncio.to_thread(svc.alerting.channels.list)
    return {"channels": [channel_view(r) for r in records]}


@router.put("/channels/{name}", summary="Create or replace a notification channel")
async def put_channel(
    name: str,
    spec: Annotated[dict[str, Any], Body()],
    access: Access = require("logpond:PutNotificationChannel"),
    svc: Services = Depends(services),
) -> dict[str, Any]:
    """``type`` is ``slack`` (``url``), ``webhook`` (``url``, ``secret``: generated and returned
    once when not given) or ``email`` (``host``, ``port``, ``from_address``, ``to``,
    ``starttls``, ``username``, ``password``). Secrets are never returned afterwards."""
    access.account()
    record, generated = await asyncio.to_thread(svc.alerting.channels.put, {**spec, "name": name})
    out = channel_view(record)
    if generated is not None:
        out["signing_secret"] = generated
    return out


@router.delete("/channels/{name}", status_code=204, summary="Delete a notification channel")
async def delete_channel(
    name: str,
    access: Access = require("logpond:DeleteNotificationChannel"),
    svc: Services = Depends(services),
) -> None:
    access.account()
    await asyncio.to_thread(svc.alerting.channels.delete, name)
