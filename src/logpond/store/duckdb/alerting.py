"""``AlertResources``: the DuckDB side of ``logpond.store.alerting`` (migration 0005).

Mixed into ``DuckDBStore`` like ``GroupResources``: writes run on the writer thread in one
transaction each, reads on the calling thread's cursor.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import duckdb
import orjson

from logpond.model.clock import Clock
from logpond.model.errors import ResourceNotFoundError
from logpond.store.alerting import (
    AlarmHistoryItem,
    AlarmRecord,
    ChannelRecord,
    DeliveryAttempt,
    MetricDatapoint,
    MetricSeries,
    NotificationRecord,
    NotificationStatus,
    merge_datapoints,
)
from logpond.store.writer import GroupCommitWriter

__all__ = ["AlertResources"]


def _dimensions_text(series: MetricSeries) -> str:
    return orjson.dumps(dict(series.dimensions), option=orjson.OPT_SORT_KEYS).decode()


def _series(namespace: str, name: str, dimensions: str) -> MetricSeries:
    loaded: dict[str, str] = orjson.loads(dimensions)
    return MetricSeries(namespace, name, tuple(sorted(loaded.items())))


class AlertResources:
    """Metric datapoints, alarms, channels and notifications; see the module."""

    # Provided by DuckDBStore.
    writer: GroupCommitWriter
    clock: Clock
    _con: duckdb.DuckDBPyConnection  # the writer thread's connection

    def reader(self) -> duckdb.DuckDBPyConnection:
        raise NotImplementedError

    def _transaction(self, *statements: tuple[str, list[Any]]) -> None:
        raise NotImplementedError

    # Metric datapoints

    def add_metric_datapoints(self, points: Sequence[MetricDatapoint]) -> None:
        if not points:
            return
        rows = [
            [
                p.series.namespace,
                p.series.name,
                _dimensions_text(p.series),
                p.minute_ms,
                p.sample_count,
                p.sum,
                p.minimum,
                p.maximum,
                p.unit,
                orjson.dumps([list(pair) for pair in p.histogram]).decode(),
            ]
            for p in points
        ]

        def add() -> None:
            con = self._con
            con.begin()
            try:
                con.executemany("INSERT INTO metric_datapoints VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
                con.commit()
            except BaseException:
                con.rollback()
                raise

        self.writer.call(add)

    def metric_datapoints(self, series: MetricSeries, start_ms: int, end_ms: int) -> list[MetricDatapoint]:
        rows = (
            self.reader()
            .execute(
                "SELECT minute_ms, sample_count, sum, minimum, maximum, unit, histogram "
                "FROM metric_datapoints "
                "WHERE namespace = ? AND metric_name = ? AND dimensions = ? "
                "AND minute_ms >= ? AND minute_ms < ? "
                "ORDER BY minute_ms",
                [series.namespace, series.name, _dimensions_text(series), start_ms, end_ms],
            )
            .fetchall()
        )
        by_minute: dict[int, list[MetricDatapoint]] = {}
        for minute, count, total, low, high, unit, histogram in rows:
            point = MetricDatapoint(
                series,
                int(minute),
                float(count),
                float(total),
                float(low),
                float(high),
                unit,
                tuple((float(v), int(c)) for v, c in orjson.loads(histogram)),
            )
            by_minute.setdefault(int(minute), []).append(point)
        return [merge_datapoints(points) for _, points in sorted(by_minute.items())]

    def list_metrics(self, namespace: str | None = None, name: str | None = None) -> list[MetricSeries]:
        rows = (
            self.reader()
            .execute(
                "SELECT DISTINCT namespace, metric_name, dimensions FROM metric_datapoints "
                "WHERE (? IS NULL OR namespace = ?) AND (? IS NULL OR metric_name = ?) "
                "ORDER BY namespace, metric_name, dimensions",
                [namespace, namespace, name, name],
            )
            .fetchall()
        )
        return [_series(ns, n, dims) for ns, n, dims in rows]

    def sweep_metric_datapoints(self, before_ms: int) -> int:
        def sweep() -> int:
            found = self._con.execute(
                "SELECT count(*) FROM metric_datapoints WHERE minute_ms < ?", [before_ms]
            ).fetchone()
            count = int(found[0]) if found else 0
            if count:
                self._transaction(("DELETE FROM metric_datapoints WHERE minute_ms < ?", [before_ms]))
            return count

        return self.writer.call(sweep)

    # Alarms

    def _alarm_rows(self, name: str | None = None) -> list[AlarmRecord]:
        rows = (
            self.reader()
            .execute(
                "SELECT name, definition, state, created_ms, updated_ms FROM alarms "
                "WHERE ? IS NULL OR name = ? ORDER BY name",
                [name, name],
            )
            .fetchall()
        )
        return [AlarmRecord(n, orjson.loads(d), orjson.loads(s), int(c), int(u)) for n, d, s, c, u in rows]

    def put_alarm(
        self, name: str, definition: Mapping[str, Any], initial_state: Mapping[str, Any]
    ) -> AlarmRecord:
        def put() -> AlarmRecord:
            now = self.clock.now_ms()
            existing = self._alarm_rows(name)
            created = existing[0].created_ms if existing else now
            state = existing[0].state if existing else dict(initial_state)
            self._transaction(
                ("DELETE FROM alarms WHERE name = ?", [name]),
                (
                    "INSERT INTO alarms VALUES (?, ?, ?, ?, ?)",
                    [
                        name,
                        orjson.dumps(dict(definition)).decode(),
                        orjson.dumps(state).decode(),
                        created,
                        now,
                    ],
                ),
            )
            return AlarmRecord(name, dict(definition), state, created, now)

        return self.writer.call(put)

    def get_alarm(self, name: str) -> AlarmRecord | None:
        found = self._alarm_rows(name)
        return found[0] if found else None

    def list_alarms(self) -> list[AlarmRecord]:
        return self._alarm_rows()

    def delete_alarms(self, names: Sequence[str]) -> None:
        def delete() -> None:
            known = {a.name for a in self._alarm_rows()}
            missing = [n for n in names if n not in known]
            if missing:
                raise ResourceNotFoundError("alarm not found", alarm=missing[0])
            statements: list[tuple[str, list[Any]]] = []
            for name in names:
                statements += [
                    ("DELETE FROM alarms WHERE name = ?", [name]),
                    ("DELETE FROM alarm_history WHERE alarm = ?", [name]),
                    (
                        "UPDATE notifications SET status = ? WHERE alarm = ? AND status = ?",
                        [NotificationStatus.FAILED, name, NotificationStatus.PENDING],
                    ),
                ]
            self._transaction(*statements)

        self.writer.call(delete)

    def update_alarm_state(
        self,
        name: str,
        state: Mapping[str, Any],
        history: Sequence[AlarmHistoryItem] = (),
        notifications: Sequence[tuple[str, Mapping[str, Any]]] = (),
    ) -> list[NotificationRecord]:
        def update() -> list[NotificationRecord]:
            if not self._alarm_rows(name):
                raise ResourceNotFoundError("alarm not found", alarm=name)
            now = self.clock.now_ms()
            queued = self._new_notifications(name, notifications, now)
            self._transaction(
                ("UPDATE alarms SET state = ? WHERE name = ?", [orjson.dumps(dict(state)).decode(), name]),
                *self._history_statements(history),
                *self._notification_statements(queued),
            )
            return queued

        return self.writer.call(update)

    def _new_notifications(
        self, alarm: str, items: Sequence[tuple[str, Mapping[str, Any]]], now: int
    ) -> list[NotificationRecord]:
        if not items:
            return []
        found = self._con.execute("SELECT coalesce(max(id), 0) FROM notifications").fetchone()
        next_id = int(found[0] if found else 0) + 1
        return [
            NotificationRecord(
                next_id + i, alarm, channel, now, dict(payload), NotificationStatus.PENDING, 0, now
            )
            for i, (channel, payload) in enumerate(items)
        ]

    @staticmethod
    def _history_statements(items: Sequence[AlarmHistoryItem]) -> list[tuple[str, list[Any]]]:
        return [
            (
                "INSERT INTO alarm_history VALUES (?, ?, ?, ?, ?)",
                [i.alarm, i.ts_ms, i.kind, i.summary, orjson.dumps(dict(i.data)).decode()],
            )
            for i in items
        ]

    @staticmethod
    def _notification_statements(items: Sequence[NotificationRecord]) -> list[tuple[str, list[Any]]]:
        return [
            (
                "INSERT INTO notifications VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    n.id,
                    n.alarm,
                    n.channel,
                    n.created_ms,
                    orjson.dumps(dict(n.payload)).decode(),
                    n.status,
                    n.attempts,
                    n.updated_ms,
                ],
            )
            for n in items
        ]

    def add_alarm_history(self, items: Sequence[AlarmHistoryItem]) -> None:
        if items:
            self.writer.call(lambda: self._transaction(*self._history_statements(items)))

    def alarm_history(
        self,
        name: str | None = None,
        *,
        kinds: Sequence[str] = (),
        start_ms: int | None = None,
        end_ms: int | None = None,
        limit: int = 100,
    ) -> list[AlarmHistoryItem]:
        rows = (
            self.reader()
            .execute(
                "SELECT alarm, ts_ms, kind, summary, data FROM alarm_history "
                "WHERE (? IS NULL OR alarm = ?) "
                "AND (len(?::VARCHAR[]) = 0 OR list_contains(?::VARCHAR[], kind)) "
                "AND ts_ms >= ? AND ts_ms < ? ORDER BY ts_ms DESC, rowid DESC LIMIT ?",
                [
                    name,
                    name,
                    list(kinds),
                    list(kinds),
                    start_ms or 0,
                    end_ms if end_ms is not None else 2**62,
                    limit,
                ],
            )
            .fetchall()
        )
        return [AlarmHistoryItem(a, int(t), k, s, orjson.loads(d)) for a, t, k, s, d in rows]

    # Channels

    def put_channel(self, record: ChannelRecord) -> None:
        self.writer.call(
            lambda: self._transaction(
                ("DELETE FROM notification_channels WHERE name = ?", [record.name]),
                (
                    "INSERT INTO notification_channels VALUES (?, ?, ?, ?, ?)",
                    [
                        record.name,
                        record.kind,
                        orjson.dumps(dict(record.settings)).decode(),
                        record.secrets,
                        record.updated_ms,
                    ],
                ),
            )
        )

    def list_channels(self) -> list[ChannelRecord]:
        rows = (
            self.reader()
            .execute(
                "SELECT name, kind, settings, secrets, updated_ms FROM notification_channels ORDER BY name"
            )
            .fetchall()
        )
        return [
            ChannelRecord(n, k, orjson.loads(s), None if sec is None else bytes(sec), int(u))
            for n, k, s, sec, u in rows
        ]

    def delete_channel(self, name: str) -> None:
        def delete() -> None:
            if not any(c.name == name for c in self.list_channels()):
                raise ResourceNotFoundError("channel not found", channel=name)
            self._transaction(("DELETE FROM notification_channels WHERE name = ?", [name]))

        self.writer.call(delete)

    # Notifications

    def queue_notifications(
        self, alarm: str, items: Sequence[tuple[str, Mapping[str, Any]]]
    ) -> list[NotificationRecord]:
        def queue() -> list[NotificationRecord]:
            queued = self._new_notifications(alarm, items, self.clock.now_ms())
            if queued:
                self._transaction(*self._notification_statements(queued))
            return queued

        return self.writer.call(queue)

    def _notification_rows(self, where: str, args: list[Any], limit: int) -> list[NotificationRecord]:
        rows = (
            self.reader()
            .execute(
                "SELECT id, alarm, channel, created_ms, payload, status, attempts, updated_ms "
                "FROM notifications "
                f"WHERE {where} ORDER BY id DESC LIMIT ?",
                [*args, limit],
            )
            .fetchall()
        )
        return [
            NotificationRecord(int(i), a, c, int(cr), orjson.loads(p), s, int(n), int(u))
            for i, a, c, cr, p, s, n, u in rows
        ]

    def pending_notifications(self) -> list[NotificationRecord]:
        found = self._notification_rows("status = ?", [NotificationStatus.PENDING], 10_000)
        return sorted(found, key=lambda n: n.id)

    def record_delivery(self, attempt: DeliveryAttempt, status: str) -> None:
        self.writer.call(
            lambda: self._transaction(
                (
                    "INSERT INTO delivery_attempts VALUES (?, ?, ?, ?, ?)",
                    [attempt.notification_id, attempt.attempt, attempt.ts_ms, attempt.ok, attempt.detail],
                ),
                (
                    "UPDATE notifications SET status = ?, attempts = ?, updated_ms = ? WHERE id = ?",
                    [status, attempt.attempt, attempt.ts_ms, attempt.notification_id],
                ),
            )
        )

    def notifications(self, alarm: str | None = None, limit: int = 100) -> list[NotificationRecord]:
        return self._notification_rows("(? IS NULL OR alarm = ?)", [alarm, alarm], limit)

    def delivery_attempts(self, notification_ids: Sequence[int]) -> list[DeliveryAttempt]:
        if not notification_ids:
            return []
        rows = (
            self.reader()
            .execute(
                "SELECT notification_id, attempt, ts_ms, ok, detail FROM delivery_attempts "
                "WHERE list_contains(?::BIGINT[], notification_id) ORDER BY notification_id, attempt",
                [list(notification_ids)],
            )
            .fetchall()
        )
        return [DeliveryAttempt(int(n), int(a), int(t), bool(o), d) for n, a, t, o, d in rows]
