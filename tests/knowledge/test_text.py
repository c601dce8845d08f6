"""Knowledge stores created with an embedder (knowledge/text.py): text in, results out, on the memory
store, qdrant's local mode and pgvector; dimensions checked, batches, ownership of the embedder."""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Iterator, Sequence
from typing import Any

import pytest

from praisonai.persistence.embedders.base import Embedder
from praisonai.persistence.embedders.config import CallableEmbedderConfig
from praisonai.persistence.errors import ContractError, InvalidInputError, StoreClosedError
from praisonai.persistence.knowledge.base import KnowledgeDocument, KnowledgeStore
from praisonai.persistence.knowledge.config import MemoryKnowledgeConfig
from praisonai.persistence.knowledge.mmr import search_mmr
from praisonai.persistence.knowledge.text import EmbeddingKnowledgeStore, TextKnowledgeStore, with_embedder
from praisonai.persistence.registry import EMBEDDERS, KNOWLEDGE_STORES, KnowledgeStoreRegistry

DIMENSION = 32
DOCUMENTS = {
    "fr": "Paris is the capital of France and sits on the Seine",
    "de": "Berlin is the capital of Germany",
    "cat": "The cat sleeps on the warm mat all day",
    "dog": "A dog chased the cat across the garden",
    "qc": "Quantum computers compute with qubits",
}


def bag_of_words(texts: Sequence[str]) -> list[list[float]]:
    """Texts sharing words get close vectors: enough meaning for deterministic tests."""
    vectors = []
    for text in texts:
        vector = [0.0] * DIMENSION
        for word in re.findall(r"[a-z]+", text.lower()):
            if len(word) >= 3 and word not in ("the", "and", "all", "what"):
                vector[int(hashlib.sha256(word.encode()).hexdigest(), 16) % DIMENSION] += 1.0
        vector[0] += 0.01  # never the zero vector
        vectors.append(vector)
    return vectors


class Counting:
    """An Embedder written structurally (no base class), counting its calls."""

    dimension = DIMENSION

    def __init__(self) -> None:
        self.calls: list[int] = []
        self.closed = False

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        self.calls.append(len(texts))
        return bag_of_words(texts)

    def embed_query(self, text: str) -> list[float]:
        return self.embed([text])[0]

    def close(self) -> None:
        self.closed = True

    def __enter__(self) -> Counting:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _documents() -> list[KnowledgeDocument]:
    return [KnowledgeDocument(id=key, content=text, metadata={"key": key}) for key, text in DOCUMENTS.items()]


def check_text_in_and_out(store: TextKnowledgeStore, collection: str) -> None:
    """What every backend must do with text: the shared checks of this module."""
    store.create_collection(collection)
    documents = _documents()
    assert store.insert(collection, documents[:3]) == ["fr", "de", "cat"]
    assert all(document.embedding is None for document in documents)  # the caller's documents are untouched
    store.upsert(collection, documents[3:])
    assert store.count(collection) == 5
    best = store.search_text(collection, "What is the capital of France?", limit=2)
    assert [document.id for document in best] == ["fr", "de"]
    assert best[0].content == DOCUMENTS["fr"] and best[0].score is not None and best[0].score > best[1].score
    stored = store.get(collection, ["cat"])[0]
    assert stored.embedding is not None
    assert stored.embedding == pytest.approx(bag_of_words([DOCUMENTS["cat"]])[0], rel=1e-6)
    filtered = store.search_text(collection, "cat", limit=5, filters={"key": {"$ne": "cat"}})
    assert filtered[0].id == "dog"
    # Vectors given explicitly go in and out unchanged.
    explicit = [0.0] * DIMENSION
    explicit[1] = 1.0
    store.insert(collection, [KnowledgeDocument(id="vector", content="anything at all", embedding=explicit)])
    assert store.search(collection, explicit, limit=1)[0].id == "vector"
    mmr = store.search_mmr_text(collection, "the cat and the dog", limit=3, fetch_k=6, lambda_mult=0.3)
    assert len(mmr) == 3 and {"cat", "dog"} & {document.id for document in mmr}
    query = bag_of_words(["the cat and the dog"])[0]
    by_vector = store.search_mmr(collection, query, limit=3, fetch_k=6, lambda_mult=0.3)
    assert [d.id for d in by_vector] == [d.id for d in mmr]


@pytest.fixture
def counting() -> Counting:
    return Counting()


@pytest.fixture
def memory(counting: Counting) -> Iterator[TextKnowledgeStore]:
    store = KNOWLEDGE_STORES.create("memory", embedder=counting)
    yield store
    store.close()


def test_memory_takes_text(memory: TextKnowledgeStore) -> None:
    assert isinstance(memory, TextKnowledgeStore) and isinstance(memory, KnowledgeStore)
    check_text_in_and_out(memory, "docs")


def test_documents_are_embedded_in_batches(counting: Counting) -> None:
    store = KNOWLEDGE_STORES.create("memory", embedder=counting)
    store = with_embedder(store, counting, batch_size=2)
    store.create_collection("docs")
    mixed = _documents()
    mixed.insert(2, KnowledgeDocument(id="given", content="x", embedding=[1.0] * DIMENSION))
    store.insert("docs", mixed)
    assert counting.calls == [2, 2, 1]  # five texts; the document with a vector is not embedded
    assert store.get("docs", ["given"])[0].embedding == [1.0] * DIMENSION


