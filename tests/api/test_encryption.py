"""Encryption at rest: with a key configured, no event text is readable in the data dir."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from ..conftest import ndjson, start_server

SECRET_TEXT = "payroll-export-7f3a9c-confidential"


def _files_containing(root: Path, needle: bytes) -> list[str]:
    found = []
    for path in root.rglob("*"):
        if path.is_file() and needle in path.read_bytes():
            found.append(str(path.relative_to(root)))
    return found


def test_encrypted_store_has_no_readable_event_text(tmp_path: Path) -> None:
    """A known message is in no file under the data directory, before and after checkpoint."""
    data = tmp_path / "data"
    env = {"LOGPOND_ENCRYPTION_KEY": "correct horse battery staple"}
    server = start_server(data, env=env)
    with server.client() as http:
        http.post(
            "/api/v1/ingest",
            params={"group": "/enc", "stream": "s"},
            content=ndjson({"message": SECRET_TEXT, "note": SECRET_TEXT}),
        ).raise_for_status()
        assert _files_containing(data, SECRET_TEXT.encode()) == []  # write-ahead log
    server.kill()  # leave the write-ahead log as it is
    assert _files_containing(data, SECRET_TEXT.encode()) == []
    revived = start_server(data, env=env)
    with revived.client() as http:
        events = http.post("/api/v1/events/search", json={"groups": ["/enc"]}).json()["events"]
    assert [e["message"] for e in events] == [SECRET_TEXT]
    revived.terminate()  # checkpoint folds everything into the database file
    assert _files_containing(data, SECRET_TEXT.encode()) == []
    assert _files_containing(data, b"/enc") == []


def test_unencrypted_store_is_readable_as_a_control(tmp_path: Path) -> None:
    """Without a key the same message is found in the files, so the test above can fail."""
    data = tmp_path / "data"
    server = start_server(data)
    with server.client() as http:
        http.post(
            "/api/v1/ingest", params={"group": "/plain"}, content=ndjson({"message": SECRET_TEXT})
        ).raise_for_status()
    server.terminate()
    assert _files_containing(data, SECRET_TEXT.encode()) != []


def test_wrong_or_missing_key_is_a_clear_error(tmp_path: Path) -> None:
    """Opening an encrypted store without its key fails with one clear line."""
    data = tmp_path / "data"
    server = start_server(data, env={"LOGPOND_ENCRYPTION_KEY": "k1"})
    server.terminate()
    for env in ({}, {"LOGPOND_ENCRYPTION_KEY": "k2"}):
        result = subprocess.run(
            [sys.executable, "-m", "logpond", "serve", "--data-dir", str(data), "--port", "0"],
            env={**{k: v for k, v in os.environ.items() if not k.startswith("LOGPOND_")}, **env},
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode != 0
        assert "encryption key" in result.stderr.lower() or "logpond_encryption_key" in result.stderr.lower()


def test_rekey_rotates_the_key_and_keeps_data_and_keys(tmp_path: Path) -> None:
    """logpond rekey rewrites the store under a new key; data and API keys survive."""
    data = tmp_path / "data"
    server = start_server(data, env={"LOGPOND_ENCRYPTION_KEY": "old-key"})
    with server.client() as http:
        http.post(
            "/api/v1/ingest", params={"group": "/rot"}, content=ndjson({"message": SECRET_TEXT})
        ).raise_for_status()
        reader = http.post("/api/v1/keys", json={"role": "reader"}).json()
    server.terminate()
    base = {k: v for k, v in os.environ.items() if not k.startswith("LOGPOND_")}
    rotated = subprocess.run(
        [sys.executable, "-m", "logpond", "rekey", "--data-dir", str(data)],
        env={**base, "LOGPOND_ENCRYPTION_KEY": "old-key", "LOGPOND_NEW_ENCRYPTION_KEY": "new-key"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert rotated.returncode == 0, rotated.stderr
    assert "1 API key secrets re-sealed" in rotated.stdout
    assert _files_containing(data, SECRET_TEXT.encode()) == []
    revived = start_server(data, env={"LOGPOND_ENCRYPTION_KEY": "new-key"})
    try:
        with revived.client(reader["access_key_id"], reader["secret_access_key"]) as http:
            events = http.post("/api/v1/events/search", json={"groups": ["/rot"]}).json()["events"]
        assert [e["message"] for e in events] == [SECRET_TEXT]
    finally:
        revived.terminate()
