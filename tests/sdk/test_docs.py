"""docs/sdk.md stays true to the code: every setting it names exists, every setting is named."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import logpond.sdk as lp

ROOT = Path(__file__).resolve().parents[2]
DOC = (ROOT / "docs" / "sdk.md").read_text()
SOURCES = "".join(p.read_text() for p in (ROOT / "src" / "logpond" / "sdk").glob("*.py"))


def test_every_init_argument_is_documented() -> None:
    """Each parameter of ``init`` appears in docs/sdk.md."""
    for name in inspect.signature(lp.init).parameters:
        assert f"`{name}`" in DOC, name


def test_every_documented_variable_is_read_by_the_sdk() -> None:
    """Each ``LOGPOND_*`` variable in the configuration table is one the SDK reads."""
    table = DOC[DOC.index("## Configuration") : DOC.index("## The record")]
    rows = re.findall(r"^\| `(\w+)` \| `LOGPOND_(\w+)`", table, flags=re.MULTILINE)
    assert len(rows) >= 10
    parameters = inspect.signature(lp.init).parameters
    for argument, variable in rows:
        assert argument in parameters, argument
        assert f'"{variable}"' in SOURCES or f'"LOGPOND_{variable}"' in SOURCES, variable


def test_every_public_name_is_documented() -> None:
    """Each name in ``logpond.sdk.__all__`` is mentioned in docs/sdk.md."""
    for name in lp.__all__:
        assert name in DOC, name
