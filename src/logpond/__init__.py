"""logpond: centralized log aggregation for Python teams.

Installing ``logpond`` gives the SDK (:mod:`logpond.sdk`); the ``server`` extra adds the
server, the store and the ``logpond`` command.
"""

__version__ = "0.1.0"
