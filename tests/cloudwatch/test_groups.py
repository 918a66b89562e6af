"""Log groups, streams, retention, tags, KMS keys and deletion protection through boto3."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from ..conftest import unique_group
from .conftest import error_code, now_ms

ACCOUNT = "000000000000"


def arn(name: str) -> str:
    return f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:{name}"


def raises(code: str, call: Any, **kwargs: Any) -> str:
    with pytest.raises(ClientError) as caught:
        call(**kwargs)
    assert error_code(caught.value) == code, caught.value
    return str(caught.value)


def test_create_describe_delete_group(logs: Any) -> None:
    """A created group is described with CloudWatch's fields and is gone after deletion."""
    name = unique_group("/cw")
    logs.create_log_group(
        logGroupName=name,
        tags={"Env": "staging"},
        kmsKeyId="arn:aws:kms:us-east-1:1:key/k",
        logGroupClass="STANDARD",
    )
    [group] = logs.describe_log_groups(logGroupNamePrefix=name)["logGroups"]
    assert group["logGroupName"] == name
    assert group["arn"] == arn(name) + ":*"
    assert group["logGroupArn"] == arn(name)
    assert group["kmsKeyId"] == "arn:aws:kms:us-east-1:1:key/k"
    assert group["metricFilterCount"] == 0
    assert group["storedBytes"] == 0
    assert group["logGroupClass"] == "STANDARD"
    assert "retentionInDays" not in group
    assert abs(group["creationTime"] - now_ms()) < 60_000
    assert logs.list_tags_for_resource(resourceArn=arn(name))["tags"] == {"Env": "staging"}
    logs.delete_log_group(logGroupName=name)
    assert logs.describe_log_groups(logGroupNamePrefix=name)["logGroups"] == []


def test_create_group_errors(logs: Any) -> None:
    """Existing names, bad characters, reserved prefixes, bad classes and too long names are refused."""
    name = unique_group("/cw")
    logs.create_log_group(logGroupName=name)
    assert "already exists" in raises(
        "ResourceAlreadyExistsException", logs.create_log_group, logGroupName=name
    )
    raises("InvalidParameterException", logs.create_log_group, logGroupName="/bad name")
    raises("InvalidParameterException", logs.create_log_group, logGroupName="aws/lambda/x")
    raises("InvalidParameterException", logs.create_log_group, logGroupName="/" + "x" * 512)
    raises("InvalidParameterException", logs.create_log_group, logGroupName=name + "c", logGroupClass="CHEAP")
    tags = {f"k{i}": "v" for i in range(51)}
    raises("InvalidParameterException", logs.create_log_group, logGroupName=name + "t", tags=tags)


def test_delete_missing_group(logs: Any) -> None:
    """Deleting a group that does not exist is ResourceNotFoundException."""
    raises("ResourceNotFoundException", logs.delete_log_group, logGroupName=unique_group("/cw"))


def test_delete_removes_tags_and_filters(logs: Any) -> None:
    """A group re-created under the same name starts without the old tags and metric filters."""
    name = unique_group("/cw")
    logs.create_log_group(logGroupName=name, tags={"a": "1"})
    logs.put_metric_filter(
        logGroupName=name,
        filterName="errors",
        filterPattern="ERROR",
        metricTransformations=[{"metricName": "E", "metricNamespace": "N", "metricValue": "1"}],
    )
    logs.delete_log_group(logGroupName=name)
    logs.create_log_group(logGroupName=name)
    assert logs.list_tags_log_group(logGroupName=name)["tags"] == {}
    assert logs.describe_metric_filters(logGroupName=name)["metricFilters"] == []


def test_deletion_protection(logs: Any) -> None:
    """A protected group cannot be deleted until protection is turned off."""
    name = unique_group("/cw")
    logs.create_log_group(logGroupName=name, deletionProtectionEnabled=True)
    assert logs.describe_log_groups(logGroupNamePrefix=name)["logGroups"][0]["deletionProtectionEnabled"]
    raises("ValidationException", logs.delete_log_group, logGroupName=name)
    logs.put_log_group_deletion_protection(logGroupIdentifier=name, deletionProtectionEnabled=False)
    logs.delete_log_group(logGroupName=name)


