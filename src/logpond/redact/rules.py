"""Detectors: one rule per identifier type, each with its validator where one exists.

A rule finds the spans of a text to mask. Three guarantees hold for every built-in rule:

- **No catastrophic backtracking.** Every unbounded run starts where the character before it
  cannot extend it (a negative lookbehind of the same class), and the pieces of a pattern are
  separated by characters they cannot share, so each position is tried a bounded number of
  times. ``tests/unit/redact/test_adversarial.py`` times each rule on 4 KiB and 16 KiB
  adversarial inputs.
- **A prefilter that never misses.** ``prefilter`` is a regular expression in the syntax RE2
  and Python share (no lookaround, no backreference); every text a rule fires on matches it.
  The batch path runs the prefilters vectorized (RE2 in Arrow) and sends only matching rows
  to Python. The prefilter also matches the JSON-escaped form of a value (``\\"`` for ``"``).
- **Validators cut false positives.** Cards pass Luhn and an issuer range, IBANs mod-97 and
  their country's length, JWTs a JSON header, IP addresses :mod:`ipaddress`, phone numbers a
  shape or a keyword.

The order of :data:`RULE_NAMES` is the priority when two findings overlap. The two rules
that read a key before the value (``secret`` and ``name``) live in :mod:`.key_rules`.
"""

from __future__ import annotations

import base64
import binascii
import functools
import ipaddress
import json
import re
from collections.abc import Callable, Iterator

__all__ = [
    "DEFAULT_RULES",
    "RULE_NAMES",
    "STATIC_RULES",
    "Ipv6Rule",
    "PrivateKeyRule",
    "RegexRule",
    "Rule",
    "Span",
    "iban_ok",
    "luhn_ok",
]

Span = tuple[int, int]
Validator = Callable[["re.Match[str]", str, bool], "Span | None"]

# Every built-in rule, in priority order (the first wins where two findings overlap).
RULE_NAMES: tuple[str, ...] = (
    "private_key", "url_password", "auth_token", "jwt", "aws_access_key_id",
    "aws_secret_key", "secret", "email", "card", "iban", "ssn", "phone", "ipv4", "ipv6",
    "name",
)  # fmt: skip

# On unless a policy turns them off: secure by default, quiet on ordinary log lines.
DEFAULT_RULES: frozenset[str] = frozenset(RULE_NAMES) - {
    "phone", "ipv4", "ipv6", "ssn", "aws_secret_key",
}  # fmt: skip


class Rule:
    """A detector: ``find`` yields the spans of ``text`` to mask, in order.

    Before ``find`` runs, a cheap gate: ``needles`` are lowercase literals and ``gate`` a
    Python pattern; every text the rule fires on contains a needle (once lowercased) or
    matches the gate. A rule with neither is gated by its ``prefilter``.
    """

    name: str
    description: str
    prefilter: str
    needles: tuple[str, ...] = ()
    gate: str | None = None

    def find(self, text: str, keyed: bool = False) -> Iterator[Span]:
        """Spans to mask; ``keyed`` says the text is the value of a key that announced it."""
        raise NotImplementedError

    def could_fire(self, text: str, low: str) -> bool:
        """The cheap gate: False only if ``find`` cannot fire on ``text`` (``low`` lowercased)."""
        needles, gate = self.gates
        return any(n in low for n in needles) or (gate is not None and gate.search(text) is not None)

    @functools.cached_property
    def gates(self) -> tuple[tuple[str, ...], re.Pattern[str] | None]:
        """The needles (only those containing no other) and the compiled gate pattern."""
        needles = self.needles
        # A needle containing another is redundant: finding the shorter is the same test.
        minimal = tuple(n for n in needles if not any(o != n and o in n for o in needles))
        pattern = self.gate or (None if needles else self.prefilter)
        return minimal, None if pattern is None else re.compile(pattern)


