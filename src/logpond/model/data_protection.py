"""CloudWatch Logs data protection policy documents: the rules a document must follow.

A document names data identifiers (managed ones by ARN, custom ones by name with a regex)
and has exactly two statements over the same identifiers: one ``Audit`` (with a
``FindingsDestination`` object, possibly empty) and one ``Deidentify`` whose ``MaskConfig``
is ``{}``. Keys are read without regard to case (AWS's examples use PascalCase, the CDK
emits camelCase). Only validation lives here; masking is the redaction stage's work.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from .errors import InvalidParameterError

__all__ = ["MANAGED_IDENTIFIERS", "MAX_POLICY_DOCUMENT_CHARS", "validate_policy_document"]

MAX_POLICY_DOCUMENT_CHARS = 30_720
MAX_CUSTOM_IDENTIFIERS = 10
MANAGED_PREFIX = "arn:aws:dataprotection::aws:data-identifier/"

# AWS's managed data identifiers (country variants included).
MANAGED_IDENTIFIERS = frozenset(
    [
        "Address",
        "AwsSecretKey",
        "BankAccountNumber-DE",
        "BankAccountNumber-ES",
        "BankAccountNumber-FR",
        "BankAccountNumber-GB",
        "BankAccountNumber-IT",
        "BankAccountNumber-US",
        "CepCode-BR",
        "Cnpj-BR",
        "CpfCode-BR",
        "CreditCardExpiration",
        "CreditCardNumber",
        "CreditCardSecurityCode",
        "DriversLicense-AT",
        "DriversLicense-AU",
        "DriversLicense-BE",
        "DriversLicense-BG",
        "DriversLicense-CA",
        "DriversLicense-CY",
        "DriversLicense-CZ",
        "DriversLicense-DE",
        "DriversLicense-DK",
        "DriversLicense-EE",
        "DriversLicense-ES",
        "DriversLicense-FI",
        "DriversLicense-FR",
        "DriversLicense-GB",
        "DriversLicense-GR",
        "DriversLicense-HR",
        "DriversLicense-HU",
        "DriversLicense-IE",
        "DriversLicense-IT",
        "DriversLicense-LT",
        "DriversLicense-LU",
        "DriversLicense-LV",
        "DriversLicense-MT",
        "DriversLicense-NL",
        "DriversLicense-PL",
        "DriversLicense-PT",
        "DriversLicense-RO",
        "DriversLicense-SE",
        "DriversLicense-SI",
        "DriversLicense-SK",
        "DriversLicense-US",
        "DrugEnforcementAgencyNumber-US",
        "ElectoralRollNumber-GB",
        "EmailAddress",
        "HealthInsuranceCardNumber-EU",
        "HealthInsuranceClaimNumber-US",
        "HealthInsuranceNumber-FR",
        "HealthcareProcedureCode-US",
        "IndividualTaxIdentificationNumber-US",
        "InseeCode-FR",
        "IpAddress",
        "LatLong",
        "MedicareBeneficiaryNumber-US",
        "Name",
        "NationalDrugCode-US",
        "NationalIdentificationNumber-DE",
        "NationalIdentificationNumber-ES",
        "NationalIdentificationNumber-IT",
        "NationalInsuranceNumber-GB",
        "NationalProviderId-US",
        "NhsNumber-GB",
        "NieNumber-ES",
        "NifNumber-ES",
        "OpenSshPrivateKey",
        "PassportNumber-CA",
        "PassportNumber-DE",
        "PassportNumber-ES",
        "PassportNumber-FR",
        "PassportNumber-GB",
        "PassportNumber-IT",
        "PassportNumber-US",
        "PermanentResidenceNumber-CA",
        "PersonalHealthNumber-CA",
        "PgpPrivateKey",
        "PhoneNumber",
        "PhoneNumber-BR",
        "PhoneNumber-DE",
        "PhoneNumber-ES",
        "PhoneNumber-FR",
        "PhoneNumber-GB",
        "PhoneNumber-IT",
        "PhoneNumber-US",
        "PkcsPrivateKey",
        "PostalCode-CA",
        "PuttyPrivateKey",
        "RgNumber-BR",
        "SocialInsuranceNumber-CA",
        "Ssn-ES",
        "Ssn-US",
        "TaxId-DE",
        "TaxId-ES",
        "TaxId-FR",
        "TaxId-GB",
        "VehicleIdentificationNumber",
        "ZipCode-US",
    ]
)
_CUSTOM_NAME_RE = re.compile(r"[A-Za-z0-9_-]{1,128}")
MAX_CUSTOM_REGEX_CHARS = 200


def _get(obj: Mapping[str, Any], key: str) -> Any:
    """A member by name, case-insensitively."""
    wanted = key.lower()
    for name, value in obj.items():
        if isinstance(name, str) and name.lower() == wanted:
            return value
    return None


def _bad(reason: str) -> InvalidParameterError:
    return InvalidParameterError(f"Invalid data protection policy document: {reason}")


def _identifiers(statement: Mapping[str, Any], custom: set[str]) -> frozenset[str]:
    ids = _get(statement, "DataIdentifier")
    if not isinstance(ids, list) or not ids or not all(isinstance(i, str) for i in ids):
        raise _bad("each statement needs a non-empty DataIdentifier list")
    for identifier in ids:
        if identifier.startswith(MANAGED_PREFIX):
            if identifier[len(MANAGED_PREFIX) :] not in MANAGED_IDENTIFIERS:
                raise _bad(f"unknown managed data identifier {identifier}")
        elif identifier not in custom:
            raise _bad(f"data identifier {identifier} is neither a managed identifier ARN nor a custom one")
    return frozenset(ids)


def _custom_identifiers(document: Mapping[str, Any]) -> set[str]:
    configuration = _get(document, "Configuration")
    if configuration is None:
        return set()
    if not isinstance(configuration, Mapping):
        raise _bad("Configuration must be an object")
    entries = _get(configuration, "CustomDataIdentifier") or []
    if not isinstance(entries, list) or len(entries) > MAX_CUSTOM_IDENTIFIERS:
        raise _bad(f"CustomDataIdentifier must be a list of at most {MAX_CUSTOM_IDENTIFIERS} entries")
    names: set[str] = set()
    for entry in entries:
        if not isinstance(entry, Mapping):
            raise _bad("each CustomDataIdentifier must be an object")
        name, regex = _get(entry, "Name"), _get(entry, "Regex")
        if not isinstance(name, str) or not _CUSTOM_NAME_RE.fullmatch(name):
            raise _bad("custom identifier names are 1-128 letters, digits, _ or -")
        if name in MANAGED_IDENTIFIERS:
            raise _bad(f"custom identifier {name} has the name of a managed identifier")
        if not isinstance(regex, str) or not 1 <= len(regex) <= MAX_CUSTOM_REGEX_CHARS:
            raise _bad(f"custom identifier {name} needs a regex of 1-{MAX_CUSTOM_REGEX_CHARS} characters")
        try:
            re.compile(regex)
        except re.error as exc:
            raise _bad(f"custom identifier {name} has an invalid regex: {exc}") from None
        names.add(name)
    return names


def validate_policy_document(text: str) -> dict[str, Any]:
    """Parse and check a policy document; returns it parsed, or raises InvalidParameterError."""
    if len(text) > MAX_POLICY_DOCUMENT_CHARS:
        raise _bad(f"longer than {MAX_POLICY_DOCUMENT_CHARS} characters")
    try:
        document = json.loads(text)
    except ValueError:
        raise _bad("not valid JSON") from None
    if not isinstance(document, dict):
        raise _bad("must be a JSON object")
    custom = _custom_identifiers(document)
    statements = _get(document, "Statement")
    if not isinstance(statements, list) or len(statements) != 2:
        raise _bad("exactly two statements are required: one Audit and one Deidentify")
    operations: dict[str, frozenset[str]] = {}
    for statement in statements:
        if not isinstance(statement, Mapping):
            raise _bad("each statement must be an object")
        operation = _get(statement, "Operation")
        if not isinstance(operation, Mapping) or len(operation) != 1:
            raise _bad("each statement needs one Operation: Audit or Deidentify")
        kind = next(iter(operation)).lower()
        body = next(iter(operation.values()))
        if kind == "audit":
            if not isinstance(body, Mapping) or not isinstance(_get(body, "FindingsDestination"), Mapping):
                raise _bad("the Audit operation needs a FindingsDestination object")
        elif kind == "deidentify":
            if not isinstance(body, Mapping) or _get(body, "MaskConfig") != {}:
                raise _bad("the Deidentify operation needs an empty MaskConfig")
        else:
            raise _bad(f"unknown operation {next(iter(operation))}")
        if kind in operations:
            raise _bad("exactly one Audit and one Deidentify statement are required")
        operations[kind] = _identifiers(statement, custom)
    if operations["audit"] != operations["deidentify"]:
        raise _bad("the Audit and Deidentify statements must name the same data identifiers")
    return document
