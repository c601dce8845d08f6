"""postgres (psycopg 3): the contract suite on the real PostgreSQL server, plus what is PostgreSQL-specific.

Every test works in a schema of its own, dropped afterwards. Outages are made with a
TCP proxy in front of the server (tests/support/tcp_proxy.py) or by terminating the
store's server processes; one slow test restarts the server itself.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator

import pytest

psycopg = pytest.importorskip(
    "psycopg", reason="psycopg is not installed (pip install 'praisonai-persistence[postgres]')"
)

from praisonai.persistence.conversation._sql_statements import POSTGRES, ConversationStatements  # noqa: E402
from praisonai.persistence.conversation.base import (  # noqa: E402
    ConversationMessage,
    ConversationSession,
    ConversationStore,
)
from praisonai.persistence.conversation.config import PostgresConversationConfig  # noqa: E402
from praisonai.persistence.errors import ConfigError, InvalidInputError, StoreError  # noqa: E402
from praisonai.persistence.registry import CONVERSATION_STORES  # noqa: E402
from praisonai.persistence.testing import ConversationStoreContract  # noqa: E402
from tests.support.sql_servers import (  # noqa: E402
    address,
    can_restart_postgres,
    postgres_execute,
    postgres_restart_guard,
    restart_postgres,
    terminate_postgres_backends,
    unique_name,
    with_address,
)
from tests.support.sql_store_checks import (  # noqa: E402
    SECRET,
    check_lost_commit_leaves_nothing,
    check_outage,
    check_reconnects_after_connections_dropped,
    check_unreachable_at_open,
    closed_port,
    exercise_hostile_inputs,
)
from tests.support.tcp_proxy import TcpProxy  # noqa: E402


def _open(url: str, schema: str, name: str = "postgres", **options: object) -> ConversationStore:
    store = CONVERSATION_STORES.create(name, url=url, schema=schema, **options)
    assert isinstance(store, ConversationStore)
    return store


class TestPostgresContract(ConversationStoreContract):
    @pytest.fixture
    def store(self, postgres_url: str, pg_schema: str) -> Iterator[ConversationStore]:
        store = _open(postgres_url, pg_schema)
        yield store
        store.close()

    @pytest.fixture
    def reopen(self, postgres_url: str, pg_schema: str) -> Callable[[], ConversationStore]:
        return lambda: _open(postgres_url, pg_schema, "neon", pool_size=2)


class TestPostgresPrefixedContract(ConversationStoreContract):
    """No schema of our own (``public``), a table prefix instead, a pool of one connection."""

    @pytest.fixture
    def prefix(self, postgres_url: str) -> Iterator[str]:
        prefix = unique_name("p") + "_"
        yield prefix
        postgres_execute(
            postgres_url, f"DROP TABLE IF EXISTS {prefix}messages, {prefix}sessions, {prefix}schema_version"
        )

    @pytest.fixture
    def store(self, postgres_url: str, prefix: str) -> Iterator[ConversationStore]:
        store = CONVERSATION_STORES.create("crdb", url=postgres_url, table_prefix=prefix, pool_size=1)
        yield store
        store.close()

    @pytest.fixture
    def reopen(self, postgres_url: str, prefix: str) -> Callable[[], ConversationStore]:
        return lambda: CONVERSATION_STORES.create("postgres", url=postgres_url, table_prefix=prefix)


# -- configuration ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "postgresql://app:pw@db.example:6543/chat?sslmode=verify-full&schema=conv",
            {"host": "db.example", "port": 6543, "user": "app", "database": "chat", "sslmode": "verify-full"},
        ),
        ("postgres://db.example/chat", {"host": "db.example", "port": 5432, "sslmode": "prefer"}),
        ("postgresql+psycopg://u@h/d", {"host": "h", "user": "u", "database": "d"}),
        ("cockroachdb://root@crdb.local/defaultdb", {"port": 26257, "database": "defaultdb"}),
        ("postgresql:///chat?host=/var/run/postgresql", {"host": "/var/run/postgresql", "database": "chat"}),
        ("postgresql://u@ep-cool-name-123.eu-central-1.aws.neon.tech/neondb", {"sslmode": "require"}),
        ("postgresql://u@free-tier.gcp-us-central1.cockroachlabs.cloud:26257/db", {"sslmode": "require"}),
        ("postgresql://u@us-east-1.sql.xata.sh/db:main", {"sslmode": "require"}),
        ("postgresql://u@db.abcdefgh.supabase.co/postgres", {"sslmode": "require"}),
        ("postgresql://u@ep-x.neon.tech/db?sslmode=disable", {"sslmode": "disable"}),
        ("postgresql://u@neon.tech.example.com/db", {"sslmode": "prefer"}),
    ],
)
def test_url_forms(url: str, expected: dict[str, object]) -> None:
    config = PostgresConversationConfig.from_options(url)
    for field, value in expected.items():
        assert getattr(config, field) == value, field


def test_schema_option_and_url_parameter() -> None:
    assert PostgresConversationConfig.from_options("postgresql://h/d?schema=chat").schema_name == "chat"
    assert PostgresConversationConfig.from_options(None, {"schema": "chat"}).schema_name == "chat"
    assert PostgresConversationConfig.from_options(None, {"schema_name": "chat"}).schema_name == "chat"


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"url": "mysql://h/d"}, "url"),
        ({"url": "postgresql://h/d?options=-csearch_path%3Dx"}, "url"),
        ({"schema": 'x"; DROP SCHEMA public; --'}, "schema_name"),
        ({"schema": "1starts_with_digit"}, "schema_name"),
        ({"table_prefix": "bad prefix"}, "table_prefix"),
        ({"sslmode": "sometimes"}, "sslmode"),
        ({"pool_size": 0}, "pool_size"),
        ({"connect_timeout": 0}, "connect_timeout"),
        ({"port": 70000}, "port"),
        ({"host": "bad\x00host"}, "host"),
    ],
)
def test_bad_config_names_the_field(kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(ConfigError) as caught:
        CONVERSATION_STORES.create("postgres", **kwargs)
    assert [error.field for error in caught.value.errors] == [field]
    assert "'postgres'" in str(caught.value)


def test_password_is_masked_everywhere() -> None:
    config = PostgresConversationConfig.from_options(f"postgresql://app:{SECRET}@db.example/chat")
    assert config.password is not None and config.password.get_secret_value() == SECRET
    assert SECRET not in repr(config) and SECRET not in str(config)
    with pytest.raises(ConfigError) as caught:
        PostgresConversationConfig.from_options(f"postgresql://app:{SECRET}@db.example/chat", {"port": "x"})
    assert SECRET not in str(caught.value)


def test_unreachable_server_raises_connection_error_without_secrets() -> None:
    url = f"postgresql://app:{SECRET}@127.0.0.1:{closed_port()}/test"
    check_unreachable_at_open(lambda: CONVERSATION_STORES.create("postgres", url=url, connect_timeout=2), "postgres")


# -- schema -------------------------------------------------------------------------------------------------------


def test_tables_live_in_the_configured_schema(postgres_url: str, pg_schema: str) -> None:
    store = _open(postgres_url, pg_schema, table_prefix="chat_")
    store.close()
    rows = postgres_execute(
        postgres_url,
        "SELECT table_name FROM information_schema.tables WHERE table_schema = %s ORDER BY table_name",
        (pg_schema,),
    )
    assert rows == [("chat_messages",), ("chat_schema_version",), ("chat_sessions",)]


def test_two_prefixes_in_one_schema_are_separate(postgres_url: str, pg_schema: str) -> None:
    first, second = _open(postgres_url, pg_schema, table_prefix="a_"), _open(postgres_url, pg_schema, table_prefix="b_")
    first.create_session(ConversationSession(session_id="s"))
    assert second.get_session("s") is None
    first.close()
    second.close()


def test_stores_created_at_once_all_work(postgres_url: str, pg_schema: str) -> None:
    stores: list[ConversationStore] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(4)

    def open_one() -> None:
        barrier.wait()
        try:
            stores.append(_open(postgres_url, pg_schema, pool_size=1))
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=open_one) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    stores[0].create_session(ConversationSession(session_id="shared"))
    assert all(store.get_session("shared") is not None for store in stores)
    for store in stores:
        store.close()


def test_a_role_without_ddl_rights_uses_existing_tables(postgres_url: str, pg_schema: str) -> None:
    _open(postgres_url, pg_schema).close()
    role = unique_name("role")
    postgres_execute(postgres_url, f"CREATE ROLE {role} LOGIN")
    try:
        postgres_execute(postgres_url, f'GRANT USAGE ON SCHEMA "{pg_schema}" TO {role}')
        postgres_execute(
            postgres_url, f'GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA "{pg_schema}" TO {role}'
        )
        postgres_execute(postgres_url, f'GRANT USAGE ON ALL SEQUENCES IN SCHEMA "{pg_schema}" TO {role}')
        host, port = address(postgres_url, 5432)
        store = CONVERSATION_STORES.create(
            "postgres", host=host, port=port, user=role, database="test", schema=pg_schema
        )
        store.create_session(ConversationSession(session_id="s"))
        store.add_message("s", ConversationMessage(role="user", content="hi", created_at=1.0))
        assert [m.content for m in store.get_messages("s")] == ["hi"]
        store.close()
    finally:
        postgres_execute(postgres_url, f'REVOKE ALL ON ALL TABLES IN SCHEMA "{pg_schema}" FROM {role}')
        postgres_execute(postgres_url, f'REVOKE ALL ON ALL SEQUENCES IN SCHEMA "{pg_schema}" FROM {role}')
        postgres_execute(postgres_url, f'REVOKE ALL ON SCHEMA "{pg_schema}" FROM {role}')
        postgres_execute(postgres_url, f"DROP ROLE {role}")


def test_sync_and_async_stores_share_one_schema(postgres_url: str, pg_schema: str) -> None:
    pytest.importorskip("asyncpg", reason="asyncpg is not installed")
    sync_store = _open(postgres_url, pg_schema)
    sync_store.create_session(ConversationSession(session_id="s"))
    sync_store.add_message("s", ConversationMessage(role="user", content="from sync", created_at=1.0))

    async def use_async() -> list[str]:
        store = CONVERSATION_STORES.create("asyncpg", url=postgres_url, schema=pg_schema)
        await store.add_message("s", ConversationMessage(role="user", content="from async", created_at=2.0))
        contents = [m.content for m in await store.get_messages("s")]
        await store.close()
        return contents

    assert asyncio.run(use_async()) == ["from sync", "from async"]
    assert [m.content for m in sync_store.get_messages("s")] == ["from sync", "from async"]
    sync_store.close()


# -- values -------------------------------------------------------------------------------------------------------


def test_every_value_is_bound_including_limit_and_offset() -> None:
    statements = ConversationStatements(POSTGRES, "praison_", "public", "format")
    assert statements.list_sessions(True, True).endswith("LIMIT %s OFFSET %s")
    assert statements.select_messages(True, True, True).endswith("LIMIT %s")
    numeric = ConversationStatements(POSTGRES, "praison_", "public", "numeric")
    assert numeric.list_sessions(True, True).endswith("LIMIT $3 OFFSET $4")


def test_injection_through_every_string_is_inert(postgres_url: str, pg_schema: str) -> None:
    store = _open(postgres_url, pg_schema)
    postgres_execute(postgres_url, f'CREATE TABLE "{pg_schema}".canary (x int)')
    postgres_execute(postgres_url, f'INSERT INTO "{pg_schema}".canary VALUES (1)')
    exercise_hostile_inputs(store)
    store.close()
    assert postgres_execute(postgres_url, f'SELECT count(*) FROM "{pg_schema}".canary') == [(1,)]


def test_nul_in_text_is_refused_and_nothing_stored(postgres_url: str, pg_schema: str) -> None:
    store = _open(postgres_url, pg_schema)
    store.create_session(ConversationSession(session_id="s"))
    with pytest.raises(InvalidInputError, match="NUL"):
        store.add_messages(
            "s", [ConversationMessage(role="user", content="ok"), ConversationMessage(role="user", content="a\x00b")]
        )
    with pytest.raises(ValueError):
        store.create_session(ConversationSession(session_id="t", name="a\x00b"))
    assert store.get_messages("s") == []
    assert store.get_session("t") is None
    # JSON escapes NUL, so it is fine inside state and metadata.
    store.update_session(ConversationSession(session_id="s", state={"k": "a\x00b"}))
    loaded = store.get_session("s")
    assert loaded is not None and loaded.state == {"k": "a\x00b"}
    store.close()


def test_closed_store_refuses_calls(postgres_url: str, pg_schema: str) -> None:
    store = _open(postgres_url, pg_schema)
    store.close()
    store.close()  # idempotent
    with pytest.raises(StoreError, match="closed"):
        store.get_session("s")


# -- the server going away ------------------------------------------------------------------------------------------


@pytest.fixture
def proxy(postgres_url: str) -> Iterator[TcpProxy]:
    proxy = TcpProxy(*address(postgres_url, 5432)).start()
    yield proxy
    proxy.stop()


def test_next_call_works_after_the_server_dropped_every_connection(postgres_url: str, pg_schema: str) -> None:
    application = unique_name("app")
    store = _open(postgres_url, pg_schema, application_name=application)
    check_reconnects_after_connections_dropped(store, lambda: terminate_postgres_backends(postgres_url, application))
    store.close()


def test_outage_raises_connection_error_then_recovers(postgres_url: str, pg_schema: str, proxy: TcpProxy) -> None:
    url = with_address(postgres_url, proxy.host, proxy.port)
    store = _open(url, pg_schema, connect_timeout=2)
    check_outage(store, proxy, "postgres")
    store.close()


def test_connection_lost_at_commit_leaves_nothing(postgres_url: str, pg_schema: str, proxy: TcpProxy) -> None:
    url = with_address(postgres_url, proxy.host, proxy.port)
    store = _open(url, pg_schema, connect_timeout=2)
    check_lost_commit_leaves_nothing(store, proxy, "postgres")
    store.close()


@pytest.mark.slow
@pytest.mark.server
def test_same_store_works_after_a_real_server_restart(postgres_url: str, pg_schema: str) -> None:
    if not can_restart_postgres():
        pytest.skip("pg_ctlcluster is not available to restart PostgreSQL here")
    store = _open(postgres_url, pg_schema)
    store.create_session(ConversationSession(session_id="s"))
    store.add_message("s", ConversationMessage(role="user", content="before", created_at=1.0))
    with postgres_restart_guard(postgres_url):
        restart_postgres()
    store.add_message("s", ConversationMessage(role="user", content="after", created_at=2.0))
    assert [m.content for m in store.get_messages("s")] == ["before", "after"]
    store.close()


def test_connect_timeout_is_rounded_up_to_whole_seconds(
    postgres_url: str, pg_schema: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """libpq takes whole seconds: 2.4 s waits 3 (never less than asked), as pgvector's connections."""
    import psycopg

    seen: list[object] = []
    connect = psycopg.connect

    def recording(*args: object, **kwargs: object) -> object:
        seen.append(kwargs.get("connect_timeout"))
        return connect(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(psycopg, "connect", recording)
    store = _open(postgres_url, pg_schema, connect_timeout=2.4)
    try:
        store.list_sessions()
    finally:
        store.close()
    assert seen and set(seen) == {3}
