"""The conversation config of SurrealDB (embedded or a server); its URL forms are in ``_surreal.py``."""

from __future__ import annotations

from typing import ClassVar

from ..._fields import TablePrefix
from ..._keywords import CREATES_TABLES, SURREAL_KEYWORDS, Keyword
from ..._surreal import SurrealName, SurrealSettings, embedded_url
from . import ConversationConfig

__all__ = ["SurrealDbConversationConfig"]


class SurrealDbConversationConfig(SurrealSettings, ConversationConfig):
    """SurrealDB: the SDK's embedded engine (``mem://``, ``surrealkv://``) or a server (``ws://``, ``http://``)."""

    backend: ClassVar[str] = "surrealdb"
    _example_directory: ClassVar[str] = "/var/lib/app/chat"
    keyword_aliases: ClassVar[dict[str, Keyword]] = {"auto_create_tables": CREATES_TABLES}
    praisonai_keywords: ClassVar[tuple[str, ...]] = (*SURREAL_KEYWORDS, "table_prefix", "auto_create_tables")

    url: str = embedded_url("conversations.surrealkv")
    """The URL forms of :class:`SurrealSettings`; default: a SurrealKV directory under ``$PRAISONAI_DATA_DIR``."""
    database: SurrealName = "conversations"
    table_prefix: TablePrefix = "praison_"
