"""Elasticsearch ``_bulk`` bodies: action lines and documents, and the compact response.

``index`` and ``create`` store their document; ``update`` stores its ``doc`` (Fluent Bit's
upsert mode); ``delete`` answers 404 (logs are immutable). A document that is not JSON is
stored as its raw text with ``es.parse_error`` set, not refused: shippers retry a whole
chunk when items fail. Only an action line that is not JSON fails the request (400).

Group: the index with a trailing date removed (``logstash-2024.01.23`` -> ``logstash``);
stream: the record's pod or host (``records.default_stream``); both overridable by routes.
The raw index is kept in ``es.index``, a given ``_id`` in ``es.id``.
"""

from __future__ import annotations

import base64
import os
import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import orjson

from logpond.model.errors import InvalidParameterError

from . import kubernetes
from .base import Decoded, EventColumns, Rejection, too_large
from .records import add_shipped, default_stream
from .routing import Router, group_name

__all__ = ["BulkItem", "ESBulkDecoder", "ESBulkRequest", "render_bulk_response"]

_DATE_SUFFIX = re.compile(r"[-_.]?\d{4}[.\-_]\d{2}(?:[.\-_]\d{2})?$")
_ACTIONS = ("index", "create", "update", "delete")


@lru_cache(maxsize=1024)
def index_group(index: str) -> str:
    """The default group of an index: its name without a trailing date."""
    return group_name(_DATE_SUFFIX.sub("", index) or index)


@dataclass(slots=True)
class BulkItem:
    """One action's answer: its name, index, id, the record number of its document, status."""

    action: str
    index: str
    id: str
    line: int
    status: int = 201
    error: tuple[str, str] | None = None


@dataclass(slots=True)
class ESBulkRequest:
    """A decoded bulk body: the events and one item per action."""

    decoded: Decoded
    items: list[BulkItem] = field(default_factory=list)


class ESBulkDecoder:
    """Decodes ``_bulk`` NDJSON; see the module docstring."""

    def __init__(self, router: Router) -> None:
        self._router = router

    def decode(
        self, body: bytes, url_index: str | None, now_ms: int, tenant_id: str | None = None
    ) -> ESBulkRequest:
        columns = EventColumns()
        rejections: list[Rejection] = []
        items: list[BulkItem] = []
        route = self._router.route if self._router.has_rules("es") else None
        id_prefix = os.urandom(9)
        loads = orjson.loads
        lines = body.split(b"\n")
        total = len(lines)
        last_action_raw = b""
        last_action: tuple[str, dict[str, Any]] = ("index", {})
        number = 0
        while number < total:
            raw = lines[number]
            number += 1
            if raw.endswith(b"\r"):
                raw = raw[:-1]
            if not raw or raw.isspace():
                continue
            if raw != last_action_raw:
                last_action = _parse_action(raw, number)
                last_action_raw = raw
            action, meta = last_action
            index = meta.get("_index") or url_index
            given_id = meta.get("_id")
            item_id = (
                str(given_id)
                if given_id not in (None, "")
                else base64.urlsafe_b64encode(id_prefix + len(items).to_bytes(6)).decode()
            )
            if action == "delete":
                items.append(BulkItem(action, index or "", item_id, number, 404, None))
                continue
            # The document line follows the action.
            while number < total and not lines[number].strip():
                number += 1
            if number >= total:
                items.append(
                    BulkItem(
                        action, index or "", item_id, number, 400, ("parse_exception", "missing document")
                    )
                )
                break
            doc_raw = lines[number]
            number += 1
            item = BulkItem(action, index or "", item_id, number)
            items.append(item)
            if not isinstance(index, str) or not index:
                item.status = 400
                item.error = ("action_request_validation_exception", "index is missing")
                continue
            reason = too_large(len(doc_raw))
            if reason is not None:
                item.status, item.error = 413, ("document_too_large_exception", reason)
                rejections.append(Rejection(number, reason))
                continue
            try:
                record = loads(doc_raw)
            except orjson.JSONDecodeError:
                record = None
            if action == "update":
                if type(record) is not dict or type(record.get("doc")) is not dict:
                    item.status = 400
                    item.error = ("illegal_argument_exception", "an update must carry a doc")
                    continue
                record = record["doc"]
            if type(record) is not dict:
                text = doc_raw.decode("utf-8", "replace").rstrip("\r")
                record = {"message": text, "es": {"index": index, "parse_error": True}}
            else:
                es_meta: dict[str, Any] = {"index": index}
                if given_id not in (None, ""):
                    es_meta["id"] = item_id
                existing = record.get("es")
                if type(existing) is dict:
                    existing.update(es_meta)
                else:
                    record["es"] = es_meta
            hints = kubernetes.prepare(record)
            group = index_group(index)
            stream = hints.stream or default_stream(record)
            if route is not None:
                group, stream = route("es", record, group, stream)
            add_shipped(
                columns,
                number,
                group,
                stream,
                record,
                now_ms if hints.timestamp_ms is None else hints.timestamp_ms,
                tenant_id=tenant_id,
                level=hints.level,
                service=hints.service,
            )
        return ESBulkRequest(columns.build(rejections), items)


def _parse_action(raw: bytes, number: int) -> tuple[str, dict[str, Any]]:
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise InvalidParameterError(
            "malformed action line", line=number, reason="action line is not JSON"
        ) from None
    if type(value) is not dict or len(value) != 1:
        raise InvalidParameterError("malformed action line", line=number, reason="expected one action")
    ((action, meta),) = value.items()
    if action not in _ACTIONS or type(meta) is not dict:
        raise InvalidParameterError("malformed action line", line=number, reason=f"unknown action {action}")
    return action, meta


_CREATED = b',"_version":1,"result":"created","_shards":{"total":1,"successful":1,"failed":0},"status":201}}'


def render_bulk_response(items: list[BulkItem], rejected: dict[int, str], took_ms: int) -> bytes:
    """The compact ``{"took","errors","items"}`` body, keys in Elasticsearch's order.

    ``rejected`` maps a document's record number to the reason the pipeline refused it.
    """
    dumps = orjson.dumps
    parts: list[bytes] = []
    errors = False
    for item in items:
        status, error = item.status, item.error
        if status == 201 and item.line in rejected:
            status, error = 400, ("illegal_argument_exception", rejected[item.line])
        head = (
            b'{"' + item.action.encode() + b'":{"_index":' + dumps(item.index) + b',"_id":' + dumps(item.id)
        )
        if status == 201:
            parts.append(head + _CREATED)
            continue
        if status == 404:
            parts.append(head + b',"_version":1,"result":"not_found","status":404}}')
            continue
        errors = True
        assert error is not None
        parts.append(
            head
            + b',"status":'
            + str(status).encode()
            + b',"error":'
            + dumps({"type": error[0], "reason": error[1]})
            + b"}}"
        )
    return (
        b'{"took":'
        + str(took_ms).encode()
        + (b',"errors":true,"items":[' if errors else b',"errors":false,"items":[')
        + b",".join(parts)
        + b"]}"
    )
