"""Small helpers shared by the SDK tests."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import textwrap
from typing import Any

import logpond.sdk as lp

TIMESTAMP_RE = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")
HEX32_RE = re.compile(r"[0-9a-f]{32}")


def init_capture(**settings: Any) -> None:
    """Configure the SDK with no output of its own (the ``records`` fixture captures)."""
    settings.setdefault("output", ())
    lp.init("svc", "test", **settings)


def run_python(
    code: str, env: dict[str, str] | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """Run ``code`` in a fresh interpreter; returns the finished process."""
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
    )


def json_lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]
