"""Delivering queued notifications: retries with exponential backoff, every attempt recorded.

Notifications are written to the store's outbox in the same transaction as the alarm
transition that causes them, so a restart neither loses nor repeats them: on start the
deliverer picks up what is still pending. Each attempt is recorded with its outcome (never
a secret); after the last failed attempt the notification is marked failed and the alarm's
history says so.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

from logpond.model.clock import Clock
from logpond.store.alerting import AlarmHistoryItem, DeliveryAttempt, NotificationRecord, NotificationStatus
from logpond.store.base import Store

from .channels import ChannelRegistry
from .notifiers import DeliveryError

__all__ = ["DEFAULT_ATTEMPTS", "DEFAULT_BACKOFF_SECONDS", "Deliverer"]

log = logging.getLogger("logpond.alerts")

DEFAULT_ATTEMPTS = 5
DEFAULT_BACKOFF_SECONDS = 2.0
# How often the outbox is read when nothing announced new notifications.
POLL_SECONDS = 5.0


class Deliverer:
    """Sends pending notifications; one task per notification in flight."""

    def __init__(
        self,
        store: Store,
        clock: Clock,
        channels: ChannelRegistry,
        *,
        attempts: int = DEFAULT_ATTEMPTS,
        backoff_seconds: float = DEFAULT_BACKOFF_SECONDS,
    ) -> None:
        self._store = store
        self._clock = clock
        self._channels = channels
        self._attempts = attempts
        self._backoff = backoff_seconds
        self._wake = asyncio.Event()
        self._in_flight: dict[int, asyncio.Task[None]] = {}

    def kick(self) -> None:
        """Look at the outbox now (call from the event loop's thread)."""
        self._wake.set()

    async def run(self) -> None:
        while True:
            try:
                pending = await asyncio.to_thread(self._store.pending_notifications)
                for notification in pending:
                    if notification.id not in self._in_flight:
                        task = asyncio.create_task(self._deliver(notification))
                        self._in_flight[notification.id] = task
                        task.add_done_callback(self._forget(notification.id))
            except Exception:
                log.exception("reading the notification outbox failed; will retry")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), POLL_SECONDS)
            self._wake.clear()

    def _forget(self, notification_id: int) -> Callable[[asyncio.Task[None]], None]:
        def forget(_: asyncio.Task[None]) -> None:
            self._in_flight.pop(notification_id, None)

        return forget

    async def close(self) -> None:
        for task in list(self._in_flight.values()):
            task.cancel()
        for task in list(self._in_flight.values()):
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self._channels.close()

    async def _deliver(self, notification: NotificationRecord) -> None:
        attempt = notification.attempts
        while attempt < self._attempts:
            attempt += 1
            notifier = await asyncio.to_thread(self._channels.notifier, notification.channel)
            retry = True
            if notifier is None:
                ok, detail, retry = False, "channel not found", False
            else:
                try:
                    detail = await notifier.send(notification.payload)
                    ok = True
                except DeliveryError as exc:
                    ok, detail, retry = False, exc.detail, exc.retry
                except Exception as exc:
                    log.exception("notifier failed", extra={"channel": notification.channel})
                    ok, detail = False, f"internal error ({type(exc).__name__})"
            final = ok or not retry or attempt >= self._attempts
            status = (
                NotificationStatus.DELIVERED
                if ok
                else NotificationStatus.FAILED
                if final
                else NotificationStatus.PENDING
            )
            now = self._clock.now_ms()
            await asyncio.to_thread(
                self._store.record_delivery,
                DeliveryAttempt(notification.id, attempt, now, ok, detail),
                status,
            )
            log.info(
                "notification attempt",
                extra={
                    "alarm": notification.alarm,
                    "channel": notification.channel,
                    "attempt": attempt,
                    "ok": ok,
                    "detail": detail,
                },
            )
            if final:
                await asyncio.to_thread(self._record_outcome, notification, ok, attempt, detail)
                return
            await asyncio.sleep(self._backoff * 2 ** (attempt - 1))

    def _record_outcome(self, notification: NotificationRecord, ok: bool, attempts: int, detail: str) -> None:
        summary = (
            f"Successfully executed action {notification.channel}"
            if ok
            else f"Failed to execute action {notification.channel}"
        )
        data = {
            "actionState": "Succeeded" if ok else "Failed",
            "channel": notification.channel,
            "notificationId": notification.id,
            "attempts": attempts,
            "detail": detail,
            "test": bool(notification.payload.get("test")),
        }
        try:
            self._store.add_alarm_history(
                [AlarmHistoryItem(notification.alarm, self._clock.now_ms(), "Action", summary, data)]
            )
        except Exception:
            log.exception("recording a notification outcome failed", extra={"alarm": notification.alarm})
