"""The ``logpond`` command.

The command needs the ``server`` extra (click, httpx, the store); a plain ``pip install
logpond`` installs only the SDK, so the entry point says what to install instead of
failing with an import error.
"""

from __future__ import annotations

import sys


def main() -> None:
    """Entry point of the ``logpond`` script."""
    try:
        from .main import main as run  # noqa: PLC0415 (the SDK install has no click)
    except ModuleNotFoundError as exc:
        print(
            f"error: the logpond command needs the server extra ({exc.name} is missing): "
            "pip install 'logpond[server]'",
            file=sys.stderr,
        )
        sys.exit(1)
    run()
