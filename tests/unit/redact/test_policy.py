"""Policies: the defaults, the native dict form and CloudWatch data protection documents."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from logpond.model.errors import InvalidParameterError
from logpond.redact import (
    DEFAULT_DENY_KEYS,
    DEFAULT_POLICY,
    RULE_NAMES,
    CustomIdentifier,
    Policy,
    Redactor,
)

ARN = "arn:aws:dataprotection::aws:data-identifier/"


def cloudwatch_document(identifiers: list[str], **extra: Any) -> dict[str, Any]:
    """A valid PascalCase document listing ``identifiers`` in both statements."""
    return {
        "Name": "data-protection-policy",
        "Description": "mask PII",
        "Version": "2021-06-01",
        **extra,
        "Statement": [
            {
                "Sid": "audit-policy",
                "DataIdentifier": list(identifiers),
                "Operation": {"Audit": {"FindingsDestination": {}}},
            },
            {
                "Sid": "redact-policy",
                "DataIdentifier": list(identifiers),
                "Operation": {"Deidentify": {"MaskConfig": {}}},
            },
        ],
    }


# --- defaults and the native form -------------------------------------------------------------


def test_default_policy_is_secure_by_default() -> None:
    """The default policy masks emails, cards, secrets, keys and names out of the box."""
    assert {"email", "card", "iban", "jwt", "secret", "private_key", "name"} <= (DEFAULT_POLICY.rules)
    assert DEFAULT_POLICY.mode == "mask"
    masked, found = Redactor().redact_record(
        {"user": {"name": "John Doe", "email": "john.doe@acme.com"}, "password": "hunter2"}
    )
    assert masked["user"] == {"name": "John D***", "email": "j***@***.com"}
    assert masked["password"] == "[REDACTED:secret]"
    assert found == {"name": 1, "email": 1, "secret": 1}


def test_native_form_enables_and_disables_rules() -> None:
    """``enable`` and ``disable`` adjust the default rule set."""
    policy = Policy.from_dict({"enable": ["phone", "ssn"], "disable": ["iban"]})
    assert policy.rules == (DEFAULT_POLICY.rules | {"phone", "ssn"}) - {"iban"}


def test_native_form_rules_replaces_the_rule_set() -> None:
    """``rules`` names exactly the rules that run."""
    assert Policy.from_dict({"rules": ["email"]}).rules == {"email"}


def test_native_form_full_example() -> None:
    """Every setting of the native form is read."""
    policy = Policy.from_dict(
        {
            "mode": "audit",
            "enable": ["phone"],
            "masks": {"email": "keep_local", "EmployeeId": "[EMPLOYEE]"},
            "deny_keys": ["internal_ref"],
            "allow_keys": ["session"],
            "name_keys": ["guardian"],
            "custom": [{"name": "EmployeeId", "regex": r"EMP-\d{6}"}],
            "max_scan_chars": 16384,
            "name": "default",
            "description": "what the config file holds",
        }
    )
    assert policy.mode == "audit"
    assert policy.masks["email"] == "keep_local"
    assert "internal_ref" in policy.deny_keys
    assert set(DEFAULT_DENY_KEYS) <= set(policy.deny_keys)
    assert policy.allow_keys == ("session",)
    assert "guardian" in policy.name_keys
    assert policy.custom == (CustomIdentifier("EmployeeId", r"EMP-\d{6}"),)
    assert policy.max_scan_chars == 16384


def test_native_form_round_trips() -> None:
    """``Policy.from_dict(p.to_dict())`` gives back the same policy."""
    policy = Policy.from_dict(
        {
            "enable": ["phone"],
            "masks": {"email": "keep_local"},
            "deny_keys": ["internal_ref"],
            "custom": [{"name": "EmployeeId", "regex": r"EMP-\d{6}"}],
            "max_scan_chars": 100,
        }
    )
    assert Policy.from_dict(policy.to_dict()) == policy
    assert Policy.from_dict(DEFAULT_POLICY.to_dict()) == DEFAULT_POLICY


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"rule": ["email"]}, "unknown redaction policy setting"),
        ({"enable": ["emial"]}, "unknown redaction rule"),
        ({"mode": "redact"}, "unknown redaction mode"),
        ({"rules": ["email"], "enable": ["phone"]}, "give either rules"),
        ({"enable": "phone"}, "enable must be a list of names"),
        ({"masks": ["email"]}, "masks must map identifier types to styles"),
        ({"masks": {"card": "keep_local"}}, "mask style does not apply to this type"),
        ({"custom": [{"name": "Bad Name", "regex": "x"}]}, "custom identifier name must be"),
        ({"custom": [{"name": "x", "regex": "("}]}, "custom identifier regex does not compile"),
        ({"custom": [{"name": "x", "regex": "a*"}]}, "matches the empty string"),
        ({"custom": [{"name": "email", "regex": "x"}]}, "is a built-in rule name"),
        ({"custom": [{"name": "x", "regex": "a"}, {"name": "x", "regex": "b"}]}, "duplicate"),
        ({"max_scan_chars": 0}, "max_scan_chars must be a positive integer"),
        ({"deny_keys": ["--"]}, "deny key must contain a letter or digit"),
    ],
)
def test_native_form_errors(data: dict[str, Any], message: str) -> None:
    """A bad native policy fails when it is built, with a message that says why."""
    with pytest.raises(InvalidParameterError) as info:
        Redactor(Policy.from_dict(data))
    assert message in info.value.message


def test_unknown_setting_suggests_the_right_one() -> None:
    """A misspelt setting gets a did-you-mean."""
    with pytest.raises(InvalidParameterError) as info:
        Policy.from_dict({"deny_key": ["x"]})
    assert info.value.details["did_you_mean"] == "deny_keys"


def test_custom_identifier_is_masked_under_its_name() -> None:
    """A custom identifier's findings are counted and masked under its name."""
    policy = Policy.from_dict({"custom": [{"name": "EmployeeId", "regex": r"EMP-\d{6}"}]})
    assert Redactor(policy).redact_text("badge EMP-123456 ok") == (
        "badge [REDACTED:EmployeeId] ok",
        {"EmployeeId": 1},
    )


