"""Filter patterns over Arrow batches as they arrive: metric filters and live tail.

:class:`FilterPatternMatcher` compiles a pattern once and then answers, for a
``RecordBatch`` with :data:`~logpond.model.schema.EVENT_SCHEMA`, which events match
(:meth:`~FilterPatternMatcher.mask`) and what a metric filter extracts from them
(:meth:`~FilterPatternMatcher.extract`). The work is done by ``pyarrow.compute`` kernels
(substring and RE2 searches, LIKE, comparisons); Python runs per event only to read JSON
members that are not promoted columns. The semantics are those of
:mod:`logpond.query.record`, identical to the SQL predicates of
:mod:`logpond.query.sql.filter_pattern`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.compute as pc

from logpond.model.schema import EVENT_SCHEMA, PROMOTED_COLUMNS

from .filter_pattern import parse_filter_pattern
from .filter_pattern_ast import (
    FIELD_REGEX,
    ColumnAnd,
    ColumnCondition,
    ColumnOr,
    DelimitedPattern,
    FilterPattern,
    JsonAnd,
    JsonCheck,
    JsonExpr,
    JsonOr,
    JsonPattern,
    MatchAll,
    MetricValue,
    MixedOptional,
    PatternNumber,
    PatternRegex,
    PatternString,
    PatternValue,
    Selector,
    Term,
    TermKind,
    TermPattern,
    glob_to_like,
    strip_field,
)
from .record import NUMBER_PATTERN, format_number, iso_timestamp, json_leaf_text, json_string

__all__ = ["FilterPatternMatcher", "MetricFilterMatch", "match_messages", "message_column"]

# Kinds of a JSON member, as small integers so that conditions run as vector comparisons.
_MISSING, _NULL, _STRING, _NUMBER, _TRUE, _FALSE, _CONTAINER = range(7)
_SCALARS = pa.array([_STRING, _NUMBER, _TRUE, _FALSE], pa.int8())
_NUMBER_FULL = f"^(?:{NUMBER_PATTERN})$"

_SHORT_ESCAPES = (("\\", "\\\\"), ('"', '\\"'), ("\b", "\\b"), ("\t", "\\t"), ("\n", "\\n"),
                  ("\f", "\\f"), ("\r", "\\r"))  # fmt: skip
_RARE_ESCAPES = "[\x00-\x07\x0b\x0e-\x1f\u2028\u2029]"


def _json_strings(values: pa.Array) -> pa.Array:
    """Each string as a JSON string literal (:func:`~logpond.query.record.json_string`)."""
    rare = pc.fill_null(pc.match_substring_regex(values, _RARE_ESCAPES), False)
    if pc.any(rare).as_py():
        return pa.array([None if v is None else json_string(v) for v in values.to_pylist()], pa.string())
    out = values
    for char, escape in _SHORT_ESCAPES:
        out = pc.replace_substring(out, char, escape)
    return pc.binary_join_element_wise('"', out, '"', "")


def message_column(batch: pa.RecordBatch) -> pa.Array:
    """``@message`` of every event of ``batch`` (a string array, null where there is none)."""
    fields = batch.column("fields")
    message = batch.column("message")
    structured = pc.is_valid(fields)
    if not pc.any(structured).as_py():
        return message
    stamps = pc.strftime(
        batch.column("timestamp").cast(pa.timestamp("ms", tz="UTC")),
        format="%Y-%m-%dT%H:%M:%SZ",
    )
    parts: list[Any] = ['{"timestamp":"', stamps, '"']
    for name in (*PROMOTED_COLUMNS, "message"):
        column = batch.column(name)
        piece = pc.binary_join_element_wise(f',"{name}":', _json_strings(column), "")
        parts.append(pc.fill_null(piece, ""))
    inner = pc.utf8_trim(fields, " \t\n\r")
    inner = pc.utf8_trim(pc.utf8_slice_codeunits(inner, 1, -1), " \t\n\r")
    parts.append(pc.if_else(pc.equal(inner, ""), "", pc.binary_join_element_wise(",", inner, "")))
    parts.append("}")
    rebuilt = pc.binary_join_element_wise(*parts, "")
    return pc.if_else(structured, rebuilt, message)


# --- JSON members -----------------------------------------------------------------------------


@dataclass
class _Members:
    """One selector's member in every event: kind, text and number."""

    kind: pa.Array  # int8
    text: pa.Array  # string
    number: pa.Array  # float64


