"""postgres (psycopg 3), async_postgres (asyncpg) and mysql (PyMySQL on MariaDB) against the raw drivers.

Both sides connect with the same settings (autocommit, psycopg's ``prepare_threshold=5``,
asyncpg's statement cache of 100, PyMySQL's utf8mb4 + FOUND_ROWS + strict ``sql_mode``),
use the same schema (checked) and run, per ``add_message``, ``BEGIN``; touch the session;
insert; ``COMMIT``, each statement one round trip; ``add_messages`` replaces the insert
with one ``executemany``. Each side writes into its own PostgreSQL schema / MariaDB
database, created and dropped by the run. The read sessions (``small`` and ``large``
messages) are built once with bulk loads and kept on the server as
``praisonai_bench_<size>_v1`` schemas / databases.
"""

from __future__ import annotations

import asyncio
import os
import socket
import time
from collections.abc import Awaitable, Callable
from functools import partial
from itertools import count
from typing import Any
from urllib.parse import urlsplit

from praisonai.persistence.conversation._postgres_driver import libpq_options
from praisonai.persistence.conversation._sql_statements import MYSQL, POSTGRES, ConversationStatements
from praisonai.persistence.conversation.config import MySqlConversationConfig, PostgresConversationConfig
from praisonai.persistence.registry import CONVERSATION_STORES

from ._conversation import (
    SESSION_ID,
    Statements,
    bulk_rows,
    check_same,
    decode_rows,
    format_mark,
    messages,
    numeric_mark,
    raw_rows,
    session,
    stored_row,
    write_rows,
)
from ._harness import Options, Row, Skip, interleaved, latency_of, latency_row, median, rate_row, verdict

PREFIX = "praison_"
CACHE_VERSION = "v1"
FLAT_FACTOR = 1.5
MIN_RATIO = 0.9  # issue 17: every ratio against a raw driver at least 0.9
_MYSQL_SETUP = "SET SESSION sql_mode = 'STRICT_ALL_TABLES,NO_ENGINE_SUBSTITUTION'"


def _reachable(url: str, port: int, name: str) -> None:
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or port), timeout=1.0):
            return
    except OSError as error:
        raise Skip(f"{name} is not reachable at {parts.hostname}:{parts.port or port} ({error})") from None


def _async_latency_of(call: Callable[[], Awaitable[object]], calls: int) -> Callable[[], Awaitable[float]]:
    """The asyncio twin of :func:`latency_of`."""

    async def run() -> float:
        times = []
        for _ in range(calls):
            start = time.perf_counter()
            await call()
            times.append(time.perf_counter() - start)
        return median(times)

    return run


def _flatness(suite: str, options: Options, samples: dict[str, list[float]]) -> list[Row]:
    rows = [
        latency_row(
            suite,
            f"get_messages(limit=50), session of {size:,}",
            {"ours": samples[f"ours-{size}"], "raw": samples[f"raw-{size}"]},
        )
        for size in (options.small, options.large)
    ]
    small, large = median(samples[f"ours-{options.small}"]), median(samples[f"ours-{options.large}"])
    rows.append(
        Row(
            suite,
            f"get_messages(limit=50): {options.large:,} vs {options.small:,} messages",
            f"{large / small:.2f}x, {large * 1e3:.3f} ms",
            target=f"<= {FLAT_FACTOR}x apart",
            verdict=verdict(large / small <= FLAT_FACTOR),
            values={"small_s": small, "large_s": large},
        )
    )
    return rows


def _cache_name(options: Options, size: int) -> str:
    return f"praisonai_bench_{size}_{CACHE_VERSION}" + (f"_quick{os.getpid()}" if options.quick else "")


# -- PostgreSQL ------------------------------------------------------------------------------------------------------


