"""surrealdb_vector: the knowledge contract suite on SurrealDB's embedded engine (mem:// and surrealkv://)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from praisonai.persistence.conversation.base import ConversationMessage, ConversationSession
from praisonai.persistence.errors import ConfigError, InvalidInputError, StoreError
from praisonai.persistence.knowledge.base import KnowledgeDocument, KnowledgeStore
from praisonai.persistence.knowledge.config import SurrealVectorKnowledgeConfig
from praisonai.persistence.registry import CONVERSATION_STORES, KNOWLEDGE_STORES
from praisonai.persistence.testing import KnowledgeStoreContract

pytest.importorskip("surrealdb", reason="the SurrealDB SDK (pip install surrealdb) runs these tests")


class TestSurrealMemoryContract(KnowledgeStoreContract):
    @pytest.fixture
    def store(self) -> Iterator[KnowledgeStore]:
        store = KNOWLEDGE_STORES.create("surrealdb_vector", url="mem://")
        yield store
        store.close()


class TestSurrealKvContract(KnowledgeStoreContract):
    @pytest.fixture
    def store(self, tmp_path: Path) -> Iterator[KnowledgeStore]:
        store = KNOWLEDGE_STORES.create("surrealdb_v", url=f"surrealkv://{tmp_path / 'kb'}")
        yield store
        store.close()

    @pytest.fixture
    def reopen(self, tmp_path: Path) -> Callable[[], KnowledgeStore]:
        return lambda: KNOWLEDGE_STORES.create("surrealdb_vector", url=f"surrealkv://{tmp_path / 'kb'}")


# -- configuration and SurrealDB specifics ---------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "options"),
    [
        ("mem://", {"username": "root", "password": "pw"}),
        ("surrealkv://", {}),
        ("redis://h", {}),
        ("ws://h:8000/rpc", {"password": "pw"}),
        ("ws://h:8000/rpc", {"token": "t", "username": "u"}),
    ],
)
def test_bad_config_is_refused(url: str, options: dict[str, object]) -> None:
    with pytest.raises(ConfigError) as caught:
        SurrealVectorKnowledgeConfig.from_options(url, options)
    assert "pw" not in str(caught.value).replace("password", "")


def test_server_url_credentials_move_out_of_the_url() -> None:
    config = SurrealVectorKnowledgeConfig.from_options("wss://root:s3cret@db.example:8000/rpc?ns=app&db=kb", {})
    assert config.url == "wss://db.example:8000/rpc"
    assert (config.username, config.namespace, config.database) == ("root", "app", "kb")
    assert "s3cret" not in repr(config)


def test_stores_of_one_process_share_a_surrealkv_directory(tmp_path: Path) -> None:
    url = f"surrealkv://{tmp_path / 'kb'}"
    first = KNOWLEDGE_STORES.create("surrealdb_vector", url=url)
    second = KNOWLEDGE_STORES.create("surrealdb_vector", url=url)
    first.create_collection("c", 2)
    first.insert("c", [KnowledgeDocument(id="a", embedding=[1.0, 0.0])])
    assert second.count("c") == 1
    first.close()
    second.insert("c", [KnowledgeDocument(id="b", embedding=[0.0, 1.0])])  # still open for the other store
    assert [document.id for document in second.search("c", [0.0, 1.0], limit=1)] == ["b"]
    second.close()
    with pytest.raises(StoreError, match="closed"):
        first.count("c")


def test_a_second_process_is_refused_while_the_directory_is_open(tmp_path: Path) -> None:
    url = f"surrealkv://{tmp_path / 'kb'}"
    code = (
        "import sys\n"
        "from praisonai.persistence.registry import KNOWLEDGE_STORES\n"
        "store = KNOWLEDGE_STORES.create('surrealdb_vector', url=sys.argv[1])\n"
        "print(store.list_collections())\n"
        "store.close()\n"
    )
    command = [sys.executable, "-c", code, url]
    store = KNOWLEDGE_STORES.create("surrealdb_vector", url=url)
    try:
        store.create_collection("c", 2)
        refused = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
        assert refused.returncode != 0
        assert "StoreError" in refused.stderr and "in use" in refused.stderr
    finally:
        store.close()
    allowed = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    assert (allowed.returncode, allowed.stdout.strip()) == (0, "['c']")


def test_a_conversation_store_and_a_knowledge_store_share_a_directory(tmp_path: Path) -> None:
    url = f"surrealkv://{tmp_path / 'shared'}"
    conversations = CONVERSATION_STORES.create("surrealdb", url=url)
    knowledge = KNOWLEDGE_STORES.create("surrealdb_vector", url=url)
    conversations.create_session(ConversationSession(session_id="s", name="chat"))
    knowledge.create_collection("c", 2)
    knowledge.insert("c", [KnowledgeDocument(id="a", content="fact", embedding=[1.0, 0.0])])
    conversations.add_message("s", ConversationMessage(role="user", content="hello"))
    assert [document.content for document in knowledge.get("c", ["a"])] == ["fact"]
    conversations.close()
    assert knowledge.count("c") == 1  # the engine stays open for the knowledge store
    knowledge.close()
    # Each kind keeps its own database on the one directory; both are there after a reopen.
    with KNOWLEDGE_STORES.create("surrealdb_vector", url=url) as knowledge:
        conversations = CONVERSATION_STORES.create("surrealdb", url=url)
        try:
            session = conversations.get_session("s")
            assert session is not None and session.name == "chat"
            assert [message.content for message in conversations.get_messages("s")] == ["hello"]
            assert knowledge.list_collections() == ["c"]
        finally:
            conversations.close()


def test_integers_beyond_64_bits_and_nulls_filter_exactly() -> None:
    store = KNOWLEDGE_STORES.create("surrealdb_vector", url="mem://")
    try:
        store.create_collection("c", 2)
        store.insert(
            "c",
            [
                KnowledgeDocument(id="big", embedding=[1.0, 0.0], metadata={"n": 2**70 + 1, "z": None}),
                KnowledgeDocument(id="small", embedding=[0.0, 1.0], metadata={"n": 2**70, "nested": {"z": None}}),
            ],
        )
        assert [d.id for d in store.search("c", [1.0, 0.0], filters={"n": {"$gt": 2**70}})] == ["big"]
        assert [d.id for d in store.search("c", [1.0, 0.0], filters={"z": None})] == ["big"]
        assert [d.id for d in store.search("c", [1.0, 0.0], filters={"z": {"$ne": None}})] == ["small"]
        [small] = store.get("c", ["small"])
        assert small.metadata == {"n": 2**70, "nested": {"z": None}}
    finally:
        store.close()


def test_content_with_nul_is_refused() -> None:
    store = KNOWLEDGE_STORES.create("surrealdb_vector", url="mem://")
    try:
        store.create_collection("c", 2)
        with pytest.raises(InvalidInputError, match="NUL"):
            store.insert("c", [KnowledgeDocument(id="a", content="x\x00", embedding=[1.0, 0.0])])
        assert store.count("c") == 0
    finally:
        store.close()


def test_zero_and_vanishing_vectors_score_cosine_zero() -> None:
    store = KNOWLEDGE_STORES.create("surrealdb_vector", url="mem://")
    try:
        store.create_collection("c", 2)
        vectors = {"pos": [1.0, 0.0], "zero": [0.0, 0.0], "tiny": [1e-200, 0.0], "neg": [-1.0, 0.0]}
        store.insert("c", [KnowledgeDocument(id=key, embedding=vector) for key, vector in vectors.items()])
        # SurrealDB's magnitude of [1e-200, 0] is 0 (the square underflows), so its raw cosine is an infinity.
        found = store.search("c", [1.0, 0.5], limit=4)
        assert [found[0].id, found[-1].id] == ["pos", "neg"]
        assert {document.id: document.score for document in found[1:3]} == {"zero": 0.0, "tiny": 0.0}
        for query in ([0.0, 0.0], [1e-200, 0.0]):
            assert [document.score for document in store.search("c", query, limit=4)] == [0.0] * 4
    finally:
        store.close()


def _random_documents(count: int, dimension: int, seed: int) -> list[KnowledgeDocument]:
    import random

    rng = random.Random(seed)
    documents = [
        KnowledgeDocument(
            id=f"d{index:04d}",
            content=f"text {index}",
            embedding=[rng.uniform(-1.0, 1.0) for _ in range(dimension)],
            metadata={"page": index % 7, "tag": "even" if index % 2 == 0 else "odd"},
        )
        for index in range(count)
    ]
    documents[3].embedding = [0.0] * dimension  # a zero vector scores cosine 0.0 on both paths
    documents[5].embedding = list(documents[4].embedding or ())  # a tie: record-id order
    return documents


@pytest.mark.parametrize("distance", ["cosine", "dot", "euclidean"])
def test_numpy_search_equals_the_surrealql_search(distance: str, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("numpy")
    import math

    from praisonai.persistence.knowledge._layers import matrix
    from praisonai.persistence.knowledge.base import similarity

    documents = _random_documents(300, 8, seed=7)
    queries = [[float(value) for value in documents[index].embedding or ()] for index in (4, 11, 250)]
    queries.append([0.25, -0.5, 1.0, 0.0, 0.125, -1.0, 0.5, 0.75])
    filters: list[dict[str, object] | None] = [None, {"page": {"$lt": 3}}, {"tag": "odd", "page": {"$ne": 2}}]
    with KNOWLEDGE_STORES.create("surrealdb_vector", url="mem://") as store:
        store.create_collection("c", 8, distance=distance)  # type: ignore[arg-type]
        store.insert("c", documents)
        mirrored = [[store.search("c", q, limit=10, filters=f) for f in filters] for q in queries]
        with monkeypatch.context() as patch:
            patch.setattr(matrix, "numpy_or_none", lambda: None)  # SurrealQL scores
            engine = [[store.search("c", q, limit=10, filters=f) for f in filters] for q in queries]
    for query, found_by_filter, engine_by_filter in zip(queries, mirrored, engine, strict=True):
        for found, expected in zip(found_by_filter, engine_by_filter, strict=True):
            assert len(found) == 10
            # The same documents, equal scores in record-id order; SurrealDB's own arithmetic may differ in
            # the last bit, and it orders ties as it likes.
            ranked = sorted(expected, key=lambda document: (-(document.score or 0.0), document.id))
            assert [d.id for d in found] == [d.id for d in ranked]
            for ours, theirs in zip(found, ranked, strict=True):
                assert math.isclose(ours.score or 0.0, theirs.score or 0.0, rel_tol=1e-12, abs_tol=1e-12)
            for document in found:  # the numpy path's scores are the reference's, to the bit
                assert document.score == similarity(distance, query, document.embedding or [])  # type: ignore[arg-type]
                assert document.content == f"text {int(document.id[1:])}"


def test_writes_of_another_store_reach_a_searching_store(tmp_path: Path) -> None:
    url = f"surrealkv://{tmp_path / 'kb'}"
    first = KNOWLEDGE_STORES.create("surrealdb_vector", url=url)
    second = KNOWLEDGE_STORES.create("surrealdb_vector", url=url)
    try:
        first.create_collection("c", 2)
        first.insert(
            "c", [KnowledgeDocument(id="a", embedding=[1.0, 0.0]), KnowledgeDocument(id="b", embedding=[0.0, 1.0])]
        )
        assert [d.id for d in first.search("c", [1.0, 0.1], limit=1)] == ["a"]  # first reads the table
        second.insert("c", [KnowledgeDocument(id="c", embedding=[1.0, 0.05])])
        assert [d.id for d in first.search("c", [1.0, 0.05], limit=1)] == ["c"]
        second.upsert("c", [KnowledgeDocument(id="c", embedding=[-1.0, 0.0])])
        assert [d.id for d in first.search("c", [1.0, 0.05], limit=3)] == ["a", "b", "c"]
        second.delete("c", ids=["a"])
        assert [d.id for d in first.search("c", [1.0, 0.0], limit=3)] == ["b", "c"]
        second.delete("c", filters={"page": None})  # no document has page: none deleted
        assert first.count("c") == 2
        second.delete_collection("c")
        second.create_collection("c", 3, distance="dot")
        second.insert("c", [KnowledgeDocument(id="z", embedding=[0.0, 0.0, 2.0])])
        [found] = first.search("c", [0.0, 0.0, 1.0])
        assert (found.id, found.score) == ("z", 2.0)
    finally:
        first.close()
        second.close()
