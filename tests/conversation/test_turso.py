"""turso (libSQL): the contract suite on local libSQL files, plus config, sharing the sqlite schema,
several processes, and SIGKILLed writers.

No test reaches a Turso server: the remote and embedded-replica connections are checked for their
configuration and for the error an unreachable server gives, nothing more.
"""

from __future__ import annotations

import re
import socket
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from praisonai.persistence.conversation.base import ConversationMessage, ConversationSession, ConversationStore
from praisonai.persistence.conversation.config import TursoConversationConfig
from praisonai.persistence.errors import BackendUnavailableError, ConfigError, InvalidInputError
from praisonai.persistence.registry import CONVERSATION_STORES
from praisonai.persistence.testing import ConversationStoreContract

from ._processes import kill_mid_stream, modules_after, run_writers

TOKEN = "eyJ-very-secret-token"


class TestTursoContract(ConversationStoreContract):
    @pytest.fixture
    def store(self, tmp_path: Path) -> Iterator[ConversationStore]:
        store = CONVERSATION_STORES.create("turso", path=str(tmp_path / "chat.db"))
        yield store
        store.close()

    @pytest.fixture
    def reopen(self, tmp_path: Path) -> Callable[[], ConversationStore]:
        return lambda: CONVERSATION_STORES.create("libsql", url=f"sqlite:///{tmp_path / 'chat.db'}")


def _message(content: str, created_at: float = 1.0) -> ConversationMessage:
    return ConversationMessage(role="user", content=content, created_at=created_at)


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# -- configuration -------------------------------------------------------------


def test_default_path_is_under_the_data_dir(tmp_path: Path) -> None:
    store = CONVERSATION_STORES.create("turso")
    store.create_session(ConversationSession(session_id="x"))
    store.close()
    assert (tmp_path / "praisonai-data" / "conversations-libsql.db").exists()


@pytest.mark.parametrize(
    ("url", "options", "expected"),
    [
        ("local/chat.db", {}, ("local", "local/chat.db", None, None)),
        ("sqlite:////abs/chat.db", {}, ("local", "/abs/chat.db", None, None)),
        ("file:///rel/chat.db", {}, ("local", "rel/chat.db", None, None)),
        (f"libsql://db-org.turso.io?authToken={TOKEN}", {}, ("remote", None, "libsql://db-org.turso.io", TOKEN)),
        ("https://db-org.turso.io", {"auth_token": TOKEN}, ("remote", None, "https://db-org.turso.io", TOKEN)),
        ("http://127.0.0.1:8080", {}, ("remote", None, "http://127.0.0.1:8080", None)),
        (
            "libsql://db-org.turso.io",
            {"auth_token": TOKEN, "replica_path": "replica.db", "sync_interval": 30},
            ("replica", None, "libsql://db-org.turso.io", TOKEN),
        ),
    ],
)
def test_url_forms(url: str, options: dict[str, object], expected: tuple[object, ...]) -> None:
    config = TursoConversationConfig.from_options(url, options)
    token = config.auth_token.get_secret_value() if config.auth_token else None
    assert (config.mode, config.path, config.url, token) == expected
    assert TOKEN not in repr(config) and TOKEN not in str(config)


