"""The documented uvicorn and gunicorn recipes: every line one JSON record, none twice."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx

from .conftest import free_port
from .helpers import json_lines

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "sdk-app"

APP = """
import logging
import logpond.sdk as lp
from logpond.sdk.integrations.asgi import LogpondMiddleware
from logpond.sdk.integrations.wsgi import LogpondWSGIMiddleware

lp.init("recipe", "test")
log = lp.get_logger("recipe")

async def _asgi(scope, receive, send):
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            await send({"type": message["type"] + ".complete"})
            if message["type"] == "lifespan.shutdown":
                return
    log.info("handled")
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})

def _wsgi(environ, start_response):
    log.info("handled")
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"ok"]

asgi = LogpondMiddleware(_asgi)
wsgi = LogpondWSGIMiddleware(_wsgi)
"""


def run_server(tmp_path: Path, command: list[str], port: int) -> tuple[str, str]:
    (tmp_path / "recipe_app.py").write_text(APP)
    env = {k: v for k, v in os.environ.items() if not k.startswith("LOGPOND_")}
    env.update(LOGPOND_OUTPUT="stdout", LOGPOND_SERVICE="recipe", PYTHONPATH=str(tmp_path))
    with subprocess.Popen(command, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True) as process:  # fmt: skip
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    for i in range(3):
                        assert httpx.get(f"http://127.0.0.1:{port}/r/{i}", timeout=5).text == "ok"
                    break
                except httpx.TransportError:
                    if time.monotonic() > deadline or process.poll() is not None:
                        raise
                    time.sleep(0.1)
            time.sleep(0.3)
        finally:
            process.send_signal(signal.SIGTERM)
            out, err = process.communicate(timeout=30)
    return out, err


def assert_only_json(text: str) -> list[dict[str, Any]]:
    lines = [line for line in text.splitlines() if line.strip()]
    for line in lines:
        json.loads(line)  # raises on anything that is not one JSON record
    return json_lines(text)


def test_uvicorn_recipe_writes_each_line_once_as_json(tmp_path: Path) -> None:
    """uvicorn with ``--no-access-log --log-config logging.json``: JSON only, uvicorn's lines once."""
    port = free_port()
    out, err = run_server(
        tmp_path,
        [sys.executable, "-m", "uvicorn", "recipe_app:asgi", "--port", str(port), "--no-access-log",
         "--log-config", str(EXAMPLE / "logging.json")],
        port,
    )  # fmt: skip
    records = assert_only_json(out)
    assert not err.strip(), err
    messages = Counter(r["message"] for r in records)
    assert messages["HTTP Request"] == 3
    assert messages["handled"] == 3
    started = [r for r in records if r["logger"] == "uvicorn.error" and "Uvicorn running" in r["message"]]
    assert len(started) == 1
    assert all(
        count == 1 for message, count in messages.items() if message not in {"HTTP Request", "handled"}
    )


def test_gunicorn_recipe_writes_each_line_once_as_json(tmp_path: Path) -> None:
    """gunicorn with the example's ``gunicorn.conf.py``: master and worker lines once, all JSON."""
    port = free_port()
    out, err = run_server(
        tmp_path,
        [sys.executable, "-m", "gunicorn", "-c", str(EXAMPLE / "gunicorn.conf.py"), "-w", "2",
         "-b", f"127.0.0.1:{port}", "recipe_app:wsgi"],
        port,
    )  # fmt: skip
    records = assert_only_json(out)
    assert not err.strip(), err
    messages = Counter(r["message"] for r in records)
    assert messages["HTTP Request"] == 3
    boots = [
        r for r in records if r["logger"] == "gunicorn.error" and r["message"].startswith("Booting worker")
    ]
    assert len(boots) == 2
    assert messages[next(m for m in messages if m.startswith("Starting gunicorn"))] == 1
