"""What a running server holds: the store, the keyring, the pipeline. Built in the app's
lifespan and passed to routes through ``app.state``; nothing lives at module level."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from logpond.alerts import Alerting
from logpond.auth.keys import Credentials, Keyring, SecretBox
from logpond.auth.policy import Arns, Principal, compile_policy, role_policy
from logpond.auth.sessions import SessionStore
from logpond.ingest.routing import Router, RouteRule
from logpond.model.clock import Clock
from logpond.model.names import LogGroupName
from logpond.pipeline.live_tail import LiveTail
from logpond.pipeline.redaction import RedactionStage
from logpond.pipeline.run import IngestPipeline
from logpond.query.jobs import QueryJobs
from logpond.redact import DEFAULT_POLICY, Policy
from logpond.store.base import Store
from logpond.store.registry import StoreOptions, open_store

from .settings import Settings

__all__ = ["Services"]

log = logging.getLogger("logpond.server")


@dataclass
class Services:
    """The parts of a running server."""

    settings: Settings
    clock: Clock
    store: Store
    keyring: Keyring
    arns: Arns
    pipeline: IngestPipeline
    redaction: RedactionStage
    queries: QueryJobs
    anonymous: Principal | None
    root: Credentials
    root_generated: bool
    # Group and stream rules of the shipper protocols (ES, OTLP, Loki, forward, syslog).
    router: Router = field(default_factory=Router)
    # Metric filters, alarms, the evaluator and notifications.
    alerting: Alerting = field(kw_only=True)

    live_tail: LiveTail = field(init=False)
    sessions: SessionStore = field(init=False)

    def __post_init__(self) -> None:
        # Live tail follows every committed batch (the UI's Server-Sent Events and
        # CloudWatch's StartLiveTail); the UI's sign-in sessions.
        self.live_tail = LiveTail(self.clock)
        self.pipeline.hooks.append(self.live_tail.publish)
        self.sessions = SessionStore(self.clock)

    @classmethod
    def open(cls, settings: Settings, clock: Clock) -> Services:
        """Open the store, load the keys, make sure a root key exists, apply the config."""
        data_dir = settings.server.data_dir
        store = open_store(
            settings.storage.engine,
            StoreOptions(
                data_dir,
                encryption_key=settings.encryption_key,
                memory_limit=settings.storage.memory_limit,
                threads=settings.storage.threads,
                checkpoint_threshold=settings.storage.checkpoint_threshold,
                writer_max_pending_bytes=settings.storage.writer_max_pending_bytes,
            ),
            clock,
        )
        try:
            keyring = Keyring(store, SecretBox.for_data_dir(data_dir, settings.encryption_key), clock)
            configured = None
            if settings.root_access_key_id or settings.root_secret_access_key:
                configured = Credentials(
                    settings.root_access_key_id or "", settings.root_secret_access_key or ""
                )
            root, generated = keyring.ensure_root(data_dir, configured)
            apply_group_config(store, settings)
            apply_saved_queries(store, settings)
        except BaseException:
            store.close()
            raise
        arns = Arns(settings.auth.region, settings.auth.account_id)
        anonymous = None
        if settings.auth.anonymous_role is not None:
            anonymous = Principal("anonymous", compile_policy(role_policy(settings.auth.anonymous_role)))
        default_policy = (
            Policy.from_dict(settings.data_protection.default)
            if settings.data_protection.default is not None
            else DEFAULT_POLICY
        )
        redaction = RedactionStage(
            clock,
            default=default_policy,
            groups={
                g.name: Policy.from_dict(g.data_protection)
                for g in settings.log_groups
                if g.data_protection is not None
            },
            stored=stored_policies(store, default_policy),
        )
        pipeline = IngestPipeline(
            store,
            clock,
            arns,
            default_retention_days=settings.ingest.default_retention_days,
            stages=[redaction],
        )
        try:
            box = SecretBox.for_data_dir(data_dir, settings.encryption_key)
            alerting = Alerting(store, clock, settings.alerts, box, arns, public_url(settings))
            alerting.apply_config()
        except BaseException:
            store.close()
            raise
        pipeline.hooks.append(alerting.hook)
        queries = QueryJobs(
            max_running=settings.queries.max_running,
            timeout_seconds=settings.queries.timeout_seconds,
            keep_seconds=settings.queries.keep_seconds,
        )
        services = cls(
            settings, clock, store, keyring, arns, pipeline, redaction, queries, anonymous, root, generated,
            alerting=alerting,
        )  # fmt: skip
        services.router = Router([RouteRule.build(**rule.model_dump()) for rule in settings.ingest.routes])
        return services

    def flush_findings(self) -> None:
        """Store the PII findings counted since the last flush."""
        self.store.add_findings(self.redaction.drain())

    def close(self) -> None:
        self.live_tail.close()
        self.queries.close()
        self.flush_findings()
        self.store.close()


def public_url(settings: Settings) -> str:
    """The server's own address, for links when ``alerts.public_url`` is not set."""
    scheme = "https" if settings.server.tls_cert else "http"
    return f"{scheme}://{settings.server.host}:{settings.server.port}"


def apply_group_config(store: Store, settings: Settings) -> None:
    """Create or update the groups the config declares; never delete anything."""
    for group in settings.log_groups:
        existing = store.find_group(group.name)
        if existing is None:
            store.create_group(LogGroupName(group.name), retention_days=group.retention_days, tags=group.tags)
            log.info("created log group from config", extra={"log_group": group.name})
            continue
        if existing.retention_days != group.retention_days or dict(existing.tags) != group.tags:
            shorter = group.retention_days is not None and (
                existing.retention_days is None or group.retention_days < existing.retention_days
            )
            if shorter:
                log.warning(
                    "config shortens retention; older events will expire",
                    extra={
                        "log_group": group.name,
                        "from_days": existing.retention_days,
                        "to_days": group.retention_days,
                    },
                )
            store.update_group(group.name, retention_days=group.retention_days, tags=group.tags)


def apply_saved_queries(store: Store, settings: Settings) -> None:
    """Create or update the saved queries the config declares, matched by name."""
    if not settings.saved_queries:
        return
    existing = {d.name: d for d in store.list_query_definitions()}
    for saved in settings.saved_queries:
        known = existing.get(saved.name)
        if known is not None and (known.query, known.log_groups) == (saved.query, saved.groups):
            continue
        store.put_query_definition(saved.name, saved.query, saved.groups, None if known is None else known.id)


def stored_policies(store: Store, default: Policy) -> dict[str, Policy]:
    """The data protection policies stored for groups (CloudWatch API), on the default."""
    policies: dict[str, Policy] = {}
    token = None
    while True:
        page = store.list_groups(limit=1000, next_token=token)
        for group in page.items:
            stored = store.get_data_protection_policy(group.name)
            if stored is not None and stored.document is not None:
                policies[group.name] = Policy.from_cloudwatch(stored.document, base=default)
        token = page.next_token
        if token is None:
            return policies