def _classify(value: Any) -> tuple[int, str | None, float | None]:
    kind = type(value)  # exact types first: the common cases, and bool is not taken for int
    if kind is str:
        return _STRING, value, None
    if kind is int or kind is float:
        return _NUMBER, json_leaf_text(value), float(value)
    if value is _ABSENT:
        return _MISSING, None, None
    if value is None:
        return _NULL, None, None
    if value is True:
        return _TRUE, "true", None
    if value is False:
        return _FALSE, "false", None
    if isinstance(value, str):
        return _STRING, value, None
    if isinstance(value, int | float):
        return _NUMBER, json_leaf_text(value), float(value)
    return _CONTAINER, None, None


_ABSENT: Any = object()


def _walk(document: Any, path: tuple[str | int, ...]) -> Any:
    node = document
    for step in path:
        if isinstance(step, int):
            if not isinstance(node, list) or step >= len(node):
                return _ABSENT
            node = node[step]
        else:
            if not isinstance(node, dict) or step not in node:
                return _ABSENT
            node = node[step]
    return node


def _loads_object(text: str | None) -> dict[str, Any] | None:
    if text is None or not text.lstrip(" \t\n\r").startswith("{"):
        return None
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError:
        try:  # orjson refuses integers beyond 64 bits; the standard library reads them
            value = json.loads(text)
        except ValueError:
            return None
    return value if isinstance(value, dict) else None


JsonMembers = tuple[pa.Array, dict[tuple[str | int, ...], _Members]]


def json_members(batch: pa.RecordBatch, selectors: Sequence[Selector]) -> JsonMembers:
    """Whether each event is a JSON object, and each selector's member per event: read once
    and passed to several matchers' :meth:`~FilterPatternMatcher.mask` and ``extract``
    (each event's JSON is parsed once for all of them)."""
    return _members(batch, selectors)


def _members(batch: pa.RecordBatch, selectors: Sequence[Selector]) -> JsonMembers:
    """Whether each event is a JSON object, and each selector's member per event.

    A structured event's document is its ``fields`` with the record's head over them (the
    time, the promoted columns that are set, the message); a member under a head name is
    read from its column, the others from ``fields``, without building the merged document.
    """
    fields = batch.column("fields").to_pylist()
    messages = batch.column("message").to_pylist()
    heads = {name: batch.column(name).to_pylist() for name in (*PROMOTED_COLUMNS, "message")}
    stamps = (
        batch.column("timestamp").to_pylist() if any(s.path[:1] == ("timestamp",) for s in selectors) else []
    )
    structured = [stored is not None for stored in fields]
    documents = [
        (_loads_object(stored) or {}) if stored is not None else _loads_object(messages[row])
        for row, stored in enumerate(fields)
    ]
    members: dict[tuple[str | int, ...], _Members] = {}
    for selector in selectors:
        path = selector.path
        first = path[0] if path else None
        if first == "timestamp" or first in heads:
            head_values = [_iso(ms) for ms in stamps] if first == "timestamp" else heads[str(first)]
            values = []
            for row, document in enumerate(documents):
                if document is None:
                    values.append(_ABSENT)
                    continue
                top = head_values[row] if structured[row] else None
                if top is None:
                    top = document.get(first, _ABSENT) if isinstance(first, str) else _ABSENT
                values.append(_ABSENT if top is _ABSENT else _walk({first: top}, path))
        elif len(path) == 1 and isinstance(first, str):
            values = [_ABSENT if d is None else d.get(first, _ABSENT) for d in documents]
        else:
            values = [_ABSENT if d is None else _walk(d, path) for d in documents]
        classified = [_classify(value) for value in values]
        members[path] = _Members(
            pa.array([c[0] for c in classified], pa.int8()),
            pa.array([c[1] for c in classified], pa.string()),
            pa.array([c[2] for c in classified], pa.float64()),
        )
    return pa.array([document is not None for document in documents], pa.bool_()), members


