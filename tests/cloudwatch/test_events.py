"""PutLogEvents, GetLogEvents and FilterLogEvents through boto3."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from ..conftest import ClockedServer, LiveServer, unique_group
from .conftest import error_code, logs_client, now_ms

HOUR = 3_600_000
DAY = 24 * HOUR


def put(logs: Any, group: str, events: list[dict[str, Any]], stream: str = "s1") -> dict[str, Any]:
    response: dict[str, Any] = logs.put_log_events(logGroupName=group, logStreamName=stream, logEvents=events)
    return response


def refused(logs: Any, group: str, events: list[dict[str, Any]], stream: str = "s1") -> tuple[str, str]:
    with pytest.raises(ClientError) as caught:
        put(logs, group, events, stream)
    return error_code(caught.value), caught.value.response["Error"]["Message"]


def test_put_and_get_verbatim(logs: Any, group: str) -> None:
    """Messages come back exactly as sent, JSON or not, with a sequence token and no rejections."""
    now = now_ms()
    messages = [
        '{"level":"ERROR","message":"boom","trace_id":"t-1","n":1}',
        "plain text",
        "  spaced  ",
        "ünïcødé ✓",
    ]
    response = put(logs, group, [{"timestamp": now + i, "message": m} for i, m in enumerate(messages)])
    assert response["nextSequenceToken"].isdigit()
    assert "rejectedLogEventsInfo" not in response
    got = logs.get_log_events(logGroupName=group, logStreamName="s1", startFromHead=True)
    assert [e["message"] for e in got["events"]] == messages
    assert [e["timestamp"] for e in got["events"]] == [now + i for i in range(4)]
    assert all(abs(e["ingestionTime"] - now) < 60_000 for e in got["events"])


def test_sequence_token_is_ignored(logs: Any, group: str) -> None:
    """Any sequence token (or a stale one) is accepted; parallel writers never conflict."""
    logs.put_log_events(
        logGroupName=group,
        logStreamName="s1",
        sequenceToken="12345",
        logEvents=[{"timestamp": now_ms(), "message": "a"}],
    )


def test_rejected_events_are_reported_with_exclusive_end_indexes(logs: Any, group: str) -> None:
    """Too old and too new events are dropped one by one; the rest are stored."""
    now = now_ms()
    events = [
        {"timestamp": now - 15 * DAY, "message": "too old 0"},
        {"timestamp": now - 15 * DAY + 1, "message": "too old 1"},
        {"timestamp": now, "message": "kept"},
        {"timestamp": now + 3 * HOUR, "message": "too new"},
    ]
    response = put(logs, group, events)
    assert response["rejectedLogEventsInfo"] == {"tooOldLogEventEndIndex": 2, "tooNewLogEventStartIndex": 3}
    got = logs.get_log_events(logGroupName=group, logStreamName="s1", startFromHead=True)
    assert [e["message"] for e in got["events"]] == ["kept"]


def test_expired_by_retention(logs: Any, group: str) -> None:
    """Events older than the group's retention are reported as expired."""
    logs.put_retention_policy(logGroupName=group, retentionInDays=1)
    now = now_ms()
    response = put(
        logs, group, [{"timestamp": now - 2 * DAY, "message": "expired"}, {"timestamp": now, "message": "ok"}]
    )
    assert response["rejectedLogEventsInfo"] == {"expiredLogEventEndIndex": 1}


def test_whole_batch_refusals(logs: Any, group: str, logpond_server: LiveServer) -> None:
    """Order, span, count, size and empty messages fail the whole batch."""
    now = now_ms()
    code, message = refused(
        logs, group, [{"timestamp": now, "message": "b"}, {"timestamp": now - 1, "message": "a"}]
    )
    assert (code, message) == (
        "InvalidParameterException",
        "Log events in a single PutLogEvents request must be in chronological order.",
    )
    code, message = refused(
        logs, group, [{"timestamp": now - 25 * HOUR, "message": "a"}, {"timestamp": now, "message": "b"}]
    )
    assert "cannot span more than 24 hours" in message
    code, message = refused(logs, group, [{"timestamp": now, "message": "x"}] * 10_001)
    assert code == "InvalidParameterException"
    assert "less than or equal to 10000" in message
    big = "x" * (1_048_576 - 26 + 1)
    code, message = refused(logs, group, [{"timestamp": now, "message": big}])
    assert message.startswith("Log event too large")
    half = "y" * 600_000
    code, message = refused(
        logs, group, [{"timestamp": now, "message": half}, {"timestamp": now, "message": half}]
    )
    assert message.startswith("Upload too large")
    unvalidated = logs_client(logpond_server, parameter_validation=False)
    code, message = refused(unvalidated, group, [{"timestamp": now, "message": ""}])
    assert "greater than or equal to 1" in message
    assert logs.get_log_events(logGroupName=group, logStreamName="s1")["events"] == []


