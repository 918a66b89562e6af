"""The source story's alarms on a real server: events in, metric filters, the evaluator at
period boundaries, notifications out to a local receiver standing in for Slack."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from .conftest import MINUTE, AlertServer, AlertServers, Receiver

GROUP = "/qualisys/production/api"
SETTLE_MS = 1000


EXAMPLE = Path(__file__).parents[2] / "examples" / "qualisys.yaml"


def story_config(tmp_path: Path, receiver: Receiver, **overrides: Any) -> dict[str, Any]:
    """examples/qualisys.yaml's alerts as they ship, with the Slack URL pointing at the
    receiver and shorter settle and retry waits."""
    url_file = tmp_path / "slack-url"
    url_file.write_text(receiver.url("/slack/T000/B000/XXXX"))
    alerts: dict[str, Any] = yaml.safe_load(EXAMPLE.read_text())["alerts"]
    (channel,) = alerts["channels"]
    alerts["channels"] = [{"name": channel["name"], "type": "slack", "url_file": str(url_file)}]
    alerts.update(
        settle_seconds=SETTLE_MS / 1000,
        retry_backoff_seconds=0.1,
        delivery_attempts=3,
        public_url="https://logs.example.com",
    )
    alerts.update(overrides)
    return {"log_groups": [{"name": GROUP, "retention_days": 90}], "alerts": alerts}


def minute_of(server: AlertServer) -> int:
    return server.clock.now_ms() // MINUTE * MINUTE


def errors(start_ms: int, count: int, spacing_ms: int = 2000) -> list[dict[str, Any]]:
    return [
        {"timestamp": start_ms + i * spacing_ms, "level": "error", "message": "payment failed"}
        for i in range(count)
    ]


def requests(start_ms: int, total: int, failing: int) -> list[dict[str, Any]]:
    return [
        {"timestamp": start_ms + i * 100, "level": "info", "message": "HTTP Request",
         "status": 503 if i < failing else 200, "path": "/api/v1/test-cases"}
        for i in range(total)
    ]  # fmt: skip


def alarm_messages(receiver: Receiver, state: str = "ALARM", name: str | None = None) -> list[dict[str, Any]]:
    out = []
    for request in receiver.received("/slack/T000/B000/XXXX"):
        body = request.json()
        header = body["blocks"][0]["text"]["text"]
        if f" {state}: " in header and (name is None or header.endswith(name)):
            out.append(body)
    return out


def alarm_state(server: AlertServer, name: str) -> str:
    with server.client() as http:
        found: str = http.get(f"/api/v1/alarms/{name}").json()["state"]
    return found


def test_fifteen_errors_in_a_minute_notify_once(
    alert_servers: AlertServers, receiver: Receiver, tmp_path: Path
) -> None:
    """15 errors in one minute give exactly one ALARM message, within one period + 10 s."""
    server = alert_servers.start(story_config(tmp_path, receiver))
    minute = minute_of(server)
    events = errors(minute + 5_000, 15)
    server.ingest(GROUP, *events)
    last_event = events[-1]["timestamp"]
    server.move_to(minute + MINUTE + SETTLE_MS + 100)
    started = time.monotonic()
    assert receiver.wait_for(1, timeout=10)
    assert time.monotonic() - started < 10
    [message] = alarm_messages(receiver)
    payload_time = server.services.store.notifications("qualisys-error-rate-spike")[0].payload["timestamp_ms"]
    assert payload_time - last_event <= 60_000 + 10_000
    header = message["blocks"][0]["text"]["text"]
    assert header.endswith("ALARM: qualisys-error-rate-spike")
    fields = {f["text"].split("\n")[0]: f["text"].split("\n")[1] for f in message["blocks"][2]["fields"]}
    assert fields["*State*"] == "INSUFFICIENT_DATA -> ALARM" or fields["*State*"] == "OK -> ALARM"
    assert fields["*Value*"] == "15 vs threshold > 10"
    reason = message["blocks"][3]["text"]["text"]
    assert "greater than the threshold (10.0)" in reason
    button = message["blocks"][4]["elements"][0]
    assert button["url"].startswith("https://logs.example.com/#/search?g=%2Fqualisys%2Fproduction%2Fapi&q=")
    assert "level+%3D+%22error%22" in button["url"]
    assert f"from={minute}&to={minute + MINUTE}" in button["url"]
    # Two more quiet minutes: the alarm goes back to OK, and no second ALARM is sent.
    server.move_to(minute + 2 * MINUTE + SETTLE_MS + 100)
    server.move_to(minute + 3 * MINUTE + SETTLE_MS + 100)
    assert alarm_state(server, "qualisys-error-rate-spike") == "OK"
    assert len(alarm_messages(receiver)) == 1


@pytest.mark.parametrize(("count", "state"), [(11, "ALARM"), (10, "OK")])
def test_threshold_boundary(
    alert_servers: AlertServers, receiver: Receiver, tmp_path: Path, count: int, state: str
) -> None:
    """11 errors in a minute is more than 10 (ALARM); 10 is not (OK, no ALARM message)."""
    server = alert_servers.start(story_config(tmp_path, receiver))
    minute = minute_of(server)
    server.ingest(GROUP, *errors(minute + 1_000, count, spacing_ms=4000))
    server.move_to(minute + MINUTE + SETTLE_MS + 100)
    assert alarm_state(server, "qualisys-error-rate-spike") == state
    if state == "ALARM":
        receiver.wait_for(1)
        time.sleep(0.5)
        assert len(alarm_messages(receiver, name="qualisys-error-rate-spike")) == 1
    else:
        time.sleep(1.0)
        assert alarm_messages(receiver, name="qualisys-error-rate-spike") == []


def test_5xx_rate_over_five_periods(alert_servers: AlertServers, receiver: Receiver, tmp_path: Path) -> None:
    """5xx at 6 % of requests for 5 minutes raises the alarm; a minute at 4 % clears it."""
    server = alert_servers.start(story_config(tmp_path, receiver))
    minute = minute_of(server)
    name = "qualisys-high-5xx-rate"
    for i in range(5):
        start = minute + i * MINUTE
        server.clock.set(start + 1_000)
        server.ingest(GROUP, *requests(start + 1_000, 100, 6))
        server.move_to(start + MINUTE + SETTLE_MS + 100)
        expected = "ALARM" if i == 4 else "INSUFFICIENT_DATA"
        assert alarm_state(server, name) == expected, f"after minute {i + 1}"
    assert len(receiver.wait_for(1)) == 1
    [message] = alarm_messages(receiver, name=name)
    assert "6 vs threshold > 5" in str(message["blocks"])
    start = minute + 5 * MINUTE
    server.clock.set(start + 1_000)
    server.ingest(GROUP, *requests(start + 1_000, 100, 4))
    server.move_to(start + MINUTE + SETTLE_MS + 100)
    assert alarm_state(server, name) == "OK"
    receiver.wait_for(2)
    assert len(alarm_messages(receiver, "OK", name)) == 1
    with server.client() as http:
        history = http.get(f"/api/v1/alarms/{name}/history", params={"kind": "StateUpdate"}).json()["history"]
    assert [h["summary"] for h in history] == [
        "Alarm updated from ALARM to OK",
        "Alarm updated from INSUFFICIENT_DATA to ALARM",
    ]


def test_missing_data_treatments(alert_servers: AlertServers, receiver: Receiver, tmp_path: Path) -> None:
    """With no datapoints: missing -> INSUFFICIENT_DATA, notBreaching -> OK, breaching ->
    ALARM, ignore -> the state is kept; after data stops, ignore keeps ALARM and missing
    keeps it until the whole evaluation range is empty."""
    config = story_config(tmp_path, receiver, alarms=[
        {"name": f"quiet-{treat}", "namespace": "QUALISYS/Application", "metric_name": "ErrorCount",
         "statistic": "Sum", "period": 60, "evaluation_periods": 1, "threshold": 10,
         "comparison": ">", "treat_missing_data": treat}
        for treat in ("missing", "notBreaching", "breaching", "ignore")
    ])  # fmt: skip
    server = alert_servers.start(config)
    minute = minute_of(server)
    server.move_to(minute + SETTLE_MS + 100)
    states = {
        t: alarm_state(server, f"quiet-{t}") for t in ("missing", "notBreaching", "breaching", "ignore")
    }
    assert states == {
        "missing": "INSUFFICIENT_DATA",
        "notBreaching": "OK",
        "breaching": "ALARM",
        "ignore": "INSUFFICIENT_DATA",
    }
    server.ingest(GROUP, *errors(minute + 1_000, 12))
    server.move_to(minute + MINUTE + SETTLE_MS + 100)
    assert {t: alarm_state(server, f"quiet-{t}") for t in states} == dict.fromkeys(states, "ALARM")
    # One quiet minute: ignore and missing keep ALARM (an earlier point is in the range);
    # notBreaching goes OK; breaching stays ALARM.
    server.move_to(minute + 2 * MINUTE + SETTLE_MS + 100)
    assert {t: alarm_state(server, f"quiet-{t}") for t in states} == {
        "missing": "ALARM",
        "notBreaching": "OK",
        "breaching": "ALARM",
        "ignore": "ALARM",
    }
    # A second quiet minute: the evaluation range is empty; missing becomes INSUFFICIENT_DATA.
    server.move_to(minute + 3 * MINUTE + SETTLE_MS + 100)
    assert alarm_state(server, "quiet-missing") == "INSUFFICIENT_DATA"
    assert alarm_state(server, "quiet-ignore") == "ALARM"


def test_restart_in_alarm_keeps_state_without_notifying_again(
    alert_servers: AlertServers, receiver: Receiver, tmp_path: Path
) -> None:
    """After a restart, an alarm in ALARM stays there, and nothing is sent a second time."""
    config = story_config(tmp_path, receiver)
    server = alert_servers.start(config)
    minute = minute_of(server)
    server.ingest(GROUP, *errors(minute + 5_000, 15))
    server.move_to(minute + MINUTE + SETTLE_MS + 100)
    assert len(receiver.wait_for(1)) == 1
    # Errors go on in the next minute; the server stops before that minute is evaluated.
    server.ingest(GROUP, *errors(minute + MINUTE + 2_000, 15))
    server.stop()
    again = alert_servers.start(config, clock=server.clock, data_dir=server.server.data_dir)
    assert alarm_state(again, "qualisys-error-rate-spike") == "ALARM"
    again.move_to(minute + 2 * MINUTE + SETTLE_MS + 100)
    assert alarm_state(again, "qualisys-error-rate-spike") == "ALARM"
    time.sleep(1.0)
    assert len(alarm_messages(receiver, name="qualisys-error-rate-spike")) == 1
    with again.client() as http:
        history = http.get("/api/v1/alarms/qualisys-error-rate-spike/history", params={"kind": "StateUpdate"})
    assert [h["summary"] for h in history.json()["history"]] == [
        "Alarm updated from INSUFFICIENT_DATA to ALARM"
    ]
    # The minute ingested before the restart was counted (the aggregates were flushed at stop).
    with again.client() as http:
        series = http.get(
            "/api/v1/metrics/series",
            params={"namespace": "QUALISYS/Application", "name": "ErrorCount", "start": minute,
                    "end": minute + 2 * MINUTE},
        ).json()  # fmt: skip
    assert [p["value"] for p in series["points"]] == [15.0, 15.0]


def test_example_starts_without_the_slack_variable(
    alert_servers: AlertServers, monkeypatch: pytest.MonkeyPatch
) -> None:
    """examples/qualisys.yaml as shipped, with LOGPOND_SLACK_WEBHOOK_URL unset: the server
    starts with both alarms and every metric filter; the channel is left out."""
    monkeypatch.delenv("LOGPOND_SLACK_WEBHOOK_URL", raising=False)
    config = yaml.safe_load(EXAMPLE.read_text())
    config.pop("server")
    server = alert_servers.start(config)
    with server.client() as http:
        alarms = {a["name"] for a in http.get("/api/v1/alarms").json()["alarms"]}
        filters = {f["name"] for f in http.get("/api/v1/metric-filters").json()["metric_filters"]}
        channels = http.get("/api/v1/channels").json()["channels"]
    assert alarms == {"qualisys-error-rate-spike", "qualisys-high-5xx-rate"}
    assert filters == {"qualisys-error-count", "qualisys-http-5xx", "qualisys-http-total"}
    assert channels == []
