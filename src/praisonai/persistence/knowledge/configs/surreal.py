"""The knowledge config of SurrealDB vectors (embedded or a server); its URL forms are in ``_surreal.py``."""

from __future__ import annotations

from typing import ClassVar

from ..._fields import TablePrefix
from ..._keywords import EMBEDDING_DIM, SURREAL_KEYWORDS, Keyword
from ..._surreal import SurrealName, SurrealSettings, embedded_url
from . import KnowledgeConfig

__all__ = ["SurrealVectorKnowledgeConfig"]


class SurrealVectorKnowledgeConfig(SurrealSettings, KnowledgeConfig):
    """SurrealDB vectors: the SDK's embedded engine (``mem://``, ``surrealkv://``) or a server (``ws://``)."""

    backend: ClassVar[str] = "surrealdb_vector"
    _example_directory: ClassVar[str] = "/var/lib/app/knowledge"
    keyword_aliases: ClassVar[dict[str, Keyword]] = {"embedding_dim": EMBEDDING_DIM}
    praisonai_keywords: ClassVar[tuple[str, ...]] = (*SURREAL_KEYWORDS, "embedding_dim")

    url: str = embedded_url("knowledge.surrealkv")
    """The URL forms of :class:`SurrealSettings`; default: a SurrealKV directory under ``$PRAISONAI_DATA_DIR``."""
    database: SurrealName = "knowledge"
    table_prefix: TablePrefix = "praison_kb_"
