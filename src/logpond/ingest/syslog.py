"""Syslog messages (RFC 5424 and RFC 3164 as real senders write it) into events.

PRI gives ``syslog.facility`` and ``syslog.severity`` (and the level: 0-2 fatal, 3 error,
4 warn, 5-6 info, 7 debug); a message without PRI is kept whole with facility 1, severity 5.
RFC 5424: timestamp, ``HOSTNAME`` (the stream), ``APP-NAME`` (the service), ``PROCID``,
``MSGID`` and structured data (``syslog.sd = {"id": {"param": "value"}}``), a leading BOM
dropped. RFC 3164: ``Mmm dd hh:mm:ss`` (UTC, this year or last) or an RFC 3339 time, an
optional host, ``TAG[pid]:``. Python's ``SysLogHandler`` (``<PRI>text``, no time, no host)
and ``logger`` from util-linux are read the same way.

Group: the listener's group (default ``syslog``); stream: the host, else the sender's
address. Fields: ``syslog.{facility,severity,hostname,appname,procid,msgid,sd}`` (those set)
and ``syslog.peer`` (the sender's address).
"""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime
from typing import Any

import orjson

from logpond.model.timestamps import parse_timestamp

from .base import EventColumns
from .routing import Router

__all__ = ["FACILITIES", "SyslogDecoder", "parse_message"]

FACILITIES = [
    "kern",
    "user",
    "mail",
    "daemon",
    "auth",
    "syslog",
    "lpr",
    "news",
    "uucp",
    "cron",
    "authpriv",
    "ftp",
    "ntp",
    "security",
    "console",
    "solaris-cron",
    "local0",
    "local1",
    "local2",
    "local3",
    "local4",
    "local5",
    "local6",
    "local7",
]
_LEVELS = ("fatal", "fatal", "fatal", "error", "warn", "info", "info", "debug")
_MONTHS = {
    m: i
    for i, m in enumerate(
        ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"], start=1
    )
}
_BSD_TIME = re.compile(r"^([A-Z][a-z]{2}) ( \d|\d\d) (\d\d):(\d\d):(\d\d)(?:\.\d+)? ")
_TAG = re.compile(r"^([A-Za-z0-9_./-]{1,48})(?:\[([^\]]{1,128})\])?: ?")
_RFC3339_HEAD = re.compile(r"^(\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:?\d\d)?) ")
_BOM = "\ufeff"


def _bsd_time(match: re.Match[str], now_ms: int) -> int:
    month = _MONTHS.get(match.group(1))
    if month is None:
        return now_ms
    year = datetime.fromtimestamp(now_ms / 1000, UTC).year
    fields = (month, int(match.group(2)), int(match.group(3)), int(match.group(4)), int(match.group(5)))
    try:
        when = datetime(year, *fields, tzinfo=UTC)
        if when.timestamp() * 1000 > now_ms + 86_400_000:
            when = datetime(year - 1, *fields, tzinfo=UTC)
    except ValueError:
        return now_ms
    return int(when.timestamp() * 1000)


def _structured_data(text: str) -> tuple[dict[str, dict[str, str]], str] | None:
    """SD-ELEMENTs at the head of ``text`` and what follows; None if malformed."""
    sd: dict[str, dict[str, str]] = {}
    position, size = 0, len(text)
    while position < size and text[position] == "[":
        end_id = position + 1
        while end_id < size and text[end_id] not in " ]":
            end_id += 1
        sd_id = text[position + 1 : end_id]
        params: dict[str, str] = {}
        position = end_id
        while True:
            while position < size and text[position] == " ":
                position += 1
            if position >= size:
                return None
            if text[position] == "]":
                position += 1
                break
            eq = text.find("=", position)
            if eq == -1 or eq + 1 >= size or text[eq + 1] != '"':
                return None
            name = text[position:eq]
            position = eq + 2
            value: list[str] = []
            while True:
                if position >= size:
                    return None
                char = text[position]
                if char == "\\" and position + 1 < size and text[position + 1] in '"\\]':
                    value.append(text[position + 1])
                    position += 2
                    continue
                position += 1
                if char == '"':
                    break
                value.append(char)
            params[name] = "".join(value)
        sd[sd_id] = params
    return sd, text[position:]


def parse_message(text: str, now_ms: int) -> tuple[int, str, dict[str, Any]]:
    """(time ms, message, syslog fields) of one message."""
    meta: dict[str, Any] = {}
    rest = text
    severity, facility = 5, 1
    if rest.startswith("<"):
        close = rest.find(">", 1, 5)
        if close > 1 and rest[1:close].isdigit() and int(rest[1:close]) <= 191:
            pri = int(rest[1:close])
            facility, severity = pri >> 3, pri & 7
            rest = rest[close + 1 :]
    meta["facility"] = FACILITIES[facility]
    meta["severity"] = severity
    timestamp = now_ms
    if rest.startswith("1 "):
        parts = rest[2:].split(" ", 5)
        if len(parts) >= 5:
            stamp, host, app, procid, msgid = parts[:5]
            after = parts[5] if len(parts) > 5 else ""
            if stamp != "-":
                timestamp = parse_timestamp(stamp) or now_ms
            for key, value in (("hostname", host), ("appname", app), ("procid", procid), ("msgid", msgid)):
                if value != "-":
                    meta[key] = value
            if after.startswith("-"):
                message = after[2:] if after.startswith("- ") else after[1:]
            else:
                parsed = _structured_data(after)
                if parsed is None:
                    message = after
                else:
                    meta["sd"], remainder = parsed
                    message = remainder[1:] if remainder.startswith(" ") else remainder
            return timestamp, message.removeprefix(_BOM), meta
    bsd = _BSD_TIME.match(rest)
    iso = None
    if bsd is not None:
        timestamp = _bsd_time(bsd, now_ms)
        rest = rest[bsd.end() :]
    else:
        iso = _RFC3339_HEAD.match(rest)
        if iso is not None:
            timestamp = parse_timestamp(iso.group(1)) or now_ms
            rest = rest[iso.end() :]
    tag = _TAG.match(rest)
    if tag is None and rest is not text and (bsd is not None or iso is not None):
        # "HOSTNAME TAG[pid]: msg"; local senders leave the host out.
        host, _, after = rest.partition(" ")
        if host and after:
            meta["hostname"] = host
            rest = after
            tag = _TAG.match(rest)
    if tag is not None:
        meta["appname"] = tag.group(1)
        if tag.group(2):
            meta["procid"] = tag.group(2)
        rest = rest[tag.end() :]
    return timestamp, rest, meta


class SyslogDecoder:
    """Adds syslog messages to one column set; see the module docstring."""

    def __init__(self, router: Router, group: str) -> None:
        self._router = router
        self._group = group
        self.columns = EventColumns()
        self._number = 0

    def add(self, raw: bytes, peer: str, now_ms: int | None = None) -> None:
        now = time.time_ns() // 1_000_000 if now_ms is None else now_ms
        text = raw.decode("utf-8", "replace").rstrip("\r\n\x00")
        self._number += 1
        timestamp, message, meta = parse_message(text, now)
        meta["peer"] = peer
        record = {"syslog": meta}
        stream = meta.get("hostname") or peer
        if self._router.has_rules("syslog"):
            group, stream = self._router.route("syslog", record, self._group, stream)
        else:
            group, stream = self._router.route("syslog", {}, self._group, stream)
        severity = meta["severity"]
        level = _LEVELS[severity]
        self.columns.add_event(
            self._number,
            group,
            stream,
            timestamp,
            message,
            level,
            None,
            None,
            None,
            meta.get("appname"),
            orjson.dumps(record),
        )
