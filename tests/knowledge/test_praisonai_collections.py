"""Collections PraisonAI 4.7.19 wrote to chroma, lancedb and qdrant are copied by ``migrate``.

The folders are tests/fixtures/praisonai_4_7_19/{chroma,lancedb,qdrant}, written by PraisonAI
itself; each test copies one to a temporary directory. Expected content follows the fixture
README: document i has embedding e_i + 0.5 e_(i+1), metadata {source, page, lang, score,
published}; lancedb kept no metadata; qdrant kept 2 distinct ids of praisonai_ops.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest

from praisonai.persistence.cli import main
from praisonai.persistence.errors import NotFoundError
from praisonai.persistence.knowledge.base import KnowledgeStore
from praisonai.persistence.migrate import migrate
from praisonai.persistence.registry import KNOWLEDGE_STORES
from praisonai.persistence.transfer.praisonai import open_praisonai_knowledge
from tests.support.praisonai_fixtures import MANIFEST, T0, copy_fixture

_REVISED = "Revised content for op-005."


def _embedding(i: int) -> list[float]:
    vector = [0.0] * 8
    vector[i - 1] = 1.0
    if i < 8:
        vector[i] = 0.5
    return vector


def _metadata(i: int) -> dict[str, Any]:
    return {
        "source": f"handbook-{i}.md",
        "page": i,
        "lang": "ja" if i == 3 else "en",
        "score": 0.5 + (i - 1) / 10,
        "published": i % 2 == 1,
    }


def _ids(engine: str, collection: str) -> list[str]:
    if collection == "praisonai_docs":
        return [f"doc-{i:03d}" for i in range(1, 6)]
    return ["op-003", "op-005"] if engine == "qdrant" else [f"op-{i:03d}" for i in range(1, 6)]


def _check_copy(engine: str, target: KnowledgeStore) -> None:
    assert sorted(target.list_collections()) == MANIFEST[engine]["collections"]
    for collection in MANIFEST[engine]["collections"]:
        ids = _ids(engine, collection)
        documents = {d.id: d for d in target.get(collection, ids)}
        assert sorted(documents) == ids
        for doc_id, document in documents.items():
            i = int(doc_id[-3:])
            assert document.embedding == pytest.approx(_embedding(i), abs=1e-6)
            assert document.metadata in ((None, {}) if engine == "lancedb" else (_metadata(i),))
            assert document.created_at == T0 + 100 + (i - 1)
            assert document.content_hash == hashlib.sha256(document.content.encode()).hexdigest()[:16]
        if "op-005" in documents:
            assert documents["op-005"].content == _REVISED  # PraisonAI's upsert, as its own get returns it
        top = target.search(collection, _embedding(1), limit=2)
        if collection == "praisonai_docs":
            assert [hit.id for hit in top] == MANIFEST[engine]["search_top2"]


@pytest.mark.parametrize("engine", ["chroma", "lancedb", "qdrant"])
def test_migrate_copies_every_collection_into_our_store(engine: str, tmp_path: Path) -> None:
    folder = copy_fixture(engine, tmp_path)
    source = open_praisonai_knowledge(engine, folder)
    info = {name: source.describe_collection(name) for name in source.list_collections()}
    assert {name: i.dimension for name, i in info.items()} == dict.fromkeys(MANIFEST[engine]["collections"], 8)
    if engine == "chroma":
        assert (info["praisonai_docs"].distance, info["praisonai_ops"].distance) == ("cosine", "euclidean")
        assert info["praisonai_ops"].metadata == {"owner": "fixtures"}
    report = migrate("knowledge", source, KNOWLEDGE_STORES.create("memory", path=str(tmp_path / "k.json")))
    assert report.verification is not None and report.verification.ok
    target = KNOWLEDGE_STORES.create("memory", path=str(tmp_path / "k.json"))
    try:
        _check_copy(engine, target)
    finally:
        target.close()


def test_the_command_line_names_the_source_praisonai_engine_path(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = copy_fixture("qdrant", tmp_path)
    target = tmp_path / "chroma-new"
    code = main(["migrate", "knowledge", "--from", f"praisonai-qdrant:{folder}", "--to", f"chroma:{target}", "--quiet"])
    assert code == 0
    store = KNOWLEDGE_STORES.create("chroma", path=str(target))
    try:
        _check_copy("qdrant", store)
    finally:
        store.close()


def test_bad_sources_are_refused_clearly(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(NotFoundError, match="not a folder"):
        open_praisonai_knowledge("chroma", tmp_path / "missing")
    code = main(["migrate", "state", "--from", f"praisonai-chroma:{tmp_path}", "--to", "memory", "--quiet"])
    assert code != 0 and "praisonai-chroma is a knowledge source" in capsys.readouterr().err


def test_a_server_url_reaches_the_engines_remote_client(monkeypatch: pytest.MonkeyPatch) -> None:
    """PraisonAI's qdrant store only ever talked to a server: a URL source opens the remote client
    (recorded by a client-level stand-in here; no qdrant or chroma server runs in the tests)."""
    import chromadb
    import qdrant_client

    opened: list[tuple[str, dict[str, Any]]] = []
    monkeypatch.setattr(qdrant_client, "QdrantClient", lambda **options: opened.append(("qdrant", options)))
    monkeypatch.setattr(chromadb, "HttpClient", lambda **options: opened.append(("chroma", options)))
    open_praisonai_knowledge("qdrant", "https://qdrant.example:6333", api_key="secret")
    open_praisonai_knowledge("chroma", "http://chroma.example:8001")
    assert opened[0] == ("qdrant", {"url": "https://qdrant.example:6333", "api_key": "secret"})
    assert opened[1][0] == "chroma"
    assert {key: opened[1][1][key] for key in ("host", "port", "ssl")} == {
        "host": "chroma.example",
        "port": 8001,
        "ssl": False,
    }