def test_allow_keys_exempt_a_key_from_the_denylist() -> None:
    """A key in ``allow_keys`` keeps its value even though the denylist matches it."""
    policy = Policy.from_dict({"allow_keys": ["session_id"]})
    record = {"session_id": "abc", "password": "x"}
    assert Redactor(policy).redact_record(record, mark=False)[0] == {
        "session_id": "abc",
        "password": "[REDACTED:secret]",
    }


def test_extra_deny_and_name_keys_apply() -> None:
    """Keys added to the denylist and to the name keys are honoured."""
    policy = Policy.from_dict({"deny_keys": ["internal_ref"], "name_keys": ["guardian"]})
    out, found = Redactor(policy).redact_record({"internalRef": "R-1", "guardian": "Jane Roe"}, mark=False)
    assert out == {"internalRef": "[REDACTED:secret]", "guardian": "Jane R***"}
    assert found == {"secret": 1, "name": 1}


# --- CloudWatch documents ---------------------------------------------------------------------


def test_cloudwatch_document_maps_managed_identifiers_to_rules() -> None:
    """Managed identifier ARNs enable the matching logpond rules, and only those."""
    ids = [ARN + n for n in ("EmailAddress", "CreditCardNumber", "IpAddress", "Ssn-US")]
    policy = Policy.from_cloudwatch(json.dumps(cloudwatch_document(ids)))
    assert policy.rules == {"email", "card", "ipv4", "ipv6", "ssn"}
    assert policy.name == "data-protection-policy"
    assert policy.description == "mask PII"