class RegexRule(Rule):
    """A regular expression, then a validator that accepts a match and says what to mask."""

    def __init__(
        self,
        name: str,
        pattern: re.Pattern[str],
        *,
        prefilter: str,
        description: str,
        validate: Validator | None = None,
        group: int = 0,
        needles: tuple[str, ...] = (),
        gate: str | None = None,
    ) -> None:
        self.name = name
        self.pattern = pattern
        self.prefilter = prefilter
        self.description = description
        self.needles = needles
        self.gate = gate
        self._validate = validate
        self._group = group

    def find(self, text: str, keyed: bool = False) -> Iterator[Span]:
        validate, group = self._validate, self._group
        for match in self.pattern.finditer(text):
            if validate is None:
                if match.end(group) > match.start(group):
                    yield match.span(group)
                continue
            span = validate(match, text, keyed)
            if span is not None:
                yield span


# --- email -------------------------------------------------------------------------------

_EMAIL_RE = re.compile(r"(?<![\w.+%-])([\w.+%-]{1,64})@((?:[\w-]{1,63}\.){1,8}([^\W\d_]{2,24}))(?![\w-])")
# Look like an address but name files: ``icon@2x.png``.
_FILE_SUFFIXES = frozenset(
    {
        "png", "jpg", "jpeg", "gif", "svg", "webp", "ico", "css", "js", "mjs", "map", "html",
        "htm", "json", "txt", "pdf", "log", "xml", "yaml", "yml", "gz", "tgz", "zip", "tar",
    }
)  # fmt: skip


def _email(match: re.Match[str], _text: str, _keyed: bool) -> Span | None:
    local = match.group(1)
    start = match.start(1) + len(local) - len(local.lstrip("."))
    local = local.strip(".")
    if not local or ".." in local or match.group(3).lower() in _FILE_SUFFIXES:
        return None
    return start, match.end()


EMAIL = RegexRule(
    "email",
    _EMAIL_RE,
    prefilter="@",
    description="email addresses",
    validate=_email,
    needles=("@",),
)

# --- payment cards -----------------------------------------------------------------------

_CARD_RE = re.compile(
    r"(?<![\w.+-])(?:[0-9]{13,19}"
    r"|[0-9]{4}([ -])[0-9]{4}\1[0-9]{4}\1[0-9]{1,4}(?:\1[0-9]{1,3})?"
    r"|[0-9]{4}([ -])[0-9]{6}\2[0-9]{4,5})(?![\w-]|\.[0-9])",
    re.ASCII,
)


_LUHN_DOUBLE = str.maketrans("0123456789", "0246813579")


def luhn_ok(digits: str) -> bool:
    """The Luhn checksum of a string of ASCII digits holds."""
    kept = digits[-1::-2].encode()
    doubled = digits[-2::-2].translate(_LUHN_DOUBLE).encode()
    return (sum(kept) + sum(doubled) - 48 * len(digits)) % 10 == 0


def _issuer_ok(d: str) -> bool:
    """The prefix belongs to a card network that issues numbers of this length.

    Prefixes compare as strings: digit strings of equal length order like their numbers.
    """
    n, p2, p3, p4, p6 = len(d), d[:2], d[:3], d[:4], d[:6]
    if d[0] == "4":
        return n in (13, 16, 19)  # Visa
    if "51" <= p2 <= "55" or "2221" <= p4 <= "2720":
        return n == 16  # Mastercard
    if "2200" <= p4 <= "2204":
        return 16 <= n <= 19  # Mir
    if p2 in ("34", "37"):
        return n == 15  # American Express
    if p4 == "6011" or p2 in ("60", "65") or "644" <= p3 <= "649" or "622126" <= p6 <= "622925":
        return 16 <= n <= 19  # Discover, RuPay
    if p2 == "35":
        return 16 <= n <= 19  # JCB (3528-3589, and numbers issued on the wider 35 range)
    if "300" <= p3 <= "305" or p2 in ("36", "38", "39") or p4 == "3095":
        return 14 <= n <= 19  # Diners Club
    if p2 == "62":
        return 16 <= n <= 19  # UnionPay
    if p2 in ("50", "56", "57", "58", "63", "67"):
        return 13 <= n <= 19  # Maestro
    return False


_CARD_DIGITS = r"[0-9]{4}(?:[0-9]{9}|[ -][0-9]{4}[ -][0-9]{4}|[ -][0-9]{6}[ -][0-9]{4})"


