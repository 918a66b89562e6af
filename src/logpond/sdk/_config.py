"""The SDK's settings: one frozen object built by ``init`` from its arguments and ``LOGPOND_*``.

An argument wins over its environment variable, which wins over the default. Every value
is checked here, so a bad setting fails at ``init`` and never at log time.
"""

from __future__ import annotations

import logging
import os
import re
import socket
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from logpond.model.errors import InvalidParameterError

__all__ = [
    "DEFAULT_ENVIRONMENT",
    "DEFAULT_FLUSH_INTERVAL",
    "DEFAULT_FLUSH_TIMEOUT",
    "DEFAULT_MAX_BATCH_BYTES",
    "DEFAULT_MAX_BATCH_RECORDS",
    "DEFAULT_MAX_QUEUE_BYTES",
    "DEFAULT_MAX_QUEUE_RECORDS",
    "DEFAULT_MAX_SCAN_CHARS",
    "DEFAULT_SHUTDOWN_TIMEOUT",
    "DEFAULT_SPOOL_MAX_BYTES",
    "NOT_GIVEN",
    "OUTPUTS",
    "SDKConfig",
    "default_log_group",
    "default_log_stream",
    "load_config",
]


class _NotGiven:
    """The "argument not given" sentinel: ``None`` is a value for some settings."""

    _instance: _NotGiven | None = None

    def __new__(cls) -> _NotGiven:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "NOT_GIVEN"

    def __bool__(self) -> bool:
        return False


NOT_GIVEN: Final = _NotGiven()

DEFAULT_ENVIRONMENT = "development"
DEFAULT_LEVEL = "INFO"
# Queue bounds: whichever is reached first (records, bytes of serialized records).
DEFAULT_MAX_QUEUE_RECORDS = 10_000
DEFAULT_MAX_QUEUE_BYTES = 16 * 1024 * 1024
# A batch closes at this many records, this many uncompressed bytes, or this many seconds.
DEFAULT_MAX_BATCH_RECORDS = 1_000
DEFAULT_MAX_BATCH_BYTES = 1024 * 1024
DEFAULT_FLUSH_INTERVAL = 1.0
# ``logging``'s own flush()/close() calls wait at most this long.
DEFAULT_FLUSH_TIMEOUT = 2.0
# shutdown() (at exit, on SIGTERM) waits at most this long, well under Kubernetes' 30 s grace.
DEFAULT_SHUTDOWN_TIMEOUT = 5.0
# Total time one batch may spend being retried.
DEFAULT_RETRY_BUDGET = 60.0
# A disk spool, when enabled, holds at most this many bytes.
DEFAULT_SPOOL_MAX_BYTES = 256 * 1024 * 1024
# Redaction scans only the first this-many characters of a string.
DEFAULT_MAX_SCAN_CHARS = 16 * 1024

OUTPUTS = ("stdout", "stderr", "logpond")

_GROUP_RE = re.compile(r"[.\-_/#A-Za-z0-9]{1,512}")
_STREAM_BAD = re.compile(r"[:*]")
_HEADER_NAME_RE = re.compile(r"[A-Za-z0-9-]{1,64}")
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


