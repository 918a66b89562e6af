"""Storage engines by name, imported only when chosen."""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path

from logpond.model.clock import Clock
from logpond.model.errors import InvalidParameterError
from logpond.model.limits import WRITER_MAX_PENDING_BYTES

from .base import Store

__all__ = ["DEFAULT_CHECKPOINT_THRESHOLD", "DEFAULT_MEMORY_LIMIT", "ENGINES", "StoreOptions", "open_store"]

# The engine's buffer pool. With the rest of the process (about 165 MB at rest) this keeps a
# server ingesting at full speed near 400 MB resident; queries needing more spill to disk.
DEFAULT_MEMORY_LIMIT = "128MB"
# Write-ahead log size that triggers a checkpoint. Each checkpoint rewrites the last, partly
# filled row group, leaving free blocks in the file: with bench/ingest.py scenario A at 2M
# events, 32MB gave 52 bytes per event on disk, 64MB 44, 128MB 38 (37 without any churn),
# at the same resident size.
DEFAULT_CHECKPOINT_THRESHOLD = "128MB"

# name -> "module:factory"; the factory takes (StoreOptions, Clock) and returns a Store.
ENGINES = {"duckdb": "logpond.store.duckdb.store:open_duckdb_store"}


@dataclass(frozen=True, slots=True)
class StoreOptions:
    """What every engine may be configured with."""

    data_dir: Path
    encryption_key: str | None = None
    memory_limit: str = DEFAULT_MEMORY_LIMIT
    threads: int | None = None
    checkpoint_threshold: str = DEFAULT_CHECKPOINT_THRESHOLD
    # Bytes of batches waiting for the writer before ingest is refused with 503.
    writer_max_pending_bytes: int = WRITER_MAX_PENDING_BYTES


def open_store(engine: str, options: StoreOptions, clock: Clock) -> Store:
    """Open the named engine's store."""
    target = ENGINES.get(engine)
    if target is None:
        raise InvalidParameterError("unknown storage engine", engine=engine, engines=sorted(ENGINES))
    module, factory = target.split(":")
    store: Store = getattr(importlib.import_module(module), factory)(options, clock)
    return store
