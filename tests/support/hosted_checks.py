"""A check of the optional ``KnowledgeTransfer`` extras, shared by the hosted vector backends' tests."""

from __future__ import annotations

import pytest

from praisonai.persistence.errors import NotFoundError
from praisonai.persistence.knowledge.base import (
    CollectionInfo,
    Distance,
    KnowledgeDocument,
    KnowledgeStore,
    KnowledgeTransfer,
)

__all__ = ["check_transfer_extras"]


def check_transfer_extras(store: KnowledgeStore, distance: Distance = "cosine", dimension: int = 8) -> None:
    """describe_collection and iter_documents return every document exactly once, in small pages."""
    assert isinstance(store, KnowledgeTransfer)
    store.create_collection("xfer", dimension, distance, metadata={"m": [1, "x"]})
    documents = [
        KnowledgeDocument(
            id=f"t{i:02d}",
            content=f"c{i}",
            embedding=[float(i + 1)] + [0.5] * (dimension - 1),
            metadata={"i": i, "s": "v"},
        )
        for i in range(23)
    ]
    store.insert("xfer", documents)
    assert store.describe_collection("xfer") == CollectionInfo("xfer", dimension, distance, {"m": [1, "x"]})
    pages = list(store.iter_documents("xfer", batch_size=5))
    assert pages and all(1 <= len(page) <= 5 for page in pages)
    seen = {document.id: document for page in pages for document in page}
    assert sum(len(page) for page in pages) == len(seen) == 23
    for original in documents:
        copy = seen[original.id]
        assert copy.content == original.content and copy.metadata == original.metadata
        assert copy.embedding == pytest.approx(original.embedding)
    with pytest.raises(NotFoundError):
        store.describe_collection("missing")
    with pytest.raises(NotFoundError):
        list(store.iter_documents("missing"))
