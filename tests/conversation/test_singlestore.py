"""singlestore (singlestoredb): the contract suite over the MySQL protocol, against a real MariaDB server.

Tier: emulator, with the limit stated plainly. No SingleStore server runs here, so the tests
cover the driver, its connection settings, every statement (shared with ``mysql``) and
the control flow, against MariaDB. SingleStore's own table layout (no foreign keys,
messages sharded by session) is only checked as text below; it has not run on SingleStore.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

pytest.importorskip(
    "singlestoredb", reason="singlestoredb is not installed (pip install 'praisonai-persistence[singlestore]')"
)
pytest.importorskip("pymysql", reason="the test fixtures use PyMySQL (pip install 'praisonai-persistence[mysql]')")

from praisonai.persistence.conversation._sql_statements import MYSQL, SINGLESTORE, ConversationStatements
from praisonai.persistence.conversation.base import ConversationSession, ConversationStore
from praisonai.persistence.conversation.config import SingleStoreConversationConfig
from praisonai.persistence.errors import ConfigError
from praisonai.persistence.registry import CONVERSATION_STORES
from praisonai.persistence.testing import ConversationStoreContract
from tests.support.sql_servers import address, kill_mysql_connections, mysql_execute, with_address
from tests.support.sql_store_checks import (
    SECRET,
    check_lost_commit_leaves_nothing,
    check_outage,
    check_reconnects_after_connections_dropped,
    check_unreachable_at_open,
    closed_port,
    exercise_hostile_inputs,
)
from tests.support.tcp_proxy import TcpProxy


def _open(url: str, **options: object) -> ConversationStore:
    store = CONVERSATION_STORES.create("singlestore", url=url.replace("mysql://", "singlestoredb://"), **options)
    assert isinstance(store, ConversationStore)
    return store


def _database(url: str) -> str:
    return url.rsplit("/", 1)[1]


class TestSingleStoreContract(ConversationStoreContract):
    @pytest.fixture
    def store(self, mysql_db_url: str) -> Iterator[ConversationStore]:
        store = _open(mysql_db_url)
        yield store
        store.close()

    @pytest.fixture
    def reopen(self, mysql_db_url: str) -> Callable[[], ConversationStore]:
        return lambda: _open(mysql_db_url, pool_size=1)


@pytest.mark.parametrize(
    "url",
    ["singlestoredb://u:pw@svc-1.singlestore.com:3306/chat", "singlestore://u@h:3306/chat", "mysql://u@h/chat"],
)
def test_url_forms(url: str) -> None:
    assert SingleStoreConversationConfig.from_options(url).database == "chat"


def test_http_data_api_urls_are_refused() -> None:
    with pytest.raises(ConfigError) as caught:
        CONVERSATION_STORES.create("singlestore", url="https://u:pw@svc.singlestore.com/chat")
    assert "url" in [error.field for error in caught.value.errors]
    assert "HTTP Data API is not supported" in str(caught.value)
    assert "pw@" not in str(caught.value)


def test_unreachable_server_raises_connection_error_without_secrets() -> None:
    url = f"singlestoredb://app:{SECRET}@127.0.0.1:{closed_port()}/chat"
    check_unreachable_at_open(
        lambda: CONVERSATION_STORES.create("singlestore", url=url, connect_timeout=2), "singlestore"
    )


def test_singlestore_layout_differs_from_mysql_only_in_ddl() -> None:
    mysql, singlestore = ConversationStatements(MYSQL, "p_"), ConversationStatements(SINGLESTORE, "p_")
    messages_ddl = singlestore.schema[-1]
    assert "SHARD KEY (session_id)" in messages_ddl and "FOREIGN KEY" not in messages_ddl
    assert "FOREIGN KEY" in mysql.schema[-1]
    for statement in ("insert_session", "upsert_session", "select_session", "insert_message", "delete_all_messages"):
        assert getattr(mysql, statement)() == getattr(singlestore, statement)(), statement


def test_on_a_mysql_server_it_creates_the_mysql_layout(mysql_db_url: str) -> None:
    _open(mysql_db_url).close()
    rows = mysql_execute(
        mysql_db_url,
        "SELECT count(*) FROM information_schema.referential_constraints WHERE constraint_schema = %s",
        (_database(mysql_db_url),),
    )
    assert rows == [(1,)]


def test_injection_through_every_string_is_inert(mysql_db_url: str) -> None:
    database = _database(mysql_db_url)
    store = _open(mysql_db_url)
    mysql_execute(mysql_db_url, f"CREATE TABLE `{database}`.canary (x int)")
    mysql_execute(mysql_db_url, f"INSERT INTO `{database}`.canary VALUES (1)")
    exercise_hostile_inputs(store)
    store.close()
    assert mysql_execute(mysql_db_url, f"SELECT count(*) FROM `{database}`.canary") == [(1,)]


def test_update_with_unchanged_values_still_finds_the_session(mysql_db_url: str) -> None:
    store = _open(mysql_db_url)
    session = store.create_session(ConversationSession(session_id="s"))
    store.update_session(session)
    store.update_session(session)
    store.close()


@pytest.fixture
def proxy(mysql_url: str) -> Iterator[TcpProxy]:
    proxy = TcpProxy(*address(mysql_url, 3306)).start()
    yield proxy
    proxy.stop()


def test_next_call_works_after_the_server_dropped_every_connection(mysql_db_url: str) -> None:
    store = _open(mysql_db_url)
    check_reconnects_after_connections_dropped(
        store, lambda: kill_mysql_connections(mysql_db_url, _database(mysql_db_url))
    )
    store.close()


def test_outage_raises_connection_error_then_recovers(mysql_db_url: str, proxy: TcpProxy) -> None:
    store = _open(with_address(mysql_db_url, proxy.host, proxy.port), connect_timeout=2)
    check_outage(store, proxy, "singlestore")
    store.close()


def test_connection_lost_at_commit_leaves_nothing(mysql_db_url: str, proxy: TcpProxy) -> None:
    store = _open(with_address(mysql_db_url, proxy.host, proxy.port), connect_timeout=2)
    check_lost_commit_leaves_nothing(store, proxy, "singlestore")
    store.close()
