"""The clients people point at CloudWatch, pointed at logpond: the aws CLI, watchtower as a
logging handler, and Fluent Bit's request sequence replayed with botocore over HTTPS."""

from __future__ import annotations

import json
import logging
import os
import ssl
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
import watchtower
from botocore.config import Config
from botocore.exceptions import ClientError

from ..api.test_tls import self_signed
from ..conftest import LiveServer, start_server, unique_group
from .conftest import error_code, logs_client, now_ms

AWS = str(Path(sys.executable).parent / "aws")


def aws(server: LiveServer, *args: str) -> Any:
    """Run ``aws logs ...`` against the server; the parsed JSON output (or None)."""
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("AWS_")},
        "AWS_ACCESS_KEY_ID": server.access_key_id,
        "AWS_SECRET_ACCESS_KEY": server.secret_access_key,
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    }
    done = subprocess.run(
        [AWS, "logs", *args, "--endpoint-url", server.url, "--output", "json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout) if done.stdout.strip() else None


def test_aws_cli(logpond_server: LiveServer) -> None:
    """The aws CLI creates, writes, lists, reads, filters and tags through --endpoint-url."""
    group = unique_group("/cli")
    aws(logpond_server, "create-log-group", "--log-group-name", group, "--tags", "Env=staging")
    aws(logpond_server, "put-retention-policy", "--log-group-name", group, "--retention-in-days", "30")
    aws(logpond_server, "create-log-stream", "--log-group-name", group, "--log-stream-name", "pod-1")
    events = json.dumps([{"timestamp": now_ms(), "message": '{"level":"error","message":"cli"}'}])
    put = aws(
        logpond_server, "put-log-events", "--log-group-name", group, "--log-stream-name", "pod-1",
        "--log-events", events,
    )  # fmt: skip
    assert put["nextSequenceToken"]
    groups = aws(logpond_server, "describe-log-groups", "--log-group-name-prefix", group)["logGroups"]
    assert [(g["logGroupName"], g["retentionInDays"]) for g in groups] == [(group, 30)]
    got = aws(logpond_server, "get-log-events", "--log-group-name", group, "--log-stream-name", "pod-1",
              "--start-from-head")  # fmt: skip
    assert [e["message"] for e in got["events"]] == ['{"level":"error","message":"cli"}']
    filtered = aws(logpond_server, "filter-log-events", "--log-group-name", group, "--filter-pattern",
                   '{ $.level = "error" }')  # fmt: skip
    assert len(filtered["events"]) == 1
    tags = aws(logpond_server, "list-tags-log-group", "--log-group-name", group)
    assert tags["tags"] == {"Env": "staging"}
    aws(logpond_server, "delete-log-group", "--log-group-name", group)
    assert aws(logpond_server, "describe-log-groups", "--log-group-name-prefix", group)["logGroups"] == []


def test_watchtower_logging_handler(logpond_server: LiveServer) -> None:
    """A small app logging through watchtower lands its records in logpond, stream created lazily."""
    group = unique_group("/watchtower")
    client = logs_client(logpond_server)
    handler = watchtower.CloudWatchLogHandler(
        log_group_name=group,
        log_stream_name="worker-1",
        boto3_client=client,
        send_interval=1,
        log_group_retention_days=30,
        create_log_group=True,
    )
    logger = logging.getLogger("watchtower-app-" + group)
    logger.propagate = False
    logger.setLevel(logging.INFO)
    logger.addHandler(handler)
    try:
        logger.info("job started")
        logger.error({"level": "error", "message": "job failed", "trace_id": "abc-123"})
    finally:
        handler.close()  # type: ignore[no-untyped-call]
        logger.removeHandler(handler)
    got = client.get_log_events(logGroupName=group, logStreamName="worker-1", startFromHead=True)
    messages = [e["message"] for e in got["events"]]
    assert messages[0] == "job started"
    assert json.loads(messages[1]) == {"level": "error", "message": "job failed", "trace_id": "abc-123"}
    described = client.describe_log_groups(logGroupNamePrefix=group)["logGroups"][0]
    assert described["retentionInDays"] == 30


@pytest.fixture
def tls_server(tmp_path: Path) -> Iterator[tuple[LiveServer, Path]]:
    cert, key = self_signed(tmp_path)
    server = start_server(
        tmp_path / "data",
        "--tls-cert",
        str(cert),
        "--tls-key",
        str(key),
        scheme="https",
        verify=ssl.create_default_context(cafile=str(cert)),
    )
    yield server, cert
    server.terminate()


def test_fluent_bit_sequence_over_https(tls_server: tuple[LiveServer, Path]) -> None:
    """Fluent Bit's calls, in its order, over TLS with a self-signed certificate: every answer is
    exactly 200 with x-amzn-RequestId, except the first, which must be ResourceNotFound."""
    server, cert = tls_server
    client = boto3.client(
        "logs",
        endpoint_url=server.url,
        region_name="us-east-1",
        aws_access_key_id=server.access_key_id,
        aws_secret_access_key=server.secret_access_key,
        verify=str(cert),
        config=Config(retries={"max_attempts": 1}),
    )

    def log_format(request: Any, **_: Any) -> None:
        request.headers["x-amzn-logs-format"] = "json/emf"

    client.meta.events.register("before-sign.logs.PutLogEvents", log_format)
    group, stream = "/qualisys/staging/api", "qualisys-api-7d9f-"
    with pytest.raises(ClientError) as caught:
        client.create_log_stream(logGroupName=group, logStreamName=stream)
    assert error_code(caught.value) == "ResourceNotFoundException"
    answers = [
        client.create_log_group(logGroupName=group),
        client.put_retention_policy(logGroupName=group, retentionInDays=30),
        client.create_log_stream(logGroupName=group, logStreamName=stream),
        client.put_log_events(
            logGroupName=group,
            logStreamName=stream,
            logEvents=[
                {
                    "timestamp": now_ms(),
                    "message": json.dumps({"log": "GET /health 200", "kubernetes": {"pod": "x"}}),
                }
            ],
        ),
    ]
    for answer in answers:
        meta = answer["ResponseMetadata"]
        assert meta["HTTPStatusCode"] == 200
        assert meta["HTTPHeaders"]["x-amzn-requestid"]
    with pytest.raises(ClientError) as caught:
        client.create_log_group(logGroupName=group)
    assert error_code(caught.value) == "ResourceAlreadyExistsException"
    events = client.get_log_events(logGroupName=group, logStreamName=stream)["events"]
    assert json.loads(events[0]["message"])["log"] == "GET /health 200"
