"""The web UI: its static page at ``/``, its assets under ``/ui/``, and UI sessions.

The page and its assets are public (they hold no data); everything the page shows comes
from the authenticated API. Signing in turns an API key into a session cookie:

``POST /api/v1/session`` with the key in ``Authorization`` (Bearer or Basic) answers with
an HttpOnly, ``SameSite=Strict`` cookie (``Secure`` over HTTPS) and the session's CSRF
token; ``GET /api/v1/session`` tells the page who is signed in (and the token again);
``DELETE /api/v1/session`` signs out. See ``docs/ui.md``.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field
from starlette.responses import FileResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from logpond.auth.credentials import session_token
from logpond.auth.sessions import SESSION_COOKIE
from logpond.model.errors import AccessDeniedError, InvalidParameterError

from ..access import Access, require, services
from ..responses import JSONResponse
from ..services import Services

__all__ = ["STATIC_DIR", "router", "static_routes"]

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"

router = APIRouter(prefix="/api/v1", tags=["ui"])

# The page must not be framed, and may load only what it ships.
_PAGE_HEADERS = {
    "content-security-policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
        "frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
    ),
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    "cache-control": "no-cache",
}


async def _index(request: Request) -> Response:
    """The single page; the UI routes itself with the URL fragment."""
    return FileResponse(STATIC_DIR / "index.html", headers=_PAGE_HEADERS)


def static_routes() -> list[Route | Mount]:
    """``GET /`` and ``/ui/...``: public, no data in them."""
    return [
        Route("/", _index, methods=["GET", "HEAD"]),
        Mount("/ui", app=StaticFiles(directory=STATIC_DIR), name="ui"),
    ]


class SessionOut(BaseModel):
    access_key_id: str
    csrf_token: str | None = Field(None, description="send it as X-CSRF-Token on POST, PUT, PATCH, DELETE")
    created: int | None = None
    expires: int | None = None
    is_root: bool = False


def _https(request: Request, svc: Services) -> bool:
    forwarded = request.headers.get("x-forwarded-proto", "")
    return request.url.scheme == "https" or svc.settings.server.tls_cert is not None or forwarded == "https"


def _check_origin(request: Request) -> None:
    origin = request.headers.get("origin")
    if origin is not None and urlsplit(origin).netloc.lower() != request.headers.get("host", "").lower():
        raise AccessDeniedError("cross-origin request refused", origin=origin)


@router.post("/session", response_model=SessionOut, status_code=201, summary="Sign in: a session cookie")
async def sign_in(
    request: Request,
    access: Access = require("logpond:StartSession"),
    svc: Services = Depends(services),
) -> JSONResponse:
    """Any valid key may sign in; the session then has exactly that key's policy."""
    if "authorization" not in request.headers:
        raise InvalidParameterError("sign in with the key in the Authorization header")
    _check_origin(request)
    token, session = svc.sessions.create(access.principal.access_key_id)
    body = SessionOut(
        access_key_id=session.access_key_id,
        csrf_token=session.csrf_token,
        created=session.created_ms,
        expires=session.expires_ms,
        is_root=access.principal.is_root,
    )
    response = JSONResponse(body.model_dump(), status_code=201)
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=(session.expires_ms - session.created_ms) // 1000,
        path="/",
        httponly=True,
        samesite="strict",
        secure=_https(request, svc),
    )
    return response


@router.get("/session", response_model=SessionOut, summary="Who is signed in")
async def current_session(
    request: Request,
    access: Access = require("logpond:GetSession"),
    svc: Services = Depends(services),
) -> SessionOut:
    """The signed-in key and the session's CSRF token (none when a key header was used)."""
    token = session_token(request.headers) if "authorization" not in request.headers else None
    if token is None:
        return SessionOut(access_key_id=access.principal.access_key_id, is_root=access.principal.is_root)
    session = svc.sessions.get(token)
    return SessionOut(
        access_key_id=session.access_key_id,
        csrf_token=session.csrf_token,
        created=session.created_ms,
        expires=session.expires_ms,
        is_root=access.principal.is_root,
    )


@router.delete("/session", status_code=204, summary="Sign out")
async def sign_out(
    request: Request,
    access: Access = require("logpond:EndSession"),
    svc: Services = Depends(services),
) -> Response:
    """End this browser's session; its cookie stops working at once."""
    token = session_token(request.headers)
    if token is not None:
        svc.sessions.revoke(token)
    response = Response(status_code=204)
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict")
    return response
