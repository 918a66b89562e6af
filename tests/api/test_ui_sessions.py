"""Web UI sessions against a real server: the cookie, CSRF, sign-out, revoked keys, expiry,
and the public page."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import httpx

from ..conftest import ClockedServer, LiveServer, unique_group


def _key(server: LiveServer, **spec: object) -> tuple[str, str]:
    with server.client() as http:
        response = http.post("/api/v1/keys", json=spec)
    assert response.status_code == 201, response.text
    body = response.json()
    return body["access_key_id"], body["secret_access_key"]


@contextlib.contextmanager
def _sign_in(
    server: LiveServer, key_id: str | None = None, secret: str | None = None
) -> Iterator[tuple[httpx.Client, str]]:
    """A cookie-holding client signed in with a key, and the session's CSRF token."""
    with server.anonymous() as browser:
        auth = f"Bearer {key_id or server.access_key_id}:{secret or server.secret_access_key}"
        response = browser.post("/api/v1/session", headers={"authorization": auth})
        assert response.status_code == 201, response.text
        yield browser, response.json()["csrf_token"]


def test_sign_in_sets_an_httponly_samesite_cookie(logpond_server: LiveServer) -> None:
    """Signing in answers an HttpOnly, SameSite=Strict cookie (not Secure over plain HTTP)."""
    with _sign_in(logpond_server) as (browser, csrf):
        cookie = browser.cookies.jar
        (session,) = [c for c in cookie if c.name == "logpond_session"]
        assert session.has_nonstandard_attr("HttpOnly") and not session.secure
        assert session.get_nonstandard_attr("SameSite") == "strict"
        assert len(csrf) >= 24
        me = browser.get("/api/v1/session").json()
        assert me["access_key_id"] == logpond_server.access_key_id and me["csrf_token"] == csrf


def test_a_session_reads_like_its_key(logpond_server: LiveServer) -> None:
    """GET routes work with the cookie alone, and a scoped key's session keeps its scope."""
    mine, other = unique_group("/mine"), unique_group("/other")
    with logpond_server.client() as http:
        for name in (mine, other):
            http.post("/api/v1/groups", json={"name": name}).raise_for_status()
    key_id, secret = _key(logpond_server, role="reader", groups="/mine/*")
    with _sign_in(logpond_server, key_id, secret) as (browser, _csrf):
        assert browser.get(f"/api/v1/groups/{mine.replace('/', '%2F')}").status_code == 200
        denied = browser.get(f"/api/v1/groups/{other.replace('/', '%2F')}")
        assert denied.status_code == 403 and denied.json()["access_key_id"] == key_id


def test_state_changing_requests_need_the_csrf_token(logpond_server: LiveServer) -> None:
    """With a cookie, POST needs X-CSRF-Token; a wrong token or another origin is refused."""
    group = unique_group()
    with _sign_in(logpond_server) as (browser, csrf):
        body = {"name": group}
        missing = browser.post("/api/v1/groups", json=body)
        assert missing.status_code == 403 and missing.json()["message"] == "missing or wrong csrf token"
        assert browser.post("/api/v1/groups", json=body, headers={"x-csrf-token": "nope"}).status_code == 403
        cross = browser.post(
            "/api/v1/groups", json=body, headers={"x-csrf-token": csrf, "origin": "https://evil.example"}
        )
        assert cross.status_code == 403 and cross.json()["message"] == "cross-origin request refused"
        same = f"http://127.0.0.1:{logpond_server.port}"
        created = browser.post("/api/v1/groups", json=body, headers={"x-csrf-token": csrf, "origin": same})
        assert created.status_code == 201, created.text


def test_sign_in_from_another_origin_is_refused(logpond_server: LiveServer) -> None:
    """A sign-in request that a browser marks as coming from another site gets no session."""
    with logpond_server.anonymous() as browser:
        response = browser.post(
            "/api/v1/session",
            headers={"authorization": logpond_server.auth_header, "origin": "https://evil.example"},
        )
    assert response.status_code == 403 and "set-cookie" not in response.headers


def test_sign_in_needs_a_valid_key(logpond_server: LiveServer) -> None:
    """A wrong secret gets a 401 and no cookie; the page's requests get no browser prompt."""
    with logpond_server.anonymous() as browser:
        response = browser.post(
            "/api/v1/session",
            headers={
                "authorization": f"Bearer {logpond_server.access_key_id}:wrong",
                "x-requested-with": "XMLHttpRequest",
            },
        )
    assert response.status_code == 401 and "set-cookie" not in response.headers
    assert "www-authenticate" not in response.headers


def test_sign_out_ends_the_session(logpond_server: LiveServer) -> None:
    """After DELETE /api/v1/session the same cookie is refused."""
    with _sign_in(logpond_server) as (browser, csrf):
        token = browser.cookies["logpond_session"]
        assert browser.delete("/api/v1/session", headers={"x-csrf-token": csrf}).status_code == 204
    with logpond_server.anonymous(cookies={"logpond_session": token}) as replay:
        assert replay.get("/api/v1/groups").status_code == 401


def test_a_revoked_keys_sessions_stop_working(logpond_server: LiveServer) -> None:
    """Revoking a key ends its sessions at once."""
    key_id, secret = _key(logpond_server, role="reader")
    with _sign_in(logpond_server, key_id, secret) as (browser, _csrf):
        assert browser.get("/api/v1/groups").status_code == 200
        with logpond_server.client() as admin:
            assert admin.delete(f"/api/v1/keys/{key_id}").status_code == 204
        assert browser.get("/api/v1/groups").status_code == 401


def test_sessions_expire(clocked_server: ClockedServer) -> None:
    """A session is refused after two idle hours."""
    with _sign_in(clocked_server.server) as (browser, _csrf):
        assert browser.get("/api/v1/groups").status_code == 200
        clocked_server.clock.advance(2 * 3600 * 1000 + 1)
        expired = browser.get("/api/v1/groups")
        assert expired.status_code == 401 and expired.json()["message"] == "session expired or signed out"


def test_the_page_is_public_and_holds_no_data(logpond_server: LiveServer) -> None:
    """GET / and the assets need no credential; the page forbids framing and foreign scripts."""
    with logpond_server.anonymous() as anonymous:
        page = anonymous.get("/")
        assert page.status_code == 200 and "text/html" in page.headers["content-type"]
        assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
        assert "/ui/js/main.js" in page.text
        script = anonymous.get("/ui/js/main.js")
        assert script.status_code == 200 and "javascript" in script.headers["content-type"]
        assert anonymous.get("/ui/vendor/uplot/LICENSE").status_code == 200
        assert anonymous.get("/api/v1/session").status_code == 401
        assert anonymous.get("/api/v1/group-summaries").status_code == 401
        assert anonymous.get("/api/v1/tail?group=/x").status_code == 401
        assert anonymous.post("/api/v1/query/histogram", json={"query": "fields @message"}).status_code == 401