def test_describe_groups_paging_order_prefix_and_pattern(logs: Any) -> None:
    """Groups come in name order, 'limit' at a time; prefix and pattern select them."""
    base = unique_group("/page")
    names = [f"{base}/{c}" for c in "edcba"]
    for name in names:
        logs.create_log_group(logGroupName=name)
    seen: list[str] = []
    token = None
    while True:
        kwargs: dict[str, Any] = {"logGroupNamePrefix": base, "limit": 2}
        if token:
            kwargs["nextToken"] = token
        page = logs.describe_log_groups(**kwargs)
        assert len(page["logGroups"]) <= 2
        seen.extend(g["logGroupName"] for g in page["logGroups"])
        token = page.get("nextToken")
        if not token:
            break
    assert seen == sorted(names)
    paginated = [
        g["logGroupName"]
        for p in logs.get_paginator("describe_log_groups").paginate(
            logGroupNamePrefix=base, PaginationConfig={"PageSize": 3}
        )
        for g in p["logGroups"]
    ]
    assert paginated == sorted(names)
    by_pattern = logs.describe_log_groups(logGroupNamePattern=base.split("/")[-1])["logGroups"]
    assert [g["logGroupName"] for g in by_pattern] == sorted(names)
    assert set(by_pattern[0]) == {"logGroupName", "creationTime", "arn"}
    by_id = logs.describe_log_groups(logGroupIdentifiers=[names[0], arn(names[1])])["logGroups"]
    assert [g["logGroupName"] for g in by_id] == sorted(names[:2])
    assert logs.describe_log_groups(logGroupNamePrefix=base + "/zzz")["logGroups"] == []


def test_describe_groups_errors(logs: Any) -> None:
    """Prefix with pattern, a bad limit, a bad token and a bad class are InvalidParameterException."""
    raises(
        "InvalidParameterException",
        logs.describe_log_groups,
        logGroupNamePrefix="/a",
        logGroupNamePattern="a",
    )
    raises("InvalidParameterException", logs.describe_log_groups, limit=51)
    raises("InvalidParameterException", logs.describe_log_groups, nextToken="garbage!")
    raises("InvalidParameterException", logs.describe_log_groups, logGroupClass="CHEAP")


def test_retention(logs: Any) -> None:
    """Retention takes CloudWatch's values only, shows in the group, and can be removed."""
    name = unique_group("/cw")
    logs.create_log_group(logGroupName=name)
    logs.put_retention_policy(logGroupName=name, retentionInDays=30)
    assert logs.describe_log_groups(logGroupNamePrefix=name)["logGroups"][0]["retentionInDays"] == 30
    message = raises(
        "InvalidParameterException", logs.put_retention_policy, logGroupName=name, retentionInDays=31
    )
    assert "enum value set" in message
    logs.delete_retention_policy(logGroupName=name)
    assert "retentionInDays" not in logs.describe_log_groups(logGroupNamePrefix=name)["logGroups"][0]
    missing = unique_group("/cw")
    raises("ResourceNotFoundException", logs.put_retention_policy, logGroupName=missing, retentionInDays=1)
    raises("ResourceNotFoundException", logs.delete_retention_policy, logGroupName=missing)


def test_streams(logs: Any, group: str) -> None:
    """Streams are created, listed with their event times, paged, ordered and deleted."""
    for name in ("b", "c", "a"):
        logs.create_log_stream(logGroupName=group, logStreamName=name)
    logs.put_log_events(
        logGroupName=group, logStreamName="c", logEvents=[{"timestamp": now_ms() - 5000, "message": "x"}]
    )
    logs.put_log_events(
        logGroupName=group, logStreamName="a", logEvents=[{"timestamp": now_ms(), "message": "y"}]
    )
    streams = logs.describe_log_streams(logGroupName=group)["logStreams"]
    assert [s["logStreamName"] for s in streams] == ["a", "b", "c", "s1"]
    assert "lastEventTimestamp" not in streams[1]
    assert streams[0]["arn"] == arn(group) + ":log-stream:a"
    assert streams[0]["storedBytes"] == 0
    by_time = logs.describe_log_streams(logGroupName=group, orderBy="LastEventTime", descending=True)
    assert [s["logStreamName"] for s in by_time["logStreams"]][:2] == ["a", "c"]
    page = logs.describe_log_streams(logGroupIdentifier=arn(group), limit=2)
    assert [s["logStreamName"] for s in page["logStreams"]] == ["a", "b"]
    rest = logs.describe_log_streams(logGroupName=group, limit=2, nextToken=page["nextToken"])
    assert [s["logStreamName"] for s in rest["logStreams"]] == ["c", "s1"]
    assert "nextToken" not in rest
    prefixed = logs.describe_log_streams(logGroupName=group, logStreamNamePrefix="s")["logStreams"]
    assert [s["logStreamName"] for s in prefixed] == ["s1"]
    logs.delete_log_stream(logGroupName=group, logStreamName="b")
    assert "b" not in [
        s["logStreamName"] for s in logs.describe_log_streams(logGroupName=group)["logStreams"]
    ]


