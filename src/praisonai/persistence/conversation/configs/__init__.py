"""Config models of the built-in conversation backends, one module per family.

``local`` (sqlite, async_sqlite, json, turso), ``servers`` (postgres,
async_postgres, mysql, async_mysql, singlestore, supabase) and ``surreal``
(surrealdb). This package holds their two bases; ``conversation/config.py``
re-exports every class. Validated before the adapter module or driver is
imported; see ``_config.py``, and ``_urlform.py`` for the URL forms.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from ..._catalogue import Kind
from ..._config import KindConfig

if TYPE_CHECKING:
    from ..base import AsyncConversationStore, ConversationStore  # noqa: F401  # named (quoted) in the bases below

__all__ = ["AsyncConversationConfig", "ConversationConfig"]


class ConversationConfig(KindConfig["ConversationStore"]):
    """Config of a synchronous conversation backend; ``open()`` is a ConversationStore."""

    kind: ClassVar[Kind] = "conversation"


class AsyncConversationConfig(KindConfig["AsyncConversationStore"]):
    """Config of an asyncio conversation backend; ``open()`` is an AsyncConversationStore."""

    kind: ClassVar[Kind] = "conversation"
