"""The redactor over text, JSON values and records: keys, depth, audit mode, vetoes, limits."""

from __future__ import annotations

import copy
import json
from typing import Any

from logpond.redact import PROTECTED_KEYS, Policy, Redactor

REDACTOR = Redactor()


def test_denylisted_key_masks_whole_value_at_any_depth() -> None:
    """A denylisted key masks its whole value, whatever its type, however deep."""
    record = {
        "request": {"headers": [{"Authorization": "Bearer x"}, {"X-Api-Key": 12345}]},
        "db": {"config": {"credentials": {"user": "app", "pass": "p"}}},
    }
    out, found = REDACTOR.redact_value(record)
    assert out == {
        "request": {"headers": [{"Authorization": "[REDACTED:secret]"}, {"X-Api-Key": "[REDACTED:secret]"}]},
        "db": {"config": {"credentials": "[REDACTED:secret]"}},
    }
    assert found == {"secret": 3}


def test_deny_keys_match_case_and_separator_variants() -> None:
    """``password``, ``Password``, ``db-password``, ``DB PASSWORD`` and ``dbPassword`` all match."""
    keys = ["password", "Password", "db-password", "DB PASSWORD", "dbPassword", "PASSWD"]
    out, found = REDACTOR.redact_value(dict.fromkeys(keys, "x"))
    assert set(out.values()) == {"[REDACTED:secret]"}
    assert found == {"secret": len(keys)}


def test_deny_key_tail_terms_spare_ordinary_keys() -> None:
    """``token``, ``auth`` and ``session`` match only at the end of a key."""
    record = {
        "access_token": "a",
        "authToken": "b",
        "token_count": 5,
        "tokens_used": 9,
        "auth_method": "sso",
        "author": "ci",
        "session_duration_ms": 3,
        "user_session": "c",
    }
    out, _ = REDACTOR.redact_value(record)
    masked = {k for k, v in out.items() if v == "[REDACTED:secret]"}
    assert masked == {"access_token", "authToken", "user_session"}


def test_denylisted_booleans_and_nulls_stay() -> None:
    """``password_set: true`` and ``token: null`` say nothing secret and are kept."""
    record = {"password_set": True, "token": None}
    assert REDACTOR.redact_value(record) == (record, {})


def test_name_keys_mask_names() -> None:
    """Values of name keys are masked as names; other keys with 'name' are not."""
    record = {
        "first_name": "John",
        "lastName": "Doe",
        "customer": {"full_name": "Jane Roe", "name": "Jane Roe"},
        "service_name": "checkout",
        "task_name": "Send Report",
        "name": "checkout-service",
    }
    out, found = REDACTOR.redact_value(record)
    assert out == {
        "first_name": "J***",
        "lastName": "D***",
        "customer": {"full_name": "Jane R***", "name": "Jane R***"},
        "service_name": "checkout",
        "task_name": "Send Report",
        "name": "checkout-service",
    }
    assert found == {"name": 4}


def test_sdk_fields_are_never_scanned() -> None:
    """The SDK's own timestamp and id fields stay as they are, even if they look like PII."""
    record = dict.fromkeys(PROTECTED_KEYS, "john.doe@acme.com")
    record["message"] = "mail john.doe@acme.com"
    out, found = REDACTOR.redact_record(record)
    assert {k: out[k] for k in PROTECTED_KEYS} == dict.fromkeys(PROTECTED_KEYS, "john.doe@acme.com")
    assert out["message"] == "mail j***@***.com"
    assert found == {"email": 1}


def test_nested_protected_names_are_scanned() -> None:
    """Only the top-level SDK fields are protected; a nested ``trace_id`` is data."""
    out, _ = REDACTOR.redact_record({"ctx": {"trace_id": "a@b.io"}}, mark=False)
    assert out == {"ctx": {"trace_id": "a***@***.io"}}


def test_record_is_marked_with_the_types_found() -> None:
    """A redacted record carries ``redacted``: the sorted types, merged with earlier ones."""
    out, _ = REDACTOR.redact_record({"m": "a@b.io", "redacted": ["card"]})
    assert out["redacted"] == ["card", "email"]
    clean, found = REDACTOR.redact_record({"m": "hello"})
    assert "redacted" not in clean
    assert not found


def test_input_is_not_changed_and_clean_parts_are_shared() -> None:
    """Redaction copies what it changes and hands back untouched parts as they were."""
    record: dict[str, Any] = {"a": {"email": "a@b.io"}, "b": {"n": [1, 2]}, "c": "ok"}
    before = copy.deepcopy(record)
    out, _ = REDACTOR.redact_value(record)
    assert record == before
    assert out["b"] is record["b"]
    assert REDACTOR.redact_value(record["b"])[0] is record["b"]


