"""Metric filters applied to events as they are committed, aggregated per minute.

:class:`MetricFilterHook` is a commit hook of the ingest pipeline. Calling it only queues the
committed batch (a bounded queue: when it is full the batch is counted as dropped, never
waited for), so ingest is never slowed by alerting. A worker thread takes the batches,
runs each group's filters over them with the vectorized matcher, and adds the datapoints to
per-minute aggregates in memory: per series (namespace, name, dimension values) and minute,
the count, sum, minimum, maximum and the values seen. :meth:`MetricFilterHook.flush` hands
the aggregates to the store; the server calls it every few seconds and the evaluator before
each evaluation.

CloudWatch's semantics (``docs/alerts.md``): a matching event gives one datapoint whose
value is the filter's ``metricValue`` (a number, or a field's value, which must be
numeric); an event that does not match gives ``defaultValue`` when the filter has one; a
datapoint's dimensions are fields of the event (an event lacking one gives no datapoint);
a datapoint's minute is the event's timestamp.
"""

from __future__ import annotations

import logging
import queue
import re
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from logpond.model.errors import InvalidParameterError, LogpondError
from logpond.query import FilterPatternMatcher, MetricValue, parse_filter_pattern, parse_metric_value
from logpond.query.filter_pattern_ast import FilterPattern, Selector
from logpond.query.matcher import JsonMembers, json_members
from logpond.store.alerting import MetricDatapoint, MetricSeries
from logpond.store.base import AppendResult, MetricFilter, Store

from .statistics import MINUTE_MS

__all__ = [
    "STANDARD_UNITS",
    "CompiledMetricFilter",
    "MetricFilterHook",
    "MinuteAggregates",
    "compile_metric_filter",
    "metric_filter_from_native",
    "metric_filter_to_native",
]

log = logging.getLogger("logpond.alerts")

STANDARD_UNITS = (
    "Seconds",
    "Microseconds",
    "Milliseconds",
    "Bytes",
    "Kilobytes",
    "Megabytes",
    "Gigabytes",
    "Terabytes",
    "Bits",
    "Kilobits",
    "Megabits",
    "Gigabits",
    "Terabits",
    "Percent",
    "Count",
    "Bytes/Second",
    "Kilobytes/Second",
    "Megabytes/Second",
    "Gigabytes/Second",
    "Terabytes/Second",
    "Bits/Second",
    "Kilobits/Second",
    "Megabits/Second",
    "Gigabits/Second",
    "Terabits/Second",
    "Count/Second",
    "None",
)
MAX_DIMENSIONS = 3
_METRIC_NAME_RE = re.compile(r"[^:*$]{1,255}")
_NUMBER_TEXT = r"^\s*[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?\s*$"
# Batches waiting for the worker before new ones are dropped (and counted).
MAX_QUEUED_BATCHES = 1024
# Distinct values kept per series and minute for percentiles; beyond it values are rounded.
MAX_HISTOGRAM_VALUES = 2048


@dataclass(frozen=True)
class CompiledMetricFilter:
    """A stored metric filter, parsed once: what the worker runs per batch."""

    group: str
    name: str
    pattern: FilterPattern
    matcher: FilterPatternMatcher
    namespace: str
    metric_name: str
    value: MetricValue
    default: float | None
    dimensions: tuple[tuple[str, MetricValue], ...]
    unit: str | None

    def extracted(self) -> list[MetricValue]:
        values = [] if self.value.number is not None else [self.value]
        return values + [v for _, v in self.dimensions]


def _check_name(value: object, what: str) -> str:
    if not isinstance(value, str) or not _METRIC_NAME_RE.fullmatch(value):
        raise InvalidParameterError(f"{what} must be 1-255 characters without : * or $", value=value)
    return value


