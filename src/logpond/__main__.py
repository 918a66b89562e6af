"""``python -m logpond``: the ``logpond`` command."""

from logpond.cli.main import main

main()
