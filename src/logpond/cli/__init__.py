"""The ``logpond`` command."""
