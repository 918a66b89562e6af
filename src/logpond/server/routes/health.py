"""``GET /healthz``: the one route that answers without a credential."""

from __future__ import annotations

from fastapi import APIRouter, Request

from ..responses import JSONResponse

router = APIRouter()


@router.get("/healthz", include_in_schema=True, summary="Liveness and readiness")
async def healthz(request: Request) -> JSONResponse:
    """200 once the store accepts writes; 503 while shutting down."""
    services = getattr(request.app.state, "services", None)
    if services is None or not services.store.accepting:
        return JSONResponse({"status": "unavailable"}, status_code=503, headers={"Retry-After": "1"})
    return JSONResponse({"status": "ok"})
