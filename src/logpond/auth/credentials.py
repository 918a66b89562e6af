"""Reading a credential from a request: Bearer ``id:secret``, HTTP Basic, ApiKey, X-API-Key,
or an AWS SigV4 signature (which covers the body, so it is checked once the body is read)."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping

from logpond.model.errors import AuthenticationError

from .keys import Keyring
from .policy import Principal
from .sigv4 import SignedRequest, SigV4Scope, is_sigv4, verify

__all__ = ["authenticate_headers", "authenticate_request"]


def _split(pair: str) -> tuple[str, str]:
    key_id, sep, secret = pair.partition(":")
    if not sep or not key_id or not secret:
        raise AuthenticationError("malformed credential: expected <access key id>:<secret>")
    return key_id, secret


def authenticate_headers(
    headers: Mapping[str, str], keyring: Keyring, anonymous: Principal | None
) -> Principal:
    """The principal a request speaks for; ``anonymous`` (if configured) when it sends none."""
    value = headers.get("authorization", "")
    if not value and headers.get("x-api-key"):
        # Shippers that can only set a header value (OpenTelemetry exporters, Grafana agents).
        return keyring.authenticate(*_split(headers["x-api-key"].strip()))
    if not value:
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
