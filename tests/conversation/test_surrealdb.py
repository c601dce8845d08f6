"""surrealdb: the contract suite on the SDK's embedded engine (mem:// and surrealkv://), plus config,
injection attempts, the one-process-per-directory lock, and SIGKILLed writers.

No test reaches a SurrealDB server: ws:// and http:// are checked for their configuration and for the
error an unreachable server gives, nothing more.
"""

from __future__ import annotations

import json
import re
import socket
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from praisonai.persistence.conversation.base import ConversationMessage, ConversationSession, ConversationStore
from praisonai.persistence.conversation.config import SurrealDbConversationConfig
from praisonai.persistence.errors import BackendUnavailableError, ConfigError, InvalidInputError, StoreError
from praisonai.persistence.registry import CONVERSATION_STORES
from praisonai.persistence.testing import ConversationStoreContract

from ._processes import WRITER, kill_mid_stream, modules_after, run_writers

PASSWORD = "s3cret-surreal-pw"


class TestSurrealMemoryContract(ConversationStoreContract):
    @pytest.fixture
    def store(self) -> Iterator[ConversationStore]:
        store = CONVERSATION_STORES.create("surrealdb", url="mem://")
        yield store
        store.close()


class TestSurrealKvContract(ConversationStoreContract):
    @pytest.fixture
    def store(self, tmp_path: Path) -> Iterator[ConversationStore]:
        store = CONVERSATION_STORES.create("surrealdb", url=f"surrealkv://{tmp_path / 'kv'}", table_prefix="t_")
        yield store
        store.close()

    @pytest.fixture
    def reopen(self, tmp_path: Path) -> Callable[[], ConversationStore]:
        return lambda: CONVERSATION_STORES.create("surrealdb", url=str(tmp_path / "kv"), table_prefix="t_")


def _message(content: str, created_at: float = 1.0, message_id: str | None = None) -> ConversationMessage:
    message = ConversationMessage(role="user", content=content, created_at=created_at)
    if message_id is not None:
        message.id = message_id
    return message


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def kv(tmp_path: Path) -> str:
    return f"surrealkv://{tmp_path / 'kv'}"


# -- configuration -------------------------------------------------------------


def test_default_is_a_surrealkv_directory_under_the_data_dir(tmp_path: Path) -> None:
    store = CONVERSATION_STORES.create("surrealdb")
    store.create_session(ConversationSession(session_id="x"))
    store.close()
    assert (tmp_path / "praisonai-data" / "conversations.surrealkv").is_dir()
    assert (tmp_path / "praisonai-data" / "conversations.surrealkv.lock").exists()


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("mem://", ("mem://", None, "praisonai", "conversations", None)),
        ("surrealkv:///abs/dir", ("surrealkv:///abs/dir", "/abs/dir", "praisonai", "conversations", None)),
        ("surrealkv://rel/dir", ("surrealkv://rel/dir", "rel/dir", "praisonai", "conversations", None)),
        ("plain/dir", ("surrealkv://plain/dir", "plain/dir", "praisonai", "conversations", None)),
        (
            f"ws://root:{PASSWORD}@db.example:8000/rpc?ns=app&db=chat",
            ("ws://db.example:8000/rpc", None, "app", "chat", "root"),
        ),
        ("https://db.example", ("https://db.example", None, "praisonai", "conversations", None)),
    ],
)
def test_url_forms(url: str, expected: tuple[object, ...]) -> None:
    config = SurrealDbConversationConfig.from_options(url)
    assert (config.url, config.directory, config.namespace, config.database, config.username) == expected
    assert PASSWORD not in repr(config)


