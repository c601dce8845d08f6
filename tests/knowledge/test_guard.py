"""The call guard on the knowledge stores: no driver exception escapes a store method.

Before the guard, an engine error that a backend did not map itself went through
unchanged: an embedded engine's own exception class, or ``OSError`` from the
memory store writing its file (``close()`` and ``save()`` included). Now each is
an :class:`EngineError` naming the backend, the original chained.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from praisonai.persistence.errors import EngineError, InvalidInputError, StoreClosedError, StoreError
from praisonai.persistence.knowledge.base import KnowledgeDocument, KnowledgeStore
from praisonai.persistence.registry import KNOWLEDGE_STORES
from tests.support.emulators import require_driver


class _DriverFailure(RuntimeError):
    """Stands for a driver's own exception class."""


def _document(document_id: str = "a") -> KnowledgeDocument:
    return KnowledgeDocument(id=document_id, content="text", embedding=[1.0, 0.0], metadata={"n": 1})


def _memory(tmp_path: Path) -> KnowledgeStore:
    return KNOWLEDGE_STORES.create("memory")


def _lancedb(tmp_path: Path) -> KnowledgeStore:
    require_driver("lancedb", "lancedb")
    return KNOWLEDGE_STORES.create("lancedb", uri=str(tmp_path / "lance"))


def _chroma(tmp_path: Path) -> KnowledgeStore:
    require_driver("chromadb", "chroma")
    return KNOWLEDGE_STORES.create("chroma", url=str(tmp_path / "chroma"))


def _qdrant(tmp_path: Path) -> KnowledgeStore:
    require_driver("qdrant_client", "qdrant")
    return KNOWLEDGE_STORES.create("qdrant", path=":memory:")


@pytest.fixture(params=[_memory, _lancedb, _chroma, _qdrant], ids=["memory", "lancedb", "chroma", "qdrant"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[KnowledgeStore]:
    opened: KnowledgeStore = request.param(tmp_path)
    opened.create_collection("c", 2)
    opened.insert("c", [_document()])
    yield opened
    opened.close()


def _fail(*args: Any, **kwargs: Any) -> Any:
    raise _DriverFailure("the engine broke")


@pytest.mark.parametrize(
    ("primitive", "call"),
    [
        ("_find", lambda store: store.collection_exists("c")),
        ("_count", lambda store: store.count("c")),
        ("_search", lambda store: store.search("c", [1.0, 0.0])),
        ("_put", lambda store: store.upsert("c", [_document("b")])),
        ("_scan", lambda store: list(store.iter_documents("c"))),
    ],
)
def test_an_engine_error_is_an_engine_error_naming_the_backend(
    store: Any, primitive: str, call: Callable[[Any], object], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(store, primitive, _fail)
    with pytest.raises(EngineError) as caught:
        call(store)
    assert isinstance(caught.value.__cause__, _DriverFailure)
    assert caught.value.backend == store.backend
    assert str(caught.value).startswith(f"[{store.backend}]")
    monkeypatch.undo()
    assert store.count("c") == 1  # the store still works


def test_an_error_while_releasing_the_engine_is_an_engine_error(store: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    original = store._release

    def release() -> None:
        original()
        raise _DriverFailure("failed while closing")

    monkeypatch.setattr(store, "_release", release)
    with pytest.raises(EngineError) as caught:
        store.close()
    assert caught.value.backend == store.backend
    store.close()  # closed now: a second close does nothing
    with pytest.raises(StoreClosedError):
        store.count("c")


def test_validation_errors_name_the_backend(store: Any) -> None:
    for call in (
        lambda: store.search("c", [1.0, 0.0], limit=0),
        lambda: store.get("c", "not-a-list"),
        lambda: store.delete("c"),
        lambda: store.create_collection("bad name", 2),
        lambda: store.insert("c", [KnowledgeDocument(id="x", content="t", embedding=[1.0])]),
        lambda: list(store.iter_documents("c", batch_size=0)),
    ):
        with pytest.raises(InvalidInputError) as caught:
            call()
        assert caught.value.backend == store.backend, call


def test_memory_file_errors_are_store_errors(tmp_path: Path) -> None:
    """OSError from writing the file escaped ``insert``, ``save()`` and ``close()`` before the guard."""
    directory = tmp_path / "kept"
    autosaved = KNOWLEDGE_STORES.create("memory", path=str(directory / "auto.json"))
    manual = KNOWLEDGE_STORES.create("memory", path=str(directory / "manual.json"), autosave=False)
    for opened in (autosaved, manual):
        opened.create_collection("c", 2)
    shutil.rmtree(directory)
    with pytest.raises(StoreError) as caught:
        autosaved.insert("c", [_document()])
    assert isinstance(caught.value.__cause__, OSError) and caught.value.backend == "memory"
    assert autosaved.count("c") == 0  # rolled back
    manual.insert("c", [_document()])
    with pytest.raises(StoreError) as caught:
        manual.save()  # type: ignore[attr-defined]
    assert isinstance(caught.value.__cause__, OSError)
    with pytest.raises(StoreError):
        manual.close()
    autosaved.close()
