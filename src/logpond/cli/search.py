"""``logpond search``: find events by time range, text and field values."""

from __future__ import annotations

import re
import time
from typing import Any

import click
import orjson

from .client import Client, with_client

__all__ = ["search"]

_DURATION = re.compile(r"^(\d+)\s*(s|m|h|d|w)$")
_UNIT_MS = {"s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000, "w": 604_800_000}
PAGE = 1000


def parse_since(value: str) -> int:
    """``15m``, ``1h``, ``7d`` ... as milliseconds."""
    match = _DURATION.match(value.strip())
    if not match:
        raise click.BadParameter(f"{value!r}: use a number and s, m, h, d or w (e.g. 1h)")
    return int(match.group(1)) * _UNIT_MS[match.group(2)]


def _field_value(text: str) -> str | int | float | bool:
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError:
        return text
    return value if isinstance(value, str | int | float | bool) else text


def _line(event: dict[str, Any]) -> str:
    parts = [event["time"], (event.get("level") or "-").ljust(5), f"{event['group']}/{event['stream']}"]
    message = event.get("message")
    if message:
        parts.append(message)
    extra = {k: event[k] for k in ("trace_id", "tenant_id", "service") if event.get(k)}
    extra.update(event.get("fields") or {})
    if extra:
        parts.append(orjson.dumps(extra).decode())
    return "  ".join(parts)


@click.command()
@click.option("--group", "-g", "groups", multiple=True, required=True, help="Log group (repeatable).")
@click.option("--since", help="How far back: 15m, 1h, 7d ... (default: all time).")
@click.option("--start", help="Start time (ISO-8601 or epoch ms), inclusive.")
@click.option("--end", help="End time (ISO-8601 or epoch ms), exclusive.")
@click.option("--query", "-q", help="Text the message or fields must contain.")
@click.option(
    "--field",
    "-f",
    "fields",
    multiple=True,
    metavar="NAME=VALUE",
    help="A field that must have this value, e.g. trace_id=abc (repeatable).",
)
@click.option("--limit", "-n", type=click.IntRange(1, 1_000_000), default=100, show_default=True)
@click.option("--asc", is_flag=True, help="Oldest first (default newest first).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@with_client
def search(
    client: Client,
    groups: tuple[str, ...],
    since: str | None,
    start: str | None,
    end: str | None,
    query: str | None,
    fields: tuple[str, ...],
    limit: int,
    asc: bool,
    fmt: str,
) -> None:
    """Print events that match, newest first."""
    if since and start:
        raise click.UsageError("give --since or --start, not both")
    body: dict[str, Any] = {"groups": list(groups), "order": "asc" if asc else "desc"}
    if since:
        body["start"] = int(time.time() * 1000) - parse_since(since)
    if start:
        body["start"] = int(start) if start.isdigit() else start
    if end:
        body["end"] = int(end) if end.isdigit() else end
    if query:
        body["query"] = query
    wanted: dict[str, Any] = {}
    for item in fields:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise click.BadParameter(f"{item!r} is not NAME=VALUE", param_hint="--field")
        wanted[name] = _field_value(value)
    body["fields"] = wanted
    printed = 0
    cursor = None
    while printed < limit:
        body["limit"] = min(PAGE, limit - printed)
        if cursor:
            body["cursor"] = cursor
        page = client.request("POST", "/api/v1/events/search", json=body)
        for event in page["events"]:
            click.echo(orjson.dumps(event).decode() if fmt == "json" else _line(event))
        printed += len(page["events"])
        cursor = page.get("next_cursor")
        if not cursor:
            break
    if printed == 0 and fmt == "text":
        click.echo("no events found", err=True)
