"""The worker: a Celery task that runs an asyncio "agent step" calling another service.

Run: ``celery -A qualisys.worker worker --pool=solo``
"""

from __future__ import annotations

import asyncio
import hashlib
import urllib.parse
from typing import Any

import httpx
from celery import Celery, signals

import logpond.sdk as lp
from logpond.sdk.integrations import celery as lp_celery
from logpond.sdk.integrations.httpx import AsyncLogpondTransport

from . import settings

app = Celery("qualisys", broker=settings.REDIS_URL)
app.conf.update(broker_connection_retry_on_startup=True, task_default_queue="qualisys")


@signals.celeryd_init.connect
def configure_logging(**_: Any) -> None:
    """In the worker process only (the API imports this module too, to publish)."""
    lp.init(
        "qualisys-worker",
        settings.ENVIRONMENT,
        log_group=f"/qualisys/{settings.ENVIRONMENT}/worker",
        tenant_targets=[urllib.parse.urlsplit(settings.AGENT_URL).netloc],  # our own service
    )


lp_celery.install(app)
log = lp.get_logger("qualisys.worker")


def fingerprint(title: str) -> str:
    """CPU work done off the event loop (and still in the task's trace)."""
    log.info("fingerprinting", title=title)
    return hashlib.sha256(title.encode()).hexdigest()[:12]


async def agent_step(title: str) -> int:
    digest = await lp.to_thread(fingerprint, title)
    async with httpx.AsyncClient(transport=AsyncLogpondTransport(), timeout=10) as client:
        response = await client.post(settings.AGENT_URL, json={"fingerprint": digest})
    log.info("agent answered", status=response.status_code, fingerprint=digest)
    return response.status_code


@app.task(name="qualisys.run_test_case")
def run_test_case(title: str) -> int:
    log.info("test run started", title=title)
    status = asyncio.run(agent_step(title))
    log.info("test run finished", agent_status=status)
    return status
