"""Fixtures for the CloudWatch Logs API: boto3 clients aimed at a real logpond server."""

from __future__ import annotations

import os
import time
from typing import Any

import boto3
import httpx
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials

from ..conftest import LiveServer, unique_group

TARGET = "Logs_20140328."
REGION = "us-east-1"


@pytest.fixture(autouse=True)
def _no_aws_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Nothing from the developer's AWS setup leaks into a test."""
    for name in list(os.environ):
        if name.startswith("AWS_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", os.devnull)


def logs_client(
    server: LiveServer,
    *,
    key: str | None = None,
    secret: str | None = None,
    region: str = REGION,
    **config: Any,
) -> Any:
    """A boto3 CloudWatch Logs client for ``server`` (no retries: errors surface at once)."""
    return boto3.client(
        "logs",
        endpoint_url=server.url,
        region_name=region,
        aws_access_key_id=key or server.access_key_id,
        aws_secret_access_key=secret or server.secret_access_key,
        config=Config(retries={"max_attempts": 1, "mode": "standard"}, **config),
    )


@pytest.fixture
def logs(logpond_server: LiveServer) -> Any:
    return logs_client(logpond_server)


@pytest.fixture
def group(logs: Any) -> str:
    """A fresh log group with one stream ``s1``."""
    name = unique_group("/cw")
    logs.create_log_group(logGroupName=name)
    logs.create_log_stream(logGroupName=name, logStreamName="s1")
    return name


def now_ms() -> int:
    return int(time.time() * 1000)


def signed_post(
    server: LiveServer,
    operation: str,
    body: bytes,
    *,
    key: str | None = None,
    secret: str | None = None,
    extra_headers: dict[str, str] | None = None,
) -> tuple[str, bytes, dict[str, str]]:
    """A request signed by botocore's SigV4 signer: url, body and headers, ready to send."""
    url = server.url + "/"
    request = AWSRequest(
        method="POST",
        url=url,
        data=body,
        headers={
            "X-Amz-Target": TARGET + operation,
            "Content-Type": "application/x-amz-json-1.1",
            **(extra_headers or {}),
        },
    )
    credentials = Credentials(key or server.access_key_id, secret or server.secret_access_key)
    SigV4Auth(credentials, "logs", REGION).add_auth(request)
    return url, body, dict(request.headers.items())


def send(url: str, body: bytes, headers: dict[str, str], **kwargs: Any) -> httpx.Response:
    return httpx.post(url, content=body, headers=headers, timeout=30, **kwargs)


def error_code(exc: Any) -> str:
    code: str = exc.response["Error"]["Code"]
    return code
