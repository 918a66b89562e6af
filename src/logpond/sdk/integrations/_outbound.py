"""Which ids an outbound request carries, decided per host (httpx and requests share it)."""

from __future__ import annotations

from collections.abc import Iterable

from .. import _runtime
from ..propagation import host_matches, inject

__all__ = ["outbound_headers"]


def outbound_headers(host: str, present: Iterable[str]) -> dict[str, str]:
    """``X-Request-ID``/``traceparent`` (and ``X-Tenant-ID`` for allowed hosts) not in ``present``.

    Ids go to hosts matching ``propagation_targets`` (default: every host); the tenant only
    to hosts matching ``tenant_targets`` (default: none). Headers the caller set are kept.
    """
    config = _runtime._pipeline.config
    if not host_matches(host, config.propagation_targets):
        return {}
    carrier: dict[str, str] = dict.fromkeys(present, "")
    inject(carrier, tenant=host_matches(host, config.tenant_targets))
    lowered = {name.lower() for name in present}
    return {k: v for k, v in carrier.items() if k.lower() not in lowered}
