"""Log groups and streams: create, delete, describe; retention; KMS keys; deletion protection."""

from __future__ import annotations

from typing import Any

from logpond.model.errors import InvalidParameterError
from logpond.model.limits import MAX_LIST_LIMIT, MAX_TAGS_PER_GROUP
from logpond.model.names import LogGroupName, LogStreamName, validate_tags
from logpond.model.retention import RETENTION_DAYS
from logpond.store.base import LogGroup, LogStream, StreamOrder
from logpond.store.base import encode_token as store_token

from .protocol import (
    GROUP_IDENTIFIER_RE,
    LOG_GROUP_CLASSES,
    Call,
    ValidationError,
    decode_token,
    encode_token,
    in_thread,
    operation,
    validation,
)

__all__ = ["group_shape", "stream_shape"]

DEFAULT_DESCRIBE_LIMIT = 50
MAX_DESCRIBE_LIMIT = 50


def group_shape(
    call: Call, group: LogGroup, *, metric_filters: int, protection: str | None
) -> dict[str, Any]:
    """CloudWatch's LogGroup structure."""
    arn = call.group_arn(group.name)
    out: dict[str, Any] = {"logGroupName": group.name, "creationTime": group.created_ms}
    if group.retention_days is not None:
        out["retentionInDays"] = group.retention_days
    out["metricFilterCount"] = metric_filters
    out["arn"] = arn + ":*"
    out["storedBytes"] = group.stored_bytes
    if group.kms_key_id is not None:
        out["kmsKeyId"] = group.kms_key_id
    if protection is not None:
        out["dataProtectionStatus"] = protection
    out["logGroupClass"] = group.log_group_class
    out["logGroupArn"] = arn
    out["deletionProtectionEnabled"] = group.deletion_protection
    return out


def stream_shape(call: Call, stream: LogStream) -> dict[str, Any]:
    """CloudWatch's LogStream structure (event times omitted until the first event)."""
    out: dict[str, Any] = {"logStreamName": stream.name, "creationTime": stream.created_ms}
    if stream.first_event_ms is not None:
        out["firstEventTimestamp"] = stream.first_event_ms
    if stream.last_event_ms is not None:
        out["lastEventTimestamp"] = stream.last_event_ms
    if stream.last_ingestion_ms is not None:
        out["lastIngestionTime"] = stream.last_ingestion_ms
        out["uploadSequenceToken"] = str(stream.last_ingestion_ms).rjust(56, "4")
    out["arn"] = call.access.arns.stream(stream.group, stream.name)
    out["storedBytes"] = 0
    return out


def check_create_tags(tags: dict[str, Any] | None) -> dict[str, str]:
    if not tags:
        return {}
    if len(tags) > MAX_TAGS_PER_GROUP:
        raise validation(tags, "tags", f"have length less than or equal to {MAX_TAGS_PER_GROUP}")
    return validate_tags(tags)


@operation("CreateLogGroup")
async def create_log_group(call: Call) -> dict[str, Any]:
    name = call.required_group_name()
    call.access.group(name)
    kms = call.string("kmsKeyId", max_len=256)
    group_class = call.string("logGroupClass", enum=LOG_GROUP_CLASSES) or "STANDARD"
    protection = call.boolean("deletionProtectionEnabled") or False
    tags = check_create_tags(call.mapping("tags"))
    if name.startswith("aws/"):
        raise InvalidParameterError("Log group names starting with aws/ are reserved.")
    await in_thread(
        call.svc.store.create_group,
        LogGroupName(name),
        tags=tags,
        kms_key_id=kms,
        log_group_class=group_class,
        deletion_protection=protection,
    )
    return {}


@operation("DeleteLogGroup")
async def delete_log_group(call: Call) -> dict[str, Any]:
    name = call.required_group_name()
    call.access.group(name)
    group = call.existing_group(name)
    if group.deletion_protection:
        raise ValidationError(
            "Log group deletion protection is enabled; disable it with PutLogGroupDeletionProtection first."
        )
    await in_thread(call.svc.store.delete_group, name)
    return {}


