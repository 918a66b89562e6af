"""``logpond metrics`` and ``logpond alarms``: what metric filters counted, and the alarms on it."""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import quote

import click

from logpond.model.timestamps import format_iso

from .client import Client, with_client
from .output import print_json, print_table
from .search import parse_since

__all__ = ["alarms", "metrics"]


def _iso(ms: int | None) -> str:
    return "-" if ms is None else format_iso(ms)


def _dimensions(dimensions: dict[str, str]) -> str:
    return ",".join(f"{k}={v}" for k, v in sorted(dimensions.items())) or "-"


def _number(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:g}"


@click.group()
def metrics() -> None:
    """Metrics made by metric filters: per-minute datapoints."""


@metrics.command("list")
@click.option("--namespace", help="Only this namespace.")
@click.option("--name", help="Only this metric name.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@with_client
def list_metrics(client: Client, namespace: str | None, name: str | None, as_json: bool) -> None:
    """Metrics that have datapoints."""
    params = {k: v for k, v in (("namespace", namespace), ("name", name)) if v is not None}
    body = client.request("GET", "/api/v1/metrics", params=params)
    if as_json:
        print_json(body)
        return
    rows = [[m["namespace"], m["name"], _dimensions(m["dimensions"])] for m in body["metrics"]]
    print_table(["NAMESPACE", "METRIC", "DIMENSIONS"], rows)


@metrics.command("series")
@click.argument("namespace")
@click.argument("name")
@click.option("--dimension", "-d", "dimensions", multiple=True, help="NAME=VALUE (repeatable).")
@click.option(
    "--stat", default="Sum", show_default=True, help="Sum, Average, Minimum, Maximum, SampleCount, p99 ..."
)
@click.option("--period", type=click.IntRange(60), default=60, show_default=True, help="Seconds per value.")
@click.option("--since", default="1h", show_default=True, help="How far back: 15m, 1h, 7d ...")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@with_client
def series(
    client: Client,
    namespace: str,
    name: str,
    dimensions: tuple[str, ...],
    stat: str,
    period: int,
    since: str,
    as_json: bool,
) -> None:
    """A metric's values per period (periods without datapoints are left out)."""
    params: list[tuple[str, Any]] = [
        ("namespace", namespace),
        ("name", name),
        ("stat", stat),
        ("period", period),
        ("start", int(time.time() * 1000) - parse_since(since)),
    ]
    params += [("dimension", d) for d in dimensions]
    body = client.request("GET", "/api/v1/metrics/series", params=params)
    if as_json:
        print_json(body)
        return
    print_table(
        ["TIME", body["statistic"].upper()], [[p["iso"], _number(p["value"])] for p in body["points"]]
    )


@click.group()
def alarms() -> None:
    """Alarms on metrics: their state, history and notifications."""


def _condition(definition: dict[str, Any]) -> str:
    symbols = {
        "GreaterThanThreshold": ">",
        "GreaterThanOrEqualToThreshold": ">=",
        "LessThanThreshold": "<",
        "LessThanOrEqualToThreshold": "<=",
    }
    comparison = definition.get("comparison", "")
    return f"{symbols.get(comparison, comparison)} {_number(definition.get('threshold'))}"


def _subject(definition: dict[str, Any]) -> str:
    if definition.get("metric_name"):
        statistic = definition.get("statistic") or definition.get("extended_statistic")
        return f"{statistic}({definition['metric_name']})"
    returned = [m for m in definition.get("metrics") or [] if m.get("return_data")]
    if not returned:
        return "-"
    query = returned[0]
    return str(query.get("expression") or f"{query['statistic']}({query['metric_name']})")


@alarms.command("list")
@click.option("--state", type=click.Choice(["OK", "ALARM", "INSUFFICIENT_DATA"]), help="Only this state.")
@click.option("--prefix", help="Only alarms whose name starts with this.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@with_client
def list_alarms(client: Client, state: str | None, prefix: str | None, as_json: bool) -> None:
    """Alarms with their state, ALARM first."""
    params = {k: v for k, v in (("state", state), ("prefix", prefix)) if v is not None}
    body = client.request("GET", "/api/v1/alarms", params=params)
    if as_json:
        print_json(body)
        return
    order = {"ALARM": 0, "INSUFFICIENT_DATA": 1, "OK": 2}
    rows = []
    for alarm in sorted(body["alarms"], key=lambda a: (order.get(a["state"], 3), a["name"])):
        definition = alarm["definition"]
        periods = f"{definition.get('datapoints_to_alarm') or definition['evaluation_periods']}"
        periods += f" of {definition['evaluation_periods']}"
        rows.append(
            [
                alarm["name"],
                alarm["state"],
                f"{_subject(definition)} {_condition(definition)}",
                periods,
                _iso(alarm["state_updated"]),
            ]
        )
    print_table(["NAME", "STATE", "CONDITION", "PERIODS", "SINCE"], rows)


@alarms.command("history")
@click.argument("name")
@click.option(
    "--type",
    "kinds",
    multiple=True,
    type=click.Choice(["StateUpdate", "ConfigurationUpdate", "Action"]),
    help="Only these entries (repeatable).",
)
@click.option("--limit", type=click.IntRange(1, 1000), default=50, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@with_client
def history(client: Client, name: str, kinds: tuple[str, ...], limit: int, as_json: bool) -> None:
    """An alarm's transitions, changes and notification outcomes, newest first."""
    params: list[tuple[str, Any]] = [("kind", k) for k in kinds] + [("limit", limit)]
    body = client.request("GET", f"/api/v1/alarms/{quote(name, safe='')}/history", params=params)
    if as_json:
        print_json(body)
        return
    print_table(["TIME", "TYPE", "SUMMARY"], [[h["iso"], h["type"], h["summary"]] for h in body["history"]])


@alarms.command("test")
@click.argument("name")
@click.option("--channel", help="Only this channel (default: every channel of the alarm's actions).")
@with_client
def test(client: Client, name: str, channel: str | None) -> None:
    """Send a test notification and wait for the outcome; exits 1 if a delivery failed."""
    params = {"channel": channel} if channel else {}
    body = client.request("POST", f"/api/v1/alarms/{quote(name, safe='')}/test", params=params)
    rows = []
    failed = False
    for notification in body["notifications"]:
        last = notification["attempts"][-1] if notification["attempts"] else {}
        failed = failed or notification["status"] != "delivered"
        rows.append(
            [
                notification["channel"],
                notification["status"],
                str(len(notification["attempts"])),
                str(last.get("detail") or "-"),
            ]
        )
    print_table(["CHANNEL", "STATUS", "ATTEMPTS", "LAST RESULT"], rows)
    if failed:
        raise SystemExit(1)
