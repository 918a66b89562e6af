"""What the shipper protocols share: reading a structured record the way every shipper spells it.

The native decoder promotes a handful of keys (``base.EventColumns.add_record``). Records that
arrive through Elasticsearch ``_bulk``, Fluentd forward, Fluent Bit, journald or syslog-ng spell
the same things differently (``MESSAGE``, ``log``, ``@timestamp``, ``PRIORITY``, ECS's nested
``log.level``); :func:`add_shipped` promotes those too, then stores the rest as ``fields``.

Rules, in the order they apply to one record:

* message: the first of ``message msg log MESSAGE short_message body line`` that is a string
  (the key leaves the fields); none: the message is empty and the record is in the fields.
* time: the first of ``@timestamp timestamp time ts date _time timereported
  _SOURCE_REALTIME_TIMESTAMP __REALTIME_TIMESTAMP`` that parses (the key leaves the fields),
  else the protocol's time, else the time of arrival.
* level: ``level log.level severity severity_text lvl loglevel levelname PRIORITY priority``,
  normalized to ``trace debug info warn error fatal``; if absent, sniffed from the head of the
  message (klog's letter, ``level=``, a leading ``ERROR``, a Python traceback, a Go panic).
* trace and span ids: ``trace_id traceId trace.id otelTraceID traceid`` and the span
  spellings, or a W3C ``traceparent``.
* service: ``service service.name service_name app application SYSLOG_IDENTIFIER PROGRAM
  programname ident``, then the Kubernetes container name.

Keys of the native decoder's promotion leave the fields (``level``, ``service``, ...); the
other spellings are copied into the column and stay in the fields, so a query by the
shipper's own name (``SYSLOG_IDENTIFIER``, ``PRIORITY``) still finds them.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

import orjson

from logpond.model.timestamps import parse_timestamp

from .base import EventColumns

__all__ = [
    "KUBERNETES_KEY",
    "add_shipped",
    "default_stream",
    "kubernetes_stream",
    "lookup",
    "normalize_level",
    "sniff_level",
    "unflatten",
]

KUBERNETES_KEY = "kubernetes"

_MESSAGE_KEYS = ("message", "msg", "log", "MESSAGE", "short_message", "body", "line")
_TIME_KEYS = (
    "@timestamp",
    "timestamp",
    "time",
    "ts",
    "date",
    "_time",
    "timereported",
    "_SOURCE_REALTIME_TIMESTAMP",
    "__REALTIME_TIMESTAMP",
)
_LEVEL_KEYS = (
    "level",
    "log.level",
    "severity",
    "severity_text",
    "lvl",
    "loglevel",
    "levelname",
    "PRIORITY",
    "priority",
)
_TRACE_KEYS = ("trace_id", "traceId", "trace.id", "otelTraceID", "traceid")
_SPAN_KEYS = ("span_id", "spanId", "span.id", "otelSpanID", "spanid")
_TENANT_KEYS = ("tenant_id", "tenantId")
_SERVICE_KEYS = (
    "service",
    "service.name",
    "service_name",
    "app",
    "application",
    "SYSLOG_IDENTIFIER",
    "PROGRAM",
    "programname",
    "ident",
)
# Keys that leave the fields once promoted: the native decoder's aliases, plus message and
# time spellings (the stored message and timestamp stand for them).
_MOVED = frozenset(
    {
        *_MESSAGE_KEYS,
        *_TIME_KEYS,
        "level",
        "severity",
        "levelname",
        "trace_id",
        "traceId",
        "span_id",
        "spanId",
        "tenant_id",
        "tenantId",
        "service",
    }
)
# Keys whose numbers are syslog/journald priorities (0-7), not pino or Python levels.
_PRIORITY_KEYS = frozenset({"PRIORITY", "priority"})

_SLOTS = (_TIME_KEYS, _MESSAGE_KEYS, _LEVEL_KEYS, _TRACE_KEYS, _SPAN_KEYS, _TENANT_KEYS, _SERVICE_KEYS)
_ALL_KEYS = frozenset(key for keys in _SLOTS for key in keys)

_LEVEL_WORDS: dict[str, str] = {}
for _canonical, _words in (
    ("trace", "trace trc finest verbose"),
    ("debug", "debug dbg fine finer d"),
    ("info", "info information informational notice inf i"),
    ("warn", "warn warning wrn w"),
    ("error", "error err eror e severe"),
    ("fatal", "fatal critical crit emerg emergency alert panic dpanic f c"),
):
    for _word in _words.split():
        _LEVEL_WORDS[_word] = _canonical
_PRIORITY_LEVELS = ("fatal", "fatal", "fatal", "error", "warn", "info", "info", "debug")
_PINO_LEVELS = {10: "trace", 20: "debug", 30: "info", 40: "warn", 50: "error", 60: "fatal"}
_PYTHON_LEVELS = {5: "trace", 10: "debug", 20: "info", 30: "warn", 40: "error", 50: "fatal"}

_HEX = frozenset("0123456789abcdef")
_TRACEPARENT = re.compile(r"^[0-9a-f]{2}-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}$")
_KLOG = re.compile(r"^([IWEF])\d{4} \d{2}:\d{2}:\d{2}\.\d{6}\s+\d+ [^:\]]+:\d+\] ")
_LOGFMT_LEVEL = re.compile(r"(?:^|\s)(?:level|lvl|severity)=\"?([A-Za-z]+)")
_JSON_LEVEL = re.compile(r'"(?:level|severity|lvl)"\s*:\s*"([A-Za-z]+)"')
_LEADING_WORD = re.compile(r"^\[?([A-Za-z]{4,8})\]?[\s:\]|]")
_KLOG_LEVELS = {"I": "info", "W": "warn", "E": "error", "F": "fatal"}
_LEADING_LEVELS = {
    "TRACE": "trace",
    "DEBUG": "debug",
    "INFO": "info",
    "NOTICE": "info",
    "WARN": "warn",
    "WARNING": "warn",
    "ERROR": "error",
    "FATAL": "fatal",
    "CRITICAL": "fatal",
    "PANIC": "fatal",
}

_HOST_KEYS = ("host.name", "host", "hostname", "HOST", "_HOSTNAME", "fromhost", "sys_host")


def normalize_level(value: object, key: str = "level") -> str | None:
    """A level word or number as one of ``trace debug info warn error fatal``; else the text.

    Numbers under a syslog/journald key are priorities 0-7; others are Python's ``levelno``
    when ``key`` is ``levelno``, else pino's levels.
    """
    if type(value) is str:
        canonical = _LEVEL_WORDS.get(value.lower())
        if canonical is not None:
            return canonical
        if value.isdigit():
            return normalize_level(int(value), key)
        return value.lower() if value else None
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = int(value)
    if key in _PRIORITY_KEYS or 0 <= number <= 7:
        return _PRIORITY_LEVELS[number] if 0 <= number <= 7 else None
    table = _PYTHON_LEVELS if key == "levelno" else _PINO_LEVELS
    return table.get(number)


def sniff_level(message: str) -> str | None:
    """The level a line announces at its head: klog, logfmt, JSON, a leading word, a traceback."""
    head = message[:200]
    if not head:
        return None
    first = head[0]
    if first in "IWEF":
        match = _KLOG.match(head)
        if match is not None:
            return _KLOG_LEVELS[match.group(1)]
    if first == "{":
        match = _JSON_LEVEL.search(head)
        if match is not None:
            return _LEVEL_WORDS.get(match.group(1).lower())
    if "=" in head:
        match = _LOGFMT_LEVEL.search(head)
        if match is not None:
            return _LEVEL_WORDS.get(match.group(1).lower())
    match = _LEADING_WORD.match(head)
    if match is not None:
        found = _LEADING_LEVELS.get(match.group(1).upper())
        if found is not None:
            return found
    if head.startswith("Traceback (most recent call last)"):
        return "error"
    if head.startswith("panic: "):
        return "fatal"
    return None


def _hex_id(value: object, length: int) -> str | None:
    if type(value) is not str or len(value) != length:
        return None
    lowered = value.lower()
    if not _HEX.issuperset(lowered) or lowered.count("0") == length:
        return None
    return lowered


def lookup(record: dict[str, Any], dotted: str) -> Any:
    """A value by dotted path, reading both nested objects and flat dotted keys; else None."""
    if dotted in record:
        return record[dotted]
    head, sep, rest = dotted.partition(".")
    while sep:
        value = record.get(head)
        if isinstance(value, dict):
            found = lookup(value, rest)
            if found is not None:
                return found
        more, sep, rest = rest.partition(".")
        head = f"{head}.{more}"
    return None


def kubernetes_stream(meta: dict[str, Any]) -> str | None:
    """``<namespace>/<pod>/<container>`` from Fluent Bit's, Vector's or ECS's spelling."""
    namespace = meta.get("namespace_name") or meta.get("pod_namespace") or meta.get("namespace")
    pod = meta.get("pod_name") or lookup(meta, "pod.name")
    container = meta.get("container_name") or lookup(meta, "container.name")
    if not (isinstance(namespace, str) and isinstance(pod, str)):
        return None
    if isinstance(container, str):
        return f"{namespace}/{pod}/{container}"
    return f"{namespace}/{pod}"


