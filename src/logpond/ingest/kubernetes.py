"""Kubernetes node log formats, as records arrive from a node shipper.

* container lines: a CRI line (``<time> <stdout|stderr> <F|P> <content>``) or a Docker
  json-file record (``log`` ending in ``\\n``, ``stream``, ``time``) left unparsed in ``log``;
  partial lines (CRI ``P``, Docker lines without the final ``\\n``) of one stream are joined;
* ``/var/log/containers/<pod>_<namespace>_<container>-<id>.log`` in a tag or file field gives
  ``kubernetes.{pod_name,namespace_name,container_name,docker_id}``;
* a message holding a JSON object is lifted into the record's fields (Fluent Bit's Merge_Log);
* journald records (kubelet, containerd, kube-proxy units) take their level from klog's letter
  in ``MESSAGE`` before journald's ``PRIORITY``, which is 6 for everything a unit prints;
* Kubernetes Event objects get their time (``lastTimestamp``, ``series.lastObservedTime``,
  ``eventTime``, ``firstTimestamp``, ``metadata.creationTimestamp``), level (``Warning`` ->
  warn), service (``source.component``) and stream (``<kind>/<name>`` of the involved object).

:func:`prepare` applies all of it to one record and returns the hints it found.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import orjson

from logpond.model.timestamps import parse_timestamp

from .multiline import MultilineJoiner
from .records import KUBERNETES_KEY, lookup, sniff_level

__all__ = ["Hints", "LineJoiner", "PartialJoiner", "parse_cri", "pod_from_path", "prepare"]

_CONTAINER_FILE = re.compile(
    r"(?P<pod_name>[a-z0-9](?:[-a-z0-9]*[a-z0-9])?(?:\.[a-z0-9](?:[-a-z0-9]*[a-z0-9])?)*)"
    r"_(?P<namespace_name>[^_]+)_(?P<container_name>.+)-(?P<docker_id>[a-z0-9]{64})\.log$"
)
_CRI = re.compile(r"^(\S+) (stdout|stderr) ([^ ]*) ?(.*)$", re.DOTALL)
_EVENT_TYPES = {"Warning": "warn", "Normal": "info", "Error": "error"}
_DOCKER_KEYS = frozenset({"log", "stream", "time", "attrs"})
# Metadata the protocol decoders add before these rules run.
_PROTOCOL_KEYS = frozenset({"fluent", "es", "kubernetes"})
_JOURNALD_MARKERS = ("_SYSTEMD_UNIT", "__REALTIME_TIMESTAMP", "_TRANSPORT")


@dataclass(slots=True)
class Hints:
    """What a format tells beyond the record's own keys."""

    timestamp_ms: int | None = None
    level: str | None = None
    service: str | None = None
    stream: str | None = None
    partial: bool = False


def pod_from_path(path: str) -> dict[str, str] | None:
    """Pod, namespace, container and container id from a ``/var/log/containers`` file name
    (or a Fluent Bit tag ``kube.var.log.containers.<file>``)."""
    if not path.endswith(".log"):
        return None
    match = _CONTAINER_FILE.search(path.rsplit("/", 1)[-1].removeprefix("kube.var.log.containers."))
    return match.groupdict() if match is not None else None


def parse_cri(line: str) -> tuple[int, str, bool, str] | None:
    """A CRI log line as (time ms, stream, partial, content), or None if it is not one."""
    if len(line) < 20 or line[4] != "-" or line[10] != "T":
        return None
    match = _CRI.match(line)
    if match is None:
        return None
    ms = parse_timestamp(match.group(1))
    if ms is None:
        return None
    return ms, match.group(2), match.group(3) == "P", match.group(4)


def _lift_json(record: dict[str, Any], key: str, text: str) -> None:
    """Merge a JSON object held in a message into the record; the record's keys win."""
    stripped = text.strip()
    if len(stripped) < 2 or stripped[-1] != "}":
        return
    try:
        inner = orjson.loads(stripped)
    except orjson.JSONDecodeError:
        return
    if type(inner) is not dict:
        return
    del record[key]
    for name, value in inner.items():
        record.setdefault(name, value)


def _event_hints(record: dict[str, Any], hints: Hints) -> None:
    for path in (
        "lastTimestamp",
        "series.lastObservedTime",
        "eventTime",
        "firstTimestamp",
        "metadata.creationTimestamp",
    ):
        value = lookup(record, path)
        if isinstance(value, str):
            hints.timestamp_ms = parse_timestamp(value)
            if hints.timestamp_ms is not None:
                break
    kind = record.get("type")
    hints.level = _EVENT_TYPES.get(kind) if isinstance(kind, str) else None
    component = lookup(record, "source.component") or record.get("reportingComponent")
    hints.service = component if isinstance(component, str) and component else None
    involved = record.get("involvedObject")
    if isinstance(involved, dict) and isinstance(involved.get("name"), str):
        hints.stream = f"{involved.get('kind') or 'Object'}/{involved['name']}"


