"""Where the example finds its services; every value can be set in the environment."""

from __future__ import annotations

import os

ENVIRONMENT = os.environ.get("QUALISYS_ENVIRONMENT", "development")
REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
# The "agent" the worker calls: any HTTP service (the tests run a local echo server).
AGENT_URL = os.environ.get("AGENT_URL", "http://127.0.0.1:8081/agent")
