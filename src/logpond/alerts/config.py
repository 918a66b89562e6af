"""The ``alerts`` section of the settings: evaluator and delivery knobs, and metric filters,
channels and alarms declared as code. Checked when the settings load, so a bad pattern or
alarm stops the server at start with the setting's name."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from logpond.model.errors import LogpondError

from .alarms import compile_alarm, definition_from_native
from .delivery import DEFAULT_ATTEMPTS, DEFAULT_BACKOFF_SECONDS
from .evaluator import DEFAULT_SETTLE_SECONDS
from .metric_filters import metric_filter_from_native

__all__ = ["AlarmConfig", "AlertsConfig", "ChannelConfig", "MetricFilterConfig"]

# CloudWatch keeps one-minute datapoints for 15 days.
DEFAULT_METRICS_RETENTION_DAYS = 15


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class MetricFilterConfig(_Strict):
    """A metric filter (``docs/alerts.md``); created or replaced at start, matched by group and name."""

    group: str
    name: str = Field(min_length=1, max_length=512)
    pattern: str = Field("", max_length=1024)
    metric_name: str
    namespace: str
    value: str = "1"
    default_value: float | None = None
    dimensions: dict[str, str] | None = None
    unit: str | None = None

    @model_validator(mode="after")
    def _valid(self) -> MetricFilterConfig:
        try:
            metric_filter_from_native(self.model_dump(exclude_none=True), 0)
        except LogpondError as exc:
            raise ValueError(f"{exc.message} {exc.details}" if exc.details else exc.message) from None
        return self


class ChannelConfig(_Strict):
    """A notification channel. Secrets come from the environment (``*_env``: the variable's
    name) or a file (``*_file``), never from this file."""

    name: str = Field(min_length=1, max_length=256)
    type: Literal["slack", "webhook", "email"]
    url_env: str | None = None
    url_file: Path | None = None
    secret_env: str | None = None
    secret_file: Path | None = None
    password_env: str | None = None
    password_file: Path | None = None
    host: str | None = None
    port: int | None = Field(None, ge=1, le=65535)
    from_address: str | None = None
    to: list[str] | None = None
    starttls: bool | None = None
    username: str | None = None


class AlarmConfig(_Strict):
    """An alarm in the native shape (``docs/alerts.md``); created or replaced at start."""

    name: str = Field(min_length=1, max_length=255)
    description: str | None = None
    namespace: str | None = None
    metric_name: str | None = None
    dimensions: dict[str, str] | None = None
    statistic: str | None = None
    extended_statistic: str | None = None
    period: int | None = None
    unit: str | None = None
    evaluation_periods: int
    datapoints_to_alarm: int | None = None
    threshold: float
    comparison: str
    treat_missing_data: str | None = None
    actions_enabled: bool | None = None
    alarm_actions: list[str] | None = None
    ok_actions: list[str] | None = None
    insufficient_data_actions: list[str] | None = None
    metrics: list[dict[str, Any]] | None = None

    def definition(self) -> dict[str, Any]:
        """The CloudWatch shape of this alarm."""
        native = self.model_dump(exclude_none=True)
        return definition_from_native(native.pop("name"), native)

    @model_validator(mode="after")
    def _valid(self) -> AlarmConfig:
        try:
            compile_alarm(self.definition())
        except LogpondError as exc:
            raise ValueError(f"{exc.message} {exc.details}" if exc.details else exc.message) from None
        return self


class AlertsConfig(_Strict):
    # Seconds after a period boundary before the period is evaluated (late events).
    settle_seconds: float = Field(DEFAULT_SETTLE_SECONDS, ge=0, le=300)
    # Days metric datapoints are kept.
    metrics_retention_days: int = Field(DEFAULT_METRICS_RETENTION_DAYS, ge=1, le=3650)
    # Tries per notification, and the first wait between them (doubled each time).
    delivery_attempts: int = Field(DEFAULT_ATTEMPTS, ge=1, le=20)
    retry_backoff_seconds: float = Field(DEFAULT_BACKOFF_SECONDS, ge=0, le=3600)
    # The server's address as people reach it, for links in notifications.
    public_url: str | None = None
    metric_filters: list[MetricFilterConfig] = Field(default_factory=list)
    channels: list[ChannelConfig] = Field(default_factory=list)
    alarms: list[AlarmConfig] = Field(default_factory=list)

    @field_validator("alarms")
    @classmethod
    def _unique_alarms(cls, value: list[AlarmConfig]) -> list[AlarmConfig]:
        names = [a.name for a in value]
        if len(set(names)) != len(names):
            raise ValueError("an alarm is declared twice")
        return value

    @field_validator("channels")
    @classmethod
    def _unique_channels(cls, value: list[ChannelConfig]) -> list[ChannelConfig]:
        names = [c.name for c in value]
        if len(set(names)) != len(names):
            raise ValueError("a channel is declared twice")
        return value
