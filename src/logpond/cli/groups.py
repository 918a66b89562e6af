"""``logpond groups``: list, create, delete log groups and set their retention."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import click

from logpond.model.retention import RETENTION_DAYS

from .client import Client, with_client
from .output import print_json, print_table

__all__ = ["groups"]

_RETENTION_CHOICES = click.Choice([str(d) for d in RETENTION_DAYS] + ["never"])


def _path(name: str) -> str:
    return "/api/v1/groups/" + quote(name, safe="")


def _retention(value: str | None) -> int | str | None:
    if value is None:
        return None
    return "never" if value == "never" else int(value)


@click.group()
def groups() -> None:
    """Manage log groups."""


@groups.command("list")
@click.option("--prefix", help="Only groups whose name starts with this.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@with_client
def list_groups(client: Client, prefix: str | None, as_json: bool) -> None:
    """List log groups."""
    items: list[dict[str, Any]] = []
    token = None
    while True:
        params: dict[str, Any] = {"limit": 1000}
        if prefix:
            params["prefix"] = prefix
        if token:
            params["next_token"] = token
        page = client.request("GET", "/api/v1/groups", params=params)
        items.extend(page["groups"])
        token = page.get("next_token")
        if not token:
            break
    if as_json:
        print_json(items)
        return
    print_table(
        ["NAME", "RETENTION", "STORED BYTES", "TAGS"],
        [
            [
                g["name"],
                f"{g['retention_days']}d" if g["retention_days"] else "never",
                str(g["stored_bytes"]),
                ",".join(f"{k}={v}" for k, v in g["tags"].items()),
            ]
            for g in items
        ],
    )


@groups.command("create")
@click.argument("name")
@click.option("--retention", type=_RETENTION_CHOICES, help="Retention in days, or never.")
@click.option("--tag", "tags", multiple=True, metavar="KEY=VALUE", help="A tag (repeatable).")
@with_client
def create_group(client: Client, name: str, retention: str | None, tags: tuple[str, ...]) -> None:
    """Create a log group."""
    tag_map = {}
    for tag in tags:
        key, sep, value = tag.partition("=")
        if not sep:
            raise click.BadParameter(f"{tag!r} is not KEY=VALUE", param_hint="--tag")
        tag_map[key] = value
    body = {"name": name, "retention_days": _retention(retention), "tags": tag_map}
    group = client.request("POST", "/api/v1/groups", json=body)
    click.echo(f"created {group['name']}")


@groups.command("delete")
@click.argument("name")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@with_client
def delete_group(client: Client, name: str, yes: bool) -> None:
    """Delete a log group and all its events."""
    if not yes:
        click.confirm(f"delete {name} and all its events?", abort=True)
    client.request("DELETE", _path(name))
    click.echo(f"deleted {name}")


@groups.command("set-retention")
@click.argument("name")
@click.argument("days", type=_RETENTION_CHOICES)
@with_client
def set_retention(client: Client, name: str, days: str) -> None:
    """Set a group's retention: one of CloudWatch's values in days, or never."""
    group = client.request("PATCH", _path(name), json={"retention_days": _retention(days)})
    shown = f"{group['retention_days']} days" if group["retention_days"] else "never"
    click.echo(f"{name}: retention {shown}")
