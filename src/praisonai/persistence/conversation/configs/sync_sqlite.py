"""Conversation config of sync_sqlite: PraisonAI's second name for the sqlite backend."""

from __future__ import annotations

from typing import ClassVar

from .local import SqliteConversationConfig

__all__ = ["SyncSqliteConversationConfig"]


class SyncSqliteConversationConfig(SqliteConversationConfig):
    """The sqlite backend's config under PraisonAI's ``sync_sqlite`` name (same fields, URLs and files)."""

    backend: ClassVar[str] = "sync_sqlite"
