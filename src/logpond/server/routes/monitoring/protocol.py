"""The CloudWatch metrics API's protocol side: members read with CloudWatch's checks, its
error codes, and the table of operations.

botocore speaks JSON 1.0 to this service (``X-Amz-Target: GraniteServiceVersion20100801.<Op>``,
PascalCase members, timestamps as epoch seconds). The service is "query compatible": an
error carries its legacy code in ``x-amzn-query-error`` (``ResourceNotFound;Sender``), which
is the code SDKs report.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from logpond.auth.policy import authorize
from logpond.model.errors import (
    AccessDeniedError,
    AuthenticationError,
    InvalidParameterError,
    LogpondError,
    ResourceNotFoundError,
)

from ...access import Access
from ...services import Services

__all__ = ["OPERATIONS", "TARGET_PREFIX", "Call", "error_code", "operation", "timestamp_out"]

TARGET_PREFIX = "GraniteServiceVersion20100801."


def error_code(exc: LogpondError) -> tuple[str, int, str]:
    """CloudWatch's (code, HTTP status, fault) for an error."""
    if isinstance(exc, ResourceNotFoundError):
        return "ResourceNotFound", 404, "Sender"
    if isinstance(exc, AuthenticationError):
        return exc.code, 400, "Sender"
    if isinstance(exc, AccessDeniedError):
        return "AccessDenied", 403, "Sender"
    if isinstance(exc, InvalidParameterError):
        return str(exc.details.get("cloudwatch_code", "InvalidParameterValue")), 400, "Sender"
    return "InternalServiceError", 500, "Receiver"


def timestamp_out(ms: int | None) -> float | None:
    """Epoch seconds, as JSON 1.0 sends timestamps."""
    return None if ms is None else ms / 1000


@dataclass(slots=True)
class Call:
    """One request: its members, who asks, the server's parts."""

    body: dict[str, Any]
    access: Access
    svc: Services

    def alarm(self, name: str) -> None:
        """Allow the operation's action on an alarm, or raise 403."""
        authorize(self.access.principal, self.access.action, self.svc.alerting.alarm_arn(name))

    def strings(self, name: str, *, max_items: int = 100) -> list[str] | None:
        value = self.body.get(name)
        if value is None:
            return None
        if (
            not isinstance(value, list)
            or not all(isinstance(v, str) for v in value)
            or len(value) > max_items
        ):
            raise InvalidParameterError(f"{name} must be a list of at most {max_items} strings")
        return value

    def string(self, name: str, *, required: bool = False, enum: tuple[str, ...] | None = None) -> str | None:
        value = self.body.get(name)
        if value is None:
            if required:
                raise InvalidParameterError(
                    f"The parameter {name} is required.", cloudwatch_code="MissingParameter"
                )
            return None
        if not isinstance(value, str):
            raise InvalidParameterError(f"{name} must be a string")
        if enum is not None and value not in enum:
            raise InvalidParameterError(f"{name} must be one of {', '.join(enum)}")
        return value

    def integer(self, name: str, *, minimum: int, maximum: int) -> int | None:
        value = self.body.get(name)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= maximum:
            raise InvalidParameterError(f"{name} must be an integer from {minimum} to {maximum}")
        return value

    def timestamp(self, name: str, *, required: bool = False) -> int | None:
        """A timestamp member (epoch seconds, or ISO-8601) as ms."""
        value = self.body.get(name)
        if value is None:
            if required:
                raise InvalidParameterError(
                    f"The parameter {name} is required.", cloudwatch_code="MissingParameter"
                )
            return None
        if isinstance(value, int | float) and not isinstance(value, bool):
            return int(value * 1000)
        if isinstance(value, str):
            try:
                parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
            except ValueError:
                raise InvalidParameterError(f"{name} is not a timestamp") from None
            if parsed.tzinfo is None:
                parsed = parsed.replace(tzinfo=UTC)
            return int(parsed.timestamp() * 1000)
        raise InvalidParameterError(f"{name} is not a timestamp")


Handler = Callable[[Call], Awaitable[Mapping[str, Any]]]


@dataclass(frozen=True, slots=True)
class Operation:
    name: str
    handler: Handler

    @property
    def action(self) -> str:
        return "cloudwatch:" + self.name


OPERATIONS: dict[str, Operation] = {}


def operation(name: str) -> Callable[[Handler], Handler]:
    """Register a handler for ``GraniteServiceVersion20100801.<name>``."""

    def register(handler: Handler) -> Handler:
        OPERATIONS[name] = Operation(name, handler)
        return handler

    return register
