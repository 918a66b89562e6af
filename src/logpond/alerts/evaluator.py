"""The evaluator: each alarm at its period boundaries, a short settle delay after them.

Every tick (half a second of real time) the evaluator reads the injected clock. An alarm is
due when a period boundary ``b`` has passed by the settle delay and ``b`` is later than the
boundary it last evaluated; it is then evaluated over the periods ending at ``b`` (metric
filter aggregates are flushed first, so late-but-settled events count). A state change is
written in one transaction with its history entry and the notifications of the new
state's actions (the outbox); the deliverer sends them. The boundary evaluated is part of
the stored state, so after a restart an alarm already in ALARM stays there without a new
notification. Evaluation runs in a thread and never touches the ingest path.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import orjson

from logpond.model.clock import Clock
from logpond.model.errors import LogpondError
from logpond.store.alerting import AlarmHistoryItem, AlarmRecord, NotificationRecord
from logpond.store.base import Store

from .alarms import COMPARISONS, AlarmSpec, Decision, compile_alarm, decide
from .channels import channel_name_of_action
from .links import search_link
from .math import Series, evaluate
from .metric_filters import MetricFilterHook
from .statistics import bucket_starts, period_values

__all__ = ["DEFAULT_SETTLE_SECONDS", "AlarmEvaluator", "notification_payload"]

log = logging.getLogger("logpond.alerts")

DEFAULT_SETTLE_SECONDS = 3.0
TICK_SECONDS = 0.5


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def notification_payload(
    spec: AlarmSpec,
    *,
    state: str,
    previous: str | None,
    reason: str,
    reason_data: Mapping[str, Any],
    value: float | None,
    now_ms: int,
    link: str | None,
    arn: str,
    test: bool = False,
) -> dict[str, Any]:
    """What every channel is told about a transition (or a test)."""
    if spec.single_metric:
        series = spec.queries[0].series
        assert series is not None
        assert spec.queries[0].statistic is not None
        metric = f"{series.namespace} {series.name} ({spec.queries[0].statistic.name}, {spec.period} s)"
    else:
        result = next(q for q in spec.queries if q.id == spec.result_id)
        metric = result.expression.text if result.expression is not None else result.id
    return {
        "alarm": spec.name,
        "arn": arn,
        "description": spec.description,
        "state": state,
        "previous_state": previous,
        "reason": reason,
        "reason_data": dict(reason_data),
        "value": value,
        "threshold": spec.threshold,
        "comparison": spec.comparison,
        "comparison_symbol": COMPARISONS[spec.comparison][0],
        "metric": metric,
        "period": spec.period,
        "timestamp": _iso(now_ms),
        "timestamp_ms": now_ms,
        "link": link,
        "test": test,
    }


class AlarmEvaluator:
    """Evaluates due alarms; see the module docstring."""

    def __init__(
        self,
        store: Store,
        clock: Clock,
        hook: MetricFilterHook,
        *,
        settle_seconds: float = DEFAULT_SETTLE_SECONDS,
        public_url: str,
        alarm_arn: Callable[[str], str],
        on_queued: Callable[[list[NotificationRecord]], None] = lambda _: None,
    ) -> None:
        self._store = store
        self._clock = clock
        self._hook = hook
        self._settle_ms = int(settle_seconds * 1000)
        self._public_url = public_url
        self._alarm_arn = alarm_arn
        self._on_queued = on_queued
        self._specs: dict[str, tuple[bytes, AlarmSpec]] = {}
        self.evaluations = 0
        # Completed calls of evaluate_due (tests wait on it after moving the clock).
        self.ticks = 0

    def spec(self, record: AlarmRecord) -> AlarmSpec:
        key = orjson.dumps(dict(record.definition), option=orjson.OPT_SORT_KEYS)
        cached = self._specs.get(record.name)
        if cached is not None and cached[0] == key:
            return cached[1]
        spec = compile_alarm(record.definition)
        self._specs[record.name] = (key, spec)
        return spec

    def boundary(self, spec: AlarmSpec, now_ms: int) -> int:
        """The latest period boundary that has settled at ``now_ms``."""
        step = spec.period * 1000
        return (now_ms - self._settle_ms) // step * step

    def evaluate_due(self) -> int:
        """Evaluate every alarm that is due now; returns how many were evaluated."""
        now = self._clock.now_ms()
        flushed = False
        count = 0
        for record in self._store.list_alarms():
            try:
                spec = self.spec(record)
            except LogpondError as exc:
                log.warning("alarm skipped", extra={"alarm": record.name, "reason": exc.message})
                continue
            boundary = self.boundary(spec, now)
            last = record.state.get("evaluated_ms")
            if last is not None and boundary <= last:
                continue
            if not flushed:
                self._hook.flush()
                flushed = True
            self.evaluate(record, spec, boundary, now)
            count += 1
        self.evaluations += count
        self.ticks += 1
        return count

    def values(self, spec: AlarmSpec, boundary: int) -> list[tuple[int, float | None]]:
        """The alarm's value for each of the 2N periods before ``boundary``, oldest first."""
        step = spec.period * 1000
        start = boundary - 2 * spec.evaluation_periods * step
        buckets = bucket_starts(start, boundary, spec.period)
        result = self.series(spec, start, boundary, buckets)
        return [(b, result.get(b)) for b in buckets]

    def series(self, spec: AlarmSpec, start: int, end: int, buckets: Sequence[int]) -> Series:
        """The ReturnData query's series over [start, end)."""
        return compute_queries(self._store, spec.queries, start, end, buckets)[spec.result_id]

    def evaluate(self, record: AlarmRecord, spec: AlarmSpec, boundary: int, now: int) -> Decision:
        decision = decide(spec, self.values(spec, boundary), str(record.state.get("value")), now)
        current = record.state.get("value")
        state = dict(record.state)
        state["evaluated_ms"] = boundary
        if decision.state == current:
            self._store.update_alarm_state(record.name, state)
            return decision
        state.update(
            value=decision.state, reason=decision.reason, reason_data=decision.reason_data, updated_ms=now
        )
        history = AlarmHistoryItem(
            record.name,
            now,
            "StateUpdate",
            f"Alarm updated from {current} to {decision.state}",
            {
                "version": "1.0",
                "oldState": {"stateValue": current, "stateReason": record.state.get("reason", "")},
                "newState": {
                    "stateValue": decision.state,
                    "stateReason": decision.reason,
                    "stateReasonData": decision.reason_data,
                },
            },
        )
        notifications: list[tuple[str, dict[str, Any]]] = []
        if spec.actions_enabled and spec.actions.get(decision.state):
            window = (boundary - spec.evaluation_periods * spec.period * 1000, boundary)
            payload = notification_payload(
                spec,
                state=decision.state,
                previous=str(current),
                reason=decision.reason,
                reason_data=decision.reason_data,
                value=decision.value,
                now_ms=now,
                link=search_link(self._store, self._public_url, spec, *window),
                arn=self._alarm_arn(spec.name),
            )
            notifications = [
                (channel_name_of_action(action), payload)
                for action in dict.fromkeys(spec.actions[decision.state])
            ]
        queued = self._store.update_alarm_state(record.name, state, [history], notifications)
        log.info(
            "alarm state changed",
            extra={"alarm": record.name, "from": current, "to": decision.state, "notifications": len(queued)},
        )
        if queued:
            self._on_queued(queued)
        return decision


def compute_queries(
    store: Store, queries: Sequence[Any], start: int, end: int, buckets: Sequence[int]
) -> dict[str, Series]:
    """Every query's series over [start, end): metrics from the store (in buckets of their
    own period), then expressions in the order their inputs become known (``FILL`` fills
    ``buckets``)."""
    data: dict[str, Series] = {}
    for query in queries:
        if query.series is not None:
            points = store.metric_datapoints(query.series, start, end)
            own = buckets if query.period is None else bucket_starts(start, end, query.period)
            data[query.id] = period_values(points, query.statistic, query.period, own)
    waiting = [q for q in queries if q.expression is not None]
    metric_ids = {q.id for q in queries if q.series is not None}
    while waiting:
        ready = [q for q in waiting if (q.expression.ids - {"*"}) <= data.keys()]
        if not ready:
            raise LogpondError("metric math expressions depend on each other in a cycle")
        for query in ready:
            inputs = {k: v for k, v in data.items() if k in query.expression.ids}
            if "*" in query.expression.ids:
                inputs.update({k: data[k] for k in metric_ids})
            data[query.id] = evaluate(query.expression, inputs, buckets)
            waiting.remove(query)
    return data