def _card(match: re.Match[str], _text: str, _keyed: bool) -> Span | None:
    digits = match.group()
    if not digits.isdigit():
        digits = digits.replace(" ", "").replace("-", "")
    return match.span() if _issuer_ok(digits) and luhn_ok(digits) else None


CARD = RegexRule(
    "card",
    _CARD_RE,
    # A card starts where no word character, dot, plus or dash precedes it (so a UUID's
    # all-digit groups are not one); the gate for Python starts with a digit class, which
    # Python's matcher skips to quickly.
    prefilter=rf"(?:^|[^A-Za-z0-9_.+-]){_CARD_DIGITS}",
    gate=_CARD_DIGITS,
    description="payment card numbers (13-19 digits, Luhn and issuer checked)",
    validate=_card,
)

# --- IBAN --------------------------------------------------------------------------------

# Length of the IBAN of each country (the SWIFT IBAN registry).
_IBAN_LENGTHS: dict[str, int] = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22,
    "BH": 22, "BI": 27, "BR": 29, "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24,
    "DE": 22, "DJ": 27, "DK": 18, "DO": 28, "EE": 20, "EG": 29, "ES": 24, "FI": 18,
    "FK": 18, "FO": 18, "FR": 27, "GB": 22, "GE": 22, "GI": 23, "GL": 18, "GR": 27,
    "GT": 28, "HR": 21, "HU": 28, "IE": 22, "IL": 23, "IQ": 23, "IS": 26, "IT": 27,
    "JO": 30, "KW": 30, "KZ": 20, "LB": 28, "LC": 32, "LI": 21, "LT": 20, "LU": 20,
    "LV": 21, "LY": 25, "MC": 27, "MD": 24, "ME": 22, "MK": 19, "MN": 20, "MR": 27,
    "MT": 31, "MU": 30, "NI": 28, "NL": 18, "NO": 15, "OM": 23, "PK": 24, "PL": 28,
    "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22, "RU": 33, "SA": 24, "SC": 31,
    "SD": 18, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "SO": 23, "ST": 25, "SV": 28,
    "TL": 23, "TN": 24, "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20, "YE": 30,
}  # fmt: skip

_IBAN_RE = re.compile(r"(?<![A-Za-z0-9])[A-Z]{2}[0-9]{2}(?: ?[A-Z0-9]){10,30}", re.ASCII)


def iban_ok(iban: str) -> bool:
    """A compact IBAN has its country's length and a mod-97 remainder of 1."""
    if _IBAN_LENGTHS.get(iban[:2]) != len(iban):
        return False
    moved = iban[4:] + iban[:4]
    return int("".join(str(int(c, 36)) for c in moved)) % 97 == 1


def _iban(match: re.Match[str], text: str, _keyed: bool) -> Span | None:
    length = _IBAN_LENGTHS.get(match.group()[:2])
    if length is None:
        return None
    start, kept, end = match.start(), 0, match.start()
    for end in range(start, match.end()):
        if text[end] != " ":
            kept += 1
            if kept == length:
                break
    if kept != length:
        return None
    end += 1
    if end < len(text) and text[end].isalnum():
        return None
    return (start, end) if iban_ok(text[start:end].replace(" ", "")) else None


IBAN = RegexRule(
    "iban",
    _IBAN_RE,
    prefilter=r"[A-Z]{2}[0-9]{2} ?[A-Z0-9]",
    description="IBANs (country length and mod-97 checked)",
    validate=_iban,
)

# --- US social security number -------------------------------------------------------------

_SSN_RE = re.compile(r"(?<![\w.-])([0-9]{3})-([0-9]{2})-([0-9]{4})(?![\w-])", re.ASCII)


def _ssn(match: re.Match[str], _text: str, _keyed: bool) -> Span | None:
    area, group, serial = match.groups()
    if area in ("000", "666") or area[0] == "9" or group == "00" or serial == "0000":
        return None
    return match.span()


SSN = RegexRule(
    "ssn",
    _SSN_RE,
    prefilter=r"[0-9]{3}-[0-9]{2}-[0-9]{4}",
    description="US social security numbers (123-45-6789)",
    validate=_ssn,
)

