"""Policies: which rules run, how findings are masked, which keys are secrets or names.

A :class:`Policy` is immutable and checked when it is built: an unknown rule, a bad mask or
a custom regex that does not compile fails here, never at log time. It comes from code,
from the native dict form (what the config file holds, :meth:`Policy.from_dict`) or from a
CloudWatch data protection policy document (:meth:`Policy.from_cloudwatch`).
:class:`~logpond.redact.redactor.Redactor` compiles it into the matchers that run.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal, cast

from logpond.model.errors import InvalidParameterError

from .keys import DEFAULT_DENY_KEYS, DEFAULT_NAME_KEYS
from .masks import DEFAULT_MASKS, compile_mask
from .rules import DEFAULT_RULES, RULE_NAMES

__all__ = [
    "CLOUDWATCH_IDENTIFIERS",
    "DEFAULT_POLICY",
    "MAX_CUSTOM_IDENTIFIERS",
    "CustomIdentifier",
    "Mode",
    "Policy",
]

Mode = Literal["mask", "audit"]
_MODES: tuple[str, ...] = ("mask", "audit")

# CloudWatch managed data identifiers logpond implements, and the rules each one enables.
CLOUDWATCH_IDENTIFIERS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "EmailAddress": ("email",),
        "IpAddress": ("ipv4", "ipv6"),
        "AwsSecretKey": ("aws_secret_key",),
        "CreditCardNumber": ("card",),
        "Ssn-US": ("ssn",),
        "Name": ("name",),
        "PkcsPrivateKey": ("private_key",),
        "OpenSshPrivateKey": ("private_key",),
        "PgpPrivateKey": ("private_key",),
        **{f"PhoneNumber-{c}": ("phone",) for c in ("BR", "DE", "ES", "FR", "GB", "IT", "US")},
        **{f"BankAccountNumber-{c}": ("iban",) for c in ("DE", "ES", "FR", "GB", "IT")},
    }
)
# Managed identifiers CloudWatch has and logpond does not detect: named, but refused.
_CLOUDWATCH_UNSUPPORTED = frozenset(
    {
        "Address", "CreditCardExpiration", "CreditCardSecurityCode", "LatLong",
        "PuttyPrivateKey", "VehicleIdentificationNumber",
    }
)  # fmt: skip
# Country-suffixed managed identifier families (``DriversLicense-US``): custom names must
# not take them either.
_CLOUDWATCH_FAMILIES = frozenset(
    {
        "BankAccountNumber", "CepCode", "Cnpj", "CpfCode", "DriversLicense",
        "DrugEnforcementAgencyNumber", "ElectoralRollNumber", "HealthInsuranceCardNumber",
        "HealthInsuranceClaimNumber", "HealthInsuranceNumber", "HealthcareProcedureCode",
        "IndividualTaxIdentificationNumber", "InseeCode", "MedicareBeneficiaryNumber",
        "NationalDrugCode", "NationalIdentificationNumber", "NationalInsuranceNumber",
        "NationalProviderId", "NhsNumber", "PassportNumber", "PermanentResidenceNumber",
        "PersonalHealthNumber", "PhoneNumber", "PostalCode", "RgNumber",
        "SocialInsuranceNumber", "Ssn", "TaxId", "ZipCode",
    }
)  # fmt: skip
_ARN_RE = re.compile(r"arn:aws(?:-cn|-us-gov)?:dataprotection::aws:data-identifier/(.+)")
_CUSTOM_NAME_RE = re.compile(r"[A-Za-z0-9_-]{1,128}")
# What a CloudWatch custom identifier regex may contain (CloudWatch's own rule).
_CUSTOM_REGEX_RE = re.compile(r"[A-Za-z0-9_#=@/;,\- ^$?\[\]{}|\\*+.]{1,200}")
MAX_CUSTOM_IDENTIFIERS = 10
_MAX_DOCUMENT_CHARS = 30_720
_POLICY_VERSION = "2021-06-01"
_DOCUMENT_KEYS = ("name", "description", "version", "configuration", "statement")


@dataclass(frozen=True)
class CustomIdentifier:
    """A user's regular expression; findings are counted and masked under ``name``."""

    name: str
    regex: str

    def compile(self) -> re.Pattern[str]:
        """The compiled pattern; a bad or empty-matching regex is an ``InvalidParameterError``."""
        try:
            pattern = re.compile(self.regex)
        except re.error as exc:
            raise InvalidParameterError(
                "custom identifier regex does not compile",
                identifier=self.name,
                reason=str(exc),
            ) from None
        if pattern.search("") is not None:
            raise InvalidParameterError(
                "custom identifier regex matches the empty string", identifier=self.name
            )
        return pattern