def test_keys_are_scanned_as_text() -> None:
    """An email used as a key is masked too."""
    out, found = REDACTOR.redact_value({"john@acme.com": 3})
    assert out == {"j***@***.com": 3}
    assert found == {"email": 1}


def test_long_integers_are_checked_as_cards() -> None:
    """A card number logged as a JSON integer becomes a masked string."""
    out, found = REDACTOR.redact_value({"pan": 4111111111111111, "ts": 1706091330123})
    assert out == {"pan": "**** **** **** 1111", "ts": 1706091330123}
    assert found == {"card": 1}


def test_phone_keys_mask_bare_numbers() -> None:
    """Under a phone key, bare digits and integers are phone numbers (when phone is on)."""
    redactor = Redactor(Policy.from_dict({"enable": ["phone"]}))
    out, found = redactor.redact_value({"phone": "3420837783", "mobile": 14155552671})
    assert out == {"phone": "[REDACTED:phone]", "mobile": "[REDACTED:phone]"}
    assert found == {"phone": 2}
    assert REDACTOR.redact_value({"phone": "3420837783"})[1] == {}


def test_version_keys_are_not_ip_addresses() -> None:
    """A version string under a version key is not taken for an IP address."""
    redactor = Redactor(Policy.from_dict({"enable": ["ipv4"]}))
    assert redactor.redact_value({"version": "81.2.69.160"})[1] == {}
    assert redactor.redact_value({"client": "81.2.69.160"})[1] == {"ipv4": 1}


def test_audit_mode_counts_and_changes_nothing() -> None:
    """In audit mode every method returns its input and the findings it would have masked."""
    audit = Redactor(Policy(mode="audit"))
    text = "a@b.io password=x card 4111111111111111"
    assert audit.redact_text(text) == (text, {"email": 1, "secret": 1, "card": 1})
    record = {"user_name": "John Doe", "password": "x", "m": text}
    out, found = audit.redact_record(record)
    assert out == record
    assert found == {"name": 1, "secret": 2, "email": 1, "card": 1}


def test_veto_keeps_a_finding() -> None:
    """A veto callback can keep a finding unmasked; it is then not counted."""

    def allow_company_mail(kind: str, value: str) -> bool:
        return kind == "email" and value.endswith("@acme.com")

    redactor = Redactor(veto=allow_company_mail)
    text = "from ops@acme.com to john@gmail.com"
    assert redactor.redact_text(text) == ("from ops@acme.com to j***@***.com", {"email": 1})


def test_max_scan_chars_limits_the_scan() -> None:
    """With ``max_scan_chars`` only the start of a long string is scanned."""
    redactor = Redactor(Policy(max_scan_chars=20))
    text = "a@b.io " + "x" * 30 + " c@d.io"
    masked, found = redactor.redact_text(text)
    assert masked == "a***@***.io " + "x" * 30 + " c@d.io"
    assert found == {"email": 1}


def test_deep_nesting_is_redacted_as_text() -> None:
    """A value nested deeper than the walk goes is still redacted, as JSON text."""
    value: Any = "a@b.io"
    for _ in range(100):
        value = [value]
    out, found = REDACTOR.redact_value(value)
    assert found == {"email": 1}
    assert "a@b.io" not in json.dumps(out)


def test_message_cell_json_object_is_walked() -> None:
    """A message that is a JSON object is redacted by keys and values, and stays JSON."""
    cell = '{"user_name": "John Doe", "password": "x", "n": 1}'
    out, found = REDACTOR.redact_message(cell)
    assert json.loads(out) == {"user_name": "John D***", "password": "[REDACTED:secret]", "n": 1}
    assert found == {"name": 1, "secret": 1}


def test_message_cell_text_keeps_its_exact_text() -> None:
    """A plain-text message keeps every character outside the masked spans."""
    cell = "  {not json} mail a@b.io\tdone  "
    assert REDACTOR.redact_message(cell)[0] == "  {not json} mail a***@***.io\tdone  "


def test_unchanged_message_cell_is_the_same_object() -> None:
    """A JSON cell with nothing to mask comes back as the very same string."""
    cell = '{"a": "b", "password_set": true}'
    assert REDACTOR.redact_message(cell)[0] is cell


def test_empty_policy_changes_nothing() -> None:
    """A policy with no rules finds nothing, even under denylisted or name keys."""
    empty = Redactor(Policy(rules=frozenset()))
    record = {"password": "x", "name": "John Doe", "m": "a@b.io"}
    assert empty.redact_record(record) == (record, {})
