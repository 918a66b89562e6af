"""The auth chokepoint against a real server: credentials, scopes, and every route declared."""

from __future__ import annotations

import base64

import httpx
from fastapi.routing import APIRoute

from logpond.server.access import RawRoute

from ..conftest import LiveServer, unique_group


def _key(server: LiveServer, **spec: object) -> tuple[str, str]:
    with server.client() as http:
        response = http.post("/api/v1/keys", json=spec)
    assert response.status_code == 201, response.text
    body = response.json()
    return body["access_key_id"], body["secret_access_key"]


def test_healthz_answers_without_credentials(logpond_server: LiveServer) -> None:
    """/healthz is the one route that needs no credential."""
    with logpond_server.anonymous() as http:
        assert http.get("/healthz").json() == {"status": "ok"}


def test_every_other_route_needs_a_credential(logpond_server: LiveServer) -> None:
    """Without a credential every API route answers 401 with WWW-Authenticate."""
    with logpond_server.anonymous() as http:
        for method, path in [
            ("GET", "/api/v1/groups"),
            ("POST", "/api/v1/ingest?group=/x"),
            ("POST", "/api/v1/events/search"),
            ("GET", "/api/v1/keys"),
            ("GET", "/api/v1/openapi.json"),
            ("GET", "/api/v1/streams?group=/x"),
        ]:
            response = http.request(method, path)
            assert response.status_code == 401, (method, path)
            assert "Bearer" in response.headers["www-authenticate"]


def test_wrong_secret_and_unknown_key_are_refused_alike(logpond_server: LiveServer) -> None:
    """A wrong secret and an unknown key id get the same 401 answer."""
    with logpond_server.client(secret="wrong") as http:
        wrong = http.get("/api/v1/groups")
    with logpond_server.client("LPUNKNOWNKEY00000000", "whatever") as http:
        unknown = http.get("/api/v1/groups")
    assert wrong.status_code == unknown.status_code == 401
    assert (
        wrong.json()
        == unknown.json()
        == {
            "error": "UnrecognizedClientException",
            "message": "invalid credentials",
        }
    )


def test_malformed_credentials_are_refused(logpond_server: LiveServer) -> None:
    """A bearer without a secret, bad base64, or an unknown scheme is a 401."""
    for header in ["Bearer justanid", "Basic !!!notbase64", "Digest abc", "Bearer :secret"]:
        with logpond_server.anonymous(headers={"authorization": header}) as http:
            assert http.get("/api/v1/groups").status_code == 401, header


def test_basic_auth_is_accepted(logpond_server: LiveServer) -> None:
    """HTTP Basic with the key id as user and the secret as password works."""
    token = base64.b64encode(f"{logpond_server.access_key_id}:{logpond_server.secret_access_key}".encode())
    with logpond_server.anonymous(headers={"authorization": f"Basic {token.decode()}"}) as http:
        assert http.get("/api/v1/groups").status_code == 200


def test_shipper_key_can_ship_but_cannot_read(logpond_server: LiveServer) -> None:
    """A key with the source story's shipper policy writes to its groups and reads nothing."""
    group = unique_group("/qualisys")
    with logpond_server.client() as http:
        http.post("/api/v1/groups", json={"name": group}).raise_for_status()
    key_id, secret = _key(logpond_server, role="shipper", groups="/qualisys/*")
    with logpond_server.client(key_id, secret) as http:
        shipped = http.post(
            "/api/v1/ingest",
            params={"group": group},
            content=b"hello",
            headers={"content-type": "text/plain"},
        )
        searched = http.post("/api/v1/events/search", json={"groups": [group]})
        other = http.post(
            "/api/v1/ingest",
            params={"group": "/other/app"},
            content=b"x",
            headers={"content-type": "text/plain"},
        )
        keys = http.get("/api/v1/keys")
        deleted = http.delete(f"/api/v1/groups/{group}")
    assert shipped.status_code == 200 and shipped.json()["accepted"] == 1
    assert searched.status_code == 403
    assert searched.json()["action"] == "logs:FilterLogEvents"
    assert other.status_code == 403
    assert keys.status_code == 403
    assert deleted.status_code == 403


def test_reader_key_reads_its_groups_only(logpond_server: LiveServer) -> None:
    """A reader scoped to a pattern searches matching groups and is refused others and writes."""
    mine, theirs = unique_group("/team-a"), unique_group("/team-b")
    with logpond_server.client() as http:
        for group in (mine, theirs):
            http.post(
                "/api/v1/ingest",
                params={"group": group},
                content=b"x",
                headers={"content-type": "text/plain"},
            ).raise_for_status()
    key_id, secret = _key(logpond_server, role="reader", groups="/team-a/*")
    with logpond_server.client(key_id, secret) as http:
        assert http.post("/api/v1/events/search", json={"groups": [mine]}).status_code == 200
        assert http.post("/api/v1/events/search", json={"groups": [theirs]}).status_code == 403
        listed = {g["name"] for g in http.get("/api/v1/groups", params={"limit": 1000}).json()["groups"]}
        write = http.post(
            "/api/v1/ingest", params={"group": mine}, content=b"x", headers={"content-type": "text/plain"}
        )
    assert mine in listed and theirs not in listed
    assert write.status_code == 403


