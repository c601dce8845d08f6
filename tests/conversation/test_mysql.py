"""mysql (PyMySQL): the contract suite on a real MariaDB server, plus what is MySQL-specific.

Every test works in a database of its own, dropped afterwards. Outages are made with a
TCP proxy in front of the server or by killing the store's server threads; one slow
test stops and starts MariaDB itself.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator

import pytest

pytest.importorskip("pymysql", reason="PyMySQL is not installed (pip install 'praisonai-persistence[mysql]')")

from praisonai.persistence.conversation._sql_statements import MYSQL, ConversationStatements
from praisonai.persistence.conversation.base import (
    ConversationMessage,
    ConversationSession,
    ConversationStore,
)
from praisonai.persistence.conversation.config import MySqlConversationConfig
from praisonai.persistence.errors import AlreadyExistsError, ConfigError, StoreError
from praisonai.persistence.registry import CONVERSATION_STORES
from praisonai.persistence.testing import ConversationStoreContract
from tests.support.sql_servers import (
    address,
    can_restart_mariadb,
    kill_mysql_connections,
    mariadb_restart_guard,
    mysql_execute,
    start_mariadb,
    stop_mariadb,
    with_address,
)
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


def _open(url: str, name: str = "mysql", **options: object) -> ConversationStore:
    store = CONVERSATION_STORES.create(name, url=url, **options)
    assert isinstance(store, ConversationStore)
    return store


def _database(url: str) -> str:
    return url.rsplit("/", 1)[1]


class TestMySqlContract(ConversationStoreContract):
    @pytest.fixture
    def store(self, mysql_db_url: str) -> Iterator[ConversationStore]:
        store = _open(mysql_db_url)
        yield store
        store.close()

    @pytest.fixture
    def reopen(self, mysql_db_url: str) -> Callable[[], ConversationStore]:
        return lambda: _open(mysql_db_url.replace("mysql://", "mariadb://"), pool_size=1)


# -- configuration ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "mysql://app:pw@db.example:3307/chat?ssl_mode=VERIFY_IDENTITY&ssl_ca=/etc/ca.pem",
            {"host": "db.example", "port": 3307, "user": "app", "database": "chat", "ssl_mode": "verify_identity"},
        ),
        ("mysql+pymysql://u@h/d?ssl-mode=disabled", {"ssl_mode": "disabled", "database": "d"}),
        ("mariadb://u@h/d?charset=utf8mb4&connect_timeout=3", {"connect_timeout": 3.0, "ssl_mode": "preferred"}),
    ],
)
def test_url_forms(url: str, expected: dict[str, object]) -> None:
    config = MySqlConversationConfig.from_options(url)
    for field, value in expected.items():
        assert getattr(config, field) == value, field


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"url": "postgresql://h/d", "database": "d"}, "url"),
        ({"url": "mysql://h/d?charset=latin1", "database": "d"}, "url"),
        ({"url": "mysql://h/d?autocommit=0", "database": "d"}, "url"),
        ({"url": "mysql://h/"}, "database"),
        ({"url": "mysql://h/d", "table_prefix": "x;y"}, "table_prefix"),
        ({"url": "mysql://h/d", "ssl_mode": "sometimes"}, "ssl_mode"),
        ({"url": "mysql://h/d", "pool_size": 0}, "pool_size"),
    ],
)
def test_bad_config_names_the_field(kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(ConfigError) as caught:
        CONVERSATION_STORES.create("mysql", **kwargs)
    assert [error.field for error in caught.value.errors] == [field]


def test_password_is_masked_everywhere() -> None:
    config = MySqlConversationConfig.from_options(f"mysql://app:{SECRET}@db.example/chat")
    assert SECRET not in repr(config)
    url = f"mysql://app:{SECRET}@127.0.0.1:{closed_port()}/chat"
    check_unreachable_at_open(lambda: CONVERSATION_STORES.create("mysql", url=url, connect_timeout=2), "mysql")


def test_required_tls_is_enforced(mysql_db_url: str) -> None:
    if mysql_execute(mysql_db_url, "SHOW VARIABLES LIKE 'have_ssl'") == [("have_ssl", "YES")]:
        pytest.skip("this server offers TLS; the refusal of a plaintext connection cannot be shown")
    with pytest.raises(ConnectionError, match="SSL is required"):
        _open(mysql_db_url, ssl_mode="required", connect_timeout=2)
    _open(mysql_db_url, ssl_mode="preferred").close()  # falls back to plaintext, as documented


# -- schema and text ------------------------------------------------------------------------------------------------


def test_tables_are_utf8mb4_innodb_with_byte_exact_ids(mysql_db_url: str) -> None:
    _open(mysql_db_url, table_prefix="chat_").close()
    rows = mysql_execute(
        mysql_db_url,
        "SELECT table_name, engine, table_collation FROM information_schema.tables "
        "WHERE table_schema = %s ORDER BY table_name",
        (_database(mysql_db_url),),
    )
    assert [(name, engine) for name, engine, _ in rows] == [
        ("chat_messages", "InnoDB"),
        ("chat_schema_version", "InnoDB"),
        ("chat_sessions", "InnoDB"),
    ]
    assert all(str(collation).startswith("utf8mb4") for _, _, collation in rows)
    id_collations = mysql_execute(
        mysql_db_url,
        "SELECT DISTINCT collation_name FROM information_schema.columns "
        "WHERE table_schema = %s AND column_name IN ('session_id', 'id')",
        (_database(mysql_db_url),),
    )
    assert id_collations in ([("utf8mb4_nopad_bin",)], [("utf8mb4_0900_bin",)])


def test_ids_differing_in_case_or_trailing_space_are_different(mysql_db_url: str) -> None:
    store = _open(mysql_db_url)
    for session_id in ("abc", "ABC", "abc ", "äbc"):
        store.create_session(ConversationSession(session_id=session_id))
    assert sorted(s.session_id for s in store.list_sessions()) == sorted(["abc", "ABC", "abc ", "äbc"])
    store.add_message("abc", ConversationMessage(id="m", role="user", content="x"))
    store.add_message("abc", ConversationMessage(id="M", role="user", content="y"))
    store.add_message("abc", ConversationMessage(id="m ", role="user", content="z"))
    with pytest.raises(AlreadyExistsError):
        store.add_message("abc", ConversationMessage(id="m", role="user", content="again"))
    assert store.get_messages("abc ") == []
    store.close()


def test_four_byte_characters_round_trip(mysql_db_url: str) -> None:
    store = _open(mysql_db_url)
    text = "emoji 😀🧠 math 𝔘𝔫𝔦 cjk 𠜎 flags 🇫🇷 zwj 👩‍💻"
    store.create_session(ConversationSession(session_id=f"s-{text}", user_id=text, name=text, state={text: text}))
    store.add_message(f"s-{text}", ConversationMessage(id=text, role="user", content=text, tool_call_id=text))
    loaded = store.get_session(f"s-{text}")
    assert loaded is not None and (loaded.user_id, loaded.name, loaded.state) == (text, text, {text: text})
    (message,) = store.get_messages(f"s-{text}")
    assert (message.id, message.content, message.tool_call_id) == (text, text, text)
    raw = mysql_execute(mysql_db_url, f"SELECT content FROM `{_database(mysql_db_url)}`.praison_messages")
    assert raw == [(text,)]
    store.close()


def test_update_with_unchanged_values_still_finds_the_session(mysql_db_url: str) -> None:
    # Without the FOUND_ROWS flag MySQL reports 0 affected rows for an UPDATE that changes nothing.
    store = _open(mysql_db_url)
    session = store.create_session(ConversationSession(session_id="s"))
    store.update_session(session)
    store.update_session(session)
    store.close()


def test_every_value_is_bound_including_limit_and_offset() -> None:
    statements = ConversationStatements(MYSQL, "praison_")
    assert statements.list_sessions(True, True).endswith("LIMIT %s OFFSET %s")
    assert statements.select_messages(True, True, True).endswith("LIMIT %s")


def test_injection_through_every_string_is_inert(mysql_db_url: str) -> None:
    store = _open(mysql_db_url)
    database = _database(mysql_db_url)
    mysql_execute(mysql_db_url, f"CREATE TABLE `{database}`.canary (x int)")
    mysql_execute(mysql_db_url, f"INSERT INTO `{database}`.canary VALUES (1)")
    exercise_hostile_inputs(store)
    store.close()
    assert mysql_execute(mysql_db_url, f"SELECT count(*) FROM `{database}`.canary") == [(1,)]


def test_stores_created_at_once_all_work(mysql_db_url: str) -> None:
    stores: list[ConversationStore] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(4)

    def open_one() -> None:
        barrier.wait()
        try:
            stores.append(_open(mysql_db_url, pool_size=1))
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


def test_sync_and_async_stores_share_one_schema(mysql_db_url: str) -> None:
    import asyncio

    pytest.importorskip("aiomysql", reason="aiomysql is not installed")
    sync_store = _open(mysql_db_url)
    sync_store.create_session(ConversationSession(session_id="s"))
    sync_store.add_message("s", ConversationMessage(role="user", content="from sync", created_at=1.0))

    async def use_async() -> list[str]:
        store = CONVERSATION_STORES.create("aiomysql", url=mysql_db_url)
        await store.add_message("s", ConversationMessage(role="user", content="from async", created_at=2.0))
        contents = [m.content for m in await store.get_messages("s")]
        await store.close()
        return contents

    assert asyncio.run(use_async()) == ["from sync", "from async"]
    assert [m.content for m in sync_store.get_messages("s")] == ["from sync", "from async"]
    sync_store.close()


def test_closed_store_refuses_calls(mysql_db_url: str) -> None:
    store = _open(mysql_db_url)
    store.close()
    store.close()
    with pytest.raises(StoreError, match="closed"):
        store.list_sessions()


# -- the server going away ------------------------------------------------------------------------------------------


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
    check_outage(store, proxy, "mysql")
    store.close()


def test_connection_lost_at_commit_leaves_nothing(mysql_db_url: str, proxy: TcpProxy) -> None:
    store = _open(with_address(mysql_db_url, proxy.host, proxy.port), connect_timeout=2)
    check_lost_commit_leaves_nothing(store, proxy, "mysql")
    store.close()


@pytest.mark.slow
@pytest.mark.server
def test_same_store_works_after_the_server_is_stopped_and_started(mysql_db_url: str) -> None:
    if not can_restart_mariadb():
        pytest.skip("mariadbd and mysqladmin are not available to restart MariaDB here")
    store = _open(mysql_db_url, connect_timeout=2)
    store.create_session(ConversationSession(session_id="s"))
    store.add_message("s", ConversationMessage(role="user", content="before", created_at=1.0))
    with mariadb_restart_guard(mysql_db_url):
        stop_mariadb(mysql_db_url)
        with pytest.raises(ConnectionError, match=r"\[mysql\]"):
            store.add_message("s", ConversationMessage(role="user", content="during", created_at=2.0))
        start_mariadb(mysql_db_url)
    store.add_message("s", ConversationMessage(role="user", content="after", created_at=3.0))
    assert [m.content for m in store.get_messages("s")] == ["before", "after"]
    store.close()
