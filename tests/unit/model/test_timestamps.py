"""Event times in every common form become milliseconds since the epoch."""

from __future__ import annotations

import pytest

from logpond.model.timestamps import format_iso, parse_timestamp

INSTANT = 1_769_249_730_123


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-01-24T10:15:30.123Z", INSTANT),
        ("2026-01-24T10:15:30.123456789Z", INSTANT),
        ("2026-01-24T12:15:30.123+02:00", INSTANT),
        ("2026-01-24 10:15:30.123", INSTANT),
        ("2026-01-24T10:15:30Z", INSTANT - 123),
        (INSTANT / 1000, INSTANT),
        (INSTANT, INSTANT),
        (INSTANT * 1000, INSTANT),
        (INSTANT * 1_000_000, INSTANT),
        (str(INSTANT), INSTANT),
        ("1769249730.123", INSTANT),
        (0, 0),
    ],
)
def test_parse(value: object, expected: int) -> None:
    """ISO-8601 (with or without offset or fraction) and epoch s/ms/us/ns all parse."""
    assert parse_timestamp(value) == expected


@pytest.mark.parametrize(
    "value",
    [
        "yesterday",
        "",
        "2026-13-45T00:00:00Z",
        "2026-01-24T10:15:30.12xZ",
        None,
        True,
        [1],
        float("nan"),
        float("inf"),
        -5,
        "99999-01-01T00:00:00Z",
    ],
)
def test_unreadable(value: object) -> None:
    """Text that is not a time, booleans, non-finite and negative numbers give None."""
    assert parse_timestamp(value) is None


def test_format_iso_round_trips() -> None:
    """Formatting is ISO-8601 UTC with exactly three fractional digits and Z."""
    assert format_iso(INSTANT) == "2026-01-24T10:15:30.123Z"
    assert format_iso(INSTANT - 123) == "2026-01-24T10:15:30.000Z"
    assert parse_timestamp(format_iso(INSTANT)) == INSTANT
