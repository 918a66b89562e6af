"""The labeled corpus of ``bench/redact_quality.py``, loaded for tests, and event batches."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pyarrow as pa

from logpond.model.schema import EVENT_SCHEMA, PROMOTED_COLUMNS

BENCH = Path(__file__).resolve().parents[3] / "bench" / "redact_quality.py"


def quality_module() -> ModuleType:
    """``bench/redact_quality.py`` as a module (the bench directory is not a package)."""
    name = "logpond_bench_redact_quality"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, BENCH)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def event_batch(items: list[str | dict[str, Any]]) -> pa.RecordBatch:
    """Events as ingest builds them: text as ``message``; records split into columns."""
    columns: dict[str, list[Any]] = {f.name: [] for f in EVENT_SCHEMA}
    for i, item in enumerate(items):
        columns["log_group"].append("/test/group")
        columns["log_stream"].append("stream")
        columns["timestamp"].append(1_769_249_730_000 + i)
        if isinstance(item, str):
            columns["message"].append(item)
            for name in PROMOTED_COLUMNS:
                columns[name].append(None)
            columns["fields"].append(None)
            continue
        rest = dict(item)
        rest.pop("timestamp", None)
        message = rest.pop("message", None)
        columns["message"].append(message if message is None else str(message))
        for name in PROMOTED_COLUMNS:
            value = rest.pop(name, None)
            columns[name].append(None if value is None else str(value))
        columns["fields"].append(
            json.dumps(rest, ensure_ascii=False, separators=(",", ":")) if rest else None
        )
    return pa.RecordBatch.from_pydict(columns, schema=EVENT_SCHEMA)
