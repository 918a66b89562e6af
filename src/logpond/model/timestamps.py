"""Reading event times: epoch numbers in any common unit, or ISO-8601 text."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from functools import lru_cache

__all__ = ["MAX_TIMESTAMP_MS", "format_iso", "parse_timestamp"]

# Milliseconds since the epoch of 9999-12-31T23:59:59.999Z: the last instant we store.
MAX_TIMESTAMP_MS = 253_402_300_799_999


@lru_cache(maxsize=4096)
def _second_ms(prefix: str) -> int | None:
    """``YYYY-MM-DDTHH:MM:SS`` (UTC) as ms; memoized: a batch repeats few distinct seconds."""
    try:
        return int(datetime.fromisoformat(prefix).replace(tzinfo=UTC).timestamp()) * 1000
    except ValueError:
        return None


def parse_timestamp(value: object) -> int | None:
    """Epoch seconds, milliseconds, microseconds or nanoseconds, or ISO-8601 text, to ms.

    Numbers are told apart by magnitude (below 1e11 seconds, 1e14 milliseconds, 1e17
    microseconds, else nanoseconds). ISO-8601 text without an offset is UTC. Returns
    ``None`` for anything else, or for an instant outside years 1970-9999.
    """
    if isinstance(value, bool):
        return None
    if type(value) is str and len(value) == 24 and value[19] == "." and value[23] == "Z":
        # The common shape, 2026-01-24T10:15:30.123Z, without the general parser.
        base = _second_ms(value[:19])
        millis = value[20:23]
        if base is not None and millis.isdigit():
            return base + int(millis)
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return None
        if text[0].isdigit() and text.replace(".", "", 1).isdigit():
            return parse_timestamp(float(text) if "." in text else int(text))
        return _parse_iso(text)
    if isinstance(value, int | float):
        if isinstance(value, float) and not math.isfinite(value):
            return None
        magnitude = abs(value)
        if magnitude < 1e11:
            ms = value * 1000
        elif magnitude < 1e14:
            ms = value
        elif magnitude < 1e17:
            ms = value / 1000
        else:
            ms = value / 1_000_000
        result = int(ms)
        return result if 0 <= result <= MAX_TIMESTAMP_MS else None
    return None


def _parse_iso(text: str) -> int | None:
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    dot = text.find(".")
    if dot != -1:
        # Python reads at most 6 fractional digits; nanosecond precision is cut to micro.
        end = dot + 1
        while end < len(text) and text[end].isdigit():
            end += 1
        if end - dot - 1 > 6:
            text = text[: dot + 7] + text[end:]
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    try:
        result = int(parsed.timestamp() * 1000)
    except (OverflowError, OSError, ValueError):
        return None
    return result if 0 <= result <= MAX_TIMESTAMP_MS else None


def format_iso(ms: int) -> str:
    """Milliseconds since the epoch as ISO-8601 UTC with milliseconds: ``...T10:15:30.123Z``."""
    return datetime.fromtimestamp(ms // 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"