def test_exact_limits_are_accepted(logs: Any, group: str) -> None:
    """10,000 events, and 1,048,576 bytes counting 26 per event, are within the limits."""
    now = now_ms()
    response = put(logs, group, [{"timestamp": now, "message": "m"}] * 10_000)
    assert "rejectedLogEventsInfo" not in response
    exact = [{"timestamp": now, "message": "z" * (524_288 - 26)}] * 2
    put(logs, group, exact)


def test_missing_group_or_stream(logs: Any, group: str) -> None:
    """PutLogEvents never creates a stream or group: both are ResourceNotFoundException."""
    event = [{"timestamp": now_ms(), "message": "x"}]
    assert refused(logs, group, event, stream="nope") == (
        "ResourceNotFoundException",
        "The specified log stream does not exist.",
    )
    assert refused(logs, unique_group("/cw"), event)[1] == "The specified log group does not exist."


def test_get_log_events_tokens(logs: Any, group: str) -> None:
    """Forward and backward tokens page through a stream; at the end the token comes back unchanged."""
    now = now_ms()
    put(logs, group, [{"timestamp": now + i, "message": f"m{i}"} for i in range(10)])
    newest = logs.get_log_events(logGroupName=group, logStreamName="s1", limit=3)
    assert [e["message"] for e in newest["events"]] == ["m7", "m8", "m9"]
    older = logs.get_log_events(
        logGroupName=group, logStreamName="s1", limit=3, nextToken=newest["nextBackwardToken"]
    )
    assert [e["message"] for e in older["events"]] == ["m4", "m5", "m6"]
    seen: list[str] = []
    token = None
    while True:
        kwargs: dict[str, Any] = {
            "logGroupName": group,
            "logStreamName": "s1",
            "limit": 4,
            "startFromHead": True,
        }
        if token:
            kwargs["nextToken"] = token
        page = logs.get_log_events(**kwargs)
        seen.extend(e["message"] for e in page["events"])
        if page["nextForwardToken"] == token:
            break
        token = page["nextForwardToken"]
    assert seen == [f"m{i}" for i in range(10)]
    ranged = logs.get_log_events(
        logGroupName=group, logStreamName="s1", startTime=now + 2, endTime=now + 5, startFromHead=True
    )
    assert [e["message"] for e in ranged["events"]] == ["m2", "m3", "m4"]
    with pytest.raises(ClientError) as caught:
        logs.get_log_events(logGroupName=group, logStreamName="s1", nextToken="bogus")
    assert error_code(caught.value) == "InvalidParameterException"
    with pytest.raises(ClientError) as caught:
        logs.get_log_events(logGroupName=group, logStreamName="nope")
    assert error_code(caught.value) == "ResourceNotFoundException"