def _postgres_ddl(schema: str) -> tuple[str, ...]:
    q = f'"{schema}".'
    return (
        f'CREATE SCHEMA IF NOT EXISTS "{schema}"',
        f"CREATE TABLE IF NOT EXISTS {q}praison_sessions (session_id TEXT NOT NULL PRIMARY KEY, user_id TEXT, "
        "agent_id TEXT, name TEXT, state TEXT, metadata TEXT, created_at DOUBLE PRECISION NOT NULL, "
        "updated_at DOUBLE PRECISION NOT NULL)",
        f"CREATE INDEX IF NOT EXISTS praison_sessions_by_updated ON {q}praison_sessions (updated_at)",
        f"CREATE INDEX IF NOT EXISTS praison_sessions_by_user ON {q}praison_sessions (user_id, updated_at)",
        f"CREATE INDEX IF NOT EXISTS praison_sessions_by_agent ON {q}praison_sessions (agent_id, updated_at)",
        f"CREATE TABLE IF NOT EXISTS {q}praison_messages (seq BIGSERIAL PRIMARY KEY, id TEXT NOT NULL, "
        "session_id TEXT NOT NULL, role TEXT NOT NULL, content TEXT NOT NULL, tool_calls TEXT, tool_call_id TEXT, "
        "metadata TEXT, created_at DOUBLE PRECISION NOT NULL, FOREIGN KEY (session_id) REFERENCES "
        f"{q}praison_sessions (session_id) ON DELETE CASCADE, UNIQUE (session_id, id))",
        f"CREATE INDEX IF NOT EXISTS praison_messages_by_time ON {q}praison_messages (session_id, created_at, seq)",
    )


def _postgres_statements(schema: str, mark: Callable[[int], str]) -> Statements:
    return Statements(f'"{schema}".praison_sessions', f'"{schema}".praison_messages', mark)


def _check_postgres(schema: str) -> None:
    for paramstyle, mark in (("format", format_mark), ("numeric", numeric_mark)):
        ours = ConversationStatements(POSTGRES, PREFIX, schema, paramstyle)  # type: ignore[arg-type]
        check_same(ours, _postgres_statements(schema, mark))
        if ours.schema != _postgres_ddl(schema):
            raise AssertionError("the raw PostgreSQL schema differs from ours")


class _Postgres:
    """Administration (schemas, bulk loads) over one psycopg connection."""

    def __init__(self, options: Options) -> None:
        _reachable(options.postgres_url, 5432, "PostgreSQL")
        import psycopg

        self.psycopg = psycopg
        self.url = options.postgres_url
        self.config = PostgresConversationConfig.from_options(options.postgres_url)
        self.admin = self.connect()

    def connect(self) -> Any:
        """A connection with exactly the settings of the postgres store's pool (its own ``libpq_options``)."""
        return self.psycopg.connect(
            autocommit=True,
            prepare_threshold=5 if self.config.prepared_statements else None,
            **libpq_options(self.config),
        )

    def drop(self, schema: str) -> None:
        try:
            self.admin.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        except self.psycopg.OperationalError:  # the server restarted meanwhile: once more, on a new connection
            self.admin = self.connect()
            self.admin.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')

    def cached(self, options: Options, size: int) -> str:
        schema = _cache_name(options, size)
        try:
            (found,) = self.admin.execute(f'SELECT count(*) FROM "{schema}".praison_messages').fetchone()
        except self.psycopg.errors.UndefinedTable:
            found = -1
        if found == size:
            return schema
        self.drop(schema)
        store = CONVERSATION_STORES.create("postgres", url=self.url, schema=schema)
        store.create_session(session())
        store.close()
        columns = "id, session_id, role, content, tool_calls, tool_call_id, metadata, created_at"
        copy_sql = f'COPY "{schema}".praison_messages ({columns}) FROM STDIN'
        with self.admin.transaction(), self.admin.cursor() as cursor, cursor.copy(copy_sql) as copy:
            for row in bulk_rows(size):
                copy.write_row(row)
        self.admin.execute(f'ANALYZE "{schema}".praison_messages')
        self.admin.execute(f'ANALYZE "{schema}".praison_sessions')
        return schema

    def close(self) -> None:
        self.admin.close()