def _iso(ms: int) -> str:
    return iso_timestamp(ms)


# --- conditions -------------------------------------------------------------------------------


def _false(length: int) -> pa.Array:
    return pa.array([False] * length, pa.bool_())


def _string_match(text: pa.Array, value: PatternString) -> pa.Array:
    if value.text == "*":
        return pc.is_valid(text)
    if value.has_wildcard:
        return pc.match_like(text, glob_to_like(value.text))
    return pc.equal(text, value.text)


def _regex_match(text: pa.Array, regex: str) -> pa.Array:
    return pc.match_substring_regex(text, "(?s)" + regex)


_NUMERIC_OPS: dict[str, Callable[[Any, Any], Any]] = {
    "=": pc.equal,
    "!=": pc.not_equal,
    "<": pc.less,
    "<=": pc.less_equal,
    ">": pc.greater,
    ">=": pc.greater_equal,
}


def _compare(text: pa.Array, number: pa.Array, scalar: pa.Array, op: str, value: PatternValue) -> pa.Array:
    """``text op value`` where ``scalar`` says which events hold a scalar to compare."""
    if isinstance(value, PatternNumber):
        result = _NUMERIC_OPS[op](number, value.value)
        return pc.and_(pc.is_valid(number), pc.fill_null(result, False))
    hit = _regex_match(text, value.regex) if isinstance(value, PatternRegex) else _string_match(text, value)
    hit = pc.fill_null(hit, False)
    if op == "!=":
        hit = pc.invert(hit)
    return pc.and_(scalar, hit)


def _json_eval(expr: JsonExpr, members: dict[tuple[str | int, ...], _Members]) -> pa.Array:
    if isinstance(expr, JsonAnd | JsonOr):
        combine = pc.and_ if isinstance(expr, JsonAnd) else pc.or_
        out = _json_eval(expr.items[0], members)
        for item in expr.items[1:]:
            out = combine(out, _json_eval(item, members))
        return out
    member = members[expr.selector.path]
    if isinstance(expr, JsonCheck):
        wanted = {"IS NULL": _NULL, "IS TRUE": _TRUE, "IS FALSE": _FALSE, "NOT EXISTS": _MISSING}
        return pc.equal(member.kind, wanted[expr.check])
    scalar = pc.is_in(member.kind, _SCALARS)
    return _compare(member.text, member.number, scalar, expr.op, expr.value)


def _column_eval(condition: ColumnCondition, values: dict[str, pa.Array]) -> pa.Array:
    if isinstance(condition, ColumnAnd | ColumnOr):
        combine = pc.and_ if isinstance(condition, ColumnAnd) else pc.or_
        out = _column_eval(condition.items[0], values)
        for item in condition.items[1:]:
            out = combine(out, _column_eval(item, values))
        return out
    text = values[condition.name]
    numeric = pc.fill_null(pc.match_substring_regex(text, _NUMBER_FULL), False)
    number = pc.if_else(numeric, text, None).cast(pa.float64())
    return _compare(text, number, pc.is_valid(text), condition.op, condition.value)


def _strip(values: pa.Array) -> pa.Array:
    first = pc.utf8_slice_codeunits(values, 0, 1)
    last = pc.utf8_slice_codeunits(values, -1)
    quoted = pc.and_(pc.equal(first, '"'), pc.equal(last, '"'))
    bracketed = pc.and_(pc.equal(first, "["), pc.equal(last, "]"))
    long_enough = pc.greater_equal(pc.utf8_length(values), 2)
    strip = pc.and_(long_enough, pc.or_(quoted, bracketed))
    return pc.if_else(strip, pc.utf8_slice_codeunits(values, 1, -1), values)


# --- the matcher ------------------------------------------------------------------------------


