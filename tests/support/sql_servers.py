"""Administration of the loopback PostgreSQL and MariaDB servers for the SQL store tests.

Per-test schemas and databases (so runs never collide), URL rewriting, and restarts.
A restart always brings the server back up, even when the test fails: other tests (and
other test runs) share these servers.
"""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit


def unique_name(prefix: str = "t") -> str:
    return f"{prefix}_{uuid.uuid4().hex[:16]}"


def with_address(url: str, host: str, port: int) -> str:
    parts = urlsplit(url)
    credentials = parts.netloc.rpartition("@")[0]
    netloc = f"{credentials}@{host}:{port}" if credentials else f"{host}:{port}"
    return urlunsplit(parts._replace(netloc=netloc))


def with_database(url: str, database: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path=f"/{database}"))


def address(url: str, default_port: int) -> tuple[str, int]:
    parts = urlsplit(url)
    return parts.hostname or "127.0.0.1", parts.port or default_port


# -- PostgreSQL ---------------------------------------------------------------------------------------------------


def postgres_execute(url: str, sql: str, params: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
    import psycopg

    with psycopg.connect(url, autocommit=True) as connection:
        cursor = connection.execute(sql, params or None)
        return cursor.fetchall() if cursor.description else []


def drop_postgres_schema(url: str, schema: str) -> None:
    postgres_execute(url, f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def postgres_backends(url: str, application_name: str) -> int:
    rows = postgres_execute(
        url, "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s", (application_name,)
    )
    return int(rows[0][0])


def terminate_postgres_backends(url: str, application_name: str) -> int:
    """Kill the server side of every connection of one application (what a restart does to them)."""
    rows = postgres_execute(
        url,
        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = %s",
        (application_name,),
    )
    return int(rows[0][0])


def _postgres_cluster() -> str:
    versions = sorted(path.name for path in Path("/etc/postgresql").iterdir() if path.name[:1].isdigit())
    return versions[-1]


@contextlib.contextmanager
def postgres_restart_guard(url: str) -> Iterator[None]:
    """Whatever happens inside, PostgreSQL is running again afterwards."""
    try:
        yield
    finally:
        if not _accepts(address(url, 5432)):
            subprocess.run(
                ["pg_ctlcluster", "--skip-systemctl-redirect", _postgres_cluster(), "main", "start"], check=False
            )
        wait_until_accepting(address(url, 5432))


def restart_postgres() -> None:
    subprocess.run(
        ["pg_ctlcluster", "--skip-systemctl-redirect", _postgres_cluster(), "main", "restart", "-m", "fast"],
        check=True,
        capture_output=True,
    )


def can_restart_postgres() -> bool:
    return shutil.which("pg_ctlcluster") is not None and Path("/etc/postgresql").is_dir()


# -- MariaDB / MySQL ----------------------------------------------------------------------------------------------


def mysql_connect(url: str, in_database: bool = False) -> Any:
    """A PyMySQL connection (utf8mb4, autocommit) to the server of ``url``; ``in_database``: using its database."""
    import pymysql

    parts = urlsplit(url)
    return pymysql.connect(
        host=parts.hostname or "127.0.0.1",
        port=parts.port or 3306,
        user=parts.username or "root",
        password=parts.password or "",
        database=parts.path.lstrip("/") if in_database else None,
        charset="utf8mb4",
        autocommit=True,
    )


def mysql_execute(url: str, sql: str, params: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
    connection = mysql_connect(url)
    try:
        with connection.cursor() as cursor:
            cursor.execute(sql, params or None)
            return list(cursor.fetchall())
    finally:
        connection.close()


def create_mysql_database(url: str) -> str:
    name = unique_name()
    mysql_execute(url, f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")
    return name


def drop_mysql_database(url: str, name: str) -> None:
    mysql_execute(url, f"DROP DATABASE IF EXISTS `{name}`")


def mysql_thread_ids(url: str, database: str) -> list[int]:
    rows = mysql_execute(url, "SELECT id FROM information_schema.processlist WHERE db = %s", (database,))
    return [int(row[0]) for row in rows]


def kill_mysql_connections(url: str, database: str) -> int:
    """Kill the server side of every connection using ``database`` (what a restart does to them)."""
    killed = 0
    for thread_id in mysql_thread_ids(url, database):
        with contextlib.suppress(Exception):
            mysql_execute(url, f"KILL {int(thread_id)}")
            killed += 1
    return killed


_MARIADB = "/usr/sbin/mariadbd"


def can_restart_mariadb() -> bool:
    return Path(_MARIADB).exists() and shutil.which("mysqladmin") is not None


def _mariadb_running() -> bool:
    status = subprocess.run(["start-stop-daemon", "--status", "--exec", _MARIADB], check=False)
    return status.returncode == 0


def start_mariadb(url: str) -> None:
    deadline = time.monotonic() + 60
    while _mariadb_running() and not _accepts(address(url, 3306)) and time.monotonic() < deadline:
        time.sleep(0.1)  # a server still shutting down: start-stop-daemon would think it is up
    subprocess.run(
        ["start-stop-daemon", "--start", "--oknodo", "--background", "--exec", _MARIADB],
        check=False,
        capture_output=True,
    )
    wait_until_accepting(address(url, 3306))


def stop_mariadb(url: str) -> None:
    host, port = address(url, 3306)
    subprocess.run(
        ["mysqladmin", "-uroot", f"--host={host}", f"--port={port}", "--protocol=tcp", "shutdown"],
        check=True,
        capture_output=True,
    )
    deadline = time.monotonic() + 60
    while (_mariadb_running() or _accepts((host, port))) and time.monotonic() < deadline:
        time.sleep(0.1)


@contextlib.contextmanager
def mariadb_restart_guard(url: str) -> Iterator[None]:
    """Whatever happens inside, MariaDB is running again afterwards."""
    try:
        yield
    finally:
        if not _accepts(address(url, 3306)):
            start_mariadb(url)
        wait_until_accepting(address(url, 3306))


# -- both -----------------------------------------------------------------------------------------------------------


def _accepts(where: tuple[str, int]) -> bool:
    try:
        with socket.create_connection(where, timeout=1.0):
            return True
    except OSError:
        return False


def wait_until_accepting(where: tuple[str, int], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not _accepts(where):
        if time.monotonic() > deadline:
            raise TimeoutError(f"nothing accepts connections at {where[0]}:{where[1]} after {timeout:.0f}s")
        time.sleep(0.1)