def compile_metric_filter(metric_filter: MetricFilter) -> CompiledMetricFilter:
    """Check and parse a metric filter (CloudWatch's rules); raises ``InvalidParameterError``."""
    pattern = parse_filter_pattern(metric_filter.pattern)
    if len(metric_filter.transformations) != 1:
        raise InvalidParameterError("a metric filter has exactly one metric transformation")
    t = metric_filter.transformations[0]
    namespace = _check_name(t.get("metricNamespace"), "metricNamespace")
    name = _check_name(t.get("metricName"), "metricName")
    value = parse_metric_value(str(t.get("metricValue", "")), pattern)
    default = t.get("defaultValue")
    if default is not None and (isinstance(default, bool) or not isinstance(default, int | float)):
        raise InvalidParameterError("defaultValue must be a number")
    raw_dimensions = t.get("dimensions") or {}
    if not isinstance(raw_dimensions, Mapping) or len(raw_dimensions) > MAX_DIMENSIONS:
        raise InvalidParameterError(f"dimensions must be a map of at most {MAX_DIMENSIONS} fields")
    if raw_dimensions and default is not None:
        raise InvalidParameterError("a metric filter with dimensions cannot have a defaultValue")
    dimensions = []
    for key, reference in sorted(raw_dimensions.items()):
        if not isinstance(key, str) or not 1 <= len(key) <= 255 or not isinstance(reference, str):
            raise InvalidParameterError("dimension names and fields are strings", dimension=key)
        parsed = parse_metric_value(reference, pattern)
        if parsed.number is not None:
            raise InvalidParameterError("a dimension must name a field ($.field or $field)", dimension=key)
        dimensions.append((key, parsed))
    unit = t.get("unit")
    if unit is not None and unit not in STANDARD_UNITS:
        raise InvalidParameterError("unknown unit", unit=unit, units=list(STANDARD_UNITS))
    return CompiledMetricFilter(
        metric_filter.group,
        metric_filter.name,
        pattern,
        FilterPatternMatcher(pattern),
        namespace,
        name,
        value,
        None if default is None else float(default),
        tuple(dimensions),
        unit,
    )


_NATIVE = {
    "metric_name": "metricName",
    "namespace": "metricNamespace",
    "value": "metricValue",
    "default_value": "defaultValue",
    "dimensions": "dimensions",
    "unit": "unit",
}


def metric_filter_from_native(spec: Mapping[str, Any], created_ms: int) -> MetricFilter:
    """A metric filter from the native shape (``group``, ``name``, ``pattern``,
    ``metric_name``, ``namespace``, ``value``, ``default_value``, ``dimensions``, ``unit``),
    checked."""
    unknown = sorted(set(spec) - {"group", "name", "pattern", *_NATIVE})
    if unknown:
        raise InvalidParameterError("unknown metric filter setting", setting=unknown[0])
    for key in ("group", "name", "metric_name", "namespace"):
        if not isinstance(spec.get(key), str) or not spec[key]:
            raise InvalidParameterError(f"metric filter {key} is required", setting=key)
    pattern = spec.get("pattern", "")
    if not isinstance(pattern, str):
        raise InvalidParameterError("metric filter pattern must be a string", setting="pattern")
    value = spec.get("value", "1")
    transformation: dict[str, Any] = {
        "metricName": spec["metric_name"],
        "metricNamespace": spec["namespace"],
        "metricValue": str(value)
        if isinstance(value, int | float) and not isinstance(value, bool)
        else value,
    }
    for key in ("default_value", "dimensions", "unit"):
        if spec.get(key) is not None:
            transformation[_NATIVE[key]] = spec[key]
    if "defaultValue" in transformation and isinstance(transformation["defaultValue"], int):
        transformation["defaultValue"] = float(transformation["defaultValue"])
    result = MetricFilter(spec["group"], spec["name"], pattern, [transformation], created_ms)
    compile_metric_filter(result)
    return result


def metric_filter_to_native(metric_filter: MetricFilter) -> dict[str, Any]:
    """The native shape of a stored filter."""
    reverse = {v: k for k, v in _NATIVE.items()}
    out: dict[str, Any] = {
        "group": metric_filter.group,
        "name": metric_filter.name,
        "pattern": metric_filter.pattern,
        "created": metric_filter.created_ms,
    }
    for key, value in (metric_filter.transformations[0] if metric_filter.transformations else {}).items():
        if key in reverse:
            out[reverse[key]] = value
    return out