class _RawDbApi:
    """A DB-API user's transaction on one connection: one cursor, BEGIN / touch / insert / COMMIT.

    psycopg 3 and PyMySQL cursors agree on everything used here (``rowcount`` included).
    """

    connection: Any
    sql: Statements

    def _insert_session(self, cursor: Any) -> None:
        now = time.time()
        session = (SESSION_ID, "bench-user", "bench-agent", "bench", None, None, now, now)
        cursor.execute(self.sql.insert_session, session)

    def _write(self, insert: Callable[[Any], None]) -> None:
        with self.connection.cursor() as cursor:
            cursor.execute("BEGIN")
            try:
                cursor.execute(self.sql.touch, (time.time(), SESSION_ID))
                if cursor.rowcount != 1:
                    raise LookupError(SESSION_ID)
                insert(cursor)
            except BaseException:
                cursor.execute("ROLLBACK")
                raise
            cursor.execute("COMMIT")

    def add_message(self, row: tuple[Any, ...]) -> None:
        self._write(lambda cursor: cursor.execute(self.sql.insert_message, stored_row(row)))

    def add_messages(self, rows: list[tuple[Any, ...]]) -> None:
        stored = [stored_row(row) for row in rows]
        self._write(lambda cursor: cursor.executemany(self.sql.insert_message, stored))

    def last_messages(self, limit: int) -> list[tuple[Any, ...]]:
        with self.connection.cursor() as cursor:
            cursor.execute(self.sql.last_messages, (SESSION_ID, limit))
            rows = cursor.fetchall()  # psycopg: a list; PyMySQL: a tuple
            return decode_rows(rows if isinstance(rows, list) else list(rows))


class RawPsycopg(_RawDbApi):
    """The transaction with psycopg 3."""

    def __init__(self, connection: Any, schema: str, create: bool) -> None:
        self.connection = connection
        self.sql = _postgres_statements(schema, format_mark)
        if create:
            with connection.cursor() as cursor:
                cursor.execute("BEGIN")
                for statement in _postgres_ddl(schema):
                    cursor.execute(statement)
                self._insert_session(cursor)
                cursor.execute("COMMIT")


def run_postgres(options: Options) -> list[Row]:
    admin = _Postgres(options)
    pid = os.getpid()
    ours_schema, raw_schema = f"bench_ours_{pid}", f"bench_raw_{pid}"
    _check_postgres(ours_schema)
    rows: list[Row] = []
    try:
        ours = CONVERSATION_STORES.create("postgres", url=options.postgres_url, schema=ours_schema)
        ours.create_session(session())
        raw_connection = admin.connect()
        raw = RawPsycopg(raw_connection, raw_schema, create=True)
        rows += write_rows("postgres", options, ours, raw, count(), MIN_RATIO)
        ours.close()
        raw_connection.close()

        runs: dict[str, Callable[[], float]] = {}
        opened: list[Any] = []
        for size in (options.small, options.large):
            schema = admin.cached(options, size)
            store = CONVERSATION_STORES.create("postgres", url=options.postgres_url, schema=schema)
            connection = admin.connect()
            opened += [store, connection]
            reader = RawPsycopg(connection, schema, create=False)
            runs[f"ours-{size}"] = latency_of(partial(store.get_messages, SESSION_ID, limit=50), options.reads)
            runs[f"raw-{size}"] = latency_of(partial(reader.last_messages, 50), options.reads)
        rows += _flatness("postgres", options, interleaved(runs, options.rounds))
        for item in opened:
            item.close()
    finally:
        for schema in (ours_schema, raw_schema):
            admin.drop(schema)
        if options.quick:
            for size in (options.small, options.large):
                admin.drop(_cache_name(options, size))
        admin.close()
    return rows


