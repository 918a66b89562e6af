"""SigV4 verification against signatures made by botocore's own signer."""

from __future__ import annotations

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from logpond.auth.policy import Principal, compile_policy, role_policy
from logpond.auth.sigv4 import (
    IncompleteSignatureError,
    InvalidSignatureError,
    SignedRequest,
    sign,
    verify,
)
from logpond.model.errors import AuthenticationError

KEY, SECRET = "LPUNITKEY00000000001", "unit-secret"
PRINCIPAL = Principal(KEY, compile_policy(role_policy("admin")))


class Keys:
    """The one method of the keyring that verification uses."""

    def secret_for(self, access_key_id: str) -> tuple[str, Principal]:
        if access_key_id != KEY:
            raise AuthenticationError("unknown access key")
        return SECRET, PRINCIPAL


def botocore_signed(url: str, body: bytes, region: str = "eu-central-1") -> tuple[SignedRequest, int]:
    """A request signed by botocore, as logpond receives it, and the signing time in ms."""
    request = AWSRequest(method="POST", url=url, data=body, headers={"X-Amz-Target": "Logs_20140328.X"})
    SigV4Auth(Credentials(KEY, SECRET), "logs", region).add_auth(request)
    headers = {k.lower(): v for k, v in request.headers.items()}
    headers["host"] = url.split("/")[2]
    path, _, query = url.split("/", 3)[3].partition("?")
    from datetime import UTC, datetime  # noqa: PLC0415

    signed_at = datetime.strptime(headers["x-amz-date"], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    return SignedRequest("POST", "/" + path, query, headers, body), int(signed_at.timestamp() * 1000)


def test_botocore_signature_verifies() -> None:
    """A botocore-signed request verifies; the scope's region and service come back."""
    request, at = botocore_signed("http://localhost:4566/", b'{"a": 1}')
    scope = verify(request, Keys(), at, service="logs")  # type: ignore[arg-type]
    assert (scope.principal, scope.region, scope.service) == (PRINCIPAL, "eu-central-1", "logs")


def test_paths_and_queries_are_canonicalized_like_botocore() -> None:
    """Encoded paths and unsorted queries verify as botocore signed them."""
    request, at = botocore_signed("http://127.0.0.1:5647/a%20b/./c?z=1&a=x%2Fy&m=", b"")
    verify(request, Keys(), at, service="logs")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("change", "error"),
    [
        (lambda r: SignedRequest(r.method, r.path, r.query, r.headers, b"tampered"), InvalidSignatureError),
        (
            lambda r: SignedRequest(r.method, r.path, r.query, {**r.headers, "host": "evil:1"}, r.body),
            InvalidSignatureError,
        ),
        (
            lambda r: SignedRequest(
                r.method,
                r.path,
                r.query,
                {**r.headers, "authorization": "AWS4-HMAC-SHA256 Credential=x"},
                r.body,
            ),
            IncompleteSignatureError,
        ),
    ],
)
def test_changes_after_signing_are_refused(change: object, error: type[Exception]) -> None:
    """Body, signed headers and a truncated Authorization header are all caught."""
    request, at = botocore_signed("http://localhost:4566/", b"{}")
    with pytest.raises(error):
        verify(change(request), Keys(), at, service="logs")  # type: ignore[operator, arg-type]


def test_clock_skew_and_unknown_keys() -> None:
    """Fifteen minutes either way is the limit; an unknown key is unrecognized."""
    request, at = botocore_signed("http://localhost:4566/", b"{}")
    verify(request, Keys(), at + 15 * 60_000, service="logs")  # type: ignore[arg-type]
    with pytest.raises(InvalidSignatureError, match="expired"):
        verify(request, Keys(), at + 15 * 60_000 + 1000, service="logs")  # type: ignore[arg-type]
    with pytest.raises(InvalidSignatureError, match="not yet current"):
        verify(request, Keys(), at - 16 * 60_000, service="logs")  # type: ignore[arg-type]
    with pytest.raises(InvalidSignatureError, match="correct service"):
        verify(request, Keys(), at, service="monitoring")  # type: ignore[arg-type]
    stranger = SignedRequest(
        request.method,
        request.path,
        request.query,
        {**request.headers, "authorization": request.headers["authorization"].replace(KEY, "LPOTHER")},
        request.body,
    )
    with pytest.raises(AuthenticationError) as caught:
        verify(stranger, Keys(), at, service="logs")  # type: ignore[arg-type]
    assert caught.value.code == "UnrecognizedClientException"


def test_sign_round_trips() -> None:
    """The client-side ``sign`` produces what ``verify`` accepts."""
    headers = {"host": "localhost:5647", "x-amz-date": "20260102T030405Z"}
    request = SignedRequest("POST", "/", "", headers, b"{}")
    authorization = sign(
        request, KEY, SECRET, region="us-west-2", service="logs", amz_date="20260102T030405Z"
    )
    signed = SignedRequest("POST", "/", "", {**headers, "authorization": authorization}, b"{}")
    at = 1_767_323_045_000
    assert verify(signed, Keys(), at, service="logs").region == "us-west-2"  # type: ignore[arg-type]
