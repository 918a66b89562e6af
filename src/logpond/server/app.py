"""``create_app(settings)``: the ASGI application and its lifespan. No business logic."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from typing import Any

from fastapi import FastAPI

from logpond import __version__
from logpond.model.clock import Clock, SystemClock

from .access import RawRoute
from .errors import install_error_handlers
from .listeners import start_listeners
from .responses import JSONResponse
from .routes import (
    alerts,
    api_v1,
    es_bulk,
    fluentbit,
    health,
    ingest,
    loki,
    otlp,
    queries,
    tail,
    ui,
    ui_queries,
)
from .routes.cloudwatch import cloudwatch_route
from .routes.monitoring import monitoring_route
from .services import Services
from .settings import Settings

__all__ = ["create_app"]

log = logging.getLogger("logpond.server")


async def _every(interval: float, task: Callable[[], object], what: str) -> None:
    """Run a blocking maintenance task in a thread every ``interval`` seconds."""
    while True:
        await asyncio.sleep(interval)
        try:
            await asyncio.to_thread(task)
        except Exception:
            log.exception("%s failed; will retry", what)


# How often PII finding counts are written to the store.
FINDINGS_FLUSH_SECONDS = 10.0


def create_app(
    settings: Settings,
    *,
    clock: Clock | None = None,
    on_ready: Callable[[Services], None] | None = None,
) -> FastAPI:
    """The logpond application; the store opens when the server starts, closes when it stops."""

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        services = await asyncio.to_thread(Services.open, settings, clock or SystemClock())
        app.state.services = services
        sweep_every = settings.storage.retention_sweep_seconds
        tasks = [
            asyncio.create_task(_every(sweep_every, services.store.sweep_expired, "retention sweep")),
            asyncio.create_task(_every(FINDINGS_FLUSH_SECONDS, services.flush_findings, "findings flush")),
        ]
        services.alerting.start()
        try:
            listeners = await start_listeners(services)
        except BaseException:
            await services.alerting.close()
            await asyncio.to_thread(services.close)
            raise
        if on_ready is not None:
            on_ready(services)
        try:
            yield
        finally:
            # Listeners first: what they queued is committed before the writer stops.
            for listener in listeners:
                await listener.close()
            for task in tasks:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            await services.alerting.close()
            await asyncio.to_thread(services.close)

    app = FastAPI(
        title="logpond",
        version=__version__,
        summary="Centralized log aggregation: ingest, search and manage log groups.",
        lifespan=lifespan,
        default_response_class=JSONResponse,
        # The API description is served by an authenticated route (routes/api_v1.py).
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    install_error_handlers(app)
    app.router.routes.append(ingest.ingest)
    app.router.routes.extend([*es_bulk.ROUTES, *otlp.ROUTES, *loki.ROUTES, *fluentbit.ROUTES])
    # CloudWatch metrics requests first: they share POST / with CloudWatch Logs.
    app.router.routes.append(monitoring_route)
    app.router.routes.append(cloudwatch_route)
    app.include_router(health.router)
    app.include_router(api_v1.router)
    app.include_router(queries.router)
    app.include_router(alerts.router)
    app.include_router(ui.router)
    app.include_router(ui_queries.router)
    app.include_router(tail.router)
    app.router.routes.extend(ui.static_routes())
    _document_raw_routes(app)
    return app


def _document_raw_routes(app: FastAPI) -> None:
    """Add the raw routes' hand-written descriptions to the generated OpenAPI document."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = generate()
            for route in app.router.routes:
                if isinstance(route, RawRoute) and route.openapi is not None:
                    schema.setdefault("paths", {})[route.path] = route.openapi
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
