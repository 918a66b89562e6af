"""The SDK applies logpond.redact in process: masks, markers, policies, veto, limits."""

from __future__ import annotations

import base64
import json
import logging

import pytest

import logpond.sdk as lp
from logpond.model.errors import InvalidParameterError
from logpond.redact import DEFAULT_POLICY, CustomIdentifier, Policy
from logpond.sdk.testing import CapturedRecords, InternalErrors

from .helpers import init_capture

TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"


def _b64(data: dict[str, str]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


SIGNATURE = "SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"
JWT = f"{_b64({'alg': 'HS256', 'typ': 'JWT'})}.{_b64({'sub': '123'})}.{SIGNATURE}"
# One true positive per default rule: (type, message, the part that must disappear).
TRUE_POSITIVES = [
    ("email", "mail john.doe@acme.com", "john.doe@acme.com"),
    ("card", "card 4111 1111 1111 1111", "4111 1111 1111"),
    ("iban", "iban DE89 3704 0044 0532 0130 00", "3704 0044"),
    ("jwt", f"token {JWT}", JWT),
    ("aws_access_key_id", "key AKIAIOSFODNN7EXAMPLE used", "AKIAIOSFODNN7EXAMPLE"),
    ("auth_token", "Authorization: Bearer 9f8e7d6c5b4a39281706f5e4d3c2b1a0", "9f8e7d6c5b4a3928"),
    ("url_password", "db at postgres://app:s3cretPass@db.internal/app", "s3cretPass"),
    ("secret", "login password=hunter2 ok", "hunter2"),
    ("private_key", "-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA\n-----END RSA PRIVATE KEY-----",
     "MIIEpAIBAAKCAQEA"),
]  # fmt: skip


def test_default_policy_masks_and_marks_the_record(records: CapturedRecords) -> None:
    """Emails, names under name keys, cards and secrets are masked; ``redacted`` lists the types."""
    init_capture()
    lp.get_logger("x").info(
        "reset sent to john.doe@acme.com",
        user_name="John Doe",
        card="4111 1111 1111 1111",
        db={"password": "hunter2"},
    )
    (record,) = records.records
    assert record["message"] == "reset sent to j***@***.com"
    assert record["user_name"] == "John D***"
    assert record["card"].endswith("1111") and "4111 1111 1111" not in record["card"]
    assert record["db"] == {"password": "[REDACTED:secret]"}
    assert record["redacted"] == ["card", "email", "name", "secret"]


@pytest.mark.parametrize(("kind", "message", "secret"), TRUE_POSITIVES)
def test_each_default_rule_masks_through_the_sdk(
    records: CapturedRecords, kind: str, message: str, secret: str
) -> None:
    """Every default value rule masks its identifier in a logged message and is listed in ``redacted``."""
    init_capture()
    lp.get_logger("x").info(message)
    (record,) = records.records
    assert secret not in record["message"]
    assert record["redacted"] == [kind]


def test_stdlib_message_is_redacted_after_interpolation(records: CapturedRecords) -> None:
    """A stdlib message is scanned after ``%`` formatting, and so are ``extra`` fields."""
    init_capture()
    logging.getLogger("x").info("login for %s", "jane@corp.example.com", extra={"token": "abc"})
    (record,) = records.records
    assert record["message"] == "login for j***@***.com"
    assert record["token"] == "[REDACTED:secret]"


def test_error_message_and_context_fields_are_redacted(records: CapturedRecords) -> None:
    """``error.message`` and context fields are scanned too."""
    init_capture()
    with lp.context_scope(trace_id=TRACE, user_email="ann@example.org"):
        try:
            raise ValueError("no account for bob@example.org")
        except ValueError:
            lp.get_logger("x").exception("failed")
    (record,) = records.records
    assert record["error"]["message"] == "no account for b***@***.org"
    assert record["user_email"] == "a***@***.org"


def test_sdk_ids_and_timestamps_are_never_scanned(records: CapturedRecords) -> None:
    """Trace ids, timestamps and the other look-alikes in the corpus stay as they are."""
    init_capture()
    corpus = {
        "uuid": "123e4567-e89b-12d3-a456-426614174000",
        "sha": "da39a3ee5e6b4b0d3255bfef95601890afd80709",
        "hex_trace": TRACE,
        "iso": "2026-01-24T10:15:30.123Z",
        "epoch_s": 1769249730,
        "epoch_ms": 1769249730123,
        "version": "1.2.3.4",
        "float": 3.14159,
        "sci": "6.02e23",
        "latencies": [12.5, 13.1, 250.0],
    }
    with lp.context_scope(trace_id=TRACE, tenant_id="tenant_acme", span_id="00f067aa0ba902b7"):
        lp.get_logger("x").info("request done", **corpus)
    (record,) = records.records
    assert "redacted" not in record
    for key, value in corpus.items():
        assert record[key] == value
    assert record["trace_id"] == TRACE


def test_redaction_can_be_turned_off(records: CapturedRecords) -> None:
    """``redaction=False`` writes values as given."""
    init_capture(redaction=False)
    lp.get_logger("x").info("mail john.doe@acme.com")
    assert records.records[0]["message"] == "mail john.doe@acme.com"


def test_custom_rules_keys_and_disabled_rules(records: CapturedRecords) -> None:
    """Custom regexes and keys apply, and a disabled rule no longer masks."""
    init_capture(
        redaction={
            "custom": [{"name": "EmployeeId", "regex": r"EMP-\d{6}"}],
            "deny_keys": ["internal_ref"],
            "disable": ["email"],
        }
    )
    lp.get_logger("x").info("EMP-123456 mailed a@b.co", internal_ref="r-1")
    (record,) = records.records
    assert record["message"] == "[REDACTED:EmployeeId] mailed a@b.co"
    assert record["internal_ref"] == "[REDACTED:secret]"


def test_policy_objects_are_accepted(records: CapturedRecords) -> None:
    """A ``Policy`` instance works as the redaction setting."""
    policy = Policy(rules=DEFAULT_POLICY.rules | {"phone"}, custom=(CustomIdentifier("Ref", r"REF-\d+"),))
    init_capture(redaction=policy)
    lp.get_logger("x").info("REF-77 call +14155552671")
    assert records.records[0]["redacted"] == ["Ref", "phone"]


def test_invalid_custom_regex_fails_at_init() -> None:
    """A custom regex that does not compile raises from ``init``, not at log time."""
    with pytest.raises(InvalidParameterError):
        lp.init("svc", "test", output=(), redaction={"custom": [{"name": "Bad", "regex": "([a-z"}]})


def test_veto_keeps_chosen_findings(records: CapturedRecords) -> None:
    """The veto callback keeps a finding unmasked and unreported."""
    init_capture(redaction_veto=lambda kind, text: text == "support@acme.com")
    lp.get_logger("x").info("write to support@acme.com or jane@acme.com")
    (record,) = records.records
    assert record["message"] == "write to support@acme.com or j***@***.com"


def test_long_strings_are_scanned_only_in_their_first_16_kib(records: CapturedRecords) -> None:
    """An email past the first 16 KiB of a string is not scanned."""
    init_capture()
    lp.get_logger("x").info("x", early="a@b.co " + "x" * 20_000, late="x" * 20_000 + " a@b.co")
    (record,) = records.records
    assert record["early"].startswith("a***@***.co")
    assert record["late"].endswith("a@b.co")


def test_redaction_failure_withholds_the_fields(
    records: CapturedRecords, sdk_errors: InternalErrors, monkeypatch: pytest.MonkeyPatch
) -> None:
    """If the redactor fails, the record keeps its ids but not the caller's data."""
    sdk_errors.allow("redaction")
    init_capture()
    pipeline = lp._runtime.current()

    def broken(body: dict[str, object]) -> dict[str, object]:
        raise RuntimeError("redactor bug")

    monkeypatch.setattr(pipeline, "redact", broken)
    with lp.context_scope(trace_id=TRACE):
        lp.get_logger("x").info("mail a@b.co", secret_field="s")
    (record,) = records.records
    assert record["trace_id"] == TRACE
    assert record["message"] == "[REDACTED:redaction_error]"
    assert "secret_field" not in record
    assert sdk_errors.kinds() == ["redaction"]