# --- phone numbers -------------------------------------------------------------------------

_PHONE_RE = re.compile(
    r"(?<![\w+.-])(\+?\(?[0-9][0-9 ().\-/]{5,24}[0-9])"
    r"(?:[ ]?(?:x|ext\.?|#)[ ]?[0-9]{1,6})?(?![\w-]|\.[0-9])",
    re.ASCII,
)
# Shapes that are phone numbers without a keyword nearby.
_PHONE_SHAPES = re.compile(
    r"\+.*"  # international: +<country> ...
    r"|.*\([0-9]{2,5}\).*"  # an area code in parentheses
    r"|(?:1[-. ]|001-)?[0-9]{3}[-. ][0-9]{3}[-. ][0-9]{4}"  # North America
    r"|0[0-9]{1,4}(?:[- ][0-9]{2,8}){1,4}"  # national trunk prefix 0: FR, DE, NL, IT, JP
    r"|[0-9]{2} [0-9]{4,5}-[0-9]{4}",  # Brazil
    re.ASCII,
)
_MONTH = r"(?:0?[1-9]|1[0-2])"
_DAY = r"(?:0?[1-9]|[12][0-9]|3[01])"
_YEAR = r"(?:19|20)[0-9]{2}"
_DATE_RE = re.compile(
    rf"{_YEAR}([-/.]){_MONTH}\1{_DAY}(?![0-9])"
    rf"|(?<![0-9]){_DAY}([-/.]){_MONTH}\2{_YEAR}|(?<![0-9]){_MONTH}([-/.]){_DAY}\3{_YEAR}",
    re.ASCII,
)
_IPV4_LIKE_RE = re.compile(r"[0-9]{1,3}(?:\.[0-9]{1,3}){3}", re.ASCII)
_PHONE_WORDS_RE = re.compile(
    r"\b(?:phone|telephone|tel|mobile|cell|fax|sms|msisdn|whatsapp|texted|dial(?:ed|ing)?"
    r"|call(?:s|ed|ing|back|er)?)\b",
    re.IGNORECASE,
)
_PHONE_CONTEXT_CHARS = 32


_NANP_DOTS_RE = re.compile(r"(?:1\.)?[0-9]{3}\.[0-9]{3}\.[0-9]{4}", re.ASCII)
_PHONE_MAX_SEPARATORS = 7
_PHONE_MAX_CHARS = 22


def _phone(match: re.Match[str], text: str, keyed: bool) -> Span | None:
    core = match.group(1)
    if len(core) > _PHONE_MAX_CHARS:  # longer runs of digits are tables, not one number
        return None
    separators = sum(map(core.count, " ().-/"))
    digits = len(core) - separators - core.startswith("+")
    if not 7 <= digits <= 15 or separators > _PHONE_MAX_SEPARATORS:
        return None
    if _DATE_RE.search(core) or _IPV4_LIKE_RE.search(core):
        return None
    if "." in core and not _NANP_DOTS_RE.fullmatch(core):
        return None
    if (core.startswith("+") and digits < 8) or core.count("(") != core.count(")"):
        return None
    if keyed or _PHONE_SHAPES.fullmatch(core):
        return match.span()
    start, end = match.span()
    around = text[max(0, start - _PHONE_CONTEXT_CHARS) : end + _PHONE_CONTEXT_CHARS]
    return match.span() if _PHONE_WORDS_RE.search(around) else None


_PHONE_GATE = (
    r"\+[0-9]|\([0-9]{2,5}\)|[0-9]{3}[-. ][0-9]{3}[-. ][0-9]{4}|0[0-9]{1,4}[- ][0-9]{2}"
    r"|[0-9]{2} [0-9]{4,5}-[0-9]{4}"
)
_PHONE_WORDS = (
    "phone", "tel", "mobile", "cell", "fax", "sms", "msisdn", "whatsapp", "texted", "dial",
    "call",
)  # fmt: skip
PHONE = RegexRule(
    "phone",
    _PHONE_RE,
    prefilter=rf"{_PHONE_GATE}|(?i:{'|'.join(_PHONE_WORDS)})",
    description="phone numbers: E.164 and common national formats, bare digits after a phone "
    "keyword or under a phone key",
    validate=_phone,
    needles=_PHONE_WORDS,
    gate=_PHONE_GATE,
)