class FilterPatternMatcher:
    """A filter pattern compiled once, applied to event batches.

    ``pattern`` is the text or an already parsed pattern; ``mixed_optional`` decides how
    ``?`` terms combine with plain terms (:class:`~logpond.query.filter_pattern.MixedOptional`).
    """

    def __init__(
        self,
        pattern: FilterPattern | str,
        *,
        mixed_optional: MixedOptional = MixedOptional.IGNORE,
    ) -> None:
        self.pattern = parse_filter_pattern(pattern) if isinstance(pattern, str) else pattern
        self.mixed_optional = mixed_optional
        if isinstance(self.pattern, DelimitedPattern):
            self._regex = self.pattern.regex()

    def selectors(self) -> tuple[Selector, ...]:
        """The JSON members the pattern reads (none unless it is a JSON pattern)."""
        return self.pattern.selectors() if isinstance(self.pattern, JsonPattern) else ()

    def mask(self, batch: pa.RecordBatch, members: JsonMembers | None = None) -> pa.Array:
        """Which events of ``batch`` match (a boolean array without nulls); ``members``:
        :func:`json_members` of the batch for at least :meth:`selectors`, read beforehand."""
        _check_schema(batch)
        pattern = self.pattern
        if isinstance(pattern, MatchAll):
            return pa.array([True] * batch.num_rows, pa.bool_())
        if batch.num_rows == 0:
            return pa.array([], pa.bool_())
        if isinstance(pattern, TermPattern):
            return self._terms(pattern, pc.fill_null(message_column(batch), ""))
        if isinstance(pattern, JsonPattern):
            is_object, found = members if members is not None else _members(batch, pattern.selectors())
            return pc.and_(is_object, pc.fill_null(_json_eval(pattern.expr, found), False))
        split = self._split(batch)
        values = self._values(split)
        matched = pc.is_valid(split)
        for column in pattern.columns:
            if column.condition is not None:
                matched = pc.and_(matched, pc.fill_null(_column_eval(column.condition, values), False))
        return pc.fill_null(matched, False)

    def _terms(self, pattern: TermPattern, message: pa.Array) -> pa.Array:
        def hit(term: Term) -> pa.Array:
            if term.kind is TermKind.REGEX:
                return _regex_match(message, term.text)
            return pc.match_substring(message, term.text)

        any_group: pa.Array | None = None
        for group in pattern.groups(self.mixed_optional):
            all_terms = pa.array([True] * len(message), pa.bool_())
            for term in group:
                all_terms = pc.and_(all_terms, hit(term))
            any_group = all_terms if any_group is None else pc.or_(any_group, all_terms)
        out = any_group if any_group is not None else _false(len(message))
        for term in pattern.excluded():
            out = pc.and_(out, pc.invert(hit(term)))
        return out

    def _split(self, batch: pa.RecordBatch) -> pa.StructArray:
        line = pc.binary_join_element_wise(" ", pc.fill_null(message_column(batch), ""), "")
        return pc.extract_regex(line, self._regex)

    def _values(self, split: pa.StructArray) -> dict[str, pa.Array]:
        """Each named column's value per event (null where the line does not split)."""
        assert isinstance(self.pattern, DelimitedPattern)
        valid = pc.is_valid(split)
        out: dict[str, pa.Array] = {}
        last = len(self.pattern.columns) - 1
        for index, column in enumerate(self.pattern.columns):
            if column.ellipsis or column.name is None:
                continue
            first = split.field(f"c{index}")
            if index == last and self.pattern.absorbs:
                rest = split.field(f"r{index}")
                value = pc.if_else(
                    pc.equal(rest, ""), _strip(first), pc.binary_join_element_wise(first, rest, "")
                )
            else:
                value = _strip(first)
            out[column.name] = pc.if_else(valid, value, None)
        return out

    def extract(
        self, batch: pa.RecordBatch, values: Sequence[MetricValue], members: JsonMembers | None = None
    ) -> dict[str, pa.Array]:
        """Each metric value's text per event, keyed by its name (``$.a.b``, ``$col``, ``1``).

        A number gives itself; a selector gives the JSON member's text (null when missing or
        not a scalar); a column gives the field's value (null when the line does not split).
        """
        _check_schema(batch)
        out: dict[str, pa.Array] = {}
        if members is None:
            selectors = [v.selector for v in values if v.selector is not None]
            members = _members(batch, selectors) if selectors else (pa.array([], pa.bool_()), {})
        found = members[1]
        columns = (
            self._values(self._split(batch))
            if isinstance(self.pattern, DelimitedPattern) and any(v.column for v in values)
            else {}
        )
        for value in values:
            if value.selector is not None:
                member = found[value.selector.path]
                scalar = pc.is_in(member.kind, _SCALARS)
                out[value.key] = pc.if_else(scalar, member.text, None)
            elif value.column is not None:
                if value.column not in columns:
                    out[value.key] = pa.nulls(batch.num_rows, pa.string())
                else:
                    out[value.key] = columns[value.column]
            else:
                out[value.key] = pa.array([format_number(value.number or 0.0)] * batch.num_rows)
        return out


