"""loguru: a sink that writes through the SDK pipeline, and a patcher that adds the context.

::

    from loguru import logger
    logger.remove()
    logger.configure(patcher=patcher)          # context captured at the call, even with enqueue=True
    logger.add(sink, level="INFO", format="{message}")

``record["extra"]`` (``bind``, ``contextualize``) becomes the record's fields; the SDK
context and ids in ``extra`` become ``trace_id``, ``tenant_id``… The record equals what the
stdlib path writes for the same call.
"""

from __future__ import annotations

from typing import Any

from .. import _runtime
from .._context import _CONTEXT
from ._events import ID_KEYS, split_context

__all__ = ["patcher", "sink"]

_CAPTURED = "_logpond_context"


def patcher(record: Any) -> None:
    """Capture the SDK context into ``record["extra"]`` on the calling thread."""
    record["extra"].setdefault(_CAPTURED, dict(_CONTEXT.get()))  # a dict: enqueue pickles it


def sink(message: Any) -> None:
    """A loguru sink: the record goes to the SDK pipeline (stdout and/or shipping)."""
    record = message.record
    fields = dict(record["extra"])
    captured = fields.pop(_CAPTURED, None)
    if captured is not None:
        context = {**captured, **{k: fields.pop(k) for k in ID_KEYS if k in fields}}
    else:
        context = dict(split_context(fields))
    exception = record["exception"]
    error = exception.value if exception is not None else None
    _runtime._pipeline.emit(
        record["level"].no,
        record["message"],
        record["name"] or "root",
        fields,
        error,
        context,
        record["time"].timestamp(),
    )