@pytest.mark.parametrize(
    ("url", "options", "field", "says"),
    [
        ("mem://", {"username": "root", "password": PASSWORD}, "username", "embedded engine has no users"),
        ("redis://x", {}, "url", "expected mem://"),
        ("surrealkv://", {}, "url", "needs a directory"),
        ("ws://", {}, "url", "has no host"),
        ("ws://db", {"token": PASSWORD, "username": "root"}, "token", "not both"),
        ("ws://db", {"password": PASSWORD}, "password", "needs a username"),
        ("mem://", {"namespace": "a b"}, "namespace", "letters, digits"),
        ("mem://", {"table_prefix": "x`; REMOVE TABLE y"}, "table_prefix", "letters, digits"),
    ],
)
def test_bad_config_is_refused_naming_the_field(url: str, options: dict[str, object], field: str, says: str) -> None:
    with pytest.raises(ConfigError) as caught:
        CONVERSATION_STORES.create("surrealdb", url=url, **options)
    assert field in [error.field for error in caught.value.errors]
    assert says in str(caught.value)
    assert PASSWORD not in str(caught.value)


@pytest.mark.parametrize("scheme", ["ws", "http"])
@pytest.mark.parametrize("credentials", [f"root:{PASSWORD}@", ""])
def test_unreachable_server_is_backend_unavailable(scheme: str, credentials: str) -> None:
    url = f"{scheme}://{credentials}127.0.0.1:{_closed_port()}"
    with pytest.raises(BackendUnavailableError, match="cannot reach the SurrealDB server") as caught:
        CONVERSATION_STORES.create("surrealdb", url=url)
    assert isinstance(caught.value, ConnectionError)
    assert PASSWORD not in str(caught.value)


def test_a_bad_config_fails_before_the_adapter_or_driver_is_imported() -> None:
    loaded = modules_after(
        "from praisonai.persistence.registry import CONVERSATION_STORES\n"
        "from praisonai.persistence.errors import ConfigError\n"
        "try:\n"
        "    CONVERSATION_STORES.create('surrealdb', url='mem://', username='root')\n"
        "except ConfigError:\n"
        "    pass\n"
        "else:\n"
        "    raise SystemExit('no ConfigError')"
    )
    assert "praisonai.persistence.conversation.surrealdb" not in loaded
    assert "surrealdb" not in loaded


# -- safety of ids and values ---------------------------------------------------------

HOSTILE = [
    "x'); DELETE praison_sessions; --",
    "a⟩; REMOVE TABLE canary; ⟨b",
    "`; REMOVE TABLE canary; `",
    "canary:1",
    "$srid",
    "{ id: 1 }",
    "[1, 2]",
    "ünï©ødé 👋",
]


def test_hostile_ids_and_values_are_inert() -> None:
    store = CONVERSATION_STORES.create("surrealdb", url="mem://")
    engine = store._engine
    engine.connection.query("CREATE canary:1 SET alive = true")
    for value in HOSTILE:
        store.create_session(ConversationSession(session_id=value, user_id=value, name=value, state={value: value}))
        store.add_message(value, _message(value, message_id=value))
    for value in HOSTILE:
        loaded = store.get_session(value)
        assert loaded is not None and (loaded.name, loaded.state) == (value, {value: value})
        assert store.list_sessions(user_id=value)[0].session_id == value
        assert [(m.id, m.content) for m in store.get_messages(value)] == [(value, value)]
    assert len(store.list_sessions()) == len(HOSTILE)
    assert store.delete_messages(HOSTILE[0], [HOSTILE[0]]) == 1
    assert store.delete_session(HOSTILE[1]) is True
    assert engine.connection.query("SELECT VALUE alive FROM canary:1") == [True]
    store.close()


@pytest.mark.parametrize(
    ("session_id", "message"),
    [
        ("x" * 256, "session_id is 256 characters long; the limit is 255"),
        ("", "session_id must not be empty"),
        ("a\x00b", "session_id must not contain a NUL character"),
    ],
)
def test_bad_and_oversized_ids_get_a_clear_error(session_id: str, message: str) -> None:
    store = CONVERSATION_STORES.create("surrealdb", url="mem://")
    with pytest.raises(InvalidInputError, match=re.escape(message)) as caught:
        store.create_session(ConversationSession(session_id=session_id))
    assert "[surrealdb]" in str(caught.value)
    assert store.list_sessions() == []
    store.close()


