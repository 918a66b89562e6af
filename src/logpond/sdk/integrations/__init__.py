"""One module per library; each imports its library only when you import the module.

``load("celery")`` imports an integration by name and, when its library is missing, says
which extra installs it (``pip install 'logpond[sdk-celery]'``).
"""

from __future__ import annotations

import difflib
import importlib
from types import ModuleType

from logpond.model.errors import InvalidParameterError

__all__ = ["INTEGRATIONS", "load"]

# integration name -> (module, the library it needs, the extra that installs it)
INTEGRATIONS: dict[str, tuple[str, str | None, str | None]] = {
    "asgi": ("logpond.sdk.integrations.asgi", None, None),
    "wsgi": ("logpond.sdk.integrations.wsgi", None, None),
    "flask": ("logpond.sdk.integrations.flask", "flask", None),
    "django": ("logpond.sdk.integrations.django", "django", None),
    "celery": ("logpond.sdk.integrations.celery", "celery", "sdk-celery"),
    "rq": ("logpond.sdk.integrations.rq", "rq", None),
    "dramatiq": ("logpond.sdk.integrations.dramatiq", "dramatiq", None),
    "arq": ("logpond.sdk.integrations.arq", "arq", None),
    "httpx": ("logpond.sdk.integrations.httpx", "httpx", "sdk-httpx"),
    "requests": ("logpond.sdk.integrations.requests", "requests", "sdk-requests"),
    "structlog": ("logpond.sdk.integrations.structlog", "structlog", "sdk-structlog"),
    "loguru": ("logpond.sdk.integrations.loguru", "loguru", "sdk-loguru"),
}


def load(name: str) -> ModuleType:
    """The integration module called ``name``; a clear error if it or its library is missing."""
    entry = INTEGRATIONS.get(name)
    if entry is None:
        close = difflib.get_close_matches(name, INTEGRATIONS, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise InvalidParameterError(f"unknown integration {name!r}{hint}", name=name)
    module, library, extra = entry
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        if library is not None and exc.name is not None and exc.name.split(".")[0] == library:
            how = f"pip install 'logpond[{extra}]'" if extra else f"pip install {library}"
            raise ImportError(f"the {name} integration needs {library}: {how}") from exc
        raise
