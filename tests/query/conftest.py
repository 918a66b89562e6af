"""Engines for the query suites: a DuckDB file and a chdb session, shared by the session."""

from __future__ import annotations

from collections.abc import Iterator

import chdb
import duckdb
import pytest

from .querycases import EngineTables


@pytest.fixture(scope="session")
def engine_tables(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EngineTables]:
    """A DuckDB database file and a chdb session under one temporary directory."""
    directory = tmp_path_factory.mktemp("query-engines")
    duck = duckdb.connect(str(directory / "events.duckdb"))
    session = chdb.connect(str(directory / "chdb"))  # type: ignore[no-untyped-call]
    try:
        yield EngineTables(directory, duck, session)
    finally:
        duck.close()
        session.close()