@operation("PutLogGroupDeletionProtection")
async def put_deletion_protection(call: Call) -> dict[str, Any]:
    name = call.identifier_to_name(
        call.required_string("logGroupIdentifier", max_len=2048, pattern=GROUP_IDENTIFIER_RE)
    )
    call.access.group(name)
    enabled = call.boolean("deletionProtectionEnabled")
    if enabled is None:
        raise validation("null", "deletionProtectionEnabled", "not be null")
    call.existing_group(name)
    await in_thread(call.svc.store.update_group, name, deletion_protection=enabled)
    return {}


@operation("DescribeLogGroups")
async def describe_log_groups(call: Call) -> dict[str, Any]:
    prefix = call.group_name("logGroupNamePrefix", required=False)
    pattern = call.string("logGroupNamePattern", min_len=0, max_len=512, pattern=GROUP_IDENTIFIER_RE)
    identifiers = call.strings(
        "logGroupIdentifiers", min_items=1, max_items=50, item_max=2048, item_pattern=GROUP_IDENTIFIER_RE
    )
    group_class = call.string("logGroupClass", enum=LOG_GROUP_CLASSES)
    limit = call.integer("limit", minimum=1, maximum=MAX_DESCRIBE_LIMIT) or DEFAULT_DESCRIBE_LIMIT
    call.strings("accountIdentifiers", max_items=20)
    call.boolean("includeLinkedAccounts")
    after = decode_token(call.string("nextToken"))
    if after is not None and not isinstance(after, str):
        raise InvalidParameterError("The specified nextToken is invalid.")
    if prefix is not None and pattern is not None:
        raise InvalidParameterError(
            "LogGroup name prefix and LogGroup name pattern are mutually exclusive parameters."
        )
    if identifiers is not None and (prefix is not None or pattern is not None):
        raise InvalidParameterError(
            "logGroupIdentifiers cannot be combined with logGroupNamePrefix or logGroupNamePattern."
        )
    store = call.svc.store

    def matches(group: LogGroup) -> bool:
        if pattern and pattern not in group.name:
            return False
        if group_class is not None and group.log_group_class != group_class:
            return False
        return call.access.allows_group(group.name)

    def collect() -> tuple[list[LogGroup], bool]:
        if identifiers is not None:
            names = sorted({call.identifier_to_name(i) for i in identifiers})
            found = [
                g for n in names if (g := store.find_group(n)) is not None and (after is None or n > after)
            ]
            named = [g for g in found if matches(g)]
            return named[:limit], len(named) > limit
        chosen: list[LogGroup] = []
        token = store_token(after) if after is not None else None
        while True:
            page = store.list_groups(prefix=prefix, limit=MAX_LIST_LIMIT, next_token=token)
            chosen.extend(g for g in page.items if matches(g))
            if len(chosen) > limit or page.next_token is None:
                return chosen[:limit], len(chosen) > limit
            token = page.next_token

    groups, more = await in_thread(collect)
    counts = await in_thread(store.metric_filter_counts)
    out: list[dict[str, Any]] = []
    for group in groups:
        if pattern is not None:
            out.append(
                {
                    "logGroupName": group.name,
                    "creationTime": group.created_ms,
                    "arn": call.group_arn(group.name) + ":*",
                }
            )
            continue
        policy = await in_thread(store.get_data_protection_policy, group.name)
        protection = None if policy is None else ("ACTIVATED" if policy.document is not None else "DELETED")
        out.append(group_shape(call, group, metric_filters=counts.get(group.name, 0), protection=protection))
    body: dict[str, Any] = {"logGroups": out}
    if more:
        body["nextToken"] = encode_token(groups[-1].name)
    return body


