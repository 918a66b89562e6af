"""AWS Signature Version 4: checking the signature an AWS SDK puts on a request.

The client signs with its access key id and secret; logpond holds the secret of every live
key (``Keyring.secret_for``), rebuilds the canonical request from what arrived, signs it the
same way and compares in constant time. The steps follow AWS's description of SigV4
(canonical request, string to sign, derived signing key):

1. ``Authorization: AWS4-HMAC-SHA256 Credential=<id>/<date>/<region>/<service>/aws4_request,
   SignedHeaders=<h1;h2>, Signature=<hex>`` is parsed; anything missing is an
   ``IncompleteSignatureException``; an unknown key an ``UnrecognizedClientException``.
2. The canonical request is the method, the path, the sorted query, each signed header as
   ``name:value`` with whitespace folded, the signed-header list and the payload hash (the
   ``X-Amz-Content-SHA256`` value if sent, checked against the body, else the body's hash).
3. ``X-Amz-Date`` must be within 15 minutes of the server clock, and its day must be the
   credential scope's day: a captured request cannot be replayed later.

Any region is accepted; the region a client signed for is returned so the caller can use
it in ARNs. The service must be the one the caller expects (``logs``).
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from urllib.parse import quote, unquote

from logpond.model.errors import AuthenticationError

from .keys import Keyring
from .policy import Principal

__all__ = [
    "ALGORITHM",
    "MAX_CLOCK_SKEW_MS",
    "IncompleteSignatureError",
    "InvalidSignatureError",
    "SigV4Scope",
    "SignedRequest",
    "is_sigv4",
    "sign",
    "verify",
]

ALGORITHM = "AWS4-HMAC-SHA256"
# How far a request's X-Amz-Date may be from the server clock (AWS uses 15 minutes).
MAX_CLOCK_SKEW_MS = 15 * 60 * 1000
UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"
_AMZ_DATE = "%Y%m%dT%H%M%SZ"
_CREDENTIAL_RE = re.compile(r"^([^/]+)/(\d{8})/([^/]+)/([^/]+)/aws4_request$")
_HEX64_RE = re.compile(r"^[0-9a-f]{64}$")


class IncompleteSignatureError(AuthenticationError):
    """The Authorization header or a header it needs is missing or malformed."""

    code = "IncompleteSignatureException"


class InvalidSignatureError(AuthenticationError):
    """The signature does not match, the request is too old or too new, or the scope is wrong."""

    code = "InvalidSignatureException"


@dataclass(frozen=True, slots=True)
class SignedRequest:
    """What a signature covers: method, raw path and query, headers (lower-case names), body.

    ``headers`` holds each header name once; repeated headers are joined with ``,``.
    """

    method: str
    path: str
    query: str
    headers: Mapping[str, str]
    body: bytes


@dataclass(frozen=True, slots=True)
class SigV4Scope:
    """Who signed and for what: the principal, the region and service of the credential scope."""

    principal: Principal
    access_key_id: str
    region: str
    service: str


def is_sigv4(authorization: str) -> bool:
    """Whether an Authorization header value is a SigV4 signature."""
    return authorization.lstrip().startswith(ALGORITHM)


def _parse_authorization(value: str) -> tuple[str, str, str, str, list[str], str]:
    rest = value.strip()[len(ALGORITHM) :].strip()
    parts: dict[str, str] = {}
    for item in rest.split(","):
        key, sep, val = item.strip().partition("=")
        if sep:
            parts[key.strip()] = val.strip()
    missing = [k for k in ("Credential", "SignedHeaders", "Signature") if not parts.get(k)]
    if missing:
        raise IncompleteSignatureError(
            f"Authorization header requires '{missing[0]}' parameter. Authorization={value.strip()[:200]}"
        )
    match = _CREDENTIAL_RE.match(parts["Credential"])
    if match is None:
        raise IncompleteSignatureError(
            f"Credential should be scoped to a valid region, service and date: '{parts['Credential'][:200]}'"
        )
    key_id, day, region, service = match.groups()
    signed = parts["SignedHeaders"].split(";")
    if not _HEX64_RE.match(parts["Signature"]):
        raise IncompleteSignatureError("Signature must be 64 lower-case hexadecimal characters")
    return key_id, day, region, service, signed, parts["Signature"]


def _canonical_path(path: str) -> str:
    """The path as botocore signs it: dot segments removed, then encoded (``/`` and ``~`` kept)."""
    if not path:
        return "/"
    segments: list[str] = []
    for segment in path.split("/"):
        if segment == "..":
            if segments:
                segments.pop()
        elif segment not in (".",):
            segments.append(segment)
    normalized = "/".join(segments)
    if not normalized.startswith("/"):
        normalized = "/" + normalized
    if path.endswith("/") and not normalized.endswith("/"):
        normalized += "/"
    return quote(normalized, safe="/~")


def _canonical_query(query: str) -> str:
    if not query:
        return ""
    pairs = []
    for item in query.split("&"):
        if not item:
            continue
        key, _, value = item.partition("=")
        pairs.append((quote(unquote(key), safe="-_.~"), quote(unquote(value), safe="-_.~")))
    return "&".join(f"{k}={v}" for k, v in sorted(pairs))


def canonical_request(request: SignedRequest, signed_headers: Sequence[str], payload_hash: str) -> str:
    """The canonical request of SigV4 for ``request`` over the given signed headers."""
    lines = []
    for name in signed_headers:
        value = request.headers.get(name)
        if value is None:
            raise IncompleteSignatureError(f"signed header '{name}' is missing from the request")
        lines.append(f"{name}:{' '.join(value.split())}\n")
    return "\n".join(
        [
            request.method.upper(),
            _canonical_path(request.path),
            _canonical_query(request.query),
            "".join(lines),
            ";".join(signed_headers),
            payload_hash,
        ]
    )


@lru_cache(maxsize=256)
def _signing_key(secret: str, day: str, region: str, service: str) -> bytes:
    key = hmac.new(("AWS4" + secret).encode(), day.encode(), hashlib.sha256).digest()
    for part in (region, service, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return key


def _signature(secret: str, amz_date: str, scope: str, canonical: str) -> str:
    day, region, service, _ = scope.split("/")
    string_to_sign = "\n".join([ALGORITHM, amz_date, scope, hashlib.sha256(canonical.encode()).hexdigest()])
    return hmac.new(
        _signing_key(secret, day, region, service), string_to_sign.encode(), hashlib.sha256
    ).hexdigest()


def verify(
    request: SignedRequest,
    keyring: Keyring,
    now_ms: int,
    *,
    service: str,
    max_skew_ms: int = MAX_CLOCK_SKEW_MS,
) -> SigV4Scope:
    """Check the SigV4 signature of ``request``; return who signed it, or raise."""
    headers = request.headers
    key_id, day, region, signed_service, signed_headers, signature = _parse_authorization(
        headers.get("authorization", "")
    )
    amz_date = headers.get("x-amz-date", "")
    try:
        signed_at = datetime.strptime(amz_date, _AMZ_DATE).replace(tzinfo=UTC)
    except ValueError:
        raise IncompleteSignatureError(
            "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header."
        ) from None
    if "host" not in signed_headers:
        raise IncompleteSignatureError("the host header must be signed")
    try:
        secret, principal = keyring.secret_for(key_id)
    except AuthenticationError:
        raise AuthenticationError("The security token included in the request is invalid.") from None
    if signed_service != service:
        raise InvalidSignatureError(f"Credential should be scoped to correct service: '{service}'.")
    if day != amz_date[:8]:
        raise InvalidSignatureError(
            f"Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: "
            f"'{day}' != '{amz_date[:8]}', from '{amz_date}'."
        )
    signed_ms = int(signed_at.timestamp() * 1000)
    if abs(now_ms - signed_ms) > max_skew_ms:
        now = datetime.fromtimestamp(now_ms / 1000, UTC).strftime(_AMZ_DATE)
        earlier = signed_ms < now_ms
        raise InvalidSignatureError(
            f"Signature {'expired' if earlier else 'not yet current'}: {amz_date} is now "
            f"{'earlier' if earlier else 'later'} than "
            f"{_shift(now_ms, -max_skew_ms if earlier else max_skew_ms)} ({now} "
            f"{'-' if earlier else '+'} 15 min.)"
        )
    body_hash = hashlib.sha256(request.body).hexdigest()
    declared = headers.get("x-amz-content-sha256")
    if declared is not None and declared not in (UNSIGNED_PAYLOAD, body_hash):
        raise InvalidSignatureError(
            "The provided 'x-amz-content-sha256' header does not match what was computed."
        )
    payload_hash = declared if declared is not None else body_hash
    canonical = canonical_request(request, signed_headers, payload_hash)
    scope = f"{day}/{region}/{signed_service}/aws4_request"
    expected = _signature(secret, amz_date, scope, canonical)
    if not hmac.compare_digest(expected, signature):
        raise InvalidSignatureError(
            "The request signature we calculated does not match the signature you provided. "
            "Check your AWS Secret Access Key and signing method. Consult the service "
            "documentation for details."
        )
    return SigV4Scope(principal, key_id, region, signed_service)


def _shift(now_ms: int, delta_ms: int) -> str:
    return datetime.fromtimestamp((now_ms + delta_ms) / 1000, UTC).strftime(_AMZ_DATE)


def sign(
    request: SignedRequest,
    access_key_id: str,
    secret: str,
    *,
    region: str,
    service: str,
    amz_date: str,
) -> str:
    """The Authorization header value for ``request`` (whose headers must hold host and
    x-amz-date): the client side of :func:`verify`, for tools and tests."""
    signed_headers = sorted(request.headers)
    payload_hash = request.headers.get("x-amz-content-sha256") or hashlib.sha256(request.body).hexdigest()
    canonical = canonical_request(request, signed_headers, payload_hash)
    scope = f"{amz_date[:8]}/{region}/{service}/aws4_request"
    signature = _signature(secret, amz_date, scope, canonical)
    return (
        f"{ALGORITHM} Credential={access_key_id}/{scope}, "
        f"SignedHeaders={';'.join(signed_headers)}, Signature={signature}"
    )
