"""The logpond command against a real server: ingest, search, groups, keys, errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from ..conftest import LiveServer, free_port, unique_group, wait_healthy

SAMPLE = (
    '{"timestamp":"2026-01-24T10:15:30.123Z","level":"info","message":"HTTP Request",'
    '"trace_id":"abc-123-def-456","tenant_id":"tenant_acme","service":"qualisys-api",'
    '"environment":"production","method":"POST","path":"/api/v1/test-cases","status":201,'
    '"duration_ms":145,"user_agent":"Mozilla/5.0..."}'
)


def logpond(
    server: LiveServer | None, *args: str, stdin: str | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    environ = (
        server.cli_env() if server else {k: v for k, v in os.environ.items() if not k.startswith("LOGPOND_")}
    )
    return subprocess.run(
        [sys.executable, "-m", "logpond", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env={**environ, **(env or {})},
        timeout=120,
    )


def test_ingest_a_file_then_find_it(logpond_server: LiveServer, tmp_path: Path) -> None:
    """logpond ingest sends a file; logpond search finds the sample entry by trace_id."""
    group = unique_group("/cli")
    path = tmp_path / "app.log"
    path.write_text(SAMPLE + "\nplain text line\n")
    result = logpond(logpond_server, "ingest", str(path), "--group", group, "--stream", "pod-1")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"ingested 2 events into {group} (0 rejected)"
    found = logpond(logpond_server, "search", "-g", group, "-f", "trace_id=abc-123-def-456")
    assert found.returncode == 0, found.stderr
    assert found.stdout.startswith("2026-01-24T10:15:30.123Z  info   " + group + "/pod-1  HTTP Request")
    assert '"status":201' in found.stdout
    as_json = logpond(logpond_server, "search", "-g", group, "--format", "json", "-q", "plain text")
    assert [json.loads(line)["message"] for line in as_json.stdout.splitlines()] == ["plain text line"]


def test_ingest_from_stdin_reports_rejections_with_file_lines(logpond_server: LiveServer) -> None:
    """Rejected lines are reported with their line number in the input."""
    group = unique_group("/cli")
    result = logpond(
        logpond_server,
        "ingest",
        "-",
        "-g",
        group,
        stdin='{"message":"ok"}\n{"message":"bad","timestamp":"never"}\n',
    )
    assert result.returncode == 0
    assert "line 2: rejected: invalid timestamp 'never'" in result.stderr
    assert "ingested 1 events" in result.stdout


def test_ingest_a_large_file_in_batches(logpond_server: LiveServer, tmp_path: Path) -> None:
    """A file larger than one batch goes in several requests and arrives whole."""
    group = unique_group("/cli")
    path = tmp_path / "big.log"
    line = '{"message":"' + "x" * 500 + '"}\n'
    path.write_text(line * 5000)  # about 2.5 MiB: three batches
    result = logpond(logpond_server, "ingest", str(path), "-g", group)
    assert result.returncode == 0, result.stderr
    assert "ingested 5000 events" in result.stdout


def test_groups_commands(logpond_server: LiveServer) -> None:
    """groups create, list, set-retention and delete."""
    group = unique_group("/cli-groups")
    assert (
        logpond(logpond_server, "groups", "create", group, "--retention", "30", "--tag", "team=a").returncode
        == 0
    )
    listed = logpond(logpond_server, "groups", "list", "--prefix", "/cli-groups/")
    assert group in listed.stdout and "30d" in listed.stdout and "team=a" in listed.stdout
    changed = logpond(logpond_server, "groups", "set-retention", group, "never")
    assert changed.stdout.strip() == f"{group}: retention never"
    as_json = json.loads(logpond(logpond_server, "groups", "list", "--json", "--prefix", group).stdout)
    assert as_json[0]["retention_days"] is None
    assert logpond(logpond_server, "groups", "delete", group, "--yes").returncode == 0
    assert group not in logpond(logpond_server, "groups", "list").stdout


def test_keys_commands(logpond_server: LiveServer) -> None:
    """keys create prints a secret once; list shows the key; revoke disables it."""
    created = json.loads(
        logpond(
            logpond_server,
            "keys",
            "create",
            "--role",
            "reader",
            "--groups",
            "/cli/*",
            "--description",
            "ci reader",
            "--json",
        ).stdout
    )
    key_id, secret = created["access_key_id"], created["secret_access_key"]
    listed = logpond(logpond_server, "keys", "list").stdout
    assert key_id in listed and "ci reader" in listed and secret not in listed
    as_reader = logpond(
        logpond_server,
        "groups",
        "list",
        env={"LOGPOND_ACCESS_KEY_ID": key_id, "LOGPOND_SECRET_ACCESS_KEY": secret},
    )
    assert as_reader.returncode == 0
    assert logpond(logpond_server, "keys", "revoke", key_id).returncode == 0
    refused = logpond(
        logpond_server,
        "groups",
        "list",
        env={"LOGPOND_ACCESS_KEY_ID": key_id, "LOGPOND_SECRET_ACCESS_KEY": secret},
    )
    assert refused.returncode == 1
    assert refused.stderr.strip() == "error: invalid credentials (UnrecognizedClientException)"


def test_errors_are_one_line_and_non_zero(logpond_server: LiveServer) -> None:
    """Client errors print one line on stderr and exit non-zero."""
    denied = logpond(logpond_server, "groups", "create", "bad name!")
    assert denied.returncode == 1 and len(denied.stderr.strip().splitlines()) == 1
    unreachable = logpond(
        logpond_server, "groups", "list", env={"LOGPOND_URL": f"http://127.0.0.1:{free_port()}"}
    )
    assert unreachable.returncode == 1 and unreachable.stderr.startswith("error: cannot reach logpond")
    no_creds = logpond(None, "groups", "list")
    assert no_creds.returncode == 1 and "no credentials" in no_creds.stderr
    bad_config = logpond(None, "serve", "--config", "/dev/null", "--port", "70000")
    assert bad_config.returncode != 0 and len(bad_config.stderr.strip().splitlines()) == 1


def test_first_start_prints_url_and_root_credentials(tmp_path: Path) -> None:
    """A new server prints its URL and a generated root key, and saves the key with mode 0600."""
    port = free_port()
    environ = {k: v for k, v in os.environ.items() if not k.startswith("LOGPOND_")}
    process = subprocess.Popen(
        [sys.executable, "-m", "logpond", "serve", "--data-dir", str(tmp_path / "data"), "--port", str(port)],
        env=environ,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        wait_healthy(f"http://127.0.0.1:{port}", process)
    finally:
        process.terminate()
        output = process.communicate(timeout=60)[0]
    assert f"listening on http://127.0.0.1:{port}" in output
    credentials = tmp_path / "data" / "root-credentials"
    assert credentials.stat().st_mode & 0o777 == 0o600
    saved = dict(line.removeprefix("export ").split("=", 1) for line in credentials.read_text().splitlines())
    assert f"export LOGPOND_ACCESS_KEY_ID={saved['LOGPOND_ACCESS_KEY_ID']}" in output
    assert f"export LOGPOND_SECRET_ACCESS_KEY={saved['LOGPOND_SECRET_ACCESS_KEY']}" in output


def test_pii_stats_and_redact_commands(logpond_server: LiveServer, tmp_path: Path) -> None:
    """logpond pii stats shows counts for a group; logpond redact previews a local file."""
    group = unique_group("/cli-pii")
    logpond(logpond_server, "ingest", "-", "-g", group, stdin='{"message":"to a.b@example.com"}\n')
    stats = logpond(logpond_server, "pii", "stats", "-g", group)
    assert stats.returncode == 0, stats.stderr
    assert stats.stdout.split() == ["TYPE", "FINDINGS", "email", "1"]
    sample = tmp_path / "sample.log"
    sample.write_text('{"user_name": "John Doe"}\n')
    preview = logpond(None, "redact", str(sample))
    assert preview.returncode == 0 and "John D***" in preview.stdout


def test_query_and_saved_queries_commands(logpond_server: LiveServer) -> None:
    """logpond query prints a table and statistics; queries save/run/list/delete work."""
    group = unique_group("/cli-query")
    logpond(
        logpond_server, "ingest", "-", "-g", group, stdin=SAMPLE + "\n" + SAMPLE.replace("201", "503") + "\n"
    )
    table = logpond(logpond_server, "query", "stats count(*) as n by status | sort status asc", "-g", group,
                    "--since", "3650d")  # fmt: skip
    assert table.returncode == 0, table.stderr
    assert table.stdout.split() == ["status", "n", "201", "1", "503", "1"]
    assert "2 rows; 2 records matched, 2 scanned" in table.stderr
    as_csv = logpond(logpond_server, "query", "filter status >= 500 | fields path", "-g", group,
                     "--since", "3650d", "--format", "csv")  # fmt: skip
    assert as_csv.stdout.splitlines()[:2] == ["path,@ptr", as_csv.stdout.splitlines()[1]]
    assert as_csv.stdout.splitlines()[1].startswith("/api/v1/test-cases,")
    text = "filter status >= 500 | stats count(*) as n"
    saved = logpond(logpond_server, "queries", "save", "cli-5xx", text, "-g", group)
    assert saved.returncode == 0 and saved.stdout.startswith("saved cli-5xx")
    assert "cli-5xx" in logpond(logpond_server, "queries", "list").stdout
    ran = logpond(logpond_server, "queries", "run", "cli-5xx", "--since", "3650d", "--format", "json")
    assert [json.loads(line) for line in ran.stdout.splitlines()] == [{"n": "1"}]
    bad = logpond(logpond_server, "query", "filter (", "-g", group)
    assert bad.returncode == 1 and "MalformedQueryException" in bad.stderr
    assert logpond(logpond_server, "queries", "delete", "cli-5xx").returncode == 0
