"""Config models of the built-in conversation backends (re-exported from ``conversation/configs/``).

Validated before the adapter module or driver is imported; see ``_config.py``.
"""

from __future__ import annotations

from .configs import AsyncConversationConfig, ConversationConfig
from .configs.local import (
    AsyncSqliteConversationConfig,
    JsonConversationConfig,
    SqliteConversationConfig,
    TursoConversationConfig,
)
from .configs.servers import (
    AsyncMySqlConversationConfig,
    AsyncPostgresConversationConfig,
    MySqlConversationConfig,
    PostgresConversationConfig,
    SingleStoreConversationConfig,
    SupabaseConversationConfig,
)
from .configs.surreal import SurrealDbConversationConfig
from .configs.sync_sqlite import SyncSqliteConversationConfig

__all__ = [
    "AsyncConversationConfig",
    "AsyncMySqlConversationConfig",
    "AsyncPostgresConversationConfig",
    "AsyncSqliteConversationConfig",
    "ConversationConfig",
    "JsonConversationConfig",
    "MySqlConversationConfig",
    "PostgresConversationConfig",
    "SingleStoreConversationConfig",
    "SqliteConversationConfig",
    "SupabaseConversationConfig",
    "SurrealDbConversationConfig",
    "SyncSqliteConversationConfig",
    "TursoConversationConfig",
]
