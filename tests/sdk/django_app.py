"""A minimal Django project for the WSGI and middleware tests (settings set in ``setup``)."""

from __future__ import annotations

from typing import Any

import logpond.sdk as lp

log = lp.get_logger("django-app")


def item(request: Any, n: str) -> Any:
    from django.http import JsonResponse

    log.info("django view", n=int(n))
    return JsonResponse({"trace_id": lp.current_trace_id(), "tenant_id": lp.current_tenant_id()})


def boom(request: Any) -> Any:
    raise RuntimeError("django kaput")


def setup() -> None:
    """Configure Django once per process."""
    import django
    from django.conf import settings

    if settings.configured:
        return
    settings.configure(
        DEBUG=False,
        ALLOWED_HOSTS=["*"],
        ROOT_URLCONF=__name__,
        SECRET_KEY="test-only",
        MIDDLEWARE=["logpond.sdk.integrations.django.LogpondDjangoMiddleware"],
        INSTALLED_APPS=[],
        USE_TZ=True,
        LOGGING_CONFIG=None,
    )
    django.setup()


def _urls() -> list[Any]:
    from django.urls import path

    return [path("items/<n>", item), path("boom", boom)]


def __getattr__(name: str) -> Any:
    if name == "urlpatterns":
        return _urls()
    raise AttributeError(name)
