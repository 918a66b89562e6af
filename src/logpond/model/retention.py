"""Retention: the values CloudWatch allows, and when an event expires."""

from __future__ import annotations

from .errors import InvalidParameterError

__all__ = ["RETENTION_DAYS", "expiry_cutoff_ms", "parse_retention_days"]

# CloudWatch Logs' allowed retention periods in days; ``None`` means never expire.
RETENTION_DAYS: tuple[int, ...] = (
    1,
    3,
    5,
    7,
    14,
    30,
    60,
    90,
    120,
    150,
    180,
    365,
    400,
    545,
    731,
    1096,
    1827,
    2192,
    2557,
    2922,
    3288,
    3653,
)

DAY_MS = 86_400_000


def parse_retention_days(value: object) -> int | None:
    """Validate a retention period: one of ``RETENTION_DAYS``, or ``None``/"never" for none."""
    if value is None or value == "never":
        return None
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise InvalidParameterError("retention must be a number of days", value=repr(value))
    try:
        days = int(value)
    except ValueError:
        raise InvalidParameterError("retention must be a number of days", value=value) from None
    if days not in RETENTION_DAYS:
        raise InvalidParameterError(
            "retention is not an allowed value", value=days, allowed=list(RETENTION_DAYS)
        )
    return days


def expiry_cutoff_ms(retention_days: int | None, now_ms: int) -> int | None:
    """Events with a timestamp below the cutoff have expired; ``None``: nothing expires."""
    if retention_days is None:
        return None
    return now_ms - retention_days * DAY_MS
