"""Routing: which log group and stream an event of a shipper protocol goes to.

Each protocol has a default (the Elasticsearch index, the OpenTelemetry service, the Loki
``job`` label, the Fluentd tag, the syslog listener); configured rules override it. A rule
names the protocols it applies to, conditions on the record (``match``: dotted path -> glob),
and templates for the group and the stream, such as ``/qualisys/{environment}/{kubernetes.labels.app}``.
The first rule whose protocol and conditions match, and whose templates can be filled, wins;
a template field that is missing makes the rule not apply unless it has a fallback
(``{kubernetes.labels.app|unknown}``). Built-in names usable in templates: ``{group}`` and
``{stream}`` (the protocol's defaults).

Names are made valid on the way out: characters a group name may not hold become ``_``, a
stream name loses ``:`` and ``*``, both are cut at 512 characters.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from logpond.model.errors import InvalidParameterError
from logpond.model.limits import MAX_GROUP_NAME_CHARS, MAX_STREAM_NAME_CHARS

from .records import lookup

__all__ = ["PROTOCOLS", "RouteRule", "Router", "Template", "group_name", "stream_name"]

PROTOCOLS = ("es", "otlp", "loki", "forward", "syslog", "fluentbit")

_FIELD = re.compile(r"\{([^{}|]+)(?:\|([^{}]*))?\}")
_BAD_GROUP_CHARS = re.compile(r"[^._\-/#A-Za-z0-9]")


@lru_cache(maxsize=4096)
def group_name(text: str) -> str:
    """``text`` as a valid log group name (invalid characters become ``_``)."""
    name = _BAD_GROUP_CHARS.sub("_", text)[:MAX_GROUP_NAME_CHARS] or "default"
    if name.startswith("aws/"):
        name = "_" + name[1:]
    return name


@lru_cache(maxsize=4096)
def stream_name(text: str) -> str:
    """``text`` as a valid log stream name (``:`` and ``*`` become ``_``)."""
    return text.replace(":", "_").replace("*", "_")[:MAX_STREAM_NAME_CHARS] or "default"


class Template:
    """A name with ``{dotted.path}`` or ``{dotted.path|fallback}`` fields."""

    __slots__ = ("parts", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        parts: list[tuple[str, str | None, str | None]] = []  # (literal, path, fallback)
        position = 0
        for match in _FIELD.finditer(text):
            parts.append((text[position : match.start()], match.group(1).strip(), match.group(2)))
            position = match.end()
        parts.append((text[position:], None, None))
        if "{" in "".join(p[0] for p in parts) or "}" in "".join(p[0] for p in parts):
            raise InvalidParameterError("unbalanced braces in a route template", template=text)
        self.parts = tuple(parts)

    def render(self, record: Mapping[str, Any], builtins: Mapping[str, str]) -> str | None:
        """The name for a record, or None when a field without fallback is missing."""
        out: list[str] = []
        for literal, path, fallback in self.parts:
            out.append(literal)
            if path is None:
                continue
            value = builtins.get(path)
            if value is None:
                value = lookup(record, path)  # type: ignore[arg-type]
            if value is None or isinstance(value, dict | list) or value == "":
                if fallback is None:
                    return None
                value = fallback
            out.append(value if isinstance(value, str) else str(value))
        return "".join(out)


@dataclass(frozen=True, slots=True)
class RouteRule:
    """One configured rule; see the module docstring."""

    protocols: tuple[str, ...]
    match: tuple[tuple[str, re.Pattern[str]], ...]
    group: Template | None
    stream: Template | None

    @classmethod
    def build(
        cls,
        *,
        protocols: Sequence[str] = (),
        match: Mapping[str, str] | None = None,
        group: str | None = None,
        stream: str | None = None,
    ) -> RouteRule:
        unknown = sorted(set(protocols) - set(PROTOCOLS))
        if unknown:
            raise InvalidParameterError(
                "unknown protocol in a route", protocols=unknown, known=list(PROTOCOLS)
            )
        if group is None and stream is None:
            raise InvalidParameterError("a route needs a group or a stream template")
        compiled = tuple((path, re.compile(fnmatch.translate(glob))) for path, glob in (match or {}).items())
        return cls(
            tuple(protocols),
            compiled,
            Template(group) if group is not None else None,
            Template(stream) if stream is not None else None,
        )

    def applies(self, protocol: str, record: Mapping[str, Any]) -> bool:
        if self.protocols and protocol not in self.protocols:
            return False
        for path, pattern in self.match:
            value = lookup(record, path)  # type: ignore[arg-type]
            if value is None or isinstance(value, dict | list):
                return False
            if not pattern.match(value if isinstance(value, str) else str(value)):
                return False
        return True


class Router:
    """Chooses group and stream; with no rules it only makes the defaults valid names."""

    __slots__ = ("_by_protocol", "rules")

    def __init__(self, rules: Sequence[RouteRule] = ()) -> None:
        self.rules = tuple(rules)
        self._by_protocol = {
            p: tuple(r for r in self.rules if not r.protocols or p in r.protocols) for p in PROTOCOLS
        }

    def has_rules(self, protocol: str) -> bool:
        return bool(self._by_protocol.get(protocol))

    def route(
        self, protocol: str, record: Mapping[str, Any], default_group: str, default_stream: str
    ) -> tuple[str, str]:
        """(group, stream) for one record, or for the metadata shared by a batch of records."""
        for rule in self._by_protocol.get(protocol, ()):
            if not rule.applies(protocol, record):
                continue
            builtins = {"group": default_group, "stream": default_stream}
            group = default_group
            stream = default_stream
            if rule.group is not None:
                rendered = rule.group.render(record, builtins)
                if rendered is None:
                    continue
                group = rendered
            if rule.stream is not None:
                rendered = rule.stream.render(record, builtins)
                if rendered is None:
                    continue
                stream = rendered
            return group_name(group), stream_name(stream)
        return group_name(default_group), stream_name(default_stream)
