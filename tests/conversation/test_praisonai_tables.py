"""PraisonAI 4.7.19's conversation tables open here with the same arguments, upgraded in place.

The data is tests/fixtures/praisonai_4_7_19 (written by PraisonAI itself): the SQLite files
are copied to a temporary directory, the PostgreSQL and MySQL dumps loaded into a schema or
database of the test's own. Each test reads PraisonAI's rows raw first, then compares every
session and message our store returns with them; the schema version is checked, reopening
must change nothing, and two stores racing to open the same tables must both work.
"""

from __future__ import annotations

import asyncio
import sqlite3
import subprocess
import sys
import textwrap
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from praisonai.persistence.conversation._praisonai_schema import SCHEMA_VERSION
from praisonai.persistence.conversation.base import AsyncConversationStore, ConversationStore
from praisonai.persistence.errors import EngineError
from praisonai.persistence.registry import CONVERSATION_STORES
from tests.support.praisonai_fixtures import (
    MANIFEST,
    T0,
    Stored,
    check_against_manifest,
    copy_fixture,
    load_mysql_dump,
    load_postgres_dump,
)
from tests.support.sql_servers import mysql_execute, postgres_execute

# -- checks shared by every engine --------------------------------------------------------------------------------


def _check(store: ConversationStore, stored: Stored) -> None:
    for session_id, session in stored.sessions.items():
        assert store.get_session(session_id) == session
        assert store.get_messages(session_id) == stored.messages[session_id]
    newest_first = sorted(stored.sessions.values(), key=lambda s: s.updated_at, reverse=True)
    assert [s.session_id for s in store.list_sessions()] == [s.session_id for s in newest_first]


def _check_then_close(store: ConversationStore, stored: Stored) -> None:
    try:
        _check(store, stored)
    finally:
        store.close()


def _check_async(store: AsyncConversationStore, stored: Stored) -> None:
    """The same reads on an async store (which upgrades on its first call), then close it."""

    async def main() -> None:
        try:
            for session_id, session in stored.sessions.items():
                assert await store.get_session(session_id) == session
                assert await store.get_messages(session_id) == stored.messages[session_id]
            assert len(await store.list_sessions()) == len(stored.sessions)
        finally:
            await store.close()

    asyncio.run(main())


def _check_fixture_facts(store: ConversationStore, section: str) -> None:
    """What the fixture README says PraisonAI stored, independent of the raw read."""
    alice = store.get_session("sess-alice-001")
    assert alice is not None and alice.state == {"step": 4, "locale": "fr-FR"}
    assert alice.created_at == T0 and alice.updated_at == T0 + 30
    call = store.get_messages("sess-alice-001")[2]
    assert call.content == "" and call.tool_calls is not None
    assert call.tool_calls[0]["function"]["name"] == "get_weather"
    assert store.get_messages("sess-alice-001")[3].tool_call_id == "call_weather_1"
    assert [m.id for m in store.get_messages("sess-bob-002", limit=2)] == ["sess-bob-002-m028", "sess-bob-002-m029"]
    carol = store.get_session("sess-carol-003")
    assert carol is not None and carol.metadata == (None if section == "mysql" else {})
    assert store.get_messages("sess-carol-003")[2].content == ""
    # The upgraded tables take new writes under our contract.
    store.delete_messages("sess-bob-002", [])
    assert len(store.get_messages("sess-bob-002")) == MANIFEST[section]["sessions"]["sess-bob-002"]["messages"]


