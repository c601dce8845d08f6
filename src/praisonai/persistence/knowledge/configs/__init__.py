"""Config models of the built-in knowledge backends, one module per family.

``memory``; ``sql`` (pgvector, clickhouse, singlestore_vector); ``engines``
(qdrant, chroma, lancedb, milvus, redis); ``hosted`` (pinecone, weaviate,
cassandra, couchbase, mongodb_vector, upstash_vector, cosmosdb);
``frameworks`` (langchain, llamaindex, lightrag) and ``surreal``
(surrealdb_vector). This package holds their base; ``knowledge/config.py``
re-exports every class. Validated before the adapter module or driver is
imported; see ``_config.py``, and ``_urlform.py`` for the URL forms.
``asynchronous`` holds the configs of the ``async_<name>`` forms: each is its
sync config (same fields, URL forms and checks) under the async name.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, cast

from ..._catalogue import Kind
from ..._config import KindConfig, build_store

if TYPE_CHECKING:
    from ..base import AsyncKnowledgeStore, KnowledgeStore  # noqa: F401  # named (quoted) in the bases below

__all__ = ["AsyncKnowledgeConfig", "KnowledgeConfig"]


class KnowledgeConfig(KindConfig["KnowledgeStore"]):
    """Config of a knowledge backend; ``open()`` is a KnowledgeStore."""

    kind: ClassVar[Kind] = "knowledge"


class AsyncKnowledgeConfig(KnowledgeConfig):
    """Config of an asyncio knowledge backend (``async_<name>``); ``open()`` is an AsyncKnowledgeStore.

    Each one subclasses its sync backend's config, so both forms take the same options.
    """

    def open(self) -> AsyncKnowledgeStore:  # type: ignore[override]  # the async form of the same settings
        return cast("AsyncKnowledgeStore", build_store(self))