class RawAsyncpg:
    """An asyncpg user's transaction: ``async with connection.transaction()`` around touch and insert."""

    def __init__(self, connection: Any, schema: str) -> None:
        self.connection = connection
        self.sql = _postgres_statements(schema, numeric_mark)

    async def add_message(self, row: tuple[Any, ...]) -> None:
        connection = self.connection
        async with connection.transaction():
            if await connection.execute(self.sql.touch, time.time(), SESSION_ID) != "UPDATE 1":
                raise LookupError(SESSION_ID)
            await connection.execute(self.sql.insert_message, *stored_row(row))

    async def add_messages(self, rows: list[tuple[Any, ...]]) -> None:
        stored = [stored_row(row) for row in rows]
        connection = self.connection
        async with connection.transaction():
            if await connection.execute(self.sql.touch, time.time(), SESSION_ID) != "UPDATE 1":
                raise LookupError(SESSION_ID)
            await connection.executemany(self.sql.insert_message, stored)

    async def last_messages(self, limit: int) -> list[tuple[Any, ...]]:
        return decode_rows(list(await self.connection.fetch(self.sql.last_messages, SESSION_ID, limit)))


def run_async_postgres(options: Options) -> list[Row]:
    admin = _Postgres(options)
    import asyncpg  # type: ignore[import-untyped]

    config = admin.config
    pid = os.getpid()
    ours_schema, raw_schema = f"bench_aours_{pid}", f"bench_araw_{pid}"
    _check_postgres(ours_schema)
    # The raw side's tables: created with psycopg, exactly as the sync raw side does.
    RawPsycopg(admin.admin, raw_schema, create=True)
    loop = asyncio.new_event_loop()
    tags = count()

    async def connect() -> Any:
        """A connection with exactly the settings of the async_postgres store's pool."""
        return await asyncpg.connect(
            host=config.host,
            port=config.port,
            user=config.user,
            password=None if config.password is None else config.password.get_secret_value(),
            database=config.database,
            ssl=config.sslmode,
            timeout=config.connect_timeout,
            statement_cache_size=100 if config.prepared_statements else 0,
            server_settings={"application_name": config.application_name},
        )

    def sync(make: Callable[[], Awaitable[float]]) -> Callable[[], float]:
        return lambda: loop.run_until_complete(make())

    rows: list[Row] = []
    closing: list[Callable[[], Awaitable[None]]] = []
    try:
        ours = CONVERSATION_STORES.create("async_postgres", url=options.postgres_url, schema=ours_schema)
        closing.append(ours.close)
        loop.run_until_complete(ours.create_session(session()))
        raw_connection = loop.run_until_complete(connect())
        closing.append(raw_connection.close)
        raw = RawAsyncpg(raw_connection, raw_schema)

        async def ours_add_message() -> float:
            batch = messages(options.messages, f"o{next(tags)}", time.time())
            start = time.perf_counter()
            for item in batch:
                await ours.add_message(SESSION_ID, item)
            return time.perf_counter() - start

        async def raw_add_message() -> float:
            batch = raw_rows(messages(options.messages, f"r{next(tags)}", time.time()))
            start = time.perf_counter()
            for row in batch:
                await raw.add_message(row)
            return time.perf_counter() - start

        async def ours_add_messages() -> float:
            batches = [messages(options.batch, f"o{next(tags)}", time.time()) for _ in range(options.batches)]
            start = time.perf_counter()
            for batch in batches:
                await ours.add_messages(SESSION_ID, batch)
            return time.perf_counter() - start

        async def raw_add_messages() -> float:
            batches = [raw_rows(messages(options.batch, f"r{next(tags)}", time.time())) for _ in range(options.batches)]
            start = time.perf_counter()
            for batch in batches:
                await raw.add_messages(batch)
            return time.perf_counter() - start

        one = interleaved({"ours": sync(ours_add_message), "raw": sync(raw_add_message)}, options.rounds)
        many = interleaved({"ours": sync(ours_add_messages), "raw": sync(raw_add_messages)}, options.rounds)
        rows += [
            rate_row("async_postgres", "add_message, one per transaction", one, options.messages, "msg/s", MIN_RATIO),
            rate_row(
                "async_postgres",
                f"add_messages, batches of {options.batch:,}",
                many,
                options.batch * options.batches,
                "msg/s",
                MIN_RATIO,
            ),
        ]

        runs: dict[str, Callable[[], float]] = {}
        for size in (options.small, options.large):
            schema = admin.cached(options, size)
            store = CONVERSATION_STORES.create("async_postgres", url=options.postgres_url, schema=schema)
            closing.append(store.close)
            connection = loop.run_until_complete(connect())
            closing.append(connection.close)
            reader = RawAsyncpg(connection, schema)
            runs[f"ours-{size}"] = sync(
                _async_latency_of(partial(store.get_messages, SESSION_ID, limit=50), options.reads)
            )
            runs[f"raw-{size}"] = sync(_async_latency_of(partial(reader.last_messages, 50), options.reads))
        rows += _flatness("async_postgres", options, interleaved(runs, options.rounds))
    finally:
        for close in closing:
            loop.run_until_complete(close())
        loop.close()
        for schema in (ours_schema, raw_schema):
            admin.drop(schema)
        if options.quick:
            for size in (options.small, options.large):
                admin.drop(_cache_name(options, size))
        admin.close()
    return rows