# --- IP addresses ----------------------------------------------------------------------------

_IPV4_RE = re.compile(r"(?<![\w.])[0-9]{1,3}(?:\.[0-9]{1,3}){3}(?![\w]|\.[0-9])", re.ASCII)
_VERSION_BEFORE_RE = re.compile(r"(?:version|ver|release|build|v)[\s:=\"']*$", re.IGNORECASE | re.ASCII)


def _ipv4(match: re.Match[str], text: str, _keyed: bool) -> Span | None:
    try:
        address = ipaddress.IPv4Address(match.group())
    except ValueError:
        return None
    if not address.is_global:
        return None
    start = match.start()
    if _VERSION_BEFORE_RE.search(text, max(0, start - 16), start):
        return None
    before = text[max(0, start - 2) : start]
    if before[-1:] == "/" and before != "//":
        return None  # a product version (Chrome/120.0.0.0), not a URL host
    if before[-1:] == ":" and before[:1].isalnum():
        return None  # an image tag (api:1.2.3.4), not an address
    return match.span()


IPV4 = RegexRule(
    "ipv4",
    _IPV4_RE,
    prefilter=r"[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}",
    description="public IPv4 addresses (not private, loopback or reserved ones, nor "
    "version strings after 'version')",
    validate=_ipv4,
)


class Ipv6Rule(Rule):
    """IPv6 addresses: maximal runs of hex digits, colons and dots, checked by ipaddress."""

    name = "ipv6"
    description = "public IPv6 addresses (not loopback, link-local or unique-local ones)"
    prefilter = r"[0-9A-Fa-f]{0,4}:[0-9A-Fa-f]{0,4}:"
    needles = (":",)
    # Runs of hex digits, colons and dots holding "::" or seven colons; each run is
    # matched from its start only, so the backtracking inside a run stays linear.
    _run = re.compile(
        r"(?<![0-9A-Fa-f:.])(?:[0-9A-Fa-f:.]*::[0-9A-Fa-f:.]*|(?:[0-9A-Fa-f.]*:){7}[0-9A-Fa-f:.]*)"
    )
    _max_chars = 45

    def find(self, text: str, keyed: bool = False) -> Iterator[Span]:
        for match in self._run.finditer(text):
            start, end = match.span()
            value = match.group().rstrip(".")
            colons = value.count(":")
            if not 2 <= colons <= 7 or len(value) > self._max_chars or not value.strip(":"):
                continue
            if colons < 7 and "::" not in value:  # eight groups, or "::" for the zeros
                continue
            end = start + len(value)
            if (start and _word_char(text[start - 1])) or (end < len(text) and _word_char(text[end])):
                continue
            try:
                address = ipaddress.IPv6Address(value)
            except ValueError:
                continue
            mapped = address.ipv4_mapped
            if (mapped or address).is_global:
                yield start, end


def _word_char(char: str) -> bool:
    return char.isalnum() or char == "_"


IPV6 = Ipv6Rule()

# --- tokens and keys -------------------------------------------------------------------------

_JWT_RE = re.compile(r"(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*", re.ASCII)


def _jwt(match: re.Match[str], _text: str, _keyed: bool) -> Span | None:
    header = match.group().split(".", 1)[0]
    try:
        decoded = json.loads(base64.urlsafe_b64decode(header + "=" * (-len(header) % 4)))
    except (ValueError, binascii.Error):
        return None
    return match.span() if isinstance(decoded, dict) and "alg" in decoded else None


JWT = RegexRule(
    "jwt",
    _JWT_RE,
    prefilter=r"eyJ[A-Za-z0-9_-]+\.",
    description="JSON Web Tokens (the header must decode to JSON with 'alg')",
    validate=_jwt,
    needles=("eyj",),
)

