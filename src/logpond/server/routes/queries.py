"""Logs Insights queries over the native API: background and synchronous queries, exports
of every matching row, and saved queries."""

from __future__ import annotations

import asyncio
import csv
import io
import time
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Annotated, Any, Literal

import orjson
from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import Response, StreamingResponse

from logpond.model.errors import InvalidParameterError
from logpond.model.limits import MAX_LIST_LIMIT
from logpond.model.timestamps import parse_timestamp
from logpond.query import Plan, PlanOptions, parse_query, plan_query
from logpond.query.execute import QueryResult
from logpond.query.insights.ast import Query as ParsedQuery
from logpond.query.jobs import QueryJob, QueryStatus
from logpond.store.base import QueryDefinition

from ..access import Access, require, services
from ..responses import JSONResponse
from ..services import Services

router = APIRouter(prefix="/api/v1", tags=["queries"])

HOUR_MS = 3_600_000


class QueryIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    query: str = Field(min_length=1, max_length=10_000, description="Logs Insights query text")
    groups: list[str] = Field(default_factory=list, max_length=50, description="log group names")
    group_prefix: str | None = Field(None, description="every group whose name starts with this")
    start: int | str | None = Field(None, description="inclusive; ms or ISO-8601; default: an hour ago")
    end: int | str | None = Field(None, description="exclusive; ms or ISO-8601; default: now")
    limit: int = Field(10_000, ge=1, le=100_000, description="rows, unless the query has a limit")


class Statistics(BaseModel):
    recordsMatched: float = 0.0
    recordsScanned: float = 0.0
    bytesScanned: float = 0.0


class QueryOut(BaseModel):
    query_id: str
    status: str
    query: str
    groups: list[str]
    fields: list[str] = Field(default_factory=list)
    records: list[dict[str, str]] = Field(default_factory=list)
    statistics: Statistics = Field(default_factory=Statistics)
    error: dict[str, Any] | None = None
    created: int
    finished: int | None = None


def _time(value: int | str | None, name: str, default: int) -> int:
    if value is None:
        return default
    parsed = parse_timestamp(value)
    if parsed is None:
        raise InvalidParameterError(f"invalid {name} time", value=str(value))
    return parsed


def _groups(spec: QueryIn, parsed: ParsedQuery, access: Access, svc: Services) -> list[str]:
    """The groups a query covers: named, by prefix, or by the query's SOURCE command."""
    names = list(dict.fromkeys(spec.groups))
    prefixes = [spec.group_prefix] if spec.group_prefix else []
    if parsed.source is not None:
        prefixes.extend(parsed.source.name_prefixes)
    for prefix in prefixes:
        page_token = None
        while True:
            page = svc.store.list_groups(prefix=prefix, limit=MAX_LIST_LIMIT, next_token=page_token)
            names.extend(g.name for g in page.items if access.allows_group(g.name))
            page_token = page.next_token
            if page_token is None:
                break
    names = list(dict.fromkeys(names))
    if not names:
        raise InvalidParameterError("choose log groups: groups, group_prefix, or SOURCE in the query")
    for name in names:
        access.group(name)
        svc.store.get_group(name)
    return names


def _prepare(spec: QueryIn, access: Access, svc: Services) -> tuple[Plan, list[str], int, int]:
    parsed = parse_query(spec.query)
    now = svc.clock.now_ms()
    end = _time(spec.end, "end", now)
    start = _time(spec.start, "start", end - HOUR_MS)
    if start >= end:
        raise InvalidParameterError("start must be before end")
    groups = _groups(spec, parsed, access, svc)
    options = PlanOptions(
        limit=spec.limit,
        account_id=svc.settings.auth.account_id,
        allow_unmask=access.allows_group(groups[0], "logs:Unmask")
        and all(access.allows_group(g, "logs:Unmask") for g in groups),
        now_ms=now,
    )
    return plan_query(parsed, options), groups, start, end


