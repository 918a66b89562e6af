"""``logpond redact FILE``: masked lines on stdout, counts per type on stderr."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from logpond.cli.redact import redact_command

LOG = "\n".join(
    [
        '{"timestamp":"2026-01-24T10:15:30.123Z","level":"info","message":"HTTP Request",'
        '"trace_id":"abc-123","user_name":"John Doe","status":201}',
        "2026-01-24 10:15:31 INFO password reset sent to john.doe@acme.com",
        "2026-01-24 10:15:32 INFO GET /healthz 200 in 3ms",
        "charge declined card=4111 1111 1111 1111 tel +1 415-555-2671",
    ]
)


def run(*args: str, stdin: str | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(redact_command, list(args), input=stdin)
    return result.exit_code, result.stdout, result.stderr


def test_changed_lines_and_counts(tmp_path: Path) -> None:
    """Changed lines are printed masked with their number; counts go to stderr."""
    path = tmp_path / "app.log"
    path.write_text(LOG + "\n", encoding="utf-8")
    code, out, err = run(str(path))
    assert code == 0
    lines = out.splitlines()
    assert [line.split(":", 1)[0] for line in lines] == ["1", "2", "4"]
    record = json.loads(lines[0].split(": ", 1)[1])
    assert record["user_name"] == "John D***"
    assert record["trace_id"] == "abc-123"
    assert lines[1].endswith("sent to j***@***.com")
    assert "**** **** **** 1111" in lines[2]
    assert "+1 415-555-2671" in lines[2]  # phone numbers are off by default
    assert "scanned 4 lines, 3 with findings (75.0%)" in err
    assert any(line.split() == ["email", "1", "1"] for line in err.splitlines())


def test_stdin_and_show_all(tmp_path: Path) -> None:
    """``-`` reads stdin; ``--show all`` prints a masked copy of every line."""
    code, out, _ = run("--show", "all", "-", stdin=LOG)
    assert code == 0
    assert len(out.splitlines()) == 4
    assert out.splitlines()[2] == "2026-01-24 10:15:32 INFO GET /healthz 200 in 3ms"


def test_policy_file_in_yaml_and_cloudwatch_json(tmp_path: Path) -> None:
    """A native YAML policy and a CloudWatch JSON document both change what is masked."""
    native = tmp_path / "policy.yaml"
    native.write_text("enable: [phone]\nmasks:\n  email: keep_local\n", encoding="utf-8")
    _, out, err = run("--policy", str(native), "--show", "none", "-", stdin=LOG)
    assert out == ""
    assert any(line.split()[:2] == ["phone", "1"] for line in err.splitlines())
    _, out, _ = run("--policy", str(native), "-", stdin=LOG)
    assert "john.doe@***.com" in out

    arn = "arn:aws:dataprotection::aws:data-identifier/EmailAddress"
    document = {
        "Name": "p",
        "Version": "2021-06-01",
        "Statement": [
            {"DataIdentifier": [arn], "Operation": {"Audit": {"FindingsDestination": {}}}},
            {"DataIdentifier": [arn], "Operation": {"Deidentify": {"MaskConfig": {}}}},
        ],
    }
    cloudwatch = tmp_path / "policy.json"
    cloudwatch.write_text(json.dumps(document), encoding="utf-8")
    _, out, err = run("--policy", str(cloudwatch), "-", stdin=LOG)
    assert [line.split(":", 1)[0] for line in out.splitlines()] == ["2"]
    assert "John Doe" not in err


def test_audit_policy_still_shows_masks(tmp_path: Path) -> None:
    """A policy in audit mode is shown as it would mask."""
    path = tmp_path / "audit.json"
    path.write_text('{"mode": "audit"}', encoding="utf-8")
    _, out, _ = run("--policy", str(path), "-", stdin="mail a@b.io")
    assert out == "1: mail a***@***.io\n"


def test_fail_on_findings() -> None:
    """``--fail-on-findings`` exits 1 when something would be masked, 0 otherwise."""
    assert run("--fail-on-findings", "-", stdin=LOG)[0] == 1
    assert run("--fail-on-findings", "-", stdin="GET /healthz 200")[0] == 0


def test_invalid_policy_is_a_usage_error(tmp_path: Path) -> None:
    """A bad policy file stops the command with the reason, not a traceback."""
    path = tmp_path / "bad.json"
    path.write_text('{"enable": ["emial"]}', encoding="utf-8")
    code, _, err = run("--policy", str(path), "-", stdin=LOG)
    assert code == 1
    assert "invalid policy: unknown redaction rule" in err
    assert "did_you_mean=email" in err
