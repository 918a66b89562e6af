"""Shipping into a real logpond server (``logpond serve`` on 127.0.0.1), found again by search."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from typing import Any

import logpond.sdk as lp
from logpond.sdk import _runtime
from logpond.sdk.testing import InternalErrors
from tests.conftest import LiveServer, unique_group


def search(
    server: LiveServer, groups: list[str], expected: int, timeout: float = 15, **fields: Any
) -> list[dict[str, Any]]:
    """Events of ``groups`` matching ``fields``, oldest first, once ``expected`` are there."""
    now = int(time.time() * 1000)
    body = {"groups": groups, "start": now - 3_600_000, "end": now + 3_600_000,
            "fields": fields, "order": "asc", "limit": 10_000}  # fmt: skip
    deadline = time.monotonic() + timeout
    with server.client() as client:
        while True:
            response = client.post("/api/v1/events/search", json=body)
            events: list[dict[str, Any]] = []
            if response.status_code != 404:  # 404: a group has not received anything yet
                response.raise_for_status()
                events = response.json()["events"]
            if len(events) >= expected or time.monotonic() > deadline:
                return events
            time.sleep(0.2)


def api_key(server: LiveServer) -> str:
    return f"{server.access_key_id}:{server.secret_access_key}"


def test_records_arrive_and_one_search_by_trace_id_finds_them_in_order(logpond_server: LiveServer) -> None:
    """Records shipped by the SDK are stored with their promoted columns and found by trace_id."""
    group = unique_group("/sdk")
    lp.init("qualisys-api", "test", endpoint=logpond_server.url, api_key=api_key(logpond_server),
            log_group=group, log_stream="api-1")  # fmt: skip
    trace = lp.new_trace_id()
    log = lp.get_logger("api")
    with lp.context_scope(trace_id=trace, tenant_id="tenant_acme"):
        for i in range(20):
            log.info("step", i=i, email="john.doe@acme.com")
        log.error("failed", status=500)
    assert lp.flush(10)
    events = search(logpond_server, [group], 21, trace_id=trace)
    assert [e["fields"].get("i") for e in events[:20]] == list(range(20))
    first = events[0]
    assert (first["group"], first["stream"]) == (group, "api-1")
    assert (first["trace_id"], first["tenant_id"], first["service"]) == (trace, "tenant_acme", "qualisys-api")
    assert first["level"] == "info"
    assert first["message"] == "step"
    assert first["fields"]["email"] == "j***@***.com"
    assert events[-1]["level"] == "error"


def test_wrong_credentials_drop_the_batch_without_retrying(
    logpond_server: LiveServer, sdk_errors: InternalErrors
) -> None:
    """A 401 from the server drops the batch and counts it ``http_4xx``."""
    sdk_errors.allow("http_401")
    lp.init("svc", "test", endpoint=logpond_server.url, api_key="LPWRONG:nope", log_group=unique_group())
    lp.get_logger("x").info("refused")
    assert lp.flush(10)
    shipper = _runtime.current().shipper
    assert shipper is not None and shipper.dropped["http_4xx"] == 1


def _script(server: LiveServer, group: str, body: str) -> list[str]:
    code = textwrap.dedent(
        f"""
        import os, sys, time
        import logpond.sdk as lp
        ENDPOINT, KEY, GROUP = {server.url!r}, {api_key(server)!r}, {group!r}
        """
    ) + textwrap.dedent(body)
    return [sys.executable, "-c", code]


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("LOGPOND_")}


def test_sigterm_ships_queued_records_before_exiting(logpond_server: LiveServer) -> None:
    """A process killed with SIGTERM flushes its queued records to the server, then dies of SIGTERM."""
    group = unique_group("/sdk-sigterm")
    with subprocess.Popen(
        _script(logpond_server, group, """
            lp.init("svc", "test", endpoint=ENDPOINT, api_key=KEY, log_group=GROUP,
                    flush_interval=60, install_signal_handlers=True)
            with lp.context_scope(trace_id="sigterm-trace"):
                for i in range(50):
                    lp.get_logger("x").info("queued", i=i)
            print("ready", flush=True)
            time.sleep(60)
        """),
        stdout=subprocess.PIPE,
        env=_env(),
    ) as process:  # fmt: skip
        assert process.stdout is not None
        assert process.stdout.readline().strip() == b"ready"
        process.send_signal(signal.SIGTERM)
        assert process.wait(30) == -signal.SIGTERM
    events = search(logpond_server, [group], 50, trace_id="sigterm-trace")
    assert [e["fields"]["i"] for e in events] == list(range(50))


def test_sigterm_chains_the_previous_handler(logpond_server: LiveServer) -> None:
    """With a handler of its own installed first, SIGTERM flushes and then runs that handler."""
    group = unique_group("/sdk-chain")
    with subprocess.Popen(
        _script(logpond_server, group, """
            import signal
            signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(7))
            lp.init("svc", "test", endpoint=ENDPOINT, api_key=KEY, log_group=GROUP,
                    flush_interval=60, install_signal_handlers=True)
            with lp.context_scope(trace_id="chain-trace"):
                lp.get_logger("x").info("queued")
            print("ready", flush=True)
            time.sleep(60)
        """),
        stdout=subprocess.PIPE,
        env=_env(),
    ) as process:  # fmt: skip
        assert process.stdout is not None
        assert process.stdout.readline().strip() == b"ready"
        process.send_signal(signal.SIGTERM)
        assert process.wait(30) == 7
    assert len(search(logpond_server, [group], 1, trace_id="chain-trace")) == 1


def test_normal_exit_flushes_through_atexit(logpond_server: LiveServer) -> None:
    """A process that simply ends ships what it queued (``shutdown`` runs at exit)."""
    group = unique_group("/sdk-atexit")
    done = subprocess.run(
        _script(logpond_server, group, """
            lp.init("svc", "test", endpoint=ENDPOINT, api_key=KEY, log_group=GROUP, flush_interval=60)
            with lp.context_scope(trace_id="atexit-trace"):
                for i in range(10):
                    lp.get_logger("x").info("queued", i=i)
        """),
        env=_env(),
        timeout=60,
    )  # fmt: skip
    assert done.returncode == 0
    assert len(search(logpond_server, [group], 10, trace_id="atexit-trace")) == 10


def test_forked_workers_ship_their_records_once_without_hanging(logpond_server: LiveServer) -> None:
    """After a preload-style fork, children's records arrive, the parent's arrive once, none hang."""
    group = unique_group("/sdk-fork")
    done = subprocess.run(
        _script(logpond_server, group, """
            lp.init("svc", "test", endpoint=ENDPOINT, api_key=KEY, log_group=GROUP, flush_interval=0.5)
            log = lp.get_logger("x")
            with lp.context_scope(trace_id="fork-trace"):
                for i in range(5):
                    log.info("parent before fork", i=i)
                children = []
                for n in range(2):
                    pid = os.fork()
                    if pid == 0:
                        for i in range(3):
                            log.info("child", child=n, i=i)
                        ok = lp.flush(20)
                        os._exit(0 if ok else 3)
                    children.append(pid)
                codes = [os.waitpid(pid, 0)[1] for pid in children]
                log.info("parent after fork")
            assert lp.flush(20)
            sys.exit(max(codes))
        """),
        env=_env(),
        timeout=90,
    )  # fmt: skip
    assert done.returncode == 0
    events = search(logpond_server, [group], 12, trace_id="fork-trace")
    messages = [e["message"] for e in events]
    assert messages.count("parent before fork") == 5
    assert messages.count("child") == 6
    assert messages.count("parent after fork") == 1
    streams = {e["stream"] for e in events}
    assert len(streams) == 3  # the parent and each child ship as their own stream