async def _start(spec: QueryIn, access: Access, svc: Services) -> QueryJob:
    """Check and plan a query, then hand it to the background registry."""
    plan, groups, start, end = await asyncio.to_thread(_prepare, spec, access, svc)

    def run(plan: Plan, bind: Callable[[Any], None]) -> QueryResult:
        return svc.store.run_plan(plan, groups, start, end, statistics=True, on_cursor=bind)

    return svc.queries.start(
        plan, run, query=spec.query, groups=groups, start_ms=start, end_ms=end,
        owner=access.principal.access_key_id,
    )  # fmt: skip


def _out(job: QueryJob) -> QueryOut:
    result = job.result
    return QueryOut(
        query_id=job.id,
        status=job.status.value,
        query=job.query,
        groups=job.groups,
        fields=result.fields if result else [],
        records=result.records() if result else [],
        statistics=Statistics(**result.statistics.to_dict()) if result else Statistics(),
        error=job.error.to_dict() if job.error else None,
        created=job.created_ms,
        finished=job.finished_ms,
    )


@router.post("/queries", response_model=QueryOut, status_code=202, summary="Start a query")
async def start_query(
    spec: QueryIn, access: Access = require("logs:StartQuery"), svc: Services = Depends(services)
) -> QueryOut:
    """Run a Logs Insights query in the background; poll it with GET /api/v1/queries/{id}."""
    job = await _start(spec, access, svc)
    return _out(job)


@router.get("/queries", response_model=list[QueryOut], summary="This key's recent queries")
async def list_queries(
    access: Access = require("logs:DescribeQueries"), svc: Services = Depends(services)
) -> list[QueryOut]:
    access.account()
    return [_out(job) for job in svc.queries.list(access.principal.access_key_id)]


@router.get("/queries/{query_id}", response_model=QueryOut, summary="A query's status and results")
async def get_query(
    query_id: str, access: Access = require("logs:GetQueryResults"), svc: Services = Depends(services)
) -> QueryOut:
    access.account()
    return _out(svc.queries.get(query_id, access.principal.access_key_id))


@router.delete("/queries/{query_id}", response_model=QueryOut, summary="Cancel a query")
async def cancel_query(
    query_id: str, access: Access = require("logs:StopQuery"), svc: Services = Depends(services)
) -> QueryOut:
    access.account()
    return _out(svc.queries.cancel(query_id, access.principal.access_key_id))


@router.post("/query", response_model=QueryOut, summary="Run a query and wait for its result")
async def run_query(
    spec: QueryIn, access: Access = require("logs:StartQuery"), svc: Services = Depends(services)
) -> JSONResponse:
    """Like POST /queries, but answers when the query is done (or fails, or times out)."""
    job = await _start(spec, access, svc)
    loop = asyncio.get_running_loop()
    finished: asyncio.Future[None] = loop.create_future()

    def wake() -> None:
        loop.call_soon_threadsafe(_resolve, finished)

    job.when_done(wake)
    await finished
    if job.status is not QueryStatus.COMPLETE and job.error is not None:
        raise job.error
    return JSONResponse(_out(job).model_dump())


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


@router.post(
    "/query/export",
    summary="Every matching row, streamed as NDJSON or CSV",
    response_class=StreamingResponse,
    responses={200: {"content": {"application/x-ndjson": {}, "text/csv": {}}}},
)
async def export_query(
    spec: QueryIn,
    format: Annotated[Literal["ndjson", "csv"], Query()] = "ndjson",
    access: Access = require("logs:StartQuery"),
    svc: Services = Depends(services),
) -> StreamingResponse:
    """All rows of the query with no row cap (a ``limit`` command in the query still applies)."""
    plan, groups, start, end = await asyncio.to_thread(_prepare, spec, access, svc)
    batches = svc.store.stream_plan(plan, groups, start, end)
    chunks = _csv(plan.fields, batches) if format == "csv" else _ndjson(batches)
    media = "text/csv" if format == "csv" else "application/x-ndjson"
    filename = f"logpond-export-{int(time.time())}.{format}"
    return StreamingResponse(
        _in_thread(chunks), media_type=media,
        headers={"content-disposition": f'attachment; filename="{filename}"'},
    )  # fmt: skip


