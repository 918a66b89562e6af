"""Masks: the default shapes, the other styles, templates, and what a policy accepts."""

from __future__ import annotations

import pytest

from logpond.model.errors import InvalidParameterError
from logpond.redact import Policy, Redactor
from logpond.redact.masks import (
    compile_mask,
    mask_card_last4,
    mask_email_keep_local,
    mask_email_partial,
    mask_name_partial,
)


@pytest.mark.parametrize(
    ("email", "masked"),
    [
        ("john.doe@acme.com", "j***@***.com"),
        ("a@b.co.uk", "a***@***.uk"),
        ("X.Y+tag@mail.example.org", "X***@***.org"),
    ],
)
def test_email_partial_keeps_first_character_and_tld(email: str, masked: str) -> None:
    """The default email mask keeps the local part's first character and the TLD."""
    assert mask_email_partial(email) == masked


def test_email_keep_local_keeps_the_local_part() -> None:
    """The keep_local style keeps the whole local part and hides the domain."""
    assert mask_email_keep_local("john.doe@acme.com") == "john.doe@***.com"


@pytest.mark.parametrize(
    ("name", "masked"),
    [
        ("John Doe", "John D***"),
        ("John", "J***"),
        ("Mary Ann Smith", "Mary A*** S***"),
        ("Dr. Arthur Melo", "Dr. A*** M***"),
        ("森 充", "森 ***"),
    ],
)
def test_name_partial_keeps_first_name_and_initials(name: str, masked: str) -> None:
    """Names keep their first word and the initial of each other word of two letters or more."""
    assert mask_name_partial(name) == masked


@pytest.mark.parametrize("card", ["4111111111111111", "4111 1111 1111 1111", "3782-822463-10005"])
def test_card_keeps_last_four(card: str) -> None:
    """Any card number becomes ``**** **** **** `` and its last four digits."""
    digits = "".join(c for c in card if c.isdigit())
    assert mask_card_last4(card) == "**** **** **** " + digits[-4:]


def test_other_types_get_redacted_marker() -> None:
    """Types without a partial mask become ``[REDACTED:<type>]``."""
    assert compile_mask("jwt", "full")("eyJ...") == "[REDACTED:jwt]"


def test_stars_style_keeps_the_length() -> None:
    """The stars style replaces every character with an asterisk."""
    assert compile_mask("email", "stars")("a@b.io") == "******"


def test_template_replaces_type() -> None:
    """A template that is not a style name is the mask, with ``{type}`` filled in."""
    assert compile_mask("ssn", "<{type} hidden>")("123-45-6789") == "<ssn hidden>"


def test_style_of_another_type_is_refused() -> None:
    """A partial style on a type that has none is an error, not a silent template."""
    with pytest.raises(InvalidParameterError) as info:
        compile_mask("jwt", "last4")
    assert info.value.details["allowed"] == ["full", "stars"]


def test_policy_masks_apply_per_type() -> None:
    """A policy's masks change how its findings are written."""
    policy = Policy(masks={"email": "keep_local", "card": "full", "secret": "***"})
    redactor = Redactor(policy)
    text = "john.doe@acme.com paid 4111 1111 1111 1111 password=x1"
    masked, _ = redactor.redact_text(text)
    assert masked == "john.doe@***.com paid [REDACTED:card] password=***"


def test_policy_refuses_mask_for_unknown_type() -> None:
    """A mask for a type no rule produces is an error with a suggestion."""
    with pytest.raises(InvalidParameterError) as info:
        Policy(masks={"emial": "full"})
    assert info.value.details["did_you_mean"] == "email"


def test_masked_value_is_not_found_again() -> None:
    """Redacting a redacted text changes nothing and counts nothing."""
    redactor = Redactor()
    text = "john.doe@acme.com 4111 1111 1111 1111 password=hunter2 user_name=John Doe"
    once, found = redactor.redact_text(text)
    twice, again = redactor.redact_text(once)
    assert sum(found.values()) == 4
    assert (twice, dict(again)) == (once, {})