@pytest.mark.parametrize(
    ("url", "options", "field", "says"),
    [
        (None, {"auth_token": TOKEN}, "auth_token", "only used with a remote url"),
        (None, {"replica_path": "r.db"}, "replica_path", "needs the url"),
        (None, {"path": "a.db", "sync_interval": 5}, "sync_interval", "embedded replica only"),
        ("libsql://db.turso.io", {"path": "a.db"}, "url", "not both"),
        ("ws://db.turso.io", {}, "url", "libsql://, https:// or http://"),
        (f"libsql://user:{TOKEN}@db.turso.io", {}, "url", "auth_token, not in the URL"),
        ("libsql://", {}, "url", "no host"),
        (None, {"path": ""}, "path", "must not be empty"),
        (None, {"table_prefix": "x; DROP TABLE y"}, "table_prefix", "letters, digits"),
        (None, {"busy_timeout": -1}, "busy_timeout", "greater than 0"),
    ],
)
def test_inconsistent_config_is_refused_naming_the_field(
    url: str | None, options: dict[str, object], field: str, says: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        CONVERSATION_STORES.create("turso", url=url, **options)
    assert [error.field for error in caught.value.errors] == [field]
    assert says in str(caught.value)
    assert TOKEN not in str(caught.value)


def test_unreachable_remote_database_is_backend_unavailable() -> None:
    url = f"http://127.0.0.1:{_closed_port()}"
    with pytest.raises(BackendUnavailableError, match="cannot reach the remote database") as caught:
        CONVERSATION_STORES.create("turso", url=url, auth_token=TOKEN)
    assert isinstance(caught.value, ConnectionError)
    assert TOKEN not in str(caught.value)


def test_unreachable_replica_primary_is_backend_unavailable(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{_closed_port()}"
    with pytest.raises(BackendUnavailableError) as caught:
        CONVERSATION_STORES.create("turso", url=url, auth_token=TOKEN, replica_path=str(tmp_path / "replica.db"))
    assert TOKEN not in str(caught.value)


def test_a_bad_config_fails_before_the_adapter_or_driver_is_imported() -> None:
    loaded = modules_after(
        "from praisonai.persistence.registry import CONVERSATION_STORES\n"
        "from praisonai.persistence.errors import ConfigError\n"
        "try:\n"
        "    CONVERSATION_STORES.create('turso', url='libsql://db.turso.io', path='x.db')\n"
        "except ConfigError:\n"
        "    pass\n"
        "else:\n"
        "    raise SystemExit('no ConfigError')"
    )
    assert "praisonai.persistence.conversation.turso" not in loaded
    assert "libsql" not in loaded


# -- one SQL layer ------------------------------------------------------------------


def test_sqlite_and_turso_read_each_others_files(tmp_path: Path) -> None:
    path = str(tmp_path / "shared.db")
    turso = CONVERSATION_STORES.create("turso", path=path)
    turso.create_session(ConversationSession(session_id="s", state={"from": "turso"}))
    turso.add_message("s", _message("by libsql", 1.0))
    turso.close()
    sqlite = CONVERSATION_STORES.create("sqlite", path=path)
    loaded = sqlite.get_session("s")
    assert loaded is not None and loaded.state == {"from": "turso"}
    sqlite.add_message("s", _message("by sqlite3", 2.0))
    sqlite.close()
    turso = CONVERSATION_STORES.create("turso", path=path)
    assert [m.content for m in turso.get_messages("s")] == ["by libsql", "by sqlite3"]
    turso.close()


# -- bad and oversized input ----------------------------------------------------------


@pytest.mark.parametrize(
    ("session_id", "message"),
    [("x" * 256, "session_id is 256 characters long; the limit is 255"), ("", "session_id must not be empty")],
)
def test_bad_and_oversized_ids_get_a_clear_error(tmp_path: Path, session_id: str, message: str) -> None:
    store = CONVERSATION_STORES.create("turso", path=str(tmp_path / "chat.db"))
    with pytest.raises(InvalidInputError, match=re.escape(message)) as caught:
        store.create_session(ConversationSession(session_id=session_id))
    assert "[turso]" in str(caught.value)
    assert store.list_sessions() == []
    store.close()


def test_text_with_nul_is_refused_not_truncated(tmp_path: Path) -> None:
    store = CONVERSATION_STORES.create("turso", path=str(tmp_path / "chat.db"))
    store.create_session(ConversationSession(session_id="s"))
    with pytest.raises(InvalidInputError, match="NUL"):
        store.add_message("s", _message("before\x00after"))
    with pytest.raises(InvalidInputError, match="NUL"):
        store.add_messages("s", [_message("fine"), _message("bad\x00")])
    with pytest.raises(InvalidInputError, match="NUL"):
        store.update_session(ConversationSession(session_id="s", name="a\x00b"))
    assert store.get_messages("s") == []
    store.add_message("s", _message("x" * 2_000_000))  # large text is fine
    assert len(store.get_messages("s")[0].content) == 2_000_000
    store.close()


# -- concurrency and persistence ------------------------------------------------------


def test_two_instances_on_one_file_lose_nothing(tmp_path: Path) -> None:
    path = str(tmp_path / "chat.db")
    stores = [CONVERSATION_STORES.create("turso", path=path) for _ in range(2)]
    stores[0].create_session(ConversationSession(session_id="s"))
    errors: list[BaseException] = []

    def write(store: ConversationStore, tag: str) -> None:
        try:
            for index in range(30):
                store.add_message("s", _message(f"{tag}-{index:02d}"))
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=write, args=(stores[n % 2], f"t{n}")) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    messages = stores[1].get_messages("s")
    assert len(messages) == 180 and len({m.id for m in messages}) == 180
    for store in stores:
        store.close()


def test_writer_processes_lose_nothing(tmp_path: Path) -> None:
    options = {"path": str(tmp_path / "chat.db"), "busy_timeout": 60}
    acked = run_writers("turso", options, "shared", writers=4, count=40)
    store = CONVERSATION_STORES.create("turso", **options)
    messages = store.get_messages("shared")
    assert sorted(m.id for m in messages) == sorted(i for ids in acked for i in ids)
    for writer in range(4):
        mine = [m.content for m in messages if m.content.startswith(f"p{writer}-")]
        assert mine == sorted(mine) and len(mine) == 40
    store.close()


def test_sigkilled_writers_lose_no_acknowledged_write(tmp_path: Path) -> None:
    options = {"path": str(tmp_path / "chat.db")}
    added, deleted, in_flight = kill_mid_stream("turso", options, "k", rounds=5, seed=11)
    store = CONVERSATION_STORES.create("turso", **options)
    stored = {m.id for m in store.get_messages("k")}
    assert added - deleted - in_flight <= stored
    assert not (deleted & stored)
    store.close()


def test_fresh_instance_reads_back_after_close(tmp_path: Path) -> None:
    path = str(tmp_path / "chat.db")
    first = CONVERSATION_STORES.create("turso", path=path)
    first.create_session(ConversationSession(session_id="s", metadata={"k": [1, 2]}))
    first.add_messages("s", [_message("a"), _message("b")])
    first.close()
    first.close()  # idempotent
    second = CONVERSATION_STORES.create("libsql", path=path)
    loaded = second.get_session("s")
    assert loaded is not None and loaded.metadata == {"k": [1, 2]}
    assert [m.content for m in second.get_messages("s")] == ["a", "b"]
    second.close()