def _ndjson(batches: Iterator[list[list[dict[str, str]]]]) -> Iterator[bytes]:
    for rows in batches:
        yield b"".join(orjson.dumps({f["field"]: f["value"] for f in row}) + b"\n" for row in rows)


def _csv(fields: list[str], batches: Iterator[list[list[dict[str, str]]]]) -> Iterator[bytes]:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=fields, extrasaction="ignore")
    writer.writeheader()
    for rows in batches:
        writer.writerows({f["field"]: f["value"] for f in row} for row in rows)
        yield buffer.getvalue().encode()
        buffer.seek(0)
        buffer.truncate()
    if buffer.tell():
        yield buffer.getvalue().encode()


async def _in_thread(chunks: Iterator[bytes]) -> AsyncIterator[bytes]:
    """Pull a blocking iterator in a worker thread, one chunk at a time."""
    done = object()
    while True:
        chunk = await asyncio.to_thread(next, chunks, done)
        if chunk is done:
            return
        assert isinstance(chunk, bytes)
        yield chunk


# Saved queries


class SavedQueryIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=255)
    query: str = Field(min_length=1, max_length=10_000)
    groups: list[str] = Field(default_factory=list, max_length=50)


class SavedQueryOut(BaseModel):
    id: str
    name: str
    query: str
    groups: list[str]
    created: int
    updated: int


def _saved(definition: QueryDefinition) -> SavedQueryOut:
    return SavedQueryOut(
        id=definition.id, name=definition.name, query=definition.query,
        groups=definition.log_groups, created=definition.created_ms, updated=definition.updated_ms,
    )  # fmt: skip


def _check_saved(spec: SavedQueryIn) -> None:
    parse_query(spec.query)  # a saved query must parse; the error says where it does not


@router.get("/saved-queries", response_model=list[SavedQueryOut], summary="List saved queries")
async def list_saved(
    prefix: str | None = None,
    access: Access = require("logs:DescribeQueryDefinitions"),
    svc: Services = Depends(services),
) -> list[SavedQueryOut]:
    access.account()
    return [_saved(d) for d in await asyncio.to_thread(svc.store.list_query_definitions, prefix)]


@router.post("/saved-queries", response_model=SavedQueryOut, status_code=201, summary="Save a query")
async def create_saved(
    spec: SavedQueryIn,
    access: Access = require("logs:PutQueryDefinition"),
    svc: Services = Depends(services),
) -> SavedQueryOut:
    access.account()
    _check_saved(spec)
    definition = await asyncio.to_thread(svc.store.put_query_definition, spec.name, spec.query, spec.groups)
    return _saved(definition)


@router.put("/saved-queries/{definition_id}", response_model=SavedQueryOut, summary="Replace a saved query")
async def replace_saved(
    definition_id: str,
    spec: SavedQueryIn,
    access: Access = require("logs:PutQueryDefinition"),
    svc: Services = Depends(services),
) -> SavedQueryOut:
    access.account()
    _check_saved(spec)
    definition = await asyncio.to_thread(
        svc.store.put_query_definition, spec.name, spec.query, spec.groups, definition_id
    )
    return _saved(definition)


@router.delete("/saved-queries/{definition_id}", status_code=204, summary="Delete a saved query")
async def delete_saved(
    definition_id: str,
    access: Access = require("logs:DeleteQueryDefinition"),
    svc: Services = Depends(services),
) -> Response:
    access.account()
    await asyncio.to_thread(svc.store.delete_query_definition, definition_id)
    return Response(status_code=204)
