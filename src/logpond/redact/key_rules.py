"""The rules that read a key before the value: secrets and names in ``key=value`` text.

``password=hunter2``, ``"api_key": "..."`` and ``?access_token=...&`` hold a secret because
of their key (the policy's denylist); ``customer_name=Jane Roe`` holds a name because of
its key (the policy's name keys). Both rules are built per policy, from its key lists and
the :class:`~logpond.redact.keys.KeyClassifier` that also classifies JSON keys, so text and
structured records agree on what a key means.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from .keys import TAIL_ONLY_DENY_KEYS, KeyClass, KeyClassifier, key_words
from .rules import Rule, Span

__all__ = ["NameTextRule", "SecretPairRule", "name_value_ok"]


_VALUE_RE = (
    r"(:=|=>?|:)([ \t]{0,3})(?:\\?\"((?:[^\"\\\n]++|\\[\s\S])*)(?:\\?\"|(?=[\r\n])|\Z)"
    r"|'([^'\n]*)(?:'|(?=[\r\n])|\Z)"
    # Unquoted: up to whitespace or a quote, or an "&" that starts the next "key=". Runs are
    # possessive (``++``): the value is never split again, whatever follows.
    r"|((?i:(?:bearer|basic|token|digest|negotiate)[ \t]+)?"
    r"(?:[^\s\"'&]++|&(?![\w.\[\]-]+=))+))"
)
_ANY_SEPARATORS = r"[\W_]*"
_NOT_SECRETS = frozenset({"null", "true", "false", "none", "nil", "undefined"})


def _words_regex(key: str, separator: str = r"[\W_]?") -> str:
    """A key as a pattern that, case-insensitive, also matches its camelCase/kebab variants."""
    return separator.join(re.escape(w) for w in key_words(key))


class SecretPairRule(Rule):
    """``password=...``, ``"api_key": "..."``, ``?token=...``: the value after a denylisted key."""

    name = "secret"
    description = "values after denylisted keys in key=value, key: value and query strings"

    def __init__(self, classifier: KeyClassifier, deny_keys: tuple[str, ...]) -> None:
        self._classifier = classifier
        self._pattern = re.compile(r"(?<![\w.-])([^\W\d][\w.-]{0,63})\\?[\"']?[ \t]{0,3}" + _VALUE_RE)
        # A term matches anywhere in a key; a tail-only term only where the key ends.
        tail = [k for k in deny_keys if "".join(key_words(k)) in TAIL_ONLY_DENY_KEYS]
        anywhere = [k for k in deny_keys if k not in tail]
        sep = r"\\?[\"']?[ \t]*[:=]"
        prefilters = []
        if anywhere:
            terms = _alternation(anywhere, _ANY_SEPARATORS)
            prefilters.append(rf"(?i:{terms})[^\s\"':=]*{sep}")
        if tail:
            prefilters.append(rf"(?i:{_alternation(tail)})[_.-]*{sep}")
        self.prefilter = "|".join(prefilters) or "$^"
        groups: dict[str, set[tuple[str, ...]]] = {}
        for key in deny_keys:
            words = key_words(key)
            groups.setdefault(words[0], set()).add(words[1:])
        # Every word of some denylisted key must be in the text (``api`` and ``key``).
        self._word_groups = tuple((first, tuple(rests)) for first, rests in sorted(groups.items()))

    def could_fire(self, text: str, low: str) -> bool:
        if "=" not in text and ":" not in text:
            return False
        return any(
            first in low and any(all(w in low for w in rest) for rest in rests)
            for first, rests in self._word_groups
        )

    def find(self, text: str, keyed: bool = False) -> Iterator[Span]:
        classify = self._classifier.classify
        for match in self._pattern.finditer(text):
            if classify(match.group(1)) is not KeyClass.DENY:
                continue
            for group in (4, 5):
                value = match.group(group)
                if value is not None:
                    if value and value.lower() not in _NOT_SECRETS:
                        yield match.span(group)
                    break
            else:
                span = _unquoted_secret(text, match)
                if span is not None:
                    yield span


_FRAGMENT_RE = re.compile("#")
_SCHEME_RE = re.compile(r"^(?i:bearer|basic|token|digest|negotiate)[ \t]+")
_CLAUSE_END_RE = re.compile(r"[,;](?=\s|$)")
# Credential-looking: long, or letters with digits or symbols.
_CREDENTIAL_RE = re.compile(r".{16,}|(?=.*[^\W\d_])(?=.*[\d!#$%&*+/=?@^~]).{8,}", re.DOTALL)


def _unquoted_secret(text: str, match: re.Match[str]) -> Span | None:
    """How much of an unquoted value after a denylisted key is the secret.

    The pattern stopped at whitespace, a quote or the ``&`` of the next ``key=``; in a
    query string (the key follows ``?`` or ``&``) the value also ends at ``#``, elsewhere
    at a ``,`` or ``;`` that ends a clause. After ``key: `` (a colon and a space, as in
    prose like ``auth: token refreshed``) the value, after an authorization scheme such as
    ``Token``, must look like a credential.
    """
    start = match.start(6)
    value = match.group(6)
    before = text[match.start() - 1] if match.start() else ""
    cut = (_FRAGMENT_RE if before in ("?", "&") else _CLAUSE_END_RE).search(value)
    if cut is not None:
        value = value[: cut.start()]
    while (
        value
        and value[-1] in ")]}>"
        and value.count(value[-1]) > value.count("([{<"[")]}>".index(value[-1])])
    ):
        value = value[:-1]
    if not value or value.lower() in _NOT_SECRETS:
        return None
    if (
        match.group(2) == ":"
        and match.group(3)
        and not _CREDENTIAL_RE.fullmatch(_SCHEME_RE.sub("", value, count=1))
    ):
        return None
    return start, start + len(value)


# A word of a name: letters, joined by an apostrophe (also U+2019), dot or hyphen.
_NAME_WORD_RE = re.compile(r"[^\W\d_]+(?:['\u2019.\-][^\W\d_]*)*")
_NAME_PARTICLES = frozenset(
    {
        "de", "da", "das", "do", "dos", "du", "del", "della", "der", "den", "di", "la", "le",
        "van", "von", "ten", "ter", "zu", "bin", "al", "el", "y", "e",
    }
)  # fmt: skip
_MAX_NAME_CHARS = 128
_MAX_NAME_WORDS = 10


def name_value_ok(value: str, generic: bool) -> bool:
    """A value under a name key is a person's name.

    Under a specific key (``first_name``, ``customer_name``) any short text with a letter
    is; under a generic key (``name``) it must be two to ten words of letters.
    """
    words = value.split()
    if not words or len(words) > _MAX_NAME_WORDS or len(value) > _MAX_NAME_CHARS:
        return False
    if "*" in value:  # masked already
        return False
    if not generic:
        return any(c.isalpha() for c in value)
    return len(words) >= 2 and all(_NAME_WORD_RE.fullmatch(w.rstrip(",")) for w in words)


class NameTextRule(Rule):
    """``customer_name=Jane Smith``, ``"full_name": "Jane Smith"``: a name after a name key.

    Keys are found in the lowercased text by a case-sensitive trie, which Python's matcher
    skips through quickly; the value is then matched in the original text, capitals intact:
    under a generic key (``name``) two capitalized words, under a specific one any value.
    """

    name = "name"
    description = "person names in name-like keys and after such keys in key=value text"

    def __init__(self, classifier: KeyClassifier, name_keys: tuple[str, ...]) -> None:
        self._classifier = classifier
        generic = [k for k in name_keys if classifier.classify(k) is KeyClass.GENERIC_NAME]
        specific = [k for k in name_keys if k not in generic]
        # Each kind of key with a look at what follows it, so that ``name=x=`` and the like
        # fail inside the matcher: a generic key needs two words, a specific one a value.
        sep = r"\\?[\"']?[ \t]{0,3}[:=][ \t]{0,3}"
        branches = [
            rf"({_alternation(keys)}){sep}(?={ahead})"
            for keys, ahead in ((generic, _GENERIC_AHEAD), (specific, _SPECIFIC_AHEAD))
            if keys
        ]
        self._keys = re.compile("|".join(branches))
        self._values = {False: re.compile(_NAME_VALUE), True: re.compile(_GENERIC_NAME_VALUE)}
        # The prefilter asks as much as RE2 can cheaply: after a generic key, two words (so
        # "service": {"name": "api"}, everywhere in OTLP resources, stays out of Python).
        lead = r"(?:^|[^A-Za-z0-9_.-])"
        parts = []
        if specific:
            keys = _alternation(specific, _ANY_SEPARATORS)
            parts.append(rf"{lead}(?i:{keys})\\?[\"']?[ \t]*[:=]")
        if generic:
            keys = _alternation(generic, _ANY_SEPARATORS)
            value = r"[ \t]*\\?[\"']?[^\s\"']+[ \t]+[^\s\"']"
            parts.append(rf"{lead}(?i:{keys})\\?[\"']?[ \t]*[:=]{value}")
        self.prefilter = "|".join(f"(?:{p})" for p in parts) or "$^"
        self.needles = tuple(sorted({key_words(k)[-1] for k in name_keys}))

    def find(self, text: str, keyed: bool = False) -> Iterator[Span]:
        low = text.lower()
        if len(low) != len(text):  # a few characters lowercase to two
            low = text.translate(_ASCII_LOWER)
        classify = self._classifier.classify
        for key in self._keys.finditer(low):
            start = key.start()
            if start and (low[start - 1].isalnum() or low[start - 1] in "_.-"):
                continue  # inside a longer key: hostname=, pod_name=
            group = 1 if key.start(1) >= 0 else 2
            key_class = classify(text[start : key.end(group)])
            if key_class is not KeyClass.NAME and key_class is not KeyClass.GENERIC_NAME:
                continue
            generic = key_class is KeyClass.GENERIC_NAME
            value = self._values[generic].match(text, key.end())
            if value is None:
                continue
            for group in (1, 2):
                quoted = value.group(group)
                if quoted is not None:
                    if name_value_ok(quoted, generic):
                        yield value.span(group)
                    break
            else:
                span = _unquoted_name(value.group(3), value.start(3), generic)
                if span is not None:
                    yield span


_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
_NAME_CHARS = r"[^\s\"',;&=:()\[\]{}<>|]"
# After the first word, a name word starts with a capital (or an uncased letter), unless
# it is a particle (``van``, ``de``; up to two: ``van der``) followed by one.
_PARTICLES = "|".join(sorted(_NAME_PARTICLES))
_NAME_NEXT = rf"(?:[ ](?:(?:{_PARTICLES})[ ]){{0,2}}[^\W\d_a-z]{_NAME_CHARS}*)"
_GENERIC_AHEAD = rf"\\?[\"']|[^\W\d_]{_NAME_CHARS}* [^\W\d_]"
_SPECIFIC_AHEAD = rf"\\?[\"']|{_NAME_CHARS}"
_QUOTED_NAME = r"\\?\"([^\"\\\n]{1,128})\\?\"|'([^'\n]{1,128})'"
_NAME_VALUE = rf"(?:{_QUOTED_NAME}|({_NAME_CHARS}+{_NAME_NEXT}{{0,5}}))"
_GENERIC_NAME_VALUE = rf"(?:{_QUOTED_NAME}|([^\W\d_]{_NAME_CHARS}*{_NAME_NEXT}{{1,5}}))"


def _alternation(keys: list[str] | tuple[str, ...], separator: str = r"[\W_]?") -> str:
    """Keys as one pattern matching their camelCase/kebab/snake variants.

    The alternatives are merged into a trie (``f(?:irst...|ull...)``), so a failing
    position costs one comparison per distinct first letter, not one per key.
    """
    trie: dict[str, Any] = {}
    for key in keys:
        node = trie
        for i, word in enumerate(key_words(key)):
            atoms = [*([separator] if i else []), *map(re.escape, word)]
            for atom in atoms:
                node = node.setdefault(atom, {})
        node[""] = {}
    return _trie_pattern(trie)


def _trie_pattern(node: dict[str, Any]) -> str:
    ends = "" in node
    branches = [atom + _trie_pattern(child) for atom, child in sorted(node.items()) if atom]
    if not branches:
        return ""
    if len(branches) == 1 and not ends:
        return branches[0]
    return "(?:" + "|".join(branches) + ")" + ("?" if ends else "")


def _unquoted_name(value: str, start: int, generic: bool) -> Span | None:
    """How much of an unquoted value after a name key is the name.

    The pattern already stopped at the first word that cannot continue a name; a word with
    digits or symbols also ends it here, and a particle left dangling is dropped.
    """
    if "*" in value:  # masked already: John D***
        return None
    words = value.split(" ")
    first = words[0]
    if generic:
        if not _NAME_WORD_RE.fullmatch(first):
            return None
    elif not any(c.isalpha() for c in first):
        return None
    kept = 1
    while kept < len(words) and _NAME_WORD_RE.fullmatch(words[kept]):
        kept += 1
    while kept > 1 and words[kept - 1] in _NAME_PARTICLES:
        kept -= 1
    if generic and kept < 2:
        return None
    return start, start + len(" ".join(words[:kept]))
