"""IAM-style policies and ``authorize``: the one function that decides every request.

A policy is the familiar IAM document::

    {"Version": "2012-10-17",
     "Statement": [{"Effect": "Allow",
                    "Action": ["logs:PutLogEvents", "logs:CreateLogStream"],
                    "Resource": ["arn:aws:logs:*:*:log-group:/qualisys/*"]}]}

Actions are CloudWatch Logs' IAM names (``logs:FilterLogEvents``, ...), matched without
regard to case, with ``*`` and ``?`` wildcards. Resources are ARNs such as
``arn:aws:logs:<region>:<account>:log-group:<name>``, matched case-sensitively with the same
wildcards. An explicit ``Deny`` wins over any ``Allow``; nothing allowed is denied.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from logpond.model.errors import AccessDeniedError, InvalidParameterError

__all__ = [
    "ROLES",
    "Arns",
    "CompiledPolicy",
    "Principal",
    "authorize",
    "compile_policy",
    "is_allowed",
    "role_policy",
]

# What each built-in role may do. ``shipper`` is the source story's Fluent Bit policy.
_READ_ACTIONS = [
    "logs:Describe*",
    "logs:Get*",
    "logs:List*",
    "logs:FilterLogEvents",
    "logs:StartQuery",
    "logs:StopQuery",
    "logs:StartLiveTail",
    "logs:TestMetricFilter",
    # Metrics and alarms (CloudWatch's names) and notification channels, read only.
    "cloudwatch:Describe*",
    "cloudwatch:Get*",
    "cloudwatch:List*",
    "logpond:DescribeNotificationChannels",
]
_SHIP_ACTIONS = [
    "logs:CreateLogStream",
    "logs:PutLogEvents",
    "logs:DescribeLogGroups",
    "logs:DescribeLogStreams",
]
ROLES: dict[str, list[str]] = {
    "admin": ["*"],
    "reader": [*_READ_ACTIONS, "logpond:GetOpenApi"],
    "shipper": [*_SHIP_ACTIONS, "logpond:GetOpenApi"],
}


@dataclass(frozen=True, slots=True)
class Arns:
    """How ARNs are spelled for this server's region and account."""

    region: str = "us-east-1"
    account: str = "000000000000"

    def group(self, name: str) -> str:
        return f"arn:aws:logs:{self.region}:{self.account}:log-group:{name}"

    def stream(self, group: str, stream: str) -> str:
        return f"{self.group(group)}:log-stream:{stream}"

    def access_key(self, access_key_id: str) -> str:
        return f"arn:aws:iam::{self.account}:access-key/{access_key_id}"


def role_policy(role: str, groups: str | None = None) -> dict[str, Any]:
    """The policy document of a built-in role, optionally limited to a group name pattern."""
    if role not in ROLES:
        raise InvalidParameterError("unknown role", role=role, roles=sorted(ROLES))
    if groups is None:
        return {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": ROLES[role], "Resource": ["*"]}],
        }
    # A group-scoped admin manages its groups but not keys.
    actions = ["logs:*"] if role == "admin" else ROLES[role]
    return {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": actions, "Resource": [f"arn:aws:logs:*:*:log-group:{groups}"]},
            {"Effect": "Allow", "Action": ["logpond:GetOpenApi"], "Resource": ["*"]},
        ],
    }


@lru_cache(maxsize=4096)
def _glob(pattern: str, ignore_case: bool) -> re.Pattern[str]:
    parts = (".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.compile("".join(parts), re.IGNORECASE if ignore_case else 0)


@dataclass(frozen=True, slots=True)
class _Statement:
    allow: bool
    actions: tuple[re.Pattern[str], ...]
    not_actions: tuple[re.Pattern[str], ...]
    resources: tuple[re.Pattern[str], ...]

    def applies(self, action: str, resource: str) -> bool:
        if self.actions and not any(p.fullmatch(action) for p in self.actions):
            return False
        if self.not_actions and any(p.fullmatch(action) for p in self.not_actions):
            return False
        return any(p.fullmatch(resource) for p in self.resources)


@dataclass(frozen=True, slots=True)
class CompiledPolicy:
    """A validated policy, its patterns compiled once."""

    document: Mapping[str, Any]
    statements: tuple[_Statement, ...]

    def decide(self, action: str, resource: str) -> bool:
        allowed = False
        for statement in self.statements:
            if statement.applies(action, resource):
                if not statement.allow:
                    return False
                allowed = True
        return allowed


def _strings(value: object, what: str) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, Sequence) and value and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise InvalidParameterError(f"policy {what} must be a string or a list of strings")


def compile_policy(document: Mapping[str, Any]) -> CompiledPolicy:
    """Validate an IAM-style policy document and compile it."""
    if not isinstance(document, Mapping):
        raise InvalidParameterError("policy must be a JSON object")
    raw = document.get("Statement")
    if isinstance(raw, Mapping):
        raw = [raw]
    if not isinstance(raw, list) or not raw:
        raise InvalidParameterError("policy needs at least one Statement")
    statements = []
    for item in raw:
        if not isinstance(item, Mapping):
            raise InvalidParameterError("each policy Statement must be an object")
        effect = item.get("Effect")
        if effect not in ("Allow", "Deny"):
            raise InvalidParameterError("policy Effect must be Allow or Deny", effect=effect)
        if ("Action" in item) == ("NotAction" in item):
            raise InvalidParameterError("a policy Statement needs exactly one of Action, NotAction")
        actions = _strings(item["Action"], "Action") if "Action" in item else ()
        not_actions = _strings(item["NotAction"], "NotAction") if "NotAction" in item else ()
        resources = _strings(item.get("Resource", "*"), "Resource")
        statements.append(
            _Statement(
                allow=effect == "Allow",
                actions=tuple(_glob(a, True) for a in actions),
                not_actions=tuple(_glob(a, True) for a in not_actions),
                resources=tuple(_glob(r, False) for r in resources),
            )
        )
    return CompiledPolicy(dict(document), tuple(statements))


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is asking: the access key and its compiled policy."""

    access_key_id: str
    policy: CompiledPolicy
    is_root: bool = False


def is_allowed(principal: Principal, action: str, resource: str) -> bool:
    """Whether the principal's policy allows the action on the resource."""
    return principal.policy.decide(action, resource)


def authorize(principal: Principal, action: str, resource: str) -> None:
    """The one decision: return if allowed, else raise ``AccessDeniedError``."""
    if not principal.policy.decide(action, resource):
        raise AccessDeniedError(
            "access denied", action=action, resource=resource, access_key_id=principal.access_key_id
        )
