"""The one settings model: defaults, then the YAML config file, then the environment, then
command-line flags. ``docs/configuration.md`` documents every field; a test checks that it
does.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from logpond.alerts.config import AlertsConfig
from logpond.model.errors import InvalidParameterError, LogpondError
from logpond.model.limits import MAX_INGEST_BODY_BYTES, MAX_SYSLOG_MESSAGE_BYTES, WRITER_MAX_PENDING_BYTES
from logpond.model.names import LogGroupName, validate_tags
from logpond.model.retention import parse_retention_days
from logpond.query import parse_query
from logpond.redact import Policy
from logpond.store.registry import DEFAULT_CHECKPOINT_THRESHOLD, DEFAULT_MEMORY_LIMIT

__all__ = ["GroupConfig", "Settings", "load_settings"]

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 5647
DEFAULT_DATA_DIR = Path("./data")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ServerConfig(_Strict):
    host: str = DEFAULT_HOST
    port: int = Field(DEFAULT_PORT, ge=0, le=65535)
    data_dir: Path = DEFAULT_DATA_DIR
    tls_cert: Path | None = None
    tls_key: Path | None = None
    log_level: Literal["debug", "info", "warning", "error"] = "info"


class StorageConfig(_Strict):
    engine: Literal["duckdb"] = "duckdb"
    encryption_key_file: Path | None = None
    memory_limit: str = DEFAULT_MEMORY_LIMIT
    threads: int | None = Field(None, ge=1)
    checkpoint_threshold: str = DEFAULT_CHECKPOINT_THRESHOLD
    retention_sweep_seconds: int = Field(3600, ge=1)
    # Batches waiting for the writer, in bytes, before ingest answers 503 (backpressure).
    writer_max_pending_bytes: int = Field(WRITER_MAX_PENDING_BYTES, ge=1 << 16)


class AuthConfig(_Strict):
    region: str = "us-east-1"
    account_id: str = Field("000000000000", pattern=r"^\d{12}$")
    # Requests without a credential get this role; unset (the default) refuses them.
    anonymous_role: Literal["admin", "reader", "shipper"] | None = None


class RouteConfig(_Strict):
    """A routing rule for shipper protocols (``logpond.ingest.routing``)."""

    protocols: list[Literal["es", "otlp", "loki", "forward", "syslog", "fluentbit"]] = Field(
        default_factory=list
    )
    match: dict[str, str] = Field(default_factory=dict)
    group: str | None = None
    stream: str | None = None


class IngestConfig(_Strict):
    max_body_bytes: int = Field(MAX_INGEST_BODY_BYTES, ge=1024)
    # Retention of groups created on the fly by ingest; unset means never expire.
    default_retention_days: int | None = None
    # Group and stream rules for the shipper protocols; the first that applies wins.
    routes: list[RouteConfig] = Field(default_factory=list)
    # Loki: take the tenant from X-Scope-OrgID when a record names none.
    trust_scope_org_id: bool = True

    @field_validator("default_retention_days", mode="before")
    @classmethod
    def _retention(cls, value: object) -> int | None:
        return _retention(value)


class ListenerAuthConfig(_Strict):
    # The API key whose policy governs what the listener writes; unset: the listener may
    # write (and create) the groups matching ``groups``.
    access_key_id: str | None = None
    groups: str = "*"


class ForwardConfig(ListenerAuthConfig):
    """The Fluentd forward listener (TCP, with a UDP heartbeat on the same port); off by default."""

    port: int | None = Field(None, ge=0, le=65535)
    host: str | None = None
    # The shared key turns on the handshake; it comes from the environment
    # (LOGPOND_FORWARD_SHARED_KEY) or this file, never from the config itself.
    shared_key_file: Path | None = None
    self_hostname: str = "logpond"
    tls_cert: Path | None = None
    tls_key: Path | None = None


class SyslogConfig(ListenerAuthConfig):
    """The syslog listener (UDP and TCP on one port number); off by default."""

    port: int | None = Field(None, ge=0, le=65535)
    host: str | None = None
    transports: tuple[Literal["udp", "tcp"], ...] = ("udp", "tcp")
    # The default log group of what arrives here.
    group: str = "syslog"
    max_message_bytes: int = Field(MAX_SYSLOG_MESSAGE_BYTES, ge=480, le=1 << 20)


def _policy(value: dict[str, Any] | None) -> dict[str, Any] | None:
    """A native-form PII policy, checked now so a bad one stops the server at start."""
    if value is not None:
        try:
            Policy.from_dict(value)
        except LogpondError as exc:
            raise ValueError(exc.message) from None
    return value


class DataProtectionConfig(_Strict):
    # The policy of every group without one of its own (native form, docs/pii.md); unset
    # means the built-in default policy.
    default: dict[str, Any] | None = None

    @field_validator("default")
    @classmethod
    def _default(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        return _policy(value)


class QueriesConfig(_Strict):
    max_running: int = Field(4, ge=1, le=64)
    timeout_seconds: float = Field(900.0, gt=0)
    # How long finished background queries keep their results for polling.
    keep_seconds: float = Field(3600.0, gt=0)


class SavedQueryConfig(_Strict):
    name: str = Field(min_length=1, max_length=255)
    query: str = Field(min_length=1, max_length=10_000)
    groups: list[str] = Field(default_factory=list)

    @field_validator("query")
    @classmethod
    def _parses(cls, value: str) -> str:
        try:
            parse_query(value)
        except LogpondError as exc:
            raise ValueError(str(exc)) from None
        return value


class GroupConfig(_Strict):
    name: str
    retention_days: int | None = None
    tags: dict[str, str] = Field(default_factory=dict)
    # This group's PII policy (native form), instead of data_protection.default.
    data_protection: dict[str, Any] | None = None

    @field_validator("data_protection")
    @classmethod
    def _data_protection(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        return _policy(value)

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        try:
            return str(LogGroupName(value))
        except LogpondError as exc:
            raise ValueError(exc.message) from None

    @field_validator("retention_days", mode="before")
    @classmethod
    def _retention(cls, value: object) -> int | None:
        return _retention(value)

    @field_validator("tags")
    @classmethod
    def _tags(cls, value: dict[str, str]) -> dict[str, str]:
        try:
            return validate_tags(value)
        except LogpondError as exc:
            raise ValueError(exc.message) from None


def _retention(value: object) -> int | None:
    try:
        return parse_retention_days(value)
    except LogpondError as exc:
        raise ValueError(exc.message) from None


class Settings(_Strict):
    """Everything a logpond server is configured by."""

    server: ServerConfig = Field(default_factory=ServerConfig)
    storage: StorageConfig = Field(default_factory=StorageConfig)
    auth: AuthConfig = Field(default_factory=AuthConfig)
    ingest: IngestConfig = Field(default_factory=IngestConfig)
    forward: ForwardConfig = Field(default_factory=ForwardConfig)
    syslog: SyslogConfig = Field(default_factory=SyslogConfig)
    data_protection: DataProtectionConfig = Field(default_factory=DataProtectionConfig)
    queries: QueriesConfig = Field(default_factory=QueriesConfig)
    saved_queries: list[SavedQueryConfig] = Field(default_factory=list)
    log_groups: list[GroupConfig] = Field(default_factory=list)
    # Metric filters, notification channels and alarms (docs/alerts.md).
    alerts: AlertsConfig = Field(default_factory=AlertsConfig)
    # Secrets come from the environment only, never from the config file.
    encryption_key: str | None = Field(None, exclude=True, repr=False)
    root_access_key_id: str | None = Field(None, exclude=True)
    root_secret_access_key: str | None = Field(None, exclude=True, repr=False)
    forward_shared_key: str | None = Field(None, exclude=True, repr=False)


_ENV = {
    "LOGPOND_DATA_DIR": ("server", "data_dir"),
    "LOGPOND_HOST": ("server", "host"),
    "LOGPOND_PORT": ("server", "port"),
    "LOGPOND_TLS_CERT": ("server", "tls_cert"),
    "LOGPOND_TLS_KEY": ("server", "tls_key"),
    "LOGPOND_LOG_LEVEL": ("server", "log_level"),
    "LOGPOND_ENCRYPTION_KEY_FILE": ("storage", "encryption_key_file"),
    "LOGPOND_MEMORY_LIMIT": ("storage", "memory_limit"),
    "LOGPOND_FORWARD_PORT": ("forward", "port"),
    "LOGPOND_SYSLOG_PORT": ("syslog", "port"),
}


def load_settings(
    config_file: Path | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Settings:
    """Merge defaults, the config file, the environment and ``overrides`` (CLI flags).

    ``overrides`` uses dotted keys (``"server.port"``); ``None`` values are ignored. Errors
    name the offending key.
    """
    env = os.environ if environ is None else environ
    path = config_file or (Path(env["LOGPOND_CONFIG"]) if env.get("LOGPOND_CONFIG") else None)
    data: dict[str, Any] = {}
    if path is not None:
        try:
            loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise InvalidParameterError("cannot read the config file", path=str(path)) from exc
        except yaml.YAMLError as exc:
            raise InvalidParameterError(
                "config file is not valid YAML", path=str(path), reason=str(exc)
            ) from exc
        if loaded is not None and not isinstance(loaded, dict):
            raise InvalidParameterError("config file must be a mapping", path=str(path))
        data = loaded or {}
    for name, (section, key) in _ENV.items():
        if env.get(name):
            data.setdefault(section, {})[key] = env[name]
    for dotted, value in (overrides or {}).items():
        if value is None:
            continue
        section, key = dotted.split(".", 1)
        data.setdefault(section, {})[key] = value
    data["encryption_key"] = env.get("LOGPOND_ENCRYPTION_KEY") or None
    data["root_access_key_id"] = env.get("LOGPOND_ROOT_ACCESS_KEY_ID") or None
    data["root_secret_access_key"] = env.get("LOGPOND_ROOT_SECRET_ACCESS_KEY") or None
    data["forward_shared_key"] = env.get("LOGPOND_FORWARD_SHARED_KEY") or None
    try:
        settings = Settings.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise InvalidParameterError(
            f"invalid setting {where}: {first['msg']}",
            setting=where,
            source=str(path) if path else "environment or flags",
        ) from None
    if settings.encryption_key is None and settings.storage.encryption_key_file is not None:
        key_file = settings.storage.encryption_key_file
        try:
            key = key_file.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise InvalidParameterError("cannot read the encryption key file", path=str(key_file)) from exc
        if not key:
            raise InvalidParameterError("the encryption key file is empty", path=str(key_file))
        settings = settings.model_copy(update={"encryption_key": key})
    if bool(settings.server.tls_cert) != bool(settings.server.tls_key):
        raise InvalidParameterError("TLS needs both a certificate and a key file")
    settings = _forward_secret(settings, env)
    names = [g.name for g in settings.log_groups]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise InvalidParameterError("log group declared twice in the config", log_groups=duplicates)
    return settings


def _forward_secret(settings: Settings, env: Mapping[str, str]) -> Settings:
    """The forward listener's shared key from its file, and its TLS pair checked."""
    forward = settings.forward
    if bool(forward.tls_cert) != bool(forward.tls_key):
        raise InvalidParameterError("forward TLS needs both a certificate and a key file")
    if settings.forward_shared_key is None and forward.shared_key_file is not None:
        try:
            key = forward.shared_key_file.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise InvalidParameterError(
                "cannot read the forward shared key file", path=str(forward.shared_key_file)
            ) from exc
        if not key:
            raise InvalidParameterError("the forward shared key file is empty")
        settings = settings.model_copy(update={"forward_shared_key": key})
    return settings
