"""Async stores under cancellation, across event loops, and at interpreter exit.

- Cancellation: writes wrapped in ``asyncio.wait_for`` with timeouts from 0 to a few
  milliseconds, so they are cancelled at every stage (waiting for the connection, between
  statements, during COMMIT). Afterwards no transaction is left open: the same store and
  another store on the same data (the sync twin) write at once, every acknowledged write is
  there, and a cancelled one is there whole or not at all.
- Event loops: a store used from one ``asyncio.run`` and then another (the first loop closed).
- The native async knowledge stores (``NATIVE_ASYNC_KNOWLEDGE``) the same way: cancelled upserts
  leave no transaction or lock behind (the sync store then rewrites the same documents and drops
  the collection), each batch is stored whole or not at all, and a second ``asyncio.run`` works.
- Exit: a process that opens an async store, writes, and never closes it exits.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from praisonai.persistence.conversation.base import ConversationMessage, ConversationSession
from praisonai.persistence.knowledge.base import AsyncKnowledgeStore, KnowledgeDocument, KnowledgeStore
from praisonai.persistence.registry import CONVERSATION_STORES, KNOWLEDGE_STORES, STATE_STORES
from tests.support.emulators import require_driver
from tests.support.hosted_fakes import AsyncMongoSearchShim, MongoSearchShim
from tests.support.pinecone_standin import PineconeStandIn
from tests.support.upstash_vector_standin import UpstashVectorStandIn

from .conftest import Figures, Opener

pytestmark = pytest.mark.reliability

ASYNC_CONVERSATION = {"async_sqlite": "sqlite", "async_postgres": "postgres", "async_mysql": "mysql"}
TIMEOUTS = [0.0, 0.00001, 0.0001, 0.0005, 0.001, 0.002, 0.005, 0.02, 0.1, 1.0]
ROUNDS = 60
GUARD = 60.0  # seconds: a write blocked by a leaked transaction would wait forever; this is a hang guard


async def _cancelled_writes(store: Any, session_id: str) -> tuple[list[str], list[str]]:
    """``ROUNDS`` writes under ``wait_for`` timeouts: (acknowledged ids, cancelled ids)."""
    acknowledged: list[str] = []
    cancelled: list[str] = []
    for index in range(ROUNDS):
        batch = [
            ConversationMessage(id=f"m{index}-{part}", role="user", content=f"{index}-{part}") for part in range(3)
        ]
        try:
            await asyncio.wait_for(store.add_messages(session_id, batch), TIMEOUTS[index % len(TIMEOUTS)])
        except (asyncio.TimeoutError, asyncio.CancelledError):
            cancelled.append(f"m{index}")
        else:
            acknowledged.append(f"m{index}")
    return acknowledged, cancelled


@pytest.mark.parametrize("backend", list(ASYNC_CONVERSATION))
def test_cancelled_writes_leave_no_transaction_open(
    backend: str, open_conversation: Callable[[str], Opener], figures: Figures
) -> None:
    opener = open_conversation(backend)
    store = opener()
    extra = {"busy_timeout": 2.0} if backend == "async_sqlite" else {}
    twin = CONVERSATION_STORES.create(ASYNC_CONVERSATION[backend], **opener.options, **extra)

    async def run() -> tuple[list[str], list[str]]:
        await store.create_session(ConversationSession(session_id="s"))
        written = await _cancelled_writes(store, "s")
        # The same store goes on working...
        await asyncio.wait_for(store.add_message("s", ConversationMessage(id="after", role="user", content="x")), GUARD)
        # ...and another connection to the same data is not locked out.
        await asyncio.wait_for(
            asyncio.to_thread(twin.add_message, "s", ConversationMessage(id="twin", role="user", content="y")), GUARD
        )
        await asyncio.wait_for(asyncio.to_thread(twin.delete_messages, "s", ["twin"]), GUARD)
        return written

    acknowledged, cancelled = asyncio.run(run())
    stored = {message.id: message.content for message in twin.get_messages("s")}
    for prefix in acknowledged:
        assert all(stored[f"{prefix}-{part}"] == f"{prefix[1:]}-{part}" for part in range(3))
    for prefix in cancelled:  # all of the batch or none of it
        assert len({f"{prefix}-{part}" for part in range(3)} & stored.keys()) in (0, 3)
    assert "after" in stored
    twin.close()
    asyncio.run(store.close())
    assert cancelled, "no write was cancelled: the timeouts test nothing"
    figures.record("cancellation", backend, writes=ROUNDS, cancelled=len(cancelled), acknowledged=len(acknowledged))


@pytest.mark.parametrize("backend", list(ASYNC_CONVERSATION))
def test_a_store_works_in_a_second_event_loop(backend: str, open_conversation: Callable[[str], Opener]) -> None:
    store = open_conversation(backend)()

    async def first() -> None:
        await store.create_session(ConversationSession(session_id="s"))
        await store.add_message("s", ConversationMessage(id="1", role="user", content="one"))

    async def second() -> list[str]:
        await store.add_message("s", ConversationMessage(id="2", role="user", content="two"))
        return [message.content for message in await store.get_messages("s")]

    asyncio.run(first())
    assert asyncio.run(second()) == ["one", "two"]
    asyncio.run(store.close())


def test_async_mongodb_is_cancellation_safe_and_works_across_loops(mongodb_url: str, figures: Figures) -> None:
    store = STATE_STORES.create("async_mongodb", url=mongodb_url, database="praisonai_test", collection="cancel")

    async def first() -> int:
        cancelled = 0
        for index in range(ROUNDS):
            try:
                await asyncio.wait_for(store.hset("h", f"f{index}", index), TIMEOUTS[index % len(TIMEOUTS)])
            except asyncio.TimeoutError:
                cancelled += 1
        await store.set("k", "v")
        return cancelled

    async def second() -> tuple[Any, dict[str, Any]]:
        return await store.get("k"), await store.hgetall("h")

    async def tidy() -> None:
        await store.delete("k")
        await store.delete("h")
        await store.close()

    cancelled = asyncio.run(first())
    value, fields = asyncio.run(second())
    assert value == "v"
    assert all(fields[name] == int(name[1:]) for name in fields)
    asyncio.run(tidy())
    figures.record("cancellation", "async_mongodb", writes=ROUNDS, cancelled=cancelled)


def test_an_async_sqlite_store_never_closed_does_not_hold_up_exit(tmp_path: Path) -> None:
    script = textwrap.dedent(
        f"""
        import asyncio
        from praisonai.persistence.registry import CONVERSATION_STORES
        from praisonai.persistence.conversation.base import ConversationSession

        store = CONVERSATION_STORES.create("async_sqlite", path={str(tmp_path / "c.db")!r})
        asyncio.run(store.create_session(ConversationSession(session_id="s")))
        print("written")
        """
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=GUARD)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "written"


NATIVE_ASYNC_KNOWLEDGE = [
    "async_pgvector",
    "async_redis",
    "async_lancedb",
    "async_mongodb_vector",
    "async_chroma",
    "async_pinecone",
    "async_upstash_vector",
]
DIMENSION = 4


@pytest.fixture
def open_knowledge(request: pytest.FixtureRequest) -> Callable[[str], tuple[AsyncKnowledgeStore, KnowledgeStore]]:
    """``open_knowledge(backend)``: the native async store and its sync twin, on the same fresh data."""

    def make(backend: str) -> tuple[AsyncKnowledgeStore, KnowledgeStore]:
        sync = backend.removeprefix("async_")
        if backend == "async_pgvector":
            require_driver("psycopg", "pgvector")
            options: dict[str, Any] = {
                "url": request.getfixturevalue("postgres_url"),
                "db_schema": request.getfixturevalue("pg_schema"),
            }
        elif backend == "async_redis":
            options = {"url": request.getfixturevalue("redis_stack").url, "key_prefix": f"cancel:{id(request)}"}
        elif backend == "async_lancedb":
            require_driver("lancedb", "lancedb")
            options = {"uri": str(request.getfixturevalue("tmp_path") / "lance")}
        elif backend == "async_mongodb_vector":
            options = {"url": request.getfixturevalue("mongodb_url"), "database": f"cancel_{uuid.uuid4().hex[:12]}"}
        elif backend == "async_chroma":
            options = {"url": request.getfixturevalue("chroma_server").url}
        elif backend == "async_pinecone":
            require_driver("pinecone", "pinecone")
            pinecone = PineconeStandIn(api_key="pc-key")
            request.addfinalizer(pinecone.stop)
            options = {"url": f"pinecone://:pc-key@{pinecone.url.removeprefix('http://')}"}
        elif backend == "async_upstash_vector":
            require_driver("upstash_vector", "upstash-vector")
            upstash = UpstashVectorStandIn(dimension=DIMENSION, function="COSINE")
            request.addfinalizer(upstash.stop)
            options = {"url": upstash.url, "token": upstash.token}
        else:
            raise AssertionError(f"no opener for {backend!r}")
        store = KNOWLEDGE_STORES.create(backend, **options)
        assert not type(store).__name__.startswith("Offloaded"), "not native"
        twin = KNOWLEDGE_STORES.create(sync, **options)
        if backend == "async_mongodb_vector":  # Atlas's $vectorSearch, answered by a shim
            indexes: dict[str, dict[str, Any]] = {}
            open_database = store._open_database  # type: ignore[attr-defined]
            store._open_database = lambda: AsyncMongoSearchShim(open_database(), indexes)  # type: ignore[attr-defined]
            twin._db = MongoSearchShim(twin._db, indexes)  # type: ignore[attr-defined]
        return store, twin

    return make


def _batch(index: int) -> list[KnowledgeDocument]:
    return [
        KnowledgeDocument(
            id=f"d{index}-{part}",
            content=f"{index}-{part}",
            embedding=[1.0, float(index), float(part), 0.5],
            metadata={"round": index},
        )
        for part in range(3)
    ]


@pytest.mark.parametrize("backend", NATIVE_ASYNC_KNOWLEDGE)
def test_cancelled_knowledge_writes_leave_nothing_open(
    backend: str, open_knowledge: Callable[[str], tuple[AsyncKnowledgeStore, KnowledgeStore]], figures: Figures
) -> None:
    store, twin = open_knowledge(backend)

    every = [f"d{index}-{part}" for index in range(ROUNDS + 1) for part in range(3)]

    async def run() -> tuple[list[int], list[int], set[str]]:
        await store.create_collection("kb", DIMENSION)
        acknowledged: list[int] = []
        cancelled: list[int] = []
        for index in range(ROUNDS):
            try:
                await asyncio.wait_for(store.upsert("kb", _batch(index)), TIMEOUTS[index % len(TIMEOUTS)])
            except (asyncio.TimeoutError, asyncio.CancelledError):
                cancelled.append(index)
            else:
                acknowledged.append(index)
        # The same store goes on working...
        await asyncio.wait_for(store.upsert("kb", _batch(ROUNDS)), GUARD)
        found = await asyncio.wait_for(asyncio.to_thread(twin.get, "kb", every), GUARD)
        # ...and the sync store is not locked out of the same documents.
        rewrite = [document for index in range(ROUNDS + 1) for document in _batch(index)]
        await asyncio.wait_for(asyncio.to_thread(twin.upsert, "kb", rewrite), GUARD)
        return acknowledged, cancelled, {document.id for document in found}

    acknowledged, cancelled, stored = asyncio.run(run())
    for index in acknowledged:
        assert {f"d{index}-{part}" for part in range(3)} <= stored
    for index in cancelled:  # all of the batch or none of it
        assert len({f"d{index}-{part}" for part in range(3)} & stored) in (0, 3)
    assert f"d{ROUNDS}-0" in stored
    assert twin.delete_collection("kb")  # waits for nothing: no call of the async store holds a lock
    twin.close()
    asyncio.run(store.close())
    assert cancelled, "no write was cancelled: the timeouts test nothing"
    figures.record("cancellation", backend, writes=ROUNDS, cancelled=len(cancelled), acknowledged=len(acknowledged))


@pytest.mark.parametrize("backend", NATIVE_ASYNC_KNOWLEDGE)
def test_a_knowledge_store_works_in_a_second_event_loop(
    backend: str, open_knowledge: Callable[[str], tuple[AsyncKnowledgeStore, KnowledgeStore]]
) -> None:
    store, twin = open_knowledge(backend)
    twin.close()

    async def first() -> None:
        await store.create_collection("kb", DIMENSION)
        await store.insert("kb", _batch(1))

    async def second() -> list[str]:
        await store.insert("kb", _batch(2))
        found = await store.search("kb", [1.0, 2.0, 0.0, 0.5], limit=2)
        return [document.id for document in found]

    asyncio.run(first())
    assert asyncio.run(second())[0] == "d2-0"
    asyncio.run(store.close())
