"""Statistics over per-minute datapoints, and period buckets aligned to the epoch.

A period is a whole number of minutes (metric filters make standard-resolution metrics, one
datapoint a minute). ``period_values`` turns a series' minutes into one value per period
bucket for a statistic: ``SampleCount``, ``Sum``, ``Average``, ``Minimum``, ``Maximum`` or a
percentile ``pNN`` / ``pNN.N`` (nearest rank over the values seen, from the datapoints'
histograms).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

from logpond.model.errors import InvalidParameterError
from logpond.store.alerting import MetricDatapoint, merge_datapoints

__all__ = [
    "MINUTE_MS",
    "STATISTICS",
    "Statistic",
    "bucket_starts",
    "check_period",
    "parse_statistic",
    "period_values",
]

MINUTE_MS = 60_000
STATISTICS = ("SampleCount", "Average", "Sum", "Minimum", "Maximum")
_PERCENTILE_RE = re.compile(r"p(\d{1,2}(?:\.\d{1,2})?|100)")


@dataclass(frozen=True, slots=True)
class Statistic:
    """A statistic by name; ``percentile`` is set for ``pNN``."""

    name: str
    percentile: float | None = None

    def of(self, point: MetricDatapoint) -> float | None:
        """The statistic of one (merged) datapoint; ``None`` when it has no samples."""
        if point.sample_count <= 0:
            return None
        if self.percentile is not None:
            return _percentile(point.histogram, self.percentile)
        if self.name == "SampleCount":
            return point.sample_count
        if self.name == "Sum":
            return point.sum
        if self.name == "Average":
            return point.sum / point.sample_count
        if self.name == "Minimum":
            return point.minimum
        return point.maximum


def parse_statistic(text: str) -> Statistic:
    """``Sum``, ``Average``, ... or ``p99`` / ``p99.9``; anything else is refused."""
    if text in STATISTICS:
        return Statistic(text)
    match = _PERCENTILE_RE.fullmatch(text)
    if match:
        value = float(match.group(1))
        if 0 < value <= 100:
            return Statistic(text, value)
    raise InvalidParameterError("unknown statistic", statistic=text, allowed=[*STATISTICS, "pNN"])


def _percentile(histogram: Sequence[tuple[float, int]], percentile: float) -> float | None:
    total = sum(count for _, count in histogram)
    if total == 0:
        return None
    rank = max(1, math.ceil(percentile / 100 * total))
    seen = 0
    for value, count in sorted(histogram):
        seen += count
        if seen >= rank:
            return value
    return sorted(histogram)[-1][0]


def check_period(period_s: int) -> int:
    """A period in seconds: a positive multiple of 60."""
    if isinstance(period_s, bool) or not isinstance(period_s, int) or period_s < 60 or period_s % 60:
        raise InvalidParameterError("period must be a multiple of 60 seconds", period=period_s)
    return period_s


def bucket_starts(start_ms: int, end_ms: int, period_s: int) -> list[int]:
    """The starts of the period buckets (aligned to the epoch) inside [start, end)."""
    step = period_s * 1000
    first = -(-start_ms // step) * step
    return list(range(first, end_ms - step + 1, step))


def period_values(
    points: Sequence[MetricDatapoint], statistic: Statistic, period_s: int, buckets: Sequence[int]
) -> dict[int, float]:
    """The statistic of each bucket that has datapoints, keyed by the bucket's start."""
    step = period_s * 1000
    wanted = set(buckets)
    grouped: dict[int, list[MetricDatapoint]] = {}
    for point in points:
        start = point.minute_ms // step * step
        if start in wanted:
            grouped.setdefault(start, []).append(point)
    out: dict[int, float] = {}
    for start, members in grouped.items():
        value = statistic.of(merge_datapoints(members) if len(members) > 1 else members[0])
        if value is not None:
            out[start] = value
    return out
