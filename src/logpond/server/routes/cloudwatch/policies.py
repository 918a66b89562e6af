"""Data protection policies: PutDataProtectionPolicy, GetDataProtectionPolicy,
DeleteDataProtectionPolicy. A stored document (added to the server's default policy) is
what the redaction stage applies to the group's new events."""

from __future__ import annotations

from typing import Any

from logpond.redact import Policy

from .protocol import GROUP_IDENTIFIER_RE, Call, in_thread, operation

__all__: list[str] = []

# CloudWatch's limit on a policy document.
MAX_POLICY_DOCUMENT_CHARS = 30_720


def _group(call: Call) -> tuple[str, str]:
    identifier = call.required_string("logGroupIdentifier", max_len=2048, pattern=GROUP_IDENTIFIER_RE)
    return call.identifier_to_name(identifier), identifier


@operation("PutDataProtectionPolicy")
async def put_data_protection_policy(call: Call) -> dict[str, Any]:
    name, identifier = _group(call)
    document = call.required_string("policyDocument", max_len=MAX_POLICY_DOCUMENT_CHARS)
    call.access.group(name)
    call.existing_group(name)
    policy = Policy.from_cloudwatch(document, base=call.svc.redaction.default)
    stored = await in_thread(call.svc.store.put_data_protection_policy, name, document)
    call.svc.redaction.set_group_policy(name, policy)
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
    call.svc.redaction.set_group_policy(name, None)
    return {}
