"""Log groups and streams through the native API, and groups declared in the config file."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

from ..conftest import LiveServer, start_server, unique_group

EXAMPLE = Path(__file__).parents[2] / "examples" / "qualisys.yaml"


def test_group_lifecycle(logpond_server: LiveServer) -> None:
    """Create, describe, change retention and tags, list by prefix, delete."""
    group = unique_group("/lifecycle")
    with logpond_server.client() as http:
        created = http.post(
            "/api/v1/groups", json={"name": group, "retention_days": 30, "tags": {"team": "a"}}
        )
        assert created.status_code == 201
        assert created.json()["arn"] == f"arn:aws:logs:us-east-1:000000000000:log-group:{group}"
        again = http.post("/api/v1/groups", json={"name": group})
        assert again.status_code == 409 and again.json()["error"] == "ResourceAlreadyExistsException"
        path = "/api/v1/groups/" + quote(group, safe="")
        assert http.get(path).json()["retention_days"] == 30
        changed = http.patch(path, json={"retention_days": 90, "tags": {"team": "b"}}).json()
        assert (changed["retention_days"], changed["tags"]) == (90, {"team": "b"})
        assert http.patch(path, json={"retention_days": "never"}).json()["retention_days"] is None
        listed = http.get("/api/v1/groups", params={"prefix": "/lifecycle/"}).json()["groups"]
        assert group in [g["name"] for g in listed]
        assert http.delete(path).status_code == 204
        assert http.get(path).status_code == 404
        assert http.delete(path).status_code == 404


def test_retention_must_be_a_cloudwatch_value(logpond_server: LiveServer) -> None:
    """Retention outside CloudWatch's allowed set is refused with the allowed values."""
    with logpond_server.client() as http:
        response = http.post("/api/v1/groups", json={"name": unique_group(), "retention_days": 31})
    assert response.status_code == 400
    assert 30 in response.json()["allowed"] and 3653 in response.json()["allowed"]


def test_tags_are_validated(logpond_server: LiveServer) -> None:
    """More than 50 tags, reserved keys and bad characters are refused."""
    with logpond_server.client() as http:
        many = http.post(
            "/api/v1/groups", json={"name": unique_group(), "tags": {f"k{i}": "v" for i in range(51)}}
        )
        reserved = http.post("/api/v1/groups", json={"name": unique_group(), "tags": {"aws:x": "v"}})
        bad = http.post("/api/v1/groups", json={"name": unique_group(), "tags": {"k": "<script>"}})
    assert many.status_code == 429 and many.json()["error"] == "LimitExceededException"
    assert reserved.status_code == 400
    assert bad.status_code == 400


def test_group_listing_pages(logpond_server: LiveServer) -> None:
    """Listing with a small limit pages through every group with next_token."""
    prefix = unique_group("/paging")
    names = [f"{prefix}/{i:02d}" for i in range(7)]
    seen: list[str] = []
    with logpond_server.client() as http:
        for name in names:
            http.post("/api/v1/groups", json={"name": name}).raise_for_status()
        token = None
        while True:
            params: dict[str, str | int] = {"prefix": prefix, "limit": 3}
            if token:
                params["next_token"] = token
            page = http.get("/api/v1/groups", params=params).json()
            seen.extend(g["name"] for g in page["groups"])
            token = page["next_token"]
            if not token:
                break
        bad = http.get("/api/v1/groups", params={"next_token": "%%%"})
    assert seen == names
    assert bad.status_code == 400


def test_stream_lifecycle_and_event_times(logpond_server: LiveServer) -> None:
    """Streams are created by ingest or explicitly, report their event times, and delete."""
    group = unique_group()
    with logpond_server.client() as http:
        http.post("/api/v1/groups", json={"name": group}).raise_for_status()
        assert http.post("/api/v1/streams", json={"group": group, "name": "explicit"}).status_code == 201
        assert http.post("/api/v1/streams", json={"group": group, "name": "explicit"}).status_code == 409
        http.post(
            "/api/v1/ingest",
            params={"group": group, "stream": "pod-a"},
            content=b'{"message":"x","timestamp":1769249730123}',
        ).raise_for_status()
        streams = {
            s["name"]: s for s in http.get("/api/v1/streams", params={"group": group}).json()["streams"]
        }
        assert streams["pod-a"]["first_event"] == streams["pod-a"]["last_event"] == 1769249730123
        assert streams["explicit"]["first_event"] is None
        by_time = http.get(
            "/api/v1/streams", params={"group": group, "order_by": "last_event_time", "descending": True}
        ).json()["streams"]
        assert [s["name"] for s in by_time] == ["pod-a", "explicit"]
        assert http.delete("/api/v1/streams", params={"group": group, "name": "pod-a"}).status_code == 204
        left = http.get("/api/v1/streams", params={"group": group}).json()["streams"]
        assert [s["name"] for s in left] == ["explicit"]
        gone = http.post("/api/v1/events/search", json={"groups": [group]}).json()["events"]
        assert gone == []


def test_config_groups_are_created_at_start(tmp_path: Path) -> None:
    """The example config creates the four Qualisys groups with 30/90-day retention."""
    server = start_server(tmp_path / "data", "--config", str(EXAMPLE))
    try:
        with server.client() as http:
            groups = {
                g["name"]: g
                for g in http.get("/api/v1/groups", params={"prefix": "/qualisys/"}).json()["groups"]
            }
        assert {name: g["retention_days"] for name, g in groups.items()} == {
            "/qualisys/staging/api": 30,
            "/qualisys/staging/worker": 30,
            "/qualisys/production/api": 90,
            "/qualisys/production/worker": 90,
        }
        assert groups["/qualisys/production/api"]["tags"] == {"Environment": "production", "Service": "api"}
    finally:
        server.terminate()


def test_config_updates_but_never_deletes(tmp_path: Path) -> None:
    """Restarting with a changed config updates retention and keeps groups it no longer lists."""
    first = tmp_path / "first.yaml"
    first.write_text("log_groups:\n  - {name: /a, retention_days: 30}\n  - {name: /b}\n")
    second = tmp_path / "second.yaml"
    second.write_text("log_groups:\n  - {name: /a, retention_days: 90}\n")
    server = start_server(tmp_path / "data", "--config", str(first))
    server.terminate()
    server = start_server(tmp_path / "data", "--config", str(second))
    try:
        with server.client() as http:
            groups = {g["name"]: g["retention_days"] for g in http.get("/api/v1/groups").json()["groups"]}
        assert groups == {"/a": 90, "/b": None}
    finally:
        server.terminate()
