"""Config models of the built-in knowledge backends (re-exported from ``knowledge/configs/``).

Validated before the adapter module or driver is imported; see ``_config.py``.
"""

from __future__ import annotations

from .configs import KnowledgeConfig
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
