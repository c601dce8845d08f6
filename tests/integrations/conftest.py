"""Fixtures shared by the framework adapters' tests: a PostgreSQL schema per test (dropped after)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ..support.sql_servers import drop_postgres_schema, unique_name


@pytest.fixture
def pg_schema(postgres_url: str) -> Iterator[str]:
    pytest.importorskip("psycopg", reason="the PostgreSQL fixtures use psycopg (extra 'postgres')")
    name = unique_name()
    yield name
    drop_postgres_schema(postgres_url, name)