@dataclass(frozen=True)
class Policy:
    """Enabled rules, masks, key lists, custom identifiers and mode: see ``docs/pii.md``."""

    rules: frozenset[str] = DEFAULT_RULES
    mode: Mode = "mask"
    masks: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_MASKS))
    deny_keys: tuple[str, ...] = DEFAULT_DENY_KEYS
    name_keys: tuple[str, ...] = DEFAULT_NAME_KEYS
    allow_keys: tuple[str, ...] = ()
    custom: tuple[CustomIdentifier, ...] = ()
    max_scan_chars: int | None = None
    name: str = ""
    description: str = ""
    findings_destination: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        set_(self, "rules", frozenset(self.rules))
        unknown = self.rules - set(RULE_NAMES)
        if unknown:
            raise _unknown("unknown redaction rule", sorted(unknown)[0], RULE_NAMES)
        if self.mode not in _MODES:
            raise _unknown("unknown redaction mode", str(self.mode), _MODES)
        set_(self, "masks", MappingProxyType({**DEFAULT_MASKS, **dict(self.masks)}))
        set_(self, "deny_keys", tuple(self.deny_keys))
        set_(self, "name_keys", tuple(self.name_keys))
        set_(self, "allow_keys", tuple(self.allow_keys))
        set_(self, "custom", tuple(self.custom))
        set_(self, "findings_destination", MappingProxyType(dict(self.findings_destination)))
        if self.max_scan_chars is not None and (
            isinstance(self.max_scan_chars, bool)
            or not isinstance(self.max_scan_chars, int)
            or self.max_scan_chars < 1
        ):
            raise InvalidParameterError(
                "max_scan_chars must be a positive integer or null", value=self.max_scan_chars
            )
        self._check_custom()
        types = {*RULE_NAMES, "secret", *(c.name for c in self.custom)}
        for type_name, style in self.masks.items():
            if type_name not in types:
                raise _unknown("mask for an unknown identifier type", type_name, sorted(types))
            compile_mask(type_name, style)

    def __hash__(self) -> int:
        """Equal policies hash alike, so a server can keep one ``Redactor`` per policy."""
        return hash(
            (
                self.rules, self.mode, tuple(sorted(self.masks.items())), self.deny_keys,
                self.name_keys, self.allow_keys, self.custom, self.max_scan_chars, self.name,
                self.description,
                json.dumps(dict(self.findings_destination), sort_keys=True, default=str),
            )
        )  # fmt: skip

    def _check_custom(self) -> None:
        seen: set[str] = set()
        for custom in self.custom:
            if not isinstance(custom, CustomIdentifier):
                raise InvalidParameterError("custom identifiers must be CustomIdentifier")
            if not _CUSTOM_NAME_RE.fullmatch(custom.name):
                raise InvalidParameterError(
                    "custom identifier name must be 1-128 of A-Z a-z 0-9 _ -", name=custom.name
                )
            if custom.name.lower() in {r.lower() for r in RULE_NAMES} | {"secret"}:
                raise InvalidParameterError(
                    "custom identifier name is a built-in rule name", name=custom.name
                )
            if custom.name in seen:
                raise InvalidParameterError("duplicate custom identifier", name=custom.name)
            seen.add(custom.name)
            custom.compile()

    # --- the native form ---------------------------------------------------------------------

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Policy:
        """Build a policy from the native form (see ``docs/pii.md``); defaults fill the rest."""
        if not isinstance(data, Mapping):
            raise InvalidParameterError("a redaction policy must be a mapping")
        allowed = (
            "mode", "rules", "enable", "disable", "masks", "deny_keys", "allow_keys",
            "name_keys", "custom", "max_scan_chars", "name", "description",
        )  # fmt: skip
        for key in data:
            if key not in allowed:
                raise _unknown("unknown redaction policy setting", str(key), allowed)
        if "rules" in data and ("enable" in data or "disable" in data):
            raise InvalidParameterError("give either rules, or enable and disable, not both")
        rules = set(_names(data["rules"], "rules")) if "rules" in data else set(DEFAULT_RULES)
        rules |= set(_names(data.get("enable", ()), "enable"))
        rules -= set(_names(data.get("disable", ()), "disable"))
        masks = data.get("masks", {})
        if not isinstance(masks, Mapping):
            raise InvalidParameterError("masks must map identifier types to styles")
        custom = data.get("custom", ())
        if not isinstance(custom, list | tuple):
            raise InvalidParameterError("custom must be a list of {name, regex}")
        return cls(
            rules=frozenset(rules),
            mode=cast(Mode, data.get("mode", "mask")),
            masks={str(k): v for k, v in masks.items()},
            deny_keys=(*DEFAULT_DENY_KEYS, *_names(data.get("deny_keys", ()), "deny_keys")),
            name_keys=(*DEFAULT_NAME_KEYS, *_names(data.get("name_keys", ()), "name_keys")),
            allow_keys=_names(data.get("allow_keys", ()), "allow_keys"),
            custom=tuple(_custom_from_dict(item) for item in custom),
            max_scan_chars=data.get("max_scan_chars"),
            name=str(data.get("name", "")),
            description=str(data.get("description", "")),
        )

    def to_dict(self) -> dict[str, Any]:
        """The native form of this policy.

        ``Policy.from_dict(p.to_dict()) == p`` for every policy whose key lists extend the
        built-in ones (every policy the native form can express).
        """
        extra_deny = [k for k in self.deny_keys if k not in DEFAULT_DENY_KEYS]
        extra_names = [k for k in self.name_keys if k not in DEFAULT_NAME_KEYS]
        out: dict[str, Any] = {"mode": self.mode, "rules": sorted(self.rules)}
        masks = {k: v for k, v in self.masks.items() if DEFAULT_MASKS.get(k) != v}
        if masks:
            out["masks"] = masks
        if extra_deny:
            out["deny_keys"] = extra_deny
        if extra_names:
            out["name_keys"] = extra_names
        if self.allow_keys:
            out["allow_keys"] = list(self.allow_keys)
        if self.custom:
            out["custom"] = [{"name": c.name, "regex": c.regex} for c in self.custom]
        if self.max_scan_chars is not None:
            out["max_scan_chars"] = self.max_scan_chars
        if self.name:
            out["name"] = self.name
        if self.description:
            out["description"] = self.description
        return out

    # --- the CloudWatch form -------------------------------------------------------------------

    @classmethod
    def from_cloudwatch(cls, document: str | Mapping[str, Any], *, base: Policy | None = None) -> Policy:
        """Build a policy from a CloudWatch data protection policy document.

        The document is checked as CloudWatch checks it: two statements, one ``Audit`` with a
        ``FindingsDestination`` and one ``Deidentify`` with an empty ``MaskConfig``, the same
        ``DataIdentifier`` list in both; managed identifiers by ARN, custom ones by name.
        Keys are read case-insensitively (PascalCase and camelCase both occur). Without
        ``base`` the policy runs exactly the listed identifiers; with ``base`` it adds them to
        ``base`` (so a group keeps, say, the default key denylist).
        """
        doc = _load_document(document)
        top = _ci(doc, "policy document", _DOCUMENT_KEYS)
        version = top.get("version", _POLICY_VERSION)
        if version != _POLICY_VERSION:
            raise InvalidParameterError("unsupported data protection policy version", version=version)
        customs = _cloudwatch_custom(top.get("configuration"))
        statements = top.get("statement")
        if not isinstance(statements, list) or len(statements) != 2:
            raise InvalidParameterError("a data protection policy has exactly two statements")
        ops: dict[str, tuple[list[str], dict[str, Any]]] = {}
        for statement in statements:
            op, ids, body = _cloudwatch_statement(statement)
            if op in ops:
                raise InvalidParameterError(
                    "a data protection policy needs one Audit and one Deidentify statement"
                )
            ops[op] = (ids, body)
        audit_ids, audit = ops["audit"]
        deidentify_ids, _ = ops["deidentify"]
        if sorted(audit_ids) != sorted(deidentify_ids):
            raise InvalidParameterError(
                "the Audit and Deidentify statements must list the same data identifiers"
            )
        rules: set[str] = set()
        used: list[CustomIdentifier] = []
        for ident in audit_ids:
            arn = _ARN_RE.fullmatch(ident)
            if arn is not None:
                rules.update(_managed_rules(arn.group(1)))
            elif ident in customs:
                if customs[ident] not in used:
                    used.append(customs[ident])
            else:
                raise InvalidParameterError(
                    "data identifier is neither a managed identifier ARN nor a custom "
                    "identifier defined in Configuration",
                    identifier=ident,
                )
        start = base if base is not None else cls(rules=frozenset())
        own_custom = {c.name for c in start.custom}
        return cls(
            rules=start.rules | rules,
            mode=start.mode,
            masks=start.masks,
            deny_keys=start.deny_keys,
            name_keys=start.name_keys,
            allow_keys=start.allow_keys,
            custom=(*start.custom, *(c for c in used if c.name not in own_custom)),
            max_scan_chars=start.max_scan_chars,
            name=str(top.get("name", "")),
            description=str(top.get("description", "")),
            findings_destination=audit["findingsdestination"],
        )