# --- aggregation -------------------------------------------------------------------------------


@dataclass
class _Aggregate:
    count: float = 0.0
    total: float = 0.0
    low: float = float("inf")
    high: float = float("-inf")
    values: dict[float, int] = field(default_factory=dict)

    def add(self, value: float, count: int) -> None:
        self.count += count
        self.total += value * count
        self.low = min(self.low, value)
        self.high = max(self.high, value)
        if value not in self.values and len(self.values) >= MAX_HISTOGRAM_VALUES:
            value = float(f"{value:.3g}")
        self.values[value] = self.values.get(value, 0) + count


class MinuteAggregates:
    """Datapoints added up per series and minute, until drained."""

    def __init__(self) -> None:
        self._data: dict[tuple[MetricSeries, int], _Aggregate] = {}
        self._units: dict[MetricSeries, str | None] = {}
        self._lock = threading.Lock()

    def add_batch(self, filters: Sequence[CompiledMetricFilter], batch: pa.RecordBatch) -> None:
        """Run ``filters`` (all of the batch's one group) over ``batch`` and add the results."""
        minutes = pc.multiply(
            pc.divide(batch.column("timestamp"), pa.scalar(MINUTE_MS, pa.int64())),
            pa.scalar(MINUTE_MS, pa.int64()),
        )
        # Each event's JSON is read once for every filter of the group, not once per filter.
        selectors: dict[tuple[str | int, ...], Selector] = {}
        for metric_filter in filters:
            for selector in metric_filter.matcher.selectors():
                selectors.setdefault(selector.path, selector)
            for value in metric_filter.extracted():
                if value.selector is not None:
                    selectors.setdefault(value.selector.path, value.selector)
        members = json_members(batch, list(selectors.values())) if selectors else None
        for metric_filter in filters:
            try:
                self._apply(metric_filter, batch, minutes, members)
            except Exception:
                log.exception(
                    "metric filter failed on a batch",
                    extra={"log_group": metric_filter.group, "filter": metric_filter.name},
                )

    def _apply(
        self, f: CompiledMetricFilter, batch: pa.RecordBatch, minutes: pa.Array, members: JsonMembers | None
    ) -> None:
        mask = f.matcher.mask(batch, members)
        extracted = f.matcher.extract(batch, f.extracted(), members) if f.extracted() else {}
        if f.value.number is not None:
            values = (
                pa.array([f.value.number] * batch.num_rows, pa.float64())
                if batch.num_rows
                else pa.array([], pa.float64())
            )
        else:
            text = extracted[f.value.key]
            numeric = pc.fill_null(pc.match_substring_regex(text, _NUMBER_TEXT), False)
            values = pc.if_else(numeric, pc.utf8_trim_whitespace(text), None).cast(pa.float64())
        keep = pc.and_(mask, pc.is_valid(values))
        columns: dict[str, pa.Array] = {"minute": minutes}
        names = []
        for index, (_, ref) in enumerate(f.dimensions):
            column = extracted[ref.key]
            keep = pc.and_(keep, pc.is_valid(column))
            names.append(f"d{index}")
            columns[f"d{index}"] = column
        if f.default is not None:
            # Events that do not match give the default value (filters with a default have
            # no dimensions).
            values = pc.if_else(mask, values, pa.scalar(f.default, pa.float64()))
            keep = pc.or_(keep, pc.invert(mask))
        columns["value"] = values
        table = pa.table(columns).filter(keep)
        if table.num_rows == 0:
            return
        grouped = table.group_by(["minute", *names, "value"]).aggregate([("value", "count")])
        rows = grouped.to_pydict()
        with self._lock:
            for index in range(grouped.num_rows):
                dims = tuple((key, rows[f"d{i}"][index]) for i, (key, _) in enumerate(f.dimensions))
                series = MetricSeries(f.namespace, f.metric_name, tuple(sorted(dims)))
                key = (series, rows["minute"][index])
                aggregate = self._data.get(key)
                if aggregate is None:
                    aggregate = self._data[key] = _Aggregate()
                aggregate.add(rows["value"][index], rows["value_count"][index])
                self._units[series] = f.unit

    def drain(self) -> list[MetricDatapoint]:
        """The aggregates since the last drain, as datapoints; the buffer starts empty."""
        with self._lock:
            data, self._data = self._data, {}
            units = dict(self._units)
        return [
            MetricDatapoint(
                series,
                minute,
                a.count,
                a.total,
                a.low,
                a.high,
                units.get(series),
                tuple(sorted(a.values.items())),
            )
            for (series, minute), a in data.items()
        ]


