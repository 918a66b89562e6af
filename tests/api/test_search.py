"""Native search: time range, substring, field equality, streams, cursor paging."""

from __future__ import annotations

from typing import Any

from ..conftest import LiveServer, ndjson, unique_group

BASE = 1_769_249_730_000


def _seed(server: LiveServer, group: str) -> None:
    records = [
        {
            "timestamp": BASE + i * 1000,
            "level": "error" if i % 5 == 0 else "info",
            "message": f"request {i}",
            "trace_id": f"trace-{i % 3}",
            "status": 500 if i % 5 == 0 else 200,
            "path": "/api/v1/test-cases",
        }
        for i in range(25)
    ]
    with server.client() as http:
        for stream, part in (("a", records[:15]), ("b", records[15:])):
            http.post(
                "/api/v1/ingest", params={"group": group, "stream": stream}, content=ndjson(*part)
            ).raise_for_status()


def _search(server: LiveServer, **spec: Any) -> dict[str, Any]:
    with server.client() as http:
        response = http.post("/api/v1/events/search", json=spec)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_newest_first_by_default_and_ascending_on_request(logpond_server: LiveServer) -> None:
    """Results are ordered by time, newest first unless order is asc."""
    group = unique_group()
    _seed(logpond_server, group)
    newest = _search(logpond_server, groups=[group], limit=3)["events"]
    oldest = _search(logpond_server, groups=[group], limit=3, order="asc")["events"]
    assert [e["message"] for e in newest] == ["request 24", "request 23", "request 22"]
    assert [e["message"] for e in oldest] == ["request 0", "request 1", "request 2"]


def test_time_range_is_start_inclusive_end_exclusive(logpond_server: LiveServer) -> None:
    """start is inclusive and end exclusive, in ms or ISO-8601."""
    group = unique_group()
    _seed(logpond_server, group)
    events = _search(logpond_server, groups=[group], start=BASE + 5000, end="2026-01-24T10:15:40.000Z")[
        "events"
    ]
    assert sorted(e["message"] for e in events) == [f"request {i}" for i in range(5, 10)]


def test_substring_and_field_filters(logpond_server: LiveServer) -> None:
    """query matches text in messages or fields; fields match promoted columns and JSON keys."""
    group = unique_group()
    _seed(logpond_server, group)
    errors = _search(logpond_server, groups=[group], fields={"level": "error", "status": 500})["events"]
    assert sorted(e["message"] for e in errors) == [f"request {i}" for i in (0, 10, 15, 20, 5)]
    trace = _search(logpond_server, groups=[group], fields={"trace_id": "trace-1"})["events"]
    assert len(trace) == 8
    text = _search(logpond_server, groups=[group], query="request 1")["events"]
    assert len(text) == 11  # request 1 and 10-19
    by_field_text = _search(logpond_server, groups=[group], query="test-cases", limit=100)["events"]
    assert len(by_field_text) == 25


def test_stream_filter(logpond_server: LiveServer) -> None:
    """streams restricts the search to named streams."""
    group = unique_group()
    _seed(logpond_server, group)
    events = _search(logpond_server, groups=[group], streams=["b"], limit=100)["events"]
    assert {e["stream"] for e in events} == {"b"} and len(events) == 10


def test_cursor_pages_through_everything_once(logpond_server: LiveServer) -> None:
    """Following next_cursor visits every event exactly once, in order."""
    group = unique_group()
    _seed(logpond_server, group)
    seen: list[str] = []
    cursor = None
    while True:
        page = _search(logpond_server, groups=[group], limit=4, **({"cursor": cursor} if cursor else {}))
        seen.extend(e["id"] for e in page["events"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == len(set(seen)) == 25


def test_several_groups_interleave(logpond_server: LiveServer) -> None:
    """A search over two groups returns events of both, ordered by time."""
    first, second = unique_group(), unique_group()
    _seed(logpond_server, first)
    _seed(logpond_server, second)
    events = _search(logpond_server, groups=[first, second], limit=4, order="asc")["events"]
    assert [e["group"] for e in events] in ([first, second] * 2, [second, first] * 2)


def test_bad_search_requests(logpond_server: LiveServer) -> None:
    """Unknown groups are 404; bad times, cursors and limits are 400."""
    group = unique_group()
    _seed(logpond_server, group)
    with logpond_server.client() as http:
        assert http.post("/api/v1/events/search", json={"groups": ["/no/such"]}).status_code == 404
        assert (
            http.post("/api/v1/events/search", json={"groups": [group], "start": "soon"}).status_code == 400
        )
        assert (
            http.post("/api/v1/events/search", json={"groups": [group], "cursor": "WzFd"}).status_code == 400
        )
        assert http.post("/api/v1/events/search", json={"groups": [group], "limit": 0}).status_code == 400
        assert http.post("/api/v1/events/search", json={"groups": []}).status_code == 400


def test_search_text_is_never_sql(logpond_server: LiveServer) -> None:
    """Quotes, SQL and JSON-path syntax in search input are matched literally."""
    group = unique_group()
    nasty = "x'); DROP TABLE log_groups; --"
    with logpond_server.client() as http:
        http.post(
            "/api/v1/ingest",
            params={"group": group},
            content=ndjson({"message": nasty, "we'ird.key": 'v"al'}),
        ).raise_for_status()
    found = _search(logpond_server, groups=[group], query=nasty)["events"]
    assert [e["message"] for e in found] == [nasty]
    by_key = _search(logpond_server, groups=[group], fields={"we'ird.key": 'v"al'})["events"]
    assert len(by_key) == 1
    assert _search(logpond_server, groups=[group], fields={"$.x') OR 1=1 --": "1"})["events"] == []
