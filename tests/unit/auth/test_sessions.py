"""UI sessions: tokens, CSRF tokens, expiry and revocation."""

from __future__ import annotations

import pytest

from logpond.auth.sessions import SessionStore
from logpond.model.clock import ManualClock
from logpond.model.errors import AuthenticationError


def test_a_session_is_found_by_its_token_only() -> None:
    """The token finds the session; another token does not; the CSRF token is separate."""
    store = SessionStore(ManualClock(0))
    token, session = store.create("LPKEY")
    assert store.get(token) is session and session.access_key_id == "LPKEY"
    assert session.check_csrf(session.csrf_token) and not session.check_csrf(token)
    assert not session.check_csrf(None)
    with pytest.raises(AuthenticationError):
        store.get(token + "x")


def test_sessions_expire_when_idle_and_at_their_end() -> None:
    """Use keeps a session alive up to its lifetime; idleness ends it sooner."""
    clock = ManualClock(0)
    store = SessionStore(clock, lifetime_seconds=100, idle_seconds=30)
    token, _ = store.create("LPKEY")
    for _ in range(3):
        clock.advance(29_000)
        store.get(token)
    clock.advance(14_000)  # 101 s after sign-in
    with pytest.raises(AuthenticationError):
        store.get(token)
    idle, _ = store.create("LPKEY")
    clock.advance(30_000)
    with pytest.raises(AuthenticationError):
        store.get(idle)


def test_revoking_a_key_ends_its_sessions_only() -> None:
    """revoke_key() signs out every session of that key and no other."""
    store = SessionStore(ManualClock(0), max_sessions=10)
    mine = [store.create("LPMINE")[0] for _ in range(3)]
    other, _ = store.create("LPOTHER")
    assert store.revoke_key("LPMINE") == 3
    for token in mine:
        with pytest.raises(AuthenticationError):
            store.get(token)
    store.get(other)
    store.revoke(other)
    assert len(store) == 0


def test_the_oldest_sessions_give_way_past_the_maximum() -> None:
    """At the cap, the least recently used session is dropped."""
    clock = ManualClock(0)
    store = SessionStore(clock, max_sessions=2)
    first, _ = store.create("LP1")
    clock.advance(1)
    second, _ = store.create("LP2")
    clock.advance(1)
    store.get(first)
    store.create("LP3")
    store.get(first)
    with pytest.raises(AuthenticationError):
        store.get(second)