def test_filter_log_events_patterns_and_streams(logs: Any, group: str) -> None:
    """Filter patterns select events across streams, interleaved in time order."""
    logs.create_log_stream(logGroupName=group, logStreamName="s2")
    now = now_ms()
    put(
        logs,
        group,
        [
            {"timestamp": now, "message": '{"level":"error","status":500}'},
            {"timestamp": now + 2, "message": "ERROR disk"},
        ],
    )
    put(logs, group, [{"timestamp": now + 1, "message": '{"level":"info","status":200}'}], stream="s2")
    everything = logs.filter_log_events(logGroupName=group)
    assert [e["timestamp"] for e in everything["events"]] == [now, now + 1, now + 2]
    assert everything["searchedLogStreams"] == []
    assert {e["logStreamName"] for e in everything["events"]} == {"s1", "s2"}
    assert len({e["eventId"] for e in everything["events"]}) == 3
    json_match = logs.filter_log_events(logGroupName=group, filterPattern="{ $.status >= 500 }")
    assert [e["message"] for e in json_match["events"]] == ['{"level":"error","status":500}']
    terms = logs.filter_log_events(logGroupName=group, filterPattern="ERROR")
    assert [e["message"] for e in terms["events"]] == ["ERROR disk"]
    by_stream = logs.filter_log_events(logGroupName=group, logStreamNames=["s2"])
    assert [e["logStreamName"] for e in by_stream["events"]] == ["s2"]
    by_prefix = logs.filter_log_events(logGroupName=group, logStreamNamePrefix="s1")
    assert len(by_prefix["events"]) == 2
    ranged = logs.filter_log_events(logGroupName=group, startTime=now + 1, endTime=now + 1)
    assert [e["timestamp"] for e in ranged["events"]] == [now + 1]
    newest_first = logs.filter_log_events(logGroupName=group, startTime=now, startFromHead=False)
    assert [e["timestamp"] for e in newest_first["events"]] == [now + 2, now + 1, now]


def test_filter_log_events_paging(logs: Any, group: str) -> None:
    """nextToken continues where the page ended; the paginator collects every event."""
    now = now_ms()
    put(logs, group, [{"timestamp": now + i, "message": f"e{i}"} for i in range(7)])
    first = logs.filter_log_events(logGroupName=group, limit=3)
    assert [e["message"] for e in first["events"]] == ["e0", "e1", "e2"]
    second = logs.filter_log_events(logGroupName=group, limit=3, nextToken=first["nextToken"])
    assert [e["message"] for e in second["events"]] == ["e3", "e4", "e5"]
    pages = logs.get_paginator("filter_log_events").paginate(
        logGroupName=group, PaginationConfig={"PageSize": 2}
    )
    assert [e["message"] for p in pages for e in p["events"]] == [f"e{i}" for i in range(7)]


def test_filter_log_events_errors(logs: Any, group: str) -> None:
    """Bad patterns, both stream selectors, old descending ranges and bad tokens are refused."""
    cases: list[dict[str, Any]] = [
        {"filterPattern": "{ $.a = "},
        {"filterPattern": "%bad(regex%"},
        {"logStreamNames": ["s1"], "logStreamNamePrefix": "s"},
        {"startFromHead": False, "startTime": 0},
        {"nextToken": "garbage"},
        {"limit": 10_001},
    ]
    for case in cases:
        with pytest.raises(ClientError) as caught:
            logs.filter_log_events(logGroupName=group, **case)
        assert error_code(caught.value) == "InvalidParameterException", case
    with pytest.raises(ClientError) as caught:
        logs.filter_log_events(logGroupName=unique_group("/cw"))
    assert error_code(caught.value) == "ResourceNotFoundException"


def test_fixed_clock_rejection_boundaries(clocked_server: ClockedServer) -> None:
    """Exactly 2 hours ahead and exactly 14 days back are accepted; one more millisecond is not."""
    logs = logs_client(clocked_server.server)
    now = clocked_server.clock.now_ms()
    group = unique_group("/edge")
    logs.create_log_group(logGroupName=group)
    logs.create_log_stream(logGroupName=group, logStreamName="s")
    response = logs.put_log_events(
        logGroupName=group,
        logStreamName="s",
        logEvents=[
            {"timestamp": now - 14 * DAY, "message": "edge old"},
            {"timestamp": now - 14 * DAY + 1, "message": "ok"},
        ],
    )
    assert "rejectedLogEventsInfo" not in response
    response = logs.put_log_events(
        logGroupName=group,
        logStreamName="s",
        logEvents=[
            {"timestamp": now + 2 * HOUR, "message": "edge new"},
            {"timestamp": now + 2 * HOUR + 1, "message": "x"},
        ],
    )
    assert response["rejectedLogEventsInfo"] == {"tooNewLogEventStartIndex": 1}
