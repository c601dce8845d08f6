"""StoreRegistry: registration, lookup, errors, contract checks and thread safety."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from praisonai.persistence._catalogue import BUILTINS
from praisonai.persistence.conversation.base import ConversationSession, ConversationStore
from praisonai.persistence.errors import (
    BackendNotFoundError,
    ConfigError,
    ContractError,
    PersistenceError,
    RegistrationError,
)
from praisonai.persistence.registry import (
    CONVERSATION_STORES,
    KNOWLEDGE_STORES,
    STATE_STORES,
    ConversationStoreRegistry,
    StateStoreRegistry,
    StoreRegistry,
)
from praisonai.persistence.state.base import StateStore
from praisonai.persistence.state.memory import MemoryStateStore


@pytest.fixture
def registry() -> ConversationStoreRegistry:
    # A private registry with the built-ins and no entry points of its own group.
    return ConversationStoreRegistry("conversation", "praisonai.tests_no_such_group")


def memory_factory(url: str | None = None, **kwargs: Any) -> StateStore:
    return MemoryStateStore()


class ExplicitStore(ConversationStore):
    """Subclasses the protocol explicitly and implements the abstract members."""

    def __init__(self, url: str | None = None, **kwargs: Any) -> None:
        self.url, self.kwargs, self.closed = url, kwargs, False
        self.sessions: dict[str, ConversationSession] = {}

    def create_session(self, session: ConversationSession) -> ConversationSession:
        self.sessions[session.session_id] = session
        return session

    def get_session(self, session_id: str) -> ConversationSession | None:
        return self.sessions.get(session_id)

    def update_session(self, session: ConversationSession) -> ConversationSession:
        return session

    def delete_session(self, session_id: str) -> bool:
        return self.sessions.pop(session_id, None) is not None

    def list_sessions(self, user_id: Any = None, agent_id: Any = None, limit: int = 100, offset: int = 0) -> Any:
        return list(self.sessions.values())

    def add_message(self, session_id: str, message: Any) -> Any:
        return message

    def get_messages(self, session_id: str, limit: Any = None, before: Any = None, after: Any = None) -> Any:
        return []

    def delete_messages(self, session_id: str, message_ids: Any = None) -> int:
        return 0

    def close(self) -> None:
        self.closed = True


def test_reference_quick_start(registry: ConversationStoreRegistry) -> None:
    def my_store_factory(url: str | None = None, **kwargs: Any) -> ExplicitStore:
        return ExplicitStore(url=url, **kwargs)

    registry.register("mybackend", my_store_factory, aliases=("mb",))
    store = registry.create("mb", url="proto://host")
    assert isinstance(store, ExplicitStore) and store.url == "proto://host"
    assert "mybackend" in registry.list_registered()
    assert registry.list_aliases()["mb"] == "mybackend"


def test_explicit_subclass_inherits_defaults() -> None:
    store = ExplicitStore()
    with store as entered:
        upserted = entered.upsert_session(ConversationSession(session_id="s"))
        assert upserted.session_id == "s"
        assert entered.add_messages("s", []) == []
    assert store.closed


def test_explicit_subclass_missing_a_member_cannot_be_instantiated() -> None:
    class Incomplete(ConversationStore):
        def close(self) -> None: ...

    with pytest.raises(TypeError, match="abstract"):
        Incomplete()  # type: ignore[abstract]


def test_custom_database_adapter_gets_a_type_error_naming_missing_members(registry: StoreRegistry[Any]) -> None:
    class CustomDBConversationStore:
        def __init__(self, url: str | None = None, **kwargs: Any) -> None:
            self.url = url

        def save_session(self, session: Any) -> None: ...

        def load_session(self, session_id: str) -> None: ...

    registry.register("customdb", lambda url=None, **kwargs: CustomDBConversationStore(url=url, **kwargs))
    with pytest.raises(TypeError) as caught:
        registry.create("customdb", url="custom://localhost:5432/db")
    error = caught.value
    assert isinstance(error, ContractError) and isinstance(error, PersistenceError)
    message = str(error)
    assert "'customdb'" in message and "CustomDBConversationStore" in message
    for member in ("create_session", "get_messages", "add_message", "close", "upsert_session"):
        assert member in error.missing and member in message


def test_async_methods_in_a_sync_store_are_named(registry: ConversationStoreRegistry) -> None:
    class HalfAsync(ExplicitStore):
        async def get_session(self, session_id: str) -> Any:  # type: ignore[override]
            return None

    registry.register("halfasync", HalfAsync)
    with pytest.raises(ContractError, match="async in a sync store: get_session"):
        registry.create("halfasync")


def test_a_verified_class_is_checked_again_when_an_instance_shadows_a_method(
    registry: ConversationStoreRegistry,
) -> None:
    # create() skips the check for classes already verified on their own methods (it is timed in
    # microseconds); an instance attribute hiding a method must still be caught.
    class Shadowing(ExplicitStore):
        def __init__(self, hide: bool = False, **kwargs: Any) -> None:
            super().__init__(**kwargs)
            if hide:
                self.get_messages = None  # type: ignore[assignment]

    registry.register("shadowing", Shadowing)
    registry.create("shadowing").close()
    with pytest.raises(ContractError, match="missing get_messages"):
        registry.create("shadowing", hide=True)


def test_a_proxy_is_checked_per_instance(registry: ConversationStoreRegistry, tmp_path: Any) -> None:
    from praisonai.persistence.conversation.async_sqlite import AsyncSqliteConversationStore
    from praisonai.persistence.conversation.config import AsyncSqliteConversationConfig

    class Proxy:
        def __init__(self, target: Any) -> None:
            self._target = target

        def __getattr__(self, name: str) -> Any:
            return getattr(self._target, name)

    registry.register("proxy", lambda target: Proxy(target))
    registry.create("proxy", target=ExplicitStore()).close()
    async_store = AsyncSqliteConversationStore(AsyncSqliteConversationConfig(path=str(tmp_path / "p.db")))
    assert not isinstance(registry.create("proxy", target=async_store), ConversationStore)


def test_async_store_satisfies_the_async_twin(registry: ConversationStoreRegistry, tmp_path: Any) -> None:
    from praisonai.persistence.conversation.async_sqlite import AsyncSqliteConversationStore
    from praisonai.persistence.conversation.config import AsyncSqliteConversationConfig

    registry.register("myasync", lambda **kw: AsyncSqliteConversationStore(AsyncSqliteConversationConfig(**kw)))
    store = registry.create("myasync", path=str(tmp_path / "a.db"))
    assert isinstance(store, AsyncSqliteConversationStore)


def test_unknown_backend_lists_names_and_suggests(registry: ConversationStoreRegistry) -> None:
    with pytest.raises(ValueError) as caught:
        registry.create("sqlit")
    error = caught.value
    assert isinstance(error, BackendNotFoundError)
    assert "Did you mean 'sqlite'?" in str(error)
    assert "async_sqlite" in str(error) and "aiosqlite -> async_sqlite" in str(error)
    assert error.suggestion == "sqlite"


def test_unknown_alias_suggestion_resolves_to_the_canonical_name(registry: ConversationStoreRegistry) -> None:
    with pytest.raises(BackendNotFoundError) as caught:
        registry.create("aiosqlit")
    assert caught.value.suggestion == "async_sqlite"


def test_names_are_lowercased_and_validated(registry: ConversationStoreRegistry) -> None:
    registry.register("MyStore", ExplicitStore, aliases=("MS",))
    assert "mystore" in registry and "MYSTORE" in registry and "ms" in registry
    for bad in ("", "1abc", "has space", "dash-ed", "x" * 65, "ünï"):
        with pytest.raises(RegistrationError):
            registry.register(bad, ExplicitStore)
    with pytest.raises(RegistrationError):
        registry.register("ok_name", ExplicitStore, aliases="ok_alias")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        registry.register("not_callable", 42)  # type: ignore[arg-type]


def test_no_silent_hijack(registry: ConversationStoreRegistry) -> None:
    with pytest.raises(RegistrationError, match="built-in"):
        registry.register("sqlite", ExplicitStore)
    with pytest.raises(RegistrationError, match="alias"):
        registry.register("aiosqlite", ExplicitStore)
    with pytest.raises(RegistrationError, match="already points to"):
        registry.register("mine", ExplicitStore, aliases=("sqlite_async",))
    with pytest.raises(RegistrationError, match="can never replace a backend"):
        registry.register("mine", ExplicitStore, aliases=("sqlite",), replace=True)
    assert registry.describe("sqlite").source == "builtin"
    assert registry.list_aliases()["sqlite_async"] == "async_sqlite"
    assert "mine" not in registry


def test_replace_is_the_explicit_override(registry: ConversationStoreRegistry) -> None:
    registry.register("sqlite", ExplicitStore, replace=True)
    assert isinstance(registry.create("sqlite"), ExplicitStore)
    assert registry.describe("sqlite").source == "runtime"
    registry.register("mine", ExplicitStore, aliases=("aiosqlite",), replace=True)
    assert registry.list_aliases()["aiosqlite"] == "mine"
    assert "aiosqlite" not in registry.describe("async_sqlite").aliases


def test_registering_the_same_factory_twice_is_a_no_op(registry: ConversationStoreRegistry) -> None:
    registry.register("twice", ExplicitStore, aliases=("tw",))
    registry.register("twice", ExplicitStore, aliases=("tw",))
    with pytest.raises(RegistrationError):
        registry.register("twice", lambda **kw: ExplicitStore())


def test_unregister(registry: ConversationStoreRegistry) -> None:
    registry.register("gone", ExplicitStore, aliases=("g",))
    registry.unregister("g")
    assert "gone" not in registry and "g" not in registry
    assert "g" not in registry.list_aliases()
    with pytest.raises(BackendNotFoundError):
        registry.unregister("gone")


def test_contains_and_describe(registry: ConversationStoreRegistry) -> None:
    assert "sqlite" in registry and "aiosqlite" in registry and "postgress" not in registry
    assert 42 not in registry
    info = registry.describe("aiosqlite")
    assert (info.name, info.source, info.extra, info.tier, info.is_async) == (
        "async_sqlite",
        "builtin",
        None,  # the standard library's sqlite3 on a worker thread: no extra to install
        "embedded",
        True,
    )
    assert info.driver_installed is True
    assert registry.describe("sqlite").driver_installed is True
    registry.register("rt", ExplicitStore)
    runtime = registry.describe("rt")
    assert (runtime.source, runtime.extra, runtime.tier, runtime.driver_installed) == ("runtime", None, None, None)


def test_builtin_config_is_validated_before_the_adapter_is_imported(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    registry = StateStoreRegistry("state", "praisonai.tests_no_such_group")
    monkeypatch.delitem(sys.modules, "praisonai.persistence.state.memory", raising=False)
    with pytest.raises(ConfigError) as caught:
        registry.create("memory", compact_every=0, snapshot_pth="x")
    assert "praisonai.persistence.state.memory" not in sys.modules
    fields = sorted(error.field for error in caught.value.errors)
    assert fields == ["compact_every", "snapshot_pth"]
    assert "did you mean 'snapshot_path'" in str(caught.value)


def test_validate_returns_the_config_object_with_the_values() -> None:
    from praisonai.persistence.conversation.config import PostgresConversationConfig
    from praisonai.persistence.state.config import MemoryStateConfig

    config = CONVERSATION_STORES.validate("postgres", url="postgresql://app@db.example:5433/chat", pool_size=7)
    assert isinstance(config, PostgresConversationConfig)
    assert (config.host, config.port, config.database, config.pool_size) == ("db.example", 5433, "chat", 7)
    state = STATE_STORES.validate("memory", compact_every=5)
    assert isinstance(state, MemoryStateConfig) and state.compact_every == 5
    assert isinstance(STATE_STORES.create(state), MemoryStateStore)


def test_validate_a_bad_option_names_backend_and_field_with_the_secret_masked() -> None:
    with pytest.raises(ConfigError) as caught:
        CONVERSATION_STORES.validate("postgres", url="postgresql://app:hunter2@db.example/chat", pool_size=0)
    assert caught.value.backend == "postgres"
    assert [error.field for error in caught.value.errors] == ["pool_size"]
    assert "'postgres'" in str(caught.value) and "pool_size" in str(caught.value)
    assert "hunter2" not in str(caught.value) + repr(caught.value.errors)


def test_validate_resolves_an_alias_and_rejects_an_unknown_name(registry: ConversationStoreRegistry) -> None:
    from praisonai.persistence.conversation.config import PostgresConversationConfig

    assert isinstance(registry.validate("neon", url="postgresql://app@db/chat"), PostgresConversationConfig)
    with pytest.raises(BackendNotFoundError, match="Did you mean 'sqlite'"):
        registry.validate("sqlit")


def test_validate_a_plugin_backend_checks_its_name_only(registry: ConversationStoreRegistry) -> None:
    registry.register("plugin_store", ExplicitStore)
    assert registry.validate("plugin_store", url="anything", whatever=1) is None


def test_validate_imports_no_adapter_and_no_driver() -> None:
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from praisonai.persistence.registry import CONVERSATION_STORES, STATE_STORES\n"
        "CONVERSATION_STORES.validate('postgres', url='postgresql://app@db/chat')\n"
        "CONVERSATION_STORES.validate('async_postgres', url='postgresql://app@db/chat')\n"
        "STATE_STORES.validate('redis', url='redis://localhost:6379/0')\n"
        "loaded = [name for name in sys.modules if name.split('.')[0] in {'psycopg', 'asyncpg', 'redis'}\n"
        "          or name in {'praisonai.persistence.conversation.postgres', 'praisonai.persistence.state.redis'}]\n"
        "print(loaded)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_create_with_a_config_object() -> None:
    from praisonai.persistence.conversation.config import SqliteConversationConfig
    from praisonai.persistence.state.config import MemoryStateConfig

    store = STATE_STORES.create(MemoryStateConfig())
    assert isinstance(store, MemoryStateStore)
    conversation = CONVERSATION_STORES.create(SqliteConversationConfig(path=":memory:"))
    assert isinstance(conversation, ConversationStore)
    conversation.close()
    with pytest.raises(TypeError, match="not a state backend"):
        STATE_STORES.create(SqliteConversationConfig(path=":memory:"))  # type: ignore[call-overload]
    with pytest.raises(TypeError, match="takes no other arguments"):
        STATE_STORES.create(MemoryStateConfig(), snapshot_path="x")  # type: ignore[call-overload]
    with pytest.raises(TypeError, match="backend name or a config object"):
        STATE_STORES.create(42)  # type: ignore[call-overload]


def test_global_registries_have_their_kinds() -> None:
    assert (CONVERSATION_STORES.kind, KNOWLEDGE_STORES.kind, STATE_STORES.kind) == (
        "conversation",
        "knowledge",
        "state",
    )
    assert CONVERSATION_STORES.entry_point_group == "praisonai.conversation_stores"
    assert KNOWLEDGE_STORES.entry_point_group == "praisonai.knowledge_stores"
    assert STATE_STORES.entry_point_group == "praisonai.state_stores"
    assert "memory" in STATE_STORES.list_registered()
    assert "sqlite" in CONVERSATION_STORES.list_registered()


def test_sixteen_threads_register_create_and_list_at_once() -> None:
    registry = StateStoreRegistry("state", "praisonai.tests_no_such_group")
    threads, rounds = 16, 40
    barrier = threading.Barrier(threads)
    errors: list[BaseException] = []
    seen_lists: list[list[str]] = []

    def work(thread: int) -> None:
        try:
            barrier.wait()
            for index in range(rounds):
                name = f"t{thread}_{index}"
                registry.register(name, memory_factory, aliases=(f"a{thread}_{index}",))
                store = registry.create(f"a{thread}_{index}")
                assert isinstance(store, MemoryStateStore)
                store.set("k", index)
                assert store.get("k") == index
                listed = registry.list_registered()
                assert name in listed
                seen_lists.append(listed)
                if index % 2:
                    registry.unregister(name)
        except BaseException as error:
            errors.append(error)

    workers = [threading.Thread(target=work, args=(thread,)) for thread in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert errors == []
    kept = [(t, i) for t in range(threads) for i in range(rounds) if i % 2 == 0]
    builtin_names = {b.name for b in BUILTINS if b.kind == "state"}
    builtin_aliases = {alias: b.name for b in BUILTINS if b.kind == "state" for alias in b.aliases}
    assert set(registry.list_registered()) == {f"t{t}_{i}" for t, i in kept} | builtin_names
    assert registry.list_aliases() == {**builtin_aliases, **{f"a{t}_{i}": f"t{t}_{i}" for t, i in kept}}
    assert all(listed == sorted(listed) for listed in seen_lists)