@operation("PutRetentionPolicy")
async def put_retention_policy(call: Call) -> dict[str, Any]:
    name = call.required_group_name()
    call.access.group(name)
    days = call.integer("retentionInDays", required=True)
    if days not in RETENTION_DAYS:
        raise validation(
            days, "retentionInDays", f"satisfy enum value set: [{', '.join(str(d) for d in RETENTION_DAYS)}]"
        )
    call.existing_group(name)
    await in_thread(call.svc.store.update_group, name, retention_days=days)
    return {}


@operation("DeleteRetentionPolicy")
async def delete_retention_policy(call: Call) -> dict[str, Any]:
    name = call.required_group_name()
    call.access.group(name)
    call.existing_group(name)
    await in_thread(call.svc.store.update_group, name, retention_days=None)
    return {}


def _kms_target(call: Call) -> str | None:
    """The group of an Associate/DisassociateKmsKey call; ``None`` for query results."""
    name = call.group_name(required=False)
    resource = call.string("resourceIdentifier", max_len=2048)
    if (name is None) == (resource is None):
        raise InvalidParameterError("Exactly one of logGroupName or resourceIdentifier must be provided.")
    if resource is not None and ":query-result:" in resource:
        return None
    return name if name is not None else call.identifier_to_name(resource or "")


@operation("AssociateKmsKey")
async def associate_kms_key(call: Call) -> dict[str, Any]:
    key = call.required_string("kmsKeyId", max_len=256)
    name = _kms_target(call)
    if name is None:
        call.access.account()
        return {}
    call.access.group(name)
    call.existing_group(name)
    await in_thread(call.svc.store.update_group, name, kms_key_id=key)
    return {}


@operation("DisassociateKmsKey")
async def disassociate_kms_key(call: Call) -> dict[str, Any]:
    name = _kms_target(call)
    if name is None:
        call.access.account()
        return {}
    call.access.group(name)
    call.existing_group(name)
    await in_thread(call.svc.store.update_group, name, kms_key_id=None)
    return {}


# Streams


@operation("CreateLogStream")
async def create_log_stream(call: Call) -> dict[str, Any]:
    group = call.required_group_name()
    stream = call.required_stream_name()
    call.access.group(group)
    call.existing_group(group)
    await in_thread(call.svc.store.create_stream, group, LogStreamName(stream))
    return {}


@operation("DeleteLogStream")
async def delete_log_stream(call: Call) -> dict[str, Any]:
    group = call.required_group_name()
    stream = call.required_stream_name()
    call.access.group(group)
    call.existing_group(group)
    await in_thread(call.svc.store.delete_stream, group, stream)
    return {}


@operation("DescribeLogStreams")
async def describe_log_streams(call: Call) -> dict[str, Any]:
    group = call.group()
    prefix = call.stream_name("logStreamNamePrefix", required=False)
    order = call.string("orderBy", enum=("LogStreamName", "LastEventTime")) or "LogStreamName"
    descending = call.boolean("descending") or False
    limit = call.integer("limit", minimum=1, maximum=MAX_DESCRIBE_LIMIT) or DEFAULT_DESCRIBE_LIMIT
    token = call.string("nextToken")
    call.access.group(group)
    if prefix is not None and order == "LastEventTime":
        raise InvalidParameterError("Cannot order by LastEventTime with a logStreamNamePrefix.")
    call.existing_group(group)
    try:
        page = await in_thread(
            call.svc.store.list_streams,
            group,
            prefix=prefix,
            order=StreamOrder.NAME if order == "LogStreamName" else StreamOrder.LAST_EVENT_TIME,
            descending=descending,
            limit=limit,
            next_token=token,
        )
    except InvalidParameterError:
        raise InvalidParameterError("The specified nextToken is invalid.") from None
    body: dict[str, Any] = {"logStreams": [stream_shape(call, s) for s in page.items]}
    if page.next_token is not None:
        body["nextToken"] = page.next_token
    return body
