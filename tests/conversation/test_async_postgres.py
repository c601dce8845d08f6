"""async_postgres (asyncpg): the async contract suite on the real PostgreSQL server, plus asyncpg specifics.

Every test works in a schema of its own, dropped afterwards; outages come from a TCP
proxy or from terminating the store's server processes; one slow test restarts the server.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

pytest.importorskip("asyncpg", reason="asyncpg is not installed (pip install 'praisonai-persistence[postgres]')")
pytest.importorskip("psycopg", reason="the test fixtures use psycopg (pip install 'praisonai-persistence[postgres]')")

from praisonai.persistence.conversation.base import (
    AsyncConversationStore,
    ConversationMessage,
    ConversationSession,
)
from praisonai.persistence.conversation.config import AsyncPostgresConversationConfig
from praisonai.persistence.errors import ConfigError, InvalidInputError, StoreError
from praisonai.persistence.registry import CONVERSATION_STORES
from praisonai.persistence.testing import AsyncConversationStoreContract
from tests.support.sql_servers import (
    address,
    can_restart_postgres,
    postgres_backends,
    postgres_execute,
    postgres_restart_guard,
    restart_postgres,
    terminate_postgres_backends,
    unique_name,
    with_address,
)
from tests.support.sql_store_checks import (
    SECRET,
    check_lost_commit_leaves_nothing_async,
    check_outage_async,
    check_reconnects_after_connections_dropped_async,
    closed_port,
    exercise_hostile_inputs_async,
)
from tests.support.tcp_proxy import TcpProxy


def _open(url: str, schema: str, name: str = "async_postgres", **options: object) -> AsyncConversationStore:
    store = CONVERSATION_STORES.create(name, url=url, schema=schema, **options)
    assert isinstance(store, AsyncConversationStore)
    return store


class TestAsyncPostgresContract(AsyncConversationStoreContract):
    @pytest.fixture
    def store(self, postgres_url: str, pg_schema: str) -> AsyncConversationStore:
        return _open(postgres_url, pg_schema)

    @pytest.fixture
    def reopen(self, postgres_url: str, pg_schema: str) -> Callable[[], AsyncConversationStore]:
        return lambda: _open(postgres_url, pg_schema, "postgres_async", pool_size=1)


def test_config_is_the_postgres_one() -> None:
    config = AsyncPostgresConversationConfig.from_options("postgresql+asyncpg://u@ep-x.neon.tech/db?schema=chat")
    assert (config.host, config.sslmode, config.schema_name) == ("ep-x.neon.tech", "require", "chat")
    with pytest.raises(ConfigError) as caught:
        CONVERSATION_STORES.create("asyncpg", schema="no-dashes")
    assert [error.field for error in caught.value.errors] == ["schema_name"]


def test_creating_the_store_connects_to_nothing(postgres_url: str) -> None:
    application = unique_name("app")
    store = CONVERSATION_STORES.create("asyncpg", url=postgres_url, application_name=application)
    assert postgres_backends(postgres_url, application) == 0
    asyncio.run(store.close())


def test_unreachable_server_raises_connection_error_without_secrets() -> None:
    store = CONVERSATION_STORES.create(
        "async_postgres", url=f"postgresql://app:{SECRET}@127.0.0.1:{closed_port()}/test", connect_timeout=2
    )

    async def main() -> None:
        with pytest.raises(ConnectionError) as caught:
            await store.get_session("s")
        assert "[async_postgres]" in str(caught.value) and SECRET not in str(caught.value)
        await store.close()

    asyncio.run(main())


def test_injection_through_every_string_is_inert(postgres_url: str, pg_schema: str) -> None:
    store = _open(postgres_url, pg_schema)

    async def main() -> None:
        await store.list_sessions()  # creates the schema
        postgres_execute(postgres_url, f'CREATE TABLE "{pg_schema}".canary (x int)')
        postgres_execute(postgres_url, f'INSERT INTO "{pg_schema}".canary VALUES (1)')
        await exercise_hostile_inputs_async(store)
        await store.close()

    asyncio.run(main())
    assert postgres_execute(postgres_url, f'SELECT count(*) FROM "{pg_schema}".canary') == [(1,)]


def test_nul_in_text_is_refused_and_nothing_stored(postgres_url: str, pg_schema: str) -> None:
    store = _open(postgres_url, pg_schema)

    async def main() -> None:
        await store.create_session(ConversationSession(session_id="s"))
        with pytest.raises(InvalidInputError):
            await store.add_messages(
                "s",
                [ConversationMessage(role="user", content="ok"), ConversationMessage(role="user", content="a\x00b")],
            )
        assert await store.get_messages("s") == []
        await store.close()

    asyncio.run(main())


def test_the_store_survives_successive_event_loops(postgres_url: str, pg_schema: str) -> None:
    store = _open(postgres_url, pg_schema)

    async def write(content: str, created_at: float) -> None:
        if await store.get_session("s") is None:
            await store.create_session(ConversationSession(session_id="s"))
        await store.add_message("s", ConversationMessage(role="user", content=content, created_at=created_at))

    asyncio.run(write("first loop", 1.0))
    asyncio.run(write("second loop", 2.0))

    async def read_and_close() -> list[str]:
        contents = [m.content for m in await store.get_messages("s")]
        await store.close()
        return contents

    assert asyncio.run(read_and_close()) == ["first loop", "second loop"]


def test_closed_store_refuses_calls(postgres_url: str, pg_schema: str) -> None:
    store = _open(postgres_url, pg_schema)

    async def main() -> None:
        await store.list_sessions()
        await store.close()
        await store.close()
        with pytest.raises(StoreError, match="closed"):
            await store.get_session("s")

    asyncio.run(main())


def test_next_call_works_after_the_server_dropped_every_connection(postgres_url: str, pg_schema: str) -> None:
    application = unique_name("app")
    store = _open(postgres_url, pg_schema, application_name=application)

    async def drop() -> int:
        return await asyncio.to_thread(terminate_postgres_backends, postgres_url, application)

    async def main() -> None:
        await check_reconnects_after_connections_dropped_async(store, drop)
        await store.close()

    asyncio.run(main())


def test_outage_raises_connection_error_then_recovers(postgres_url: str, pg_schema: str) -> None:
    proxy = TcpProxy(*address(postgres_url, 5432)).start()
    store = _open(with_address(postgres_url, proxy.host, proxy.port), pg_schema, connect_timeout=2)

    async def main() -> None:
        await check_outage_async(store, proxy, "async_postgres")
        await store.close()

    try:
        asyncio.run(main())
    finally:
        proxy.stop()


def test_connection_lost_at_commit_leaves_nothing(postgres_url: str, pg_schema: str) -> None:
    proxy = TcpProxy(*address(postgres_url, 5432)).start()
    store = _open(with_address(postgres_url, proxy.host, proxy.port), pg_schema, connect_timeout=2)

    async def main() -> None:
        await check_lost_commit_leaves_nothing_async(store, proxy, "async_postgres")
        await store.close()

    try:
        asyncio.run(main())
    finally:
        proxy.stop()


@pytest.mark.slow
@pytest.mark.server
def test_same_store_works_after_a_real_server_restart(postgres_url: str, pg_schema: str) -> None:
    if not can_restart_postgres():
        pytest.skip("pg_ctlcluster is not available to restart PostgreSQL here")
    store = _open(postgres_url, pg_schema)

    async def main() -> None:
        await store.create_session(ConversationSession(session_id="s"))
        await store.add_message("s", ConversationMessage(role="user", content="before", created_at=1.0))
        with postgres_restart_guard(postgres_url):
            await asyncio.to_thread(restart_postgres)
        await store.add_message("s", ConversationMessage(role="user", content="after", created_at=2.0))
        assert [m.content for m in await store.get_messages("s")] == ["before", "after"]
        await store.close()

    asyncio.run(main())
