"""Each rule finds its identifiers (true positives) and leaves look-alikes alone."""

from __future__ import annotations

import pytest

from logpond.redact import DEFAULT_POLICY, RULE_NAMES, Policy, Redactor
from logpond.redact.rules import iban_ok, luhn_ok

ALL_RULES = Redactor(Policy(rules=frozenset(RULE_NAMES)))
DEFAULT = Redactor(DEFAULT_POLICY)

# (rule, text, secret part that must disappear)
TRUE_POSITIVES: list[tuple[str, str, str]] = [
    ("email", "reset sent to john.doe@acme.com today", "john.doe@acme.com"),
    ("email", "to=<Anna-Maria+bills@mail.Example.co.uk>", "Anna-Maria+bills@mail.Example.co.uk"),
    ("email", "user jürgen.müller@beispiel.de logged in", "jürgen.müller@beispiel.de"),
    ("email", "'ops_team@corp.example.com'", "ops_team@corp.example.com"),
    ("card", "card 4111 1111 1111 1111 declined", "4111 1111 1111 1111"),
    ("card", "pan=5555-5555-5555-4444", "5555-5555-5555-4444"),
    ("card", "amex 3782 822463 10005 ok", "3782 822463 10005"),
    ("card", "visa13 4222222222222 ok", "4222222222222"),
    ("card", "jcb:3530111333300000.", "3530111333300000"),
    ("card", "diners 30569309025904 ok", "30569309025904"),
    ("iban", "payout to DE89 3704 0044 0532 0130 00 EUR", "DE89 3704 0044 0532 0130 00"),
    ("iban", "iban=GB82WEST12345698765432;", "GB82WEST12345698765432"),
    ("iban", "FR1420041010050500013M02606", "FR1420041010050500013M02606"),
    ("ssn", "applicant ssn 123-45-6789 verified", "123-45-6789"),
    ("phone", "SMS sent to +1 415-555-2671", "415-555-2671"),
    ("phone", "call (415) 555-2671 now", "555-2671"),
    ("phone", "+44 20 7946 0958", "7946 0958"),
    ("phone", "rappeler le 01 23 45 67 89", "01 23 45 67 89"),
    ("phone", "Tel. 030 12345678", "030 12345678"),
    ("phone", "whatsapp 3420837783", "3420837783"),
    ("phone", "+14155552671", "+14155552671"),
    ("ipv4", "client 81.2.69.160 connected", "81.2.69.160"),
    ("ipv4", "GET http://151.101.1.69/x", "151.101.1.69"),
    ("ipv6", "peer 2a00:1450:4001:81c::200e up", "2a00:1450:4001:81c::200e"),
    (
        "jwt",
        "token eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0."
        "dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
        "dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
    ),
    ("aws_access_key_id", "using AKIAIOSFODNN7EXAMPLE from env", "AKIAIOSFODNN7EXAMPLE"),
    ("aws_access_key_id", "sts ASIAY34FZKBOKMUTVV7A ok", "ASIAY34FZKBOKMUTVV7A"),
    (
        "aws_secret_key",
        "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    ),
    ("auth_token", "Authorization: Bearer 0a1b2c3d4e5f6a7b8c9d", "0a1b2c3d4e5f6a7b8c9d"),
    ("auth_token", "Authorization: Basic YWxhZGRpbjpvcGVuc2VzYW1l", "YWxhZGRpbjpvcGVuc2VzYW1l"),
    ("url_password", "postgres://app:s3cr3t!@db.internal:5432/x", "s3cr3t!"),
    ("url_password", "redis://:hunter2@cache:6379/0", "hunter2"),
    ("secret", "db connect user=app password=hunter2 host=db", "hunter2"),
    ("secret", "GET /cb?state=x&access_token=abc123XYZ&expires=3600", "abc123XYZ"),
    ("secret", '{"api_key": "k-123456"}', "k-123456"),
    ("secret", "X-Api-Key: 9f8e7d6c5b4a", "9f8e7d6c5b4a"),
    ("secret", "client_secret='s p a c e d'", "s p a c e d"),
    ("secret", "Authorization: Token 9944b09199c62bcf9418ad84", "9944b09199c62bcf9418ad84"),
    ("secret", "password=&5!HcqCR&Bzy host=db", "&5!HcqCR&Bzy"),
    (
        "private_key",
        "key:\n-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA0Z3VS5JJcds3\n"
        "-----END RSA PRIVATE KEY-----\nloaded",
        "MIIEpAIBAAKCAQEA0Z3VS5JJcds3",
    ),
    (
        "private_key",
        "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA (truncated)",
        "b3BlbnNzaC1rZXktdjEAAAAA",
    ),
    ("name", "invoice created customer_name=Jane Smith amount=12.50", "Smith"),
    ("name", 'profile full_name: "Mary Ann Smith"', "Ann Smith"),
    ("name", "name=Alex van der Klijn-Vos | tier=gold", "Klijn-Vos"),
    ("name", "user_name=jdoe42 ok", "jdoe42"),
    ("name", "firstName='Jean-Luc'", "Jean-Luc"),
]

# Look-alikes no rule of the default policy (nor phone, SSN or the AWS secret key) masks.
FALSE_POSITIVES: list[str] = [
    "request 123e4567-e89b-12d3-a456-426614174000 done",
    "trace_id=4bf92f3577b34da6a3ce929d0e0e4736 span_id=00f067aa0ba902b7",
    "commit 9fceb02d0ae598e95dc970b74767f19372d61af8 merged",
    "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "at 2026-01-24T10:15:30.123Z and 2026-01-24 10:15:30,123",
    "epoch 1706091330 ms 1706091330123 ns 1706091330123456789",
    "version 1.2.3.4 build 2026.01.24 v10.0.19045",
    "values 3.14159265358979 6.02e23 1e-10 -0.000123 0.30000000000000004",
    "latencies [12, 15, 18, 250, 1200] p50=12ms p99=1.2s",
    "order ORD-2024-000123 invoice INV-000123456 PO0000012345",
    "listening on :8080 and 5647, timeout 30s, took 145ms",
    "user_agent Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/120.0.0.0 Safari/537.36",
    "image registry.example.com/qualisys/api:1.2.3 digest nginx@sha256:abc",
    "icon /img/logo@2x.png?v=3 loaded",
    "auth: token refreshed (expires_in=3600); auth: password policy updated",
    "Bearer token expired; Basic authentication required",
    "token_count=512 tokens_used=9000 session_duration_ms=1200 author=ci",
    "name=checkout-service task_name=send_email file_name=report.pdf hostname=node-1",
    "pod qualisys-api-7d9f8b6c5-x2k4j namespace default container app",
    "money 1 234 567,89 EUR; ids 4000 1234 5678; snowflake 1234567890123456789",
    "kube-api-access-x7k2p serviceaccount token mounted",
]


@pytest.mark.parametrize(("rule", "text", "secret"), TRUE_POSITIVES)
def test_rule_masks_its_true_positive(rule: str, text: str, secret: str) -> None:
    """Each true positive is masked, and counted under its own rule."""
    masked, found = ALL_RULES.redact_text(text)
    assert secret not in masked
    assert found[rule] >= 1, found


@pytest.mark.parametrize(("rule", "text", "secret"), TRUE_POSITIVES)
def test_rule_alone_masks_its_true_positive(rule: str, text: str, secret: str) -> None:
    """A policy with only that rule enabled still masks the true positive."""
    masked, found = Redactor(Policy(rules=frozenset({rule}))).redact_text(text)
    assert secret not in masked
    assert set(found) == {rule}


@pytest.mark.parametrize("text", FALSE_POSITIVES)
def test_look_alike_is_left_alone(text: str) -> None:
    """Hard negatives pass every rule but the IP address rules unchanged."""
    policy = Policy(rules=frozenset(RULE_NAMES) - {"ipv4", "ipv6"})
    assert Redactor(policy).redact_text(text) == (text, {})


@pytest.mark.parametrize(
    "text",
    [
        "bind 0.0.0.0:80 via 127.0.0.1 and 10.96.0.12, 192.168.1.20, 169.254.0.1",
        "loopback ::1 and link-local fe80::1 and unique-local fd00::1",
        "Chrome/120.0.0.0 image api:1.2.3.4 version 1.2.3.4 v=1.2.3.4",
    ],
)
def test_ip_rules_skip_private_addresses_and_versions(text: str) -> None:
    """The IP rules mask public addresses only, not private ones or version strings."""
    policy = Policy(rules=frozenset({"ipv4", "ipv6"}))
    assert Redactor(policy).redact_text(text) == (text, {})


def test_default_policy_leaves_phone_ssn_ip_and_bare_aws_secret_alone() -> None:
    """Phone, SSN, IP and keyword-gated AWS secret rules are off by default."""
    text = "tel +1 415-555-2671 ssn 123-45-6789 from 81.2.69.160"
    assert DEFAULT.redact_text(text) == (text, {})
    assert "phone" not in DEFAULT_POLICY.rules
    assert "aws_secret_key" not in DEFAULT_POLICY.rules


@pytest.mark.parametrize(
    ("digits", "ok"),
    [("4111111111111111", True), ("4111111111111112", False), ("79927398713", True)],
)
def test_luhn(digits: str, ok: bool) -> None:
    """The Luhn check accepts valid numbers and rejects a changed digit."""
    assert luhn_ok(digits) is ok


def test_card_needs_an_issuer_prefix() -> None:
    """A Luhn-valid number no card network issues is not a card."""
    assert luhn_ok("1000000000000008")
    assert ALL_RULES.redact_text("id 1000000000000008")[1]["card"] == 0


@pytest.mark.parametrize(
    ("iban", "ok"),
    [
        ("DE89370400440532013000", True),
        ("DE89370400440532013001", False),
        ("GB82WEST12345698765432", True),
        ("GB82WEST1234569876543", False),
        ("XX82WEST12345698765432", False),
    ],
)
def test_iban_checks_length_and_mod_97(iban: str, ok: bool) -> None:
    """An IBAN needs its country's length and a mod-97 remainder of 1."""
    assert iban_ok(iban) is ok


def test_iban_stops_at_its_country_length() -> None:
    """A grouped IBAN followed by more words is masked up to its own length."""
    masked, _ = ALL_RULES.redact_text("to DE89 3704 0044 0532 0130 00 EUR ABCD")
    assert masked == "to [REDACTED:iban] EUR ABCD"


def test_jwt_needs_a_json_header() -> None:
    """Three base64url parts whose first does not decode to JSON with alg are not a JWT."""
    fake = "eyJub3Rqc29u.eyJzdWIiOiIxIn0.c2lnbmF0dXJl"
    assert ALL_RULES.redact_text(fake)[1]["jwt"] == 0


def test_bearer_needs_a_token_like_value() -> None:
    """``Bearer`` followed by an ordinary word is prose, not a credential."""
    for text in ("Bearer authentication failed", "missing Bearer TOKEN", "bearer Realm"):
        assert ALL_RULES.redact_text(text)[1]["auth_token"] == 0


def test_basic_needs_base64_of_user_and_password() -> None:
    """``Basic`` is masked only before base64 that decodes to ``user:password``."""
    assert ALL_RULES.redact_text("Basic aW5mb3JtYXRpb24=")[1]["auth_token"] == 0
    assert ALL_RULES.redact_text("Basic dXNlcjpwYXNz")[1]["auth_token"] == 1


def test_secret_after_colon_and_space_must_look_like_a_credential() -> None:
    """``key: value`` prose is masked only when the value looks like a credential."""
    assert DEFAULT.redact_text("password: reset")[0] == "password: reset"
    assert DEFAULT.redact_text("password: hunter22")[0] == "password: [REDACTED:secret]"
    assert DEFAULT.redact_text("password=reset")[0] == "password=[REDACTED:secret]"


def test_query_string_secret_ends_at_the_next_parameter() -> None:
    """In a query string the secret ends at ``&``; the next parameters stay readable."""
    masked, _ = DEFAULT.redact_text("/cb?state=x&access_token=abc&expires=3600")
    assert masked == "/cb?state=x&access_token=[REDACTED:secret]&expires=3600"


def test_form_body_keys_after_a_plain_key_are_still_seen() -> None:
    """A form body's secret after an ordinary first key is found, not swallowed."""
    masked, _ = DEFAULT.redact_text("grant_type=refresh_token&refresh_token=r-123&client_id=x")
    assert "r-123" not in masked
    assert "client_id=x" in masked


def test_name_under_generic_key_needs_two_capitalized_words() -> None:
    """Under ``name`` a single word or a lowercase phrase is not a person's name."""
    for text in ("name=checkout", "name=send welcome", "name=A name=B"):
        assert DEFAULT.redact_text(text)[1]["name"] == 0
    assert DEFAULT.redact_text("name=John Doe")[0] == "name=John D***"


def test_name_in_text_stops_at_the_next_key() -> None:
    """The name after a key ends before the next ``key=`` or lowercase word."""
    masked, _ = DEFAULT.redact_text("user_name=John Doe status=200 logged in")
    assert masked == "user_name=John D*** status=200 logged in"


def test_email_file_names_are_not_addresses() -> None:
    """``icon@2x.png``-style asset names are not email addresses."""
    assert DEFAULT.redact_text("GET /img/icon@2x.png")[1]["email"] == 0


def test_phone_needs_a_shape_or_a_keyword() -> None:
    """Bare digits are a phone number only near a phone keyword or under a phone key."""
    phones = Redactor(Policy(rules=frozenset({"phone"})))
    assert phones.redact_text("order 3420837783 shipped")[1]["phone"] == 0
    assert phones.redact_text("SMS to 3420837783 sent")[1]["phone"] == 1
    assert phones.redact_value({"mobile": "3420837783"})[1]["phone"] == 1


def test_private_key_without_end_line_is_masked_to_the_end() -> None:
    """A truncated PEM block is masked from BEGIN to the end of the text."""
    text = "dump -----BEGIN PRIVATE KEY-----\nMIIBVQIBADANBgkqhkiG9w0BAQEFAASC"
    assert DEFAULT.redact_text(text)[0] == "dump [REDACTED:private_key]"


def test_overlapping_findings_keep_the_higher_priority_rule() -> None:
    """A JWT after ``Bearer`` is one auth_token finding, not a JWT plus a secret."""
    jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJlc2lnbmF0dXJlc2lnbmF0dXJl"
    masked, found = DEFAULT.redact_text(f"Authorization: Bearer {jwt}")
    assert masked == "Authorization: Bearer [REDACTED:auth_token]"
    assert found == {"auth_token": 1}
