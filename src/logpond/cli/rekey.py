"""``logpond rekey``: write the store again under a new encryption key (server stopped)."""

from __future__ import annotations

import os
from pathlib import Path

import click

__all__ = ["rekey"]


@click.command()
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    envvar="LOGPOND_DATA_DIR",
    default=Path("./data"),
    show_default=True,
    help="The stopped server's data directory.",
)
def rekey(data_dir: Path) -> None:
    """Re-encrypt the store: old key in LOGPOND_ENCRYPTION_KEY, new in LOGPOND_NEW_ENCRYPTION_KEY.

    Either may be empty: no old key encrypts a plain store, no new key decrypts it. The
    server must be stopped; the copy needs as much free space as the database.
    """
    from logpond.store.duckdb.rekey import rekey as run  # noqa: PLC0415

    old_key = os.environ.get("LOGPOND_ENCRYPTION_KEY") or None
    new_key = os.environ.get("LOGPOND_NEW_ENCRYPTION_KEY") or None
    if old_key == new_key:
        raise click.UsageError("LOGPOND_NEW_ENCRYPTION_KEY must differ from LOGPOND_ENCRYPTION_KEY")
    keys = run(data_dir, old_key, new_key)
    state = "encrypted with the new key" if new_key else "decrypted"
    click.echo(f"{data_dir / 'logpond.duckdb'} {state}; {keys} API key secrets re-sealed")
    if new_key:
        click.echo("start logpond with the new key in LOGPOND_ENCRYPTION_KEY", err=True)
