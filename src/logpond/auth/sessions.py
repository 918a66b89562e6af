"""Web UI sessions: a signed-in browser holds a random token in an HttpOnly cookie.

A session stands for one API key. It never holds a principal of its own: each request
looks the key up in the :class:`~logpond.auth.keys.Keyring` again, so a session has
exactly its key's policy, and a revoked key's sessions stop working at once. Sessions
expire (``DEFAULT_SESSION_SECONDS`` after sign-in, or ``DEFAULT_IDLE_SECONDS`` after
their last use), and signing out removes them.

Only a hash of the token is kept, in memory: a restart signs everyone out. Each session
also carries a CSRF token that the page sends back in ``X-CSRF-Token`` on every request
that changes something (the synchronizer-token pattern).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
from dataclasses import dataclass

from logpond.model.clock import Clock, SystemClock
from logpond.model.errors import AuthenticationError

__all__ = [
    "CSRF_HEADER",
    "DEFAULT_IDLE_SECONDS",
    "DEFAULT_SESSION_SECONDS",
    "MAX_SESSIONS",
    "SESSION_COOKIE",
    "Session",
    "SessionStore",
]

SESSION_COOKIE = "logpond_session"
CSRF_HEADER = "x-csrf-token"
# A session ends this long after sign-in, whatever its use.
DEFAULT_SESSION_SECONDS = 12 * 3600
# ... or this long after its last request.
DEFAULT_IDLE_SECONDS = 2 * 3600
# Live sessions kept at once; past it, the least recently used are dropped.
MAX_SESSIONS = 10_000


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(slots=True)
class Session:
    """One signed-in browser: the key it stands for, its CSRF token and its lifetime."""

    access_key_id: str
    csrf_token: str
    created_ms: int
    expires_ms: int
    last_used_ms: int

    def check_csrf(self, token: str | None) -> bool:
        return token is not None and hmac.compare_digest(self.csrf_token.encode(), token.encode())


class SessionStore:
    """The live sessions, by the hash of their token; see the module docstring."""

    def __init__(
        self,
        clock: Clock | None = None,
        *,
        lifetime_seconds: int = DEFAULT_SESSION_SECONDS,
        idle_seconds: int = DEFAULT_IDLE_SECONDS,
        max_sessions: int = MAX_SESSIONS,
    ) -> None:
        self._clock = clock or SystemClock()
        self._lifetime_ms = lifetime_seconds * 1000
        self._idle_ms = idle_seconds * 1000
        self._max = max_sessions
        self._sessions: dict[str, Session] = {}
        self._lock = threading.Lock()

    def create(self, access_key_id: str) -> tuple[str, Session]:
        """A new session for a key that has just authenticated; returns the cookie token."""
        token = secrets.token_urlsafe(32)
        now = self._clock.now_ms()
        session = Session(access_key_id, secrets.token_urlsafe(24), now, now + self._lifetime_ms, now)
        with self._lock:
            self._expire(now)
            while len(self._sessions) >= self._max:
                oldest = min(self._sessions, key=lambda k: self._sessions[k].last_used_ms)
                del self._sessions[oldest]
            self._sessions[_digest(token)] = session
        return token, session

    def get(self, token: str) -> Session:
        """The live session for a cookie token; an unknown or expired one is refused."""
        now = self._clock.now_ms()
        digest = _digest(token)
        with self._lock:
            session = self._sessions.get(digest)
            if session is not None and self._expired(session, now):
                del self._sessions[digest]
                session = None
            if session is None:
                raise AuthenticationError("session expired or signed out")
            session.last_used_ms = now
            return session

    def revoke(self, token: str) -> None:
        """Sign a session out; unknown tokens are ignored."""
        with self._lock:
            self._sessions.pop(_digest(token), None)

    def revoke_key(self, access_key_id: str) -> int:
        """Sign out every session of a key; returns how many there were."""
        with self._lock:
            doomed = [k for k, s in self._sessions.items() if s.access_key_id == access_key_id]
            for digest in doomed:
                del self._sessions[digest]
        return len(doomed)

    def __len__(self) -> int:
        with self._lock:
            self._expire(self._clock.now_ms())
            return len(self._sessions)

    def _expired(self, session: Session, now: int) -> bool:
        return now >= session.expires_ms or now >= session.last_used_ms + self._idle_ms

    def _expire(self, now: int) -> None:
        doomed = [k for k, s in self._sessions.items() if self._expired(s, now)]
        for digest in doomed:
            del self._sessions[digest]