def default_stream(record: dict[str, Any], fallback: str = "default") -> str:
    """The stream a record belongs to by default: its pod, else its host, else ``fallback``."""
    meta = record.get(KUBERNETES_KEY)
    if type(meta) is dict:
        stream = kubernetes_stream(meta)
        if stream is not None:
            return stream
    for key in _HOST_KEYS:
        value = record.get(key)
        if type(value) is str and value:
            return value
        if type(value) is dict:
            name = value.get("name") or value.get("hostname")
            if isinstance(name, str) and name:
                return name
    return fallback


@lru_cache(maxsize=1024)
def _plan(keys: tuple[str, ...]) -> tuple[tuple[int, str], ...]:
    """For a record's keys, the candidate keys of each slot in priority order."""
    present = _ALL_KEYS.intersection(keys)
    return tuple((slot, key) for slot, names in enumerate(_SLOTS) for key in names if key in present)


# Nested spellings (ECS and OpenTelemetry-shaped records): object key, member, slot.
_NESTED = (("log", "level", 2), ("trace", "id", 3), ("span", "id", 4), ("service", "name", 6))


def add_shipped(
    columns: EventColumns,
    line: int,
    group: str,
    stream: str,
    record: dict[str, Any],
    default_ms: int,
    *,
    tenant_id: str | None = None,
    level: str | None = None,
    service: str | None = None,
) -> str | None:
    """Add one shipped record (consumed) with the promotion rules above; a refusal reason or None.

    ``level`` (a format's own reading, e.g. klog's letter) wins over the record's level key;
    ``service`` and ``tenant_id`` are used when the record names none.
    """
    found: list[Any] = [None, None, None, None, None, None, None]
    level_key = "level"
    for slot, key in _plan(tuple(record)):
        if found[slot] is not None:
            continue
        value = record[key]
        kind = type(value)
        if slot == 0:
            if kind is str or kind is int or kind is float:
                parsed = parse_timestamp(value)
                if parsed is not None:
                    found[0] = parsed
                    del record[key]
            continue
        if slot == 2:
            if kind is str or kind is int:
                found[2] = value
                level_key = key
                if key in _MOVED:
                    del record[key]
            continue
        if kind is not str:
            if slot == 6 or kind not in (int, float) or slot == 1:
                continue
            value = str(value)
        found[slot] = value
        if key in _MOVED:
            del record[key]
    for name, member, slot in _NESTED:
        if found[slot] is None:
            nested = record.get(name)
            if type(nested) is dict:
                value = nested.get(member)
                if type(value) is str:
                    found[slot] = value
    timestamp, message, record_level, trace_id, span_id, record_tenant, record_service = found
    if level is None:
        if record_level is not None:
            level = normalize_level(record_level, level_key)
        elif message is not None:
            level = sniff_level(message)
    if record_service is not None:
        service = record_service
    if trace_id is not None:
        trace_id = _hex_id(trace_id, 32) or trace_id
    elif type(record.get("traceparent")) is str:
        match = _TRACEPARENT.match(record["traceparent"])
        if match is not None:
            trace_id, span_id = _hex_id(match.group(1), 32), _hex_id(match.group(2), 16)
    if service is None:
        meta = record.get(KUBERNETES_KEY)
        if type(meta) is dict:
            labels = meta.get("labels")
            found_service: Any = None
            if type(labels) is dict:
                found_service = labels.get("app.kubernetes.io/name") or labels.get("app")
            found_service = found_service or meta.get("container_name")
            if type(found_service) is str:
                service = found_service
    columns.add_event(
        line,
        group,
        stream,
        default_ms if timestamp is None else timestamp,
        "" if message is None else message,
        level,
        trace_id,
        span_id,
        record_tenant if record_tenant is not None else tenant_id,
        service,
        orjson.dumps(record, default=_json_default),
    )
    return None


def _json_default(value: Any) -> Any:
    """JSON for what msgpack may carry besides JSON types: binary as text, extensions named."""
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).decode("utf-8", "replace")
    return repr(value)


def unflatten(attributes: dict[str, Any]) -> dict[str, Any]:
    """Dotted keys as nested objects (``{"k8s.pod.name": x}`` -> ``{"k8s": {"pod": {"name": x}}}``),
    so ``filter k8s.pod.name = ...`` reads them; a key that would clash stays flat."""
    if not any("." in key for key in attributes):
        return attributes
    out: dict[str, Any] = {}
    for key, value in attributes.items():
        if "." not in key:
            if key in out and isinstance(out[key], dict) and isinstance(value, dict):
                out[key].update(value)
            else:
                out[key] = value
            continue
        parts = key.split(".")
        node = out
        clash = False
        for part in parts[:-1]:
            child = node.get(part)
            if child is None:
                child = node[part] = {}
            elif not isinstance(child, dict):
                clash = True
                break
            node = child
        if clash or (parts[-1] in node and not isinstance(value, dict)):
            out[key] = value
        else:
            node[parts[-1]] = value
    return out
