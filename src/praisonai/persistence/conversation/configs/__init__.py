"""Config models of the built-in conversation backends, one module per family.

``local`` (sqlite, async_sqlite, json, turso), ``servers`` (postgres,
async_postgres, mysql, async_mysql, singlestore, supabase) and ``surreal``
(surrealdb). This package holds their two bases; ``conversation/config.py``
re-exports every class. Validated before the adapter module or driver is
imported; see ``_config.py``, and ``_urlform.py`` for the URL forms.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, cast

from ..._catalogue import Kind
from ..._config import StoreConfig, build_store

if TYPE_CHECKING:
    from ..base import AsyncConversationStore, ConversationStore

__all__ = ["AsyncConversationConfig", "ConversationConfig"]


class ConversationConfig(StoreConfig):
    """Config of a synchronous conversation backend; ``open()`` is a ConversationStore."""

    kind: ClassVar[Kind] = "conversation"

    def open(self) -> ConversationStore:
        return cast("ConversationStore", build_store(self))


class AsyncConversationConfig(StoreConfig):
    """Config of an asyncio conversation backend; ``open()`` is an AsyncConversationStore."""

    kind: ClassVar[Kind] = "conversation"

    def open(self) -> AsyncConversationStore:
        return cast("AsyncConversationStore", build_store(self))