@dataclass(frozen=True)
class SDKConfig:
    """Everything ``init`` decided; see ``docs/sdk.md`` for each setting."""

    service: str
    environment: str
    level: int = logging.INFO
    outputs: tuple[str, ...] = ("stdout",)
    endpoint: str | None = None
    api_key: str | None = None
    log_group: str = ""
    log_stream: str | None = None  # None: hostname or pod name + pid, per process
    disabled: bool = False
    capture_stdlib: bool = True
    propagation_targets: tuple[str, ...] | None = None  # None: every host gets the ids
    tenant_targets: tuple[str, ...] = ()  # hosts that may receive X-Tenant-ID
    tenant_header: str = "X-Tenant-ID"
    trust_inbound_ids: bool = True
    install_signal_handlers: bool = False
    flush_timeout: float = DEFAULT_FLUSH_TIMEOUT
    shutdown_timeout: float = DEFAULT_SHUTDOWN_TIMEOUT
    max_queue_records: int = DEFAULT_MAX_QUEUE_RECORDS
    max_queue_bytes: int = DEFAULT_MAX_QUEUE_BYTES
    max_batch_records: int = DEFAULT_MAX_BATCH_RECORDS
    max_batch_bytes: int = DEFAULT_MAX_BATCH_BYTES
    flush_interval: float = DEFAULT_FLUSH_INTERVAL
    retry_budget: float = DEFAULT_RETRY_BUDGET
    spool_dir: str | None = None
    spool_max_bytes: int = DEFAULT_SPOOL_MAX_BYTES

    def shipping_key(self) -> tuple[Any, ...]:
        """The settings a running shipper depends on: equal keys can keep the same shipper."""
        return (
            self.endpoint, self.api_key, self.log_group, self.log_stream,
            self.max_queue_records, self.max_queue_bytes, self.max_batch_records,
            self.max_batch_bytes, self.flush_interval, self.retry_budget, self.spool_dir,
            self.spool_max_bytes,
        )  # fmt: skip


def default_log_group(service: str, environment: str) -> str:
    """``/<service>/<environment>``, with characters a group name cannot hold replaced by ``-``."""
    raw = f"/{service}/{environment}"
    return re.sub(r"[^.\-_/#A-Za-z0-9]", "-", raw)[:512]


def default_log_stream() -> str:
    """The pod name (``POD_NAME``, else the hostname Kubernetes sets) and the pid."""
    host = os.environ.get("POD_NAME") or os.environ.get("HOSTNAME") or socket.gethostname()
    return _STREAM_BAD.sub("-", f"{host or 'host'}-{os.getpid()}")[:512]


def _env(name: str, environ: Mapping[str, str]) -> str | None:
    value = environ.get(f"LOGPOND_{name}")
    return value if value not in (None, "") else None


def _pick(value: Any, name: str, environ: Mapping[str, str], default: Any) -> Any:
    if value is not NOT_GIVEN and value is not None:
        return value
    env = _env(name, environ)
    return env if env is not None else default


def _bool(value: Any, name: str) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise InvalidParameterError(f"{name} must be true or false", value=value)


def _level(value: Any) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    number = logging.getLevelName(str(value).strip().upper())
    if not isinstance(number, int):
        raise InvalidParameterError("unknown log level", value=value)
    return number


def _positive(value: Any, name: str, kind: Callable[[Any], float] = float) -> Any:
    try:
        number = kind(value)
    except (TypeError, ValueError):
        raise InvalidParameterError(f"{name} must be a positive number", value=value) from None
    if number <= 0:
        raise InvalidParameterError(f"{name} must be a positive number", value=value)
    return number


def _hosts(value: Any, name: str) -> tuple[str, ...]:
    if isinstance(value, str):
        return tuple(h.strip().lower() for h in value.split(",") if h.strip())
    if isinstance(value, Sequence):
        return tuple(str(h).strip().lower() for h in value)
    raise InvalidParameterError(f"{name} must be a list of host patterns", value=value)


def _outputs(value: Any, endpoint: str | None) -> tuple[str, ...]:
    if value is None:
        return ("logpond",) if endpoint else ("stdout",)
    names = (
        tuple(v.strip() for v in value.split(",") if v.strip()) if isinstance(value, str) else tuple(value)
    )
    for name in names:
        if name not in OUTPUTS:
            raise InvalidParameterError(
                f"unknown output {name!r}; choose from {', '.join(OUTPUTS)}", value=name
            )
    if "logpond" in names and not endpoint:
        raise InvalidParameterError("output 'logpond' needs an endpoint (LOGPOND_ENDPOINT)")
    return names