# -- MySQL / MariaDB -------------------------------------------------------------------------------------------------

_MYSQL_ID = "VARCHAR(255) CHARACTER SET utf8mb4 COLLATE {collation}"


def _mysql_ddl(collation: str) -> tuple[str, ...]:
    ident = _MYSQL_ID.format(collation=collation)
    return (
        f"CREATE TABLE IF NOT EXISTS praison_sessions (session_id {ident} NOT NULL PRIMARY KEY, user_id {ident}, "
        f"agent_id {ident}, name LONGTEXT, state LONGTEXT, metadata LONGTEXT, created_at DOUBLE NOT NULL, "
        "updated_at DOUBLE NOT NULL, KEY praison_sessions_by_updated (updated_at), KEY praison_sessions_by_user "
        "(user_id, updated_at), KEY praison_sessions_by_agent (agent_id, updated_at)) "
        "ENGINE=InnoDB DEFAULT CHARSET=utf8mb4",
        "CREATE TABLE IF NOT EXISTS praison_messages (seq BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY, "
        f"id {ident} NOT NULL, session_id {ident} NOT NULL, role {ident} NOT NULL, content LONGTEXT NOT NULL, "
        "tool_calls LONGTEXT, "
        f"tool_call_id {ident}, metadata LONGTEXT, created_at DOUBLE NOT NULL, FOREIGN KEY (session_id) REFERENCES "
        "praison_sessions (session_id) ON DELETE CASCADE, UNIQUE (session_id, id), KEY praison_messages_by_time "
        "(session_id, created_at, seq)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4",
    )


