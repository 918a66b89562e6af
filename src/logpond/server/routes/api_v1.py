"""The native HTTP API under ``/api/v1``: ingest, groups, streams, search, keys."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any, Literal

import orjson
from fastapi import APIRouter, Body, Depends, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import Response

from logpond.auth.policy import role_policy
from logpond.model.errors import InvalidParameterError
from logpond.model.limits import DEFAULT_LIST_LIMIT, DEFAULT_SEARCH_LIMIT, MAX_SEARCH_TEXT_CHARS
from logpond.model.names import LogGroupName, LogStreamName
from logpond.model.retention import parse_retention_days
from logpond.model.timestamps import format_iso, parse_timestamp
from logpond.store.base import UNSET, LogGroup, LogStream, SearchRequest, StoredEvent, StreamOrder

from ..access import Access, require, services
from ..responses import JSONResponse
from ..services import Services

router = APIRouter(prefix="/api/v1")

DEFAULT_STREAM = "default"


# Log groups


class GroupOut(BaseModel):
    name: str
    arn: str
    created: int = Field(description="creation time, ms since the epoch")
    retention_days: int | None
    tags: dict[str, str]
    stored_bytes: int
    kms_key_id: str | None = None


def _group_out(svc: Services, group: LogGroup) -> GroupOut:
    return GroupOut(
        name=group.name,
        arn=svc.arns.group(group.name),
        created=group.created_ms,
        retention_days=group.retention_days,
        tags=dict(group.tags),
        stored_bytes=group.stored_bytes,
        kms_key_id=group.kms_key_id,
    )


class GroupList(BaseModel):
    groups: list[GroupOut]
    next_token: str | None = None


class GroupCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    retention_days: int | Literal["never"] | None = None
    tags: dict[str, str] = Field(default_factory=dict)


class GroupUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    retention_days: int | Literal["never"] | None = None
    tags: dict[str, str] | None = None


@router.get("/groups", response_model=GroupList, tags=["groups"], summary="List log groups")
async def list_groups(
    prefix: str | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = DEFAULT_LIST_LIMIT,
    next_token: str | None = None,
    access: Access = require("logs:DescribeLogGroups"),
    svc: Services = Depends(services),
) -> GroupList:
    """Groups the caller may describe, by name, with an optional prefix."""
    page = svc.store.list_groups(prefix=prefix, limit=limit, next_token=next_token)
    visible = [g for g in page.items if access.allows_group(g.name)]
    return GroupList(groups=[_group_out(svc, g) for g in visible], next_token=page.next_token)


@router.post(
    "/groups", response_model=GroupOut, status_code=201, tags=["groups"], summary="Create a log group"
)
async def create_group(
    spec: GroupCreate,
    access: Access = require("logs:CreateLogGroup"),
    svc: Services = Depends(services),
) -> GroupOut:
    name = LogGroupName(spec.name)
    access.group(name)
    retention = parse_retention_days(spec.retention_days)
    group = await asyncio.to_thread(svc.store.create_group, name, retention_days=retention, tags=spec.tags)
    return _group_out(svc, group)


@router.get("/groups/{name:path}", response_model=GroupOut, tags=["groups"], summary="Describe a log group")
async def get_group(
    name: str, access: Access = require("logs:DescribeLogGroups"), svc: Services = Depends(services)
) -> GroupOut:
    access.group(name)
    return _group_out(svc, svc.store.get_group(name))


@router.patch(
    "/groups/{name:path}", response_model=GroupOut, tags=["groups"], summary="Change retention or tags"
)
async def update_group(
    name: str,
    change: GroupUpdate,
    access: Access = require("logs:PutRetentionPolicy"),
    svc: Services = Depends(services),
) -> GroupOut:
    """Set ``retention_days`` (a CloudWatch value, or ``"never"``) and/or replace ``tags``."""
    fields = change.model_fields_set
    if not fields:
        raise InvalidParameterError("nothing to change: give retention_days and/or tags")
    retention: Any = UNSET
    if "retention_days" in fields:
        access.group(name, "logs:PutRetentionPolicy")
        retention = parse_retention_days(change.retention_days)
    tags: Any = UNSET
    if "tags" in fields:
        access.group(name, "logs:TagResource")
        tags = change.tags or {}
    group = await asyncio.to_thread(svc.store.update_group, name, retention_days=retention, tags=tags)
    return _group_out(svc, group)


@router.delete("/groups/{name:path}", status_code=204, tags=["groups"], summary="Delete a log group")
async def delete_group(
    name: str, access: Access = require("logs:DeleteLogGroup"), svc: Services = Depends(services)
) -> Response:
    """Delete a group and all its events (removed from storage by the next retention sweep)."""
    access.group(name)
    await asyncio.to_thread(svc.store.delete_group, name)
    return Response(status_code=204)


# Log streams


class StreamOut(BaseModel):
    group: str
    name: str
    created: int
    first_event: int | None = None
    last_event: int | None = None
    last_ingestion: int | None = None


def _stream_out(stream: LogStream) -> StreamOut:
    return StreamOut(
        group=stream.group,
        name=stream.name,
        created=stream.created_ms,
        first_event=stream.first_event_ms,
        last_event=stream.last_event_ms,
        last_ingestion=stream.last_ingestion_ms,
    )


class StreamList(BaseModel):
    streams: list[StreamOut]
    next_token: str | None = None


class StreamCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    group: str
    name: str


@router.get("/streams", response_model=StreamList, tags=["streams"], summary="List log streams")
async def list_streams(
    group: str,
    prefix: str | None = None,
    order_by: Literal["name", "last_event_time"] = "name",
    descending: bool = False,
    limit: Annotated[int, Query(ge=1, le=1000)] = DEFAULT_LIST_LIMIT,
    next_token: str | None = None,
    access: Access = require("logs:DescribeLogStreams"),
    svc: Services = Depends(services),
) -> StreamList:
    access.group(group)
    page = svc.store.list_streams(
        group,
        prefix=prefix,
        order=StreamOrder(order_by),
        descending=descending,
        limit=limit,
        next_token=next_token,
    )
    return StreamList(streams=[_stream_out(s) for s in page.items], next_token=page.next_token)


@router.post(
    "/streams", response_model=StreamOut, status_code=201, tags=["streams"], summary="Create a log stream"
)
async def create_stream(
    spec: StreamCreate,
    access: Access = require("logs:CreateLogStream"),
    svc: Services = Depends(services),
) -> StreamOut:
    access.group(spec.group)
    stream = await asyncio.to_thread(svc.store.create_stream, spec.group, LogStreamName(spec.name))
    return _stream_out(stream)


@router.delete("/streams", status_code=204, tags=["streams"], summary="Delete a log stream")
async def delete_stream(
    group: str,
    name: str,
    access: Access = require("logs:DeleteLogStream"),
    svc: Services = Depends(services),
) -> Response:
    access.group(group)
    await asyncio.to_thread(svc.store.delete_stream, group, name)
    return Response(status_code=204)


# Search


class SearchIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    groups: list[str] = Field(min_length=1, max_length=50)
    start: int | str | None = Field(None, description="inclusive; ms since the epoch or ISO-8601")
    end: int | str | None = Field(None, description="exclusive; ms since the epoch or ISO-8601")
    query: str | None = Field(
        None, max_length=MAX_SEARCH_TEXT_CHARS, description="substring of the message or fields"
    )
    fields: dict[str, str | int | float | bool] = Field(
        default_factory=dict, description="exact values of promoted columns or top-level fields"
    )
    streams: list[str] = Field(default_factory=list, max_length=100)
    limit: int = Field(DEFAULT_SEARCH_LIMIT, ge=1, le=10_000)
    order: Literal["desc", "asc"] = "desc"
    cursor: str | None = None


class EventOut(BaseModel):
    id: str
    timestamp: int
    time: str
    ingestion_time: int
    group: str
    stream: str
    message: str | None
    level: str | None = None
    trace_id: str | None = None
    span_id: str | None = None
    tenant_id: str | None = None
    service: str | None = None
    fields: dict[str, Any] | None = None


class SearchOut(BaseModel):
    events: list[EventOut]
    next_cursor: str | None = None


def _time(value: int | str | None, name: str) -> int | None:
    if value is None:
        return None
    parsed = parse_timestamp(value)
    if parsed is None:
        raise InvalidParameterError(f"invalid {name} time", value=str(value))
    return parsed


def _event_out(event: StoredEvent) -> dict[str, Any]:
    return {
        "id": str(event.seq),
        "timestamp": event.timestamp,
        "time": format_iso(event.timestamp),
        "ingestion_time": event.ingestion_time,
        "group": event.group,
        "stream": event.stream,
        "message": event.message,
        "level": event.level,
        "trace_id": event.trace_id,
        "span_id": event.span_id,
        "tenant_id": event.tenant_id,
        "service": event.service,
        "fields": orjson.loads(event.fields) if event.fields else None,
    }


@router.post("/events/search", response_model=SearchOut, tags=["events"], summary="Search events")
async def search(
    spec: Annotated[SearchIn, Body()],
    access: Access = require("logs:FilterLogEvents"),
    svc: Services = Depends(services),
) -> JSONResponse:
    """Events of some groups in a time range, newest first, with a substring and field filter."""
    for group in spec.groups:
        access.group(group)
    request = SearchRequest(
        groups=spec.groups,
        start_ms=_time(spec.start, "start"),
        end_ms=_time(spec.end, "end"),
        text=spec.query or None,
        equals=spec.fields,
        streams=spec.streams,
        limit=spec.limit,
        ascending=spec.order == "asc",
        cursor=spec.cursor,
    )
    result = await asyncio.to_thread(svc.store.search, request)
    return JSONResponse({"events": [_event_out(e) for e in result.events], "next_cursor": result.next_cursor})


# PII audit


class FindingOut(BaseModel):
    minute: int = Field(description="start of the minute, ms since the epoch")
    time: str
    group: str
    identifier: str
    count: int


class FindingsOut(BaseModel):
    findings: list[FindingOut]
    totals: dict[str, int]


@router.get("/pii/stats", response_model=FindingsOut, tags=["pii"], summary="PII findings per minute")
async def pii_stats(
    group: Annotated[list[str], Query(description="log group (repeatable)")],
    start: int | str | None = None,
    end: int | str | None = None,
    access: Access = require("logs:GetDataProtectionPolicy"),
    svc: Services = Depends(services),
) -> FindingsOut:
    """How many findings of each identifier type each group had per minute; never the values."""
    for name in group:
        access.group(name)
        svc.store.get_group(name)
    await asyncio.to_thread(svc.flush_findings)
    rows = await asyncio.to_thread(svc.store.findings, group, _time(start, "start"), _time(end, "end"))
    totals: dict[str, int] = {}
    for _minute, _group, identifier, count in rows:
        totals[identifier] = totals.get(identifier, 0) + count
    return FindingsOut(
        findings=[
            FindingOut(minute=m, time=format_iso(m), group=g, identifier=i, count=c) for m, g, i, c in rows
        ],
        totals=totals,
    )


# The API description


@router.get("/openapi.json", tags=["meta"], summary="This API's OpenAPI document")
async def openapi(request: Request, access: Access = require("logpond:GetOpenApi")) -> JSONResponse:
    """The OpenAPI 3 description of every route; any valid key may read it."""
    access.account()
    return JSONResponse(request.app.openapi())


# API keys


class KeyCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    role: Literal["admin", "reader", "shipper"] | None = None
    groups: str | None = Field(None, description="log group name pattern, e.g. /qualisys/*")
    policy: dict[str, Any] | None = Field(None, description="an IAM-style policy document")
    description: str = Field("", max_length=256)


class KeyCreated(BaseModel):
    access_key_id: str
    secret_access_key: str
    policy: dict[str, Any]
    description: str


class KeyOut(BaseModel):
    access_key_id: str
    description: str
    created: int
    revoked: int | None
    policy: dict[str, Any]


class KeyList(BaseModel):
    keys: list[KeyOut]


@router.post("/keys", response_model=KeyCreated, status_code=201, tags=["keys"], summary="Create an API key")
async def create_key(
    spec: KeyCreate, access: Access = require("iam:CreateAccessKey"), svc: Services = Depends(services)
) -> KeyCreated:
    """A new key with a role (optionally limited to groups) or a policy; the secret is shown once."""
    access.account()
    if (spec.role is None) == (spec.policy is None):
        raise InvalidParameterError("give exactly one of role or policy")
    if spec.policy is not None and spec.groups is not None:
        raise InvalidParameterError("groups only applies to a role; put resources in the policy")
    policy = spec.policy if spec.policy is not None else role_policy(spec.role or "", spec.groups)
    creds = await asyncio.to_thread(svc.keyring.create, policy, description=spec.description)
    return KeyCreated(
        access_key_id=creds.access_key_id,
        secret_access_key=creds.secret_access_key,
        policy=policy,
        description=spec.description,
    )


@router.get("/keys", response_model=KeyList, tags=["keys"], summary="List API keys")
async def list_keys(
    access: Access = require("iam:ListAccessKeys"), svc: Services = Depends(services)
) -> KeyList:
    access.account()
    records = await asyncio.to_thread(svc.keyring.list)
    return KeyList(
        keys=[
            KeyOut(
                access_key_id=r.access_key_id,
                description=r.description,
                created=r.created_ms,
                revoked=r.revoked_ms,
                policy=dict(r.policy),
            )
            for r in records
        ]
    )


@router.delete("/keys/{access_key_id}", status_code=204, tags=["keys"], summary="Revoke an API key")
async def revoke_key(
    access_key_id: str,
    access: Access = require("iam:DeleteAccessKey"),
    svc: Services = Depends(services),
) -> Response:
    access.account()
    if access_key_id == access.principal.access_key_id:
        raise InvalidParameterError("a key cannot revoke itself; use another admin key")
    await asyncio.to_thread(svc.keyring.revoke, access_key_id)
    return Response(status_code=204)
