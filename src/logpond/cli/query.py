"""``logpond query`` runs a Logs Insights query; ``logpond queries`` manages saved ones."""

from __future__ import annotations

import csv
import itertools
import sys
import time
from typing import Any

import click
import orjson

from .client import Client, ClientError, with_client
from .output import print_json, print_table
from .search import parse_since

__all__ = ["queries", "query"]

_SPINNER = "|/-\\"
_FORMATS = click.Choice(["table", "json", "csv"])


def _range(since: str | None, start: str | None, end: str | None) -> dict[str, Any]:
    if since and start:
        raise click.UsageError("give --since or --start, not both")
    body: dict[str, Any] = {}
    now = int(time.time() * 1000)
    if since:
        body["start"] = now - parse_since(since)
    if start:
        body["start"] = int(start) if start.isdigit() else start
    if end:
        body["end"] = int(end) if end.isdigit() else end
    return body


def _print(result: dict[str, Any], fmt: str) -> None:
    fields, records = result["fields"], result["records"]
    if fmt == "json":
        for record in records:
            click.echo(orjson.dumps(record).decode())
    elif fmt == "csv":
        writer = csv.DictWriter(sys.stdout, fieldnames=fields, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(records)
    else:
        shown = [f for f in fields if f != "@ptr"]
        print_table(shown, [[r.get(f, "") for f in shown] for r in records])
    stats = result["statistics"]
    click.echo(
        f"{len(records)} rows; {stats['recordsMatched']:.0f} records matched, "
        f"{stats['recordsScanned']:.0f} scanned, {stats['bytesScanned']:.0f} bytes",
        err=True,
    )


def run_and_print(client: Client, body: dict[str, Any], fmt: str) -> None:
    """Start a query, show a spinner on a terminal while it runs, print its rows."""
    job = client.request("POST", "/api/v1/queries", json=body)
    spin = itertools.cycle(_SPINNER)
    interactive = sys.stderr.isatty()
    try:
        while job["status"] in ("Scheduled", "Running"):
            if interactive:
                click.echo(f"\r{next(spin)} running", nl=False, err=True)
            time.sleep(0.1)
            job = client.request("GET", f"/api/v1/queries/{job['query_id']}")
    except KeyboardInterrupt:
        client.request("DELETE", f"/api/v1/queries/{job['query_id']}")
        raise
    finally:
        if interactive:
            click.echo("\r          \r", nl=False, err=True)
    if job["status"] != "Complete":
        error = job.get("error") or {}
        raise ClientError(f"error: query {job['status'].lower()}: {error.get('message', '')}".rstrip(": "))
    _print(job, fmt)


@click.command()
@click.argument("text", metavar="QUERY")
@click.option("--group", "-g", "groups", multiple=True, help="Log group (repeatable).")
@click.option("--prefix", help="Every log group whose name starts with this.")
@click.option("--since", help="How far back: 15m, 1h, 7d ... (default 1h).")
@click.option("--start", help="Start time (ISO-8601 or epoch ms), inclusive.")
@click.option("--end", help="End time (ISO-8601 or epoch ms), exclusive; default now.")
@click.option("--limit", type=click.IntRange(1, 100_000), default=10_000, show_default=True)
@click.option(
    "--format", "fmt", type=click.Choice(["table", "json", "csv"]), default="table", show_default=True
)
@with_client
def query(
    client: Client, text: str, groups: tuple[str, ...], prefix: str | None, since: str | None,
    start: str | None, end: str | None, limit: int, fmt: str,
) -> None:  # fmt: skip
    """Run a Logs Insights QUERY, e.g. 'filter level = "error" | stats count() by service'."""
    body = {"query": text, "groups": list(groups), "limit": limit, **_range(since, start, end)}
    if prefix:
        body["group_prefix"] = prefix
    run_and_print(client, body, fmt)


@click.group()
def queries() -> None:
    """Saved queries."""


@queries.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@with_client
def list_saved(client: Client, as_json: bool) -> None:
    """List saved queries."""
    saved = client.request("GET", "/api/v1/saved-queries")
    if as_json:
        print_json(saved)
        return
    print_table(["ID", "NAME", "GROUPS", "QUERY"], [
        [s["id"], s["name"], ",".join(s["groups"]), s["query"].replace("\n", " ")[:60]] for s in saved
    ])  # fmt: skip


@queries.command("save")
@click.argument("name")
@click.argument("text", metavar="QUERY")
@click.option("--group", "-g", "groups", multiple=True, help="Default log group (repeatable).")
@with_client
def save(client: Client, name: str, text: str, groups: tuple[str, ...]) -> None:
    """Save QUERY under NAME (replacing a saved query of that name)."""
    body = {"name": name, "query": text, "groups": list(groups)}
    existing = [s for s in client.request("GET", "/api/v1/saved-queries") if s["name"] == name]
    if existing:
        saved = client.request("PUT", f"/api/v1/saved-queries/{existing[0]['id']}", json=body)
    else:
        saved = client.request("POST", "/api/v1/saved-queries", json=body)
    click.echo(f"saved {saved['name']} ({saved['id']})")


@queries.command("delete")
@click.argument("name")
@with_client
def delete(client: Client, name: str) -> None:
    """Delete the saved query called NAME (or with that id)."""
    matches = [s for s in client.request("GET", "/api/v1/saved-queries") if name in (s["name"], s["id"])]
    if not matches:
        raise ClientError(f"error: no saved query {name!r}")
    for saved in matches:
        client.request("DELETE", f"/api/v1/saved-queries/{saved['id']}")
    click.echo(f"deleted {name}")


@queries.command("run")
@click.argument("name")
@click.option("--group", "-g", "groups", multiple=True, help="Log group, instead of the saved ones.")
@click.option("--since", help="How far back: 15m, 1h, 7d ... (default 1h).")
@click.option("--start", help="Start time (ISO-8601 or epoch ms).")
@click.option("--end", help="End time (ISO-8601 or epoch ms).")
@click.option(
    "--format", "fmt", type=click.Choice(["table", "json", "csv"]), default="table", show_default=True
)
@with_client
def run_saved(
    client: Client, name: str, groups: tuple[str, ...], since: str | None, start: str | None,
    end: str | None, fmt: str,
) -> None:  # fmt: skip
    """Run the saved query called NAME."""
    matches = [s for s in client.request("GET", "/api/v1/saved-queries") if name in (s["name"], s["id"])]
    if not matches:
        raise ClientError(f"error: no saved query {name!r}")
    saved = matches[0]
    body = {"query": saved["query"], "groups": list(groups) or saved["groups"], **_range(since, start, end)}
    run_and_print(client, body, fmt)
