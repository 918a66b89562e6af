"""Storage engines by name, imported only when chosen."""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path

from logpond.model.clock import Clock
from logpond.model.errors import InvalidParameterError

from .base import Store

__all__ = ["ENGINES", "StoreOptions", "open_store"]

# name -> "module:factory"; the factory takes (StoreOptions, Clock) and returns a Store.
ENGINES = {"duckdb": "logpond.store.duckdb.store:open_duckdb_store"}


@dataclass(frozen=True, slots=True)
class StoreOptions:
    """What every engine may be configured with."""

    data_dir: Path
    encryption_key: str | None = None
    memory_limit: str = "192MB"
    threads: int | None = None
    checkpoint_threshold: str = "32MB"


def open_store(engine: str, options: StoreOptions, clock: Clock) -> Store:
    """Open the named engine's store."""
    target = ENGINES.get(engine)
    if target is None:
        raise InvalidParameterError("unknown storage engine", engine=engine, engines=sorted(ENGINES))
    module, factory = target.split(":")
    store: Store = getattr(importlib.import_module(module), factory)(options, clock)
    return store
