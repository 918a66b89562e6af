"""The ``Store`` interface both engines implement, and the values it returns.

Nothing here knows DuckDB or ClickHouse. Names are validated before they reach a store
(``logpond.model.names``); a store raises the errors of ``logpond.model.errors``.
"""

from __future__ import annotations

import base64
import enum
import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar

import pyarrow as pa

from logpond.model.errors import InvalidParameterError
from logpond.model.names import LogGroupName, LogStreamName

from .alerting import AlertStore

if TYPE_CHECKING:
    from logpond.query import FilterPattern, Plan, QueryResult

__all__ = [
    "UNSET",
    "AccessKeyRecord",
    "AppendResult",
    "DataProtectionPolicy",
    "FilterRequest",
    "FilterResult",
    "Interruptible",
    "LogGroup",
    "LogStream",
    "MetricFilter",
    "Page",
    "QueryDefinition",
    "SearchRequest",
    "SearchResult",
    "Store",
    "StoredEvent",
    "StreamOrder",
    "SweepReport",
    "Unset",
    "decode_token",
    "encode_token",
]


T = TypeVar("T")


class Interruptible(Protocol):
    """Something running that can be stopped from another thread (a query's cursor)."""

    def interrupt(self) -> None: ...


class Unset(enum.Enum):
    """A sentinel for "not given" where ``None`` means something (no retention)."""

    token = 0


UNSET = Unset.token


@dataclass(frozen=True, slots=True)
class LogGroup:
    """A log group as stored; ``stored_bytes`` counts UTF-8 bytes of its event messages."""

    name: str
    created_ms: int
    retention_days: int | None = None
    tags: Mapping[str, str] = field(default_factory=dict)
    kms_key_id: str | None = None
    stored_bytes: int = 0
    log_group_class: str = "STANDARD"
    deletion_protection: bool = False


@dataclass(frozen=True, slots=True)
class LogStream:
    """A log stream; the event times are ``None`` until it receives an event."""

    group: str
    name: str
    created_ms: int
    first_event_ms: int | None = None
    last_event_ms: int | None = None
    last_ingestion_ms: int | None = None


class StreamOrder(enum.Enum):
    """How a stream listing is sorted."""

    NAME = "name"
    LAST_EVENT_TIME = "last_event_time"


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of a listing; ``next_token`` is ``None`` on the last page."""

    items: list[T]
    next_token: str | None = None


@dataclass(frozen=True, slots=True)
class AppendResult:
    """What a committed batch became: how many events, and the first and last event ids."""

    accepted: int
    first_seq: int | None = None
    last_seq: int | None = None


@dataclass(frozen=True, slots=True)
class StoredEvent:
    """One event as read back."""

    seq: int
    group: str
    stream: str
    timestamp: int
    ingestion_time: int
    message: str | None
    level: str | None = None
    trace_id: str | None = None
    span_id: str | None = None
    tenant_id: str | None = None
    service: str | None = None
    fields: str | None = None


@dataclass(frozen=True, slots=True)
class SearchRequest:
    """A simple search: groups, a time range, a substring, field equalities, paging.

    ``start_ms`` is inclusive, ``end_ms`` exclusive. ``text`` matches a substring of the
    message or of the structured fields (case-sensitive). ``equals`` maps a promoted column
    or a top-level field name to the exact value it must have. Results are ordered by time
    then event id, newest first unless ``ascending``; ``cursor`` continues a previous page.
    """

    groups: Sequence[str]
    start_ms: int | None = None
    end_ms: int | None = None
    text: str | None = None
    equals: Mapping[str, str | int | float | bool] = field(default_factory=dict)
    streams: Sequence[str] = ()
    limit: int = 100
    ascending: bool = False
    cursor: str | None = None


@dataclass(frozen=True, slots=True)
class SearchResult:
    """A page of events and the cursor for the next page (``None`` when there is no more)."""

    events: list[StoredEvent]
    next_cursor: str | None = None


@dataclass(frozen=True, slots=True)
class SweepReport:
    """What one retention pass removed."""

    dropped_partitions: int = 0
    deleted_rows: int = 0
    partitions_touched: int = 0


@dataclass(frozen=True, slots=True)
class QueryDefinition:
    """A saved query: name, Logs Insights text, and the groups it runs on by default."""

    id: str
    name: str
    query: str
    log_groups: list[str]
    created_ms: int
    updated_ms: int
    # CloudWatch's query parameters: [{"name", "defaultValue"?, "description"?}]
    parameters: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class MetricFilter:
    """A metric filter of a log group: a filter pattern and what it turns matches into.

    ``transformations`` and ``options`` are kept as given (CloudWatch's shapes:
    ``metricName``, ``metricNamespace``, ``metricValue``, ...); the alerting side reads them.
    """

    group: str
    name: str
    pattern: str
    transformations: list[dict[str, Any]]
    created_ms: int
    options: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class DataProtectionPolicy:
    """A log group's data protection policy document; ``None`` once it has been deleted."""

    group: str
    document: str | None
    updated_ms: int