def _check_schema(batch: pa.RecordBatch) -> None:
    missing = [name for name in EVENT_SCHEMA.names if name not in batch.schema.names]
    if missing:
        raise ValueError(f"batch lacks event columns {missing}")


# --- TestMetricFilter -------------------------------------------------------------------------


@dataclass(frozen=True)
class MetricFilterMatch:
    """One matching message of a TestMetricFilter call."""

    event_number: int  # 1-based position in the request
    event_message: str
    extracted_values: dict[str, str]


_FIELD_RE = re.compile(FIELD_REGEX)


def match_messages(
    pattern: FilterPattern | str,
    messages: Sequence[str],
    *,
    mixed_optional: MixedOptional = MixedOptional.IGNORE,
) -> list[MetricFilterMatch]:
    """Which of ``messages`` (plain event texts) match, and their extracted values.

    Space-delimited patterns extract every field: ``$name`` for named columns and ``$<n>``
    (the 1-based field position) for fields taken by ``...`` or unnamed columns. JSON
    patterns extract each selector they use (``$.a.b``) that holds a scalar. Term patterns
    extract nothing.
    """
    matcher = FilterPatternMatcher(pattern, mixed_optional=mixed_optional)
    batch = pa.RecordBatch.from_pydict(
        {
            "log_group": ["test"] * len(messages),
            "log_stream": ["test"] * len(messages),
            "timestamp": [0] * len(messages),
            "message": list(messages),
            **{name: [None] * len(messages) for name in PROMOTED_COLUMNS},
            "fields": [None] * len(messages),
        },
        schema=EVENT_SCHEMA,
    )
    mask = matcher.mask(batch).to_pylist()
    out: list[MetricFilterMatch] = []
    parsed = matcher.pattern
    for number, (message, matched) in enumerate(zip(messages, mask, strict=True), start=1):
        if not matched:
            continue
        values: dict[str, str] = {}
        if isinstance(parsed, DelimitedPattern):
            values = _delimited_values(parsed, message)
        elif isinstance(parsed, JsonPattern):
            one = batch.slice(number - 1, 1)
            extracted = matcher.extract(one, [MetricValue(selector=s) for s in parsed.selectors()])
            values = {k: v[0].as_py() for k, v in extracted.items() if v[0].is_valid}
        out.append(MetricFilterMatch(number, message, values))
    return out


def _delimited_values(pattern: DelimitedPattern, message: str) -> dict[str, str]:
    # Python's re and RE2 read this regex alike: (?P<name>...), classes, anchors.
    match = re.match(pattern.regex(), " " + message)
    if match is None:
        return {}
    values: dict[str, str] = {}
    position = 0
    last = len(pattern.columns) - 1
    for index, column in enumerate(pattern.columns):
        if column.ellipsis:
            for field_match in _FIELD_RE.finditer(match.group(f"e{index}")):
                position += 1
                values[f"${position}"] = strip_field(field_match.group())
            continue
        position += 1
        first = match.group(f"c{index}")
        if index == last and pattern.absorbs and match.group(f"r{index}"):
            value = first + match.group(f"r{index}")
        else:
            value = strip_field(first)
        values[f"${column.name}" if column.name else f"${position}"] = value
    return values
