"""``logpond alarms`` and ``logpond metrics`` against a real server whose alarm has fired."""

from __future__ import annotations

import json
from pathlib import Path

from ..api.test_cli import logpond
from .conftest import MINUTE, AlertServers, Receiver
from .test_alarms_e2e import GROUP, SETTLE_MS, errors, minute_of, story_config

ALARM = "qualisys-error-rate-spike"


def test_alarms_and_metrics_commands(alert_servers: AlertServers, receiver: Receiver, tmp_path: Path) -> None:
    server = alert_servers.start(story_config(tmp_path, receiver))
    minute = minute_of(server)
    server.ingest(GROUP, *errors(minute + 1_000, 12))
    server.move_to(minute + MINUTE + SETTLE_MS + 100)
    assert receiver.wait_for(1)
    live = server.server

    listed = logpond(live, "alarms", "list")
    assert listed.returncode == 0, listed.stderr
    lines = listed.stdout.splitlines()
    assert lines[0].split() == ["NAME", "STATE", "CONDITION", "PERIODS", "SINCE"]
    assert lines[1].split()[:5] == [ALARM, "ALARM", "Sum(ErrorCount)", ">", "10"]
    assert "FILL(http5xx, 0) / total * 100 > 5" in listed.stdout
    only = json.loads(logpond(live, "alarms", "list", "--state", "ALARM", "--json").stdout)
    assert [a["name"] for a in only["alarms"]] == [ALARM]

    history = logpond(live, "alarms", "history", ALARM, "--type", "StateUpdate")
    assert history.returncode == 0, history.stderr
    assert "Alarm updated from INSUFFICIENT_DATA to ALARM" in history.stdout

    sent = logpond(live, "alarms", "test", ALARM)
    assert sent.returncode == 0, sent.stderr
    assert sent.stdout.splitlines()[1].split()[:3] == ["qualisys-alerts", "delivered", "1"]
    receiver.status = 404  # not worth retrying: fails at once
    refused = logpond(live, "alarms", "test", ALARM)
    assert refused.returncode == 1
    assert refused.stdout.splitlines()[1].split()[:2] == ["qualisys-alerts", "failed"]

    missing = logpond(live, "alarms", "history", "no-such-alarm")
    assert missing.returncode != 0 and missing.stderr.strip()

    found = logpond(live, "metrics", "list", "--namespace", "QUALISYS/Application")
    assert found.returncode == 0, found.stderr
    assert "ErrorCount" in found.stdout
    series = logpond(live, "metrics", "series", "QUALISYS/Application", "ErrorCount", "--since", "2h")
    assert series.returncode == 0, series.stderr
    assert series.stdout.splitlines()[1].split()[-1] == "12"
