"""Fixtures of the SQL server stores: a fresh PostgreSQL schema or MariaDB database per test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.sql_servers import (
    create_mysql_database,
    drop_mysql_database,
    drop_postgres_schema,
    unique_name,
    with_database,
)


@pytest.fixture
def pg_schema(postgres_url: str) -> Iterator[str]:
    """A schema name no other test uses; the store creates it, the fixture drops it."""
    pytest.importorskip("psycopg", reason="the PostgreSQL fixtures use psycopg (extra 'postgres')")
    name = unique_name()
    yield name
    drop_postgres_schema(postgres_url, name)


@pytest.fixture
def mysql_db_url(mysql_url: str) -> Iterator[str]:
    """The URL of a fresh, empty database, dropped afterwards."""
    pytest.importorskip("pymysql", reason="the MariaDB fixtures use PyMySQL (extra 'mysql')")
    name = create_mysql_database(mysql_url)
    yield with_database(mysql_url, name)
    drop_mysql_database(mysql_url, name)