def test_custom_policy_with_explicit_deny(logpond_server: LiveServer) -> None:
    """An explicit Deny wins over a broader Allow in the same policy."""
    group = unique_group("/deny")
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": "logs:*", "Resource": "*"},
            {
                "Effect": "Deny",
                "Action": "logs:DeleteLogGroup",
                "Resource": f"arn:aws:logs:*:*:log-group:{group}",
            },
        ],
    }
    key_id, secret = _key(logpond_server, policy=policy)
    with logpond_server.client(key_id, secret) as http:
        assert http.post("/api/v1/groups", json={"name": group}).status_code == 201
        assert http.delete(f"/api/v1/groups/{group}").status_code == 403


def test_invalid_policy_is_refused(logpond_server: LiveServer) -> None:
    """A policy document without statements or with a bad effect is a 400."""
    with logpond_server.client() as http:
        assert http.post("/api/v1/keys", json={"policy": {"Statement": []}}).status_code == 400
        assert (
            http.post(
                "/api/v1/keys",
                json={"policy": {"Statement": [{"Effect": "Maybe", "Action": "*", "Resource": "*"}]}},
            ).status_code
            == 400
        )
        assert http.post("/api/v1/keys", json={"role": "reader", "policy": {}}).status_code == 400


def test_revoked_key_is_refused(logpond_server: LiveServer) -> None:
    """After revocation a key's requests get 401, and the listing shows it revoked."""
    key_id, secret = _key(logpond_server, role="reader", description="temporary")
    with logpond_server.client(key_id, secret) as http:
        assert http.get("/api/v1/groups").status_code == 200
    with logpond_server.client() as http:
        assert http.delete(f"/api/v1/keys/{key_id}").status_code == 204
        listed = {k["access_key_id"]: k for k in http.get("/api/v1/keys").json()["keys"]}
    assert listed[key_id]["revoked"] is not None
    assert "secret" not in str(listed[key_id]).lower().replace("secret_access", "")
    with logpond_server.client(key_id, secret) as http:
        assert http.get("/api/v1/groups").status_code == 401


def test_key_listing_never_shows_secrets(logpond_server: LiveServer) -> None:
    """Secrets appear only in the creation response."""
    key_id, secret = _key(logpond_server, role="reader")
    with logpond_server.client() as http:
        listing = http.get("/api/v1/keys").text
    assert key_id in listing and secret not in listing


def test_secrets_are_not_in_the_server_log(logpond_server: LiveServer) -> None:
    """Neither the root secret nor created secrets are written to the server's output."""
    _key_id, secret = _key(logpond_server, role="reader")
    log = logpond_server.log()
    assert logpond_server.secret_access_key not in log
    assert secret not in log


def test_every_route_declares_its_action(logpond_server: LiveServer) -> None:
    """Each route but /healthz authenticates through a declared action."""
    from logpond.server.app import create_app  # noqa: PLC0415
    from logpond.server.settings import Settings  # noqa: PLC0415

    app = create_app(Settings())
    undeclared = []
    for route in app.routes:
        if isinstance(route, RawRoute):
            assert route.logpond_action
            continue
        if not isinstance(route, APIRoute) or route.path == "/healthz":
            continue
        actions = [getattr(d.call, "logpond_action", None) for d in route.dependant.dependencies]
        if not any(actions):
            undeclared.append(route.path)
    assert undeclared == []


def test_openapi_document_describes_the_api(logpond_server: LiveServer) -> None:
    """The API description lists the native routes, the raw ingest route included."""
    with logpond_server.client() as http:
        document = http.get("/api/v1/openapi.json").json()
    paths = document["paths"]
    assert "/api/v1/ingest" in paths and "post" in paths["/api/v1/ingest"]
    assert {"/api/v1/groups", "/api/v1/events/search", "/api/v1/keys", "/api/v1/streams"} <= set(paths)


def test_a_key_cannot_revoke_itself(logpond_server: LiveServer) -> None:
    """Revoking the key you are using is refused, so an admin cannot lock itself out."""
    with logpond_server.client() as http:
        response = http.delete(f"/api/v1/keys/{logpond_server.access_key_id}")
    assert response.status_code == 400


def test_unknown_route_is_a_json_404(logpond_server: LiveServer) -> None:
    """An unknown path answers a JSON 404."""
    response = httpx.get(f"{logpond_server.url}/nope", headers={"authorization": logpond_server.auth_header})
    assert response.status_code == 404
    assert response.json()["error"] == "NotFound"