DEFAULT_POLICY = Policy()


# --- helpers of the two forms ---------------------------------------------------------------


def _unknown(message: str, value: str, choices: Iterable[str]) -> InvalidParameterError:
    close = difflib.get_close_matches(value, list(choices), n=1)
    details: dict[str, Any] = {"value": value}
    if close:
        details["did_you_mean"] = close[0]
    return InvalidParameterError(message, **details)


def _names(value: object, setting: str) -> tuple[str, ...]:
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise InvalidParameterError(f"{setting} must be a list of names")
    items = tuple(value)
    for item in items:
        if not isinstance(item, str) or not item:
            raise InvalidParameterError(f"{setting} must be a list of names", value=repr(item))
    return items


def _custom_from_dict(item: object) -> CustomIdentifier:
    if not isinstance(item, Mapping) or set(item) - {"name", "regex"} or "regex" not in item:
        raise InvalidParameterError("a custom identifier is {name, regex}", value=repr(item))
    name, regex = item.get("name"), item.get("regex")
    if not isinstance(name, str) or not isinstance(regex, str):
        raise InvalidParameterError("custom identifier name and regex must be strings")
    return CustomIdentifier(name, regex)


def _load_document(document: str | Mapping[str, Any]) -> Mapping[str, Any]:
    if isinstance(document, str):
        if len(document) > _MAX_DOCUMENT_CHARS:
            raise InvalidParameterError(
                "policy document is too long", length=len(document), max=_MAX_DOCUMENT_CHARS
            )
        try:
            document = json.loads(document)
        except json.JSONDecodeError as exc:
            raise InvalidParameterError(
                "policy document is not valid JSON", line=exc.lineno, column=exc.colno
            ) from None
    if not isinstance(document, Mapping):
        raise InvalidParameterError("policy document must be a JSON object")
    return document


