"""A minimal Django project for the WSGI and middleware tests (settings set in ``setup``)."""

from __future__ import annotations

from typing import Any

import django  # type: ignore[import-untyped]
from django.conf import settings  # type: ignore[import-untyped]
from django.http import JsonResponse  # type: ignore[import-untyped]
from django.urls import path  # type: ignore[import-untyped]

import logpond.sdk as lp

log = lp.get_logger("django-app")


def item(request: Any, n: str) -> Any:
    log.info("django view", n=int(n))
    return JsonResponse({"trace_id": lp.current_trace_id(), "tenant_id": lp.current_tenant_id()})


def boom(request: Any) -> Any:
    raise RuntimeError("django kaput")


def setup() -> None:
    """Configure Django once per process."""
    if settings.configured:
        return
    settings.configure(
        DEBUG=False,
        ALLOWED_HOSTS=["*"],
        ROOT_URLCONF=__name__,
        SECRET_KEY="test-only",
        MIDDLEWARE=["logpond.sdk.integrations.django.LogpondDjangoMiddleware"],
        LOGPOND_MIDDLEWARE={"logger": "logpond.http.django"},
        INSTALLED_APPS=[],
        USE_TZ=True,
        LOGGING_CONFIG=None,
    )
    django.setup()


def _urls() -> list[Any]:
    return [path("items/<n>", item), path("boom", boom)]


def __getattr__(name: str) -> Any:
    if name == "urlpatterns":
        return _urls()
    raise AttributeError(name)
