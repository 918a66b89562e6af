"""logpond's Python SDK: structured JSON logs with trace and tenant context, shipped to logpond.

::

    import logpond.sdk as lp

    lp.init("qualisys-api", "production", endpoint="https://logs.internal:5647",
            api_key="LP...:secret", log_group="/qualisys/production/api")
    log = lp.get_logger(__name__)
    with lp.context_scope(tenant_id="tenant_acme"):
        log.info("test case created", test_case_id=42)

Standard library only; integrations (``logpond.sdk.integrations.*``) import their library
when you import them. See ``docs/sdk.md``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from . import _runtime
from ._config import NOT_GIVEN, SDKConfig
from ._context import (
    bind_context,
    context_scope,
    current_tenant_id,
    current_trace_id,
    get_context,
    new_trace_id,
    reset_context,
)
from ._logger import Logger, get_logger
from ._runtime import flush, shutdown
from .formatter import LogpondFormatter, LogpondHandler
from .propagation import (
    ContextExecutor,
    extract,
    inject,
    run_in_executor,
    to_thread,
    wrap,
)

__all__ = [
    "ContextExecutor",
    "Logger",
    "LogpondFormatter",
    "LogpondHandler",
    "SDKConfig",
    "bind_context",
    "context_scope",
    "current_tenant_id",
    "current_trace_id",
    "extract",
    "flush",
    "get_context",
    "get_logger",
    "init",
    "inject",
    "new_trace_id",
    "reset_context",
    "run_in_executor",
    "shutdown",
    "to_thread",
    "wrap",
]


def init(
    service: str | None = None,
    environment: str | None = None,
    *,
    endpoint: str | None = None,
    api_key: str | None = None,
    level: str | int | None = None,
    output: str | Sequence[str] | None = None,
    redaction: Any = NOT_GIVEN,
    redaction_veto: Callable[[str, str], bool] | None = None,
    max_scan_chars: int | None = None,
    log_group: str | None = None,
    log_stream: str | None = None,
    propagation_targets: Sequence[str] | None = None,
    tenant_targets: Sequence[str] | None = None,
    tenant_header: str | None = None,
    trust_inbound_ids: bool = True,
    capture_stdlib: bool = True,
    install_signal_handlers: bool = False,
    disabled: bool | None = None,
    flush_timeout: float | None = None,
    shutdown_timeout: float | None = None,
    flush_interval: float | None = None,
    max_queue_records: int | None = None,
    max_queue_bytes: int | None = None,
    max_batch_records: int | None = None,
    max_batch_bytes: int | None = None,
    retry_budget: float | None = None,
    spool_dir: str | None = None,
    spool_max_bytes: int | None = None,
) -> SDKConfig:
    """Configure logging for this process; calling it again reconfigures in place.

    Every argument falls back on an environment variable when not given: ``LOGPOND_SERVICE``,
    ``_ENVIRONMENT``, ``_ENDPOINT``, ``_API_KEY`` (``<access key id>:<secret>``), ``_LEVEL``,
    ``_OUTPUT`` (comma-separated), ``_LOG_GROUP``, ``_LOG_STREAM``, ``_DISABLED``,
    ``_REDACTION`` (``on``/``off``), ``_SPOOL_DIR``.

    - ``output``: any of ``"stdout"``, ``"stderr"``, ``"logpond"`` (ship to ``endpoint``);
      default ``("logpond",)`` with an endpoint, else ``("stdout",)``.
    - ``log_group``: default ``/<service>/<environment>``; ``log_stream``: default the pod
      name (or hostname) and the pid.
    - ``redaction``: ``True`` (the default policy of ``logpond.redact``, as on the server),
      ``False``, a ``Policy``, its native dict form, or a ``Redactor``; an invalid policy
      (a bad custom regex) raises here. ``redaction_veto(type, text) -> bool`` keeps a
      finding unmasked when it returns True.
    - ``propagation_targets``: host patterns (``*.internal``) that outbound calls send ids
      to (default: all); ``tenant_targets``: hosts that also get ``X-Tenant-ID`` (default: none).

    Exactly one logpond handler sits on the root logger afterwards (unless
    ``capture_stdlib=False``), and the root level is ``level``. Returns the settings.
    """
    return _runtime.init(
        service,
        environment,
        endpoint=endpoint,
        api_key=api_key,
        level=level,
        output=output,
        redaction=redaction,
        redaction_veto=redaction_veto,
        max_scan_chars=max_scan_chars,
        log_group=log_group,
        log_stream=log_stream,
        propagation_targets=propagation_targets,
        tenant_targets=tenant_targets,
        tenant_header=tenant_header,
        trust_inbound_ids=trust_inbound_ids,
        capture_stdlib=capture_stdlib,
        install_signal_handlers=install_signal_handlers,
        disabled=disabled,
        flush_timeout=flush_timeout,
        shutdown_timeout=shutdown_timeout,
        flush_interval=flush_interval,
        max_queue_records=max_queue_records,
        max_queue_bytes=max_queue_bytes,
        max_batch_records=max_batch_records,
        max_batch_bytes=max_batch_bytes,
        retry_budget=retry_budget,
        spool_dir=spool_dir,
        spool_max_bytes=spool_max_bytes,
    )
