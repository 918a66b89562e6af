"""Metric filters: PutMetricFilter, DescribeMetricFilters, DeleteMetricFilter, TestMetricFilter.

Filters are validated and stored here (the pattern must parse; the metric value must be a
number, a JSON selector, or a column of a space-delimited pattern); turning matches into
metric datapoints is the alerting side's work.
"""

from __future__ import annotations

import re
from typing import Any

from logpond.model.errors import InvalidParameterError
from logpond.query import FilterPattern, match_messages, parse_filter_pattern, parse_metric_value
from logpond.store.base import MetricFilter

from .protocol import STREAM_NAME_RE, Call, decode_token, encode_token, in_thread, operation, validation

__all__ = ["STANDARD_UNITS"]

STANDARD_UNITS = (
    "Seconds", "Microseconds", "Milliseconds", "Bytes", "Kilobytes", "Megabytes", "Gigabytes",
    "Terabytes", "Bits", "Kilobits", "Megabits", "Gigabits", "Terabits", "Percent", "Count",
    "Bytes/Second", "Kilobytes/Second", "Megabytes/Second", "Gigabytes/Second", "Terabytes/Second",
    "Bits/Second", "Kilobits/Second", "Megabits/Second", "Gigabits/Second", "Terabits/Second",
    "Count/Second", "None",
)  # fmt: skip
SYSTEM_FIELD_DIMENSIONS = ("@aws.account", "@aws.region")
MAX_DIMENSIONS = 3
MAX_TEST_MESSAGES = 50
_METRIC_NAME_RE = re.compile(r"[^:*$]*")
_FIELD_REFERENCE_RE = re.compile(r"\$(\.[^\s]+|[A-Za-z0-9_\-]+)")


def _pattern(text: str) -> FilterPattern:
    try:
        return parse_filter_pattern(text)
    except InvalidParameterError as exc:
        raise InvalidParameterError(f"Invalid metric filter pattern: {exc}") from None


def _transformation(raw: object, index: int, pattern: FilterPattern) -> dict[str, Any]:
    where = f"metricTransformations.{index}.member"
    if not isinstance(raw, dict):
        raise validation(raw, where, "be an object")
    out: dict[str, Any] = {}
    for member in ("metricName", "metricNamespace"):
        value = raw.get(member)
        if not isinstance(value, str) or not value:
            raise validation(value, f"{where}.{member}", "have length greater than or equal to 1")
        if len(value) > 255:
            raise validation(value, f"{where}.{member}", "have length less than or equal to 255")
        if not _METRIC_NAME_RE.fullmatch(value):
            raise validation(value, f"{where}.{member}", "satisfy regular expression pattern: [^:*$]*")
        out[member] = value
    value = raw.get("metricValue")
    if not isinstance(value, str) or not value:
        raise validation(value, f"{where}.metricValue", "have length greater than or equal to 1")
    if len(value) > 100:
        raise validation(value, f"{where}.metricValue", "have length less than or equal to 100")
    try:
        parse_metric_value(value, pattern)
    except InvalidParameterError as exc:
        raise InvalidParameterError(f"Invalid metric value: {exc}") from None
    out["metricValue"] = value
    default = raw.get("defaultValue")
    if default is not None:
        if isinstance(default, bool) or not isinstance(default, int | float):
            raise validation(default, f"{where}.defaultValue", "be a number")
        out["defaultValue"] = float(default)
    dimensions = raw.get("dimensions")
    if dimensions is not None:
        if not isinstance(dimensions, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in dimensions.items()
        ):
            raise validation(dimensions, f"{where}.dimensions", "be a map of strings")
        if len(dimensions) > MAX_DIMENSIONS:
            raise InvalidParameterError(f"A metric filter can have at most {MAX_DIMENSIONS} dimensions.")
        for key, reference in dimensions.items():
            if not 1 <= len(key) <= 255 or len(reference) > 255:
                raise validation(key, f"{where}.dimensions", "have keys and values of 1-255 characters")
            if not _FIELD_REFERENCE_RE.fullmatch(reference):
                raise InvalidParameterError(
                    f"Invalid dimension value '{reference}': it must refer to a field of the pattern "
                    "($.field or $field)."
                )
        if dimensions and default is not None:
            raise InvalidParameterError("A metric filter with dimensions cannot have a defaultValue.")
        out["dimensions"] = dict(dimensions)
    unit = raw.get("unit")
    if unit is not None:
        if unit not in STANDARD_UNITS:
            raise validation(unit, f"{where}.unit", f"satisfy enum value set: [{', '.join(STANDARD_UNITS)}]")
        out["unit"] = unit
    return out


