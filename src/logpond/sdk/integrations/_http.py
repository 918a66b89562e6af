"""What the ASGI, WSGI and Django integrations share: one ``"HTTP Request"`` record per request."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from .. import _runtime
from ..propagation import TraceIds, resolve_inbound, valid_id

__all__ = ["ACCESS_LOGGER", "HTTP_MESSAGE", "RequestSettings", "emit_request_record", "level_for"]

HTTP_MESSAGE = "HTTP Request"
ACCESS_LOGGER = "logpond.http"

TenantResolver = Callable[[Any], "str | None"]


def level_for(status: int | None, failed: bool) -> int:
    """info below 400, warning for 4xx, error for 5xx or an unhandled exception."""
    if failed or status is None or status >= 500:
        return logging.ERROR
    if status >= 400:
        return logging.WARNING
    return logging.INFO


class RequestSettings:
    """The middleware options, with ``None`` meaning "what ``init`` said"."""

    __slots__ = ("_tenant_header", "_trust", "logger", "record_query", "tenant_resolver")

    def __init__(
        self,
        *,
        trust_inbound_ids: bool | None = None,
        tenant_header: str | None = None,
        tenant_resolver: TenantResolver | None = None,
        record_query: bool = False,
        logger: str = ACCESS_LOGGER,
    ) -> None:
        self._trust = trust_inbound_ids
        self._tenant_header = tenant_header
        self.tenant_resolver = tenant_resolver
        self.record_query = record_query
        self.logger = logger

    @property
    def trust_inbound_ids(self) -> bool:
        if self._trust is not None:
            return self._trust
        return _runtime._pipeline.config.trust_inbound_ids

    @property
    def tenant_header(self) -> str:
        return self._tenant_header or _runtime._pipeline.config.tenant_header

    def resolve(self, headers: dict[str, str], request: Any) -> TraceIds:
        """The ids for a request; the tenant resolver, if any, has the last word on the tenant."""
        ids = resolve_inbound(
            headers, trust_inbound_ids=self.trust_inbound_ids, tenant_header=self.tenant_header
        )
        if self.tenant_resolver is not None:
            tenant = self.tenant_resolver(request)
            if tenant is not None:
                ids.tenant_id = valid_id(str(tenant), "tenant_resolver")
        return ids


def emit_request_record(
    settings: RequestSettings,
    *,
    method: str,
    path: str,
    query: str,
    status: int | None,
    duration_ms: float,
    user_agent: str | None,
    error: BaseException | None,
) -> None:
    """The request's one ``"HTTP Request"`` record, in the request's context.

    The access logger's stdlib level applies, as for ``get_logger``: setting
    ``logging.getLogger("logpond.http")`` to WARNING keeps only 4xx and 5xx requests.
    """
    levelno = level_for(status, error is not None)
    if not logging.getLogger(settings.logger).isEnabledFor(levelno):
        return
    fields: dict[str, Any] = {
        "method": method,
        "path": path,
        "status": status if status is not None else 500,
        "duration_ms": round(duration_ms, 3),
        "user_agent": user_agent,
    }
    if settings.record_query and query:
        fields["query"] = query
    _runtime._pipeline.emit(levelno, HTTP_MESSAGE, settings.logger, fields, error)
