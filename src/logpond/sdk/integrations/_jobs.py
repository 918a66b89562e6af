"""What every job queue integration does: a carrier on publish, a bound context around the job.

The publisher writes the current ``X-Request-ID``, ``traceparent`` and ``X-Tenant-ID`` into
the job; the worker binds them (plus the job's own fields) before the job body and resets
after it, even when it fails. A job published with no context gets a new trace id; one
run in the publisher's own context (eager execution) keeps the publisher's.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from .._context import _CONTEXT, ContextToken, new_trace_id, replace_context
from ..propagation import extract, inject

__all__ = ["carrier", "job_context", "job_scope"]


def carrier() -> dict[str, str]:
    """The current ids as a job carrier (empty outside any trace)."""
    out: dict[str, str] = {}
    inject(out, tenant=True)
    return out


def job_context(source: Mapping[str, Any] | None, *, retry: int = 0, **fields: Any) -> dict[str, Any]:
    """The context a job runs in: the carrier's ids, else the current trace, else a new one."""
    ids = extract(source)
    current = _CONTEXT.get()
    if "trace_id" in ids:
        context: dict[str, Any] = {**ids, "trace_source": "job"}
        context.setdefault("tenant_id", None)
    elif isinstance(current.get("trace_id"), str):
        context = dict(current)
    else:
        context = {"trace_id": new_trace_id(), "tenant_id": None, "trace_source": "generated"}
    context.update(fields)
    if retry:
        context["retry"] = retry
    return context


def enter_job(source: Mapping[str, Any] | None, *, retry: int = 0, **fields: Any) -> ContextToken:
    """Bind the job's context; reset the token when the job ends."""
    return replace_context(job_context(source, retry=retry, **fields))


@contextmanager
def job_scope(source: Mapping[str, Any] | None, *, retry: int = 0, **fields: Any) -> Iterator[None]:
    """``with job_scope(carrier, job_id=...)``: the job's context for the block."""
    token = enter_job(source, retry=retry, **fields)
    try:
        yield
    finally:
        _CONTEXT.reset(token)
