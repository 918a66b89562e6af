"""Storage: the engine-neutral ``Store`` interface, the group-commit writer, retention,
and one sub-package per engine (``duckdb`` now, ``clickhouse`` later)."""