def _ci(obj: object, what: str, allowed: tuple[str, ...]) -> dict[str, Any]:
    """An object's keys lowercased, refusing keys outside ``allowed`` and duplicates."""
    if not isinstance(obj, Mapping):
        raise InvalidParameterError(f"{what} must be an object")
    out: dict[str, Any] = {}
    for key, value in obj.items():
        low = str(key).lower()
        if low not in allowed:
            raise _unknown(f"unknown key in {what}", str(key), allowed)
        if low in out:
            raise InvalidParameterError(f"duplicate key in {what}", key=str(key))
        out[low] = value
    return out


def _cloudwatch_custom(configuration: object) -> dict[str, CustomIdentifier]:
    if configuration is None:
        return {}
    config = _ci(configuration, "Configuration", ("customdataidentifier",))
    items = config.get("customdataidentifier", [])
    if not isinstance(items, list):
        raise InvalidParameterError("CustomDataIdentifier must be a list")
    if len(items) > MAX_CUSTOM_IDENTIFIERS:
        raise InvalidParameterError(
            "too many custom data identifiers", count=len(items), max=MAX_CUSTOM_IDENTIFIERS
        )
    out: dict[str, CustomIdentifier] = {}
    for item in items:
        entry = _ci(item, "CustomDataIdentifier", ("name", "regex"))
        name, regex = entry.get("name"), entry.get("regex")
        if not isinstance(name, str) or not _CUSTOM_NAME_RE.fullmatch(name):
            raise InvalidParameterError(
                "custom data identifier name must be 1-128 of A-Z a-z 0-9 _ -", name=repr(name)
            )
        if (
            name in CLOUDWATCH_IDENTIFIERS
            or name in _CLOUDWATCH_UNSUPPORTED
            or name.split("-", 1)[0] in _CLOUDWATCH_FAMILIES
        ):
            raise InvalidParameterError("custom data identifier name is a managed identifier name", name=name)
        if not isinstance(regex, str) or not _CUSTOM_REGEX_RE.fullmatch(regex):
            raise InvalidParameterError(
                "custom data identifier regex must be 1-200 characters of letters, digits, "
                "_ # = @ / ; , - space and ^ $ ? [ ] { } | \\ * + .",
                name=name,
            )
        if name in out:
            raise InvalidParameterError("duplicate custom data identifier", name=name)
        out[name] = CustomIdentifier(name, regex)
    return out


