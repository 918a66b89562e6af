"""``Alerting``: what a running server holds for alerts, and the operations the APIs share.

It owns the metric filter hook (added to the ingest pipeline's commit hooks), the channel
registry, the deliverer and the evaluator, and runs their background tasks in the server's
lifespan. The native API, the CloudWatch metrics API and the config all change alarms,
filters and channels through it, so each change is checked and recorded the same way.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from logpond.auth.keys import SecretBox
from logpond.auth.policy import Arns
from logpond.model.clock import Clock
from logpond.model.errors import InvalidParameterError, ResourceNotFoundError
from logpond.model.names import LogGroupName
from logpond.store.alerting import AlarmHistoryItem, AlarmRecord, NotificationRecord
from logpond.store.base import MetricFilter, Store

from .alarms import AlarmSpec, compile_alarm, initial_state
from .channels import ChannelRegistry, channel_name_of_action
from .config import AlertsConfig, ChannelConfig
from .delivery import Deliverer
from .evaluator import TICK_SECONDS, AlarmEvaluator, compute_queries, notification_payload
from .links import search_link
from .math import Series
from .metric_filters import MetricFilterHook, compile_metric_filter, metric_filter_from_native
from .statistics import bucket_starts

__all__ = ["Alerting", "alarm_arn"]

log = logging.getLogger("logpond.alerts")

# How often metric aggregates are written to the store and filters re-read from it.
FLUSH_SECONDS = 2.0
DAY_MS = 86_400_000
METRICS_SWEEP_SECONDS = 3600.0


def alarm_arn(arns: Arns, name: str) -> str:
    return f"arn:aws:cloudwatch:{arns.region}:{arns.account}:alarm:{name}"


class Alerting:
    """See the module docstring."""

    def __init__(
        self, store: Store, clock: Clock, config: AlertsConfig, box: SecretBox, arns: Arns, public_url: str
    ) -> None:
        self.store = store
        self.clock = clock
        self.config = config
        self.arns = arns
        self.public_url = config.public_url or public_url
        self.hook = MetricFilterHook(store)
        self.channels = ChannelRegistry(store, box, clock)
        self.deliverer = Deliverer(
            store,
            clock,
            self.channels,
            attempts=config.delivery_attempts,
            backoff_seconds=config.retry_backoff_seconds,
        )
        self.evaluator = AlarmEvaluator(
            store,
            clock,
            self.hook,
            settle_seconds=config.settle_seconds,
            public_url=self.public_url,
            alarm_arn=self.alarm_arn,
            on_queued=self._queued,
        )
        self._loop: asyncio.AbstractEventLoop | None = None
        self._tasks: list[asyncio.Task[None]] = []

    def alarm_arn(self, name: str) -> str:
        return alarm_arn(self.arns, name)

    # Config

    def apply_config(self, environ: Mapping[str, str] | None = None) -> None:
        """Create or replace the filters, channels and alarms the config declares."""
        env = os.environ if environ is None else environ
        for spec in self.config.metric_filters:
            wanted = metric_filter_from_native(spec.model_dump(exclude_none=True), self.clock.now_ms())
            existing = {(f.group, f.name): f for f in self.store.list_metric_filters()}
            known = existing.get((wanted.group, wanted.name))
            if known is not None and (known.pattern, known.transformations) == (
                wanted.pattern,
                wanted.transformations,
            ):
                continue
            if self.store.find_group(wanted.group) is None:
                self.store.create_group(LogGroupName(wanted.group), exist_ok=True)
            self.store.put_metric_filter(wanted)
        for channel in self.config.channels:
            try:
                channel_spec = _channel_spec(channel, env)
            except InvalidParameterError as exc:
                # The server still starts: an example config names a Slack URL variable a
                # first run does not set. Notifications to the channel are recorded as failed.
                log.warning(
                    "channel not configured: %s", exc.message, extra={"channel": channel.name, **exc.details}
                )
                continue
            self.channels.put(channel_spec, keep_secrets=True)
        for alarm in self.config.alarms:
            definition = alarm.definition()
            existing_alarm = self.store.get_alarm(alarm.name)
            if existing_alarm is not None and dict(existing_alarm.definition) == definition:
                continue
            self.put_alarm(definition)
        self.hook.reload()

    # Metric filters

    def put_metric_filter(self, metric_filter: MetricFilter) -> MetricFilter:
        compile_metric_filter(metric_filter)
        stored = self.store.put_metric_filter(metric_filter)
        self.hook.reload()
        return stored

    def delete_metric_filter(self, group: str, name: str) -> None:
        self.store.delete_metric_filter(group, name)
        self.hook.reload()

    # Alarms

    def put_alarm(self, definition: Mapping[str, Any]) -> AlarmRecord:
        """Create an alarm, or replace its definition keeping its state (CloudWatch's rule)."""
        spec = compile_alarm(definition)
        now = self.clock.now_ms()
        existed = self.store.get_alarm(spec.name) is not None
        record = self.store.put_alarm(spec.name, definition, initial_state(now))
        verb = "updated" if existed else "created"
        self.store.add_alarm_history(
            [
                AlarmHistoryItem(
                    spec.name,
                    now,
                    "ConfigurationUpdate",
                    f'Alarm "{spec.name}" {verb}',
                    {"type": "Update" if existed else "Create", "definition": dict(definition)},
                )
            ]
        )
        return record

    def delete_alarms(self, names: Sequence[str]) -> None:
        self.store.delete_alarms(names)

    def spec(self, record: AlarmRecord) -> AlarmSpec:
        return self.evaluator.spec(record)

    def alarm(self, name: str) -> AlarmRecord:
        found = self.store.get_alarm(name)
        if found is None:
            raise ResourceNotFoundError("alarm not found", alarm=name)
        return found

    def test_alarm(self, name: str, channel: str | None = None) -> list[NotificationRecord]:
        """Queue a test notification of the alarm's current state to its channels (or one)."""
        record = self.alarm(name)
        spec = self.spec(record)
        if channel is not None:
            channels = [channel]
        else:
            channels = list(
                dict.fromkeys(channel_name_of_action(a) for actions in spec.actions.values() for a in actions)
            )
        if not channels:
            raise InvalidParameterError("the alarm has no actions; name a channel to test", alarm=name)
        now = self.clock.now_ms()
        step = spec.period * 1000
        end = (now // step) * step
        state = record.state
        payload = notification_payload(
            spec,
            state=str(state.get("value")),
            previous=None,
            reason=f"Test notification. Current reason: {state.get('reason', '')}",
            reason_data=state.get("reason_data") or {},
            value=None,
            now_ms=now,
            link=search_link(self.store, self.public_url, spec, end - spec.evaluation_periods * step, end),
            arn=self.alarm_arn(name),
            test=True,
        )
        queued = self.store.queue_notifications(name, [(c, payload) for c in channels])
        self._queued(queued)
        return queued

    def _queued(self, notifications: list[NotificationRecord]) -> None:
        loop = self._loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self.deliverer.kick)

    # Metrics

    def series(
        self, queries: Sequence[Any], start_ms: int, end_ms: int, period: int
    ) -> tuple[dict[str, Series], list[int]]:
        """Each query's series over [start, end) in buckets of ``period`` seconds."""
        self.hook.flush()
        buckets = bucket_starts(start_ms, end_ms, period)
        return compute_queries(self.store, queries, start_ms, end_ms, buckets), buckets

    def sweep_metrics(self) -> int:
        cutoff = self.clock.now_ms() - self.config.metrics_retention_days * DAY_MS
        return self.store.sweep_metric_datapoints(cutoff)

    # Background tasks

    def start(self) -> None:
        """Start the evaluator, deliverer and flush tasks on the running loop."""
        self._loop = asyncio.get_running_loop()
        self._tasks = [
            asyncio.create_task(self._every(FLUSH_SECONDS, self._flush, "metric flush")),
            asyncio.create_task(self._every(TICK_SECONDS, self.evaluator.evaluate_due, "alarm evaluation")),
            asyncio.create_task(self._every(METRICS_SWEEP_SECONDS, self.sweep_metrics, "metric sweep")),
            asyncio.create_task(self.deliverer.run()),
        ]

    def _flush(self) -> None:
        self.hook.reload()
        self.hook.flush(sync=False)

    @staticmethod
    async def _every(interval: float, task: Any, what: str) -> None:
        while True:
            await asyncio.sleep(interval)
            try:
                await asyncio.to_thread(task)
            except Exception:
                log.exception("%s failed; will retry", what)

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self.deliverer.close()
        await asyncio.to_thread(self._final_flush)

    def _final_flush(self) -> None:
        try:
            self.hook.flush()
        except Exception:
            log.exception("final metric flush failed")
        self.hook.close()


def _read_secret(env: Mapping[str, str], variable: str | None, path: Path | None, what: str) -> str | None:
    if variable is not None:
        value = env.get(variable)
        if not value:
            raise InvalidParameterError(f"channel {what} variable is not set", variable=variable)
        return value
    if path is not None:
        try:
            text = path.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise InvalidParameterError(f"cannot read the channel {what} file", path=str(path)) from exc
        if not text:
            raise InvalidParameterError(f"the channel {what} file is empty", path=str(path))
        return text
    return None


def _channel_spec(channel: ChannelConfig, env: Mapping[str, str]) -> dict[str, Any]:
    spec: dict[str, Any] = {"name": channel.name, "type": channel.type}
    for field in ("host", "port", "from_address", "to", "starttls", "username"):
        value = getattr(channel, field)
        if value is not None:
            spec[field] = value
    for secret in ("url", "secret", "password"):
        value = _read_secret(
            env, getattr(channel, f"{secret}_env"), getattr(channel, f"{secret}_file"), secret
        )
        if value is not None:
            spec[secret] = value
    return spec
