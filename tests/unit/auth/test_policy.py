"""authorize(): IAM-style actions and ARN patterns, deny over allow, built-in roles."""

from __future__ import annotations

import pytest

from logpond.auth.policy import Arns, Principal, authorize, compile_policy, is_allowed, role_policy
from logpond.model.errors import AccessDeniedError, InvalidParameterError

ARNS = Arns("us-east-1", "123456789012")

# The source story's IRSA policy for Fluent Bit, verbatim in shape.
SHIPPER_POLICY: dict[str, object] = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Action": [
                "logs:CreateLogStream",
                "logs:PutLogEvents",
                "logs:DescribeLogGroups",
                "logs:DescribeLogStreams",
            ],
            "Resource": ["arn:aws:logs:us-east-1:123456789012:log-group:/qualisys/*"],
        }
    ],
}


def principal(document: dict[str, object]) -> Principal:
    return Principal("LPTEST", compile_policy(document))


def test_source_story_shipper_policy_ships_but_cannot_read() -> None:
    """The shipper policy allows writing to /qualisys/* and nothing else."""
    shipper = principal(SHIPPER_POLICY)
    group = ARNS.group("/qualisys/production/api")
    for action in ("logs:PutLogEvents", "logs:CreateLogStream", "logs:DescribeLogStreams"):
        authorize(shipper, action, group)
    for action in ("logs:FilterLogEvents", "logs:StartQuery", "logs:DeleteLogGroup", "logs:CreateLogGroup"):
        assert not is_allowed(shipper, action, group)
    assert not is_allowed(shipper, "logs:PutLogEvents", ARNS.group("/other/api"))
    with pytest.raises(AccessDeniedError) as raised:
        authorize(shipper, "logs:FilterLogEvents", group)
    assert raised.value.details["action"] == "logs:FilterLogEvents"


def test_actions_match_without_case_and_resources_with_case() -> None:
    """Action names ignore case (as in IAM); ARNs do not."""
    reader = principal(
        {
            "Statement": [
                {"Effect": "Allow", "Action": "LOGS:describe*", "Resource": "arn:aws:logs:*:*:log-group:/A*"}
            ]
        }
    )
    assert is_allowed(reader, "logs:DescribeLogGroups", ARNS.group("/App"))
    assert not is_allowed(reader, "logs:DescribeLogGroups", ARNS.group("/app"))
    assert not is_allowed(reader, "logs:PutLogEvents", ARNS.group("/App"))


def test_explicit_deny_wins_and_not_action() -> None:
    """A matching Deny overrides any Allow; NotAction allows everything but the listed."""
    policy = principal(
        {
            "Statement": [
                {"Effect": "Allow", "NotAction": "logs:Delete*", "Resource": "*"},
                {
                    "Effect": "Deny",
                    "Action": "logs:PutLogEvents",
                    "Resource": "arn:aws:logs:*:*:log-group:/locked",
                },
            ]
        }
    )
    assert is_allowed(policy, "logs:PutLogEvents", ARNS.group("/open"))
    assert not is_allowed(policy, "logs:PutLogEvents", ARNS.group("/locked"))
    assert not is_allowed(policy, "logs:DeleteLogGroup", ARNS.group("/open"))


def test_question_mark_and_regex_characters_are_literal() -> None:
    """? matches one character; regex metacharacters in patterns are literal."""
    policy = principal(
        {"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "arn:aws:logs:*:*:log-group:/a.b?"}]}
    )
    assert is_allowed(policy, "logs:X", ARNS.group("/a.bc"))
    assert not is_allowed(policy, "logs:X", ARNS.group("/axbc"))


def test_roles() -> None:
    """admin does everything; reader reads; shipper writes; --groups narrows them."""
    admin, reader, shipper = (principal(role_policy(r)) for r in ("admin", "reader", "shipper"))
    group = ARNS.group("/x")
    assert is_allowed(admin, "iam:CreateAccessKey", "*")
    assert is_allowed(reader, "logs:FilterLogEvents", group) and not is_allowed(
        reader, "logs:PutLogEvents", group
    )
    assert is_allowed(shipper, "logs:PutLogEvents", group) and not is_allowed(
        shipper, "logs:FilterLogEvents", group
    )
    scoped_admin = principal(role_policy("admin", "/team/*"))
    assert is_allowed(scoped_admin, "logs:DeleteLogGroup", ARNS.group("/team/a"))
    assert not is_allowed(scoped_admin, "logs:DeleteLogGroup", ARNS.group("/other"))
    assert not is_allowed(scoped_admin, "iam:CreateAccessKey", "*")
    with pytest.raises(InvalidParameterError):
        role_policy("superuser")


@pytest.mark.parametrize(
    "document",
    [
        {},
        {"Statement": []},
        {"Statement": [{"Effect": "Allow"}]},
        {"Statement": [{"Effect": "Allow", "Action": "*", "NotAction": "*"}]},
        {"Statement": [{"Effect": "Permit", "Action": "*"}]},
        {"Statement": [{"Effect": "Allow", "Action": [1]}]},
        {"Statement": ["x"]},
    ],
)
def test_invalid_documents(document: dict[str, object]) -> None:
    """Malformed policy documents are refused with InvalidParameterError."""
    with pytest.raises(InvalidParameterError):
        compile_policy(document)
