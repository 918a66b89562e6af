"""Logs Insights: StartQuery, GetQueryResults, StopQuery, DescribeQueries, and the saved
queries (PutQueryDefinition, DescribeQueryDefinitions, DeleteQueryDefinition).

Queries run in the background registry (``logpond.query.jobs``) on the store's engine.
``startTime`` and ``endTime`` are epoch **seconds**, both inclusive: events with
``start * 1000 <= timestamp < (end + 1) * 1000`` are read.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from logpond.model.errors import InvalidParameterError, ResourceNotFoundError
from logpond.model.limits import MAX_LIST_LIMIT
from logpond.query import Plan, PlanOptions, QueryResult, parse_query, plan_query
from logpond.query.jobs import QueryJob, QueryStatus

from .protocol import (
    GROUP_IDENTIFIER_RE,
    GROUP_NAME_RE,
    Call,
    decode_token,
    encode_token,
    in_thread,
    operation,
)

__all__: list[str] = []

QUERY_LANGUAGE = "CWLI"
QUERY_LANGUAGES = ("CWLI", "SQL", "PPL")
MAX_QUERY_GROUPS = 50
MAX_QUERY_LIMIT = 10_000
MAX_QUERY_PARAMETERS = 20
_STATUSES = ("Scheduled", "Running", "Complete", "Failed", "Cancelled", "Timeout", "Unknown")


def _language(call: Call) -> None:
    language = call.string("queryLanguage", enum=QUERY_LANGUAGES)
    if language is not None and language != QUERY_LANGUAGE:
        raise InvalidParameterError(f"Query language {language} is not supported; use CWLI.")


def _query_groups(call: Call, source_prefixes: tuple[str, ...]) -> list[str]:
    name = call.group_name(required=False)
    names = call.strings(
        "logGroupNames", max_items=MAX_QUERY_GROUPS, item_max=512, item_pattern=GROUP_NAME_RE
    )
    identifiers = call.strings(
        "logGroupIdentifiers", max_items=MAX_QUERY_GROUPS, item_max=2048, item_pattern=GROUP_IDENTIFIER_RE
    )
    given = [g for g in (name, names, identifiers) if g is not None]
    if source_prefixes:
        if given:
            raise InvalidParameterError("A query with SOURCE cannot also name log groups.")
        groups: list[str] = []
        for prefix in source_prefixes:
            token = None
            while True:
                page = call.svc.store.list_groups(prefix=prefix, limit=MAX_LIST_LIMIT, next_token=token)
                groups.extend(g.name for g in page.items if call.access.allows_group(g.name))
                token = page.next_token
                if token is None:
                    break
        if not groups:
            raise ResourceNotFoundError("No log group matches the SOURCE of the query.")
        return list(dict.fromkeys(groups))
    if len(given) != 1:
        raise InvalidParameterError(
            "Exactly one of logGroupName, logGroupNames or logGroupIdentifiers must be provided."
        )
    if name is not None:
        groups = [name]
    elif names is not None:
        groups = names
    else:
        groups = [call.identifier_to_name(i.removesuffix(":*")) for i in identifiers or []]
    if not groups:
        raise InvalidParameterError("At least one log group must be provided.")
    return list(dict.fromkeys(groups))


@operation("StartQuery")
async def start_query(call: Call) -> dict[str, Any]:
    _language(call)
    start = call.integer("startTime", required=True, minimum=0)
    end = call.integer("endTime", required=True, minimum=0)
    text = call.required_string("queryString", max_len=10_000)
    limit = call.integer("limit", minimum=1, maximum=MAX_QUERY_LIMIT)
    assert start is not None
    assert end is not None
    if end < start:
        raise InvalidParameterError("endTime must be greater than or equal to startTime.")
    parsed = parse_query(text)
    prefixes = tuple(parsed.source.name_prefixes) if parsed.source is not None else ()
    groups = await in_thread(_query_groups, call, prefixes)
    svc = call.svc
    for group in groups:
        call.access.group(group)
        call.existing_group(group)
    options = PlanOptions(
        limit=limit or PlanOptions().limit,
        account_id=svc.settings.auth.account_id,
        allow_unmask=all(call.access.allows_group(g, "logs:Unmask") for g in groups),
        now_ms=svc.clock.now_ms(),
    )
    plan = plan_query(parsed, options)
    start_ms, end_ms = start * 1000, (end + 1) * 1000

    def run(plan: Plan, bind: Callable[[Any], None]) -> QueryResult:
        return svc.store.run_plan(plan, groups, start_ms, end_ms, statistics=True, on_cursor=bind)

    job = svc.queries.start(
        plan, run, query=text, groups=groups, start_ms=start_ms, end_ms=end_ms,
        owner=call.access.principal.access_key_id,
    )  # fmt: skip
    return {"queryId": job.id}


def _job(call: Call) -> QueryJob:
    query_id = call.required_string("queryId", max_len=256)
    call.access.account()
    try:
        return call.svc.queries.get(query_id, call.access.principal.access_key_id)
    except ResourceNotFoundError:
        raise ResourceNotFoundError(f"Query does not exist: {query_id}") from None


@operation("GetQueryResults")
async def get_query_results(call: Call) -> dict[str, Any]:
    job = _job(call)
    max_items = call.integer("maxItems", minimum=1, maximum=MAX_QUERY_LIMIT)
    offset = decode_token(call.string("nextToken"))
    if offset is not None and not isinstance(offset, int):
        raise InvalidParameterError("The specified nextToken is invalid.")
    result = job.result
    rows = result.rows if result is not None and job.status is QueryStatus.COMPLETE else []
    first = offset or 0
    last = len(rows) if max_items is None else min(len(rows), first + max_items)
    stats = result.statistics.to_dict() if result is not None else {
        "recordsMatched": 0.0, "recordsScanned": 0.0, "bytesScanned": 0.0,
    }  # fmt: skip
    body: dict[str, Any] = {
        "queryLanguage": QUERY_LANGUAGE,
        "results": rows[first:last],
        "statistics": {**stats, "logGroupsScanned": float(len(job.groups))},
        "status": job.status.value,
    }
    if last < len(rows):
        body["nextToken"] = encode_token(last)
    return body


@operation("StopQuery")
async def stop_query(call: Call) -> dict[str, Any]:
    job = _job(call)
    if job.done:
        raise InvalidParameterError(f"Query {job.id} is not running.")
    call.svc.queries.cancel(job.id, call.access.principal.access_key_id)
    return {"success": True}


@operation("DescribeQueries")
async def describe_queries(call: Call) -> dict[str, Any]:
    group = call.group_name(required=False)
    status = call.string("status", enum=_STATUSES)
    limit = call.integer("maxResults", minimum=1, maximum=1000) or 1000
    _language(call)
    after = decode_token(call.string("nextToken"))
    call.access.account()
    jobs = [
        j
        for j in call.svc.queries.list(call.access.principal.access_key_id)
        if (group is None or group in j.groups)
        and (status is None or j.status.value == status)
        and (after is None or [-j.created_ms, j.id] > after)
    ]
    page = jobs[:limit]
    body: dict[str, Any] = {
        "queries": [
            {
                "queryLanguage": QUERY_LANGUAGE,
                "queryId": j.id,
                "queryString": j.query,
                "status": j.status.value,
                "createTime": j.created_ms,
                "logGroupName": j.groups[0] if j.groups else "",
            }
            for j in page
        ]
    }
    if len(jobs) > limit:
        body["nextToken"] = encode_token([-page[-1].created_ms, page[-1].id])
    return body


# Saved queries


def _parameters(call: Call) -> list[dict[str, Any]]:
    raw = call.body.get("parameters")
    if raw is None:
        return []
    if not isinstance(raw, list) or len(raw) > MAX_QUERY_PARAMETERS:
        raise InvalidParameterError(f"parameters must be a list of at most {MAX_QUERY_PARAMETERS} entries.")
    out = []
    for index, item in enumerate(raw, start=1):
        if not isinstance(item, dict) or not isinstance(item.get("name"), str) or not item["name"]:
            raise InvalidParameterError(f"parameters.{index}.member needs a name.")
        kept = {k: item[k] for k in ("name", "defaultValue", "description") if isinstance(item.get(k), str)}
        out.append(kept)
    return out


@operation("PutQueryDefinition")
async def put_query_definition(call: Call) -> dict[str, Any]:
    _language(call)
    name = call.required_string("name", max_len=255)
    text = call.required_string("queryString", max_len=10_000)
    definition_id = call.string("queryDefinitionId", max_len=256)
    groups = call.strings("logGroupNames", item_max=512, item_pattern=GROUP_NAME_RE) or []
    call.string("clientToken", min_len=36, max_len=128)
    parameters = _parameters(call)
    call.access.account()
    if "{{" not in text:
        parse_query(text)
    try:
        stored = await in_thread(
            call.svc.store.put_query_definition, name, text, groups, definition_id, parameters=parameters
        )
    except ResourceNotFoundError:
        raise ResourceNotFoundError("The specified query definition does not exist.") from None
    return {"queryDefinitionId": stored.id}


@operation("DescribeQueryDefinitions")
async def describe_query_definitions(call: Call) -> dict[str, Any]:
    _language(call)
    prefix = call.string("queryDefinitionNamePrefix", max_len=255)
    limit = call.integer("maxResults", minimum=1, maximum=1000) or 1000
    after = decode_token(call.string("nextToken"))
    call.access.account()
    definitions = [
        d
        for d in await in_thread(call.svc.store.list_query_definitions, prefix)
        if after is None or [d.name, d.id] > after
    ]
    page = definitions[:limit]
    body: dict[str, Any] = {
        "queryDefinitions": [
            {
                "queryLanguage": QUERY_LANGUAGE,
                "queryDefinitionId": d.id,
                "name": d.name,
                "queryString": d.query,
                "lastModified": d.updated_ms,
                "logGroupNames": d.log_groups,
                **({"parameters": d.parameters} if d.parameters else {}),
            }
            for d in page
        ]
    }
    if len(definitions) > limit:
        body["nextToken"] = encode_token([page[-1].name, page[-1].id])
    return body


@operation("DeleteQueryDefinition")
async def delete_query_definition(call: Call) -> dict[str, Any]:
    definition_id = call.required_string("queryDefinitionId", max_len=256)
    call.access.account()
    try:
        await in_thread(call.svc.store.delete_query_definition, definition_id)
    except ResourceNotFoundError:
        raise ResourceNotFoundError("The specified query definition does not exist.") from None
    return {"success": True}