def test_cloudwatch_camel_case_keys_are_accepted() -> None:
    """Keys are read case-insensitively, as CDK writes them in camelCase."""
    doc = {
        "name": "p",
        "version": "2021-06-01",
        "statement": [
            {
                "sid": "a",
                "dataIdentifier": [ARN + "EmailAddress"],
                "operation": {"audit": {"findingsDestination": {}}},
            },
            {
                "sid": "b",
                "dataIdentifier": [ARN + "EmailAddress"],
                "operation": {"deidentify": {"maskConfig": {}}},
            },
        ],
    }
    assert Policy.from_cloudwatch(doc).rules == {"email"}


def test_cloudwatch_custom_identifiers_are_used_by_name() -> None:
    """Custom identifiers from Configuration are referenced by bare name and masked."""
    doc = cloudwatch_document(
        [ARN + "EmailAddress", "EmployeeId"],
        Configuration={"CustomDataIdentifier": [{"Name": "EmployeeId", "Regex": "EmployeeId-\\d{9}"}]},
    )
    redactor = Redactor(Policy.from_cloudwatch(doc))
    assert redactor.redact_text("EmployeeId-123456789 a@b.io") == (
        "[REDACTED:EmployeeId] a***@***.io",
        {"EmployeeId": 1, "email": 1},
    )


def test_cloudwatch_findings_destination_is_kept() -> None:
    """The Audit statement's FindingsDestination is kept for the server."""
    doc = cloudwatch_document([ARN + "EmailAddress"])
    destination = {"CloudWatchLogs": {"LogGroup": "audit-findings"}}
    doc["Statement"][0]["Operation"]["Audit"]["FindingsDestination"] = destination
    assert Policy.from_cloudwatch(doc).findings_destination == destination


def test_cloudwatch_base_policy_adds_to_the_base() -> None:
    """With a base policy the listed identifiers are added to the base's rules."""
    doc = cloudwatch_document([ARN + "PhoneNumber-US"])
    policy = Policy.from_cloudwatch(doc, base=DEFAULT_POLICY)
    assert policy.rules == DEFAULT_POLICY.rules | {"phone"}
    assert policy.deny_keys == DEFAULT_POLICY.deny_keys


def _mutate(path: list[Any], value: Any) -> dict[str, Any]:
    doc = copy.deepcopy(cloudwatch_document([ARN + "EmailAddress"]))
    node: Any = doc
    for step in path[:-1]:
        node = node[step]
    if value is _DELETE:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return doc


_DELETE = object()


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        (_mutate(["Statement"], []), "exactly two statements"),
        (
            _mutate(["Statement"], cloudwatch_document([ARN + "EmailAddress"])["Statement"] * 2),
            "exactly two statements",
        ),
        (
            _mutate(["Statement", 1, "Operation"], {"Audit": {"FindingsDestination": {}}}),
            "one Audit and one Deidentify",
        ),
        (
            _mutate(["Statement", 1, "DataIdentifier"], [ARN + "IpAddress"]),
            "must list the same data identifiers",
        ),
        (
            _mutate(["Statement", 1, "Operation", "Deidentify", "MaskConfig"], {"x": 1}),
            "MaskConfig, and it must be {}",
        ),
        (
            _mutate(["Statement", 0, "Operation", "Audit", "FindingsDestination"], _DELETE),
            "needs a FindingsDestination",
        ),
        (
            _mutate(
                ["Statement", 0, "Operation", "Audit", "FindingsDestination"],
                {"S3": {"Bucket": ""}},
            ),
            "a findings destination needs a name",
        ),
        (_mutate(["Statement", 0, "DataIdentifier"], []), "non-empty list"),
        (_mutate(["Version"], "2020-01-01"), "unsupported data protection policy version"),
        (_mutate(["Extra"], 1), "unknown key in policy document"),
        (
            _mutate(["Statement", 0, "Operation"], {"Audit": {"FindingsDestination": {}}, "X": 1}),
            "unknown key in Operation",
        ),
    ],
)
def test_cloudwatch_document_shape_errors(doc: dict[str, Any], message: str) -> None:
    """A document that breaks CloudWatch's shape rules is refused with the reason."""
    with pytest.raises(InvalidParameterError) as info:
        Policy.from_cloudwatch(doc)
    assert message in info.value.message


