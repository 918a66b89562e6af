"""Opening the DuckDB file: encryption, engine settings, schema migrations."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import duckdb

from logpond.model.errors import LogpondError
from logpond.model.limits import WRITER_MAX_PENDING_BYTES
from logpond.store.registry import DEFAULT_CHECKPOINT_THRESHOLD, DEFAULT_MEMORY_LIMIT

__all__ = ["DuckDBSettings", "apply_migrations", "open_database", "quote_literal"]

log = logging.getLogger("logpond.store.duckdb")

# The catalog name the database file is attached under.
DATABASE = "lp"
# Storage format of new files: v1.5.0 brings the zstd string codec the events tables use.
STORAGE_VERSION = "v1.5.0"


@dataclass(frozen=True, slots=True)
class DuckDBSettings:
    """Engine settings; ``encryption_key`` turns on encryption at rest."""

    path: Path
    encryption_key: str | None = None
    memory_limit: str = DEFAULT_MEMORY_LIMIT
    threads: int | None = None
    checkpoint_threshold: str = DEFAULT_CHECKPOINT_THRESHOLD
    writer_max_pending_bytes: int = WRITER_MAX_PENDING_BYTES


def quote_literal(value: str) -> str:
    """A SQL string literal; the one place text is quoted into DuckDB statements."""
    return "'" + value.replace("'", "''") + "'"


def _httpfs_path() -> str:
    """DuckDB writes encrypted files only with httpfs loaded; it ships as a wheel."""
    try:
        import duckdb_extension_httpfs  # noqa: PLC0415 (only needed for encryption)
    except ImportError as exc:
        raise LogpondError("encryption needs the httpfs extension: pip install 'logpond[server]'") from exc
    base = Path(duckdb_extension_httpfs.__file__).parent / "extensions"
    path = base / f"v{duckdb.__version__}" / "httpfs.duckdb_extension"
    if not path.exists():
        raise LogpondError(
            "no httpfs extension for this duckdb version",
            duckdb=duckdb.__version__,
            looked_in=str(base),
        )
    return str(path)


def open_database(settings: DuckDBSettings) -> duckdb.DuckDBPyConnection:
    """Open (or create) the database file and return the connection the store builds on."""
    settings.path.parent.mkdir(parents=True, exist_ok=True)
    temp_dir = settings.path.parent / "tmp"
    config: dict[str, str | bool | int | float | list[str]] = {
        "autoinstall_known_extensions": False,
        "autoload_known_extensions": False,
        "memory_limit": settings.memory_limit,
        "temp_directory": str(temp_dir),
        "checkpoint_threshold": settings.checkpoint_threshold,
    }
    if settings.threads:
        config["threads"] = settings.threads
    con = duckdb.connect(":memory:", config=config)
    options = [f"STORAGE_VERSION {quote_literal(STORAGE_VERSION)}"]
    if settings.encryption_key:
        con.execute(f"LOAD {quote_literal(_httpfs_path())}")
        con.execute("SET temp_file_encryption = true")
        options.append(f"ENCRYPTION_KEY {quote_literal(settings.encryption_key)}")
    try:
        con.execute(f"ATTACH {quote_literal(str(settings.path))} AS {DATABASE} ({', '.join(options)})")
    except duckdb.Error as exc:
        con.close()
        text = str(exc)
        if "encrypt" in text.lower() or "key" in text.lower():
            hint = (
                "set LOGPOND_ENCRYPTION_KEY to the key it was created with"
                if not settings.encryption_key
                else "the encryption key does not match this database"
            )
            raise LogpondError(f"cannot open the database: {hint}", path=str(settings.path)) from exc
        raise LogpondError("cannot open the database", path=str(settings.path), reason=text) from exc
    con.execute(f"USE {DATABASE}")
    # Nothing reaches outside the data directory from SQL once the file is open.
    con.execute("SET enable_external_access = false")
    con.execute("SET lock_configuration = true")
    apply_migrations(con)
    return con


def apply_migrations(con: duckdb.DuckDBPyConnection) -> list[int]:
    """Apply the numbered ``migrations/NNNN_name.sql`` files not yet applied, in order."""
    con.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations "
        "(version INTEGER NOT NULL, name VARCHAR NOT NULL, applied_at TIMESTAMP NOT NULL)"
    )
    applied = {row[0] for row in con.execute("SELECT version FROM schema_migrations").fetchall()}
    folder = resources.files(__package__).joinpath("migrations")
    done: list[int] = []
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".sql"):
            continue
        version = int(entry.name.split("_", 1)[0])
        if version in applied:
            continue
        sql = entry.read_text(encoding="utf-8")
        con.execute("BEGIN TRANSACTION")
        try:
            con.execute(sql)
            con.execute("INSERT INTO schema_migrations VALUES (?, ?, now())", [version, entry.name])
            con.execute("COMMIT")
        except Exception:
            con.execute("ROLLBACK")
            raise
        log.info("applied migration", extra={"version": version, "migration": entry.name})
        done.append(version)
    return done


def partition_ddl(table: str) -> str:
    """The CREATE TABLE statement of one day's events table."""
    template = resources.files(__package__).joinpath("partition.sql").read_text(encoding="utf-8")
    return template.replace("{table}", table)


def traces_ddl(table: str) -> str:
    """The CREATE TABLE statement of one day's trace index (traces.sql)."""
    template = resources.files(__package__).joinpath("traces.sql").read_text(encoding="utf-8")
    return template.replace("{table}", table)
