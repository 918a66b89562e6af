"""PII is masked before it is stored, with the default policy or a group's own; audits count."""

from __future__ import annotations

from pathlib import Path

import pytest

from ..conftest import LiveServer, ndjson, start_server, unique_group


def _events(server: LiveServer, group: str) -> list[dict[str, object]]:
    with server.client() as http:
        events: list[dict[str, object]] = http.post(
            "/api/v1/events/search", json={"groups": [group], "order": "asc"}
        ).json()["events"]
    return events


def test_default_policy_masks_email_and_names_before_storage(logpond_server: LiveServer) -> None:
    """The source story's examples: j***@***.com and John D*** are what is stored."""
    group = unique_group("/pii")
    record = {"message": "signup by john.doe@acme.com", "user_name": "John Doe", "plan": "pro"}
    with logpond_server.client() as http:
        http.post("/api/v1/ingest", params={"group": group}, content=ndjson(record)).raise_for_status()
    (event,) = _events(logpond_server, group)
    assert event["message"] == "signup by j***@***.com"
    assert event["fields"] == {"user_name": "John D***", "plan": "pro"}
    with logpond_server.client() as http:
        found = http.post("/api/v1/events/search", json={"groups": [group], "query": "john.doe"}).json()
    assert found["events"] == []


def test_audit_counts_types_never_values(logpond_server: LiveServer) -> None:
    """/api/v1/pii/stats reports counts per type; the values appear nowhere in the answer."""
    group = unique_group("/pii")
    records = [{"message": f"mail user{i}@example.org"} for i in range(3)]
    with logpond_server.client() as http:
        http.post("/api/v1/ingest", params={"group": group}, content=ndjson(*records)).raise_for_status()
        stats = http.get("/api/v1/pii/stats", params={"group": group})
    assert stats.status_code == 200
    assert stats.json()["totals"] == {"email": 3}
    assert "example.org" not in stats.text
    assert stats.json()["findings"][0]["group"] == group


def test_group_policy_from_config_and_audit_mode(tmp_path: Path) -> None:
    """A group's own policy in the config replaces the default; audit mode stores unchanged."""
    config = tmp_path / "c.yaml"
    config.write_text(
        "log_groups:\n"
        "  - name: /audited\n    data_protection: {mode: audit}\n"
        "  - name: /keep-local\n    data_protection: {masks: {email: keep_local}}\n"
    )
    server = start_server(tmp_path / "data", "--config", str(config))
    try:
        with server.client() as http:
            for group in ("/audited", "/keep-local"):
                body = ndjson({"message": "from jane@corp.example"})
                http.post("/api/v1/ingest", params={"group": group}, content=body).raise_for_status()
            audited = http.get("/api/v1/pii/stats", params={"group": "/audited"}).json()
        assert _events(server, "/audited")[0]["message"] == "from jane@corp.example"
        assert audited["totals"] == {"email": 1}
        assert _events(server, "/keep-local")[0]["message"] != "from jane@corp.example"
        assert "jane@" in str(_events(server, "/keep-local")[0]["message"])
    finally:
        server.terminate()


def test_bad_policy_in_config_stops_the_server(tmp_path: Path) -> None:
    """An unknown rule name in a policy is a configuration error naming the setting."""
    config = tmp_path / "c.yaml"
    config.write_text("data_protection:\n  default: {enable: [emial]}\n")
    with pytest.raises(RuntimeError, match=r"data_protection\.default"):
        start_server(tmp_path / "data", "--config", str(config))


def test_pii_stats_needs_a_known_group_and_permission(logpond_server: LiveServer) -> None:
    """Unknown groups are 404; a shipper key may not read audits."""
    with logpond_server.client() as http:
        assert http.get("/api/v1/pii/stats", params={"group": "/no/such"}).status_code == 404
        key = http.post("/api/v1/keys", json={"role": "shipper"}).json()
    group = unique_group("/pii")
    with logpond_server.client() as http:
        http.post("/api/v1/groups", json={"name": group}).raise_for_status()
    with logpond_server.client(key["access_key_id"], key["secret_access_key"]) as http:
        assert http.get("/api/v1/pii/stats", params={"group": group}).status_code == 403
