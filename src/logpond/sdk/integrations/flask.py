"""Flask: ``init_app(app)`` wraps ``app.wsgi_app`` in :class:`~.wsgi.LogpondWSGIMiddleware`.

::

    app = Flask(__name__)
    logpond.sdk.integrations.flask.init_app(app)

Flask turns unhandled exceptions into 500 responses itself; those pass through the
middleware and carry ``X-Request-ID`` like every other response.
"""

from __future__ import annotations

from typing import Any

from .wsgi import LogpondWSGIMiddleware

__all__ = ["init_app"]


def init_app(app: Any, **options: Any) -> Any:
    """Wrap ``app.wsgi_app`` (once); ``options`` go to the WSGI middleware. Returns ``app``."""
    if not isinstance(app.wsgi_app, LogpondWSGIMiddleware):
        app.wsgi_app = LogpondWSGIMiddleware(app.wsgi_app, **options)
    return app
