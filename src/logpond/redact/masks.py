"""Masks: what a finding is replaced by.

A policy maps each identifier type to a *style* (a word below) or to a literal template in
which ``{type}`` is replaced by the type's name. Every type accepts ``full`` and ``stars``;
some have partial styles that keep a little of the value so a log stays readable:

=========  ==========================  =========================================
type       style                       ``john.doe@acme.com`` / ``John Doe`` / card
=========  ==========================  =========================================
email      ``partial`` (default)       ``j***@***.com``
email      ``keep_local``              ``john.doe@***.com``
name       ``partial`` (default)       ``John D***``
card       ``last4`` (default)         ``**** **** **** 1234``
any        ``full`` (default)          ``[REDACTED:<type>]``
any        ``stars``                   one ``*`` per character
=========  ==========================  =========================================
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

from logpond.model.errors import InvalidParameterError

__all__ = [
    "DEFAULT_MASKS",
    "MASK_STYLES",
    "MaskFunction",
    "compile_mask",
    "mask_card_last4",
    "mask_email_keep_local",
    "mask_email_partial",
    "mask_name_partial",
]

MaskFunction = Callable[[str], str]

# Styles every type accepts, and the partial styles only some types have.
_COMMON_STYLES = ("full", "stars")
MASK_STYLES: Mapping[str, tuple[str, ...]] = {
    "email": ("partial", "keep_local", *_COMMON_STYLES),
    "name": ("partial", *_COMMON_STYLES),
    "card": ("last4", *_COMMON_STYLES),
}

# The style each type gets when the policy says nothing; any other type: ``full``.
DEFAULT_MASKS: Mapping[str, str] = {"email": "partial", "name": "partial", "card": "last4"}

_MAX_TEMPLATE_CHARS = 128
_NAME_WORD_RE = re.compile(r"\S+")


def mask_email_partial(value: str) -> str:
    """``john.doe@acme.co.uk`` -> ``j***@***.uk``: first character and top-level domain kept."""
    local, _, domain = value.rpartition("@")
    tld = domain.rsplit(".", 1)[-1] if "." in domain else ""
    return f"{local[:1]}***@***.{tld}" if tld else f"{local[:1]}***@***"


def mask_email_keep_local(value: str) -> str:
    """``john.doe@acme.com`` -> ``john.doe@***.com``: the whole local part kept."""
    local, _, domain = value.rpartition("@")
    tld = domain.rsplit(".", 1)[-1] if "." in domain else ""
    return f"{local}@***.{tld}" if tld else f"{local}@***"


def mask_name_partial(value: str) -> str:
    """``John Doe`` -> ``John D***``; one word ``John`` -> ``J***``.

    The first word is kept when there are several; every other word keeps its initial.
    """
    words = _NAME_WORD_RE.findall(value)
    if not words:
        return value
    if len(words) == 1:
        return _initial(words[0])
    return " ".join([words[0], *map(_initial, words[1:])])


def _initial(word: str) -> str:
    """``Doe`` -> ``D***``; a one-character word (``学``) is all initial, so ``***``."""
    return word[:1] + "***" if len(word) > 1 else "***"


def mask_card_last4(value: str) -> str:
    """Any card number -> ``**** **** **** 1234``: only the last four digits kept."""
    digits = [c for c in value if c.isdigit()]
    return "**** **** **** " + "".join(digits[-4:])


def _mask_stars(value: str) -> str:
    return "*" * len(value)


_PARTIAL: Mapping[tuple[str, str], MaskFunction] = {
    ("email", "partial"): mask_email_partial,
    ("email", "keep_local"): mask_email_keep_local,
    ("name", "partial"): mask_name_partial,
    ("card", "last4"): mask_card_last4,
}


def compile_mask(type_name: str, style: str) -> MaskFunction:
    """The function that masks a finding of ``type_name`` with ``style`` (or a template)."""
    if not isinstance(style, str) or not style:
        raise InvalidParameterError("a mask must be a style name or a template", type=type_name)
    partial = _PARTIAL.get((type_name, style))
    if partial is not None:
        return partial
    if style == "stars":
        return _mask_stars
    if style == "full":
        return _constant(f"[REDACTED:{type_name}]")
    known = {s for styles in MASK_STYLES.values() for s in styles}
    if style in known:
        raise InvalidParameterError(
            "mask style does not apply to this type",
            type=type_name,
            style=style,
            allowed=list(MASK_STYLES.get(type_name, _COMMON_STYLES)),
        )
    if len(style) > _MAX_TEMPLATE_CHARS:
        raise InvalidParameterError("mask template is too long", type=type_name, max=_MAX_TEMPLATE_CHARS)
    return _constant(style.replace("{type}", type_name))


def _constant(text: str) -> MaskFunction:
    def mask(_value: str) -> str:
        return text

    return mask
