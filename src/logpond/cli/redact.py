"""``logpond redact``: what a redaction policy would mask in your own log file.

Reads a log file (or ``-`` for stdin) line by line: a line that is a JSON object is
redacted key by key as the server redacts a structured record (the SDK's own id and time
fields stay), any other line as text. Changed lines go to stdout, masked; a summary of the
findings per identifier type goes to stderr. Nothing is sent anywhere.
"""

from __future__ import annotations

import dataclasses
import json
from collections import Counter
from pathlib import Path
from typing import IO, Any

import click

from logpond.model.errors import InvalidParameterError
from logpond.redact import DEFAULT_POLICY, Policy, Redactor

__all__ = ["load_policy", "redact_command"]

_SHOW = ("changed", "all", "none")


def load_policy(path: Path) -> Policy:
    """A policy from a file: the native form or a CloudWatch document, in JSON or YAML."""
    text = path.read_text(encoding="utf-8")
    data: Any
    if path.suffix.lower() in (".yaml", ".yml"):
        data = _yaml(text)
    else:
        try:
            data = json.loads(text)
        except json.JSONDecodeError:
            data = _yaml(text)
    if not isinstance(data, dict):
        raise InvalidParameterError("a policy file must hold a mapping", path=str(path))
    if any(str(key).lower() == "statement" for key in data):
        return Policy.from_cloudwatch(data)
    return Policy.from_dict(data)


def _yaml(text: str) -> Any:
    try:
        import yaml  # noqa: PLC0415 - only policy files written in YAML need it
    except ModuleNotFoundError:
        raise click.ClickException(
            "reading a YAML policy needs PyYAML: pip install 'logpond[server]'"
        ) from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise InvalidParameterError("policy file is neither JSON nor YAML") from exc


@click.command("redact")
@click.argument("source", metavar="FILE", type=click.File("r", encoding="utf-8", errors="replace", lazy=True))
@click.option(
    "--policy",
    "policy_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Policy file (native form or CloudWatch document, JSON or YAML). Default: logpond's default policy.",
)
@click.option(
    "--show",
    type=click.Choice(_SHOW),
    default="changed",
    show_default=True,
    help="Which lines to print: changed ones (with their line number), all of them "
    "(a masked copy of the file), or none (the summary only).",
)
@click.option(
    "--fail-on-findings",
    is_flag=True,
    help="Exit with status 1 when anything would be masked (for CI checks).",
)
def redact_command(source: IO[str], policy_path: Path | None, show: str, fail_on_findings: bool) -> None:
    """Show what a redaction policy would mask in FILE (or - for stdin), with counts per type.

    JSON lines are redacted key by key (denylisted keys, name keys, every string value);
    other lines as text. Masked lines go to stdout, the summary to stderr.
    """
    try:
        policy = DEFAULT_POLICY if policy_path is None else load_policy(policy_path)
    except InvalidParameterError as exc:
        details = ", ".join(f"{k}={v}" for k, v in exc.details.items())
        raise click.ClickException(
            f"invalid policy: {exc.message}" + (f" ({details})" if details else "")
        ) from None
    # Always show the masks, even for a policy that would only audit.
    redactor = Redactor(dataclasses.replace(policy, mode="mask"))
    findings: Counter[str] = Counter()
    lines_with: Counter[str] = Counter()
    scanned = changed = 0
    for number, raw in enumerate(source, start=1):
        line = raw.rstrip("\r\n")
        scanned += 1
        masked, found = redactor.redact_message(line)
        if found:
            changed += 1
            findings.update(found)
            lines_with.update(found.keys())
        if show == "all":
            click.echo(masked)
        elif show == "changed" and found:
            click.echo(f"{number}: {masked}")
    _summary(scanned, changed, findings, lines_with)
    if fail_on_findings and findings:
        raise SystemExit(1)


def _summary(scanned: int, changed: int, findings: Counter[str], lines_with: Counter[str]) -> None:
    share = changed / scanned if scanned else 0.0
    click.echo(f"scanned {scanned} lines, {changed} with findings ({share:.1%})", err=True)
    if not findings:
        return
    click.echo(f"{'type':<20}{'findings':>10}{'lines':>10}", err=True)
    for kind, count in sorted(findings.items(), key=lambda item: (-item[1], item[0])):
        click.echo(f"{kind:<20}{count:>10}{lines_with[kind]:>10}", err=True)
