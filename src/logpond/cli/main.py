"""The ``logpond`` command: ``serve`` runs the server; the rest are clients of one."""

from __future__ import annotations

import sys

import click

from logpond import __version__
from logpond.model.errors import LogpondError

from .alerts import alarms, metrics
from .groups import groups
from .ingest import ingest
from .keys import keys
from .pii import pii
from .query import queries, query
from .redact import redact_command
from .rekey import rekey
from .search import search
from .serve import serve

__all__ = ["cli", "main"]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="logpond")
def cli() -> None:
    """logpond: centralized logs for Python teams.

    Start a server with `logpond serve`; the other commands talk to one at LOGPOND_URL
    with LOGPOND_ACCESS_KEY_ID and LOGPOND_SECRET_ACCESS_KEY.
    """


for command in (serve, ingest, groups, keys, search, query, queries, alarms, metrics, rekey, pii):
    cli.add_command(command)
cli.add_command(redact_command, "redact")


def main() -> None:
    """Entry point: a LogpondError becomes one line on stderr and exit status 1."""
    try:
        cli.main(standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(1)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except LogpondError as exc:
        details = " ".join(f"{k}={v}" for k, v in exc.details.items() if not isinstance(v, list))
        click.echo(f"error: {exc.message}" + (f" ({details})" if details else ""), err=True)
        sys.exit(1)
    except KeyboardInterrupt:
        sys.exit(130)
