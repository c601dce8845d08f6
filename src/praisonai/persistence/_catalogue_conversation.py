"""The catalogue's rows of the built-in conversation stores: SQL engines, SQLite, JSON files, hosted services.

One row per backend: see :class:`~praisonai.persistence._catalogue_row.BuiltinBackend`
for what each field means and ``_catalogue.py`` for the whole table.
"""

from __future__ import annotations

from ._catalogue_row import BuiltinBackend, row_maker
from ._catalogue_row import P as _P

_conversation = row_maker("conversation")

CONVERSATION: tuple[BuiltinBackend, ...] = (
    _conversation(
        name="async_mysql",
        config=f"{_P}.conversation.configs.servers:AsyncMySqlConversationConfig",
        adapter=f"{_P}.conversation.async_mysql:AsyncMySqlConversationStore",
        summary="MySQL / MariaDB through aiomysql; same schema and statements as mysql",
        tier="server",
        tested_with="MariaDB 10.11 on loopback (a fresh database per test); MySQL proper is not exercised",
        aliases=("aiomysql", "mysql_async"),
        extra="mysql",
        requirements=("aiomysql>=0.2",),
        drivers=("aiomysql", "pymysql"),
        is_async=True,
    ),
    _conversation(
        name="async_postgres",
        config=f"{_P}.conversation.configs.servers:AsyncPostgresConversationConfig",
        adapter=f"{_P}.conversation.async_postgres:AsyncPostgresConversationStore",
        summary="PostgreSQL through asyncpg; same schema and statements as postgres",
        tier="server",
        tested_with="PostgreSQL 15 on loopback (a fresh schema per test)",
        aliases=("asyncpg", "postgres_async"),
        extra="postgres",
        requirements=("asyncpg>=0.29",),
        drivers=("asyncpg",),
        is_async=True,
    ),
    _conversation(
        name="async_sqlite",
        config=f"{_P}.conversation.configs.local:AsyncSqliteConversationConfig",
        adapter=f"{_P}.conversation.async_sqlite:AsyncSqliteConversationStore",
        summary="SQLite from the standard library on a worker thread; same schema and statements as sqlite",
        tier="embedded",
        tested_with="SQLite files in a temporary directory",
        aliases=("aiosqlite", "sqlite_async"),
        is_async=True,
    ),
    _conversation(
        name="json",
        config=f"{_P}.conversation.configs.local:JsonConversationConfig",
        adapter=f"{_P}.conversation.json:JsonConversationStore",
        summary="A directory of JSON files: atomic writes, append-only message logs, file locks (POSIX)",
        tier="embedded",
        tested_with="files in a temporary directory, threads, several processes and SIGKILLed writers",
    ),
    _conversation(
        name="mysql",
        config=f"{_P}.conversation.configs.servers:MySqlConversationConfig",
        adapter=f"{_P}.conversation.mysql:MySqlConversationStore",
        summary="MySQL / MariaDB through PyMySQL, utf8mb4 end to end, pooled connections",
        tier="server",
        tested_with="MariaDB 10.11 on loopback (a fresh database per test); MySQL proper is not exercised",
        extra="mysql",
        requirements=("PyMySQL>=1.1",),
        drivers=("pymysql",),
    ),
    _conversation(
        name="postgres",
        config=f"{_P}.conversation.configs.servers:PostgresConversationConfig",
        adapter=f"{_P}.conversation.postgres:PostgresConversationStore",
        summary="PostgreSQL (and CockroachDB, Neon, Xata) through psycopg 3, pooled connections",
        tier="server",
        tested_with="PostgreSQL 15 on loopback (a fresh schema per test); CockroachDB, Neon, Xata not exercised",
        aliases=("neon", "cockroachdb", "crdb", "cockroach", "xata"),
        extra="postgres",
        requirements=("psycopg[binary]>=3.1",),
        drivers=("psycopg",),
    ),
    _conversation(
        name="singlestore",
        config=f"{_P}.conversation.configs.servers:SingleStoreConversationConfig",
        adapter=f"{_P}.conversation.singlestore:SingleStoreConversationStore",
        summary="SingleStore through singlestoredb; mysql's statements, sharded tables without foreign keys",
        tier="emulator",
        tested_with=(
            "MariaDB 10.11 on loopback standing in for SingleStore over the MySQL protocol (driver, statements, "
            "control flow); SingleStore itself and its table layout are not exercised"
        ),
        extra="singlestore",
        requirements=("singlestoredb>=1.0",),
        drivers=("singlestoredb",),
    ),
    _conversation(
        name="sqlite",
        config=f"{_P}.conversation.configs.local:SqliteConversationConfig",
        adapter=f"{_P}.conversation.sqlite:SqliteConversationStore",
        summary="SQLite from the standard library (the embedded default)",
        tier="embedded",
        tested_with="SQLite files in a temporary directory",
    ),
    _conversation(
        name="supabase",
        config=f"{_P}.conversation.configs.servers:SupabaseConversationConfig",
        adapter=f"{_P}.conversation.supabase:SupabaseConversationStore",
        summary="Supabase through its Python client (PostgREST over HTTPS); postgres' tables",
        tier="wire",
        tested_with="an HTTP stand-in of PostgREST (tests/support) backed by the real PostgreSQL 15; not Supabase",
        extra="supabase",
        requirements=("supabase>=2.0",),
        drivers=("supabase",),
    ),
    _conversation(
        name="surrealdb",
        config=f"{_P}.conversation.configs.surreal:SurrealDbConversationConfig",
        adapter=f"{_P}.conversation.surrealdb:SurrealDbConversationStore",
        summary="SurrealDB through the official SDK: embedded (mem://, surrealkv://) or a ws:// / http:// server",
        tier="embedded",
        tested_with="the SDK's embedded engine (mem:// and surrealkv:// directories); no SurrealDB server",
        extra="surrealdb",
        requirements=("surrealdb>=2.0",),
        drivers=("surrealdb",),
    ),
    _conversation(
        name="sync_sqlite",
        config=f"{_P}.conversation.configs.sync_sqlite:SyncSqliteConversationConfig",
        adapter=f"{_P}.conversation.sync_sqlite:SyncSQLiteConversationStore",
        summary="PraisonAI's second name for sqlite: the same store, schema and files",
        tier="embedded",
        tested_with="SQLite files in a temporary directory",
        aliases=("sqlite_sync",),
    ),
    _conversation(
        name="turso",
        config=f"{_P}.conversation.configs.local:TursoConversationConfig",
        adapter=f"{_P}.conversation.turso:TursoConversationStore",
        summary="libSQL: a local file, a remote Turso database or an embedded replica; sqlite's statements",
        tier="embedded",
        tested_with="local libSQL files; remote Turso and embedded replicas are not exercised",
        aliases=("libsql",),
        extra="turso",
        requirements=("libsql>=0.1.11",),
        drivers=("libsql",),
    ),
)
