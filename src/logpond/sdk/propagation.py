"""Carrying the context across threads, tasks, processes and services.

In process: :func:`wrap`, :func:`to_thread`, :class:`ContextExecutor` and
:func:`run_in_executor` run a function in a copy of the caller's context (asyncio tasks
inherit it by themselves; a plain ``loop.run_in_executor`` does not).

Across processes and services: :func:`inject` writes the current ids into a carrier (HTTP
headers, a job's headers or meta) and :func:`extract` reads and validates them back.
Inbound ids are accepted only if they are at most 128 characters of ``[A-Za-z0-9._:-]``.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import re
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, MutableMapping
from concurrent.futures import Executor, Future
from fnmatch import fnmatchcase
from typing import Any, ParamSpec, TypeVar

from . import _diagnostics
from ._context import _CONTEXT, new_span_id, new_trace_id

__all__ = [
    "REQUEST_ID_HEADER",
    "TENANT_HEADER",
    "TRACEPARENT_HEADER",
    "ContextExecutor",
    "TraceIds",
    "extract",
    "host_matches",
    "inject",
    "parse_amzn_trace_id",
    "parse_traceparent",
    "resolve_inbound",
    "run_in_executor",
    "to_thread",
    "valid_id",
    "wrap",
]

P = ParamSpec("P")
R = TypeVar("R")

REQUEST_ID_HEADER = "X-Request-ID"
TENANT_HEADER = "X-Tenant-ID"
TRACEPARENT_HEADER = "traceparent"
AMZN_TRACE_HEADER = "X-Amzn-Trace-Id"

_ID_RE = re.compile(r"[A-Za-z0-9._:\-]{1,128}")
_HEX32_RE = re.compile(r"[0-9a-f]{32}")
_TRACEPARENT_RE = re.compile(
    r"([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-[0-9a-zA-Z._=\-]*)?"
)
_AMZN_ROOT_RE = re.compile(r"1-([0-9a-f]{8})-([0-9a-f]{24})")


# --- validation --------------------------------------------------------------------------------


def valid_id(value: object, header: str = "id") -> str | None:
    """``value`` if it is at most 128 of ``[A-Za-z0-9._:-]``; else None (warned once a minute)."""
    if not isinstance(value, str) or not value:
        return None
    if _ID_RE.fullmatch(value):
        return value
    _diagnostics.report(
        "invalid_inbound_id", "ignored an invalid inbound id", header=header, length=len(value)
    )
    return None


def parse_traceparent(value: str | None) -> tuple[str, str] | None:
    """``(trace_id, parent_id)`` of a valid W3C ``traceparent``, else None.

    Lower-case hex only; version ``ff`` and all-zero ids are invalid; version ``00`` has
    exactly four parts, later versions may append more.
    """
    if not value:
        return None
    match = _TRACEPARENT_RE.fullmatch(value.strip())
    if match is None:
        return None
    version, trace_id, parent_id, _flags, rest = match.groups()
    if version == "ff" or (version == "00" and rest):
        return None
    if trace_id == "0" * 32 or parent_id == "0" * 16:
        return None
    return trace_id, parent_id


def parse_amzn_trace_id(value: str | None) -> str | None:
    """The ``Root`` of an ``X-Amzn-Trace-Id`` as 32 lowercase hex (``Self=…;Root=1-…``), else None.

    ``Root=1-5759e988-bd862e3fe1be46a994272793`` becomes ``5759e988bd862e3fe1be46a994272793``,
    the W3C form of the same X-Ray trace id, so it can travel on in ``traceparent``.
    """
    if not value:
        return None
    for part in value.split(";"):
        key, _, item = part.strip().partition("=")
        if key.strip().lower() == "root":
            match = _AMZN_ROOT_RE.fullmatch(item.strip().lower())
            if match is None:
                return None
            trace_id = match.group(1) + match.group(2)
            return None if trace_id == "0" * 32 else trace_id
    return None


def _otel_ids() -> tuple[str, str] | None:
    """The current OpenTelemetry span's ``(trace_id, span_id)`` if OpenTelemetry is in use."""
    trace = sys.modules.get("opentelemetry.trace")
    if trace is None:  # never imported by the application: nothing to read, nothing to load
        return None
    try:
        span_context = trace.get_current_span().get_span_context()
        if not span_context.is_valid:
            return None
        return f"{span_context.trace_id:032x}", f"{span_context.span_id:016x}"
    except Exception as exc:
        _diagnostics.report("otel", "reading the OpenTelemetry span failed", exc)
        return None