class _MySql:
    def __init__(self, options: Options) -> None:
        _reachable(options.mysql_url, 3306, "MariaDB/MySQL")
        import pymysql  # type: ignore[import-untyped]

        self.pymysql = pymysql
        self.url = options.mysql_url
        self.config = MySqlConversationConfig.from_options(options.mysql_url)
        self.admin = self.connect(None)

    def connect(self, database: str | None) -> Any:
        """A connection with exactly the settings of the mysql store's pool (TLS: ``preferred``)."""
        c = self.config
        return self.pymysql.connect(
            host=c.host,
            port=c.port,
            user=c.user,
            password=None if c.password is None else c.password.get_secret_value(),
            database=database,
            charset="utf8mb4",
            autocommit=True,
            client_flag=self.pymysql.constants.CLIENT.FOUND_ROWS,
            connect_timeout=c.connect_timeout,
            init_command=_MYSQL_SETUP,
        )

    def execute(self, sql: str, params: Any = None) -> list[Any]:
        with self.admin.cursor() as cursor:
            cursor.execute(sql, params)
            return list(cursor.fetchall())

    def create_database(self, name: str) -> None:
        self.execute(f"CREATE DATABASE IF NOT EXISTS `{name}` CHARACTER SET utf8mb4")

    def drop(self, name: str) -> None:
        try:
            self.execute(f"DROP DATABASE IF EXISTS `{name}`")
        except self.pymysql.err.OperationalError:  # the server restarted meanwhile: once more, on a new connection
            self.admin = self.connect(None)
            self.execute(f"DROP DATABASE IF EXISTS `{name}`")

    def id_collation(self) -> str:
        """The id collation the store picks on this server (the same probe, the same preference)."""
        preferred = ("utf8mb4_0900_bin", "utf8mb4_nopad_bin")
        rows = self.execute(
            "SELECT COLLATION_NAME FROM information_schema.COLLATIONS WHERE COLLATION_NAME IN (%s, %s)", preferred
        )
        found = {row[0] for row in rows}
        return next((name for name in preferred if name in found), "utf8mb4_bin")

    def store(self, database: str) -> Any:
        return CONVERSATION_STORES.create("mysql", url=self.url, database=database)

    def table_ddl(self, database: str) -> list[str]:
        out = []
        for table in ("praison_sessions", "praison_messages"):
            (row,) = self.execute(f"SHOW CREATE TABLE `{database}`.`{table}`")
            out.append(" ".join(part for part in row[1].split() if not part.startswith("AUTO_INCREMENT=")))
        return out

    def cached(self, options: Options, size: int) -> str:
        database = _cache_name(options, size)
        try:
            ((found,),) = self.execute(f"SELECT count(*) FROM `{database}`.praison_messages")
        except self.pymysql.err.ProgrammingError:
            found = -1
        if found == size:
            return database
        self.drop(database)
        self.create_database(database)
        store = self.store(database)
        store.create_session(session())
        store.close()
        statements = Statements(f"`{database}`.praison_sessions", f"`{database}`.praison_messages", format_mark)
        chunk: list[tuple[Any, ...]] = []
        with self.admin.cursor() as cursor:
            for row in bulk_rows(size):
                chunk.append(row)
                if len(chunk) == 5_000:
                    cursor.execute("BEGIN")
                    cursor.executemany(statements.insert_message, chunk)
                    cursor.execute("COMMIT")
                    chunk = []
            if chunk:
                cursor.executemany(statements.insert_message, chunk)
            cursor.execute(f"ANALYZE TABLE `{database}`.praison_messages, `{database}`.praison_sessions")
            cursor.fetchall()
        return database

    def close(self) -> None:
        self.admin.close()


class RawPyMySql(_RawDbApi):
    """The transaction with PyMySQL."""

    def __init__(self, connection: Any, collation: str | None) -> None:
        self.connection = connection
        self.sql = Statements("praison_sessions", "praison_messages", format_mark)
        if collation is not None:
            with connection.cursor() as cursor:
                for statement in _mysql_ddl(collation):
                    cursor.execute(statement)
                self._insert_session(cursor)


def run_mysql(options: Options) -> list[Row]:
    admin = _MySql(options)
    pid = os.getpid()
    ours_db, raw_db = f"bench_ours_{pid}", f"bench_raw_{pid}"
    check_same(ConversationStatements(MYSQL, PREFIX), Statements("praison_sessions", "praison_messages", format_mark))
    rows: list[Row] = []
    try:
        for database in (ours_db, raw_db):
            admin.create_database(database)
        ours = admin.store(ours_db)
        ours.create_session(session())
        collation = admin.id_collation()
        raw_connection = admin.connect(raw_db)
        raw = RawPyMySql(raw_connection, collation)
        if admin.table_ddl(ours_db) != admin.table_ddl(raw_db):
            raise AssertionError("the raw MariaDB tables differ from ours")
        rows += write_rows("mysql", options, ours, raw, count(), MIN_RATIO)
        ours.close()
        raw_connection.close()

        runs: dict[str, Callable[[], float]] = {}
        opened: list[Any] = []
        for size in (options.small, options.large):
            database = admin.cached(options, size)
            store = admin.store(database)
            connection = admin.connect(database)
            opened += [store, connection]
            reader = RawPyMySql(connection, None)
            runs[f"ours-{size}"] = latency_of(partial(store.get_messages, SESSION_ID, limit=50), options.reads)
            runs[f"raw-{size}"] = latency_of(partial(reader.last_messages, 50), options.reads)
        rows += _flatness("mysql", options, interleaved(runs, options.rounds))
        for item in opened:
            item.close()
    finally:
        for database in (ours_db, raw_db):
            admin.drop(database)
        if options.quick:
            for size in (options.small, options.large):
                admin.drop(_cache_name(options, size))
        admin.close()
    return rows
