"""sync_sqlite conversation backend (alias sqlite_sync): PraisonAI 4.7.19's second name for sqlite.

The same store, schema and files as the ``sqlite`` backend; PraisonAI's
``SyncSQLiteConversationStore`` is this class.

Test tier: embedded (SQLite files in a temporary directory).
"""

from __future__ import annotations

from .sqlite import SqliteConversationStore

__all__ = ["SyncSQLiteConversationStore"]


class SyncSQLiteConversationStore(SqliteConversationStore):
    """Conversations in SQLite: the sqlite backend's store under the name ``sync_sqlite``."""

    backend = "sync_sqlite"
