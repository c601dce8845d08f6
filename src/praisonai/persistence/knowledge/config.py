"""Config models of the built-in knowledge backends (re-exported from ``knowledge/configs/``).

Validated before the adapter module or driver is imported; see ``_config.py``.
"""

from __future__ import annotations

from .configs import AsyncKnowledgeConfig, KnowledgeConfig
from .configs.asynchronous import *  # noqa: F403  # the async_<name> forms
from .configs.asynchronous import __all__ as _async_configs
from .configs.engines import (
    ChromaKnowledgeConfig,
    LanceDbKnowledgeConfig,
    MilvusKnowledgeConfig,
    QdrantKnowledgeConfig,
    RedisVectorKnowledgeConfig,
)
from .configs.frameworks import LangChainKnowledgeConfig, LightRagKnowledgeConfig, LlamaIndexKnowledgeConfig
from .configs.hosted import (
    CassandraKnowledgeConfig,
    CosmosDbKnowledgeConfig,
    CouchbaseKnowledgeConfig,
    MongoVectorKnowledgeConfig,
    PineconeKnowledgeConfig,
    UpstashVectorKnowledgeConfig,
    WeaviateKnowledgeConfig,
)
from .configs.memory import MemoryKnowledgeConfig
from .configs.sql import ClickHouseKnowledgeConfig, PgvectorKnowledgeConfig, SingleStoreVectorKnowledgeConfig
from .configs.surreal import SurrealVectorKnowledgeConfig
from .configs.valkey import ValkeyVectorKnowledgeConfig

__all__ = [
    *_async_configs,
    "AsyncKnowledgeConfig",
    "ClickHouseKnowledgeConfig",
    "KnowledgeConfig",
    "LangChainKnowledgeConfig",
    "LightRagKnowledgeConfig",
    "LlamaIndexKnowledgeConfig",
    "MemoryKnowledgeConfig",
    "PgvectorKnowledgeConfig",
    "SurrealVectorKnowledgeConfig",
    "ChromaKnowledgeConfig",
    "LanceDbKnowledgeConfig",
    "MilvusKnowledgeConfig",
    "QdrantKnowledgeConfig",
    "RedisVectorKnowledgeConfig",
    "CassandraKnowledgeConfig",
    "CosmosDbKnowledgeConfig",
    "CouchbaseKnowledgeConfig",
    "MongoVectorKnowledgeConfig",
    "PineconeKnowledgeConfig",
    "SingleStoreVectorKnowledgeConfig",
    "UpstashVectorKnowledgeConfig",
    "ValkeyVectorKnowledgeConfig",
    "WeaviateKnowledgeConfig",
]
