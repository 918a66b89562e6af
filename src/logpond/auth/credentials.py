"""Reading a credential from a request: Bearer ``id:secret``, HTTP Basic, ApiKey, X-API-Key,
an AWS SigV4 signature (which covers the body, so it is checked once the body is read), or
a web UI session cookie (see :mod:`logpond.auth.sessions`).

A session cookie speaks for its key through the keyring, like a header would. Requests
that change something (any method but GET, HEAD, OPTIONS) made with a cookie must also
carry the session's CSRF token in ``X-CSRF-Token``, and, when the browser sends an
``Origin``, come from this server's own origin.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from http.cookies import CookieError, SimpleCookie
from urllib.parse import urlsplit

from logpond.model.errors import AccessDeniedError, AuthenticationError

from .keys import Keyring
from .policy import Principal
from .sessions import CSRF_HEADER, SESSION_COOKIE, SessionStore
from .sigv4 import SignedRequest, SigV4Scope, is_sigv4, verify

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

__all__ = ["SAFE_METHODS", "authenticate_headers", "authenticate_request", "session_token"]


def _split(pair: str) -> tuple[str, str]:
    key_id, sep, secret = pair.partition(":")
    if not sep or not key_id or not secret:
        raise AuthenticationError("malformed credential: expected <access key id>:<secret>")
    return key_id, secret


def session_token(headers: Mapping[str, str]) -> str | None:
    """The session cookie's token, if the request carries one."""
    raw = headers.get("cookie")
    if not raw:
        return None
    try:
        morsel = SimpleCookie(raw).get(SESSION_COOKIE)
    except CookieError:
        return None
    return morsel.value if morsel is not None and morsel.value else None


def _same_origin(headers: Mapping[str, str]) -> bool:
    origin = headers.get("origin")
    if origin is None:
        return True  # not a cross-site browser request; the CSRF token still has to match
    return urlsplit(origin).netloc.lower() == headers.get("host", "").lower()


def _from_session(
    token: str, headers: Mapping[str, str], keyring: Keyring, sessions: SessionStore, method: str
) -> Principal:
    session = sessions.get(token)
    if method.upper() not in SAFE_METHODS:
        if not _same_origin(headers):
            raise AccessDeniedError("cross-origin request refused", origin=headers.get("origin"))
        if not session.check_csrf(headers.get(CSRF_HEADER)):
            raise AccessDeniedError("missing or wrong csrf token")
    try:
        _secret, principal = keyring.secret_for(session.access_key_id)
    except AuthenticationError:
        sessions.revoke(token)  # the key was revoked: so are its sessions
        raise AuthenticationError("session expired or signed out") from None
    return principal


def authenticate_headers(
    headers: Mapping[str, str],
    keyring: Keyring,
    anonymous: Principal | None,
    *,
    sessions: SessionStore | None = None,
    method: str = "GET",
) -> Principal:
    """The principal a request speaks for; ``anonymous`` (if configured) when it sends none.

    An ``Authorization`` header wins over a session cookie; the cookie is read only when
    ``sessions`` is given, and ``method`` decides whether it needs the CSRF token.
    """
    value = headers.get("authorization", "")
    if not value and headers.get("x-api-key"):
        # Shippers that can only set a header value (OpenTelemetry exporters, Grafana agents).
        return keyring.authenticate(*_split(headers["x-api-key"].strip()))
    if not value:
        token = session_token(headers) if sessions is not None else None
        if token is not None and sessions is not None:
            return _from_session(token, headers, keyring, sessions, method)
        if anonymous is not None:
            return anonymous
        raise AuthenticationError("missing credentials")
    scheme, _, rest = value.strip().partition(" ")
    scheme = scheme.lower()
    rest = rest.strip()
    if scheme == "bearer":
        return keyring.authenticate(*_split(rest))
    if scheme in ("basic", "apikey"):
        # ApiKey is Elasticsearch's form: base64 of <id>:<key>, as Basic carries <user>:<pass>.
        try:
            decoded = base64.b64decode(rest, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            raise AuthenticationError("malformed basic credential") from None
        return keyring.authenticate(*_split(decoded))
    raise AuthenticationError("unsupported authorization scheme", scheme=scheme)


def authenticate_request(
    request: SignedRequest,
    keyring: Keyring,
    anonymous: Principal | None,
    now_ms: int,
    *,
    service: str,
) -> tuple[Principal, SigV4Scope | None]:
    """The principal of a request whose body is at hand: SigV4 when it is signed (the scope
    tells the region the client signed for), else the header credentials."""
    if is_sigv4(request.headers.get("authorization", "")):
        scope = verify(request, keyring, now_ms, service=service)
        return scope.principal, scope
    return authenticate_headers(request.headers, keyring, anonymous), None