def test_text_the_engine_cannot_hold_is_refused() -> None:
    store = CONVERSATION_STORES.create("surrealdb", url="mem://")
    store.create_session(ConversationSession(session_id="s"))
    with pytest.raises(InvalidInputError, match="NUL"):
        store.add_message("s", _message("before\x00after"))
    with pytest.raises(InvalidInputError, match="lone surrogate"):
        store.add_messages("s", [_message("fine"), _message("bad \ud800")])
    with pytest.raises(InvalidInputError, match="NUL"):
        store.update_session(ConversationSession(session_id="s", name="a\x00b"))
    assert store.get_messages("s") == []
    store.close()


# -- one engine per directory -----------------------------------------------------------


def test_instances_in_one_process_share_the_engine(kv: str) -> None:
    first = CONVERSATION_STORES.create("surrealdb", url=kv)
    second = CONVERSATION_STORES.create("surrealdb", url=kv)
    other_db = CONVERSATION_STORES.create("surrealdb", url=kv, database="elsewhere")
    first.create_session(ConversationSession(session_id="s"))
    errors: list[BaseException] = []

    def write(store: ConversationStore, tag: str) -> None:
        try:
            for index in range(30):
                store.add_message("s", _message(f"{tag}-{index:02d}"))
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=write, args=([first, second][n % 2], f"t{n}")) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    messages = second.get_messages("s")
    assert len(messages) == 180 and len({m.id for m in messages}) == 180
    for n in range(6):
        mine = [m.content for m in messages if m.content.startswith(f"t{n}-")]
        assert mine == sorted(mine)
    assert other_db.get_session("s") is None  # same engine, other database
    first.close()
    assert second.get_session("s") is not None  # still open for the other instance
    second.close()
    other_db.close()


def test_a_second_process_is_refused_while_the_directory_is_open(kv: str) -> None:
    store = CONVERSATION_STORES.create("surrealdb", url=kv)
    command = [sys.executable, str(WRITER), "surrealdb", json.dumps({"url": kv}), "create", "s", "intruder", "0"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode != 0
    assert "another process has" in result.stderr and "open" in result.stderr
    store.close()
    result = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    assert (result.returncode, result.stdout.strip()) == (0, "created")


def test_another_process_reads_back_what_was_written(kv: str) -> None:
    (acked,) = run_writers("surrealdb", {"url": kv}, "shared", writers=1, count=25)
    store = CONVERSATION_STORES.create("surrealdb", url=kv)
    assert [m.id for m in store.get_messages("shared")] == acked
    store.close()


def test_sigkilled_writers_lose_no_acknowledged_write(kv: str) -> None:
    added, deleted, in_flight = kill_mid_stream("surrealdb", {"url": kv}, "k", rounds=5, seed=3)
    store = CONVERSATION_STORES.create("surrealdb", url=kv)  # the dead writer's lock is gone
    stored = {m.id for m in store.get_messages("k")}
    assert added - deleted - in_flight <= stored
    assert not (deleted & stored)
    store.close()


def test_fresh_instance_reads_back_after_close(kv: str) -> None:
    first = CONVERSATION_STORES.create("surrealdb", url=kv)
    first.create_session(ConversationSession(session_id="s", state={"n": 1.0, "i": 1}))
    first.add_messages("s", [_message("a"), _message("b")])
    first.close()
    first.close()  # idempotent
    with pytest.raises(StoreError, match="closed"):
        first.get_session("s")
    second = CONVERSATION_STORES.create("surrealdb", url=kv)
    loaded = second.get_session("s")
    assert loaded is not None and loaded.state == {"n": 1.0, "i": 1}
    assert type(loaded.state["n"]) is float and type(loaded.state["i"]) is int
    assert [m.content for m in second.get_messages("s")] == ["a", "b"]
    second.close()
