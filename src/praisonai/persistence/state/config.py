"""Config models of the built-in state backends (re-exported from ``state/configs/``).

Validated before the adapter module or driver is imported; see ``_config.py``.
"""

from __future__ import annotations

from .configs import AsyncStateConfig, StateConfig
from .configs.cloud import DynamoDBStateConfig, FirestoreStateConfig, GCSStateConfig
from .configs.memory import MemoryStateConfig
from .configs.mongodb import AsyncMongoStateConfig, MongoStateConfig
from .configs.redis import RedisStateConfig, UpstashStateConfig
from .configs.valkey import ValkeyStateConfig

__all__ = [
    "AsyncMongoStateConfig",
    "AsyncStateConfig",
    "DynamoDBStateConfig",
    "FirestoreStateConfig",
    "GCSStateConfig",
    "MemoryStateConfig",
    "MongoStateConfig",
    "RedisStateConfig",
    "StateConfig",
    "UpstashStateConfig",
    "ValkeyStateConfig",
]
