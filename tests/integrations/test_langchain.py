"""LangChain adapters: LangChain's standard VectorStore suite (``langchain-tests``) on an embedded and a
server backend, and the chat message history's documented behaviour on sync and async, embedded and
server conversation stores (``langchain-tests`` publishes no suite for chat histories)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("langchain_tests", reason="the LangChain adapters' tests need langchain-tests (extra 'test')")

from langchain_core.documents import Document
from langchain_core.embeddings import DeterministicFakeEmbedding
from langchain_core.messages import (
    AIMessage,
    AIMessageChunk,
    BaseMessage,
    ChatMessage,
    FunctionMessage,
    HumanMessage,
    HumanMessageChunk,
    SystemMessage,
    ToolMessage,
)
from langchain_core.vectorstores import VectorStore
from langchain_tests.integration_tests import VectorStoreIntegrationTests

from praisonai.persistence.conversation.base import ConversationMessage, ConversationSession
from praisonai.persistence.errors import UsageError
from praisonai.persistence.integrations.langchain import (
    PersistenceChatMessageHistory,
    PersistenceVectorStore,
    from_conversation_message,
)
from praisonai.persistence.registry import CONVERSATION_STORES, EMBEDDERS, KNOWLEDGE_STORES


class TestMemoryVectorStoreStandard(VectorStoreIntegrationTests):
    @pytest.fixture
    def vectorstore(self) -> Iterator[VectorStore]:  # type: ignore[override]
        store = KNOWLEDGE_STORES.create("memory")
        yield PersistenceVectorStore(store, self.get_embeddings(), collection="standard")
        store.close()


class TestPgvectorVectorStoreStandard(VectorStoreIntegrationTests):
    @pytest.fixture
    def vectorstore(self, postgres_url: str, pg_schema: str) -> Iterator[VectorStore]:  # type: ignore[override]
        pytest.importorskip("psycopg")
        store = KNOWLEDGE_STORES.create("pgvector", url=f"{postgres_url}?schema={pg_schema}")
        yield PersistenceVectorStore(store, self.get_embeddings(), collection="standard")
        store.close()


class TestAsyncQdrantVectorStoreStandard(VectorStoreIntegrationTests):
    """The standard suite's async half over a native async store (async_qdrant in memory)."""

    @property
    def has_sync(self) -> bool:
        return False

    @pytest.fixture
    def vectorstore(self) -> Iterator[VectorStore]:  # type: ignore[override]
        store = KNOWLEDGE_STORES.create("async_qdrant", path=":memory:")
        yield PersistenceVectorStore(store, self.get_embeddings(), collection="standard")
        asyncio.run(store.close())


def test_a_vector_store_over_an_async_store_refuses_sync_calls() -> None:
    vectors = PersistenceVectorStore(KNOWLEDGE_STORES.create("async_memory"), DeterministicFakeEmbedding(size=4))
    with pytest.raises(UsageError, match="aadd_documents"):
        vectors.add_texts(["x"])
    assert asyncio.run(vectors.aadd_texts(["x"], ids=["1"])) == ["1"]
    assert [d.id for d in asyncio.run(vectors.asimilarity_search("x", k=1))] == ["1"]


def test_from_texts_and_afrom_texts_take_the_store_collection_and_distance() -> None:
    embedding = DeterministicFakeEmbedding(size=4)
    store = KNOWLEDGE_STORES.create("async_memory")
    built = asyncio.run(
        PersistenceVectorStore.afrom_texts(
            ["a", "b"], embedding, ids=["1", "2"], store=store, collection="c", distance="euclidean"
        )
    )
    assert built.store is store and built.collection == "c" and built.distance == "euclidean"
    assert asyncio.run(store.count("c")) == 2
    # Without a store: a new in-memory (sync) store, as from_texts makes, with the other keywords kept.
    default = asyncio.run(PersistenceVectorStore.afrom_texts(["a"], embedding, collection="d"))
    assert default.collection == "d" and default.store.count("d") == 1
    sync = PersistenceVectorStore.from_texts(
        ["a"], embedding, store=KNOWLEDGE_STORES.create("memory"), distance="euclidean"
    )
    assert sync.collection == "langchain" and sync.distance == "euclidean"


def _embedder(size: int = 8) -> Any:
    fake = DeterministicFakeEmbedding(size=size)
    return EMBEDDERS.create("callable", function=fake.embed_documents, dimension=size)