def test_cloudwatch_identical_lists_may_differ_in_order() -> None:
    """The two statements may list the same identifiers in a different order."""
    doc = cloudwatch_document([ARN + "EmailAddress", ARN + "IpAddress"])
    doc["Statement"][1]["DataIdentifier"].reverse()
    assert Policy.from_cloudwatch(doc).rules == {"email", "ipv4", "ipv6"}


def test_cloudwatch_unknown_managed_identifier() -> None:
    """An unknown managed identifier is an InvalidParameterError with a suggestion."""
    with pytest.raises(InvalidParameterError) as info:
        Policy.from_cloudwatch(cloudwatch_document([ARN + "EmailAdress"]))
    assert info.value.message == "unknown managed data identifier"
    assert info.value.details["did_you_mean"] == "EmailAddress"


def test_cloudwatch_managed_identifier_logpond_does_not_detect() -> None:
    """A real managed identifier logpond does not implement is refused, not ignored."""
    with pytest.raises(InvalidParameterError) as info:
        Policy.from_cloudwatch(cloudwatch_document([ARN + "DriversLicense-US"]))
    assert info.value.message == "managed data identifier is not supported by logpond"


def test_cloudwatch_undefined_custom_identifier() -> None:
    """A bare name that no custom identifier defines is refused."""
    with pytest.raises(InvalidParameterError):
        Policy.from_cloudwatch(cloudwatch_document(["EmployeeId"]))


@pytest.mark.parametrize(
    ("custom", "message"),
    [
        ([{"Name": "Bad Name", "Regex": "x"}], "name must be 1-128"),
        ([{"Name": "x" * 129, "Regex": "x"}], "name must be 1-128"),
        ([{"Name": "EmailAddress", "Regex": "x"}], "is a managed identifier name"),
        ([{"Name": "PassportNumber-US", "Regex": "x"}], "is a managed identifier name"),
        ([{"Name": "Id", "Regex": "(\\d+)"}], "regex must be 1-200 characters"),
        ([{"Name": "Id", "Regex": "x" * 201}], "regex must be 1-200 characters"),
        ([{"Name": f"Id{i}", "Regex": "x"} for i in range(11)], "too many custom"),
        ([{"Name": "Id", "Regex": "x"}, {"Name": "Id", "Regex": "y"}], "duplicate"),
        ([{"Name": "Id"}], "regex must be 1-200 characters"),
    ],
)
def test_cloudwatch_custom_identifier_errors(custom: list[dict[str, Any]], message: str) -> None:
    """Custom identifiers follow CloudWatch's limits on count, names and regex alphabet."""
    doc = cloudwatch_document([ARN + "EmailAddress"], Configuration={"CustomDataIdentifier": custom})
    with pytest.raises(InvalidParameterError) as info:
        Policy.from_cloudwatch(doc)
    assert message in info.value.message


def test_cloudwatch_document_text_errors() -> None:
    """A document that is not JSON, not an object, or too long is refused."""
    for text, message in (
        ("{not json", "policy document is not valid JSON"),
        ("[]", "policy document must be a JSON object"),
        (" " * 30_721, "policy document is too long"),
    ):
        with pytest.raises(InvalidParameterError) as info:
            Policy.from_cloudwatch(text)
        assert info.value.message == message


def test_policies_are_hashable() -> None:
    """Equal policies are equal and hash alike, so they can key a cache of redactors."""
    a = Policy.from_dict({"enable": ["phone"], "masks": {"email": "keep_local"}})
    b = Policy.from_dict({"masks": {"email": "keep_local"}, "enable": ["phone"]})
    assert a == b
    assert hash(a) == hash(b)
    assert {a: 1}[b] == 1
    assert a != DEFAULT_POLICY


def test_every_rule_name_is_known_to_policies() -> None:
    """A policy accepts every built-in rule name and nothing else."""
    assert Policy(rules=frozenset(RULE_NAMES)).rules == set(RULE_NAMES)
    with pytest.raises(InvalidParameterError):
        Policy(rules=frozenset({"creditcard"}))
