"""Code written for PraisonAI 4.7.19's ``praisonai.persistence``, run unchanged against this package.

Each test is what a PraisonAI user writes (class names, keyword arguments, factory functions,
``get_default_registry``, the orchestrator, the agent hooks, the config loader, the migrations
manager); the assertions are PraisonAI's documented behaviour (tests/fixtures/praisonai_4_7_19/INVENTORY.md
sections 6-11) or, where we deliberately differ, docs/migrating-from-praisonai.md.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from praisonai.persistence import (
    ConversationMessage,
    ConversationSession,
    PersistenceConfig,
    PersistenceOrchestrator,
    PersistentAgent,
    StoreRegistry,
    create_conversation_store,
    create_knowledge_store,
    create_persistent_session,
    create_state_store,
    create_stores_from_config,
    get_default_registry,
    wrap_agent_with_persistence,
)
from praisonai.persistence.conversation import AsyncConversationStore, ConversationStore
from praisonai.persistence.conversation.async_sqlite import AsyncSQLiteConversationStore
from praisonai.persistence.conversation.base import validate_identifier as validate_sql_identifier
from praisonai.persistence.conversation.json_store import JSONConversationStore
from praisonai.persistence.conversation.postgres import PostgresConversationStore
from praisonai.persistence.conversation.sqlite import SQLiteConversationStore
from praisonai.persistence.errors import (
    AlreadyExistsError,
    BackendNotFoundError,
    ConfigError,
    RegistrationError,
    StoreClosedError,
)
from praisonai.persistence.knowledge import KnowledgeDocument
from praisonai.persistence.knowledge.base import validate_dimension, validate_identifier
from praisonai.persistence.migrations import MigrationManager, SchemaVersion
from praisonai.persistence.registry import CONVERSATION_STORES, KNOWLEDGE_STORES, STATE_STORES
from praisonai.persistence.state import StateStore
from praisonai.persistence.state.memory import MemoryStateStore


class FakeAgent:
    """What the hooks need of an agent: a name and ``chat``."""

    def __init__(self, name: str = "helper") -> None:
        self.name = name
        self.chat_history: list[dict[str, str]] = []
        self.prompts: list[str] = []

    def chat(self, prompt: str) -> str:
        self.prompts.append(prompt)
        return f"echo: {prompt}"


class FakeAsyncAgent(FakeAgent):
    async def achat(self, prompt: str) -> str:
        self.prompts.append(prompt)
        return f"async echo: {prompt}"


@pytest.fixture
def db_path(tmp_path: Path) -> str:
    return str(tmp_path / "chat.db")


@pytest.fixture
def orchestrator(db_path: str) -> Iterator[PersistenceOrchestrator]:
    with PersistenceOrchestrator(
        conversation_store=SQLiteConversationStore(path=db_path), state_store=MemoryStateStore()
    ) as orchestrator:
        yield orchestrator


# -- store classes built with keywords ------------------------------------------------


def test_store_classes_take_keywords_validated_by_their_config(db_path: str) -> None:
    with SQLiteConversationStore(path=db_path, table_prefix="app_") as store:
        assert store.config.path == db_path and store.config.table_prefix == "app_"
        store.create_session(ConversationSession(session_id="s1"))
    with CONVERSATION_STORES.create("sqlite", path=db_path, table_prefix="app_") as same:
        assert same.get_session("s1") is not None  # the keywords mean what they mean in create()
    with pytest.raises(ConfigError, match="table_prefix"):
        SQLiteConversationStore(path=db_path, table_prefix="bad prefix;")
    with pytest.raises(ConfigError, match="pathh"):
        SQLiteConversationStore(pathh=db_path)


def test_store_classes_take_their_config_object_or_nothing(db_path: str) -> None:
    config = CONVERSATION_STORES.validate("sqlite", path=db_path)
    with SQLiteConversationStore(config) as store, SQLiteConversationStore(config=config) as by_name:
        assert store.config is config and by_name.config is config
    with pytest.raises(TypeError, match="no other arguments"):
        SQLiteConversationStore(config, table_prefix="x_")
    with SQLiteConversationStore(db_path, "pos_") as positional:  # PraisonAI's order: path, table_prefix, ...
        assert (positional.config.path, positional.config.table_prefix) == (db_path, "pos_")
    with pytest.raises(TypeError, match="multiple values for argument 'path'"):
        SQLiteConversationStore(db_path, path=db_path)
    with pytest.raises(TypeError, match="at most 4 positional"):
        SQLiteConversationStore(db_path, "p_", True, False, "extra")
    empty = MemoryStateStore()
    assert bool(empty) is True and len(empty) == 0  # an empty store is still a store: ``if store:`` holds


def test_keyword_aliases_of_a_config_apply_to_the_class(postgres_url: str) -> None:
    from tests.support.sql_servers import drop_postgres_schema, unique_name

    pytest.importorskip("psycopg", reason="the PostgreSQL backend needs psycopg (extra 'postgres')")
    schema = unique_name()
    try:
        with PostgresConversationStore(url=postgres_url, schema=schema) as store:  # PraisonAI's name of schema_name
            assert store.config.schema_name == schema
            store.create_session(ConversationSession(session_id="s1"))
            assert store.get_session("s1") is not None
    finally:
        drop_postgres_schema(postgres_url, schema)
    with pytest.raises(ConfigError, match="give only one"):
        PostgresConversationStore(url=postgres_url, schema="a", schema_name="b")


def test_old_module_names_and_class_names(tmp_path: Path) -> None:
    with JSONConversationStore(path=str(tmp_path / "json")) as store:
        assert store.backend == "json"
        store.create_session(ConversationSession(session_id="s1"))
        assert [s.session_id for s in store.list_sessions()] == ["s1"]
    assert AsyncSQLiteConversationStore.backend == "async_sqlite"


def test_validators() -> None:
    assert validate_sql_identifier("") == "" and validate_sql_identifier("praison_") == "praison_"
    assert validate_identifier("docs_1", "collection") == "docs_1"
    for bad in ("", "a-b", "x;drop"):
        with pytest.raises(ValueError, match="collection"):
            validate_identifier(bad, "collection")
    with pytest.raises(ValueError, match="table_prefix"):
        validate_sql_identifier("a b", "table_prefix")
    assert validate_dimension(1536) == 1536
    for bad_dimension in (0, -3, True, 65537, 3.0):
        with pytest.raises(ValueError, match="dimension"):
            validate_dimension(bad_dimension)  # type: ignore[arg-type]


# -- factories and registries -----------------------------------------------------------


def test_factory_functions(db_path: str, tmp_path: Path) -> None:
    conversation = create_conversation_store("sqlite", path=db_path)
    assert isinstance(conversation, ConversationStore) and conversation.backend == "sqlite"
    conversation.close()
    async_store = create_conversation_store("sqlite", mode="async", path=db_path)
    assert isinstance(async_store, AsyncConversationStore) and async_store.backend == "async_sqlite"
    asyncio.run(async_store.close())  # type: ignore[misc]
    sync_store = create_conversation_store("sqlite", mode="sync", path=db_path)
    assert isinstance(sync_store, ConversationStore) and sync_store.backend == "sqlite"
    sync_store.close()
    with pytest.raises(ValueError, match="mode"):
        create_conversation_store("sqlite", mode="threaded", path=db_path)  # type: ignore[arg-type]
    state = create_state_store("memory")
    assert isinstance(state, StateStore)
    state.close()
    knowledge = create_knowledge_store("memory")
    knowledge.create_collection("docs", dimension=2)
    assert knowledge.list_collections() == ["docs"]
    knowledge.close()
    with pytest.raises(ValueError, match="unknown conversation backend"):
        create_conversation_store("nosuchdb")


def test_mode_picks_the_sync_or_async_backend_of_postgres_and_mysql() -> None:
    # PraisonAI rewrote mode="sync" to the unregistered sync_postgres / sync_mysql (INVENTORY §7).
    calls: list[tuple[str, dict[str, Any]]] = []

    class Recorder:
        def create(self, name: str, **kwargs: Any) -> str:
            calls.append((name, kwargs))
            return name

    for backend in ("postgres", "mysql"):
        assert create_conversation_store(backend, mode="sync", registry=Recorder()) == backend
        assert create_conversation_store(backend, mode="async", registry=Recorder()) == f"async_{backend}"
    assert create_conversation_store("neon", mode="async", registry=Recorder()) == "neon"  # aliases as given
    assert calls[0] == ("postgres", {"url": None})


def test_registry_injection_leaves_the_default_registries_alone(db_path: str) -> None:
    registry: StoreRegistry[Any] = StoreRegistry("conversation", "praisonai.conversation_stores")

    def factory(url: str | None = None, **options: Any) -> ConversationStore:
        return SQLiteConversationStore(path=db_path)

    registry.register_store("team_db", factory, aliases=("team",))
    store = create_conversation_store("TEAM", registry=registry)
    assert isinstance(store, ConversationStore)
    store.close()
    assert not get_default_registry("conversation").has("team_db")


def test_get_default_registry_and_praisonai_registry_methods() -> None:
    assert get_default_registry("conversation") is CONVERSATION_STORES
    assert get_default_registry("knowledge") is KNOWLEDGE_STORES
    assert get_default_registry("state") is STATE_STORES
    with pytest.raises(ValueError, match="kind"):
        get_default_registry("vectors")
    conversation = get_default_registry("conversation")
    assert {"sqlite", "sync_sqlite", "json", "postgres"} <= set(conversation.list_names())
    assert conversation.list_names() == conversation.list_registered()
    assert {"sqlite_sync", "neon", "aiosqlite"} <= set(conversation.list_all_names())
    assert conversation.has("SQLITE_SYNC") and not conversation.has("nosuchdb")
    assert conversation.is_available("sqlite") and not conversation.is_available("nosuchdb")
    assert conversation.resolve("sqlite_sync").__name__ == "SyncSQLiteConversationStore"
    assert get_default_registry("knowledge").has("valkey") and get_default_registry("state").has("valkey")
    with pytest.raises(AttributeError):
        conversation.get_by_attr("my_module", "nosuchdb")
    with pytest.raises(BackendNotFoundError):
        conversation.resolve("nosuchdb")


def test_registering_again_is_explicit() -> None:
    registry: StoreRegistry[Any] = StoreRegistry("state", "praisonai.state_stores")

    def factory(**options: Any) -> MemoryStateStore:
        return MemoryStateStore()

    registry.register("mine", factory)
    registry.register("mine", factory)  # the very same factory again: a no-op
    with pytest.raises(RegistrationError, match="replace=True"):
        registry.register("mine", lambda **options: MemoryStateStore())
    registry.register("mine", lambda **options: MemoryStateStore(), replace=True)
    with pytest.raises(RegistrationError):
        registry.register("postgres_like", factory, aliases=("memory",))  # never hijacks a built-in name
    assert registry.unregister("mine") is True and not registry.has("mine")


# -- config loader ----------------------------------------------------------------------


def test_persistence_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = PersistenceConfig.from_dict({"conversation_store": "sqlite", "unknown_key": 1})
    assert config.conversation_store == "sqlite" and config.conversation_options == {}
    assert len(config.to_dict()) == 13 and config.validate()
    assert not PersistenceConfig(state_store="nosuchstore").validate()
    monkeypatch.setenv("PRAISONAI_STATE_STORE", "redis")
    monkeypatch.setenv("REDIS_URL", "redis://cache.example:6379/0")
    monkeypatch.setenv("PRAISONAI_SESSION_ID", "env-session")
    from_env = PersistenceConfig.from_env()
    assert (from_env.state_store, from_env.state_url, from_env.session_id) == (
        "redis",
        "redis://cache.example:6379/0",
        "env-session",
    )
    path = tmp_path / "persistence.yaml"
    path.write_text("persistence:\n  conversation_store: json\n  conversation_options:\n    path: ./chats\n")
    loaded = PersistenceConfig.from_yaml(str(path))
    assert (loaded.conversation_store, loaded.conversation_options) == ("json", {"path": "./chats"})


def test_create_stores_from_config(db_path: str) -> None:
    config = PersistenceConfig(
        conversation_store="sqlite",
        conversation_options={"path": db_path, "mode": "async"},
        state_store="memory",
        session_id="ignored-by-stores",
    )
    stores = create_stores_from_config(config)
    assert stores["knowledge"] is None
    assert isinstance(stores["conversation"], AsyncConversationStore) and isinstance(stores["state"], StateStore)
    asyncio.run(stores["conversation"].close())
    stores["state"].close()
    opened: list[ConversationStore] = []

    def probe(url: str | None = None, **options: Any) -> ConversationStore:
        opened.append(SQLiteConversationStore(path=db_path))
        return opened[-1]

    CONVERSATION_STORES.register("compat_probe", probe)
    try:
        bad = PersistenceConfig(conversation_store="compat_probe", state_store="nope")
        with pytest.raises(ValueError, match="unknown state backend"):
            create_stores_from_config(bad)
    finally:
        CONVERSATION_STORES.unregister("compat_probe")
    with pytest.raises(StoreClosedError):  # the store opened before the failure was closed, not leaked
        opened[0].get_session("s1")


# -- the orchestrator's agent lifecycle --------------------------------------------------


def test_agent_lifecycle_new_session_then_resume(db_path: str) -> None:
    agent = FakeAgent("researcher")
    with PersistenceOrchestrator(conversation_store=SQLiteConversationStore(path=db_path)) as first:
        assert first.on_agent_start(agent, session_id="run-12345678", user_id="alice") == []
        session = first.get_session("run-12345678")
        assert session is not None
        assert (session.user_id, session.agent_id, session.name) == ("alice", "researcher", "Session run-1234")
        assert session.metadata == {"agent_type": "FakeAgent"}
        written = [
            first.on_message("run-12345678", role, text) for role, text in [("user", "hi"), ("assistant", "hello")]
        ]
        assert all(isinstance(message, ConversationMessage) for message in written)
        before = session.updated_at
        time.sleep(0.01)
        first.on_agent_end(agent, "run-12345678", metadata={"outcome": "ok"})
        ended = first.get_session("run-12345678")
        assert ended is not None and ended.updated_at > before
        assert ended.metadata == {"agent_type": "FakeAgent", "outcome": "ok"}
    with PersistenceOrchestrator(conversation_store=SQLiteConversationStore(path=db_path)) as second:
        history = second.on_agent_start(agent, session_id="run-12345678", user_id="alice")
        assert [(m.role, m.content) for m in history] == [("user", "hi"), ("assistant", "hello")]
        assert [m.id for m in history] == [m.id for m in written if m is not None]
        with pytest.raises(AlreadyExistsError):  # resume=False never overwrites a stored session
            second.on_agent_start(agent, session_id="run-12345678", resume=False)
        assert second.on_agent_start(agent, session_id="fresh", resume=False) == []
        generated = second.on_agent_start(agent)
        assert generated == [] and len(second.list_sessions()) == 3


def test_orchestrator_sessions_history_and_state(orchestrator: PersistenceOrchestrator) -> None:
    agent = FakeAgent()
    orchestrator.on_agent_start(agent, session_id="s1", user_id="u1")
    orchestrator.on_agent_start(agent, session_id="s2", user_id="u2")
    for index in range(5):
        orchestrator.on_message("s1", "user", f"m{index}")
    assert [m.content for m in orchestrator.get_messages("s1", limit=2)] == ["m3", "m4"]  # the newest 2
    context = orchestrator.build_context("s1", history_limit=3)
    assert context == {"history": [{"role": "user", "content": f"m{i}"} for i in (2, 3, 4)], "knowledge": []}
    assert [s.session_id for s in orchestrator.list_sessions(user_id="u2")] == ["s2"]
    assert orchestrator.delete_session("s2") and orchestrator.get_session("s2") is None
    orchestrator.set_state("counter", {"n": 1}, ttl=60)
    assert orchestrator.get_state("counter") == {"n": 1}
    assert orchestrator.delete_state("counter") is True and orchestrator.delete_state("counter") is False


def test_orchestrator_knowledge_helpers() -> None:
    knowledge = KNOWLEDGE_STORES.create("memory")
    knowledge.create_collection("default", dimension=2)
    with PersistenceOrchestrator(knowledge_store=knowledge) as orchestrator:
        documents = [KnowledgeDocument(id="a", content="alpha", embedding=[1.0, 0.0], metadata={"tag": "x"})]
        assert orchestrator.add_knowledge(documents) == ["a"]
        assert orchestrator.add_knowledge(documents) == ["a"]  # upsert, as PraisonAI's helper does
        [found] = orchestrator.retrieve_knowledge([1.0, 0.0], limit=1)
        assert found.id == "a"
        context = orchestrator.build_context("none", query_embedding=[1.0, 0.0])
        assert context["knowledge"] == [{"content": "alpha", "metadata": {"tag": "x"}}]


def test_orchestrator_without_stores_returns_neutral_values() -> None:
    orchestrator = PersistenceOrchestrator()
    assert orchestrator.on_agent_start(FakeAgent(), session_id="s") == []
    assert orchestrator.on_message("s", "user", "hi") is None
    orchestrator.on_agent_end(FakeAgent(), "s")
    assert orchestrator.get_state("k") is None and orchestrator.delete_state("k") is False
    orchestrator.set_state("k", 1)
    assert orchestrator.retrieve_knowledge([1.0]) == [] and orchestrator.get_messages("s") == []
    with pytest.raises(ValueError, match="knowledge"):
        orchestrator.add_knowledge([])


def test_orchestrator_from_config_and_close(db_path: str) -> None:
    config = PersistenceConfig(
        conversation_store="sqlite", conversation_options={"path": db_path}, state_store="memory"
    )
    orchestrator = PersistenceOrchestrator.from_config(config)
    conversation = orchestrator.conversation
    orchestrator.on_agent_start(FakeAgent(), session_id="s1")
    orchestrator.close()
    assert orchestrator.conversation is None and orchestrator.state is None
    with pytest.raises(StoreClosedError):
        conversation.get_session("s1")


def test_sync_hooks_on_an_async_store_and_async_hooks_on_a_sync_store(db_path: str) -> None:
    agent = FakeAgent()
    async_store = CONVERSATION_STORES.create("async_sqlite", path=db_path)
    orchestrator = PersistenceOrchestrator(conversation_store=async_store)
    assert orchestrator.on_agent_start(agent, session_id="s1") == []
    orchestrator.on_message("s1", "user", "from sync code")
    assert [m.content for m in orchestrator.on_agent_start(agent, session_id="s1")] == ["from sync code"]
    orchestrator.close()

    async def run_async() -> list[str]:
        async with PersistenceOrchestrator(conversation_store=SQLiteConversationStore(path=db_path)) as orch:
            await orch.aon_message("s1", "assistant", "from async code")
            await orch.aon_agent_end(agent, "s1", metadata={"async": True})
            history = await orch.aon_agent_start(agent, session_id="s1")
            session = orch.get_session("s1")
            assert session is not None and session.metadata == {"agent_type": "FakeAgent", "async": True}
            return [m.content for m in history]

    assert asyncio.run(run_async()) == ["from sync code", "from async code"]


def test_run_sync_from_sync_code_and_from_inside_a_loop() -> None:
    from praisonai.persistence.conversation.surrealdb import run_sync  # where PraisonAI's modules had it

    async def loop_of() -> asyncio.AbstractEventLoop:
        return asyncio.get_running_loop()

    first = run_sync(loop_of())

    async def nested() -> asyncio.AbstractEventLoop:
        return run_sync(loop_of())  # from async code: no deadlock, no "loop already running"

    assert asyncio.run(nested()) is first and run_sync(loop_of()) is first  # one loop: drivers' pools survive

    async def failing() -> None:
        raise KeyError("boom")

    with pytest.raises(KeyError, match="boom"):
        run_sync(failing())


# -- agent hooks ------------------------------------------------------------------------------


def test_wrap_agent_with_persistence(orchestrator: PersistenceOrchestrator) -> None:
    agent = wrap_agent_with_persistence(FakeAgent(), orchestrator, session_id="chat-1", user_id="bob")
    assert agent.chat("hello") == "echo: hello"
    assert agent.chat("again") == "echo: again"
    assert [(m.role, m.content) for m in agent.get_messages()] == [
        ("user", "hello"),
        ("assistant", "echo: hello"),
        ("user", "again"),
        ("assistant", "echo: again"),
    ]
    assert agent.get_session().user_id == "bob" and agent._persistence_session_id == "chat-1"
    agent.end_session()
    resumed = wrap_agent_with_persistence(FakeAgent(), orchestrator, session_id="chat-1")
    resumed.chat("third")
    assert resumed.chat_history[:2] == [
        {"role": "user", "content": "hello"},
        {"role": "assistant", "content": "echo: hello"},
    ]
    assert len(resumed.get_messages()) == 6


def test_wrapped_async_agent(orchestrator: PersistenceOrchestrator) -> None:
    agent = wrap_agent_with_persistence(FakeAsyncAgent(), orchestrator, session_id="achat")
    assert asyncio.run(agent.achat("hi")) == "async echo: hi"
    assert [m.content for m in agent.get_messages()] == ["hi", "async echo: hi"]


def test_persistent_agent_and_persistent_session(orchestrator: PersistenceOrchestrator) -> None:
    inner = FakeAgent("writer")
    agent = PersistentAgent(inner, orchestrator, session_id="wrapped")
    assert agent.chat("draft") == "echo: draft" and agent.name == "writer"  # other attributes: the agent's
    assert asyncio.run(agent.achat("edit")) == "echo: edit"  # no achat: chat in a thread
    assert agent.session_id == "wrapped" and len(agent.get_messages()) == 4
    agent.end_session()
    with create_persistent_session(orchestrator, session_id="manual") as session:
        session.persist_message("user", "note")
    stored = session.get_session()
    assert stored is not None and stored.user_id == "default" and stored.agent_id == "session-agent"
    assert stored.metadata == {"agent_type": "MockAgent"}
    assert [m.content for m in session.get_messages()] == ["note"]


# -- migrations ---------------------------------------------------------------------------


def test_migration_manager_on_our_state_store(orchestrator: PersistenceOrchestrator) -> None:
    applied: list[str] = []
    manager = MigrationManager(orchestrator)
    assert manager.get_current_version() is None
    manager.register_migration("1.10.0", "later", up=lambda db: applied.append("1.10.0"))
    manager.register_migration(
        "1.2.0", "backfill", up=lambda db: applied.append("1.2.0"), down=lambda db: applied.append("-1.2.0")
    )
    assert manager.get_migration_status()["pending_versions"] == ["1.0.0", "1.2.0", "1.10.0"]
    assert manager.migrate_up(target_version="1.2.0") == ["1.0.0", "1.2.0"]
    assert manager.get_current_version() == "1.2.0"
    assert orchestrator.get_state("praison_schema_versions:current")["version"] == "1.2.0"
    assert manager.migrate_up() == ["1.10.0"] and applied == ["1.2.0", "1.10.0"]
    assert manager.migrate_down("1.0.0") == ["1.2.0"] and applied[-1] == "-1.2.0"
    assert MigrationManager(orchestrator.state).get_current_version() == "1.0.0"
    assert SchemaVersion("1.2.0") < SchemaVersion("1.10.0") and SchemaVersion("1.0") != SchemaVersion("1.0.0")
