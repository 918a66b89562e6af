"""Data protection policies: PutDataProtectionPolicy, GetDataProtectionPolicy,
DeleteDataProtectionPolicy. Documents are validated and stored here; the redaction stage
is what masks data."""

from __future__ import annotations

from typing import Any

from logpond.model.data_protection import MAX_POLICY_DOCUMENT_CHARS, validate_policy_document

from .protocol import GROUP_IDENTIFIER_RE, Call, in_thread, operation

__all__: list[str] = []


def _group(call: Call) -> tuple[str, str]:
    identifier = call.required_string("logGroupIdentifier", max_len=2048, pattern=GROUP_IDENTIFIER_RE)
    return call.identifier_to_name(identifier), identifier


@operation("PutDataProtectionPolicy")
async def put_data_protection_policy(call: Call) -> dict[str, Any]:
    name, identifier = _group(call)
    document = call.required_string("policyDocument", max_len=MAX_POLICY_DOCUMENT_CHARS)
    call.access.group(name)
    call.existing_group(name)
    validate_policy_document(document)
    stored = await in_thread(call.svc.store.put_data_protection_policy, name, document)
    return {
        "logGroupIdentifier": identifier,
        "policyDocument": document,
        "lastUpdatedTime": stored.updated_ms,
    }


@operation("GetDataProtectionPolicy")
async def get_data_protection_policy(call: Call) -> dict[str, Any]:
    name, identifier = _group(call)
    call.access.group(name)
    call.existing_group(name)
    stored = await in_thread(call.svc.store.get_data_protection_policy, name)
    body: dict[str, Any] = {"logGroupIdentifier": identifier}
    if stored is not None and stored.document is not None:
        body["policyDocument"] = stored.document
        body["lastUpdatedTime"] = stored.updated_ms
    return body


@operation("DeleteDataProtectionPolicy")
async def delete_data_protection_policy(call: Call) -> dict[str, Any]:
    name, _ = _group(call)
    call.access.group(name)
    call.existing_group(name)
    await in_thread(call.svc.store.delete_data_protection_policy, name)
    return {}