class TraceIds:
    """What the inbound side decided: the ids to bind and the id to echo back."""

    __slots__ = ("request_id", "source", "span_id", "tenant_id", "trace_id")

    def __init__(
        self,
        trace_id: str,
        source: str,
        request_id: str | None = None,
        tenant_id: str | None = None,
        span_id: str | None = None,
    ) -> None:
        self.trace_id = trace_id
        self.source = source
        self.request_id = request_id
        self.tenant_id = tenant_id
        self.span_id = span_id

    @property
    def response_id(self) -> str:
        """The ``X-Request-ID`` to send back: the caller's valid one, else the trace id."""
        return self.request_id or self.trace_id

    def context(self) -> dict[str, Any]:
        """The fields a request or job binds."""
        out: dict[str, Any] = {"trace_id": self.trace_id, "tenant_id": self.tenant_id}
        if self.span_id:
            out["span_id"] = self.span_id
        if self.request_id:
            out["request_id"] = self.request_id
        out["trace_source"] = self.source
        return out


def _get(carrier: Mapping[str, str], name: str) -> str | None:
    value = carrier.get(name)
    if value is None:
        lower = name.lower()
        value = carrier.get(lower)
        if value is None:
            for key, item in carrier.items():
                if isinstance(key, str) and key.lower() == lower:
                    return item
    return value


def resolve_inbound(
    headers: Mapping[str, str],
    *,
    trust_inbound_ids: bool = True,
    tenant_header: str = TENANT_HEADER,
) -> TraceIds:
    """Pick the trace id (rule order below), the request id and the tenant from ``headers``.

    1. a valid ``X-Request-ID`` *is* the trace id (the id a user sees is the one they search);
    2. else the trace id of a valid ``traceparent``;
    3. else the current OpenTelemetry span's trace id;
    4. else the ``Root`` of ``X-Amzn-Trace-Id``;
    5. else a new random 128-bit id, 32 lowercase hex.

    ``trust_inbound_ids=False`` (edge services) ignores every inbound id header, tenant included.
    ``headers`` may have names in any case.
    """
    tenant: str | None = None
    if trust_inbound_ids:
        request_id = valid_id(_get(headers, REQUEST_ID_HEADER), REQUEST_ID_HEADER)
        tenant = valid_id(_get(headers, tenant_header), tenant_header)
        if request_id is not None:
            return TraceIds(request_id, "x-request-id", request_id, tenant)
        parent = parse_traceparent(_get(headers, TRACEPARENT_HEADER))
        if parent is not None:
            return TraceIds(parent[0], "traceparent", None, tenant)
    otel = _otel_ids()
    if otel is not None:
        return TraceIds(otel[0], "otel", None, tenant, otel[1])
    if trust_inbound_ids:
        amzn = parse_amzn_trace_id(_get(headers, AMZN_TRACE_HEADER))
        if amzn is not None:
            return TraceIds(amzn, "x-amzn-trace-id", None, tenant)
    return TraceIds(new_trace_id(), "generated", None, tenant)


# --- carriers ----------------------------------------------------------------------------------