def test_a_document_with_neither_vector_nor_content_is_refused(memory: TextKnowledgeStore) -> None:
    memory.create_collection("docs")
    with pytest.raises(InvalidInputError, match="neither an embedding nor content") as error:
        memory.insert("docs", [KnowledgeDocument(id="a", content="fine"), KnowledgeDocument(id="empty")])
    assert error.value.backend == "memory" and memory.count("docs") == 0


def test_dimensions_are_checked_against_the_collection(counting: Counting) -> None:
    plain = KNOWLEDGE_STORES.create("memory")
    plain.create_collection("small", 4)
    store = KNOWLEDGE_STORES.create("memory", embedder=counting)
    with pytest.raises(InvalidInputError) as error:
        store.create_collection("wrong", 8)
    message = str(error.value)
    assert "[memory]" in message and "dimension 8" in message and f"dimension {DIMENSION}" in message
    assert not store.collection_exists("wrong")
    store.create_collection("right", DIMENSION)  # the embedder's dimension given explicitly is fine
    # A collection made elsewhere: its dimension is read with describe_collection.
    wrapped = with_embedder(plain, counting)
    for call in (
        lambda: wrapped.insert("small", [KnowledgeDocument(content="text")]),
        lambda: wrapped.search_text("small", "text"),
        lambda: wrapped.search_mmr_text("small", "text"),
    ):
        with pytest.raises(InvalidInputError, match=f"dimension 4, but the embedder .* dimension {DIMENSION}"):
            call()
    assert counting.calls == []  # refused before anything was embedded
    wrapped.insert("small", [KnowledgeDocument(id="v", embedding=[1.0, 0, 0, 0])])  # explicit vectors still go in
    assert wrapped.search("small", [1.0, 0, 0, 0], limit=1)[0].id == "v"


def test_embedder_by_name_or_config_is_owned_and_closed() -> None:
    config = CallableEmbedderConfig(function=bag_of_words, dimension=DIMENSION)
    store = KNOWLEDGE_STORES.create(MemoryKnowledgeConfig(), embedder=config)
    assert isinstance(store, EmbeddingKnowledgeStore)
    check_text_in_and_out(store, "docs")
    store.close()
    with pytest.raises(StoreClosedError):
        store.embedder.embed(["x"])


def test_a_given_embedder_is_not_closed_with_the_store(counting: Counting) -> None:
    with KNOWLEDGE_STORES.create("memory", embedder=counting) as store:
        store.create_collection("docs")
    assert not counting.closed


def test_the_store_extras_pass_through(memory: TextKnowledgeStore) -> None:
    memory.create_collection("docs", distance="dot")
    info = memory.describe_collection("docs")  # type: ignore[attr-defined]
    assert (info.dimension, info.distance) == (DIMENSION, "dot")


def test_contract_checks_still_apply() -> None:
    registry = KnowledgeStoreRegistry("knowledge", "praisonai.knowledge_stores", include_builtins=False)
    registry.register("half", lambda **kwargs: object())
    counting = Counting()
    with pytest.raises(ContractError):
        registry.create("half", embedder=counting)
    with pytest.raises(ContractError, match="dimension"):
        KNOWLEDGE_STORES.create("memory", embedder=object())  # type: ignore[call-overload]

    class Async:
        dimension = 3

        async def embed(self, texts: Sequence[str]) -> list[list[float]]:
            return []

    with pytest.raises(TypeError, match="async"):
        KNOWLEDGE_STORES.create("memory", embedder=Async())  # type: ignore[call-overload]


def test_an_unknown_embedder_name_fails_before_the_store_opens(tmp_path: Any) -> None:
    from praisonai.persistence.errors import BackendNotFoundError

    with pytest.raises(BackendNotFoundError, match="Did you mean 'callable'"):
        KNOWLEDGE_STORES.create("memory", path=str(tmp_path / "k.json"), embedder="calable")
    assert not (tmp_path / "k.json").exists()


def test_search_mmr_of_the_wrapper_is_the_plain_function(memory: TextKnowledgeStore) -> None:
    check_text_in_and_out(memory, "docs")
    query = bag_of_words(["capital city"])[0]
    assert [d.id for d in memory.search_mmr("docs", query, limit=3, fetch_k=6)] == [
        d.id for d in search_mmr(memory, "docs", query, limit=3, fetch_k=6)
    ]


def test_qdrant_local_takes_text(counting: Counting) -> None:
    pytest.importorskip("qdrant_client", reason="the qdrant extra is not installed")
    store = KNOWLEDGE_STORES.create("qdrant", path=":memory:", embedder=counting)
    try:
        check_text_in_and_out(store, "docs")
    finally:
        store.close()


@pytest.mark.server
def test_pgvector_takes_text(postgres_url: str, counting: Counting) -> None:
    psycopg = pytest.importorskip("psycopg", reason="the pgvector extra is not installed")

    schema = f"kb_text_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(postgres_url, autocommit=True) as connection:
        if connection.execute("SELECT 1 FROM pg_available_extensions WHERE name = 'vector'").fetchone() is None:
            pytest.skip("pgvector is not installed in the test PostgreSQL; run .ci/setup-pgvector.sh")
    store = KNOWLEDGE_STORES.create("pgvector", url=f"{postgres_url}?schema={schema}", embedder=counting)
    try:
        check_text_in_and_out(store, "docs")
    finally:
        store.close()
        with psycopg.connect(postgres_url, autocommit=True) as connection:
            connection.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def test_embedders_registry_builds_from_a_config() -> None:
    embedder: Embedder = EMBEDDERS.create(CallableEmbedderConfig(function=bag_of_words, dimension=DIMENSION))
    assert embedder.embed_query("cat") == bag_of_words(["cat"])[0]
