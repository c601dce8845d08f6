"""async_mysql (aiomysql): the async contract suite on a real MariaDB server, plus aiomysql specifics.

Every test works in a database of its own, dropped afterwards; outages come from a TCP
proxy or from killing the store's server threads; one slow test stops and starts MariaDB.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

pytest.importorskip("aiomysql", reason="aiomysql is not installed (pip install 'praisonai-persistence[mysql]')")

from praisonai.persistence.conversation.base import (
    AsyncConversationStore,
    ConversationMessage,
    ConversationSession,
)
from praisonai.persistence.conversation.config import AsyncMySqlConversationConfig
from praisonai.persistence.errors import StoreError
from praisonai.persistence.registry import CONVERSATION_STORES
from praisonai.persistence.testing import AsyncConversationStoreContract
from tests.support.sql_servers import (
    address,
    can_restart_mariadb,
    kill_mysql_connections,
    mariadb_restart_guard,
    mysql_execute,
    mysql_thread_ids,
    start_mariadb,
    stop_mariadb,
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


def _open(url: str, name: str = "async_mysql", **options: object) -> AsyncConversationStore:
    store = CONVERSATION_STORES.create(name, url=url, **options)
    assert isinstance(store, AsyncConversationStore)
    return store


def _database(url: str) -> str:
    return url.rsplit("/", 1)[1]


class TestAsyncMySqlContract(AsyncConversationStoreContract):
    @pytest.fixture
    def store(self, mysql_db_url: str) -> AsyncConversationStore:
        return _open(mysql_db_url)

    @pytest.fixture
    def reopen(self, mysql_db_url: str) -> Callable[[], AsyncConversationStore]:
        return lambda: _open(mysql_db_url.replace("mysql://", "mysql+aiomysql://"), "mysql_async", pool_size=1)


def test_config_is_the_mysql_one() -> None:
    config = AsyncMySqlConversationConfig.from_options("mariadb://u@h:3307/chat?ssl-mode=REQUIRED")
    assert (config.host, config.port, config.database, config.ssl_mode) == ("h", 3307, "chat", "required")


def test_creating_the_store_connects_to_nothing(mysql_db_url: str) -> None:
    store = _open(mysql_db_url)
    assert mysql_thread_ids(mysql_db_url, _database(mysql_db_url)) == []
    asyncio.run(store.close())


def test_unreachable_server_raises_connection_error_without_secrets() -> None:
    store = CONVERSATION_STORES.create(
        "aiomysql", url=f"mysql://app:{SECRET}@127.0.0.1:{closed_port()}/chat", connect_timeout=2
    )

    async def main() -> None:
        with pytest.raises(ConnectionError) as caught:
            await store.list_sessions()
        assert "[async_mysql]" in str(caught.value) and SECRET not in str(caught.value)
        await store.close()

    asyncio.run(main())


def test_four_byte_characters_round_trip(mysql_db_url: str) -> None:
    store = _open(mysql_db_url)
    text = "emoji 😀🧠 math 𝔘𝔫𝔦 cjk 𠜎 zwj 👩‍💻"

    async def main() -> None:
        await store.create_session(ConversationSession(session_id=text, name=text))
        await store.add_message(text, ConversationMessage(id=text, role="user", content=text))
        (message,) = await store.get_messages(text)
        assert (message.id, message.content) == (text, text)
        await store.close()

    asyncio.run(main())
    assert mysql_execute(mysql_db_url, f"SELECT name FROM `{_database(mysql_db_url)}`.praison_sessions") == [(text,)]


def test_injection_through_every_string_is_inert(mysql_db_url: str) -> None:
    database = _database(mysql_db_url)
    mysql_execute(mysql_db_url, f"CREATE TABLE `{database}`.canary (x int)")
    mysql_execute(mysql_db_url, f"INSERT INTO `{database}`.canary VALUES (1)")
    store = _open(mysql_db_url)

    async def main() -> None:
        await exercise_hostile_inputs_async(store)
        await store.close()

    asyncio.run(main())
    assert mysql_execute(mysql_db_url, f"SELECT count(*) FROM `{database}`.canary") == [(1,)]


def test_the_store_survives_successive_event_loops(mysql_db_url: str) -> None:
    store = _open(mysql_db_url)

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


def test_closed_store_refuses_calls(mysql_db_url: str) -> None:
    store = _open(mysql_db_url)

    async def main() -> None:
        await store.list_sessions()
        await store.close()
        with pytest.raises(StoreError, match="closed"):
            await store.get_session("s")

    asyncio.run(main())


def test_next_call_works_after_the_server_dropped_every_connection(mysql_db_url: str) -> None:
    store = _open(mysql_db_url)

    async def drop() -> int:
        return await asyncio.to_thread(kill_mysql_connections, mysql_db_url, _database(mysql_db_url))

    async def main() -> None:
        await check_reconnects_after_connections_dropped_async(store, drop)
        await store.close()

    asyncio.run(main())


def test_outage_raises_connection_error_then_recovers(mysql_db_url: str) -> None:
    proxy = TcpProxy(*address(mysql_db_url, 3306)).start()
    store = _open(with_address(mysql_db_url, proxy.host, proxy.port), connect_timeout=2)

    async def main() -> None:
        await check_outage_async(store, proxy, "async_mysql")
        await store.close()

    try:
        asyncio.run(main())
    finally:
        proxy.stop()


def test_connection_lost_at_commit_leaves_nothing(mysql_db_url: str) -> None:
    proxy = TcpProxy(*address(mysql_db_url, 3306)).start()
    store = _open(with_address(mysql_db_url, proxy.host, proxy.port), connect_timeout=2)

    async def main() -> None:
        await check_lost_commit_leaves_nothing_async(store, proxy, "async_mysql")
        await store.close()

    try:
        asyncio.run(main())
    finally:
        proxy.stop()


@pytest.mark.slow
@pytest.mark.server
def test_same_store_works_after_the_server_is_stopped_and_started(mysql_db_url: str) -> None:
    if not can_restart_mariadb():
        pytest.skip("mariadbd and mysqladmin are not available to restart MariaDB here")
    store = _open(mysql_db_url, connect_timeout=2)

    async def main() -> None:
        await store.create_session(ConversationSession(session_id="s"))
        await store.add_message("s", ConversationMessage(role="user", content="before", created_at=1.0))
        with mariadb_restart_guard(mysql_db_url):
            await asyncio.to_thread(stop_mariadb, mysql_db_url)
            with pytest.raises(ConnectionError, match=r"\[async_mysql\]"):
                await store.get_messages("s")
            await asyncio.to_thread(start_mariadb, mysql_db_url)
        await store.add_message("s", ConversationMessage(role="user", content="after", created_at=2.0))
        assert [m.content for m in await store.get_messages("s")] == ["before", "after"]
        await store.close()

    asyncio.run(main())
