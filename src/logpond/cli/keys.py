"""``logpond keys``: create, list and revoke API keys."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from .client import Client, with_client
from .output import print_json, print_table

__all__ = ["keys"]


@click.group()
def keys() -> None:
    """Manage API keys."""


@keys.command("create")
@click.option(
    "--role",
    type=click.Choice(["admin", "reader", "shipper"]),
    help="A built-in role: admin (everything), reader (search), shipper (write).",
)
@click.option(
    "--groups", metavar="PATTERN", help="Limit the role to log groups matching this, e.g. '/qualisys/*'."
)
@click.option(
    "--policy",
    "policy_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="An IAM-style policy document (JSON) instead of a role.",
)
@click.option("--description", default="", help="What the key is for.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@with_client
def create_key(
    client: Client,
    role: str | None,
    groups: str | None,
    policy_file: Path | None,
    description: str,
    as_json: bool,
) -> None:
    """Create a key; its secret is printed once."""
    if (role is None) == (policy_file is None):
        raise click.UsageError("give exactly one of --role or --policy")
    body: dict[str, Any] = {"description": description}
    if role:
        body["role"] = role
        if groups:
            body["groups"] = groups
    else:
        if groups:
            raise click.UsageError("--groups applies to --role; put resources in the policy")
        assert policy_file is not None
        try:
            body["policy"] = json.loads(policy_file.read_text(encoding="utf-8"))
        except ValueError as exc:
            raise click.UsageError(f"{policy_file} is not valid JSON: {exc}") from None
    created = client.request("POST", "/api/v1/keys", json=body)
    if as_json:
        print_json(created)
        return
    click.echo(f"access key id:     {created['access_key_id']}")
    click.echo(f"secret access key: {created['secret_access_key']}")
    click.echo("the secret is shown only now; store it safely", err=True)


@keys.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@with_client
def list_keys(client: Client, as_json: bool) -> None:
    """List keys (never their secrets)."""
    items = client.request("GET", "/api/v1/keys")["keys"]
    if as_json:
        print_json(items)
        return
    print_table(
        ["ACCESS KEY ID", "STATUS", "DESCRIPTION"],
        [[k["access_key_id"], "revoked" if k["revoked"] else "active", k["description"]] for k in items],
    )


@keys.command("revoke")
@click.argument("key_id", metavar="ACCESS_KEY_ID")
@with_client
def revoke_key(client: Client, key_id: str) -> None:
    """Revoke a key; requests signed with it are refused from now on."""
    client.request("DELETE", f"/api/v1/keys/{key_id}")
    click.echo(f"revoked {key_id}")