def prepare(record: dict[str, Any], source: str | None = None) -> Hints:
    """Apply this module's rules to one record in place; ``source`` is a tag or file path."""
    hints = Hints()
    log = record.get("log")
    key = "log"
    if type(log) is not str:
        log = record.get("message")
        key = "message"
    if type(log) is str and log:
        if log[0].isdigit():
            cri = parse_cri(log)
            if cri is not None:
                ms, stream, partial, content = cri
                record[key] = log = content
                record.setdefault("stream", stream)
                if partial:
                    hints.partial = True
                if not any(k in record for k in ("time", "@timestamp", "timestamp")):
                    hints.timestamp_ms = ms
        elif log[-1] == "\n" and key == "log":
            record["log"] = log = log[:-2] if log.endswith("\r\n") else log[:-1]
        elif key == "log" and _DOCKER_KEYS.issuperset(k for k in record if k not in _PROTOCOL_KEYS):
            hints.partial = True  # Docker json-file: a piece of a line longer than 16 KiB
        # ``logtag`` is the CRI flag as Fluent Bit's classic ``cri`` regex parser leaves it:
        # each physical line a record. Its ``cri`` multiline parser instead names the flag
        # ``_p`` and has already joined the pieces (keeping the first piece's ``P``), so
        # ``_p`` says nothing about what is still to come.
        if record.get("logtag") == "P":
            hints.partial = True
        if log and log[0] == "{":
            _lift_json(record, key, log)
    if KUBERNETES_KEY not in record:
        path = source
        for name in ("filename", "file", "path"):
            value = record.get(name)
            if isinstance(value, str):
                path = value
                break
        if path:
            pod = pod_from_path(path)
            if pod is not None:
                record[KUBERNETES_KEY] = pod
    if "involvedObject" in record and "reason" in record:
        _event_hints(record, hints)
    elif any(marker in record for marker in _JOURNALD_MARKERS):
        message = record.get("MESSAGE")
        if isinstance(message, str):
            hints.level = sniff_level(message)
        unit = record.get("_SYSTEMD_UNIT")
        if "SYSLOG_IDENTIFIER" not in record and isinstance(unit, str):
            hints.service = unit.removesuffix(".service")
    return hints


class PartialJoiner:
    """Joins partial container lines of one request, per stream, into whole records.

    A partial record is held until the next record of the same (stream, container stream)
    arrives, whose message is appended to it; a held record that never completes is
    emitted as it is at the end of the request.
    """

    __slots__ = ("_open",)

    def __init__(self) -> None:
        self._open: dict[tuple[str, Any], tuple[int, dict[str, Any], Hints, list[str]]] = {}

    def feed(
        self, key: tuple[str, Any], line: int, record: dict[str, Any], hints: Hints
    ) -> tuple[int, dict[str, Any], Hints] | None:
        """The record to store now (maybe a joined one), or None while a line is incomplete."""
        held = self._open.get(key)
        text_key = "log" if "log" in record else "message"
        if held is None:
            if not hints.partial:
                return line, record, hints
            self._open[key] = (line, record, hints, [str(record.get(text_key, ""))])
            return None
        first_line, first, first_hints, parts = held
        parts.append(str(record.get(text_key, "")))
        if hints.partial:
            return None
        del self._open[key]
        text = "".join(parts)
        first[text_key] = text
        first_hints.partial = False
        if text[:1] == "{":
            _lift_json(first, text_key, text)
        return first_line, first, first_hints

    def drain(self) -> list[tuple[tuple[str, Any], tuple[int, dict[str, Any], Hints]]]:
        """Records still waiting for their last piece, joined as far as they got, by stream."""
        out = []
        for stream, (first_line, first, hints, parts) in self._open.items():
            key = "log" if "log" in first else "message"
            first[key] = "".join(parts)
            out.append((stream, (first_line, first, hints)))
        self._open.clear()
        return out


class LineJoiner:
    """Partial container lines joined first (:class:`PartialJoiner`), then stack traces
    (:class:`~logpond.ingest.multiline.MultilineJoiner`), per stream of one request."""

    __slots__ = ("_multiline", "_partial")

    def __init__(self) -> None:
        self._partial = PartialJoiner()
        self._multiline = MultilineJoiner()

    def feed(
        self, stream: tuple[str, Any], line: int, record: dict[str, Any], hints: Hints
    ) -> list[tuple[int, dict[str, Any], Hints]]:
        """The records to store now, in order."""
        joined = self._partial.feed(stream, line, record, hints)
        return [] if joined is None else self._traces(stream, joined)

    def drain(self) -> list[tuple[int, dict[str, Any], Hints]]:
        """Everything still open at the end of the request."""
        out = []
        for stream, item in self._partial.drain():
            out.extend(self._traces(stream, item))
        for item, level in self._multiline.drain():
            out.append(self._leveled(item, level))
        return out

    def _traces(
        self, stream: tuple[str, Any], item: tuple[int, dict[str, Any], Hints]
    ) -> list[tuple[int, dict[str, Any], Hints]]:
        record = item[1]
        key = "log" if "log" in record else "message"
        return [self._leveled(done, level) for done, level in self._multiline.feed(stream, item, record, key)]

    @staticmethod
    def _leveled(item: Any, level: str | None) -> tuple[int, dict[str, Any], Hints]:
        if level is not None and item[2].level is None and "level" not in item[1]:
            item[2].level = level
        result: tuple[int, dict[str, Any], Hints] = item
        return result
