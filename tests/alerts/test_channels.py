"""Channels against real receivers: the signed webhook, email over SMTP, retries and
failures, test notifications, and secrets that never come back out."""

from __future__ import annotations

import hashlib
import hmac
import logging
import time
from pathlib import Path
from typing import Any

import pytest

from logpond.alerts import SIGNATURE_HEADER, TIMESTAMP_HEADER

from ..conftest import free_port
from .conftest import MINUTE, AlertServer, AlertServers, Receiver, SmtpServer
from .test_alarms_e2e import GROUP, SETTLE_MS, errors, minute_of

ALARM = "errors-high"


def base_config(**alerts: Any) -> dict[str, Any]:
    return {
        "log_groups": [{"name": GROUP}],
        "alerts": {
            "settle_seconds": SETTLE_MS / 1000,
            "retry_backoff_seconds": 0.1,
            "delivery_attempts": 3,
            "metric_filters": [
                {"group": GROUP, "name": "errors", "pattern": '{ $.level = "error" }',
                 "metric_name": "ErrorCount", "namespace": "App"},
            ],
            **alerts,
        },
    }  # fmt: skip


def put_alarm(server: AlertServer, *channels: str) -> None:
    with server.client() as http:
        http.put(
            f"/api/v1/alarms/{ALARM}",
            json={"namespace": "App", "metric_name": "ErrorCount", "statistic": "Sum", "period": 60,
                  "evaluation_periods": 1, "threshold": 10, "comparison": ">",
                  "treat_missing_data": "notBreaching", "alarm_actions": list(channels)},
        ).raise_for_status()  # fmt: skip


def breach(server: AlertServer) -> None:
    minute = minute_of(server)
    server.ingest(GROUP, *errors(minute + 1_000, 15))
    server.move_to(minute + MINUTE + SETTLE_MS + 100)


def notifications(server: AlertServer) -> list[dict[str, Any]]:
    with server.client() as http:
        found: list[dict[str, Any]] = http.get(f"/api/v1/alarms/{ALARM}/notifications").json()[
            "notifications"
        ]
    return found


def wait_settled(server: AlertServer, timeout: float = 15.0) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = notifications(server)
        if found and all(n["status"] != "pending" for n in found):
            return found
        time.sleep(0.1)
    return notifications(server)


