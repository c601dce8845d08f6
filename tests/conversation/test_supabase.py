"""supabase: the real supabase client against an HTTP stand-in of PostgREST backed by the real PostgreSQL.

Tier fake, plainly: no PostgREST binary can be installed here (PyPI, Debian, npm), so the
stand-in (tests/support/postgrest_standin.py) answers the REST requests the client sends
for this store, by running them on PostgreSQL 15, one transaction per request, as
PostgREST does. Supabase and PostgREST themselves are not exercised.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

pytest.importorskip("supabase", reason="supabase is not installed (pip install 'praisonai-persistence[supabase]')")
pytest.importorskip(
    "psycopg", reason="the PostgREST stand-in runs on psycopg (pip install 'praisonai-persistence[postgres]')"
)

from praisonai.persistence.conversation.base import (
    ConversationMessage,
    ConversationSession,
    ConversationStore,
)
from praisonai.persistence.conversation.config import SupabaseConversationConfig
from praisonai.persistence.conversation.supabase import SupabaseConversationStore
from praisonai.persistence.errors import (
    BackendUnavailableError,
    ConfigError,
    InvalidInputError,
    StoreError,
)
from praisonai.persistence.registry import CONVERSATION_STORES
from praisonai.persistence.testing import ConversationStoreContract
from tests.support.postgrest_standin import PostgrestStandIn, parse_list
from tests.support.sql_servers import address, postgres_execute, with_address
from tests.support.sql_store_checks import SECRET, exercise_hostile_inputs
from tests.support.tcp_proxy import TcpProxy


def _create_tables(postgres_url: str, schema: str, prefix: str = "praison_") -> None:
    config = SupabaseConversationConfig.from_options(
        "https://x.supabase.co", {"api_key": "k", "schema": schema, "table_prefix": prefix}
    )
    postgres_execute(postgres_url, SupabaseConversationStore.schema_sql(config))


@pytest.fixture
def standin(postgres_url: str, pg_schema: str) -> Iterator[PostgrestStandIn]:
    _create_tables(postgres_url, pg_schema)
    server = PostgrestStandIn(postgres_url).start()
    yield server
    server.stop()


def _open(standin: PostgrestStandIn, schema: str, **options: object) -> ConversationStore:
    store = CONVERSATION_STORES.create("supabase", url=standin.url, api_key=standin.key, schema=schema, **options)
    assert isinstance(store, ConversationStore)
    return store


class TestSupabaseContract(ConversationStoreContract):
    @pytest.fixture
    def store(self, standin: PostgrestStandIn, pg_schema: str) -> Iterator[ConversationStore]:
        store = _open(standin, pg_schema)
        yield store
        store.close()

    @pytest.fixture
    def reopen(self, standin: PostgrestStandIn, pg_schema: str) -> Callable[[], ConversationStore]:
        return lambda: _open(standin, pg_schema)


def test_the_standin_parses_postgrest_lists() -> None:
    assert parse_list('(a,"b,c","d\\"e","f\\\\g",(h))'[:-5] + ")") == ["a", "b,c", 'd"e', "f\\g"]
    assert parse_list("()") == []


def test_config() -> None:
    config = SupabaseConversationConfig.from_options("https://abcd.supabase.co/", {"api_key": SECRET})
    assert config.project_url == "https://abcd.supabase.co"
    assert SECRET not in repr(config)
    with pytest.raises(ConfigError) as caught:
        CONVERSATION_STORES.create("supabase", url="postgresql://db.abcd.supabase.co/postgres")
    assert sorted(error.field for error in caught.value.errors) == ["api_key", "project_url"]
    with pytest.raises(ConfigError) as caught:
        CONVERSATION_STORES.create("supabase", url=f"https://u:{SECRET}@abcd.supabase.co", api_key="k")
    assert SECRET not in str(caught.value)


def test_schema_sql_is_the_postgres_stores_ddl() -> None:
    config = SupabaseConversationConfig.from_options("https://x.supabase.co", {"api_key": "k", "schema": "chat"})
    ddl = SupabaseConversationStore.schema_sql(config)
    assert 'CREATE TABLE IF NOT EXISTS "chat".praison_sessions' in ddl
    assert "ON DELETE CASCADE" in ddl


def test_injection_through_every_string_is_inert(postgres_url: str, pg_schema: str, standin: PostgrestStandIn) -> None:
    postgres_execute(postgres_url, f'CREATE TABLE "{pg_schema}".canary (x int)')
    postgres_execute(postgres_url, f'INSERT INTO "{pg_schema}".canary VALUES (1)')
    store = _open(standin, pg_schema)
    exercise_hostile_inputs(store)
    store.close()
    assert postgres_execute(postgres_url, f'SELECT count(*) FROM "{pg_schema}".canary') == [(1,)]


def test_delete_messages_by_many_long_ids_goes_in_chunks(pg_schema: str, standin: PostgrestStandIn) -> None:
    store = _open(standin, pg_schema)
    store.create_session(ConversationSession(session_id="s"))
    ids = [f"{index:03d}-" + "x" * 200 for index in range(60)]
    store.add_messages("s", [ConversationMessage(id=i, role="user", content="c", created_at=1.0) for i in ids])
    before = standin.requests
    assert store.delete_messages("s", [*ids[:50], "missing"]) == 50
    assert standin.requests - before > 1  # 50 ids of 204 characters do not fit one URL
    assert [m.id for m in store.get_messages("s")] == ids[50:]
    store.close()


def test_nul_in_text_is_refused_and_nothing_stored(pg_schema: str, standin: PostgrestStandIn) -> None:
    store = _open(standin, pg_schema)
    store.create_session(ConversationSession(session_id="s"))
    with pytest.raises(InvalidInputError):
        store.add_messages(
            "s", [ConversationMessage(role="user", content="ok"), ConversationMessage(role="user", content="a\x00b")]
        )
    assert store.get_messages("s") == []
    store.close()


def test_a_wrong_key_is_refused(pg_schema: str, standin: PostgrestStandIn) -> None:
    store = CONVERSATION_STORES.create("supabase", url=standin.url, api_key="wrong-key", schema=pg_schema)
    with pytest.raises(StoreError, match="PGRST301") as caught:
        store.get_session("s")
    assert not isinstance(caught.value, ConnectionError)
    store.close()


def test_missing_tables_are_reported(pg_schema: str, standin: PostgrestStandIn) -> None:
    store = _open(standin, pg_schema, table_prefix="nothing_here_")
    with pytest.raises(StoreError, match="PGRST205"):
        store.list_sessions()
    store.close()


def test_closed_store_refuses_calls(pg_schema: str, standin: PostgrestStandIn) -> None:
    store = _open(standin, pg_schema)
    store.close()
    store.close()
    with pytest.raises(StoreError, match="closed"):
        store.get_session("s")


def test_api_outage_raises_connection_error_then_recovers(postgres_url: str, pg_schema: str) -> None:
    _create_tables(postgres_url, pg_schema)
    server = PostgrestStandIn(postgres_url).start()
    store = _open(server, pg_schema, retry_reads=False, timeout=5)
    try:
        store.create_session(ConversationSession(session_id="s"))
        server.stop()
        for call in (lambda: store.get_session("s"), lambda: store.add_message("s", ConversationMessage(role="u"))):
            with pytest.raises(ConnectionError) as caught:
                call()
            assert isinstance(caught.value, BackendUnavailableError) and caught.value.backend == "supabase"
            assert server.key not in str(caught.value)
        server = PostgrestStandIn(postgres_url, port=int(server.url.rsplit(":", 1)[1])).start()
        store.add_message("s", ConversationMessage(role="user", content="after", created_at=1.0))
        assert [m.content for m in store.get_messages("s")] == ["after"]
    finally:
        store.close()
        server.stop()


def test_database_outage_behind_the_api_is_a_connection_error(postgres_url: str, pg_schema: str) -> None:
    _create_tables(postgres_url, pg_schema)
    proxy = TcpProxy(*address(postgres_url, 5432)).start()
    server = PostgrestStandIn(with_address(postgres_url, proxy.host, proxy.port)).start()
    store = _open(server, pg_schema, retry_reads=False)
    try:
        store.create_session(ConversationSession(session_id="s"))
        proxy.stop()
        with pytest.raises(BackendUnavailableError, match="PGRST000"):
            store.get_session("s")
        proxy.start()
        assert store.get_session("s") is not None
    finally:
        store.close()
        server.stop()
        proxy.stop()
