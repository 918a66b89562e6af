"""Keys: which field names hold secrets, person names or phone numbers.

A key is compared by its *words*: ``accessToken``, ``access-token``, ``Access Token`` and
``ACCESS_TOKEN`` are all ``("access", "token")``. A denylist term matches when its words
appear in a row in the key (``db_password``, ``X-Api-Key``), or when the term written as one
word is one of the key's words (``apikey``). A few terms that are also ordinary words
(``token``, ``auth``, ``session``) match only at the *end* of a key's last word, so that
``access_token`` and ``authtoken`` are secrets but ``token_count`` and
``session_duration_ms`` are not.

Name keys are exact: the key's words must be the name key's words, or the key one word that
is the name key's words run together, so ``first_name``, ``firstName``, ``FIRSTNAME`` and
``First Name`` match ``first_name`` but ``file_name`` and ``service_name`` match nothing.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable

from logpond.model.errors import InvalidParameterError

__all__ = [
    "DEFAULT_DENY_KEYS",
    "DEFAULT_NAME_KEYS",
    "GENERIC_NAME_KEYS",
    "PHONE_KEY_WORDS",
    "TAIL_ONLY_DENY_KEYS",
    "VERSION_KEY_WORDS",
    "KeyClass",
    "KeyClassifier",
    "key_words",
]

# Keys whose whole value is a secret (Sentry's and logfire's lists, merged and extended).
DEFAULT_DENY_KEYS: tuple[str, ...] = (
    "password", "passwd", "pwd", "passphrase", "secret", "credential", "credentials",
    "api_key", "apikey", "access_key", "private_key", "privatekey", "secret_key",
    "authorization", "cookie", "cookies", "set_cookie", "session_id", "sessionid",
    "session_key", "session_token", "phpsessid", "jsessionid", "connect.sid",
    "csrf", "xsrf", "csrftoken", "xsrf_token", "jwt", "signature", "otp", "cvv", "cvc",
    "ssn", "credit_card", "card_number",
    "token", "auth", "session",
)  # fmt: skip

# Denylist terms that match only as the last word of a key (see the module docstring).
TAIL_ONLY_DENY_KEYS: frozenset[str] = frozenset({"token", "auth", "session"})

# Keys whose string value is a person's name.
DEFAULT_NAME_KEYS: tuple[str, ...] = (
    "name", "full_name", "first_name", "last_name", "middle_name", "given_name",
    "family_name", "surname", "maiden_name", "user_name", "username", "customer_name",
    "display_name", "contact_name", "person_name", "real_name", "legal_name",
    "cardholder_name", "card_holder", "holder_name", "account_holder", "patient_name",
    "employee_name", "recipient_name", "sender_name", "billing_name", "shipping_name",
    "owner_name", "author_name",
)  # fmt: skip

# Name keys too generic to trust alone: their value must have at least two words.
GENERIC_NAME_KEYS: frozenset[str] = frozenset({"name"})

# A key with one of these words holds a version: ``1.2.3.4`` there is not an IP address.
VERSION_KEY_WORDS: frozenset[str] = frozenset({"version", "ver", "release", "build", "semver"})

# A key with one of these words holds a phone number: bare digits there are a phone.
PHONE_KEY_WORDS: frozenset[str] = frozenset(
    {"phone", "telephone", "tel", "mobile", "msisdn", "fax", "whatsapp", "cellphone"}
)

_CAMEL_RE = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_SPLIT_RE = re.compile(r"[\W_]+")
_CACHE_MAX = 4096


def key_words(key: str) -> tuple[str, ...]:
    """The lowercase words of a key: ``X-Api-Key`` and ``xApiKey`` -> ``("x", "api", "key")``."""
    return tuple(w for w in _SPLIT_RE.split(_CAMEL_RE.sub("_", key).lower()) if w)


class KeyClass(enum.Enum):
    """What a key says about its value."""

    PLAIN = "plain"
    DENY = "deny"
    NAME = "name"
    GENERIC_NAME = "generic_name"
    PHONE = "phone"
    VERSION = "version"


class KeyClassifier:
    """Classifies keys by a denylist, name keys and phone words; remembers recent answers."""

    def __init__(
        self,
        deny_keys: Iterable[str],
        name_keys: Iterable[str],
        allow_keys: Iterable[str] = (),
    ) -> None:
        self._anywhere: list[tuple[str, ...]] = []
        self._tail: list[tuple[str, ...]] = []
        self._joined: set[str] = set()
        for term in deny_keys:
            words = _words_of_setting(term, "deny key")
            target = self._tail if "".join(words) in TAIL_ONLY_DENY_KEYS else self._anywhere
            target.append(words)
            if len(words) > 1:
                self._joined.add("".join(words))
        self._tail_joined = {"".join(w) for w in self._tail}
        self._joined -= self._tail_joined
        self._joined |= {w[0] for w in self._anywhere if len(w) == 1}
        name_words = [_words_of_setting(k, "name key") for k in name_keys]
        self._names = set(name_words) | {("".join(w),) for w in name_words}
        self._generic = {key_words(k) for k in GENERIC_NAME_KEYS}
        self._allow = {"".join(_words_of_setting(k, "allow key")) for k in allow_keys}
        self._cache: dict[str, KeyClass] = {}

    def classify(self, key: str) -> KeyClass:
        """The class of ``key``; the answer for recent keys comes from a bounded cache."""
        found = self._cache.get(key)
        if found is None:
            found = self._classify(key)
            if len(self._cache) >= _CACHE_MAX:
                self._cache.clear()
            self._cache[key] = found
        return found

    def _classify(self, key: str) -> KeyClass:
        words = key_words(key)
        if not words:
            return KeyClass.PLAIN
        joined = "".join(words)
        if joined in self._allow:
            return KeyClass.PLAIN
        if self._is_denied(words):
            return KeyClass.DENY
        if words in self._names:
            return KeyClass.GENERIC_NAME if words in self._generic else KeyClass.NAME
        if any(w in PHONE_KEY_WORDS for w in words):
            return KeyClass.PHONE
        if any(w in VERSION_KEY_WORDS for w in words):
            return KeyClass.VERSION
        return KeyClass.PLAIN

    def _is_denied(self, words: tuple[str, ...]) -> bool:
        if any(w in self._joined for w in words):
            return True
        for term in self._anywhere:
            n = len(term)
            if n > 1 and any(words[i : i + n] == term for i in range(len(words) - n + 1)):
                return True
        last = words[-1]
        if any(last.endswith(t) for t in self._tail_joined):
            return True
        return any(len(t) > 1 and words[-len(t) :] == t for t in self._tail)


def _words_of_setting(key: str, what: str) -> tuple[str, ...]:
    if not isinstance(key, str):
        raise InvalidParameterError(f"a {what} must be a string", value=repr(key))
    words = key_words(key)
    if not words:
        raise InvalidParameterError(f"a {what} must contain a letter or digit", value=key)
    return words
