"""Re-encrypting the store under a new key: a full copy, because DuckDB cannot re-key a file.

Also encrypts a store that was not (no old key) or decrypts one (no new key). The server
must be stopped: DuckDB's file lock refuses a second process.
"""

from __future__ import annotations

import os
from pathlib import Path

import duckdb

from logpond.auth.keys import SecretBox
from logpond.model.errors import LogpondError

from .connection import DATABASE, STORAGE_VERSION, _httpfs_path, quote_literal

__all__ = ["rekey"]


def _options(key: str | None, *, new: bool) -> str:
    options = [f"STORAGE_VERSION {quote_literal(STORAGE_VERSION)}"] if new else []
    if key:
        options.append(f"ENCRYPTION_KEY {quote_literal(key)}")
    return f" ({', '.join(options)})" if options else ""


def rekey(data_dir: Path, old_key: str | None, new_key: str | None) -> int:
    """Copy the database under ``new_key``, re-seal the API key secrets, swap the files.

    Returns the number of API keys re-sealed. The old file is kept as ``*.before-rekey``
    until the new one is in place, then removed.
    """
    path = data_dir / "logpond.duckdb"
    if not path.exists():
        raise LogpondError("no database in the data directory", path=str(path))
    target = data_dir / "logpond.duckdb.rekey"
    for leftover in (target, Path(f"{target}.wal")):
        leftover.unlink(missing_ok=True)
    old_box = SecretBox.for_data_dir(data_dir, old_key)
    con = duckdb.connect(":memory:")
    try:
        if old_key or new_key:
            con.execute(f"LOAD {quote_literal(_httpfs_path())}")
        try:
            con.execute(f"ATTACH {quote_literal(str(path))} AS old{_options(old_key, new=False)}")
        except duckdb.Error as exc:
            raise LogpondError("cannot open the database with the old key, or it is in use") from exc
        con.execute(f"ATTACH {quote_literal(str(target))} AS {DATABASE}_new{_options(new_key, new=True)}")
        con.execute(f"COPY FROM DATABASE old TO {DATABASE}_new")
        if not new_key:
            # Going unencrypted: secrets stay sealed, with a key file of their own.
            (data_dir / "keyring.key").unlink(missing_ok=True)
        new_box = SecretBox.for_data_dir(data_dir, new_key)
        rows = con.execute(
            f"SELECT access_key_id, encrypted_secret FROM {DATABASE}_new.access_keys"
        ).fetchall()
        for key_id, sealed in rows:
            secret = old_box.open(bytes(sealed), key_id)
            con.execute(
                f"UPDATE {DATABASE}_new.access_keys SET encrypted_secret = ? WHERE access_key_id = ?",
                [new_box.seal(secret, key_id), key_id],
            )
        con.execute(f"CHECKPOINT {DATABASE}_new")
    finally:
        con.close()
    backup = data_dir / "logpond.duckdb.before-rekey"
    os.replace(path, backup)
    Path(f"{path}.wal").unlink(missing_ok=True)
    os.replace(target, path)
    backup.unlink()
    return len(rows)