def _shape(metric_filter: MetricFilter) -> dict[str, Any]:
    out: dict[str, Any] = {
        "filterName": metric_filter.name,
        "filterPattern": metric_filter.pattern,
        "metricTransformations": metric_filter.transformations,
        "creationTime": metric_filter.created_ms,
        "logGroupName": metric_filter.group,
    }
    out.update(metric_filter.options)
    return out


@operation("PutMetricFilter")
async def put_metric_filter(call: Call) -> dict[str, Any]:
    group = call.required_group_name()
    name = call.required_string("filterName", max_len=512, pattern=STREAM_NAME_RE)
    text = call.required_string("filterPattern", min_len=0, max_len=1024)
    raw = call.body.get("metricTransformations")
    apply_on_transformed = call.boolean("applyOnTransformedLogs")
    selection = call.string("fieldSelectionCriteria", min_len=0, max_len=2000)
    system_dimensions = call.strings("emitSystemFieldDimensions")
    call.access.group(group)
    if not isinstance(raw, list):
        raise validation("null", "metricTransformations", "not be null")
    if len(raw) != 1:
        raise validation(raw, "metricTransformations", "have length less than or equal to 1" if raw else
                         "have length greater than or equal to 1")  # fmt: skip
    pattern = _pattern(text)
    transformations = [_transformation(raw[0], 1, pattern)]
    options: dict[str, Any] = {}
    if apply_on_transformed is not None:
        options["applyOnTransformedLogs"] = apply_on_transformed
    if selection is not None:
        options["fieldSelectionCriteria"] = selection
    if system_dimensions is not None:
        unknown = [d for d in system_dimensions if d not in SYSTEM_FIELD_DIMENSIONS]
        if unknown:
            raise InvalidParameterError(f"Unsupported system field dimension: {unknown[0]}")
        options["emitSystemFieldDimensions"] = system_dimensions
    call.existing_group(group)
    # Through alerting, which starts applying the filter to the events that arrive next.
    await in_thread(
        call.svc.alerting.put_metric_filter,
        MetricFilter(group, name, text, transformations, call.svc.clock.now_ms(), options),
    )
    return {}


@operation("DescribeMetricFilters")
async def describe_metric_filters(call: Call) -> dict[str, Any]:
    group = call.group_name(required=False)
    prefix = call.string("filterNamePrefix", max_len=512, pattern=STREAM_NAME_RE)
    metric_name = call.string("metricName", min_len=0, max_len=255)
    namespace = call.string("metricNamespace", min_len=0, max_len=255)
    limit = call.integer("limit", minimum=1, maximum=50) or 50
    after = decode_token(call.string("nextToken"))
    if prefix is not None and group is None:
        raise InvalidParameterError("filterNamePrefix requires logGroupName.")
    if (metric_name is None) != (namespace is None):
        raise InvalidParameterError("metricName and metricNamespace must be given together.")
    if group is not None:
        call.access.group(group)
        call.existing_group(group)
    filters = await in_thread(call.svc.store.list_metric_filters, group)
    chosen = [
        f
        for f in filters
        if (prefix is None or f.name.startswith(prefix))
        and (
            metric_name is None
            or any(
                t.get("metricName") == metric_name and t.get("metricNamespace") == namespace
                for t in f.transformations
            )
        )
        and (after is None or [f.group, f.name] > after)
        and call.access.allows_group(f.group)
    ]
    page = chosen[:limit]
    body: dict[str, Any] = {"metricFilters": [_shape(f) for f in page]}
    if len(chosen) > limit:
        body["nextToken"] = encode_token([page[-1].group, page[-1].name])
    return body


@operation("DeleteMetricFilter")
async def delete_metric_filter(call: Call) -> dict[str, Any]:
    group = call.required_group_name()
    name = call.required_string("filterName", max_len=512, pattern=STREAM_NAME_RE)
    call.access.group(group)
    call.existing_group(group)
    await in_thread(call.svc.alerting.delete_metric_filter, group, name)
    return {}


@operation("TestMetricFilter")
async def test_metric_filter(call: Call) -> dict[str, Any]:
    text = call.required_string("filterPattern", min_len=0, max_len=1024)
    messages = call.strings("logEventMessages", required=True, min_items=1, max_items=MAX_TEST_MESSAGES)
    call.access.account()
    pattern = _pattern(text)
    matches = await in_thread(match_messages, pattern, messages or [])
    return {
        "matches": [
            {
                "eventNumber": m.event_number,
                "eventMessage": m.event_message,
                "extractedValues": m.extracted_values,
            }
            for m in matches
        ]
    }
