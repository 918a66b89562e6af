"""Small read routes the web UI needs beyond the query API: a query's histogram, a field's
top values, and group summaries.

The histogram and top values are Logs Insights queries too: the server keeps the commands
of the user's query that decide which events match (``filter``, ``parse``, ``fields``, up
to the first ``stats``, ``dedup`` or ``pattern``; ``sort``, ``limit`` and ``display`` do
not change which events match) and appends a ``stats`` command. Doing it on the parsed
query, not on the text, means pipes inside strings and regexes never confuse it. They run
as background query jobs, so they count against ``queries.max_running`` and time out
like any other query.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from logpond.model.limits import MAX_LIST_LIMIT
from logpond.query import parse_query
from logpond.query.execute import QueryResult
from logpond.query.insights.ast import (
    Dedup,
    Fields,
    Filter,
    Parse,
    PatternCommand,
    Stats,
    render_name,
)
from logpond.query.insights.ast import Query as ParsedQuery
from logpond.query.jobs import QueryStatus
from logpond.store.base import StreamOrder

from ..access import Access, require, services
from ..services import Services
from .queries import HOUR_MS, QueryIn, Statistics, _start, _time

__all__ = ["router"]

router = APIRouter(prefix="/api/v1", tags=["ui"])

# Bin widths a histogram may use, in seconds: the smallest that gives at most ``bins`` bars.
_BIN_SECONDS = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600,
                43200, 86400, 172800, 604800)  # fmt: skip
DEFAULT_HISTOGRAM_BINS = 80
DEFAULT_TOP_VALUES = 10


def matching_part(parsed: ParsedQuery) -> str:
    """The commands of a query that decide which events match, as query text."""
    kept: list[str] = []
    if parsed.source is not None:
        kept.append(parsed.source.render())
    for command in parsed.commands:
        if isinstance(command, Stats | Dedup | PatternCommand):
            break
        if isinstance(command, Filter | Parse | Fields):
            kept.append(command.render())
    return " | ".join(kept)


def bin_seconds(span_ms: int, bins: int) -> int:
    """The bin width for a time range: the smallest of the usual widths giving ``bins`` or fewer."""
    for seconds in _BIN_SECONDS:
        if span_ms / (seconds * 1000) <= bins:
            return seconds
    return _BIN_SECONDS[-1]


def _result_ms(text: str) -> int:
    moment = datetime.strptime(text, "%Y-%m-%d %H:%M:%S.%f").replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)


async def _run(spec: QueryIn, access: Access, svc: Services) -> tuple[QueryResult, int, int]:
    job = await _start(spec, access, svc)
    while not job.done:
        await asyncio.sleep(0.01)
    if job.status is not QueryStatus.COMPLETE or job.result is None:
        assert job.error is not None
        raise job.error
    assert job.start_ms is not None
    assert job.end_ms is not None
    return job.result, job.start_ms, job.end_ms


def _derived(spec: QueryIn, tail: str) -> QueryIn:
    base = matching_part(parse_query(spec.query))
    return spec.model_copy(update={"query": f"{base} | {tail}" if base else tail, "limit": 10_000})


class HistogramIn(QueryIn):
    bins: int = Field(DEFAULT_HISTOGRAM_BINS, ge=1, le=500, description="at most this many bars")


class HistogramOut(BaseModel):
    query: str = Field(description="the Insights query that counted the events")
    start: int
    end: int
    bin_ms: int
    buckets: list[tuple[int, int]] = Field(description="[bin start ms, events], oldest first")
    total: int
    statistics: Statistics


@router.post("/query/histogram", response_model=HistogramOut, summary="Matching events over time")
async def histogram(
    spec: HistogramIn, access: Access = require("logs:StartQuery"), svc: Services = Depends(services)
) -> HistogramOut:
    """How many events match the query in each time bin of the range (empty bins left out)."""
    probe = QueryIn.model_validate(spec.model_dump(exclude={"bins"}))
    now = svc.clock.now_ms()
    # The bin width needs the range, which _prepare would otherwise resolve.
    end = _time(spec.end, "end", now)
    start = _time(spec.start, "start", end - HOUR_MS)
    seconds = bin_seconds(max(end - start, 1), spec.bins)
    derived = _derived(probe, f"stats count(*) as events by bin({seconds}s) as t")
    derived = derived.model_copy(update={"start": start, "end": end})
    result, start, end = await _run(derived, access, svc)
    buckets = sorted((_result_ms(r["t"]), int(r["events"])) for r in result.records() if "t" in r)
    return HistogramOut(
        query=derived.query,
        start=start,
        end=end,
        bin_ms=seconds * 1000,
        buckets=buckets,
        total=sum(n for _, n in buckets),
        statistics=Statistics(**result.statistics.to_dict()),
    )


class TopValuesIn(QueryIn):
    field: str = Field(min_length=1, max_length=512, description="the field whose values to count")
    top: int = Field(DEFAULT_TOP_VALUES, ge=1, le=100)


class TopValue(BaseModel):
    value: str | None = Field(description="null: events without the field")
    count: int


class TopValuesOut(BaseModel):
    field: str
    query: str
    values: list[TopValue]


@router.post("/query/top-values", response_model=TopValuesOut, summary="A field's most common values")
async def top_values(
    spec: TopValuesIn, access: Access = require("logs:StartQuery"), svc: Services = Depends(services)
) -> TopValuesOut:
    """The most common values of one field among the events the query matches."""
    probe = QueryIn.model_validate(spec.model_dump(exclude={"field", "top"}))
    name = render_name(spec.field)
    derived = _derived(
        probe, f"stats count(*) as events by {name} as value | sort events desc | limit {spec.top}"
    )
    result, _start, _end = await _run(derived, access, svc)
    values = [TopValue(value=r.get("value"), count=int(r["events"])) for r in result.records()]
    return TopValuesOut(field=spec.field, query=derived.query, values=values)


class DataProtectionOut(BaseModel):
    source: str = Field(description="group: its own policy; default: the server's default")
    mode: str
    rules: list[str]


class GroupSummary(BaseModel):
    name: str
    retention_days: int | None
    stored_bytes: int
    created: int
    stream_count: int
    last_event: int | None
    last_ingestion: int | None
    data_protection: DataProtectionOut


class GroupSummaries(BaseModel):
    groups: list[GroupSummary]
    next_token: str | None = None


@router.get("/group-summaries", response_model=GroupSummaries, summary="Groups with their streams' activity")
async def group_summaries(
    prefix: str | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIST_LIMIT)] = 100,
    next_token: str | None = None,
    access: Access = require("logs:DescribeLogGroups"),
    svc: Services = Depends(services),
) -> GroupSummaries:
    """What the groups page shows: retention, size, streams, last event, PII policy."""
    page = svc.store.list_groups(prefix=prefix, limit=limit, next_token=next_token)
    summaries = []
    for group in page.items:
        if not access.allows_group(group.name):
            continue
        count, last_event, last_ingestion = 0, None, None
        if access.allows_group(group.name, "logs:DescribeLogStreams"):
            token = None
            while True:
                streams = svc.store.list_streams(
                    group.name, order=StreamOrder.NAME, limit=MAX_LIST_LIMIT, next_token=token
                )
                for stream in streams.items:
                    count += 1
                    if stream.last_event_ms is not None:
                        last_event = max(last_event or 0, stream.last_event_ms)
                    if stream.last_ingestion_ms is not None:
                        last_ingestion = max(last_ingestion or 0, stream.last_ingestion_ms)
                token = streams.next_token
                if token is None:
                    break
        policy = svc.redaction.policy_for(group.name)
        own = any(g.name == group.name and g.data_protection is not None for g in svc.settings.log_groups)
        summaries.append(
            GroupSummary(
                name=group.name,
                retention_days=group.retention_days,
                stored_bytes=group.stored_bytes,
                created=group.created_ms,
                stream_count=count,
                last_event=last_event,
                last_ingestion=last_ingestion,
                data_protection=DataProtectionOut(
                    source="group" if own else "default", mode=policy.mode, rules=sorted(policy.rules)
                ),
            )
        )
    return GroupSummaries(groups=summaries, next_token=page.next_token)