def test_webhook_is_signed(alert_servers: AlertServers, receiver: Receiver) -> None:
    """The webhook body is JSON; X-Logpond-Signature is HMAC-SHA256 of "<timestamp>.<body>"."""
    server = alert_servers.start(base_config())
    with server.client() as http:
        created = http.put(
            "/api/v1/channels/ops-hook",
            json={"type": "webhook", "url": receiver.url("/hook"), "secret": "s3cr3t"},
        )
    assert created.status_code == 200, created.text
    put_alarm(server, "ops-hook")
    breach(server)
    [request] = receiver.wait_for(1, "/hook")
    timestamp = request.headers[TIMESTAMP_HEADER.lower()]
    expected = hmac.new(b"s3cr3t", timestamp.encode() + b"." + request.body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(request.headers[SIGNATURE_HEADER.lower()], f"sha256={expected}")
    assert abs(int(timestamp) - time.time()) < 60
    body = request.json()
    assert (body["version"], body["alarm"], body["state"], body["value"], body["threshold"]) == (
        "1",
        ALARM,
        "ALARM",
        15.0,
        10.0,
    )
    assert body["comparison"] == "GreaterThanThreshold"
    assert body["test"] is False


def test_generated_signing_secret_is_shown_once(alert_servers: AlertServers, receiver: Receiver) -> None:
    """A webhook created without a secret gets one, returned only in that answer."""
    server = alert_servers.start(base_config())
    with server.client() as http:
        created = http.put(
            "/api/v1/channels/hook", json={"type": "webhook", "url": receiver.url("/h")}
        ).json()
        secret = created["signing_secret"]
        assert len(secret) >= 32
        listed = http.get("/api/v1/channels").text
        assert secret not in listed
        # Replacing the URL keeps the secret.
        again = http.put("/api/v1/channels/hook", json={"type": "webhook", "url": receiver.url("/h2")}).json()
        assert "signing_secret" not in again
    put_alarm(server, "hook")
    with server.client() as http:
        result = http.post(f"/api/v1/alarms/{ALARM}/test").json()
    assert [n["status"] for n in result["notifications"]] == ["delivered"]
    [request] = receiver.received("/h2")
    timestamp = request.headers[TIMESTAMP_HEADER.lower()]
    expected = hmac.new(secret.encode(), timestamp.encode() + b"." + request.body, hashlib.sha256).hexdigest()
    assert request.headers[SIGNATURE_HEADER.lower()] == f"sha256={expected}"
    assert request.json()["test"] is True


def test_email_over_smtp(alert_servers: AlertServers, smtp_server: SmtpServer) -> None:
    """An email channel sends the transition to every recipient through the SMTP server."""
    config = base_config(
        channels=[{"name": "oncall-mail", "type": "email", "host": "127.0.0.1", "port": smtp_server.port,
                   "from_address": "logpond@example.com", "to": ["oncall@example.com", "lead@example.com"]}]
    )  # fmt: skip
    server = alert_servers.start(config)
    put_alarm(server, "oncall-mail")
    breach(server)
    [message] = smtp_server.wait_for(1)
    assert message["Subject"] == f"[logpond] ALARM: {ALARM}"
    assert message["To"] == "oncall@example.com, lead@example.com"
    text = message.get_payload(decode=True)
    assert isinstance(text, bytes)
    assert b"Value: 15 vs threshold > 10" in text
    assert b"Matching logs: http://127.0.0.1:" in text
    assert [n["status"] for n in wait_settled(server)] == ["delivered"]


def test_receiver_down_is_retried_then_failed_and_ingest_goes_on(
    alert_servers: AlertServers, receiver: Receiver, caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    """A receiver answering 503 gets every attempt, then the notification is recorded as
    failed; a closed port fails the same way; ingest is not held up; the secret URLs are in
    no answer and no log line."""
    caplog.set_level(logging.DEBUG)
    secret_path = "/services/T0SECRET/B0SECRET/XXXXXXXXSECRET"
    closed = f"http://127.0.0.1:{free_port()}{secret_path}"
    (tmp_path / "down-url").write_text(closed)
    config = base_config(
        channels=[
            {"name": "busy", "type": "slack", "url_env": "LOGPOND_TEST_BUSY_URL_UNUSED"},
        ]
    )
    config["alerts"]["channels"] = [{"name": "down", "type": "slack", "url_file": str(tmp_path / "down-url")}]
    server = alert_servers.start(config)
    receiver.status = 503
    with server.client() as http:
        http.put(
            "/api/v1/channels/busy", json={"type": "slack", "url": receiver.url(secret_path)}
        ).raise_for_status()
    put_alarm(server, "busy", "down")
    breach(server)
    started = time.monotonic()
    # Ingest while deliveries are failing and being retried.
    server.ingest(GROUP, *({"timestamp": server.clock.now_ms(), "message": f"m{i}"} for i in range(2000)))
    assert time.monotonic() - started < 5
    settled = wait_settled(server)
    by_channel = {n["channel"]: n for n in settled}
    assert by_channel["busy"]["status"] == "failed"
    assert [(a["attempt"], a["ok"], a["detail"]) for a in by_channel["busy"]["attempts"]] == [
        (1, False, "HTTP 503"),
        (2, False, "HTTP 503"),
        (3, False, "HTTP 503"),
    ]
    assert len(receiver.received(secret_path)) == 3
    assert by_channel["down"]["status"] == "failed"
    assert [a["detail"] for a in by_channel["down"]["attempts"]] == ["connection failed"] * 3
    with server.client() as http:
        history = http.get(f"/api/v1/alarms/{ALARM}/history", params={"kind": "Action"}).json()["history"]
        channels = http.get("/api/v1/channels").text
        alarm = http.get(f"/api/v1/alarms/{ALARM}").text
        searched = http.post("/api/v1/events/search", json={"groups": [GROUP], "limit": 5000}).json()
    assert sorted(h["summary"] for h in history) == [
        "Failed to execute action busy",
        "Failed to execute action down",
    ]
    assert len(searched["events"]) == 2015
    for text in (channels, alarm, str(settled), str(history), caplog.text):
        assert "SECRET" not in text


def test_unknown_channel_type_suggests(alert_servers: AlertServers) -> None:
    """A misspelt channel type is refused with a suggestion."""
    server = alert_servers.start(base_config())
    with server.client() as http:
        response = http.put("/api/v1/channels/x", json={"type": "slak", "url": "https://hooks.example.com/x"})
    assert response.status_code == 400
    assert response.json()["did_you_mean"] == "slack"
