"""Insights queries, saved queries, metric filters, data protection policies and live tail."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import pytest
from botocore.exceptions import ClientError

from ..conftest import LiveServer, unique_group
from .conftest import error_code, logs_client, now_ms

EMAIL = "arn:aws:dataprotection::aws:data-identifier/EmailAddress"


def raises(code: str, call: Any, **kwargs: Any) -> ClientError:
    with pytest.raises(ClientError) as caught:
        call(**kwargs)
    assert error_code(caught.value) == code, caught.value
    return caught.value


def wait_done(logs: Any, query_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 30
    while True:
        result: dict[str, Any] = logs.get_query_results(queryId=query_id)
        if result["status"] not in ("Scheduled", "Running") or time.monotonic() > deadline:
            return result
        time.sleep(0.05)


def test_insights_query_in_seconds(logs: Any, group: str) -> None:
    """StartQuery takes epoch seconds; results are rows of field/value strings."""
    now = now_ms()
    messages = [
        {"level": "error", "tenant_id": "acme", "status": 500},
        {"level": "error", "tenant_id": "acme", "status": 502},
        {"level": "info", "tenant_id": "zen", "status": 200},
    ]
    logs.put_log_events(
        logGroupName=group,
        logStreamName="s1",
        logEvents=[{"timestamp": now + i, "message": json.dumps(m)} for i, m in enumerate(messages)],
    )
    started = logs.start_query(
        logGroupName=group,
        startTime=now // 1000 - 60,
        endTime=now // 1000 + 60,
        queryString='filter level = "error" | stats count() as errors by tenant_id',
    )
    result = wait_done(logs, started["queryId"])
    assert result["status"] == "Complete"
    assert result["results"] == [[{"field": "tenant_id", "value": "acme"}, {"field": "errors", "value": "2"}]]
    assert result["statistics"]["recordsMatched"] == 2.0
    rows = wait_done(
        logs,
        logs.start_query(
            logGroupIdentifiers=[group],
            startTime=now // 1000 - 60,
            endTime=now // 1000 + 60,
            queryString="fields @timestamp, status | filter status >= 500 | sort status desc",
        )["queryId"],
    )["results"]
    assert [[f["value"] for f in row if f["field"] == "status"] for row in rows] == [["502"], ["500"]]
    assert all(any(f["field"] == "@ptr" for f in row) for row in rows)
    described = logs.describe_queries(logGroupName=group)["queries"]
    assert {q["queryId"] for q in described} >= {started["queryId"]}
    assert all(q["status"] == "Complete" for q in described)
    raises("InvalidParameterException", logs.stop_query, queryId=started["queryId"])


def test_query_errors(logs: Any, group: str) -> None:
    """Malformed queries carry the position; unknown groups and ids are ResourceNotFound."""
    error = raises(
        "MalformedQueryException",
        logs.start_query,
        logGroupName=group,
        startTime=0,
        endTime=10,
        queryString="fields @message | frobnicate",
    )
    assert "location" in error.response["queryCompileError"]
    raises(
        "ResourceNotFoundException",
        logs.start_query,
        logGroupName=unique_group("/cw"),
        startTime=0,
        endTime=10,
        queryString="fields @message",
    )
    raises(
        "InvalidParameterException", logs.start_query, startTime=0, endTime=10, queryString="fields @message"
    )
    raises(
        "InvalidParameterException",
        logs.start_query,
        logGroupName=group,
        startTime=10,
        endTime=0,
        queryString="fields @message",
    )
    raises(
        "InvalidParameterException",
        logs.start_query,
        logGroupName=group,
        queryLanguage="SQL",
        startTime=0,
        endTime=10,
        queryString="SELECT 1",
    )
    raises("ResourceNotFoundException", logs.get_query_results, queryId="no-such-query")
    raises("ResourceNotFoundException", logs.stop_query, queryId="no-such-query")


def test_saved_queries(logs: Any) -> None:
    """Query definitions are created, listed by prefix, replaced whole and deleted."""
    prefix = "story-" + unique_group("x").split("/")[-1]
    text = (
        'fields @timestamp, @message, trace_id, tenant_id | filter level = "error" '
        "| sort @timestamp desc | limit 100"
    )
    created = logs.put_query_definition(
        name=f"{prefix}/errors", queryString=text, logGroupNames=["/qualisys/a"]
    )
    definition_id = created["queryDefinitionId"]
    [found] = logs.describe_query_definitions(queryDefinitionNamePrefix=prefix)["queryDefinitions"]
    assert found["queryString"] == text
    assert found["logGroupNames"] == ["/qualisys/a"]
    assert found["queryLanguage"] == "CWLI"
    logs.put_query_definition(
        name=f"{prefix}/errors",
        queryDefinitionId=definition_id,
        queryString="fields @message | filter status >= {{code}}",
        parameters=[{"name": "code", "defaultValue": "500"}],
    )
    [replaced] = logs.describe_query_definitions(queryDefinitionNamePrefix=prefix)["queryDefinitions"]
    assert replaced["logGroupNames"] == []
    assert replaced["parameters"] == [{"name": "code", "defaultValue": "500"}]
    assert logs.delete_query_definition(queryDefinitionId=definition_id)["success"] is True
    raises("ResourceNotFoundException", logs.delete_query_definition, queryDefinitionId=definition_id)
    raises(
        "ResourceNotFoundException",
        logs.put_query_definition,
        name="x",
        queryString="fields @message",
        queryDefinitionId="nope",
    )
    raises(
        "MalformedQueryException", logs.put_query_definition, name="x", queryString="fields @message | nope"
    )


def test_metric_filters(logs: Any, group: str) -> None:
    """PutMetricFilter creates or replaces by name; the group counts its filters."""
    transformation = {
        "metricName": "ErrorCount",
        "metricNamespace": "QUALISYS/Application",
        "metricValue": "1",
    }
    logs.put_metric_filter(
        logGroupName=group,
        filterName="qualisys-error-count",
        filterPattern='{ $.level = "error" }',
        metricTransformations=[transformation],
    )
    logs.put_metric_filter(
        logGroupName=group,
        filterName="qualisys-http-5xx",
        filterPattern="{ $.status >= 500 }",
        metricTransformations=[
            {**transformation, "metricName": "5xxCount", "unit": "Count", "defaultValue": 0}
        ],
    )
    logs.put_metric_filter(
        logGroupName=group,
        filterName="qualisys-error-count",
        filterPattern='{ $.level = "error" || $.level = "fatal" }',
        metricTransformations=[transformation],
    )
    filters = logs.describe_metric_filters(logGroupName=group)["metricFilters"]
    assert [f["filterName"] for f in filters] == ["qualisys-error-count", "qualisys-http-5xx"]
    assert filters[0]["filterPattern"] == '{ $.level = "error" || $.level = "fatal" }'
    assert filters[1]["metricTransformations"][0]["defaultValue"] == 0.0
    assert logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"][0]["metricFilterCount"] == 2
    by_metric = logs.describe_metric_filters(metricName="5xxCount", metricNamespace="QUALISYS/Application")
    assert group in {f["logGroupName"] for f in by_metric["metricFilters"]}
    prefixed = logs.describe_metric_filters(logGroupName=group, filterNamePrefix="qualisys-http", limit=1)
    assert [f["filterName"] for f in prefixed["metricFilters"]] == ["qualisys-http-5xx"]
    logs.delete_metric_filter(logGroupName=group, filterName="qualisys-http-5xx")
    raises(
        "ResourceNotFoundException",
        logs.delete_metric_filter,
        logGroupName=group,
        filterName="qualisys-http-5xx",
    )


def test_metric_filter_errors(logs: Any, group: str) -> None:
    """Bad patterns, values, dimensions and units are refused; unknown groups are not found."""
    good = {"metricName": "M", "metricNamespace": "N", "metricValue": "1"}
    cases: list[tuple[str, dict[str, Any]]] = [
        ("{ $.a = ", good),
        ("ERROR", {**good, "metricValue": "$.x y"}),
        ("[a, b]", {**good, "metricValue": "$c"}),
        ("ERROR", {**good, "metricName": "a:b"}),
        ("ERROR", {**good, "unit": "Parsecs"}),
        ("{ $.a = 1 }", {**good, "dimensions": {"A": "$.a"}, "defaultValue": 0}),
        ("{ $.a = 1 }", {**good, "dimensions": {"A": "$.a", "B": "$.b", "C": "$.c", "D": "$.d"}}),
        ("{ $.a = 1 }", {**good, "dimensions": {"A": "literal"}}),
    ]
    for pattern, transformation in cases:
        raises(
            "InvalidParameterException",
            logs.put_metric_filter,
            logGroupName=group,
            filterName="f",
            filterPattern=pattern,
            metricTransformations=[transformation],
        )
    raises(
        "ResourceNotFoundException",
        logs.put_metric_filter,
        logGroupName=unique_group("/cw"),
        filterName="f",
        filterPattern="",
        metricTransformations=[good],
    )
    raises("InvalidParameterException", logs.describe_metric_filters, filterNamePrefix="x")
    raises("InvalidParameterException", logs.describe_metric_filters, metricName="M")


def test_test_metric_filter(logs: Any) -> None:
    """TestMetricFilter lists matching messages by 1-based number with extracted values."""
    line = '127.0.0.1 Prod frank [10/Oct/2000:13:25:15 -0700] "GET /index.html HTTP/1.0" 404 1534'
    result = logs.test_metric_filter(
        filterPattern="[ip, user, username, timestamp, request = *.html*, status_code = 4*, bytes]",
        logEventMessages=["no match here", line],
    )
    [match] = result["matches"]
    assert match["eventNumber"] == 2
    assert match["eventMessage"] == line
    assert match["extractedValues"]["$request"] == "GET /index.html HTTP/1.0"
    assert match["extractedValues"]["$status_code"] == "404"
    raises(
        "InvalidParameterException", logs.test_metric_filter, filterPattern="%bad!%", logEventMessages=["x"]
    )


def policy(identifiers: list[str], **extra: Any) -> str:
    return json.dumps(
        {
            "Name": "pii",
            "Version": "2021-06-01",
            **extra,
            "Statement": [
                {
                    "Sid": "audit",
                    "DataIdentifier": identifiers,
                    "Operation": {"Audit": {"FindingsDestination": {}}},
                },
                {
                    "Sid": "redact",
                    "DataIdentifier": identifiers,
                    "Operation": {"Deidentify": {"MaskConfig": {}}},
                },
            ],
        }
    )


def test_data_protection_policy(logs: Any, group: str) -> None:
    """A valid policy is stored and read back; the group reports its status; deletion is recorded."""
    empty = logs.get_data_protection_policy(logGroupIdentifier=group)
    assert "policyDocument" not in empty
    document = policy(
        [EMAIL, "EmployeeId"],
        Configuration={"CustomDataIdentifier": [{"Name": "EmployeeId", "Regex": "EmployeeId-\\d{9}"}]},
    )
    put = logs.put_data_protection_policy(logGroupIdentifier=group, policyDocument=document)
    assert put["policyDocument"] == document
    assert logs.get_data_protection_policy(logGroupIdentifier=group)["policyDocument"] == document
    assert (
        logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"][0]["dataProtectionStatus"]
        == "ACTIVATED"
    )
    logs.delete_data_protection_policy(logGroupIdentifier=group)
    assert "policyDocument" not in logs.get_data_protection_policy(logGroupIdentifier=group)
    assert (
        logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"][0]["dataProtectionStatus"]
        == "DELETED"
    )
    raises("ResourceNotFoundException", logs.delete_data_protection_policy, logGroupIdentifier=group)


def test_data_protection_policy_errors(logs: Any, group: str) -> None:
    """Malformed documents, unknown identifiers and unknown groups are refused."""
    bad_documents = [
        "not json",
        json.dumps({"Statement": []}),
        policy(["arn:aws:dataprotection::aws:data-identifier/NoSuchThing"]),
        policy(["Undeclared"]),
        json.dumps(
            {
                "Statement": [
                    {"DataIdentifier": [EMAIL], "Operation": {"Audit": {"FindingsDestination": {}}}},
                    {"DataIdentifier": [EMAIL], "Operation": {"Deidentify": {"MaskConfig": {"x": 1}}}},
                ]
            }
        ),
    ]
    for document in bad_documents:
        raises(
            "InvalidParameterException",
            logs.put_data_protection_policy,
            logGroupIdentifier=group,
            policyDocument=document,
        )
    raises(
        "ResourceNotFoundException",
        logs.put_data_protection_policy,
        logGroupIdentifier=unique_group("/cw"),
        policyDocument=policy([EMAIL]),
    )


def test_live_tail_streams_new_events(logpond_server: LiveServer, group: str) -> None:
    """StartLiveTail sends sessionStart, then the matching events committed after it."""
    tail = logs_client(logpond_server, inject_host_prefix=False)
    arn = f"arn:aws:logs:us-east-1:000000000000:log-group:{group}"
    response = tail.start_live_tail(logGroupIdentifiers=[arn], logEventFilterPattern="wanted")
    stream = response["responseStream"]
    writer = logs_client(logpond_server)

    def write() -> None:
        time.sleep(0.5)
        writer.put_log_events(
            logGroupName=group,
            logStreamName="s1",
            logEvents=[
                {"timestamp": now_ms(), "message": "wanted one"},
                {"timestamp": now_ms(), "message": "other"},
            ],
        )

    thread = threading.Thread(target=write)
    thread.start()
    events: list[dict[str, Any]] = []
    start = None
    for event in stream:
        if "sessionStart" in event:
            start = event["sessionStart"]
        elif "sessionUpdate" in event:
            events.extend(event["sessionUpdate"]["sessionResults"])
            if events:
                break
    stream.close()
    thread.join()
    assert start is not None
    assert start["logGroupIdentifiers"] == [arn]
    assert [e["message"] for e in events] == ["wanted one"]
    assert events[0]["logGroupIdentifier"] == arn
    assert events[0]["logStreamName"] == "s1"
    raises("ResourceNotFoundException", tail.start_live_tail, logGroupIdentifiers=[arn + "-missing"])
    raises(
        "InvalidParameterException",
        tail.start_live_tail,
        logGroupIdentifiers=[arn, arn],
        logStreamNames=["s1"],
    )


def test_data_protection_policy_masks_new_events(logs: Any, group: str) -> None:
    """A stored policy turns on what it names for the group's next events (SSNs are off by
    default); after deletion the group is back on the default policy."""
    ssn = "arn:aws:dataprotection::aws:data-identifier/Ssn-US"
    document = json.dumps({
        "Name": "p", "Version": "2021-06-01",
        "Statement": [
            {"Sid": "a", "DataIdentifier": [ssn], "Operation": {"Audit": {"FindingsDestination": {}}}},
            {"Sid": "d", "DataIdentifier": [ssn], "Operation": {"Deidentify": {"MaskConfig": {}}}},
        ],
    })  # fmt: skip

    def put(message: str) -> str:
        logs.put_log_events(logGroupName=group, logStreamName="s1",
                            logEvents=[{"timestamp": now_ms(), "message": message}])  # fmt: skip
        events = logs.get_log_events(logGroupName=group, logStreamName="s1", startFromHead=True)["events"]
        return str(events[-1]["message"])

    assert put("ssn 123-45-6789 before") == "ssn 123-45-6789 before"
    logs.put_data_protection_policy(logGroupIdentifier=group, policyDocument=document)
    assert "123-45-6789" not in put("ssn 123-45-6789 with the policy")
    assert "a***@***.com" in put("and mail alice@example.com")  # the default still applies
    logs.delete_data_protection_policy(logGroupIdentifier=group)
    assert put("ssn 123-45-6789 after") == "ssn 123-45-6789 after"