def load_config(
    service: Any,
    environment: Any,
    *,
    environ: Mapping[str, str] | None = None,
    **settings: Any,
) -> SDKConfig:
    """Build the settings from ``init``'s arguments, falling back on ``LOGPOND_*`` variables."""
    env = os.environ if environ is None else environ
    service_name = str(_pick(service, "SERVICE", env, "") or _program_name())
    environment_name = str(_pick(environment, "ENVIRONMENT", env, DEFAULT_ENVIRONMENT))
    endpoint = _pick(settings.pop("endpoint", NOT_GIVEN), "ENDPOINT", env, None)
    if endpoint is not None:
        endpoint = str(endpoint).rstrip("/")
        if not endpoint.startswith(("http://", "https://")):
            raise InvalidParameterError("endpoint must be an http:// or https:// URL", value=endpoint)
    api_key = _pick(settings.pop("api_key", NOT_GIVEN), "API_KEY", env, None)
    if api_key is not None and ":" not in str(api_key):
        raise InvalidParameterError("api_key must be '<access key id>:<secret access key>'")
    group = _pick(settings.pop("log_group", NOT_GIVEN), "LOG_GROUP", env, None)
    group = str(group) if group is not None else default_log_group(service_name, environment_name)
    if not _GROUP_RE.fullmatch(group) or group.startswith("aws/"):
        raise InvalidParameterError(
            "log_group must be 1-512 of [.-_/#A-Za-z0-9], not starting with aws/", value=group
        )
    stream = _pick(settings.pop("log_stream", NOT_GIVEN), "LOG_STREAM", env, None)
    if stream is not None and (not str(stream) or _STREAM_BAD.search(str(stream))):
        raise InvalidParameterError("log_stream must be 1-512 characters without : or *")
    tenant_header = str(settings.pop("tenant_header", None) or "X-Tenant-ID")
    if not _HEADER_NAME_RE.fullmatch(tenant_header):
        raise InvalidParameterError("tenant_header must be a header name", value=tenant_header)
    targets = settings.pop("propagation_targets", None)
    tenant_targets = settings.pop("tenant_targets", None)
    spool_dir = _pick(settings.pop("spool_dir", NOT_GIVEN), "SPOOL_DIR", env, None)
    numbers: dict[str, Any] = {}
    for name, kind in (
        ("flush_timeout", float), ("shutdown_timeout", float), ("flush_interval", float),
        ("retry_budget", float), ("max_queue_records", int), ("max_queue_bytes", int),
        ("max_batch_records", int), ("max_batch_bytes", int), ("spool_max_bytes", int),
    ):  # fmt: skip
        value = settings.pop(name, None)
        if value is not None:
            numbers[name] = _positive(value, name, kind)
    config = SDKConfig(
        service=service_name,
        environment=environment_name,
        level=_level(_pick(settings.pop("level", NOT_GIVEN), "LEVEL", env, DEFAULT_LEVEL)),
        outputs=_outputs(_pick(settings.pop("output", NOT_GIVEN), "OUTPUT", env, None), endpoint),
        endpoint=endpoint,
        api_key=str(api_key) if api_key is not None else None,
        log_group=group,
        log_stream=str(stream) if stream is not None else None,
        disabled=_bool(_pick(settings.pop("disabled", NOT_GIVEN), "DISABLED", env, False), "disabled"),
        capture_stdlib=_bool(settings.pop("capture_stdlib", True), "capture_stdlib"),
        propagation_targets=None if targets is None else _hosts(targets, "propagation_targets"),
        tenant_targets=() if tenant_targets is None else _hosts(tenant_targets, "tenant_targets"),
        tenant_header=tenant_header,
        trust_inbound_ids=_bool(settings.pop("trust_inbound_ids", True), "trust_inbound_ids"),
        install_signal_handlers=_bool(
            settings.pop("install_signal_handlers", False), "install_signal_handlers"
        ),
        spool_dir=str(spool_dir) if spool_dir is not None else None,
        **numbers,
    )
    if settings:
        raise InvalidParameterError("unknown setting", name=sorted(settings)[0])
    if config.max_batch_records > config.max_queue_records:
        raise InvalidParameterError("max_batch_records must not exceed max_queue_records")
    return config


def _program_name() -> str:
    argv0 = sys.argv[0] if sys.argv and sys.argv[0] else ""
    name = os.path.splitext(os.path.basename(argv0))[0]
    return name if name and name not in {"-", "-c", "-m", "__main__"} else "unknown_service"