_STOP = object()


class MetricFilterHook:
    """The commit hook and its worker; see the module docstring."""

    def __init__(self, store: Store, *, max_queued: int = MAX_QUEUED_BATCHES) -> None:
        self._store = store
        self._queue: queue.Queue[Any] = queue.Queue(maxsize=max_queued)
        self._filters: dict[str, list[CompiledMetricFilter]] = {}
        self._filters_lock = threading.Lock()
        self.aggregates = MinuteAggregates()
        self.dropped_batches = 0
        self.processed_batches = 0
        self._thread = threading.Thread(target=self._run, name="logpond-metric-filters", daemon=True)
        self._thread.start()

    # Filters

    def reload(self) -> None:
        """Compile the store's metric filters (invalid ones are logged and skipped)."""
        by_group: dict[str, list[CompiledMetricFilter]] = {}
        for stored in self._store.list_metric_filters():
            try:
                compiled = compile_metric_filter(stored)
            except LogpondError as exc:
                log.warning(
                    "metric filter skipped",
                    extra={"log_group": stored.group, "filter": stored.name, "reason": exc.message},
                )
                continue
            by_group.setdefault(stored.group, []).append(compiled)
        with self._filters_lock:
            self._filters = by_group

    @property
    def filter_count(self) -> int:
        return sum(len(v) for v in self._filters.values())

    # The hook (the event loop's thread): queue and return

    def __call__(self, batch: pa.RecordBatch, result: AppendResult, *_: Any) -> None:
        if not self._filters:
            return
        try:
            self._queue.put_nowait(batch)
        except queue.Full:
            self.dropped_batches += 1
            if self.dropped_batches in (1, 10, 100) or self.dropped_batches % 1000 == 0:
                log.warning("metric filters behind; batch dropped", extra={"dropped": self.dropped_batches})

    # The worker thread

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            try:
                if item is _STOP:
                    return
                if isinstance(item, threading.Event):
                    item.set()
                    continue
                self._process(item)
            except Exception:
                log.exception("metric filter worker failed on a batch")
            finally:
                self._queue.task_done()

    def _process(self, batch: pa.RecordBatch) -> None:
        with self._filters_lock:
            filters = self._filters
        groups = batch.column("log_group")
        names = pc.unique(groups).to_pylist()
        for name in names:
            chosen = filters.get(name)
            if not chosen:
                continue
            part = batch if len(names) == 1 else batch.filter(pc.equal(groups, pa.scalar(name, pa.string())))
            self.aggregates.add_batch(chosen, part)
        self.processed_batches += 1

    def sync(self, timeout: float = 30.0) -> bool:
        """Wait until every batch queued before the call has been aggregated."""
        marker = threading.Event()
        try:
            self._queue.put(marker, timeout=timeout)
        except queue.Full:
            return False
        return marker.wait(timeout)

    def flush(self, *, sync: bool = True) -> int:
        """Write the aggregates to the store (after the queued batches, when ``sync``);
        returns how many datapoints were written."""
        if sync:
            self.sync()
        points = self.aggregates.drain()
        if points:
            self._store.add_metric_datapoints(points)
        return len(points)

    def close(self) -> None:
        self._queue.put(_STOP)
        self._thread.join(30)


Reloader = Callable[[], None]
