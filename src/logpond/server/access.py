"""The server side of the auth chokepoint: every route declares its action.

Dependencies are ``async`` on purpose: FastAPI runs plain functions in a thread pool, which
costs more than the work they do.

A route takes ``access: Access = require("logs:PutLogEvents")``; the dependency
authenticates the request, and the handler names the resource with ``access.group(name)``
(or ``access.account()``) before it does anything. ``authorize`` decides.

A web UI session cookie authenticates like a key (``authenticate_headers``): same
principal, same policy, and state-changing requests need the session's CSRF token.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from fastapi import Depends, Request
from starlette.responses import Response
from starlette.routing import Route

from logpond.auth.credentials import authenticate_headers
from logpond.auth.policy import Arns, Principal, authorize, is_allowed
from logpond.model.errors import LogpondError

from .services import Services

__all__ = ["Access", "RawRoute", "authenticate", "raw_route", "require", "services"]


async def services(request: Request) -> Services:
    """The running server's parts."""
    found: Services = request.app.state.services
    return found


@dataclass(frozen=True, slots=True)
class Access:
    """An authenticated principal and the action its route performs."""

    principal: Principal
    action: str
    arns: Arns

    def group(self, name: str, action: str | None = None) -> None:
        """Allow the route's action (or another one) on a log group, or raise 403."""
        authorize(self.principal, action or self.action, self.arns.group(name))

    def account(self, action: str | None = None) -> None:
        """Allow an action that is not about one group (keys, listings)."""
        authorize(self.principal, action or self.action, "*")

    def allows_group(self, name: str, action: str | None = None) -> bool:
        return is_allowed(self.principal, action or self.action, self.arns.group(name))


def authenticate(request: Request, action: str) -> Access:
    """Authenticate a request for a route that performs ``action``."""
    svc: Services = request.app.state.services
    principal = authenticate_headers(
        request.headers, svc.keyring, svc.anonymous, sessions=svc.sessions, method=request.method
    )
    return Access(principal, action, svc.arns)


def require(action: str) -> Any:
    """The dependency a route declares: authenticate, then carry the action to the handler."""

    async def dependency(request: Request) -> Access:
        return authenticate(request, action)

    dependency.logpond_action = action  # type: ignore[attr-defined]
    return Depends(dependency)


RawHandler = Callable[[Request, Access, Services], Awaitable[Response]]
# Renders errors the way a protocol's clients expect (Elasticsearch's error shape, ...).
ErrorRenderer = Callable[[LogpondError], Response]


class RawRoute(Route):
    """A route on the ingest path, served by Starlette without FastAPI's dependency solver
    (which costs more than decoding a small batch). It declares its action the same way:
    the request is authenticated before the handler runs, and the handler names the
    resource with ``access.group(...)``."""

    def __init__(
        self,
        path: str,
        handler: RawHandler,
        *,
        action: str,
        methods: list[str],
        openapi: dict[str, Any] | None,
        render_error: ErrorRenderer | None = None,
    ) -> None:
        async def endpoint(request: Request) -> Response:
            access = authenticate(request, action)
            return await handler(request, access, request.app.state.services)

        if render_error is not None:
            plain = endpoint

            async def endpoint(request: Request) -> Response:
                try:
                    return await plain(request)
                except LogpondError as exc:
                    return render_error(exc)

        super().__init__(path, endpoint, methods=methods, include_in_schema=False)
        self.logpond_action = action
        self.openapi = openapi


def raw_route(
    path: str,
    *,
    action: str,
    methods: list[str],
    openapi: dict[str, Any] | None,
    render_error: ErrorRenderer | None = None,
) -> Callable[[RawHandler], RawRoute]:
    """Declare a raw route: ``@raw_route("/api/v1/ingest", action=..., methods=["POST"], ...)``.

    ``openapi=None`` leaves the route out of the API description (protocol probes);
    ``render_error`` renders logpond errors, authentication included, for the protocol's clients.
    """

    def wrap(handler: RawHandler) -> RawRoute:
        return RawRoute(
            path, handler, action=action, methods=methods, openapi=openapi, render_error=render_error
        )

    return wrap
