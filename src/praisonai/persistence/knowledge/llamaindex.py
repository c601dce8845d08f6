"""LlamaIndex: the knowledge contract over any LlamaIndex vector store object.

Engine: the wrapped store (``llama_index.core.vector_stores.SimpleVectorStore``,
or any ``BasePydanticVectorStore`` with ``add``, ``delete_nodes``, ``query`` and
``get_nodes``). Driver: ``llama-index-core`` (``pip install
"praisonai-persistence[llamaindex]"``) plus whatever the wrapped store needs.
No URL: pass the store object::

    from llama_index.core.vector_stores import SimpleVectorStore

    store = KNOWLEDGE_STORES.create("llamaindex", vector_store=SimpleVectorStore())

Test tier: embedded (``SimpleVectorStore`` of llama-index-core, in process).
Other LlamaIndex stores are not exercised.

LlamaIndex nodes carry their embedding, so the caller's vectors are stored as
given; no embedding model is involved. Distances: the wrapped store decides
(``SimpleVectorStore`` ranks by cosine similarity); ``distance=`` says which
one it is. Filters: exact for ``SimpleVectorStore`` (the matching node ids are
computed with the reference semantics and passed as ``node_ids``); other
stores need ``filter_translator`` returning ``MetadataFilters`` (LlamaIndex's
own operators treat absent keys and ``True == 1`` differently, so no automatic
translation is offered). ``SimpleVectorStore`` keeps no text, so the content
rides in the reserved metadata. Collections and their ids are tracked by the
adapter object; see :mod:`._layers.framework_store` for the layout. With numpy
installed, ``SimpleVectorStore`` searches of collections of 256 documents or more
go through the adapter's numpy index and LlamaIndex's own similarity function
(the same results, at the speed of a matrix product).
"""

from __future__ import annotations

from typing import Any

from ._layers.framework_store import CONTENT_KEY, FrameworkKnowledgeStore, Hit, StoredRecord
from .base import KnowledgeDocument
from .config import LlamaIndexKnowledgeConfig
from .filters import FilterNode

__all__ = ["LlamaIndexKnowledgeStore"]

# Keys LlamaIndex writes into a node's metadata itself.
_LLAMA_KEYS = frozenset({"_node_content", "_node_type", "document_id", "doc_id", "ref_doc_id"})


class LlamaIndexKnowledgeStore(FrameworkKnowledgeStore):
    """Knowledge store over a LlamaIndex vector store; thread-safe (one lock)."""

    backend = "llamaindex"
    config: LlamaIndexKnowledgeConfig

    def __init__(self, config: LlamaIndexKnowledgeConfig) -> None:
        super().__init__(config)
        self._schema = self._import_driver("llama_index.core.schema")
        self._types = self._import_driver("llama_index.core.vector_stores.types")
        simple = self._import_driver("llama_index.core.vector_stores")
        self._simple = isinstance(self.vector_store, simple.SimpleVectorStore)
        self._scores_in_process = self._simple
        self._stores_text = bool(getattr(self.vector_store, "stores_text", False))

    def __repr__(self) -> str:
        return f"LlamaIndexKnowledgeStore(vector_store={type(self.vector_store).__name__})"

    def _framework_keys(self) -> frozenset[str]:
        return _LLAMA_KEYS

    def _add(self, items: list[tuple[str, KnowledgeDocument, dict[str, Any]]]) -> None:
        nodes = []
        for store_id, document, metadata in items:
            if not self._stores_text:
                metadata = {**metadata, CONTENT_KEY: document.content}
            nodes.append(
                self._schema.TextNode(
                    id_=store_id, text=document.content, metadata=metadata, embedding=document.embedding
                )
            )
        self.vector_store.add(nodes)

    def _remove_records(self, store_ids: list[str]) -> None:
        self.vector_store.delete_nodes(node_ids=store_ids)

    def _fetch_records(self, store_ids: list[str]) -> dict[str, StoredRecord]:
        if self._simple:
            data = self.vector_store.data
            return {
                store_id: self._record(data.metadata_dict[store_id], None, data.embedding_dict[store_id])
                for store_id in store_ids
                if store_id in data.embedding_dict
            }
        found = {}
        for node in self.vector_store.get_nodes(node_ids=store_ids):
            found[str(node.node_id)] = self._record(dict(node.metadata), node.get_content(), node.embedding)
        return found

    def _record(self, metadata: dict[str, Any], text: str | None, embedding: Any) -> StoredRecord:
        content = metadata.get(CONTENT_KEY, text)
        return StoredRecord(
            content="" if content is None else str(content),
            metadata=metadata,
            embedding=None if embedding is None else [float(value) for value in embedding],
        )

    def _exact_search(
        self, query: list[float], limit: int, collection: str, node: FilterNode | None
    ) -> list[Hit] | None:
        if not self._simple:
            return None
        candidates = [
            store_id
            for store_id, metadata in self.vector_store.data.metadata_dict.items()
            if self.exact_filter(collection, node, metadata)
        ]
        if not candidates:
            return []
        query_object = self._types.VectorStoreQuery(query_embedding=query, similarity_top_k=limit, node_ids=candidates)
        return self._hits(self.vector_store.query(query_object))

    def _similarities(self, query: list[float], vectors: list[list[float]]) -> list[float] | None:
        if not self._simple:
            return None
        # The function SimpleVectorStore scores with (its default mode: cosine, one pair at a time).
        embedding_utils = self._import_driver("llama_index.core.indices.query.embedding_utils")
        score = embedding_utils.default_similarity_fn
        return [float(score(query, vector)) for vector in vectors]

    def _native_search(self, query: list[float], limit: int, native_filter: Any) -> list[Hit]:
        query_object = self._types.VectorStoreQuery(
            query_embedding=query, similarity_top_k=limit, filters=native_filter
        )
        return self._hits(self.vector_store.query(query_object))

    def _hits(self, result: Any) -> list[Hit]:
        ids = list(result.ids or [])
        scores = list(result.similarities or [])
        nodes = list(result.nodes or [])
        hits = []
        for index, store_id in enumerate(ids):
            record = None
            if index < len(nodes) and nodes[index] is not None:
                node = nodes[index]
                record = self._record(dict(node.metadata), node.get_content(), node.embedding)
            hits.append(Hit(str(store_id), float(scores[index]), record))
        return hits