def test_vector_store_takes_our_embedder_and_a_text_store() -> None:
    text_store = KNOWLEDGE_STORES.create("memory", embedder=_embedder())
    vectors = PersistenceVectorStore(text_store, collection="docs")  # the store's own embedder
    ids = vectors.add_texts(["apples", "pears", "engines"], [{"kind": "fruit"}, {"kind": "fruit"}, {"kind": "car"}])
    assert len(ids) == 3
    assert [d.page_content for d in vectors.similarity_search("pears", k=1)] == ["pears"]
    only_cars = vectors.similarity_search("pears", k=3, filter={"kind": "car"})
    assert [d.page_content for d in only_cars] == ["engines"]
    scored = vectors.similarity_search_with_relevance_scores("apples", k=3)
    assert scored[0][0].page_content == "apples" and scored[0][1] == pytest.approx(1.0)
    assert all(0.0 <= score <= 1.0 for _, score in scored)
    assert vectors.delete() is True and vectors.similarity_search("apples") == []


def test_mmr_prefers_diverse_results() -> None:
    embedding = {"a": [1.0, 0.0], "a2": [0.999, 0.01], "b": [0.6, 0.8]}

    class Table(DeterministicFakeEmbedding):
        def embed_documents(self, texts: list[str]) -> list[list[float]]:
            return [embedding[text] for text in texts]

        def embed_query(self, text: str) -> list[float]:
            return [1.0, 0.0]

    store = PersistenceVectorStore(KNOWLEDGE_STORES.create("memory"), Table(size=2))
    store.add_texts(["a", "a2", "b"], ids=["a", "a2", "b"])
    assert [d.id for d in store.similarity_search("q", k=2)] == ["a", "a2"]
    assert [d.id for d in store.max_marginal_relevance_search("q", k=2, fetch_k=3, lambda_mult=0.3)] == ["a", "b"]
    assert [d.id for d in asyncio.run(store.amax_marginal_relevance_search("q", k=2, fetch_k=3, lambda_mult=0.3))] == [
        "a",
        "b",
    ]


# -- chat message history -------------------------------------------------------------------------------------------

EVERY_KIND: list[BaseMessage] = [
    SystemMessage(content="be brief", id="sys-1"),
    HumanMessage(content="weather in Paris?", id="h-1", additional_kwargs={"lang": "en"}),
    HumanMessage(content=[{"type": "text", "text": "look: "}, {"type": "image_url", "image_url": {"url": "data:x"}}]),
    AIMessage(
        content="",
        id="ai-1",
        tool_calls=[{"name": "weather", "args": {"city": "Paris", "days": 2}, "id": "call-1", "type": "tool_call"}],
        usage_metadata={"input_tokens": 3, "output_tokens": 5, "total_tokens": 8},
        response_metadata={"model_name": "m"},
    ),
    AIMessage(
        content="oops",
        invalid_tool_calls=[
            {"name": "weather", "args": "{not json", "id": "call-2", "error": "bad json", "type": "invalid_tool_call"}
        ],
    ),
    ToolMessage(content="18C", tool_call_id="call-1", artifact={"raw": [1, 2]}, status="success"),
    FunctionMessage(content="42", name="answer"),
    ChatMessage(content="hm", role="critic"),
    AIMessageChunk(content="partial", id="chunk-1"),
    HumanMessageChunk(content="typing"),
    AIMessage(content='It is 18C in Paris. 👋 \\ "quoted" \u2028'),
]


@pytest.fixture(params=["sqlite", "json", "postgres"])
def opener(request: pytest.FixtureRequest, tmp_path: Path) -> Any:
    if request.param == "postgres":
        pytest.importorskip("psycopg")
        postgres_url = request.getfixturevalue("postgres_url")
        pg_schema = request.getfixturevalue("pg_schema")
        return lambda: CONVERSATION_STORES.create("postgres", url=postgres_url, schema=pg_schema)
    if request.param == "json":
        return lambda: CONVERSATION_STORES.create("json", path=str(tmp_path / "chat-json"))
    return lambda: CONVERSATION_STORES.create("sqlite", path=str(tmp_path / "chat.db"))


def test_every_message_kind_round_trips_exactly_and_survives_reopening(opener: Any) -> None:
    store = opener()
    history = PersistenceChatMessageHistory(store, "s-1", user_id="u")
    assert history.messages == []
    history.add_messages(EVERY_KIND[:4])
    history.add_messages(EVERY_KIND[4:])
    assert history.messages == EVERY_KIND
    assert [type(m) for m in history.messages] == [type(m) for m in EVERY_KIND]
    store.close()
    store = opener()
    again = PersistenceChatMessageHistory(store, "s-1")
    assert again.messages == EVERY_KIND
    session = store.get_session("s-1")
    assert session is not None and session.user_id == "u"
    stored = store.get_messages("s-1")
    assert [m.role for m in stored][:4] == ["system", "user", "user", "assistant"]
    assert stored[3].tool_calls == [
        {
            "id": "call-1",
            "type": "function",
            "function": {"name": "weather", "arguments": json.dumps({"city": "Paris", "days": 2})},
        }
    ]
    assert stored[5].role == "tool" and stored[5].tool_call_id == "call-1"
    assert stored[7].role == "critic"
    store.close()


