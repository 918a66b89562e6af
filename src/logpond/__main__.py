"""``python -m logpond``: the ``logpond`` command."""

from logpond.cli import main

main()