def test_stream_errors(logs: Any, group: str) -> None:
    """Stream calls report the documented errors."""
    raises("ResourceAlreadyExistsException", logs.create_log_stream, logGroupName=group, logStreamName="s1")
    raises("InvalidParameterException", logs.create_log_stream, logGroupName=group, logStreamName="a:b")
    missing = unique_group("/cw")
    raises("ResourceNotFoundException", logs.create_log_stream, logGroupName=missing, logStreamName="x")
    message = raises(
        "ResourceNotFoundException", logs.delete_log_stream, logGroupName=group, logStreamName="zz"
    )
    assert "log stream does not exist" in message
    raises("ResourceNotFoundException", logs.describe_log_streams, logGroupName=missing)
    raises(
        "InvalidParameterException", logs.describe_log_streams, logGroupName=group, logGroupIdentifier=group
    )
    raises(
        "InvalidParameterException",
        logs.describe_log_streams,
        logGroupName=group,
        orderBy="LastEventTime",
        logStreamNamePrefix="s",
    )
    raises("InvalidParameterException", logs.describe_log_streams, logGroupName=group, orderBy="Size")


def test_tags_by_arn_and_by_name(logs: Any, group: str) -> None:
    """TagResource and the older TagLogGroup trio read and write the same tags."""
    logs.tag_resource(resourceArn=arn(group), tags={"Service": "api", "Env": "prod"})
    logs.untag_resource(resourceArn=arn(group), tagKeys=["Env"])
    assert logs.list_tags_for_resource(resourceArn=arn(group) + ":*")["tags"] == {"Service": "api"}
    logs.tag_log_group(logGroupName=group, tags={"Team": "core"})
    assert logs.list_tags_log_group(logGroupName=group)["tags"] == {"Service": "api", "Team": "core"}
    logs.untag_log_group(logGroupName=group, tags=["Service"])
    assert logs.list_tags_for_resource(resourceArn=arn(group))["tags"] == {"Team": "core"}


def test_tag_errors(logs: Any, group: str) -> None:
    """More than 50 tags, an unknown resource and reserved keys are refused."""
    logs.tag_resource(resourceArn=arn(group), tags={f"k{i}": "v" for i in range(50)})
    with pytest.raises(ClientError) as caught:
        logs.tag_resource(resourceArn=arn(group), tags={"one-more": "v"})
    assert error_code(caught.value) == "TooManyTagsException"
    assert caught.value.response["resourceName"] == arn(group)
    missing = arn(unique_group("/cw"))
    raises("ResourceNotFoundException", logs.tag_resource, resourceArn=missing, tags={"a": "b"})
    raises("ResourceNotFoundException", logs.list_tags_for_resource, resourceArn=missing)
    raises("ResourceNotFoundException", logs.untag_resource, resourceArn=missing, tagKeys=["a"])
    raises("ResourceNotFoundException", logs.list_tags_log_group, logGroupName=unique_group("/cw"))
    raises("InvalidParameterException", logs.tag_log_group, logGroupName=group, tags={"aws:x": "y"})


def test_kms_association(logs: Any, group: str) -> None:
    """AssociateKmsKey records the key on the group; DisassociateKmsKey removes it."""
    key = "arn:aws:kms:us-east-1:000000000000:key/1234"
    logs.associate_kms_key(logGroupName=group, kmsKeyId=key)
    assert logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"][0]["kmsKeyId"] == key
    logs.disassociate_kms_key(resourceIdentifier=arn(group))
    assert "kmsKeyId" not in logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"][0]
    logs.associate_kms_key(
        resourceIdentifier="arn:aws:logs:us-east-1:000000000000:query-result:*", kmsKeyId=key
    )
    raises(
        "ResourceNotFoundException", logs.associate_kms_key, logGroupName=unique_group("/cw"), kmsKeyId=key
    )
    raises("InvalidParameterException", logs.associate_kms_key, kmsKeyId=key)
    raises("InvalidParameterException", logs.associate_kms_key, logGroupName=group, kmsKeyId="k" * 257)
