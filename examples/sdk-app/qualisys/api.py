"""The API: FastAPI behind logpond's ASGI middleware, handing work to the Celery worker.

Run: ``uvicorn qualisys.api:app --no-access-log --log-config logging.json``
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from pydantic import BaseModel

import logpond.sdk as lp
from logpond.sdk.integrations import celery as lp_celery
from logpond.sdk.integrations.asgi import LogpondMiddleware

from . import settings
from .worker import run_test_case

# The endpoint and key come from LOGPOND_ENDPOINT and LOGPOND_API_KEY.
lp.init("qualisys-api", settings.ENVIRONMENT, log_group=f"/qualisys/{settings.ENVIRONMENT}/api")
lp_celery.install()
log = lp.get_logger("qualisys.api")


class TestCase(BaseModel):
    title: str
    owner_email: str


api = FastAPI(title="qualisys")


@api.post("/api/v1/test-cases", status_code=201)
async def create_test_case(test_case: TestCase) -> dict[str, Any]:
    log.info("test case created", title=test_case.title, owner_email=test_case.owner_email)
    task = run_test_case.delay(test_case.title)
    log.info("test run queued", task_id=task.id)
    return {"task_id": task.id, "trace_id": lp.current_trace_id()}


@api.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


# Outermost, so even unhandled 500s carry X-Request-ID.
app = LogpondMiddleware(api)