def inject(
    carrier: MutableMapping[str, str],
    *,
    tenant: bool = True,
    overwrite: bool = False,
) -> MutableMapping[str, str]:
    """Write the current ``X-Request-ID``, ``traceparent`` and ``X-Tenant-ID`` into ``carrier``.

    ``traceparent`` (with a new parent id, flags ``01``) is written only for a 32-hex trace
    id. Names already in the carrier (in any case) are kept unless ``overwrite``. Without
    a current trace nothing is written. Returns the carrier.
    """
    context = _CONTEXT.get()
    trace_id = context.get("trace_id")
    if not isinstance(trace_id, str):
        return carrier
    present = {k.lower() for k in carrier} if not overwrite else set()
    if "x-request-id" not in present:
        carrier[REQUEST_ID_HEADER] = trace_id
    if _HEX32_RE.fullmatch(trace_id) and "traceparent" not in present:
        carrier[TRACEPARENT_HEADER] = f"00-{trace_id}-{new_span_id()}-01"
    tenant_id = context.get("tenant_id")
    if tenant and isinstance(tenant_id, str) and "x-tenant-id" not in present:
        carrier[TENANT_HEADER] = tenant_id
    return carrier


def extract(carrier: Mapping[str, str] | None) -> dict[str, Any]:
    """The context fields ``carrier`` holds (validated): ``trace_id``, ``tenant_id``, ….

    An empty dict when the carrier has no valid id. ``trust_inbound_ids`` does not apply:
    job carriers are written by your own publishers.
    """
    if not carrier:
        return {}
    request_id = valid_id(_get(carrier, REQUEST_ID_HEADER), REQUEST_ID_HEADER)
    tenant = valid_id(_get(carrier, TENANT_HEADER), TENANT_HEADER)
    out: dict[str, Any] = {}
    if request_id is not None:
        out["trace_id"] = request_id
    else:
        parent = parse_traceparent(_get(carrier, TRACEPARENT_HEADER))
        if parent is not None:
            out["trace_id"] = parent[0]
    if tenant is not None:
        out["tenant_id"] = tenant
    return out


def host_matches(host: str, patterns: Iterable[str] | None) -> bool:
    """True if ``host`` (``name`` or ``name:port``) matches a pattern (``*.internal``); None: all."""
    if patterns is None:
        return True
    name = host.lower()
    bare = name.rsplit(":", 1)[0] if name.count(":") == 1 else name
    return any(fnmatchcase(name, p) or fnmatchcase(bare, p) for p in patterns)


# --- threads and executors ---------------------------------------------------------------------


def wrap(fn: Callable[P, R]) -> Callable[P, R]:
    """``fn`` bound to a copy of the caller's context, to run later on any thread."""
    context = contextvars.copy_context()

    @functools.wraps(fn)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        return context.copy().run(fn, *args, **kwargs)

    return run


async def to_thread(fn: Callable[P, R], /, *args: P.args, **kwargs: P.kwargs) -> R:
    """``asyncio.to_thread`` that carries the caller's context (as the stdlib one does)."""
    return await asyncio.to_thread(fn, *args, **kwargs)


def run_in_executor(
    loop: asyncio.AbstractEventLoop,
    executor: Executor | None,
    fn: Callable[..., R],
    *args: Any,
) -> asyncio.Future[R]:
    """``loop.run_in_executor`` that runs ``fn`` in a copy of the caller's context."""
    context = contextvars.copy_context()
    return loop.run_in_executor(executor, functools.partial(context.run, fn, *args))


class ContextExecutor(Executor):
    """Wraps an executor so ``submit`` and ``map`` run each call in the submitter's context."""

    def __init__(self, executor: Executor) -> None:
        self._executor = executor

    def submit(self, fn: Callable[..., R], /, *args: Any, **kwargs: Any) -> Future[R]:
        context = contextvars.copy_context()
        return self._executor.submit(context.run, fn, *args, **kwargs)

    def map(
        self,
        fn: Callable[..., R],
        *iterables: Iterable[Any],
        timeout: float | None = None,
        chunksize: int = 1,
    ) -> Iterator[R]:
        context = contextvars.copy_context()

        def call(*args: Any) -> R:
            return context.copy().run(fn, *args)

        return self._executor.map(call, *iterables, timeout=timeout, chunksize=chunksize)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        self._executor.shutdown(wait=wait, cancel_futures=cancel_futures)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._executor, name)


def monotonic_ms() -> float:
    """Milliseconds from a monotonic clock (request durations)."""
    return time.perf_counter() * 1000.0
