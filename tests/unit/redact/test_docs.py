"""The examples in ``docs/pii.md`` are true: policies load, code gives the results shown."""

from __future__ import annotations

import ast
import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

import yaml
from click.testing import CliRunner

from logpond.cli.redact import redact_command
from logpond.redact import DEFAULT_DENY_KEYS, DEFAULT_NAME_KEYS, RULE_NAMES, Policy

DOC = Path(__file__).resolve().parents[3] / "docs" / "pii.md"


def blocks(language: str) -> list[str]:
    text = DOC.read_text(encoding="utf-8")
    return re.findall(rf"```{language}\n(.*?)```", text, re.DOTALL)


def test_native_example_is_a_valid_policy() -> None:
    """The YAML example is a native policy with every setting it claims."""
    (example,) = blocks("yaml")
    policy = Policy.from_dict(yaml.safe_load(example))
    assert {"phone", "ssn"} <= policy.rules
    assert "iban" not in policy.rules
    assert policy.custom[0].name == "EmployeeId"


def test_cloudwatch_example_is_a_valid_document() -> None:
    """The JSON example is a CloudWatch document logpond accepts."""
    (example,) = blocks("json")
    policy = Policy.from_cloudwatch(json.loads(example))
    assert policy.rules == {"email", "card"}
    assert [c.name for c in policy.custom] == ["EmployeeId"]


def test_python_example_gives_the_results_shown() -> None:
    """Each expression followed by a ``# result`` comment in the Python example gives it."""
    (example,) = blocks("python")
    namespace: dict[str, Any] = {}
    checked = 0
    lines = example.splitlines()
    tree = ast.parse(example)
    for node in tree.body:
        assert node.end_lineno is not None
        code = ast.get_source_segment(example, node)
        assert code is not None
        comment = []
        for line in lines[node.end_lineno :]:
            if not line.startswith("# "):
                break
            comment.append(line[2:])
        if isinstance(node, ast.Expr) and comment:
            value = eval(code, namespace)  # noqa: S307 - our own documentation
            assert value == eval(" ".join(comment), {"Counter": Counter}), code  # noqa: S307
            checked += 1
        else:
            exec(code, namespace)  # noqa: S102 - our own documentation
    assert checked == 2


def test_console_example_is_what_the_command_prints() -> None:
    """Running ``logpond redact`` on the shown file prints the shown output."""
    (example,) = blocks("console")
    _, cat, run = re.split(r"^\$ .*\n", example, flags=re.MULTILINE)
    result = CliRunner().invoke(redact_command, ["-"], input=cat)
    assert result.output == run


def test_documented_lists_match_the_code() -> None:
    """Every rule, denylisted key and name key is named in the page."""
    text = DOC.read_text(encoding="utf-8")
    for name in (*RULE_NAMES, *DEFAULT_NAME_KEYS):
        assert f"`{name}`" in text, name
    for key in DEFAULT_DENY_KEYS:
        assert f"`{key}`" in text or f"`{key.rstrip('s')}(s)`" in text, key
