"""PII detection and masking, shared by the server and the SDK (standard library only).

::

    from logpond.redact import DEFAULT_POLICY, Policy, Redactor

    redactor = Redactor(DEFAULT_POLICY)
    redactor.redact_text("mail john.doe@acme.com")   # ("mail j***@***.com", {"email": 1})
    redactor.redact_record({"user_name": "John Doe"}) # ({"user_name": "John D***", ...}, ...)
    redactor.redact_batch(batch)                      # pyarrow is imported here only

See ``docs/pii.md`` for the rules, masks and the two policy forms.
"""

from .keys import DEFAULT_DENY_KEYS, DEFAULT_NAME_KEYS, key_words
from .masks import DEFAULT_MASKS, MASK_STYLES
from .policy import (
    CLOUDWATCH_IDENTIFIERS,
    DEFAULT_POLICY,
    CustomIdentifier,
    Mode,
    Policy,
)
from .redactor import PROTECTED_KEYS, Redactor, Veto
from .rules import DEFAULT_RULES, RULE_NAMES

__all__ = [
    "CLOUDWATCH_IDENTIFIERS",
    "DEFAULT_DENY_KEYS",
    "DEFAULT_MASKS",
    "DEFAULT_NAME_KEYS",
    "DEFAULT_POLICY",
    "DEFAULT_RULES",
    "MASK_STYLES",
    "PROTECTED_KEYS",
    "RULE_NAMES",
    "CustomIdentifier",
    "Mode",
    "Policy",
    "Redactor",
    "Veto",
    "key_words",
]
