"""The JSON 1.1 protocol and SigV4 against a real server: error shapes, request ids, refusals."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from botocore.exceptions import ClientError

from ..conftest import ClockedServer, LiveServer, unique_group
from .conftest import error_code, logs_client, now_ms, send, signed_post

SHIPPER_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Action": [
                "logs:CreateLogStream",
                "logs:PutLogEvents",
                "logs:DescribeLogGroups",
                "logs:DescribeLogStreams",
            ],
            "Resource": ["arn:aws:logs:us-east-1:000000000000:log-group:/qualisys/*"],
        }
    ],
}


def test_success_carries_request_id_and_json_type(logpond_server: LiveServer) -> None:
    """A successful call answers 200, application/x-amz-json-1.1, with x-amzn-RequestId."""
    url, body, headers = signed_post(logpond_server, "DescribeLogGroups", b"{}")
    response = send(url, body, headers)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/x-amz-json-1.1"
    assert len(response.headers["x-amzn-requestid"]) == 36
    assert "logGroups" in response.json()


def test_error_shape_and_headers(logpond_server: LiveServer) -> None:
    """Errors are {"__type", "message"} with x-amzn-ErrorType and x-amzn-RequestId, status 400."""
    payload = json.dumps({"logGroupName": "/does/not/exist"}).encode()
    url, body, headers = signed_post(logpond_server, "DeleteLogGroup", payload)
    response = send(url, body, headers)
    assert response.status_code == 400
    assert response.json() == {
        "__type": "ResourceNotFoundException",
        "message": "The specified log group does not exist.",
    }
    assert response.headers["x-amzn-errortype"] == "ResourceNotFoundException"
    assert response.headers["x-amzn-requestid"]


def test_unknown_operation(logpond_server: LiveServer) -> None:
    """An X-Amz-Target that names no operation gets UnknownOperationException."""
    url, body, headers = signed_post(logpond_server, "FlyToTheMoon", b"{}")
    response = send(url, body, headers)
    assert response.status_code == 400
    assert response.json()["__type"] == "UnknownOperationException"


def test_body_that_is_not_json_is_a_serialization_error(logpond_server: LiveServer) -> None:
    """A body that is not a JSON object gets SerializationException."""
    for payload in (b"{not json", b"[1, 2]"):
        url, body, headers = signed_post(logpond_server, "DescribeLogGroups", payload)
        assert send(url, body, headers).json()["__type"] == "SerializationException"


def test_unknown_request_members_are_ignored(logpond_server: LiveServer) -> None:
    """Members newer SDKs add (entity, ...) do not break older operations."""
    url, body, headers = signed_post(logpond_server, "DescribeLogGroups", b'{"someNewMember": 1}')
    assert send(url, body, headers).status_code == 200


def test_wrong_secret_is_an_invalid_signature(logpond_server: LiveServer) -> None:
    """A request signed with the wrong secret is refused with InvalidSignatureException."""
    client = logs_client(logpond_server, secret="not-the-secret")
    with pytest.raises(ClientError) as caught:
        client.describe_log_groups()
    assert error_code(caught.value) == "InvalidSignatureException"


def test_unknown_key_is_unrecognized(logpond_server: LiveServer) -> None:
    """An access key id logpond does not know gets UnrecognizedClientException."""
    client = logs_client(logpond_server, key="LPNOSUCHKEY000000000", secret="x")
    with pytest.raises(ClientError) as caught:
        client.describe_log_groups()
    assert error_code(caught.value) == "UnrecognizedClientException"
    assert "security token included in the request is invalid" in str(caught.value)


def test_missing_credentials_are_refused(logpond_server: LiveServer) -> None:
    """An unsigned request is refused (no anonymous role configured)."""
    response = httpx.post(
        logpond_server.url + "/",
        content=b"{}",
        headers={"X-Amz-Target": "Logs_20140328.DescribeLogGroups"},
    )
    assert response.status_code == 400
    assert response.json()["__type"] == "UnrecognizedClientException"
    assert response.headers["x-amzn-requestid"]


def test_malformed_authorization_is_incomplete(logpond_server: LiveServer) -> None:
    """An AWS4 Authorization header without its parts gets IncompleteSignatureException."""
    response = httpx.post(
        logpond_server.url + "/",
        content=b"{}",
        headers={
            "X-Amz-Target": "Logs_20140328.DescribeLogGroups",
            "Authorization": "AWS4-HMAC-SHA256 Credential=LPTESTROOTKEY0000001/20240101/us-east-1/logs",
        },
    )
    assert response.json()["__type"] == "IncompleteSignatureException"


def test_tampered_body_fails_the_payload_hash(logpond_server: LiveServer) -> None:
    """Changing the body after signing breaks the signature."""
    url, _, headers = signed_post(logpond_server, "DescribeLogGroups", b'{"limit": 5}')
    response = send(url, b'{"limit": 6}', headers)
    assert response.json()["__type"] == "InvalidSignatureException"


def test_wrong_service_scope_is_refused(logpond_server: LiveServer) -> None:
    """A signature scoped to another service (monitoring) is not accepted for Logs."""
    url, body, headers = signed_post(logpond_server, "DescribeLogGroups", b"{}")
    headers["Authorization"] = headers["Authorization"].replace("/logs/", "/monitoring/")
    response = send(url, body, headers)
    assert response.json()["__type"] == "InvalidSignatureException"


def test_any_region_is_accepted_and_used_in_arns(logpond_server: LiveServer) -> None:
    """A client configured for another region works; ARNs carry that region."""
    client = logs_client(logpond_server, region="ap-southeast-2")
    name = unique_group("/region")
    client.create_log_group(logGroupName=name)
    found = client.describe_log_groups(logGroupNamePrefix=name)["logGroups"]
    assert found[0]["logGroupArn"] == f"arn:aws:logs:ap-southeast-2:000000000000:log-group:{name}"


def test_replayed_old_signature_is_refused(clocked_server: ClockedServer) -> None:
    """A request signed now and replayed 16 minutes later is refused as expired."""
    server = clocked_server.server
    url, body, headers = signed_post(server, "DescribeLogGroups", b"{}")
    assert send(url, body, headers).status_code == 200
    clocked_server.clock.advance(16 * 60 * 1000)
    response = send(url, body, headers)
    assert response.status_code == 400
    assert response.json()["__type"] == "InvalidSignatureException"
    assert response.json()["message"].startswith("Signature expired")


def test_request_from_the_future_is_refused(clocked_server: ClockedServer) -> None:
    """A signature dated more than 15 minutes ahead of the server clock is refused."""
    clocked_server.clock.advance(-20 * 60 * 1000)
    url, body, headers = signed_post(clocked_server.server, "DescribeLogGroups", b"{}")
    response = send(url, body, headers)
    assert response.json()["__type"] == "InvalidSignatureException"
    assert "not yet current" in response.json()["message"]


def _shipper(server: LiveServer) -> Any:
    with server.client() as http:
        created = http.post("/api/v1/keys", json={"policy": SHIPPER_POLICY, "description": "fluent-bit"})
    assert created.status_code == 201, created.text
    key = created.json()
    return logs_client(server, key=key["access_key_id"], secret=key["secret_access_key"])


def test_shipper_policy_can_ship_but_cannot_read(logpond_server: LiveServer) -> None:
    """The source story's IRSA policy ships to /qualisys/* and is refused every read."""
    admin = logs_client(logpond_server)
    group = unique_group("/qualisys/staging")
    admin.create_log_group(logGroupName=group)
    shipper = _shipper(logpond_server)
    shipper.create_log_stream(logGroupName=group, logStreamName="pod-1")
    shipper.put_log_events(
        logGroupName=group, logStreamName="pod-1", logEvents=[{"timestamp": now_ms(), "message": "hello"}]
    )
    assert [
        g["logGroupName"] for g in shipper.describe_log_groups(logGroupNamePrefix=group)["logGroups"]
    ] == [group]
    assert shipper.describe_log_streams(logGroupName=group)["logStreams"][0]["logStreamName"] == "pod-1"
    reads: list[Callable[[], Any]] = [
        lambda: shipper.get_log_events(logGroupName=group, logStreamName="pod-1"),
        lambda: shipper.filter_log_events(logGroupName=group),
        lambda: shipper.start_query(
            logGroupName=group, startTime=0, endTime=10, queryString="fields @message"
        ),
        lambda: shipper.create_log_group(logGroupName=group + "-x"),
        lambda: shipper.delete_log_group(logGroupName=group),
        lambda: shipper.list_tags_for_resource(
            resourceArn=f"arn:aws:logs:us-east-1:000000000000:log-group:{group}"
        ),
    ]
    for read in reads:
        with pytest.raises(ClientError) as caught:
            read()
        assert error_code(caught.value) == "AccessDeniedException"
        assert "is not authorized to perform: logs:" in str(caught.value)
    other = unique_group("/other")
    admin.create_log_group(logGroupName=other)
    admin.create_log_stream(logGroupName=other, logStreamName="s")
    with pytest.raises(ClientError) as caught:
        shipper.put_log_events(
            logGroupName=other, logStreamName="s", logEvents=[{"timestamp": now_ms(), "message": "x"}]
        )
    assert error_code(caught.value) == "AccessDeniedException"
    assert shipper.describe_log_groups(logGroupNamePrefix=other)["logGroups"] == []
