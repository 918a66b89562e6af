"""``logpond pii stats``: what the PII rules found, per group and type (counts only)."""

from __future__ import annotations

import time
from typing import Any

import click

from .client import Client, with_client
from .output import print_json, print_table
from .search import parse_since

__all__ = ["pii"]


@click.group()
def pii() -> None:
    """PII audit: findings of the data protection policies."""


@pii.command("stats")
@click.option("--group", "-g", "groups", multiple=True, required=True, help="Log group (repeatable).")
@click.option("--since", default="24h", show_default=True, help="How far back: 15m, 1h, 7d ...")
@click.option("--by-minute", is_flag=True, help="One line per minute instead of totals.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@with_client
def stats(client: Client, groups: tuple[str, ...], since: str, by_minute: bool, as_json: bool) -> None:
    """Counts of findings per identifier type; never the values."""
    start = int(time.time() * 1000) - parse_since(since)
    params: list[tuple[str, Any]] = [("group", g) for g in groups] + [("start", start)]
    body = client.request("GET", "/api/v1/pii/stats", params=params)
    if as_json:
        print_json(body)
        return
    if by_minute:
        rows = [[f["time"], f["group"], f["identifier"], str(f["count"])] for f in body["findings"]]
        print_table(["MINUTE", "GROUP", "TYPE", "FINDINGS"], rows)
        return
    totals = sorted(body["totals"].items(), key=lambda item: (-item[1], item[0]))
    print_table(["TYPE", "FINDINGS"], [[identifier, str(count)] for identifier, count in totals])