@dataclass(frozen=True, slots=True)
class FilterRequest:
    """Events of some groups matching a filter pattern, in time order, one page at a time.

    ``start_ms`` is inclusive, ``end_ms`` exclusive. ``streams`` or ``stream_prefix``
    narrow the streams. ``after`` is the (timestamp, event id) of the last event of the
    previous page; the order is ascending unless ``descending``.
    """

    groups: Sequence[str]
    pattern: FilterPattern
    start_ms: int | None = None
    end_ms: int | None = None
    streams: Sequence[str] = ()
    stream_prefix: str | None = None
    limit: int = 10_000
    descending: bool = False
    after: tuple[int, int] | None = None


@dataclass(frozen=True, slots=True)
class FilterResult:
    """A page of matching events; ``more`` says whether another page follows."""

    events: list[StoredEvent]
    more: bool


@dataclass(frozen=True, slots=True)
class AccessKeyRecord:
    """An API key as stored: the secret is encrypted, the policy is a JSON document."""

    access_key_id: str
    encrypted_secret: bytes
    policy: Mapping[str, Any]
    description: str
    created_ms: int
    revoked_ms: int | None = None


class Store(AlertStore, Protocol):
    """Log groups, streams, events and keys, behind one interface for every engine.

    The alerting part (metric datapoints, alarms, channels, notifications) is ``AlertStore``.

    Writes are serialized by the store's writer; ``append`` returns a future that completes
    once the batch is durably committed.
    """

    # Lifecycle
    def close(self) -> None: ...

    @property
    def accepting(self) -> bool:
        """Whether writes are accepted (false once closing has begun)."""
        ...

    def checkpoint(self) -> None:
        """Make everything committed part of the main storage (no-op where meaningless)."""
        ...

    # Log groups
    def create_group(
        self,
        name: LogGroupName,
        *,
        retention_days: int | None = None,
        tags: Mapping[str, str] | None = None,
        kms_key_id: str | None = None,
        exist_ok: bool = False,
        log_group_class: str = "STANDARD",
        deletion_protection: bool = False,
    ) -> LogGroup: ...

    def get_group(self, name: str) -> LogGroup: ...

    def find_group(self, name: str) -> LogGroup | None: ...

    def list_groups(
        self, *, prefix: str | None = None, limit: int = 50, next_token: str | None = None
    ) -> Page[LogGroup]: ...

    def update_group(
        self,
        name: str,
        *,
        retention_days: int | Unset | None = UNSET,
        tags: Mapping[str, str] | Unset = UNSET,
        kms_key_id: str | Unset | None = UNSET,
        deletion_protection: bool | Unset = UNSET,
    ) -> LogGroup: ...

    def delete_group(self, name: str) -> None: ...

    # Log streams
    def create_stream(self, group: str, name: LogStreamName, *, exist_ok: bool = False) -> LogStream: ...

    def get_stream(self, group: str, name: str) -> LogStream: ...

    def list_streams(
        self,
        group: str,
        *,
        prefix: str | None = None,
        order: StreamOrder = StreamOrder.NAME,
        descending: bool = False,
        limit: int = 50,
        next_token: str | None = None,
    ) -> Page[LogStream]: ...

    def delete_stream(self, group: str, name: str) -> None: ...

    # Events
    def append(self, batch: pa.RecordBatch, *, create_streams: bool = True) -> Future[AppendResult]: ...

    def search(self, request: SearchRequest) -> SearchResult: ...

    def run_plan(
        self,
        plan: Plan,
        groups: Sequence[str],
        start_ms: int | None,
        end_ms: int | None,
        *,
        statistics: bool = True,
        on_cursor: Callable[[Interruptible], None] | None = None,
    ) -> QueryResult:
        """Run a Logs Insights plan over the groups' events in the time range."""
        ...

    def stream_plan(
        self,
        plan: Plan,
        groups: Sequence[str],
        start_ms: int | None,
        end_ms: int | None,
        *,
        batch_rows: int = 10_000,
    ) -> Iterator[list[list[dict[str, str]]]]:
        """Every result row of a plan, its row cap ignored, a batch at a time."""
        ...

    # Retention
    def sweep_expired(self) -> SweepReport: ...

    # PII audit
    def add_findings(self, findings: Mapping[tuple[int, str, str], int]) -> None: ...

    def findings(
        self, groups: Sequence[str], start_ms: int | None = None, end_ms: int | None = None
    ) -> list[tuple[int, str, str, int]]: ...

    # Saved queries
    def put_query_definition(
        self,
        name: str,
        query: str,
        log_groups: Sequence[str],
        definition_id: str | None = None,
        *,
        parameters: Sequence[Mapping[str, Any]] = (),
    ) -> QueryDefinition:
        """Create (no id) or replace (id) a saved query."""
        ...

    def list_query_definitions(self, prefix: str | None = None) -> list[QueryDefinition]: ...

    # Filter patterns over stored events
    def filter_events(self, request: FilterRequest) -> FilterResult: ...

    # Metric filters (stored here; evaluated by the alerting side)
    def put_metric_filter(self, metric_filter: MetricFilter) -> MetricFilter:
        """Create or replace the group's filter of that name."""
        ...

    def list_metric_filters(self, group: str | None = None) -> list[MetricFilter]:
        """Filters of one group (or of every group), by group then name."""
        ...

    def delete_metric_filter(self, group: str, name: str) -> None: ...

    def metric_filter_counts(self) -> dict[str, int]:
        """How many metric filters each group has."""
        ...

    # Data protection policies (stored here; enforced by the redaction stage)
    def put_data_protection_policy(self, group: str, document: str) -> DataProtectionPolicy: ...

    def get_data_protection_policy(self, group: str) -> DataProtectionPolicy | None: ...

    def delete_data_protection_policy(self, group: str) -> None: ...

    def delete_query_definition(self, definition_id: str) -> None: ...

    # API keys
    def put_key(self, record: AccessKeyRecord) -> None: ...

    def revoke_key(self, access_key_id: str) -> None: ...

    def list_keys(self) -> list[AccessKeyRecord]: ...


def encode_token(key: Any) -> str:
    """An opaque paging token holding the sort key of the last item returned."""
    return base64.urlsafe_b64encode(json.dumps(key, separators=(",", ":")).encode()).decode()


def decode_token(token: str) -> Any:
    """The sort key inside a paging token; a token we did not make is a clear error."""
    try:
        return json.loads(base64.urlsafe_b64decode(token.encode()))
    except (ValueError, UnicodeError):
        raise InvalidParameterError("invalid paging token") from None
