"""What the SDK says about itself: at most one stderr line per minute per kind of trouble.

Nothing here raises. Tests install a hook (``logpond.sdk.testing.internal_errors``) so that
a swallowed error fails the test that caused it instead of vanishing.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from collections.abc import Callable

__all__ = ["REPORT_INTERVAL", "report", "set_hook"]

# Seconds between two stderr lines of the same kind.
REPORT_INTERVAL = 60.0

Hook = Callable[[str, str, BaseException | None], None]

_lock = threading.RLock()  # re-entrant: a signal handler may report while it is held
_last: dict[str, float] = {}
_hook: Hook | None = None


def _renew_lock() -> None:
    global _lock  # noqa: PLW0603 - a forked child must not inherit a held lock
    _lock = threading.RLock()


os.register_at_fork(after_in_child=_renew_lock)


def set_hook(hook: Hook | None) -> Hook | None:
    """Install ``hook(kind, message, error)``, called for every report; returns the old one."""
    global _hook
    previous, _hook = _hook, hook
    return previous


def report(kind: str, message: str, error: BaseException | None = None, **data: object) -> None:
    """Tell stderr about an internal problem, once per ``REPORT_INTERVAL`` for each ``kind``."""
    try:
        hook = _hook
        if hook is not None:
            hook(kind, message, error)
        now = time.monotonic()
        with _lock:
            last = _last.get(kind)
            if last is not None and now - last < REPORT_INTERVAL:
                return
            _last[kind] = now
        line: dict[str, object] = {
            "timestamp": _now_iso(),
            "level": "warning",
            "logger": "logpond.sdk",
            "message": message,
            "kind": kind,
            **data,
        }
        if error is not None:
            line["error"] = f"{type(error).__name__}: {error}"
        stream = sys.stderr or sys.__stderr__
        if stream is not None:
            stream.write(json.dumps(line, default=str) + "\n")
            stream.flush()
    except Exception:  # noqa: S110 - the last resort has nowhere left to report to
        pass


def _reset() -> None:
    """Forget when each kind was last reported (tests)."""
    with _lock:
        _last.clear()


def _now_iso() -> str:
    now = time.time()
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + f".{int(now % 1 * 1000):03d}Z"