def test_histories_are_per_session_and_clear_only_their_own(opener: Any) -> None:
    store = opener()
    one = PersistenceChatMessageHistory(store, "one")
    two = PersistenceChatMessageHistory(store, "two")
    one.add_user_message("hello one")
    two.add_user_message("hello two")
    one.add_ai_message("hi")
    assert [m.content for m in one.messages] == ["hello one", "hi"]
    one.clear()
    assert one.messages == [] and [m.content for m in two.messages] == ["hello two"]
    one.add_user_message("again")  # the session survives clear()
    assert [m.content for m in one.messages] == ["again"]
    store.delete_session("one")
    one.add_user_message("recreated")  # a deleted session is created again
    assert [m.content for m in one.messages] == ["recreated"]
    store.close()


def test_messages_written_by_other_code_are_read_by_role(tmp_path: Path) -> None:
    store = CONVERSATION_STORES.create("sqlite", path=str(tmp_path / "c.db"))
    store.create_session(ConversationSession(session_id="s"))
    call = {"id": "c9", "type": "function", "function": {"name": "lookup", "arguments": '{"q": "x"}'}}
    broken = {"id": "c10", "type": "function", "function": {"name": "lookup", "arguments": "{nope"}}
    for message in [
        ConversationMessage(role="system", content="rules"),
        ConversationMessage(role="user", content="q"),
        ConversationMessage(role="assistant", content="", tool_calls=[call, broken]),
        ConversationMessage(role="tool", content="r", tool_call_id="c9"),
        ConversationMessage(role="narrator", content="n"),
    ]:
        store.add_message("s", message)
    messages = PersistenceChatMessageHistory(store, "s").messages
    assert [type(m).__name__ for m in messages] == [
        "SystemMessage",
        "HumanMessage",
        "AIMessage",
        "ToolMessage",
        "ChatMessage",
    ]
    ai = messages[2]
    assert isinstance(ai, AIMessage)
    assert ai.tool_calls == [{"name": "lookup", "args": {"q": "x"}, "id": "c9", "type": "tool_call"}]
    assert [c["id"] for c in ai.invalid_tool_calls] == ["c10"]
    assert isinstance(messages[3], ToolMessage) and messages[3].tool_call_id == "c9"
    assert isinstance(messages[4], ChatMessage) and messages[4].role == "narrator"
    stored = store.get_messages("s")
    assert from_conversation_message(stored[0]).content == "rules"


def test_async_store_gets_native_async_methods(tmp_path: Path) -> None:
    async def run() -> None:
        store = CONVERSATION_STORES.create("async_sqlite", path=str(tmp_path / "a.db"))
        history = PersistenceChatMessageHistory(store, "s")
        await history.aadd_messages(EVERY_KIND)
        assert await history.aget_messages() == EVERY_KIND
        with pytest.raises(UsageError, match="aget_messages"):
            _ = history.messages
        with pytest.raises(UsageError):
            history.add_user_message("x")
        await history.aclear()
        assert await history.aget_messages() == []
        await store.close()

    asyncio.run(run())


def test_sync_store_async_methods_work_through_threads(tmp_path: Path) -> None:
    store = CONVERSATION_STORES.create("sqlite", path=str(tmp_path / "c.db"))
    history = PersistenceChatMessageHistory(store, "s")

    async def run() -> list[BaseMessage]:
        await history.aadd_messages([HumanMessage(content="hi"), AIMessage(content="hello")])
        return await history.aget_messages()

    assert [m.content for m in asyncio.run(run())] == ["hi", "hello"]
    asyncio.run(history.aclear())
    assert history.messages == []
    store.close()


def test_documents_keep_ids_and_metadata_through_get_by_ids() -> None:
    vectors = PersistenceVectorStore(KNOWLEDGE_STORES.create("memory"), DeterministicFakeEmbedding(size=4))
    vectors.add_documents([Document(page_content="x", metadata={"n": 1}, id="d1"), Document(page_content="y", id="d2")])
    got = vectors.get_by_ids(["d2", "missing", "d1"])
    assert [(d.id, d.page_content, d.metadata) for d in got] == [("d2", "y", {}), ("d1", "x", {"n": 1})]