def _cloudwatch_statement(statement: object) -> tuple[str, list[str], dict[str, Any]]:
    body = _ci(statement, "Statement", ("sid", "dataidentifier", "operation"))
    ids = body.get("dataidentifier")
    if not isinstance(ids, list) or not ids or not all(isinstance(i, str) and i for i in ids):
        raise InvalidParameterError("DataIdentifier must be a non-empty list of strings")
    if len(set(ids)) != len(ids):
        raise InvalidParameterError("DataIdentifier lists an identifier twice")
    operation = _ci(body.get("operation"), "Operation", ("audit", "deidentify"))
    if len(operation) != 1:
        raise InvalidParameterError("a statement has exactly one operation")
    op, value = next(iter(operation.items()))
    if op == "audit":
        audit = _ci(value, "Audit", ("findingsdestination",))
        if "findingsdestination" not in audit:
            raise InvalidParameterError("Audit needs a FindingsDestination object")
        _findings_destination(audit["findingsdestination"])
        return op, ids, audit
    deidentify = _ci(value, "Deidentify", ("maskconfig",))
    if deidentify.get("maskconfig") != {}:
        raise InvalidParameterError("Deidentify needs MaskConfig, and it must be {}")
    return op, ids, deidentify


def _findings_destination(value: object) -> None:
    places = {"cloudwatchlogs": "loggroup", "firehose": "deliverystream", "s3": "bucket"}
    dest = _ci(value, "FindingsDestination", tuple(places))
    for place, inner in dest.items():
        entry = _ci(inner, place, (places[place],))
        target = entry.get(places[place])
        if not isinstance(target, str) or not target:
            raise InvalidParameterError("a findings destination needs a name", destination=place)


def _managed_rules(name: str) -> tuple[str, ...]:
    rules = CLOUDWATCH_IDENTIFIERS.get(name)
    if rules is not None:
        return rules
    if name in _CLOUDWATCH_UNSUPPORTED or name.split("-", 1)[0] in _CLOUDWATCH_FAMILIES:
        raise InvalidParameterError(
            "managed data identifier is not supported by logpond",
            identifier=name,
            supported=sorted(CLOUDWATCH_IDENTIFIERS),
        )
    raise _unknown("unknown managed data identifier", name, CLOUDWATCH_IDENTIFIERS)
