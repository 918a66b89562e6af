"""What the store keeps for alerting, and the part of the ``Store`` interface that keeps it.

Metric datapoints (per series and minute), alarms (definition and state), alarm history,
notification channels (their secrets sealed by the caller), and the notification outbox
with every delivery attempt. ``logpond.alerts`` decides what these mean; the store only
keeps them, on the writer thread like every other write.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

__all__ = [
    "AlarmHistoryItem",
    "AlarmRecord",
    "AlertStore",
    "ChannelRecord",
    "DeliveryAttempt",
    "MetricDatapoint",
    "MetricSeries",
    "NotificationRecord",
    "NotificationStatus",
    "merge_datapoints",
]

Dimensions = tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class MetricSeries:
    """A metric: namespace, name and dimension values (sorted by dimension name)."""

    namespace: str
    name: str
    dimensions: Dimensions = ()


@dataclass(frozen=True, slots=True)
class MetricDatapoint:
    """A series' aggregate over one minute.

    ``histogram`` holds the values seen (value, how many times), for percentiles.
    """

    series: MetricSeries
    minute_ms: int
    sample_count: float
    sum: float
    minimum: float
    maximum: float
    unit: str | None = None
    histogram: tuple[tuple[float, int], ...] = ()


@dataclass(frozen=True, slots=True)
class AlarmRecord:
    """An alarm as stored: its definition (CloudWatch's PutMetricAlarm shape) and state.

    ``state`` holds ``value``, ``reason``, ``reason_data``, ``updated_ms`` (last state
    change) and ``evaluated_ms`` (the period boundary last evaluated).
    """

    name: str
    definition: Mapping[str, Any]
    state: Mapping[str, Any]
    created_ms: int
    updated_ms: int


@dataclass(frozen=True, slots=True)
class AlarmHistoryItem:
    """One entry of an alarm's history (CloudWatch's AlarmHistoryItem)."""

    alarm: str
    ts_ms: int
    kind: str  # ConfigurationUpdate | StateUpdate | Action
    summary: str
    data: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ChannelRecord:
    """A notification channel: its kind and settings; ``secrets`` is sealed by the caller."""

    name: str
    kind: str
    settings: Mapping[str, Any]
    secrets: bytes | None
    updated_ms: int


class NotificationStatus:
    """The states of a notification in the outbox."""

    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class NotificationRecord:
    """A notification to send on one channel for one alarm transition."""

    id: int
    alarm: str
    channel: str
    created_ms: int
    payload: Mapping[str, Any]
    status: str = NotificationStatus.PENDING
    attempts: int = 0
    updated_ms: int = 0


@dataclass(frozen=True, slots=True)
class DeliveryAttempt:
    """One try at delivering a notification; ``detail`` never holds a secret."""

    notification_id: int
    attempt: int
    ts_ms: int
    ok: bool
    detail: str


def merge_datapoints(points: Sequence[MetricDatapoint]) -> MetricDatapoint:
    """Several partial aggregates of one series and minute as one."""
    first = points[0]
    if len(points) == 1:
        return first
    histogram: dict[float, int] = {}
    for point in points:
        for value, count in point.histogram:
            histogram[value] = histogram.get(value, 0) + count
    return MetricDatapoint(
        first.series,
        first.minute_ms,
        sum(p.sample_count for p in points),
        sum(p.sum for p in points),
        min(p.minimum for p in points),
        max(p.maximum for p in points),
        next((p.unit for p in points if p.unit), None),
        tuple(sorted(histogram.items())),
    )


class AlertStore(Protocol):
    """The alerting part of the ``Store`` interface."""

    # Metric datapoints
    def add_metric_datapoints(self, points: Sequence[MetricDatapoint]) -> None:
        """Add partial aggregates; several for one series and minute add up."""
        ...

    def metric_datapoints(self, series: MetricSeries, start_ms: int, end_ms: int) -> list[MetricDatapoint]:
        """The series' minutes in [start, end), one aggregate per minute, oldest first."""
        ...

    def list_metrics(self, namespace: str | None = None, name: str | None = None) -> list[MetricSeries]:
        """The series that have datapoints, by namespace, name and dimensions."""
        ...

    def sweep_metric_datapoints(self, before_ms: int) -> int:
        """Delete datapoints of minutes before ``before_ms``; returns how many rows went."""
        ...

    # Alarms
    def put_alarm(
        self, name: str, definition: Mapping[str, Any], initial_state: Mapping[str, Any]
    ) -> AlarmRecord:
        """Create an alarm (with ``initial_state``) or replace its definition (state kept)."""
        ...

    def get_alarm(self, name: str) -> AlarmRecord | None: ...

    def list_alarms(self) -> list[AlarmRecord]: ...

    def delete_alarms(self, names: Sequence[str]) -> None:
        """Delete alarms, their history and pending notifications; unknown names are an error."""
        ...

    def update_alarm_state(
        self,
        name: str,
        state: Mapping[str, Any],
        history: Sequence[AlarmHistoryItem] = (),
        notifications: Sequence[tuple[str, Mapping[str, Any]]] = (),
    ) -> list[NotificationRecord]:
        """In one transaction: set the state, append history, queue (channel, payload)
        notifications. Returns the queued notifications."""
        ...

    def add_alarm_history(self, items: Sequence[AlarmHistoryItem]) -> None: ...

    def alarm_history(
        self,
        name: str | None = None,
        *,
        kinds: Sequence[str] = (),
        start_ms: int | None = None,
        end_ms: int | None = None,
        limit: int = 100,
    ) -> list[AlarmHistoryItem]:
        """History items, newest first."""
        ...

    # Channels
    def put_channel(self, record: ChannelRecord) -> None: ...

    def list_channels(self) -> list[ChannelRecord]: ...

    def delete_channel(self, name: str) -> None: ...

    # Notifications
    def queue_notifications(
        self, alarm: str, items: Sequence[tuple[str, Mapping[str, Any]]]
    ) -> list[NotificationRecord]:
        """Queue notifications outside a transition (test notifications)."""
        ...

    def pending_notifications(self) -> list[NotificationRecord]: ...

    def record_delivery(self, attempt: DeliveryAttempt, status: str) -> None:
        """Record an attempt and set the notification's status and attempt count."""
        ...

    def notifications(self, alarm: str | None = None, limit: int = 100) -> list[NotificationRecord]:
        """Notifications, newest first."""
        ...

    def delivery_attempts(self, notification_ids: Sequence[int]) -> list[DeliveryAttempt]: ...
