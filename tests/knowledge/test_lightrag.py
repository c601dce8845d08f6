"""lightrag: the knowledge contract suite on LightRAG's default local storage, with nothing downloaded.

LightRAG gets this adapter's embedding function (the caller's vectors), a
no-op LLM and a code-point tokenizer (its default tiktoken tokenizer would
download a vocabulary); the socket guard below proves no test touches the
network. See the adapter's docstring for what does not map onto LightRAG.
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

pytest.importorskip("lightrag", reason="lightrag-hku runs these tests")

from praisonai.persistence.errors import InvalidInputError, StoreError
from praisonai.persistence.knowledge.base import KnowledgeDocument, KnowledgeStore, similarity
from praisonai.persistence.knowledge.lightrag import LightRagKnowledgeStore
from praisonai.persistence.registry import KNOWLEDGE_STORES
from praisonai.persistence.testing import KnowledgeStoreContract

EMPTY_CONTENT = "LightRAG cannot index empty content; the adapter refuses it (test_empty_content_is_refused)"


@pytest.fixture(autouse=True)
def _no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("a LightRAG test tried to open a network connection")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


def _open(directory: Path, **options: Any) -> LightRagKnowledgeStore:
    store = KNOWLEDGE_STORES.create("lightrag", working_dir=str(directory), **options)
    assert isinstance(store, LightRagKnowledgeStore)
    return store


@pytest.mark.slow
class TestLightRagContract(KnowledgeStoreContract):
    supported_distances = ("cosine",)

    @pytest.fixture
    def store(self, tmp_path: Path) -> Iterator[KnowledgeStore]:
        store = _open(tmp_path / "rag")
        yield store
        store.close()

    @pytest.fixture
    def reopen(self, tmp_path: Path) -> Callable[[], KnowledgeStore]:
        return lambda: _open(tmp_path / "rag")

    def test_empty_id_gets_a_fresh_id_each_time(self) -> None:
        pytest.skip(EMPTY_CONTENT)

    def test_empty_content_and_no_metadata(self) -> None:
        pytest.skip(EMPTY_CONTENT)

    def test_upsert_with_empty_id_gets_fresh_ids(self) -> None:
        pytest.skip(EMPTY_CONTENT)

    def test_reopen_reads_what_was_written(self) -> None:
        pytest.skip(EMPTY_CONTENT + "; test_reopen_with_content checks persistence instead")


# -- what is specific to LightRAG -------------------------------------------------

VECTORS = {
    "alpha": [1.0, 0.0, 0.0, 0.0],
    "beta": [0.0, 1.0, 0.0, 0.0],
    "gamma": [0.6, 0.8, 0.0, 0.0],
    "delta": [0.0, 0.0, 1.0, 0.0],
}


def _documents() -> list[KnowledgeDocument]:
    return [
        KnowledgeDocument(
            id=name, content=f"The {name} document talks about {name}.", embedding=vector, metadata={"n": i}
        )
        for i, (name, vector) in enumerate(VECTORS.items())
    ]


async def _fallback_embedding(texts: list[str], **kwargs: Any) -> np.ndarray:
    # Deterministic stand-in for a model: a text mentioning a known word points its way.
    rows = []
    for text in texts:
        hits = [vector for name, vector in VECTORS.items() if name in text.lower()]
        rows.append(np.mean(hits, axis=0) if hits else [0.5, 0.5, 0.5, 0.5])
    return np.asarray(rows, dtype=np.float32)


def test_search_returns_lightrags_chunks_ranked_by_cosine(tmp_path: Path) -> None:
    store = _open(tmp_path / "rag")
    try:
        store.create_collection("docs", 4)
        store.insert("docs", _documents())
        query = [0.8, 0.6, 0.0, 0.0]
        results = store.search("docs", query, limit=4)
        expected = sorted(VECTORS, key=lambda name: -similarity("cosine", query, VECTORS[name]))
        assert [result.id for result in results] == expected
        for result in results:
            assert result.score == pytest.approx(similarity("cosine", query, VECTORS[result.id]), abs=1e-5)
            assert result.content == f"The {result.id} document talks about {result.id}."
        # The ranking is LightRAG's own: its chunk vector store holds one chunk per document.
        rag = store.lightrag("docs")
        chunks = store._run(rag.chunks_vdb.query("", top_k=10, query_embedding=query))
        assert [chunk["full_doc_id"] for chunk in chunks] == expected
        assert [r.id for r in store.search("docs", query, limit=2, filters={"n": {"$gte": 1}})] == ["gamma", "beta"]
    finally:
        store.close()


def test_rag_query_answers_from_the_collection(tmp_path: Path) -> None:
    prompts: list[str] = []

    async def echo_llm(prompt: str, system_prompt: str | None = None, **kwargs: Any) -> str:
        prompts.append(f"{system_prompt}\n{prompt}")
        return "It is about gamma." if "The gamma document talks about gamma." in prompts[-1] else "No idea."

    store = _open(tmp_path / "rag", llm_model_func=echo_llm, embedding_func=_fallback_embedding)
    try:
        store.create_collection("docs", 4)
        store.insert("docs", _documents())
        assert prompts, "with llm_model_func, LightRAG's entity extraction stage runs at insert"
        prompts.clear()
        answer = store.rag_query("docs", "What about gamma?", mode="naive", enable_rerank=False)
        assert answer == "It is about gamma."  # the model saw the chunk LightRAG retrieved from the collection
        assert any("The gamma document talks about gamma." in prompt for prompt in prompts)
    finally:
        store.close()


def test_rag_query_needs_the_model_functions(tmp_path: Path) -> None:
    store = _open(tmp_path / "rag")
    try:
        store.create_collection("docs", 4)
        with pytest.raises(StoreError, match="llm_model_func and embedding_func"):
            store.rag_query("docs", "anything")
    finally:
        store.close()


@pytest.mark.parametrize("content", ["", "   \n"])
def test_empty_content_is_refused(tmp_path: Path, content: str) -> None:
    store = _open(tmp_path / "rag")
    try:
        store.create_collection("docs", 4)
        with pytest.raises(InvalidInputError, match="no content"):
            store.insert("docs", [_documents()[0], KnowledgeDocument(id="e", content=content, embedding=[1.0] * 4)])
        assert store.count("docs") == 0
    finally:
        store.close()


def test_duplicate_content_is_refused_not_dropped(tmp_path: Path) -> None:
    store = _open(tmp_path / "rag")
    try:
        store.create_collection("docs", 4)
        first = _documents()[0]
        store.insert("docs", [first])
        twin = KnowledgeDocument(id="twin", content=first.content, embedding=[0.0, 1.0, 0.0, 0.0])
        with pytest.raises(InvalidInputError, match="same content"):
            store.insert("docs", [twin])
        with pytest.raises(InvalidInputError, match="same content"):
            store.insert(
                "docs",
                [_documents()[1], KnowledgeDocument(id="x", content=_documents()[1].content, embedding=[1.0] * 4)],
            )
        assert store.count("docs") == 1
        # Replacing a document by itself is not a duplicate.
        assert store.upsert(
            "docs", [KnowledgeDocument(id="alpha", content=first.content, embedding=[0.0, 0.0, 0.0, 1.0])]
        ) == ["alpha"]
        [best] = store.search("docs", [0.0, 0.0, 0.0, 1.0], limit=1)
        assert best.id == "alpha" and best.score == pytest.approx(1.0, abs=1e-6)
    finally:
        store.close()


def test_long_documents_need_an_embedding_function(tmp_path: Path) -> None:
    long_text = "alpha " * 400  # 2400 code points: two chunks of 1200
    document = KnowledgeDocument(id="long", content=long_text, embedding=VECTORS["alpha"])
    store = _open(tmp_path / "plain")
    try:
        store.create_collection("docs", 4)
        with pytest.raises(InvalidInputError, match="longer than one LightRAG chunk"):
            store.insert("docs", [document])
    finally:
        store.close()
    store = _open(tmp_path / "embedding", embedding_func=_fallback_embedding)
    try:
        store.create_collection("docs", 4)
        store.insert("docs", [document, _documents()[1]])
        [best, other] = store.search("docs", VECTORS["alpha"], limit=5)
        assert best.id == "long" and best.content == long_text  # found through its chunks
        assert other.id == "beta"
    finally:
        store.close()


def test_reopen_with_content(tmp_path: Path) -> None:
    store = _open(tmp_path / "rag")
    store.create_collection("docs", 4, metadata={"owner": "test"})
    store.insert("docs", _documents())
    store.delete("docs", ids=["delta"])
    store.close()
    again = _open(tmp_path / "rag")
    try:
        assert again.list_collections() == ["docs"]
        assert again.count("docs") == 3
        [gamma] = again.get("docs", ["gamma"])
        assert gamma.metadata == {"n": 2} and gamma.embedding == VECTORS["gamma"]
        assert [result.id for result in again.search("docs", VECTORS["beta"], limit=2)] == ["beta", "gamma"]
    finally:
        again.close()


def test_one_store_per_working_dir(tmp_path: Path) -> None:
    store = _open(tmp_path / "rag")
    try:
        with pytest.raises(StoreError, match="in use"):
            _open(tmp_path / "rag")
    finally:
        store.close()


def test_distances_other_than_cosine_are_refused(tmp_path: Path) -> None:
    store = _open(tmp_path / "rag")
    try:
        for distance in ("dot", "euclidean"):
            with pytest.raises(InvalidInputError, match="not supported"):
                store.create_collection(f"c_{distance}", 4, distance)  # type: ignore[arg-type]
    finally:
        store.close()


def test_lightrag_files_hold_each_write_when_it_returns(tmp_path: Path) -> None:
    # Flushes are deferred while a write runs and made once at its end: what insert and delete
    # acknowledged is in LightRAG's own files before the store is closed.
    import json

    store = _open(tmp_path / "rag")
    try:
        store.create_collection("docs", 4)
        store.insert("docs", _documents())
        [workspace] = [path for path in (tmp_path / "rag").iterdir() if path.is_dir()]

        def on_disk(name: str) -> set[str]:
            return set(json.loads((workspace / f"kv_store_{name}.json").read_text()))

        assert on_disk("doc_status") == set(VECTORS) and on_disk("full_docs") == set(VECTORS)
        store.delete("docs", ids=["delta"])
        assert on_disk("doc_status") == set(VECTORS) - {"delta"}
        assert on_disk("full_docs") == set(VECTORS) - {"delta"}
        assert len(on_disk("text_chunks")) == 3
        vectors = json.loads((workspace / "vdb_chunks.json").read_text())
        assert {row["full_doc_id"] for row in vectors["data"]} == set(VECTORS) - {"delta"}
    finally:
        store.close()


def test_without_a_model_the_graph_stage_is_skipped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # No llm_model_func: LightRAG is told to skip entity extraction (nothing to extract with), and an
    # older LightRAG without that option still indexes the documents through plain ainsert.
    import json

    store = _open(tmp_path / "rag")
    try:
        store.create_collection("docs", 4)
        store.insert("docs", _documents()[:2])
        [workspace] = [path for path in (tmp_path / "rag").iterdir() if path.is_dir()]
        statuses = json.loads((workspace / "kv_store_doc_status.json").read_text())
        assert {status["metadata"].get("skip_kg") for status in statuses.values()} == {True}
        assert not (workspace / "kv_store_llm_response_cache.json").exists()  # no extraction was attempted
        monkeypatch.setattr(store, "_constants", object())
        store.insert("docs", _documents()[2:])
        statuses = json.loads((workspace / "kv_store_doc_status.json").read_text())
        assert "skip_kg" not in statuses["gamma"]["metadata"]
        assert [result.id for result in store.search("docs", VECTORS["gamma"], limit=2)] == ["gamma", "beta"]
    finally:
        store.close()