def _race(open_store: Callable[[], Any], count: int = 2) -> None:
    """Open ``count`` stores at the same moment, each in its own thread; every one must succeed."""
    barrier = threading.Barrier(count)
    errors: list[BaseException] = []

    def one() -> None:
        try:
            barrier.wait()
            store = open_store()
            store.close()
        except BaseException as error:  # reported below
            errors.append(error)

    threads = [threading.Thread(target=one) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []


# -- SQLite -------------------------------------------------------------------------------------------------------


def _sqlite_stored(path: Path) -> Stored:
    with sqlite3.connect(path) as connection:
        return Stored(lambda sql: connection.execute(sql).fetchall())


def _versions(path: Path) -> list[tuple[Any, ...]]:
    with sqlite3.connect(path) as connection:
        return connection.execute("SELECT version, applied_at, note FROM praison_schema_version").fetchall()


@pytest.fixture
def sqlite_copy(tmp_path: Path) -> Path:
    return copy_fixture("sqlite/conversations.db", tmp_path)


def test_sqlite_tables_are_upgraded_with_every_record(sqlite_copy: Path) -> None:
    stored = _sqlite_stored(sqlite_copy)
    check_against_manifest(stored, "sqlite")
    store = CONVERSATION_STORES.create("sqlite", path=str(sqlite_copy), table_prefix="praison_")
    try:
        _check(store, stored)
        _check_fixture_facts(store, "sqlite")
        assert [s.session_id for s in store.list_sessions()] == MANIFEST["sqlite"]["readback"]["list_sessions_order"]
    finally:
        store.close()
    versions = _versions(sqlite_copy)
    assert [(v, note) for v, _, note in versions] == [(SCHEMA_VERSION, "upgraded from PraisonAI 4.7 tables")]
    with sqlite3.connect(sqlite_copy) as connection:
        tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert tables == {"praison_sessions", "praison_messages", "praison_schema_version"}


def test_reopening_changes_nothing(sqlite_copy: Path) -> None:
    stored = _sqlite_stored(sqlite_copy)
    CONVERSATION_STORES.create("sqlite", path=str(sqlite_copy)).close()
    versions = _versions(sqlite_copy)
    _check_then_close(CONVERSATION_STORES.create("sqlite", path=str(sqlite_copy)), stored)
    assert _versions(sqlite_copy) == versions


def test_async_sqlite_upgrades_the_same_tables(sqlite_copy: Path) -> None:
    pytest.importorskip("aiosqlite")
    stored = _sqlite_stored(sqlite_copy)
    store = CONVERSATION_STORES.create("async_sqlite", path=str(sqlite_copy))
    _check_async(store, stored)
    assert [v for v, _, _ in _versions(sqlite_copy)] == [SCHEMA_VERSION]


def test_turso_local_file_upgrades_the_same_tables(sqlite_copy: Path) -> None:
    pytest.importorskip("libsql")
    stored = _sqlite_stored(sqlite_copy)
    _check_then_close(CONVERSATION_STORES.create("turso", path=str(sqlite_copy)), stored)
    assert [v for v, _, _ in _versions(sqlite_copy)] == [SCHEMA_VERSION]


def test_orchestrator_database_is_upgraded(tmp_path: Path) -> None:
    path = copy_fixture("sqlite/orchestrator.db", tmp_path)
    stored = _sqlite_stored(path)
    facts = MANIFEST["orchestrator_sqlite"]
    assert len(stored.messages[facts["session_id"]]) == facts["messages"]
    store = CONVERSATION_STORES.create("sqlite", path=str(path))
    try:
        _check(store, stored)
        session = store.get_session(facts["session_id"])
        assert session is not None and (session.user_id, session.agent_id) == (facts["user_id"], facts["agent_id"])
        assert session.metadata == {"agent_type": "FixtureAgent", "turns": 1}
    finally:
        store.close()


def test_two_stores_racing_to_upgrade_sqlite(sqlite_copy: Path) -> None:
    stored = _sqlite_stored(sqlite_copy)
    _race(lambda: CONVERSATION_STORES.create("sqlite", path=str(sqlite_copy)), count=3)
    assert [v for v, _, _ in _versions(sqlite_copy)] == [SCHEMA_VERSION]
    _check_then_close(CONVERSATION_STORES.create("sqlite", path=str(sqlite_copy)), stored)


_OPENER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from praisonai.persistence.registry import CONVERSATION_STORES
    print("ready", flush=True)
    while not Path(sys.argv[2]).exists():
        time.sleep(0.001)
    CONVERSATION_STORES.create("sqlite", path=sys.argv[1]).close()
    print("opened", flush=True)
    """
)


def test_two_processes_racing_to_upgrade_sqlite(sqlite_copy: Path, tmp_path: Path) -> None:
    stored = _sqlite_stored(sqlite_copy)
    go = tmp_path / "go"
    children = [
        subprocess.Popen([sys.executable, "-c", _OPENER, str(sqlite_copy), str(go)], stdout=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    for child in children:
        assert child.stdout is not None and child.stdout.readline().strip() == "ready"
    go.touch()
    outputs = [child.communicate(timeout=120)[0] for child in children]
    assert [child.returncode for child in children] == [0, 0] and all("opened" in out for out in outputs)
    assert [v for v, _, _ in _versions(sqlite_copy)] == [SCHEMA_VERSION]
    _check_then_close(CONVERSATION_STORES.create("sqlite", path=str(sqlite_copy)), stored)


def test_an_interrupted_upgrade_is_finished_by_the_next_open(sqlite_copy: Path) -> None:
    """The state a MySQL upgrade leaves when it dies after dropping PraisonAI's messages table."""
    stored = _sqlite_stored(sqlite_copy)
    with sqlite3.connect(sqlite_copy) as connection:
        connection.execute("CREATE TABLE praison_sessions_praisonai AS SELECT * FROM praison_sessions")
        connection.execute("CREATE TABLE praison_messages_praisonai AS SELECT * FROM praison_messages")
        connection.execute("DROP TABLE praison_messages")
    _check_then_close(CONVERSATION_STORES.create("sqlite", path=str(sqlite_copy)), stored)


def test_a_newer_schema_version_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "new.db"
    CONVERSATION_STORES.create("sqlite", path=str(path)).close()
    assert [v for v, _, _ in _versions(path)] == [SCHEMA_VERSION]
    with sqlite3.connect(path) as connection:
        connection.execute("INSERT INTO praison_schema_version VALUES (?, 0, 'future')", (SCHEMA_VERSION + 1,))
    with pytest.raises(EngineError, match="newer praisonai-persistence"):
        CONVERSATION_STORES.create("sqlite", path=str(path))


def test_other_prefixes_are_left_alone(sqlite_copy: Path) -> None:
    store = CONVERSATION_STORES.create("sqlite", path=str(sqlite_copy), table_prefix="ours_")
    try:
        assert store.list_sessions() == []
    finally:
        store.close()
    with sqlite3.connect(sqlite_copy) as connection:
        columns = {row[1] for row in connection.execute("PRAGMA table_info(praison_messages)")}
    assert "seq" not in columns  # PraisonAI's table, untouched


# -- PostgreSQL ---------------------------------------------------------------------------------------------------


@pytest.fixture
def pg_praisonai(postgres_url: str, pg_schema: str) -> Stored:
    load_postgres_dump(postgres_url, pg_schema)
    stored = Stored(lambda sql: postgres_execute(postgres_url, sql), prefix=f"{pg_schema}.praison_")
    check_against_manifest(stored, "postgres")
    return stored


def _pg_versions(url: str, schema: str) -> list[tuple[Any, ...]]:
    return postgres_execute(url, f"SELECT version, applied_at, note FROM {schema}.praison_schema_version")


def test_postgres_tables_are_upgraded_with_every_record(
    postgres_url: str, pg_schema: str, pg_praisonai: Stored
) -> None:
    store = CONVERSATION_STORES.create("postgres", url=postgres_url, schema=pg_schema, table_prefix="praison_")
    try:
        _check(store, pg_praisonai)
        _check_fixture_facts(store, "postgres")
    finally:
        store.close()
    versions = _pg_versions(postgres_url, pg_schema)
    assert [v for v, _, _ in versions] == [SCHEMA_VERSION]
    CONVERSATION_STORES.create("postgres", url=postgres_url, schema=pg_schema).close()
    assert _pg_versions(postgres_url, pg_schema) == versions


def test_async_postgres_upgrades_the_same_tables(postgres_url: str, pg_schema: str, pg_praisonai: Stored) -> None:
    pytest.importorskip("asyncpg")
    store = CONVERSATION_STORES.create("async_postgres", url=postgres_url, schema=pg_schema)
    _check_async(store, pg_praisonai)
    assert [v for v, _, _ in _pg_versions(postgres_url, pg_schema)] == [SCHEMA_VERSION]


def test_two_stores_racing_to_upgrade_postgres(postgres_url: str, pg_schema: str, pg_praisonai: Stored) -> None:
    _race(lambda: CONVERSATION_STORES.create("postgres", url=postgres_url, schema=pg_schema, pool_size=1), count=3)
    assert [v for v, _, _ in _pg_versions(postgres_url, pg_schema)] == [SCHEMA_VERSION]
    _check_then_close(CONVERSATION_STORES.create("postgres", url=postgres_url, schema=pg_schema), pg_praisonai)


# -- MySQL --------------------------------------------------------------------------------------------------------


@pytest.fixture
def mysql_praisonai(mysql_db_url: str) -> Stored:
    load_mysql_dump(mysql_db_url)
    stored = Stored(lambda sql: mysql_execute(mysql_db_url, sql.replace("FROM ", f"FROM `{_db(mysql_db_url)}`.")))
    check_against_manifest(stored, "mysql")
    return stored


def _db(url: str) -> str:
    return url.rsplit("/", 1)[1]


def _mysql_versions(url: str) -> list[tuple[Any, ...]]:
    return mysql_execute(url, f"SELECT version, applied_at, note FROM `{_db(url)}`.praison_schema_version")


def test_mysql_tables_are_upgraded_with_every_record(mysql_db_url: str, mysql_praisonai: Stored) -> None:
    store = CONVERSATION_STORES.create("mysql", url=mysql_db_url, table_prefix="praison_")
    try:
        _check(store, mysql_praisonai)
        _check_fixture_facts(store, "mysql")
    finally:
        store.close()
    versions = _mysql_versions(mysql_db_url)
    assert [v for v, _, _ in versions] == [SCHEMA_VERSION]
    tables = {row[0] for row in mysql_execute(mysql_db_url, f"SHOW TABLES FROM `{_db(mysql_db_url)}`")}
    assert tables == {"praison_sessions", "praison_messages", "praison_schema_version"}
    CONVERSATION_STORES.create("mysql", url=mysql_db_url).close()
    assert _mysql_versions(mysql_db_url) == versions


def test_async_mysql_upgrades_the_same_tables(mysql_db_url: str, mysql_praisonai: Stored) -> None:
    pytest.importorskip("aiomysql")
    store = CONVERSATION_STORES.create("async_mysql", url=mysql_db_url)
    _check_async(store, mysql_praisonai)
    assert [v for v, _, _ in _mysql_versions(mysql_db_url)] == [SCHEMA_VERSION]


def test_two_stores_racing_to_upgrade_mysql(mysql_db_url: str, mysql_praisonai: Stored) -> None:
    _race(lambda: CONVERSATION_STORES.create("mysql", url=mysql_db_url, pool_size=1), count=3)
    assert [v for v, _, _ in _mysql_versions(mysql_db_url)] == [SCHEMA_VERSION]
    _check_then_close(CONVERSATION_STORES.create("mysql", url=mysql_db_url), mysql_praisonai)


def test_rows_praisonai_allowed_but_we_do_not_are_kept(tmp_path: Path) -> None:
    """PraisonAI's async_sqlite DDL (INVENTORY.md 4.1) lets a message lack a session, a role or content."""
    path = tmp_path / "async.db"
    with sqlite3.connect(path) as connection:
        connection.executescript(
            """
            CREATE TABLE praison_sessions (session_id TEXT PRIMARY KEY, user_id TEXT, agent_id TEXT, name TEXT,
              state TEXT, metadata TEXT, created_at REAL, updated_at REAL);
            CREATE TABLE praison_messages (id TEXT PRIMARY KEY, session_id TEXT REFERENCES
              praison_sessions(session_id) ON DELETE CASCADE, role TEXT, content TEXT, tool_calls TEXT,
              tool_call_id TEXT, metadata TEXT, created_at REAL);
            INSERT INTO praison_sessions VALUES ('s', NULL, NULL, NULL, NULL, NULL, 10.0, 20.0);
            INSERT INTO praison_messages VALUES ('m2', 's', 'user', NULL, NULL, NULL, NULL, 12.0);
            INSERT INTO praison_messages VALUES ('m1', 's', NULL, 'first', NULL, NULL, '{"a": 1}', 11.0);
            INSERT INTO praison_messages VALUES ('a3', 's', 'user', 'same time as m2', NULL, NULL, NULL, 12.0);
            INSERT INTO praison_messages VALUES ('lost', NULL, 'user', 'no session', NULL, NULL, NULL, 13.0);
            INSERT INTO praison_messages VALUES ('g1', 'ghost', 'user', 'session row missing', NULL, NULL, NULL, 14.0);
            INSERT INTO praison_messages VALUES ('g2', 'ghost', 'user', 'again', NULL, NULL, NULL, 15.5);
            """
        )
    store = CONVERSATION_STORES.create("sqlite", path=str(path))
    try:
        messages = store.get_messages("s")
        assert [(m.id, m.role, m.content, m.metadata) for m in messages] == [
            ("m1", "", "first", {"a": 1}),
            ("m2", "user", "", None),
            ("a3", "user", "same time as m2", None),  # equal timestamps keep PraisonAI's row order
        ]
        ghost = store.get_session("ghost")
        assert ghost is not None and (ghost.created_at, ghost.updated_at) == (14.0, 15.5)
        assert [m.id for m in store.get_messages("ghost")] == ["g1", "g2"]
    finally:
        store.close()
    with sqlite3.connect(path) as connection:
        kept = connection.execute("SELECT id FROM praison_messages_praisonai").fetchall()
        assert not connection.execute(
            "SELECT name FROM sqlite_master WHERE name = 'praison_sessions_praisonai'"
        ).fetchall()
    assert kept == [("lost",)]
    assert "1 messages without a session kept in praison_messages_praisonai" in _versions(path)[0][2]


def test_an_interrupted_mysql_upgrade_is_finished_by_the_next_open(mysql_db_url: str, mysql_praisonai: Stored) -> None:
    """MySQL commits each DDL statement: an upgrade that died after its copies aside and one drop."""
    database = f"`{_db(mysql_db_url)}`"
    for statement in (
        f"CREATE TABLE {database}.praison_sessions_praisonai AS SELECT * FROM {database}.praison_sessions",
        f"CREATE TABLE {database}.praison_messages_praisonai AS SELECT * FROM {database}.praison_messages",
        f"DROP TABLE {database}.praison_messages",
    ):
        mysql_execute(mysql_db_url, statement)
    _check_then_close(CONVERSATION_STORES.create("mysql", url=mysql_db_url), mysql_praisonai)
    tables = {row[0] for row in mysql_execute(mysql_db_url, f"SHOW TABLES FROM {database}")}
    assert tables == {"praison_sessions", "praison_messages", "praison_schema_version"}
