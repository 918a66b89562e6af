"""Tags on log groups: TagResource / UntagResource / ListTagsForResource (by ARN) and the
older name-based TagLogGroup / UntagLogGroup / ListTagsLogGroup."""

from __future__ import annotations

from typing import Any

from logpond.model.errors import ResourceNotFoundError
from logpond.model.limits import MAX_TAGS_PER_GROUP
from logpond.model.names import validate_tags

from .protocol import ARN_RE, Call, TooManyTagsError, in_thread, operation, validation

__all__: list[str] = []

_ARN_MEMBER = "resourceArn"


def _group_of_arn(call: Call) -> tuple[str, str]:
    """The log group a ``resourceArn`` names, and the ARN as given."""
    arn = call.required_string(_ARN_MEMBER, max_len=1011)
    match = ARN_RE.fullmatch(arn)
    if match is None or match.group(2) != call.svc.settings.auth.account_id:
        raise ResourceNotFoundError(f"The specified resource does not exist: {arn}")
    return match.group(3), arn


def _tags(call: Call) -> dict[str, str]:
    raw = call.mapping("tags", required=True) or {}
    if not raw:
        raise validation("{}", "tags", "have length greater than or equal to 1")
    if len(raw) > MAX_TAGS_PER_GROUP:
        raise validation(raw, "tags", f"have length less than or equal to {MAX_TAGS_PER_GROUP}")
    return validate_tags(raw)


async def _add(call: Call, group: str, tags: dict[str, str], resource: str) -> None:
    current = dict(call.existing_group(group).tags)
    merged = {**current, **tags}
    if len(merged) > MAX_TAGS_PER_GROUP:
        raise TooManyTagsError(
            f"A resource can have no more than {MAX_TAGS_PER_GROUP} tags.", members={"resourceName": resource}
        )
    await in_thread(call.svc.store.update_group, group, tags=merged)


async def _remove(call: Call, group: str, keys: list[str]) -> None:
    current = dict(call.existing_group(group).tags)
    remaining = {k: v for k, v in current.items() if k not in set(keys)}
    if remaining != current:
        await in_thread(call.svc.store.update_group, group, tags=remaining)


@operation("TagResource")
async def tag_resource(call: Call) -> dict[str, Any]:
    group, arn = _group_of_arn(call)
    call.access.group(group)
    await _add(call, group, _tags(call), arn)
    return {}


@operation("UntagResource")
async def untag_resource(call: Call) -> dict[str, Any]:
    group, _ = _group_of_arn(call)
    keys = call.strings("tagKeys", required=True, max_items=MAX_TAGS_PER_GROUP, item_max=128) or []
    call.access.group(group)
    await _remove(call, group, keys)
    return {}


@operation("ListTagsForResource")
async def list_tags_for_resource(call: Call) -> dict[str, Any]:
    group, _ = _group_of_arn(call)
    call.access.group(group)
    return {"tags": dict(call.existing_group(group).tags)}


@operation("TagLogGroup")
async def tag_log_group(call: Call) -> dict[str, Any]:
    group = call.required_group_name()
    call.access.group(group)
    await _add(call, group, _tags(call), call.group_arn(group))
    return {}


@operation("UntagLogGroup")
async def untag_log_group(call: Call) -> dict[str, Any]:
    group = call.required_group_name()
    keys = call.strings("tags", required=True, min_items=1, max_items=MAX_TAGS_PER_GROUP, item_max=128) or []
    call.access.group(group)
    await _remove(call, group, keys)
    return {}


@operation("ListTagsLogGroup")
async def list_tags_log_group(call: Call) -> dict[str, Any]:
    group = call.required_group_name()
    call.access.group(group)
    return {"tags": dict(call.existing_group(group).tags)}