_AWS_KEY_PREFIXES = "AKIA|ASIA|AIDA|AROA|AIPA|ANPA|ANVA|AGPA|ABIA|ACCA"
AWS_ACCESS_KEY_ID = RegexRule(
    "aws_access_key_id",
    re.compile(rf"(?<![A-Za-z0-9])(?:{_AWS_KEY_PREFIXES})[A-Z0-9]{{16}}(?![A-Za-z0-9])"),
    prefilter=rf"(?:{_AWS_KEY_PREFIXES})[A-Z0-9]{{16}}",
    description="AWS access key ids (AKIA..., ASIA...)",
)

AWS_SECRET_KEY = RegexRule(
    "aws_secret_key",
    re.compile(
        r"(?i:aws.?secret.?access.?key|aws.?secret.?key|secret.?access.?key|aws.?secret)"
        r"\\?[\"']?[ \t]{0,3}(?::=|=>|[:=])[ \t]{0,3}\\?[\"']?"
        r"([A-Za-z0-9/+]{40})(?![A-Za-z0-9/+=])",
        re.ASCII,
    ),
    prefilter=r"(?i:aws.?secret|secret.?access)",
    description="AWS secret access keys, after a keyword such as aws_secret_access_key",
    group=1,
    needles=("secret",),
)

_AUTH_RE = re.compile(
    r"(?<![\w-])(?i:(bearer)|(basic))[ \t]+([A-Za-z0-9._~+/-]+=*)(?![A-Za-z0-9._~+/=-])",
    re.ASCII,
)


def _auth(match: re.Match[str], _text: str, _keyed: bool) -> Span | None:
    token = match.group(3)
    if match.group(2) is not None:  # Basic: base64 of user:password
        if len(token) % 4:
            return None
        try:
            decoded = base64.b64decode(token, validate=True)
        except (ValueError, binascii.Error):
            return None
        return match.span(3) if b":" in decoded else None
    if len(token) < 8 or (token.isalpha() and (token.islower() or token.istitle())):
        return None
    if token.isalpha() and token.isupper():
        return None
    return match.span(3)


AUTH_TOKEN = RegexRule(
    "auth_token",
    _AUTH_RE,
    prefilter=r"(?i:bearer|basic)",
    description="Bearer and Basic credentials (Authorization header values)",
    validate=_auth,
    needles=("bearer", "basic"),
)

URL_PASSWORD = RegexRule(
    "url_password",
    re.compile(
        r"(?<![\w+.-])[A-Za-z][A-Za-z0-9+.-]{1,31}://[^\s/?#@:\"'<>]{0,256}:"
        r"([^\s/\"'<>]{1,256})@"
    ),
    prefilter=r":\\?/\\?/[^\s@]*@",
    description="passwords in URLs (scheme://user:password@host)",
    group=1,
    needles=("://",),
)


class PrivateKeyRule(Rule):
    """PEM private key blocks, up to their END line or, if it is missing, the end of text."""

    name = "private_key"
    description = "PEM private keys (RSA, EC, PKCS#8, OpenSSH, PGP blocks)"
    prefilter = r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY"
    needles = ("-----begin",)
    _begin = re.compile(r"-----BEGIN (?:[A-Z0-9]{1,16} ){0,3}PRIVATE KEY(?: BLOCK)?-----")

    def find(self, text: str, keyed: bool = False) -> Iterator[Span]:
        pos = 0
        while (match := self._begin.search(text, pos)) is not None:
            end = text.find("-----END ", match.end())
            if end < 0:
                yield match.start(), len(text)
                return
            close = text.find("-----", end + 9)
            end = len(text) if close < 0 else close + 5
            yield match.start(), end
            pos = end


PRIVATE_KEY = PrivateKeyRule()

# The rules that need nothing from a policy, by name.
STATIC_RULES: dict[str, Rule] = {
    rule.name: rule
    for rule in (
        PRIVATE_KEY, URL_PASSWORD, AUTH_TOKEN, JWT, AWS_ACCESS_KEY_ID, AWS_SECRET_KEY,
        EMAIL, CARD, IBAN, SSN, PHONE, IPV4, IPV6,
    )
}  # fmt: skip
